//! SVG originals (issue 15): drawn at the output's size, sized as browsers size them, and the
//! hostile set — each with the status the README documents.

use crate::{get, state_over, Got};
use pixflow::config::Config;
use pixflow::transform::decode_svg;
use std::io::Write;

const NS: &str = r#"xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink""#;

/// A source folder holding `files`, and a server over it.
fn serve(files: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, pixflow::AppState) {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let s = state_over(dir.path(), None, Config::default());
    (dir, s)
}

fn svg(body: &str, attrs: &str) -> Vec<u8> {
    format!("<svg {NS} {attrs}>{body}</svg>").into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn message(got: &Got) -> String {
    String::from_utf8_lossy(&got.body).into_owned()
}

/// A 10 × 10 drawing, black on the left half, white on the right.
fn halves() -> Vec<u8> {
    svg(
        r#"<rect width="5" height="10"/><rect x="5" width="5" height="10" fill="white"/>"#,
        r#"width="10" height="10""#,
    )
}

#[tokio::test]
async fn a_vector_is_drawn_at_the_output_size_not_enlarged() {
    let (_d, s) = serve(&[("halves.svg", halves())]);
    let got = get(&s, "/w_1000,f_png/halves.svg").await;
    assert_eq!(got.status, 200, "{}", message(&got));
    let img = got.image().to_luma8();
    assert_eq!(img.dimensions(), (1000, 1000));
    // Drawn at 1000 px, the edge is one pixel wide; a 10 px raster enlarged 100× would blur it
    // over tens of pixels.
    assert!(img.get_pixel(497, 500)[0] < 8 && img.get_pixel(502, 500)[0] > 247, "a crisp edge");
    // Shrinking draws at the small size too.
    let small = get(&s, "/w_4,f_png/halves.svg").await.image().to_luma8();
    assert_eq!((small.get_pixel(0, 0)[0], small.get_pixel(3, 0)[0]), (0, 255));
}

#[tokio::test]
async fn with_no_size_an_svg_is_its_own_size_and_its_output_a_png() {
    let (_d, s) = serve(&[
        ("sized.svg", svg(r#"<rect width="40" height="20" fill="red"/>"#, r#"width="40" height="20""#)),
        ("units.svg", svg("", r#"width="1in" height="0.5in""#)),
        ("viewbox.svg", svg("", r#"viewBox="0 0 30 10""#)),
        ("width-only.svg", svg("", r#"width="60" viewBox="0 0 30 10""#)),
        ("nothing.svg", svg("", "")),
    ]);
    for (file, size) in [
        ("sized.svg", (40, 20)),
        ("units.svg", (96, 48)),
        ("viewbox.svg", (30, 10)),
        ("width-only.svg", (60, 20)),
        ("nothing.svg", decode_svg::DEFAULT_SIZE),
    ] {
        let json = get(&s, &format!("/f_json/{file}")).await.json();
        assert_eq!(json["source"]["format"], "svg");
        assert_eq!(json["source"]["vector"], true);
        assert_eq!(
            (json["source"]["width"].as_u64(), json["source"]["height"].as_u64()),
            (Some(u64::from(size.0)), Some(u64::from(size.1))),
            "{file}: {json}"
        );
        assert_eq!(json["output"]["format"], "png", "{file}");
    }
    let got = get(&s, "/w_40/sized.svg").await;
    assert_eq!(got.header("content-type"), Some("image/png"));
    let img = got.image().to_rgba8();
    assert_eq!(img.dimensions(), (40, 20));
    assert!(img.pixels().all(|p| p.0 == [255, 0, 0, 255]), "drawn red, opaque");
}

#[tokio::test]
async fn crops_and_rect_are_in_the_drawings_own_pixels() {
    let (_d, s) = serve(&[("halves.svg", halves())]);
    // The right half, cut in the SVG's own units, then drawn at 200 px wide.
    let got = get(&s, "/rect_5:0:5:10,w_200,f_png/halves.svg").await;
    assert_eq!(got.status, 200, "{}", message(&got));
    let img = got.image().to_luma8();
    assert_eq!(img.dimensions(), (200, 400));
    assert!(img.pixels().all(|p| p[0] > 247), "all white: the right half");
    let json = get(&s, "/c_fill,w_100,h_200,g_west,f_json/halves.svg").await.json();
    let region = &json["output"]["region"];
    assert_eq!(
        (&region["x"], &region["width"], &region["height"]),
        (&0.into(), &5.into(), &10.into()),
        "{json}"
    );
}

#[tokio::test]
async fn an_embedded_data_uri_image_is_drawn() {
    let mut png = Vec::new();
    image::RgbaImage::from_pixel(4, 4, image::Rgba([0, 0, 255, 255]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    use base64::Engine;
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
    let body = format!(r#"<image width="10" height="10" href="{uri}"/>"#);
    let (_d, s) = serve(&[("embedded.svg", svg(&body, r#"width="10" height="10""#))]);
    let img = get(&s, "/f_png/embedded.svg").await.image().to_rgba8();
    assert_eq!(img.get_pixel(5, 5).0, [0, 0, 255, 255], "the data: PNG is drawn");
}

/// A PNG whose header claims `w` × `h` pixels, with no pixel data behind it.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 6, 0, 0, 0]);
    let crc = crc32fast::hash(&ihdr);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&ihdr);
    png.extend(crc.to_be_bytes());
    png
}

/// The hostile set. Each case: the file, the request, the status, and what else must hold.
#[tokio::test]
async fn the_hostile_svg_set_gets_its_documented_statuses() {
    // A listener on loopback that an SVG links to: nothing may ever connect to it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let http = format!("http://127.0.0.1:{port}/x.png");

    let lols = (1..=9)
        .map(|i| format!("<!ENTITY lol{i} \"{}\">", format!("&lol{};", i - 1).repeat(10)))
        .collect::<String>();
    let billion_laughs = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY lol0 \"lol\">{lols}]><svg {NS}><text>&lol9;</text></svg>"
    );
    let big_entity = format!(
        "<!DOCTYPE svg [<!ENTITY big \"{}\">]><svg {NS}><desc>{}</desc></svg>",
        "x".repeat(10_000),
        "&big;".repeat(200)
    );
    let external_entity = format!(
        "<!DOCTYPE svg [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><svg {NS} width=\"10\" height=\"10\"><text>&xxe;</text></svg>"
    );
    let nested = format!("<svg {NS}>{}{}</svg>", "<g>".repeat(100_000), "</g>".repeat(100_000));
    let deep = format!(
        "<svg {NS}>{}{}</svg>",
        "<g>".repeat(decode_svg::MAX_DEPTH + 5),
        "</g>".repeat(decode_svg::MAX_DEPTH + 5)
    );
    let blurs = (0..1000).map(|_| r#"<feGaussianBlur stdDeviation="50"/>"#).collect::<String>();
    let filter_bomb = svg(
        &format!(
            r#"<filter id="f" x="-10" y="-10" width="30" height="30">{blurs}</filter><rect width="100" height="100" filter="url(#f)"/>"#
        ),
        r#"width="2000" height="2000""#,
    );
    let turbulence = svg(
        r#"<filter id="t"><feTurbulence baseFrequency="0.01" numOctaves="100000"/></filter><rect width="100" height="100" filter="url(#t)"/>"#,
        r#"width="100" height="100""#,
    );
    // Ten <use> per level over twelve levels: 10^12 rectangles once expanded.
    let mut uses = String::from(r#"<defs><rect id="u0" width="1" height="1"/>"#);
    for i in 1..=12 {
        uses += &format!(r#"<g id="u{i}">{}</g>"#, format!(r##"<use href="#u{}"/>"##, i - 1).repeat(10));
    }
    uses += r##"</defs><use href="#u12"/>"##;
    let use_bomb = svg(&uses, r#"width="10" height="10""#);
    let outside = svg(
        &format!(
            r#"<style>@import url({http}); rect {{ fill: url({http}) }}</style>
            <image width="10" height="10" href="file:///etc/passwd"/>
            <image width="10" height="10" xlink:href="/etc/hostname"/>
            <image width="10" height="10" href="{http}"/>
            <use href="{http}#a"/>
            <filter id="i"><feImage href="{http}"/></filter><rect width="10" height="10" filter="url(#i)" opacity="0"/>"#
        ),
        r#"width="10" height="10""#,
    );
    let script = svg(
        r#"<script>while(true){}</script><rect width="10" height="10" fill="lime"/>"#,
        r#"width="10" height="10""#,
    );
    let svgz_bomb =
        gzip(&[format!("<svg {NS}><!--").into_bytes(), vec![b' '; 64 << 20], b"--></svg>".to_vec()].concat());
    use base64::Engine;
    let claimed = base64::engine::general_purpose::STANDARD.encode(png_claiming(100_000, 100_000));
    let huge_raster = svg(
        &format!(
            r#"<rect width="10" height="10" fill="lime"/><image width="10" height="10" href="data:image/png;base64,{claimed}"/>"#
        ),
        r#"width="10" height="10""#,
    );
    let text = svg(r#"<text x="0" y="10" font-size="20">Hello</text>"#, r#"width="40" height="20""#);

    let files: Vec<(&str, Vec<u8>)> = vec![
        ("billion-laughs.svg", billion_laughs.into_bytes()),
        ("big-entity.svg", big_entity.into_bytes()),
        ("external-entity.svg", external_entity.into_bytes()),
        ("nested.svg", nested.into_bytes()),
        ("deep.svg", deep.into_bytes()),
        (
            "huge-viewbox.svg",
            svg(r#"<rect width="1e9" height="1e9" fill="lime"/>"#, r#"viewBox="0 0 1e9 1e9""#),
        ),
        ("filter-bomb.svg", filter_bomb),
        ("turbulence.svg", turbulence),
        ("use-bomb.svg", use_bomb),
        ("outside.svg", outside),
        ("script.svg", script),
        ("bomb.svgz", svgz_bomb),
        ("huge-raster.svg", huge_raster),
        ("text.svg", text),
        ("broken.svg", format!("<svg {NS}><rect></svg>").into_bytes()),
    ];
    let (_d, s) = serve(&files);
    let status = |file: &str, uri: &str, want: u16| {
        let (file, uri) = (file.to_string(), uri.to_string());
        let s = s.clone();
        async move {
            let got = get(&s, &uri).await;
            assert_eq!(got.status, want, "{file} at {uri}: {}", message(&got));
            got
        }
    };
    let over_limit = [
        ("billion-laughs.svg", "entities"),
        ("big-entity.svg", "entities"),
        ("nested.svg", "nodes"),
        ("deep.svg", "deep"),
        ("filter-bomb.svg", "filter primitives"),
        ("turbulence.svg", "octaves"),
        ("use-bomb.svg", "<use>"),
        ("bomb.svgz", "inflates"),
    ];
    for (file, says) in over_limit {
        let got = status(file, &format!("/w_100,f_png/{file}"), 413).await;
        assert!(message(&got).contains(says), "{file}: {}", message(&got));
    }
    // An external entity is never resolved: the reference to it is unknown, so the XML is bad.
    status("external-entity.svg", "/f_png/external-entity.svg", 422).await;
    status("broken.svg", "/f_png/broken.svg", 422).await;
    // A huge viewBox is fine at a stated output size; at its own size it is over the limits.
    let drawn = status("huge-viewbox.svg", "/w_100,f_png/huge-viewbox.svg", 200).await.image().to_rgba8();
    assert_eq!((drawn.dimensions(), drawn.get_pixel(50, 50).0), ((100, 100), [0, 255, 0, 255]));
    let own = get(&s, "/f_png/huge-viewbox.svg").await;
    assert!(matches!(own.status.as_u16(), 400 | 413), "{}: {}", own.status, message(&own));
    // Links to the outside are not followed: nothing is drawn from them, nothing connects.
    let img = status("outside.svg", "/f_png/outside.svg", 200).await.image().to_rgba8();
    assert!(img.pixels().all(|p| p[3] == 0), "nothing outside was drawn");
    assert!(
        listener.accept().is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
        "no connection was made"
    );
    // A script is ignored; the drawing is drawn.
    let img = status("script.svg", "/f_png/script.svg", 200).await.image().to_rgba8();
    assert!(img.pixels().all(|p| p.0 == [0, 255, 0, 255]));
    // An embedded raster over the pixel limit is not decoded; the rest is drawn.
    let img = status("huge-raster.svg", "/f_png/huge-raster.svg", 200).await.image().to_rgba8();
    assert!(img.pixels().all(|p| p.0 == [0, 255, 0, 255]));
    // No fonts: text is not drawn.
    let img = status("text.svg", "/f_png/text.svg", 200).await.image().to_rgba8();
    assert!(img.pixels().all(|p| p[3] == 0), "text is not drawn");
    // A passthrough of the SVGZ bomb is refused the same way (it goes out inflated).
    status("bomb.svgz", "/bomb.svgz", 413).await;
}

#[tokio::test]
async fn an_svgz_is_drawn_and_passes_through_inflated() {
    let plain = svg(r#"<rect width="8" height="8" fill="red"/>"#, r#"width="8" height="8""#);
    let (_d, s) = serve(&[("logo.svgz", gzip(&plain))]);
    let got = get(&s, "/logo.svgz").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/svg+xml"));
    assert_eq!(got.body, plain, "inflated, untouched otherwise");
    assert!(got.header("content-security-policy").is_some());
    let img = get(&s, "/w_16,f_png/logo.svgz").await.image().to_rgba8();
    assert_eq!((img.dimensions(), img.get_pixel(8, 8).0), ((16, 16), [255, 0, 0, 255]));
}

/// Bug (found by the SVG fuzz target, `scripts/fuzz`): masks that refer to each other in a loop
/// sent usvg round it until the stack overflowed — a crash of the process before the sandbox, of
/// the child with it. Chains of references (masks, clips, filters, `feImage`s) are now walked
/// before usvg sees the document: a loop, or a chain deeper than 16, is a 413 naming the limit;
/// an ordinary chain (a gradient that extends another, a masked mask) is drawn.
#[tokio::test]
async fn reference_loops_and_deep_reference_chains_are_refused_before_drawing() {
    let mask = |id: &str, next: Option<&str>| {
        let inner = next.map_or(String::new(), |n| format!(r#" mask="url(#{n})""#));
        format!(r#"<mask id="{id}"><rect width="10" height="10" fill="white"{inner}/></mask>"#)
    };
    let looped = svg(
        &format!(
            r#"{}{}{}<rect width="10" height="10" mask="url(#a)"/>"#,
            mask("a", Some("b")),
            mask("b", Some("c")),
            mask("c", Some("a"))
        ),
        r#"viewBox="0 0 10 10""#,
    );
    let chain = |n: usize| {
        let masks: String = (0..n)
            .map(|i| mask(&format!("m{i}"), (i + 1 < n).then(|| format!("m{}", i + 1)).as_deref()))
            .collect();
        svg(&format!(r#"{masks}<rect width="10" height="10" mask="url(#m0)"/>"#), r#"viewBox="0 0 10 10""#)
    };
    let gradients = svg(
        r##"<linearGradient id="g1"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/></linearGradient><linearGradient id="g2" href="#g1" x2="0.5"/><rect width="10" height="10" fill="url(#g2)"/>"##,
        r#"viewBox="0 0 10 10""#,
    );
    let (_d, s) = serve(&[
        ("loop.svg", looped),
        ("deep.svg", chain(20)),
        ("ok.svg", chain(4)),
        ("grad.svg", gradients),
    ]);
    for name in ["loop.svg", "deep.svg"] {
        let got = get(&s, &format!("/w_50,f_png/{name}")).await;
        assert_eq!(got.status, 413, "{name}: {}", message(&got));
        assert!(message(&got).contains("loop or nest more than 16 deep"), "{name}: {}", message(&got));
    }
    for name in ["ok.svg", "grad.svg"] {
        let got = get(&s, &format!("/w_50,f_png/{name}")).await;
        assert_eq!(got.status, 200, "{name}: {}", message(&got));
    }
}
