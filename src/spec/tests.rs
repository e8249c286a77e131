//! Parser tests: canonical forms, every alias, errors naming their token, keys, and the
//! round-trip property `parse(display(spec)) == spec`. The other services' dialects are tested
//! in `dialects/tests.rs`.

use super::*;
use proptest::prelude::*;

fn canon(path: &str) -> String {
    let (p, q) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    let r = parse_request(p, q, 8192).unwrap_or_else(|e| panic!("{path}: {e}"));
    format!("{}|{}", r.spec, r.key)
}

fn err(path: &str) -> SpecError {
    let (p, q) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    parse_request(p, q, 8192).expect_err(path)
}

#[test]
fn one_variant_has_one_canonical_form() {
    let want = "h_200,w_200|a.jpg";
    for url in [
        "/h_200,w_200/a.jpg",
        "/w_200,h_200,c_limit/a.jpg",
        "/a.jpg?height=200&w=200",
        "/a.jpg?o=w_200,h_200",
        "/w_0200,h_200,g_center,dpr_1,bg_FFFFFF/a.jpg",
        "/a.jpg?width=200&height=200&fit=max&gravity=c&dpr=1.00",
        "/w_200/a.jpg?h=200",
    ] {
        assert_eq!(canon(url), want, "{url}");
    }
}

#[test]
fn aliases_and_numbers_are_normalised() {
    assert_eq!(canon("/dpr_2.50,w_10/a.jpg"), "dpr_2.5,w_10|a.jpg");
    assert_eq!(canon("/dpr_2.0,w_10/a.jpg"), "dpr_2,w_10|a.jpg");
    assert_eq!(canon("/e_grayscale,f_jpg/a.jpg"), "f_jpeg,gray|a.jpg");
    assert_eq!(canon("/sharpen_1,w_5/a.jpg"), "sharpen,w_5|a.jpg");
    assert_eq!(canon("/sharpen_1.50,w_5/a.jpg"), "sharpen_1.5,w_5|a.jpg");
    assert_eq!(canon("/g_ne,c_fill,w_5,h_5/a.jpg"), "c_fill,g_north_east,h_5,w_5|a.jpg");
    assert_eq!(canon("/g_0.250x0.70,c_fill,w_5/a.jpg"), "c_fill,g_0.25x0.7,w_5|a.jpg");
    assert_eq!(canon("/g_0.5x0.5,w_5/a.jpg"), "w_5|a.jpg");
    assert_eq!(canon("/a.jpg?fit=cover&w=5&h=5"), "c_fill,h_5,w_5|a.jpg");
    assert_eq!(canon("/a.jpg?fit=contain&w=5"), "c_pad,w_5|a.jpg");
    assert_eq!(canon("/a.jpg?fit=stretch&w=5"), "c_scale,w_5|a.jpg");
    assert_eq!(canon("/a.jpg?fm=webp&quality=70&grayscale=true"), "f_webp,gray,q_70|a.jpg");
    assert_eq!(canon("/a.jpg?rot=90&flip=hv"), "a_90,a_hflip,a_vflip|a.jpg");
    assert_eq!(canon("/a.jpg?rot=0&w=3"), "w_3|a.jpg");
    assert_eq!(canon("/a_vflip,a_270,bg_00FF00/a.jpg"), "a_270,a_vflip,bg_00ff00|a.jpg");
    assert_eq!(canon("/a.jpg?bg=%23102030&blur=2.5&sharpen"), "bg_102030,blur_2.5,sharpen|a.jpg");
    assert_eq!(canon("/c_crop,x_010,y_0,w_5/a.jpg"), "c_crop,w_5,x_10,y_0|a.jpg");
    assert_eq!(canon("/a.jpg?preset=thumb&w=5"), "t_thumb,w_5|a.jpg");
    assert_eq!(err("/t_thumb/a.jpg?preset=other").code, "repeated_option");
}

