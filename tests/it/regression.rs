//! One test per fixed bug, each saying which bug it guards. Crash inputs stay here as data.

use crate::{get, state};
use http::StatusCode;

/// Bug: `?o=` followed by `o_` ten thousand times recursed once per level and overflowed the
/// stack before any signature check, aborting the whole process. `o=` no longer nests.
#[tokio::test]
async fn deeply_nested_o_options_are_one_400_not_a_stack_overflow() {
    let url = format!("/rocket.jpg?o={}w_1", "o_".repeat(10_000));
    let got = get(&state(), &url).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(got.json()["error"], "bad_option");
    assert!(got.json()["message"].as_str().unwrap().contains("cannot nest"), "{:?}", got.json());
}

/// The parser's worst case up to the URL limit is linear: the longest repeats of one token are
/// refused at the second copy, a 16 KB run of commas is a key over the length limit, and 16,000
/// leading zeros are still the number 1.
#[tokio::test]
async fn long_repeats_up_to_the_url_limit_are_refused_quickly() {
    let s = state();
    let repeated = format!("/{}/rocket.jpg", vec!["w_1"; 4000].join(","));
    let commas = format!("/w_1{}/rocket.jpg", ",".repeat(16_000));
    let digits = format!("/w_{}1/quadrants.jpg", "0".repeat(16_000));
    let query = format!("/rocket.jpg?{}", vec!["w=1"; 4000].join("&"));
    let cases = [(repeated, 400), (commas, 400), (digits, 200), (query, 400)];
    for (url, status) in cases {
        let started = std::time::Instant::now();
        let got = get(&s, &url).await;
        assert_eq!(got.status.as_u16(), status, "{}", &url[..40]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{}: {:?}",
            &url[..40],
            started.elapsed()
        );
    }
}

use crate::cli::{lines, pixflow, run};
use crate::fixtures;
use pixflow::config::Config;

/// A folder holding `a.jpg` (the quadrants), for the warm and preset tests.
fn one_original() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures::dir().join("quadrants.jpg"), d.path().join("a.jpg")).unwrap();
    d
}

/// Bug: `pixflow warm` reported the unexpanded variant (`t_thumb`) as the destination while the
/// server stored the resolved one, and warmed only the JPEG of an `f_auto` variant although the
/// edge asks for AVIF and WebP too.
#[tokio::test]
async fn warm_stores_what_the_server_reads_for_presets_and_every_f_auto_format() {
    let (src, results) = (one_original(), tempfile::tempdir().unwrap());
    let (ok, stdout, stderr) = run(pixflow()
        .args([
            "warm",
            "--variant",
            "t_thumb",
            "--variant",
            "w_30,f_auto",
            "--presets",
            "thumb=w_20,h_20,c_fill,f_webp",
        ])
        .arg("--source")
        .arg(src.path())
        .arg("--result-store")
        .arg(results.path()));
    assert!(ok, "{stderr}");
    let l = lines(&stdout);
    let warmed: Vec<&serde_json::Value> = l.iter().filter(|x| x.get("status").is_some()).collect();
    assert_eq!(warmed.len(), 4, "one preset variant and three f_auto formats: {stdout}");
    for line in &warmed {
        let dest = line["destinationKey"].as_str().unwrap();
        assert!(std::path::Path::new(dest).is_file(), "{dest}");
    }
    for name in ["f_auto-avif,w_30.avif", "f_auto-webp,w_30.webp", "f_auto,w_30"] {
        assert!(results.path().join("a.jpg").join(name).is_file(), "{name} was not warmed");
    }
    // A server over the same store finds every warmed variant without transforming.
    let presets = pixflow::spec::Presets::parse("thumb=w_20,h_20,c_fill,f_webp", 8192).unwrap();
    let s = crate::state_over(src.path(), Some(results.path()), Config { presets, ..Config::default() });
    for (url, accept) in [
        ("/t_thumb/a.jpg", ""),
        ("/w_30,f_auto/a.jpg", "image/avif"),
        ("/w_30,f_auto/a.jpg", "image/webp"),
        ("/w_30,f_auto/a.jpg", "image/png"),
    ] {
        let got = crate::request(&s, "GET", url, &[("accept", accept)]).await;
        assert_eq!(got.status, StatusCode::OK, "{url}");
    }
    assert_eq!(s.stats.transforms(), 0, "every variant came from the store");
    assert_eq!(s.stats.store_hits(), 4);
}

