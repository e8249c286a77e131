//! Originals pixflow names but does not decode yet (issue 15's first part): AVIF, HEIC, JPEG XL,
//! ICO and SVG, each written by an independent encoder from PyPI in the test set-up
//! (`tests/support/foreign_fixtures.py`: Pillow's libavif, pillow-heif, pillow-jxl-plugin).
//! With no options they pass through untouched with their own Content-Type (SVG with DESIGN §2's
//! sandboxing CSP); `f_json` names them and gives the header's size; other options are a 415
//! naming the format; unknown bytes stay 415.

use crate::{get, state_over};
use pixflow::config::Config;
use std::sync::OnceLock;

/// The fixtures, and the sizes the encoder's own reader reports for them.
fn made() -> (&'static std::path::Path, &'static serde_json::Value) {
    static MADE: OnceLock<(tempfile::TempDir, serde_json::Value)> = OnceLock::new();
    let (dir, sizes) = MADE.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = root.join("target/tools/venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/setup (or scripts/test) first",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(python)
            .arg(root.join("tests/support/foreign_fixtures.py"))
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (dir, serde_json::from_slice(&out.stdout).unwrap())
    });
    (dir.path(), sizes)
}

const FORMATS: &[(&str, &str, &str)] = &[
    ("photo.avif", "avif", "image/avif"),
    ("alpha.avif", "avif", "image/avif"),
    ("photo.heic", "heic", "image/heic"),
    ("alpha.heic", "heic", "image/heic"),
    ("photo.jxl", "jxl", "image/jxl"),
    ("icon.ico", "ico", "image/vnd.microsoft.icon"),
    ("logo.svg", "svg", "image/svg+xml"),
];

#[tokio::test]
async fn named_originals_pass_through_untouched_with_their_own_type() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    for (file, _, mime) in FORMATS {
        let got = get(&s, &format!("/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        assert_eq!(got.header("content-type"), Some(*mime), "{file}");
        assert_eq!(got.body, std::fs::read(dir.join(file)).unwrap(), "{file}: untouched");
        let csp = got.header("content-security-policy");
        match *file {
            // A script in an SVG must never run in the CDN's origin.
            "logo.svg" => assert_eq!(csp, Some("sandbox; default-src 'none'; style-src 'unsafe-inline'")),
            _ => assert_eq!(csp, None, "{file}"),
        }
    }
    let unknown = get(&s, "/noise.bin").await;
    assert_eq!(unknown.status, 415, "unknown bytes stay 415");
}

#[tokio::test]
async fn f_json_names_the_format_and_gives_the_headers_size() {
    let (dir, sizes) = made();
    let s = state_over(dir, None, Config::default());
    for (file, name, _) in FORMATS {
        let got = get(&s, &format!("/f_json/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let json = got.json();
        assert_eq!(json["source"]["format"], *name, "{file}");
        assert_eq!(json["source"]["bytes"], std::fs::metadata(dir.join(file)).unwrap().len(), "{file}");
        // The size the independent encoder's own reader reports (none for SVG: a vector).
        match &sizes[file] {
            serde_json::Value::Array(wh) => {
                assert_eq!((&json["source"]["width"], &json["source"]["height"]), (&wh[0], &wh[1]), "{file}")
            }
            _ => assert!(json["source"].get("width").is_none(), "{file}: {json}"),
        }
        // Nothing is made from it yet, and f_json says so rather than describing an output.
        assert!(json.get("output").is_none(), "{file}: {json}");
        assert_eq!(json["source"]["transformable"], false, "{file}");
    }
}

#[tokio::test]
async fn options_on_a_named_original_are_a_415_that_names_the_format() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    for (file, name, _) in FORMATS {
        let got = get(&s, &format!("/w_20/{file}")).await;
        assert_eq!(got.status, 415, "{file}");
        let message = got.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains(&name.to_uppercase()) || message.contains(name), "{file}: {message}");
    }
}
