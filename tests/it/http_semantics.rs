//! Every row of DESIGN §3: statuses, headers, JSON errors, ETag/304, HEAD, Vary.

use crate::{get, request, state, state_with};
use http::StatusCode;
use pixflow::config::Config;
use pixflow::spec::Signer;

async fn error_of(state: &pixflow::AppState, uri: &str) -> (StatusCode, serde_json::Value, String) {
    let got = get(state, uri).await;
    assert_eq!(got.header("content-type"), Some("application/json"), "{uri}");
    let cache = got.header("cache-control").unwrap_or("").to_string();
    (got.status, got.json(), cache)
}

#[tokio::test]
async fn an_image_has_every_header() {
    let s = state();
    let got = get(&s, "/w_100/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!(got.header("content-length"), Some(got.body.len().to_string().as_str()));
    assert_eq!(got.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let etag = got.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"), "{etag}");
    assert_eq!(got.header("vary"), None);
    assert_eq!(got.image().width(), 100);
}

#[tokio::test]
async fn every_spelling_of_a_variant_has_one_etag() {
    let s = state();
    let a = get(&s, "/h_50,w_100/quadrants.jpg").await;
    let b = get(&s, "/w_100,h_50,c_limit/quadrants.jpg").await;
    let c = get(&s, "/quadrants.jpg?height=50&w=100").await;
    let d = get(&s, "/quadrants.jpg?o=w_100,h_50").await;
    assert_eq!(a.header("etag"), b.header("etag"));
    assert_eq!(a.header("etag"), c.header("etag"));
    assert_eq!(a.header("etag"), d.header("etag"));
    let other = get(&s, "/w_101/quadrants.jpg").await;
    assert_ne!(a.header("etag"), other.header("etag"));
}

#[tokio::test]
async fn if_none_match_gives_304_without_body() {
    let s = state();
    let first = get(&s, "/w_100/quadrants.jpg").await;
    let etag = first.header("etag").unwrap().to_string();
    let again = request(&s, "GET", "/w_100/quadrants.jpg", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let stale = request(&s, "GET", "/w_100/quadrants.jpg", &[("if-none-match", "\"other\"")]).await;
    assert_eq!(stale.status, StatusCode::OK);
    let original = get(&s, "/quadrants.png").await;
    let tag = original.header("etag").unwrap().to_string();
    let again = request(&s, "GET", "/quadrants.png", &[("if-none-match", &tag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn head_is_get_without_body() {
    let s = state();
    let g = get(&s, "/w_100/quadrants.jpg").await;
    let h = request(&s, "HEAD", "/w_100/quadrants.jpg", &[]).await;
    assert_eq!(h.status, StatusCode::OK);
    assert!(h.body.is_empty());
    for name in ["content-type", "content-length", "etag", "cache-control"] {
        assert_eq!(h.header(name), g.header(name), "{name}");
    }
    let missing = request(&s, "HEAD", "/w_100/nope.jpg", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn no_options_serves_the_original_bytes() {
    let s = state();
    let got = get(&s, "/quadrants.png").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), Some("image/png"));
    assert_eq!(got.body, std::fs::read(crate::fixtures::dir().join("quadrants.png")).unwrap());
    let folder = get(&s, "/-/w_200/a.png").await;
    assert_eq!(folder.status, StatusCode::OK);
    assert_eq!(folder.body, std::fs::read(crate::fixtures::dir().join("w_200/a.png")).unwrap());
}

#[tokio::test]
async fn f_auto_follows_accept_and_varies() {
    let s = state();
    let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    let avif = request(&s, "GET", "/w_50,f_auto/quadrants.jpg", &[("accept", chrome)]).await;
    assert_eq!(avif.header("content-type"), Some("image/avif"));
    assert_eq!(avif.header("vary"), Some("Accept"));
    let webp = request(&s, "GET", "/w_50,f_auto/quadrants.jpg", &[("accept", "image/webp,*/*")]).await;
    assert_eq!(webp.header("content-type"), Some("image/webp"));
    assert_ne!(avif.header("etag"), webp.header("etag"));
    let legacy = request(&s, "GET", "/w_50,f_auto/quadrants.jpg", &[("accept", "*/*")]).await;
    assert_eq!(legacy.header("content-type"), Some("image/jpeg"));
    let alpha = get(&s, "/w_50,f_auto/alpha.png").await;
    assert_eq!(alpha.header("content-type"), Some("image/png"));
    assert_eq!(alpha.header("vary"), Some("Accept"));
    let fixed = request(&s, "GET", "/w_50,f_webp/quadrants.jpg", &[("accept", chrome)]).await;
    assert_eq!(fixed.header("vary"), None);
}

/// f_auto's AVIF gives way to WebP above 3 MP of output (transform/format.rs
/// `AUTO_AVIF_MAX_PIXELS`: libaom's time per pixel), decided by the output's size alone.
#[tokio::test]
async fn f_auto_answers_large_outputs_with_webp() {
    let s = state();
    let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    // odd.jpg is 2572×1740: 2400 px wide is 3.9 MP, 1000 px wide 0.68 MP.
    let large = request(&s, "GET", "/w_2400,f_auto/odd.jpg", &[("accept", chrome)]).await;
    assert_eq!(large.status, StatusCode::OK, "{}", String::from_utf8_lossy(&large.body));
    assert_eq!(large.header("content-type"), Some("image/webp"));
    assert_eq!(large.header("vary"), Some("Accept"));
    let img = image::load_from_memory(&large.body).unwrap();
    assert_eq!((img.width(), img.height()), (2400, 1624));
    let small = request(&s, "GET", "/w_1000,f_auto/odd.jpg", &[("accept", chrome)]).await;
    assert_eq!(small.header("content-type"), Some("image/avif"));
    // Asked for by name, AVIF is served at any size.
    let named = request(&s, "GET", "/w_2400,f_avif/odd.jpg", &[("accept", chrome)]).await;
    assert_eq!(named.header("content-type"), Some("image/avif"));
}

#[tokio::test]
async fn bad_options_are_400_naming_the_token() {
    let s = state();
    for (uri, token) in [
        ("/w_abc/quadrants.jpg", "w_abc"),
        ("/q_0/quadrants.jpg", "q_0"),
        ("/w_99999/quadrants.jpg", "w_99999"),
        ("/w_10,w_20/quadrants.jpg", "w_20"),
        ("/q_auto:great/quadrants.jpg", "q_auto:great"),
        ("/w_10/..%2fquadrants.jpg", "../quadrants.jpg"),
        ("/x_5/quadrants.jpg", "x_"),
    ] {
        let (status, body, cache) = error_of(&s, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body["message"].as_str().unwrap().contains(token), "{uri}: {body}");
        assert!(body["error"].is_string());
        assert_eq!(cache, "public, max-age=60");
    }
}

#[tokio::test]
async fn output_over_the_side_limit_is_400() {
    let s = state();
    let (status, body, _) = error_of(&s, "/w_8000,dpr_2/quadrants.jpg").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "bad_geometry");
    let (status, _, _) = error_of(&s, "/a_90,w_8000,c_fit/orient/6.jpg").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn signatures_are_403_when_missing_wrong_or_expired() {
    let secret = b"0123456789abcdef-secret";
    let config = Config { signer: Some(Signer::new(&secret[..])), ..Config::default() };
    let s = state_with(config);
    let (status, body, _) = error_of(&s, "/w_50/quadrants.jpg").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("signature_missing")));
    let (status, body, _) = error_of(&s, "/w_50,s_AAAAAAAAAAAAAAAA/quadrants.jpg").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("signature_invalid")));
    let spec = pixflow::spec::parse_options("w_50", 8192).unwrap();
    let key = pixflow::spec::validate_key("quadrants.jpg").unwrap();
    let sig = pixflow::spec::sign(secret, &spec, &key);
    assert_eq!(get(&s, &format!("/w_50,s_{sig}/quadrants.jpg")).await.status, StatusCode::OK);
    assert_eq!(get(&s, &format!("/quadrants.jpg?w=50&s={sig}")).await.status, StatusCode::OK);
    let mut old = spec.clone();
    old.expires = Some(1000);
    let sig = pixflow::spec::sign(secret, &old, &key);
    let (status, body, _) = error_of(&s, &format!("/w_50,exp_1000,s_{sig}/quadrants.jpg")).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("expired")));
    // The original needs no signature.
    assert_eq!(get(&s, "/quadrants.jpg").await.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_key_is_404() {
    let s = state();
    let (status, body, cache) = error_of(&s, "/w_50/nope.jpg").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    assert_eq!(cache, "public, max-age=60");
    assert_eq!(get(&s, "/nope.jpg").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&s, "/_/nope").await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&s, "/_/health").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sources_over_limits_are_413() {
    let config = Config { max_source_bytes: 1000, ..Config::default() };
    let s = state_with(config);
    let (status, body, _) = error_of(&s, "/w_50/big.jpg").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("source_too_large")));
    let s = state();
    let (status, body, _) = error_of(&s, "/w_50/huge.png").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
    assert!(body["message"].as_str().unwrap().contains("20000x20000"), "{body}");
    let mut config = Config::default();
    config.limits.max_output_bytes = 100;
    let s = state_with(config);
    let (status, _, _) = error_of(&s, "/w_500,f_png/quadrants.jpg").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn not_an_image_is_415_and_corrupt_is_422() {
    let s = state();
    let (status, body, _) = error_of(&s, "/w_50/text.jpg").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_image"))
    );
    assert_eq!(get(&s, "/text.jpg").await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(get(&s, "/w_50/empty.jpg").await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, body, _) = error_of(&s, "/w_50/cut-header.jpg").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("corrupt_image")));
    // A JPEG whose data ends early decodes as far as it goes, as browsers show it.
    assert_eq!(get(&s, "/w_50/truncated.jpg").await.status, StatusCode::OK);
}