/// Bug: `/t_thumb/x.jpg` kept its ETag, memory entry and stored result when `thumb` was
/// redefined, so the old rendering was served for ever.
#[tokio::test]
async fn redefining_a_preset_makes_new_bytes_and_a_new_etag_on_the_same_store() {
    let (src, results) = (one_original(), tempfile::tempdir().unwrap());
    let with = |definition: &str| {
        let presets = pixflow::spec::Presets::parse(definition, 8192).unwrap();
        crate::state_over(src.path(), Some(results.path()), Config { presets, ..Config::default() })
    };
    let before = get(&with("thumb=w_40,h_40,c_fill"), "/t_thumb/a.jpg").await;
    let after = get(&with("thumb=w_30,h_30,c_fill"), "/t_thumb/a.jpg").await;
    assert_ne!(before.header("etag"), after.header("etag"));
    assert_eq!((after.image().width(), after.image().height()), (30, 30));
    // The first definition's stored result is still found by a server that has it.
    let again = with("thumb=w_40,h_40,c_fill");
    assert_eq!(get(&again, "/t_thumb/a.jpg").await.header("etag"), before.header("etag"));
    assert_eq!(again.stats.store_hits(), 1);
}

/// Bug: a query token at its default value (`?fit=limit`) was dropped before the preset was
/// expanded, so it could not override the preset's `c_fill`.
#[tokio::test]
async fn a_default_valued_query_token_overrides_the_presets_value() {
    let presets = pixflow::spec::Presets::parse("thumb=w_40,h_40,c_fill", 8192).unwrap();
    let s = crate::state_with(Config { presets, ..Config::default() });
    let filled = get(&s, "/quadrants.jpg?preset=thumb").await.image();
    assert_eq!((filled.width(), filled.height()), (40, 40));
    let limited = get(&s, "/quadrants.jpg?preset=thumb&fit=limit").await.image();
    assert_eq!((limited.width(), limited.height()), (40, 20), "fits inside, as c_limit does");
}

/// Bug: originals carried no Server-Timing, although the README says every image does.
#[tokio::test]
async fn originals_carry_server_timing() {
    let got = get(&state(), "/quadrants.jpg").await;
    assert!(got.header("server-timing").is_some_and(|t| t.starts_with("fetch;dur=")), "{:?}", got.headers);
}

/// Bug: `pixflow sign` printed the key without percent-encoding it (a space came out raw).
#[tokio::test]
async fn sign_prints_a_percent_encoded_path() {
    let (ok, stdout, stderr) =
        run(pixflow().args(["sign", "/w_10/photos/a b+c.jpg", "--secret", "0123456789abcdef0123"]));
    assert!(ok, "{stderr}");
    assert!(stdout.trim().ends_with("/photos/a%20b%2Bc.jpg"), "{stdout}");
    let path = stdout.trim();
    // And the printed URL is accepted by a server with that secret.
    let signer = pixflow::spec::Signer::new(b"0123456789abcdef0123".to_vec());
    let s = crate::state_with(Config { signer: Some(signer), ..Config::default() });
    assert_eq!(
        get(&s, path).await.status,
        StatusCode::NOT_FOUND,
        "signed and valid, for a key the folder lacks"
    );
}

/// Bug: POST /_/transform skipped the crop-coordinate check that GET makes (x_ without c_crop).
#[tokio::test]
async fn post_refuses_crop_coordinates_without_c_crop_as_get_does() {
    let s = crate::state_with(Config { allow_post: true, ..Config::default() });
    let png = std::fs::read(fixtures::dir().join("quadrants.png")).unwrap();
    let got =
        crate::request_with_body(&s, "POST", "/_/transform/w_10,x_5", &[("content-type", "image/png")], png)
            .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&s, "/w_10,x_5/quadrants.png").await.status, StatusCode::BAD_REQUEST);
}