#[test]
fn signature_and_expiry_are_left_out_of_the_canonical_form() {
    let r = parse_request("/w_10,s_abcdef,exp_99/a.jpg", None, 8192).unwrap();
    assert_eq!(r.spec.to_string(), "w_10");
    assert_eq!(r.spec.tokens(true).join(","), "exp_99,w_10");
    assert_eq!(r.signature.as_deref(), Some("abcdef"));
    let q = parse_request("/a.jpg", Some("o=w_10&sig=xyz&exp=5"), 8192).unwrap();
    assert_eq!((q.spec.to_string(), q.signature.as_deref()), ("w_10".to_string(), Some("xyz")));
}

#[test]
fn q_auto_and_its_levels() {
    assert_eq!(canon("/q_auto/a.jpg"), "q_auto|a.jpg");
    assert_eq!(canon("/q_auto:good/a.jpg"), "q_auto|a.jpg");
    assert_eq!(canon("/q_auto:best,w_10/a.jpg"), "q_auto:best,w_10|a.jpg");
    assert_eq!(canon("/q_auto:eco/a.jpg"), "q_auto:eco|a.jpg");
    assert_eq!(canon("/a.jpg?q=auto:low"), "q_auto:low|a.jpg");
    let spec = parse_request("/q_auto:eco/a.jpg", None, 8192).unwrap().spec;
    assert_eq!(spec.quality, Some(Quality::Auto(AutoLevel::Eco)));
}

#[test]
fn a_segment_is_options_only_if_every_name_is_known() {
    assert_eq!(canon("/w_200,zz_1/a.jpg"), "|w_200,zz_1/a.jpg");
    assert_eq!(canon("/photos/cat.jpg"), "|photos/cat.jpg");
    assert_eq!(canon("/-/w_200/a.jpg"), "|w_200/a.jpg");
    assert_eq!(canon("/w_200"), "|w_200");
    assert_eq!(canon("/a.jpg?utm_source=x&cb=123"), "|a.jpg");
}

#[test]
fn bad_values_name_their_token() {
    for (url, token, code) in [
        ("/w_abc/a.jpg", "w_abc", "bad_option"),
        ("/q_0/a.jpg", "q_0", "bad_option"),
        ("/w_99999/a.jpg", "w_99999", "bad_option"),
        ("/w_0/a.jpg", "w_0", "bad_option"),
        ("/w_1.5/a.jpg", "w_1.5", "bad_option"),
        ("/w_-5/a.jpg", "w_-5", "bad_option"),
        ("/dpr_5/a.jpg", "dpr_5", "bad_option"),
        ("/dpr_1.005/a.jpg", "dpr_1.005", "bad_option"),
        ("/blur_0.1/a.jpg", "blur_0.1", "bad_option"),
        ("/sharpen_11/a.jpg", "sharpen_11", "bad_option"),
        ("/c_zoom/a.jpg", "c_zoom", "bad_option"),
        ("/g_up/a.jpg", "g_up", "bad_option"),
        ("/g_1.5x0.5/a.jpg", "g_1.5x0.5", "bad_option"),
        ("/f_bmp/a.jpg", "f_bmp", "bad_option"),
        ("/a_45/a.jpg", "a_45", "bad_option"),
        ("/bg_reddish/a.jpg", "bg_reddish", "bad_option"),
        ("/bg_12345/a.jpg", "bg_12345", "bad_option"),
        ("/bg_8fff/a.jpg", "bg_8fff", "not_supported"),
        ("/e_sepia/a.jpg", "e_sepia", "bad_option"),
        ("/w_10,w_20/a.jpg", "w_20", "repeated_option"),
        ("/w_10/a.jpg?width=20", "width=20", "repeated_option"),
        ("/a_90,a_180/a.jpg", "a_180", "repeated_option"),
        ("/a_hflip/a.jpg?flip=h", "flip=h", "repeated_option"),
        ("/q_auto:great/a.jpg", "q_auto:great", "bad_option"),
        ("/q_auto:/a.jpg", "q_auto:", "bad_option"),
        ("/q_autobest/a.jpg", "q_autobest", "bad_option"),
        ("/q_auto,q_80/a.jpg", "q_80", "repeated_option"),
        ("/a.jpg?rot=45", "rot=45", "not_supported"),
        ("/a.jpg?rot=up", "rot=up", "bad_option"),
        ("/a.jpg?flip=x", "flip=x", "bad_option"),
        ("/a.jpg?w=big", "w=big", "bad_option"),
        ("/a.jpg?gray=maybe", "gray=maybe", "bad_option"),
        ("/a.jpg?o=", "o=", "bad_option"),
        ("/a.jpg?o=w_1,bogus", "bogus", "unknown_option"),
    ] {
        let e = err(url);
        assert_eq!((e.token.as_str(), e.code), (token, code), "{url}: {e}");
    }
}

