//! `POST /_/transform`, `f_json` metadata and the `/_/demo` page, in-process.

use crate::fixtures;
use crate::{get, request, state, state_with};
use base64::Engine as _;
use http::StatusCode;
use pixflow::config::Config;
use pixflow::spec::{parse_options, sign_path, Signer};

async fn post(
    state: &pixflow::AppState,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> crate::Got {
    let mut all = vec![("content-type", content_type)];
    all.extend_from_slice(headers);
    crate::request_with_body(state, "POST", uri, &all, body).await
}

fn posting() -> Config {
    Config { allow_post: true, ..Config::default() }
}

fn quadrants() -> Vec<u8> {
    std::fs::read(fixtures::dir().join("quadrants.png")).unwrap()
}

#[tokio::test]
async fn post_is_off_unless_enabled() {
    let got = post(&state(), "/_/transform/w_50", "image/png", quadrants(), &[]).await;
    assert_eq!(got.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_raw_image_comes_back_transformed() {
    let s = state_with(posting());
    let got = post(&s, "/_/transform/w_100,gray,q_80,f_jpeg", "image/png", quadrants(), &[]).await;
    assert_eq!(got.status, StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!(got.header("cache-control"), Some("no-store"));
    let img = got.image();
    assert_eq!((img.width(), img.height()), (100, 50));
    assert_eq!(img.color().channel_count(), 1);
    // Options in the query work too.
    let got = post(&s, "/_/transform?w=40&fit=cover&h=40", "image/png", quadrants(), &[]).await;
    assert_eq!((got.image().width(), got.image().height()), (40, 40));
}

#[tokio::test]
async fn json_in_json_out() {
    let s = state_with(posting());
    let body = serde_json::json!({
        "image": base64::engine::general_purpose::STANDARD.encode(quadrants()),
        "options": "w_200,h_200,c_fill,gray,q_80,f_webp",
    });
    let got = post(&s, "/_/transform", "application/json", body.to_string().into_bytes(), &[]).await;
    assert_eq!(got.status, StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    let v = got.json();
    assert_eq!(
        (v["contentType"].as_str(), v["width"].as_u64(), v["height"].as_u64()),
        (Some("image/webp"), Some(200), Some(200))
    );
    let bytes = base64::engine::general_purpose::STANDARD.decode(v["image"].as_str().unwrap()).unwrap();
    assert_eq!(v["bytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 200);
}

#[tokio::test]
async fn uploads_meet_the_same_limits_and_errors() {
    let s = state_with(Config { max_source_bytes: 1000, ..posting() });
    let big = std::fs::read(fixtures::dir().join("big.jpg")).unwrap();
    let got = post(&s, "/_/transform/w_50", "image/jpeg", big, &[]).await;
    assert_eq!(got.status, StatusCode::PAYLOAD_TOO_LARGE);
    let s = state_with(posting());
    assert_eq!(
        post(&s, "/_/transform/w_abc", "image/png", quadrants(), &[]).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&s, "/_/transform/w_50", "text/plain", b"hello".to_vec(), &[]).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post(&s, "/_/transform/w_50", "image/png", b"not a png".to_vec(), &[]).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let truncated = std::fs::read(fixtures::dir().join("cut-header.jpg")).unwrap();
    assert_eq!(
        post(&s, "/_/transform/w_50", "image/jpeg", truncated, &[]).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bad_json = post(&s, "/_/transform", "application/json", b"{\"image\": 5}".to_vec(), &[]).await;
    assert_eq!(
        (bad_json.status, bad_json.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_body"))
    );
    let bad_b64 = post(&s, "/_/transform", "application/json", b"{\"image\": \"@@@\"}".to_vec(), &[]).await;
    assert_eq!(bad_b64.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_api_key_or_a_signature_protects_uploads() {
    let key = "k-0123456789abcdef";
    let s = state_with(Config { post_api_key: Some(key.into()), ..posting() });
    assert_eq!(
        post(&s, "/_/transform/w_50", "image/png", quadrants(), &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong = post(&s, "/_/transform/w_50", "image/png", quadrants(), &[("x-api-key", "nope")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = post(&s, "/_/transform/w_50", "image/png", quadrants(), &[("x-api-key", key)]).await;
    assert_eq!(ok.status, StatusCode::OK);

    let secret = b"0123456789abcdef-secret";
    let s = state_with(Config { signer: Some(Signer::new(&secret[..])), ..posting() });
    assert_eq!(
        post(&s, "/_/transform/w_50", "image/png", quadrants(), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let sig = sign_path(secret, &parse_options("w_50", 8192).unwrap(), "_/transform");
    let ok = post(&s, &format!("/_/transform/w_50,s_{sig}"), "image/png", quadrants(), &[]).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn f_json_describes_source_and_result_from_the_header() {
    let s = state();
    let got = get(&s, "/w_100,h_100,c_fill,f_json/orient/6.jpg").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert!(got.header("etag").is_some());
    let v = got.json();
    // Stored 40×80, shown 80×40 after EXIF orientation 6.
    assert_eq!(
        v,
        serde_json::json!({
            "source": {"width": 40, "height": 80, "format": "jpeg", "transformable": true, "bytes": v["source"]["bytes"], "orientation": 6, "alpha": false, "bitDepth": 8, "frames": 1},
            "output": {"width": 100, "height": 100, "format": "jpeg", "frames": 1,
                       "region": {"x": 20, "y": 0, "width": 40, "height": 40}}
        })
    );
    assert!(v["source"]["bytes"].as_u64().unwrap() > 100);
    let alpha = get(&s, "/w_50,f_json/alpha.png").await.json();
    assert_eq!(
        (alpha["source"]["alpha"].as_bool(), alpha["output"]["format"].as_str()),
        (Some(true), Some("png"))
    );
    assert_eq!((alpha["output"]["width"].as_u64(), alpha["output"]["height"].as_u64()), (Some(50), Some(25)));
    let gif = get(&s, "/f_json/quadrants.gif").await.json();
    assert_eq!((gif["source"]["frames"].as_u64(), gif["output"]["format"].as_str()), (Some(1), Some("png")));
    // Over the pixel limit is still refused from the header.
    assert_eq!(get(&s, "/f_json/huge.png").await.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Cached like images: the second answer is a memory hit.
    assert_eq!(
        get(&s, "/w_100,h_100,c_fill,f_json/orient/6.jpg").await.header("server-timing"),
        Some("cache;desc=\"memory\"")
    );
}

#[tokio::test]
async fn an_animated_gif_counts_its_frames() {
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, RgbaImage};
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new(&mut bytes);
        for i in 0..3u8 {
            let frame = RgbaImage::from_pixel(8, 8, image::Rgba([i * 80, 0, 0, 255]));
            enc.encode_frame(Frame::from_parts(frame, 0, 0, Delay::from_numer_denom_ms(100, 1))).unwrap();
        }
    }
    std::fs::write(dir.path().join("anim.gif"), &bytes).unwrap();
    let s = crate::state_over(dir.path(), None, Config::default());
    let v = get(&s, "/f_json/anim.gif").await.json();
    assert_eq!(v["source"]["frames"], 3);
}

#[tokio::test]
async fn the_demo_page_lists_the_source_and_uses_pixflow_urls() {
    let got = get(&state(), "/_/demo").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
    let html = String::from_utf8(got.body).unwrap();
    assert!(html.contains(r#"src="/w_300,h_200,c_fill,f_auto/alpha.png""#), "{html}");
    assert!(html.contains("<picture>") && html.contains("sizes=") && html.contains("c_lpad"));
    let off = state_with(Config { demo: false, ..Config::default() });
    assert_eq!(request(&off, "GET", "/_/demo", &[]).await.status, StatusCode::NOT_FOUND);
}