#[tokio::test]
async fn only_get_and_head_are_allowed() {
    let s = state();
    let got = request(&s, "POST", "/w_50/quadrants.jpg", &[]).await;
    assert_eq!(got.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(got.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn server_timing_tells_a_render_from_a_memory_hit() {
    let s = state();
    let first = get(&s, "/w_70/quadrants.jpg").await;
    let timing = first.header("server-timing").unwrap();
    for stage in ["fetch;dur=", "decode;dur=", "transform;dur=", "encode;dur=", "store;dur="] {
        assert!(timing.contains(stage), "{timing}");
    }
    let again = get(&s, "/w_70/quadrants.jpg").await;
    assert_eq!(again.header("server-timing"), Some("cache;desc=\"memory\""));
}

#[tokio::test]
async fn presets_only_mode_serves_presets_and_refuses_the_rest() {
    let presets = pixflow::spec::Presets::parse("thumb=w_40,h_40,c_fill", 8192).unwrap();
    let s = state_with(Config { presets_only: true, presets, ..Config::default() });
    let got = get(&s, "/t_thumb/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!((got.image().width(), got.image().height()), (40, 40));
    let refused = get(&s, "/w_40/quadrants.jpg").await;
    assert_eq!(
        (refused.status, refused.json()["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("presets_only"))
    );
    assert_eq!(get(&s, "/t_thumb,w_10/quadrants.jpg").await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&s, "/quadrants.jpg").await.status, StatusCode::OK, "originals stay reachable");
}

#[tokio::test]
async fn unsigned_presets_pass_when_allowed_and_nothing_else_does() {
    let presets = pixflow::spec::Presets::parse("thumb=w_40,h_40,c_fill", 8192).unwrap();
    let signer = Some(Signer::new(&b"0123456789abcdef-secret"[..]));
    let s = state_with(Config { allow_unsigned_presets: true, presets, signer, ..Config::default() });
    assert_eq!(get(&s, "/t_thumb/quadrants.jpg").await.status, StatusCode::OK);
    assert_eq!(get(&s, "/t_thumb,w_10/quadrants.jpg").await.status, StatusCode::FORBIDDEN);
    assert_eq!(get(&s, "/w_10/quadrants.jpg").await.status, StatusCode::FORBIDDEN);
}