#[test]
fn keys_are_validated_after_one_decode() {
    for url in [
        "/w_10/../etc/passwd",
        "/w_10/%2e%2e/etc/passwd",
        "/w_10/a/./b.jpg",
        "/w_10/a//b.jpg",
        "/w_10/a%5cb.jpg",
        "/w_10/a%00.jpg",
        "/w_10/a%0a.jpg",
        "/w_10/",
        "/",
        "/w_10//etc/passwd",
        "/w_10/%2Fetc/passwd",
        "/-/_/health",
        "/w_10/%ff.jpg",
    ] {
        let e = err(url);
        assert_eq!(e.code, "bad_key", "{url}: {e}");
    }
    let long = format!("/{}", "a".repeat(1025));
    assert_eq!(err(&long).code, "bad_key");
    assert_eq!(canon(&format!("/{}", "a".repeat(1024))).len(), 1025);
    // Double encoding decodes once: `%252e%252e` is the literal key `%2e%2e`, a harmless name.
    assert_eq!(canon("/w_10/%252e%252e/x.jpg"), "w_10|%2e%2e/x.jpg");
    assert_eq!(canon("/w_10/caf%C3%A9%20au%20lait.jpg"), "w_10|café au lait.jpg");
}

#[test]
fn presets_expand_under_explicit_tokens() {
    let presets = Presets::parse("thumb=w_100,h_100,c_fill;  hero = w_1200,q_70", 8192).unwrap();
    let r = parse_request("/t_thumb,w_50/a.jpg", None, 8192).unwrap();
    assert_eq!(r.spec.to_string(), "t_thumb,w_50");
    assert_eq!(presets.expand(&r.spec).unwrap().to_string(), "c_fill,h_100,w_50");
    let missing = parse_request("/t_nope/a.jpg", None, 8192).unwrap();
    assert_eq!(presets.expand(&missing.spec).unwrap_err().code, "unknown_preset");
    assert!(Presets::parse("bad=w_abc", 8192).unwrap_err().contains("w_abc"));
    assert!(Presets::parse("x=t_y", 8192).is_err());
    assert!(Presets::parse("x=w_1;x=w_2", 8192).is_err());
}

#[test]
fn signatures_match_fixed_vectors() {
    // These vectors are also in the README, for signers in other languages.
    let spec = parse_options("w_200,h_200,c_fill", 8192).unwrap();
    let key = validate_key("photos/cat.jpg").unwrap();
    let sig = sign(b"correct horse battery staple", &spec, &key);
    assert_eq!(sig, "01As1bgsZLsTihEW");
    let exp = parse_options("w_400,exp_2000000000", 8192).unwrap();
    assert_eq!(sign(b"correct horse battery staple", &exp, &key), "syOeLolPaAZ3xUsU");
    let signer = Signer::new(&b"correct horse battery staple"[..]);
    assert_eq!(signer.verify(&spec, &key, Some(&sig)), Ok(()));
    assert_eq!(signer.verify(&spec, &key, Some("AAAAAAAAAAAAAAAA")), Err(SignError::Invalid));
    assert_eq!(signer.verify(&spec, &key, None), Err(SignError::Missing));
    let mut with_exp = spec.clone();
    with_exp.expires = Some(2_000_000_000);
    assert_ne!(sign(b"correct horse battery staple", &with_exp, &key), sig);
    assert_eq!(check_expiry(&with_exp, 2_000_000_001), Err(SignError::Expired));
    assert_eq!(check_expiry(&with_exp, 1_999_999_999), Ok(()));
}

