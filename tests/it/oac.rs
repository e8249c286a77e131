//! Behind CloudFront, uploads reach the Function URL signed by Origin Access Control (SigV4,
//! service `lambda`). CloudFront cannot hash a body it streams, so it signs with the payload hash
//! the client sends in `x-amz-content-sha256`, and Lambda checks the signature against the body it
//! receives. These tests sign an upload as OAC does and verify it as Lambda does, for the request
//! the README's curl example makes, and send that request through pixflow.

use crate::{fixtures, request_with_body};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http::StatusCode;
use pixflow::config::Config;
use sha2::{Digest, Sha256};
use std::time::{Duration, UNIX_EPOCH};

const URL: &str =
    "https://abcdefghijklmnopqrstuvwxyz0.lambda-url.eu-west-1.on.aws/_/originals/photos/cat.jpg";

/// The SigV4 signature of a PUT of `body` to the Function URL, over `payload` as the body's hash.
fn signature(headers: &[(&str, &str)], payload: SignableBody<'_>) -> String {
    let identity = aws_sdk_s3::config::Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("lambda")
        .time(UNIX_EPOCH + Duration::from_secs(1_796_000_000))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let request = SignableRequest::new("PUT", URL, headers.iter().copied(), payload).unwrap();
    sign(request, &params).unwrap().into_parts().1
}

/// What the README's `-H "x-amz-content-sha256: $(sha256sum FILE | cut -d' ' -f1)"` sends.
fn sha256sum(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum").arg(path).output().expect("sha256sum (coreutils)");
    String::from_utf8(out.stdout).unwrap().split(' ').next().unwrap().to_string()
}

#[test]
fn an_upload_verifies_only_when_the_client_sends_the_body_sha256() {
    let path = fixtures::dir().join("quadrants.jpg");
    let body = std::fs::read(&path).unwrap();
    let hash = sha256sum(&path);
    assert_eq!(hash, hex(&Sha256::digest(&body)));
    let headers = [("x-api-key", "0123456789abcdef-test-key"), ("x-amz-content-sha256", hash.as_str())];
    // Lambda's check: the signature over the body actually received.
    let received = signature(&headers, SignableBody::Bytes(&body));
    // OAC's signature over the client's header: equal, so the request is let in.
    assert_eq!(signature(&headers, SignableBody::Precomputed(hash.clone())), received);
    // Without the header CloudFront has no hash to sign; with another file's hash, or a body
    // changed on the way, the signatures differ and Lambda refuses the request.
    assert_ne!(signature(&headers[..1], SignableBody::UnsignedPayload), received);
    let other = hex(&Sha256::digest(b"another file"));
    assert_ne!(signature(&headers, SignableBody::Precomputed(other)), received);
    let mut changed = body.clone();
    changed[100] ^= 1;
    assert_ne!(signature(&headers, SignableBody::Bytes(&changed)), received);
}

#[tokio::test]
async fn pixflow_takes_the_signed_upload_as_cloudfront_forwards_it() {
    let path = fixtures::dir().join("quadrants.jpg");
    let body = std::fs::read(&path).unwrap();
    let hash = sha256sum(&path);
    let dir = tempfile::tempdir().unwrap();
    let key = "0123456789abcdef-test-key";
    let state =
        crate::state_over(dir.path(), None, Config { api_key: Some(key.into()), ..Config::default() });
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/eu-west-1/lambda/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={}",
        signature(&[("x-amz-content-sha256", hash.as_str())], SignableBody::Precomputed(hash.clone()))
    );
    let headers = [
        ("x-api-key", key),
        ("content-type", "image/jpeg"),
        ("x-amz-content-sha256", hash.as_str()),
        ("x-amz-date", "20261130T000000Z"),
        ("authorization", auth.as_str()),
    ];
    let got = request_with_body(&state, "PUT", "/_/originals/photos/cat.jpg", &headers, body.clone()).await;
    assert_eq!(got.status, StatusCode::CREATED);
    assert_eq!(std::fs::read(dir.path().join("photos/cat.jpg")).unwrap(), body);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
