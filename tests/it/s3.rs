//! A real S3-compatible server (moto, with signatures enforced) on loopback, started per test
//! binary by `tests/support/moto_up.py` from the venv `scripts/setup` makes.

use aws_sdk_s3::config::{Credentials, Region};
use pixflow::aws::{s3_client_from, S3Settings};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// The running server and the credentials of its test user.
pub struct Moto {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    /// A CloudFront distribution for invalidation tests.
    pub distribution_id: String,
    _child: std::sync::Mutex<Child>,
}

/// The venv python that has moto; `scripts/setup` creates it.
fn python() -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup (or scripts/test) first", p.display());
    p
}

/// The shared server, started on first use; it exits when this test process does.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_up.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("moto's ready line");
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("moto said {line:?}: {e}"));
        Moto {
            endpoint: v["endpoint"].as_str().unwrap().to_string(),
            access_key: v["access_key"].as_str().unwrap().to_string(),
            secret_key: v["secret_key"].as_str().unwrap().to_string(),
            distribution_id: v["distribution_id"].as_str().unwrap().to_string(),
            _child: std::sync::Mutex::new(child),
        }
    })
}

/// A client for `endpoint` with the given secret (a wrong one tests signature checking).
pub fn client(endpoint: &str, access_key: &str, secret: &str, timeout: Duration) -> aws_sdk_s3::Client {
    s3_client_from(&shared(access_key, secret), &S3Settings { endpoint: Some(endpoint.to_string()), timeout })
}

/// An SDK configuration with these credentials.
pub fn shared(access_key: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(Credentials::new(
            access_key, secret, None, None, "test",
        )))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

impl Moto {
    /// The invalidator pixflow would build with `--cloudfront-distribution-id`.
    pub fn invalidator(&self) -> pixflow::aws::Invalidator {
        let shared = shared(&self.access_key, &self.secret_key);
        pixflow::aws::Invalidator::from_shared(
            &shared,
            &self.distribution_id,
            Some(&self.endpoint),
            Duration::from_secs(10),
        )
    }

    /// The paths of every invalidation of the test distribution so far, from moto's own state
    /// (`/moto-api/data.json`): moto 5.2.5 refuses the signatures of CloudFront's GET calls
    /// (boto3's too), so `ListInvalidations` cannot be used against it. moto serialises its whole
    /// state for that page and, while another test's request changes that state, answers 500 now
    /// and then (seen once in a full run): such an answer is asked again, a few times.
    pub async fn invalidated_paths(&self) -> Vec<String> {
        let url = format!("{}/moto-api/data.json", self.endpoint);
        let data: serde_json::Value = tokio::task::spawn_blocking(move || {
            let mut attempt = 0;
            let text = loop {
                match ureq::get(&url).call() {
                    Ok(answer) => break answer.into_string().unwrap(),
                    Err(ureq::Error::Status(500, _)) if attempt < 5 => {
                        attempt += 1;
                        std::thread::sleep(std::time::Duration::from_millis(200));
                    }
                    Err(e) => panic!("moto's state: {e}"),
                }
            };
            serde_json::from_str(&text).unwrap()
        })
        .await
        .unwrap();
        let mine = format!("/distribution/{}/", self.distribution_id);
        data["cloudfront"]["Invalidation"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|i| i["location"].as_str().is_some_and(|l| l.contains(&mine)))
            .flat_map(|i| i["paths"].as_array().cloned().unwrap_or_default())
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect()
    }

    pub fn client(&self) -> aws_sdk_s3::Client {
        client(&self.endpoint, &self.access_key, &self.secret_key, Duration::from_secs(10))
    }

    /// A fresh bucket with a unique name.
    pub async fn bucket(&self) -> String {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "pixflow-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.client().create_bucket().bucket(&name).send().await.expect("create bucket");
        name
    }

    pub async fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        self.client()
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(bytes.to_vec().into())
            .send()
            .await
            .expect("put object");
    }
}
