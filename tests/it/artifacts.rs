//! The shipped artifacts, run: the `bootstrap` binaries that `scripts/build-lambda` makes (arm64
//! under qemu user-mode emulation, x86_64 natively) behind cargo-lambda's runtime emulator,
//! answering the Lambda smoke set alike. Run by `scripts/test-lambda-artifacts`, which builds them
//! and names them in `PIXFLOW_ARTIFACT_ARM64` and `PIXFLOW_ARTIFACT_X86_64`; skipped (with a
//! message) when they are not set.

use crate::fixtures;
use crate::lambda::{emulator, Emulator};
use crate::s3::moto;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `bootstrap` behind a fresh emulator, with `env` for the function.
fn run(bootstrap: &Path, arm64: bool, env: &[(&str, String)]) -> Emulator {
    let mut function = if arm64 {
        // User-mode emulation with Debian's arm64 glibc as the root for the dynamic loader.
        let mut c = Command::new("qemu-aarch64-static");
        c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(bootstrap);
        // The sandbox's child (SVG, HEIC) is the same arm64 binary: it starts under qemu too.
        c.env("PIXFLOW_SANDBOX_LAUNCHER", "qemu-aarch64-static -L /usr/aarch64-linux-gnu");
        c
    } else {
        Command::new(bootstrap)
    };
    function.env("RUST_LOG", "off");
    for (k, v) in env {
        function.env(k, v);
    }
    let mut emu = emulator();
    emu.serve(function, 1769);
    emu
}

/// One answer: status, content type, ETag, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    etag: Option<String>,
    body: Vec<u8>,
}

fn fetch(r: &Emulator, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = ureq::get(&format!("http://127.0.0.1:{}/lambda-url/_{path}", r.port))
        .timeout(Duration::from_secs(300));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match req.call() {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("{path}: {e}"),
    };
    let (status, content_type) = (resp.status(), resp.content_type().to_string());
    let etag = resp.header("etag").map(str::to_string);
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    Answer { status, content_type, etag, body }
}

/// The folder the smoke set reads: the fixtures, a progressive JPEG, and a result over 6 MB.
fn smoke_folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for name in ["big.jpg", "alpha.png", "cut-header.jpg", "quadrants.jpg"] {
        std::fs::copy(fixtures::dir().join(name), d.path().join(name)).unwrap();
    }
    let progressive =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progressive/h2v1-restarts.jpg");
    std::fs::copy(progressive, d.path().join("progressive.jpg")).unwrap();
    // A 10-bit AVIF original from libavif (avifenc, scripts/setup): rav1d's assembly decodes it on
    // x86_64, its Rust code on arm64; both must give the same picture.
    let made = std::process::Command::new("avifenc")
        .args(["-s", "8", "-d", "10"])
        .arg(fixtures::dir().join("big.jpg"))
        .arg(d.path().join("big.avif"))
        .output()
        .expect("avifenc (scripts/setup installs libavif-bin)");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // A HEIC original as phones write one (a 2×2 grid of x265 tiles through pillow-heif, wrapped
    // by tests/support/heif_writer.py): libde265, cross-built with zig for arm64, decodes it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let made = std::process::Command::new(root.join("target/tools/venv/bin/python"))
        .arg("-c")
        .arg(
            "import sys; sys.path.insert(0, sys.argv[3]); import heif_writer, pillow_heif\n\
             from PIL import Image; pillow_heif.register_heif_opener()\n\
             im = Image.open(sys.argv[1]).convert('RGB').resize((256, 256)); tiles = []\n\
             for i in range(4):\n\
             \x20   im.crop((i % 2 * 128, i // 2 * 128, i % 2 * 128 + 128, i // 2 * 128 + 128)).save(sys.argv[2] + '.t.heic')\n\
             \x20   tiles.append(heif_writer.hevc_parts(sys.argv[2] + '.t.heic'))\n\
             heif_writer.write(sys.argv[2], tiles, grid=(2, 2, 250, 240), primary_props=[(b'irot', b'\\x01')])",
        )
        .arg(fixtures::dir().join("big.jpg"))
        .arg(d.path().join("grid.heic"))
        .arg(root.join("tests/support"))
        .output()
        .expect("scripts/setup installs the venv");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    std::fs::remove_file(d.path().join("grid.heic.t.heic")).unwrap();
    let noise = fixtures::noise(1800, 1400, 0x2545_f491);
    noise.save(d.path().join("noise.png")).unwrap();
    d
}

const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";

