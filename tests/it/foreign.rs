//! Originals in the formats issue 15 adds: AVIF, HEIC, JPEG XL, ICO and SVG, each written by an
//! independent encoder from PyPI in the test set-up (`tests/support/foreign_fixtures.py`:
//! Pillow's libavif, pillow-heif, pillow-jxl-plugin). With no options every one passes through
//! untouched with its own Content-Type (SVG with DESIGN §2's sandboxing CSP). Those pixflow only
//! names (ICO): `f_json` names them and gives the header's size, other options are a 415
//! naming the format. AVIF, HEIC, JPEG XL and SVG are decoded (`avif.rs`, `heic.rs`, `jxl.rs`,
//! `svg.rs`). Unknown bytes stay 415.

use crate::{get, state_over};
use pixflow::config::Config;
use std::sync::OnceLock;

/// The fixtures, and the sizes the encoder's own reader reports for them.
pub(crate) fn made() -> (&'static std::path::Path, &'static serde_json::Value) {
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

/// (file, format, Content-Type, decoded by pixflow).
const FORMATS: &[(&str, &str, &str, bool)] = &[
    ("photo.avif", "avif", "image/avif", true),
    ("alpha.avif", "avif", "image/avif", true),
    ("photo.heic", "heic", "image/heic", true),
    ("alpha.heic", "heic", "image/heic", true),
    ("photo.jxl", "jxl", "image/jxl", true),
    ("icon.ico", "ico", "image/vnd.microsoft.icon", false),
    ("logo.svg", "svg", "image/svg+xml", true),
];

#[tokio::test]
async fn named_originals_pass_through_untouched_with_their_own_type() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    for (file, _, mime, _) in FORMATS {
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
    for (file, name, _, decoded) in FORMATS {
        let got = get(&s, &format!("/f_json/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let json = got.json();
        assert_eq!(json["source"]["format"], *name, "{file}");
        assert_eq!(json["source"]["bytes"], std::fs::metadata(dir.join(file)).unwrap().len(), "{file}");
        // The size the independent encoder's own reader reports (SVG: its width and height).
        match &sizes[file] {
            serde_json::Value::Array(wh) => {
                assert_eq!((&json["source"]["width"], &json["source"]["height"]), (&wh[0], &wh[1]), "{file}")
            }
            _ => assert_eq!((&json["source"]["width"], &json["source"]["height"]), (&40.into(), &20.into())),
        }
        assert_eq!(json["source"]["transformable"], *decoded, "{file}");
        // Nothing is made from a named original, and f_json says so rather than describing one.
        assert_eq!(json.get("output").is_some(), *decoded, "{file}: {json}");
    }
}

#[tokio::test]
async fn options_on_a_named_original_are_a_415_that_names_the_format() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    for (file, name, _, _) in FORMATS.iter().filter(|f| !f.3) {
        let got = get(&s, &format!("/w_20/{file}")).await;
        assert_eq!(got.status, 415, "{file}");
        let message = got.json()["message"].as_str().unwrap().to_string();
        assert!(message.contains(&name.to_uppercase()) || message.contains(name), "{file}: {message}");
    }
}