/// A random valid spec, and a random way of writing it (aliases, padding, order).
fn spec_and_spelling() -> impl Strategy<Value = (TransformSpec, String)> {
    let modes = prop::sample::select(vec![
        (ResizeMode::Fit, vec!["fit", "inside", "clip"]),
        (ResizeMode::Fill, vec!["fill", "cover"]),
        (ResizeMode::LFill, vec!["lfill"]),
        (ResizeMode::Pad, vec!["pad", "contain"]),
        (ResizeMode::LPad, vec!["lpad"]),
        (ResizeMode::Scale, vec!["scale", "stretch", "squeeze"]),
        (ResizeMode::Crop, vec!["crop"]),
    ]);
    let compass = prop::sample::select(vec![
        (Gravity::Compass(1, 0), vec!["north", "n"]),
        (Gravity::Compass(1, 2), vec!["south", "s"]),
        (Gravity::Compass(2, 1), vec!["east", "e"]),
        (Gravity::Compass(0, 1), vec!["west", "w"]),
        (Gravity::Compass(2, 0), vec!["north_east", "ne"]),
        (Gravity::Compass(0, 0), vec!["north_west", "nw"]),
        (Gravity::Compass(2, 2), vec!["south_east", "se"]),
        (Gravity::Compass(0, 2), vec!["south_west", "sw"]),
        (Gravity::Auto, vec!["auto"]),
    ]);
    let formats = prop::sample::select(vec![
        (Format::Jpeg, vec!["jpeg", "jpg"]),
        (Format::Png, vec!["png"]),
        (Format::Webp, vec!["webp"]),
        (Format::Avif, vec!["avif"]),
        (Format::Gif, vec!["gif"]),
        (Format::Auto, vec!["auto"]),
        (Format::Json, vec!["json"]),
    ]);
    (
        (
            prop::option::of(1u32..=8192),
            prop::option::of(1u32..=8192),
            prop::option::of(modes),
            prop::option::of(compass),
        ),
        (
            prop::option::of((0u16..=10_000, 0u16..=10_000)),
            prop::option::of(101u32..=400),
            prop::option::of(1u8..=100),
            prop::option::of(formats),
        ),
        (
            any::<bool>(),
            prop::option::of(30u32..=10_000),
            prop::option::of(30u32..=1000),
            0usize..4,
            any::<bool>(),
            any::<bool>(),
        ),
        (
            prop::option::of(any::<[u8; 3]>()),
            prop::option::of(0u32..=1_000_000),
            prop::option::of(0u32..=1_000_000),
            prop::option::of("[a-z0-9_-]{1,12}"),
        ),
        (any::<u64>(), 0usize..3),
    )
        .prop_map(
            |(
                (w, h, mode, compass),
                (focal, dpr, q, fmt),
                (gray, blur, sharpen, rot, fh, fv),
                (bg, x, y, preset),
                (seed, pad),
            )| {
                let pick = |v: &Vec<&'static str>, salt: u64| v[((seed >> salt) as usize) % v.len()];
                let zeros = "0".repeat(pad);
                let mut spec = TransformSpec::default();
                let mut tokens: Vec<String> = Vec::new();
                if let Some(w) = w {
                    spec.width = Some(w);
                    tokens.push(format!("w_{zeros}{w}"));
                }
                if let Some(h) = h {
                    spec.height = Some(h);
                    tokens.push(format!("h_{h}"));
                }
                if let Some((m, names)) = &mode {
                    spec.mode = Some(*m);
                    tokens.push(format!("c_{}", pick(names, 3)));
                }
                match (compass, focal) {
                    (Some((g, names)), _) => {
                        spec.gravity = Some(g);
                        tokens.push(format!("g_{}", pick(&names, 5)));
                    }
                    (None, Some((fx, fy))) if (fx, fy) != (5000, 5000) => {
                        spec.gravity = Some(Gravity::Focal(fx, fy));
                        tokens.push(format!(
                            "g_{}.{:04}x{}.{:04}",
                            fx / 10_000,
                            fx % 10_000,
                            fy / 10_000,
                            fy % 10_000
                        ));
                    }
                    _ => {}
                }
                if let Some(d) = dpr {
                    spec.dpr = Some(Centi(d));
                    tokens.push(format!("dpr_{}.{:02}", d / 100, d % 100));
                }
                if let Some(q) = q {
                    spec.quality = Some(Quality::Fixed(q));
                    tokens.push(format!("q_{zeros}{q}"));
                }
                if let Some((f, names)) = &fmt {
                    spec.format = Some(*f);
                    tokens.push(format!("f_{}", pick(names, 7)));
                }
                if gray {
                    spec.gray = true;
                    tokens.push(if seed & 1 == 0 { "gray".into() } else { "e_grayscale".into() });
                }
                if let Some(b) = blur {
                    spec.blur = Some(Centi(b));
                    tokens.push(format!("blur_{}.{:02}", b / 100, b % 100));
                }
                if let Some(s) = sharpen {
                    spec.sharpen = Some(Centi(s));
                    tokens.push(format!("sharpen_{}.{:02}", s / 100, s % 100));
                }
                spec.rotation = [Rotation::R0, Rotation::R90, Rotation::R180, Rotation::R270][rot];
                if rot > 0 {
                    tokens.push(format!("a_{}", spec.rotation.degrees()));
                }
                if fh {
                    spec.flip_h = true;
                    tokens.push("a_hflip".into());
                }
                if fv {
                    spec.flip_v = true;
                    tokens.push("a_vflip".into());
                }
                if let Some(c) = bg.filter(|c| *c != [255, 255, 255]) {
                    spec.background = Some(Rgb(c));
                    tokens.push(format!("bg_{:02X}{:02x}{:02X}", c[0], c[1], c[2]));
                }
                if let Some(x) = x {
                    spec.x = Some(x);
                    tokens.push(format!("x_{x}"));
                }
                if let Some(y) = y {
                    spec.y = Some(y);
                    tokens.push(format!("y_{y}"));
                }
                if let Some(p) = preset {
                    spec.preset = Some(p.clone());
                    tokens.push(format!("t_{p}"));
                }
                // A deterministic shuffle from the seed.
                let n = tokens.len();
                for i in (1..n).rev() {
                    let j = (seed.rotate_left(i as u32) as usize) % (i + 1);
                    tokens.swap(i, j);
                }
                (spec, tokens.join(","))
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn display_round_trips(case in spec_and_spelling()) {
        let (spec, _) = case;
        let shown = spec.to_string();
        let parsed = parse_options(&shown, 8192).unwrap();
        prop_assert_eq!(&parsed, &spec);
        prop_assert_eq!(parsed.to_string(), shown);
    }

    #[test]
    fn every_spelling_and_order_gives_one_canonical_string(case in spec_and_spelling()) {
        let (spec, written) = case;
        // Regression (a rare flake): the generator can pick no option at all, and an empty
        // options string is no URL — `o=` is refused and `//k.jpg` has an empty segment. The
        // identity spec's own spelling is covered by display_round_trips.
        prop_assume!(!written.is_empty());
        let parsed = parse_options(&written, 8192).unwrap();
        prop_assert_eq!(parsed.to_string(), spec.to_string());
        let via_query = parse_request("/k.jpg", Some(&format!("o={written}")), 8192).unwrap();
        prop_assert_eq!(via_query.spec.to_string(), spec.to_string());
        let via_path = parse_request(&format!("/{written}/k.jpg"), None, 8192).unwrap();
        prop_assert_eq!(via_path.spec, spec);
    }

    #[test]
    fn the_parser_never_panics(path in "/[a-z0-9_,.%/-]{0,40}", query in prop::option::of("[a-z0-9_=&,.%-]{0,40}")) {
        let _ = parse_request(&path, query.as_deref(), 8192);
    }
}