/// The smoke set against one running artifact.
fn smoke(r: &Emulator) -> Vec<(String, Answer)> {
    let mut out = Vec::new();
    for (path, accept) in [
        ("/w_200/big.jpg", ""),
        ("/w_200,f_webp/big.jpg", ""),
        ("/w_200,f_avif/big.jpg", ""),
        ("/w_200,f_auto/big.jpg", CHROME),
        ("/w_50,f_png/alpha.png", ""),
        ("/w_26/progressive.jpg", ""),
        ("/w_200,f_png/big.avif", ""),
        ("/w_120,f_png/grid.heic", ""),
        ("/w_100/missing.jpg", ""),
        ("/w_50/cut-header.jpg", ""),
        ("/w_1800,f_png/noise.png", ""),
    ] {
        let headers: Vec<(&str, &str)> = if accept.is_empty() { vec![] } else { vec![("accept", accept)] };
        out.push((format!("{path} [{accept}]"), fetch(r, path, &headers)));
    }
    let first = fetch(r, "/w_100/quadrants.jpg", &[]);
    let etag = first.etag.clone().expect("an ETag");
    out.push(("304".into(), fetch(r, "/w_100/quadrants.jpg", &[("if-none-match", &etag)])));
    out
}

fn mean_difference(a: &[u8], b: &[u8]) -> f64 {
    let (a, b) =
        (image::load_from_memory(a).unwrap().to_rgba8(), image::load_from_memory(b).unwrap().to_rgba8());
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    sum as f64 / a.as_raw().len() as f64
}

fn artifact(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from)
}

#[test]
fn the_arm64_and_x86_64_artifacts_answer_the_smoke_set_alike() {
    let (Some(arm64), Some(x86)) = (artifact("PIXFLOW_ARTIFACT_ARM64"), artifact("PIXFLOW_ARTIFACT_X86_64"))
    else {
        eprintln!("skipped: scripts/test-lambda-artifacts builds the artifacts and runs this");
        return;
    };
    let folder = smoke_folder();
    let env = [("PIXFLOW_SOURCE", folder.path().display().to_string())];
    let native = smoke(&run(&x86, false, &env));
    let emulated = smoke(&run(&arm64, true, &env));
    for ((name, a), (_, b)) in native.iter().zip(&emulated) {
        assert_eq!((a.status, &a.content_type), (b.status, &b.content_type), "{name}");
        if a.status == 200 && a.content_type.starts_with("image/") && a.content_type != "image/avif" {
            let d = mean_difference(&a.body, &b.body);
            assert!(d <= 1.0, "{name}: mean difference {d:.2} levels");
        }
        if a.content_type == "image/avif" {
            // The image crate here reads no AVIF: the sizes must be close (libaom's x86-64 and
            // NEON code paths).
            let ratio = a.body.len() as f64 / b.body.len() as f64;
            assert!((0.8..1.25).contains(&ratio), "{name}: {} vs {} bytes", a.body.len(), b.body.len());
        }
        eprintln!("{name}: {} {} {} / {} bytes", a.status, a.content_type, a.body.len(), b.body.len());
    }
    let statuses: Vec<u16> = emulated.iter().map(|(_, a)| a.status).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 404, 422, 200, 304], "the arm64 answers");
    assert_eq!(emulated[3].1.content_type, "image/avif", "f_auto for Chrome");
    // The HEIC grid (250×240, turned a quarter by irot: 240×250) at 120 px wide: 120×125.
    let heic = image::load_from_memory(&emulated[7].1.body).unwrap();
    assert_eq!((heic.width(), heic.height()), (120, 125), "the HEIC grid, turned");
    let big = &emulated[10].1.body;
    assert!(big.len() > 6 << 20, "a streamed result over 6 MB: {} bytes", big.len());
    assert_eq!(big, &native[10].1.body, "byte-complete and identical (lossless PNG)");
    // An S3 source on moto, through the emulated binary.
    let m = moto();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let bucket = rt.block_on(m.bucket());
    rt.block_on(m.put(&bucket, "in/q.jpg", &std::fs::read(fixtures::dir().join("quadrants.jpg")).unwrap()));
    let s3_env = [
        ("PIXFLOW_SOURCE", format!("s3://{bucket}/in/")),
        ("PIXFLOW_S3_ENDPOINT", m.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", m.access_key.clone()),
        ("AWS_SECRET_ACCESS_KEY", m.secret_key.clone()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    let from_s3 = fetch(&run(&arm64, true, &s3_env), "/w_40/q.jpg", &[]);
    assert_eq!((from_s3.status, from_s3.content_type.as_str()), (200, "image/jpeg"));
    assert_eq!(image::load_from_memory(&from_s3.body).unwrap().width(), 40);
}
