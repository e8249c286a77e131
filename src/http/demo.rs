//! `/_/demo`: a page that shows a newcomer what pixflow does with the images it serves — a
//! responsive gallery (`srcset`, `sizes`, `<picture>`, `f_auto`), every resize mode and effect
//! side by side, and a form that builds a URL. Images carry `data-w`/`data-h` where their size
//! follows from the URL alone, so a browser test can check what arrived. Off unless `--demo` (on
//! for the embedded samples); it lists one page of keys, never the whole source.

use crate::spec::Key;
use std::fmt::Write as _;

/// How many keys the page lists: one listing page.
pub(super) const KEYS: usize = 12;

/// The ThumbHash decoder the page paints placeholders with (evanw/thumbhash, MIT).
pub(super) const THUMBHASH_JS: &str = include_str!("thumbhash.js");

/// The one escape every interpolated value goes through (html-escape's attribute encoding, which
/// is also safe in text).
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(s)
}

/// An `<img>` with the size its URL guarantees.
fn img(url: &str, w: u32, h: u32, alt: &str) -> String {
    format!(
        r#"<img src="{url}" width="{w}" height="{h}" data-w="{w}" data-h="{h}" alt="{}" loading="eager">"#,
        escape(alt)
    )
}

/// The page for up to a dozen keys of the source.
pub(super) fn page(keys: &[Key]) -> String {
    let mut gallery = String::new();
    for key in keys {
        let k = escape(&key.to_url_path()).into_owned();
        let base = format!("/w_300,h_200,c_fill,f_auto/{k}");
        let _ = write!(
            gallery,
            r#"<figure><img src="{base}" srcset="{base} 1x, /w_300,h_200,c_fill,f_auto,dpr_2/{k} 2x" width="300" height="200" data-w="300" data-h="200" data-auto="1" data-thumbhash="/w_300,h_200,c_fill,f_thumbhash/{k}" alt="{alt}" loading="eager"><figcaption><code>{base}</code></figcaption></figure>"#,
            alt = escape(key.as_str()),
        );
    }
    let mut modes = String::new();
    let mut effects = String::new();
    let mut responsive = String::new();
    let mut smart = String::new();
    let mut placeholders = String::new();
    for key in keys.iter().take(4) {
        let k = escape(&key.to_url_path()).into_owned();
        for (name, tokens) in [("centre", ""), ("g_auto", ",g_auto")] {
            let url = format!("/w_200,h_200,c_fill{tokens}/{k}");
            let tag = img(&url, 200, 200, &format!("{name} {}", key.as_str()));
            let _ = write!(smart, "<figure>{tag}<figcaption><code>{name}</code></figcaption></figure>");
        }
        let hash = format!("/w_300,h_200,c_fill,f_thumbhash/{k}");
        let _ = write!(
            placeholders,
            r#"<figure><img class="placeholder" data-hash-of="{hash}" data-image="/w_300,h_200,c_fill/{k}" width="300" height="200" alt="ThumbHash of {alt}"><figcaption><code>{hash}</code></figcaption></figure>"#,
            alt = escape(key.as_str()),
        );
    }
    let mut hints = String::new();
    if let Some(first) = keys.first() {
        let k = escape(&first.to_url_path()).into_owned();
        let _ = write!(
            hints,
            r#"<figure><img src="/dpr_auto,w_200/{k}" data-dpr-auto="200" alt="dpr_auto" loading="eager"><figcaption><code>dpr_auto,w_200</code>: 200 px times the screen's density</figcaption></figure>
<figure><img src="/w_auto:600/{k}" sizes="300px" data-w-auto="300" alt="w_auto" loading="eager"><figcaption><code>w_auto:600</code> with <code>sizes="300px"</code>: the width the layout gives it</figcaption></figure>"#
        );
    }
    if let Some(first) = keys.first() {
        let k = escape(&first.to_url_path()).into_owned();
        // Modes whose result is exactly the box, and the ones that depend on the source's shape.
        for mode in ["fill", "lfill", "pad", "lpad", "scale", "crop"] {
            let url = format!("/w_200,h_150,c_{mode},bg_203040/{k}");
            let exact = matches!(mode, "fill" | "pad" | "lpad" | "scale");
            let tag = if exact {
                img(&url, 200, 150, mode)
            } else {
                format!(r#"<img src="{url}" alt="{mode}" data-max-w="200" data-max-h="150" loading="eager">"#)
            };
            let _ = write!(modes, "<figure>{tag}<figcaption><code>c_{mode}</code></figcaption></figure>");
        }
        for mode in ["limit", "fit"] {
            let url = format!("/w_200,c_{mode}/{k}");
            let _ = write!(
                modes,
                r#"<figure><img src="{url}" alt="{mode}" data-w="200" data-shrink-only="{}" loading="eager"><figcaption><code>c_{mode}</code></figcaption></figure>"#,
                mode == "limit"
            );
        }
        for (name, tokens) in [
            ("original", ""),
            ("gray", "gray,"),
            ("blur_4", "blur_4,"),
            ("sharpen_2", "sharpen_2,"),
            ("a_90", "a_90,"),
            ("a_hflip", "a_hflip,"),
            ("g_north", "g_north,"),
            ("q_20", "q_20,"),
        ] {
            let url = format!("/{tokens}w_200,h_150,c_fill/{k}");
            let _ = write!(
                effects,
                "<figure>{}<figcaption><code>{name}</code></figcaption></figure>",
                img(&url, 200, 150, name)
            );
        }
        let _ = write!(
            responsive,
            r#"<figure><img src="/w_640/{k}" srcset="/w_320/{k} 320w, /w_640/{k} 640w, /w_960/{k} 960w" sizes="(max-width: 700px) 100vw, 320px" alt="srcset with widths" data-any="1" loading="eager"><figcaption><code>srcset</code> with widths and <code>sizes</code></figcaption></figure>
<figure><picture><source type="image/avif" srcset="/w_320,h_240,c_fill,f_avif/{k}"><source type="image/webp" srcset="/w_320,h_240,c_fill,f_webp/{k}"><img src="/w_320,h_240,c_fill,f_jpeg/{k}" width="320" height="240" data-w="320" data-h="240" alt="picture" loading="eager"></picture><figcaption><code>&lt;picture&gt;</code>: AVIF, WebP, JPEG</figcaption></figure>"#
        );
    }
    let options: String = keys
        .iter()
        .map(|k| format!(r#"<option value="{}">{}</option>"#, escape(&k.to_url_path()), escape(k.as_str())))
        .collect();
    fill(
        TEMPLATE,
        &[
            ("{gallery}", &gallery),
            ("{modes}", &modes),
            ("{effects}", &effects),
            ("{responsive}", &responsive),
            ("{smart}", &smart),
            ("{placeholders}", &placeholders),
            ("{hints}", &hints),
            ("{options}", &options),
        ],
    )
}

/// Puts each value in place of its placeholder in one pass over the template, so nothing a value
/// contains (a key named `{options}.png`) is ever read as a placeholder.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match values.iter().find(|(name, _)| rest.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &rest[name.len()..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

const TEMPLATE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pixflow demo</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#1d2430}
h1{margin:.2rem 0}h2{margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
.grid{display:flex;flex-wrap:wrap;gap:14px}figure{margin:0;background:#f4f5f8;padding:8px;border-radius:6px}
figure img{display:block;max-width:100%;height:auto;background:#e4e6ec}figcaption{font-size:12px;margin-top:4px}
code{background:#eef;padding:1px 4px;border-radius:3px}form{display:flex;flex-wrap:wrap;gap:10px;align-items:end}
label{display:flex;flex-direction:column;font-size:12px}#built{margin-top:10px;word-break:break-all}
</style></head><body>
<h1>pixflow</h1>
<p>Every picture on this page is one URL: options, then the image's key. Open one in a new tab and change the options.</p>
<h2>Gallery</h2><p><code>w_300,h_200,c_fill,f_auto</code>, with a <code>dpr_2</code> candidate for sharp screens; <code>f_auto</code> sends AVIF or WebP to browsers that take them.</p>
<div class="grid" id="gallery">{gallery}</div>
<h2>Resize modes</h2><p>The same 200×150 box (padding in <code>bg_203040</code>).</p><div class="grid" id="modes">{modes}</div>
<h2>Effects</h2><div class="grid" id="effects">{effects}</div>
<h2>Responsive images</h2><div class="grid" id="responsive">{responsive}</div>
<h2>Smart crops</h2><p>The same 200×200 <code>c_fill</code>, centred and with <code>g_auto</code>: the window goes where the picture has detail, skin tones and strong colour.</p><div class="grid" id="smart">{smart}</div>
<h2>Placeholders</h2><p>A <code>f_thumbhash</code> URL answers a ThumbHash (about 25 bytes of base64) that the page turns into a blurry preview while the image loads; the gallery above paints them behind its images.</p><div class="grid" id="placeholders">{placeholders}</div>
<h2>Client hints</h2><p>This page sends <code>Accept-CH: Sec-CH-DPR, Sec-CH-Width</code>, so the browser says how dense its screen is and how wide each image is laid out; <code>dpr_auto</code> and <code>w_auto</code> use that.</p><div class="grid" id="hints">{hints}</div>
<h2>Build a URL</h2>
<form id="builder">
<label>image<select name="key">{options}</select></label>
<label>w<input name="w" type="number" min="1" max="8192" value="400"></label>
<label>h<input name="h" type="number" min="1" max="8192" value="300"></label>
<label>mode<select name="c"><option>fill</option><option>limit</option><option>fit</option><option>lfill</option><option>pad</option><option>lpad</option><option>scale</option><option>crop</option></select></label>
<label>format<select name="f"><option>auto</option><option>jpeg</option><option>png</option><option>webp</option><option>avif</option></select></label>
<label>quality<input name="q" type="number" min="1" max="100" placeholder="default"></label>
<label>gray<input name="gray" type="checkbox"></label>
<label>blur<input name="blur" type="number" min="0.3" max="100" step="0.1" placeholder="none"></label>
<button>Show</button>
</form>
<div id="built"></div><p><img id="result" alt="the built URL's image" hidden></p>
<script>
const form = document.getElementById('builder');
function build() {
  const d = new FormData(form), t = [];
  for (const n of ['w', 'h', 'q', 'blur']) if (d.get(n)) t.push(n + '_' + d.get(n));
  t.push('c_' + d.get('c'), 'f_' + d.get('f'));
  if (d.get('gray')) t.push('gray');
  const url = '/' + t.join(',') + '/' + d.get('key');
  document.getElementById('built').innerHTML = '<code></code>';
  document.querySelector('#built code').textContent = url;
  const result = document.getElementById('result');
  result.src = url;
  result.hidden = false;
  return url;
}
form.addEventListener('submit', (e) => { e.preventDefault(); build(); });
</script>
<script type="module">
import { thumbHashToDataURL } from '/_/demo/thumbhash.js';
const decode = (text) => Uint8Array.from(atob(text.trim()), (c) => c.charCodeAt(0));
const hashOf = async (url) => { const r = await fetch(url); if (!r.ok) throw new Error(url + ': ' + r.status); return r.text(); };
// Placeholders on their own, then the real image once it has loaded.
for (const img of document.querySelectorAll('img.placeholder')) {
  const text = await hashOf(img.dataset.hashOf);
  img.dataset.hash = text.trim();
  img.src = thumbHashToDataURL(decode(text));
}
// The gallery: each image's ThumbHash painted behind it until the image itself arrives.
for (const img of document.querySelectorAll('img[data-thumbhash]')) {
  const text = await hashOf(img.dataset.thumbhash);
  if (!img.complete) img.style.background = 'center / cover url(' + thumbHashToDataURL(decode(text)) + ')';
  img.addEventListener('load', () => { img.style.background = ''; }, { once: true });
  img.dataset.hash = text.trim();
}
document.body.dataset.placeholders = 'done';
</script>
</body></html>
"#;
