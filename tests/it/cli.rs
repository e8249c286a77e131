//! The command line, as a user runs it: the built binary with flags and environment.

use crate::fixtures;
use crate::s3::moto;
use std::process::Command;

pub(crate) fn pixflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pixflow"));
    c.env_remove("AWS_LAMBDA_RUNTIME_API").env("RUST_LOG", "off");
    c
}

pub(crate) fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().expect("run pixflow");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

pub(crate) fn lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

fn originals() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("sub")).unwrap();
    std::fs::copy(fixtures::dir().join("quadrants.jpg"), d.path().join("a.jpg")).unwrap();
    std::fs::copy(fixtures::dir().join("alpha.png"), d.path().join("sub/b.png")).unwrap();
    d
}

#[test]
fn warm_renders_every_variant_of_every_key_into_the_folder_store() {
    let src = originals();
    let results = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) =
        run(pixflow().args(["warm", "--variant", "w_50", "--variant", "w_20,h_20,c_fill,f_webp"]).args([
            "--source".as_ref(),
            src.path().as_os_str(),
            "--result-store".as_ref(),
            results.path().as_os_str(),
        ]));
    assert!(ok, "{stderr}");
    let l = lines(&stdout);
    assert_eq!(l.len(), 5, "{stdout}");
    assert_eq!(l[4]["summary"], serde_json::json!({"keys": 2, "variants": 2, "ok": 4, "failed": 0}));
    for line in &l[..4] {
        assert_eq!(line["status"], 200);
        let dest = line["destinationKey"].as_str().unwrap();
        assert!(std::path::Path::new(dest).is_file(), "{dest}");
        assert!(line["bytes"].as_u64().unwrap() > 0);
    }
    assert!(results.path().join("sub/b.png/c_fill,f_webp,h_20,w_20.webp").is_file());

    let (ok, stdout, _) = run(pixflow().args(["purge", "sub/b.png", "--result-store"]).arg(results.path()));
    assert!(ok);
    assert_eq!(stdout.trim(), "/sub/b.png*");
    assert!(!results.path().join("sub/b.png/w_50").exists());
    assert!(results.path().join("a.jpg/w_50").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn warm_and_purge_work_against_s3() {
    let m = moto();
    let bucket = m.bucket().await;
    m.put(&bucket, "in/a.jpg", &std::fs::read(fixtures::dir().join("quadrants.jpg")).unwrap()).await;
    m.put(&bucket, "in/x/b.png", &std::fs::read(fixtures::dir().join("small.png")).unwrap()).await;
    let keys = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(keys.path(), "a.jpg\nx/b.png\n").unwrap();
    let with_s3 = |cmd: &mut Command| {
        cmd.env("AWS_ACCESS_KEY_ID", &m.access_key)
            .env("AWS_SECRET_ACCESS_KEY", &m.secret_key)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("PIXFLOW_S3_ENDPOINT", &m.endpoint)
            .env("PIXFLOW_SOURCE", format!("s3://{bucket}/in"))
            .env("PIXFLOW_RESULT_STORE", format!("s3://{bucket}/out"));
    };
    let mut warm = pixflow();
    warm.args(["warm", "--variant", "w_30"]).arg("--keys-file").arg(keys.path());
    with_s3(&mut warm);
    let (ok, stdout, stderr) = run(&mut warm);
    assert!(ok, "{stderr}");
    let l = lines(&stdout);
    assert_eq!(l.last().unwrap()["summary"]["ok"], 2, "{stdout}");
    let listed = m.client().list_objects_v2().bucket(&bucket).prefix("out/").send().await.unwrap();
    let mut stored: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    stored.sort();
    assert_eq!(stored, ["out/a.jpg/w_30", "out/x/b.png/w_30"]);

    let mut purge = pixflow();
    purge.args(["purge", "a.jpg"]);
    with_s3(&mut purge);
    let (ok, stdout, stderr) = run(&mut purge);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "/a.jpg*");
    let left = m.client().list_objects_v2().bucket(&bucket).prefix("out/").send().await.unwrap();
    assert_eq!(left.contents().iter().filter_map(|o| o.key()).collect::<Vec<_>>(), ["out/x/b.png/w_30"]);
}

#[test]
fn transform_writes_one_file_in_the_format_of_its_extension() {
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("thumb.webp");
    let (ok, stdout, stderr) = run(pixflow()
        .args(["transform"])
        .arg(fixtures::dir().join("quadrants.png"))
        .arg(&dest)
        .args(["--options", "w_64,h_64,c_fill"]));
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("image/webp 64x64"), "{stdout}");
    let img = image::open(&dest).unwrap();
    assert_eq!((img.width(), img.height()), (64, 64));
    let (ok, _, stderr) = run(pixflow().args(["transform", "a", "b.png", "--options", "w_abc"]));
    assert!(!ok && stderr.contains("w_abc"), "{stderr}");
}

#[test]
fn sign_prints_the_readme_vector() {
    let (ok, stdout, _) = run(pixflow().args([
        "sign",
        "/w_200,h_200,c_fill/photos/cat.jpg",
        "--secret",
        "correct horse battery staple",
    ]));
    assert!(ok);
    assert_eq!(stdout.trim(), "/c_fill,h_200,w_200,s_01As1bgsZLsTihEW/photos/cat.jpg");
}

#[test]
fn bad_settings_stop_the_start_naming_the_setting() {
    for (args, setting) in [
        (vec!["serve", "--max-source-mp", "0"], "--max-source-mp"),
        (vec!["serve", "--source", "/no/such/folder"], "--source"),
        (vec!["serve", "--source", "s3://Bad_Bucket"], "--source"),
        (vec!["serve", "--presets", "thumb=w_abc"], "--presets"),
        (vec!["serve", "--secret", "short"], "--secret"),
        (vec!["serve", "--listen", "nowhere"], "--listen"),
    ] {
        let (ok, _, stderr) = run(pixflow().args(&args));
        assert!(!ok, "{args:?} should fail");
        assert!(stderr.contains(setting), "{args:?}: {stderr}");
    }
}
