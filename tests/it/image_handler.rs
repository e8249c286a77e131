//! AWS's image handler's request forms (DESIGN §9): the second vectors file,
//! `tests/vectors/image-handler.json` — each URL taken from that project's 8.0.1 unit tests and
//! documented examples, or from Thumbor's URL grammar — read as the pixflow variant it names, or
//! the error; the CloudFront Function's tests check that it passes every one of them to the origin
//! unchanged. Then the forms served end to end: sizes, the bucket rule, the handler's signatures.

use crate::{get, state_with};
use hmac::{Hmac, Mac};
use pixflow::config::Config;
use pixflow::spec::{origin_form, parse_request, Hints, Signer};
use sha2::Sha256;

#[test]
fn every_handler_vector_reads_as_its_variant() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/image-handler.json");
    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(vectors.len() >= 90, "{} vectors", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let url = v["url"].as_str().unwrap();
        assert!(v["from"].is_string(), "{url}: every vector says where it comes from");
        let (p, q) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
        let got = match (origin_form(p, q, None, Hints::default(), 8192), parse_request(p, q, 8192)) {
            (Ok(form), Ok(parsed)) => {
                let bucket = parsed.handler.and_then(|h| h.bucket);
                serde_json::json!({ "origin": form, "bucket": bucket })
            }
            (Err(e), _) | (_, Err(e)) => {
                serde_json::json!({ "error": e.code, "message": format!("{}: {}", e.token, e.message) })
            }
        };
        let want = match &v["origin"] {
            serde_json::Value::String(o) => serde_json::json!({ "origin": o, "bucket": v["bucket"] }),
            _ => serde_json::json!({ "error": v["error"], "message": v["message"] }),
        };
        if got != want {
            failures.push(format!("{url}: got {got}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn b64(json: &str) -> String {
    use base64::Engine as _;
    format!("/{}", base64::engine::general_purpose::STANDARD.encode(json))
}

fn hex_hmac(secret: &[u8], text: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(text.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn thumbor_paths_and_base64_requests_are_served_at_their_size() {
    let s = state_with(Config::default());
    // quadrants.jpg is 200 × 100.
    for (url, size) in [
        ("/fit-in/100x100/quadrants.jpg", (100, 50)),
        ("/50x50/quadrants.jpg", (50, 50)),
        ("/unsafe/-80x40/filters:format(png)/quadrants.jpg", (80, 40)),
        ("/0x20/quadrants.jpg", (40, 20)),
        ("/0x0:100x100/25x25/quadrants.jpg", (25, 25)),
    ] {
        let got = get(&s, url).await;
        assert_eq!(got.status, 200, "{url}: {}", String::from_utf8_lossy(&got.body));
        let img = got.image();
        assert_eq!((img.width(), img.height()), size, "{url}");
    }
    let json = b64(
        r#"{"key":"quadrants.jpg","edits":{"resize":{"width":60,"height":60,"fit":"contain"},"toFormat":"webp"}}"#,
    );
    let got = get(&s, &json).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/webp"));
    assert_eq!((got.image().width(), got.image().height()), (60, 60));
    // The same variant by either road: one canonical form, one ETag.
    let same = get(&s, "/c_pad,f_webp,h_60,w_60/quadrants.jpg").await;
    assert_eq!(got.header("etag"), same.header("etag"));
    // Thumbor's negative width mirrors: the top-left quadrant's colour moves to the top right.
    let plain = get(&s, "/unsafe/80x40/filters:format(png)/quadrants.jpg").await.image().to_rgb8();
    let flipped = get(&s, "/unsafe/-80x40/filters:format(png)/quadrants.jpg").await.image().to_rgb8();
    assert_eq!(plain.get_pixel(5, 5), flipped.get_pixel(74, 5));
}

#[tokio::test]
async fn a_handler_url_naming_another_bucket_is_403_and_an_unsupported_edit_400() {
    let s = state_with(Config::default());
    let other = b64(r#"{"bucket":"someone-elses","key":"quadrants.jpg","edits":{"grayscale":true}}"#);
    let got = get(&s, &other).await;
    assert_eq!(got.status, 403);
    assert_eq!(got.json()["error"], "other_bucket");
    let got = get(&s, "/s3:someone-elses/100x100/quadrants.jpg").await;
    assert_eq!(got.status, 403);
    let got = get(&s, &b64(r#"{"key":"quadrants.jpg","edits":{"tint":{"r":1,"g":2,"b":3}}}"#)).await;
    assert_eq!(got.status, 400);
    assert_eq!(got.json()["error"], "not_supported");
    assert!(got.json()["message"].as_str().unwrap().contains("edits.tint"), "{:?}", got.json());
    // Not JSON after all: a key like any other (404 here, not a 400 or a 500).
    assert_eq!(get(&s, "/eyJub3QganNvbg").await.status, 404);
}

#[tokio::test]
async fn with_a_secret_the_handlers_own_signature_is_required() {
    let secret = b"0123456789abcdef-secret";
    let s = state_with(Config { signer: Some(Signer::new(&secret[..])), ..Config::default() });
    let path = "/fit-in/100x100/quadrants.jpg";
    assert_eq!(get(&s, path).await.status, 403, "unsigned");
    let good = hex_hmac(secret, path);
    let got = get(&s, &format!("{path}?signature={good}")).await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(get(&s, &format!("{path}?signature={}", hex_hmac(b"another secret", path))).await.status, 403);
    // The other query parameters are signed too, sorted, as the handler signs them.
    let with_v = hex_hmac(secret, &format!("{path}?a=1&v=2"));
    assert_eq!(get(&s, &format!("{path}?v=2&signature={with_v}&a=1")).await.status, 200);
    assert_eq!(get(&s, &format!("{path}?v=3&signature={with_v}&a=1")).await.status, 403);
    // A base64 request is signed over its path the same way.
    let json = b64(r#"{"key":"quadrants.jpg","edits":{"grayscale":true}}"#);
    let got = get(&s, &format!("{json}?signature={}", hex_hmac(secret, &json))).await;
    assert_eq!(got.status, 200);
    // pixflow's own s_ does not stand in for it.
    let spec = pixflow::spec::parse_options("c_fit,h_100,w_100", 8192).unwrap();
    let key = pixflow::spec::validate_key("quadrants.jpg").unwrap();
    let sig = pixflow::spec::sign(secret, &spec, &key);
    assert_eq!(get(&s, &format!("{path}?s={sig}")).await.status, 403);
}