/// Writes `bits` (MSB first) as JPEG entropy-coded bytes: padded with ones, `FF` stuffed.
fn entropy_bytes(bits: &[bool]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bits.chunks(8) {
        let mut byte = 0u8;
        for i in 0..8 {
            byte = (byte << 1) | u8::from(*chunk.get(i).unwrap_or(&true));
        }
        out.push(byte);
        if byte == 0xFF {
            out.push(0);
        }
    }
    out
}

/// A progressive 4:2:0 JPEG whose first Cb AC scan is replaced by a hostile one: every block's
/// first coefficient is 2047 under a point transform of 13, with the chroma quantiser at 255.
fn jpeg_with_a_hostile_chroma_ac_scan() -> Vec<u8> {
    let jpeg = fixtures::progressive_jpeg(&fixtures::quadrants(256, 256), turbojpeg::Subsamp::Sub2x2);
    let mut out = jpeg[..2].to_vec();
    let mut i = 2;
    let mut replaced = false;
    while i + 4 <= jpeg.len() {
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        let mut segment = jpeg[i..i + 2 + len].to_vec();
        let mut next = i + 2 + len;
        if marker == 0xDB {
            // Quantisation tables: the chroma one (Tq 1) gets 255 at zigzag 1 to 4.
            let mut t = 4;
            while t < segment.len() {
                if segment[t] & 0x0F == 1 {
                    segment[t + 2..t + 6].fill(255);
                }
                t += 65;
            }
        }
        if marker == 0xDA {
            while next + 1 < jpeg.len()
                && !(jpeg[next] == 0xFF && jpeg[next + 1] != 0 && !(0xD0..=0xD7).contains(&jpeg[next + 1]))
            {
                next += 1;
            }
            let (ns, ss, se, ah) = (
                segment[4],
                segment[5 + 2 * usize::from(segment[4])],
                segment[6 + 2 * usize::from(segment[4])],
                segment[7 + 2 * usize::from(segment[4])] >> 4,
            );
            if !replaced && ns == 1 && segment[5] == 2 && ss == 1 && se >= 4 && ah == 0 {
                replaced = true;
                // An AC table 3 with two codes: `0` → run 0, size 11; `10` → end of block.
                let mut counts = [0u8; 16];
                counts[0] = 1;
                counts[1] = 1;
                let mut dht = vec![0xFF, 0xC4, 0, 2 + 1 + 16 + 2, 0x13];
                dht.extend_from_slice(&counts);
                dht.extend_from_slice(&[0x0B, 0x00]);
                out.extend_from_slice(&dht);
                segment[6] = (segment[6] & 0xF0) | 3; // this component's AC table: 3
                segment[7 + 2] = 13; // Ah 0, Al 13
                out.extend_from_slice(&segment);
                // 4:2:0 chroma of 256 × 256: 16 × 16 blocks.
                let block: Vec<bool> =
                    std::iter::once(false).chain([true; 11]).chain([true, false]).collect();
                let bits: Vec<bool> = (0..256).flat_map(|_| block.clone()).collect();
                out.extend_from_slice(&entropy_bytes(&bits));
                i = next;
                continue;
            }
            out.extend_from_slice(&jpeg[i..next]);
            i = next;
            continue;
        }
        out.extend_from_slice(&segment);
        if marker == 0xD9 {
            break;
        }
        i = next;
    }
    assert!(replaced, "the encoder wrote no single-component Cb AC scan to replace");
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// Bug: in the DC-only decode, the first chroma AC pass multiplied a value shifted by a hostile
/// point transform by a hostile quantiser in i32, which overflows (a panic in debug builds, a
/// wrapped colour in release). Now it saturates: the file decodes at 1/8 scale with its size.
#[tokio::test]
async fn a_hostile_chroma_point_transform_and_quantiser_do_not_overflow() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.jpg"), jpeg_with_a_hostile_chroma_ac_scan()).unwrap();
    let s = crate::state_over(dir.path(), None, Config::default());
    let got = get(&s, "/w_32/hostile.jpg").await;
    assert_eq!(got.status, StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!((got.image().width(), got.image().height()), (32, 32));
}
