//! Faults between pixflow and a real S3 server (moto), through a proxy the test controls: the
//! server answering 500/503 (bounded retries, then 502), stalling (504), gone (502); nothing from a
//! failure is cached and the first request after recovery succeeds.

use crate::fixtures;
use crate::s3::{client, moto};
use http::StatusCode;
use pixflow::aws::{S3Location, S3Source};
use pixflow::cache::NoStore;
use pixflow::config::Config;
use pixflow::AppState;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASS: u8 = 0;
const ERROR_500: u8 = 1;
const ERROR_503: u8 = 2;
const STALL: u8 = 3;
const HANG_UP: u8 = 4;

/// A TCP proxy to moto whose behaviour the test switches; counts connections made in fault modes.
struct FaultProxy {
    addr: std::net::SocketAddr,
    mode: Arc<AtomicU8>,
    faulted: Arc<AtomicUsize>,
}

impl FaultProxy {
    async fn start(upstream: String) -> FaultProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, faulted) = (Arc::new(AtomicU8::new(PASS)), Arc::new(AtomicUsize::new(0)));
        let (m, f) = (mode.clone(), faulted.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut sock, _)) = listener.accept().await {
                let mode = m.load(Ordering::SeqCst);
                if mode != PASS {
                    f.fetch_add(1, Ordering::SeqCst);
                }
                match mode {
                    PASS => {
                        let upstream = upstream.clone();
                        tokio::spawn(async move {
                            if let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await {
                                let _ = tokio::io::copy_bidirectional(&mut sock, &mut up).await;
                            }
                        });
                    }
                    ERROR_500 | ERROR_503 => {
                        tokio::spawn(async move {
                            read_head(&mut sock).await;
                            let (status, code) = if mode == ERROR_500 {
                                ("500 Internal Server Error", "InternalError")
                            } else {
                                ("503 Slow Down", "SlowDown")
                            };
                            let body = format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>injected</Message></Error>");
                            let resp = format!(
                                "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = sock.write_all(resp.as_bytes()).await;
                        });
                    }
                    STALL => held.push(sock),
                    _ => drop(sock),
                }
            }
        });
        FaultProxy { addr, mode, faulted }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
        self.faulted.store(0, Ordering::SeqCst);
    }
}

async fn read_head(sock: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn setup(timeout: Duration) -> (FaultProxy, AppState) {
    let m = moto();
    let bucket = m.bucket().await;
    m.put(&bucket, "a.jpg", &std::fs::read(fixtures::dir().join("quadrants.jpg")).unwrap()).await;
    let upstream = m.endpoint.trim_start_matches("http://").to_string();
    let proxy = FaultProxy::start(upstream).await;
    let c = client(&format!("http://{}", proxy.addr), &m.access_key, &m.secret_key, timeout);
    let source = S3Source::new(c, S3Location::parse(&format!("s3://{bucket}")).unwrap());
    let state = AppState::new(Config::default(), Arc::new(source), Arc::new(NoStore));
    (proxy, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_a_bounded_number_of_times_then_502() {
    let (proxy, s) = setup(Duration::from_secs(20)).await;
    for mode in [ERROR_500, ERROR_503] {
        proxy.set(mode);
        let got = crate::get(&s, "/w_40/a.jpg").await;
        assert_eq!(got.status, StatusCode::BAD_GATEWAY, "mode {mode}");
        assert_eq!(got.header("cache-control"), Some("no-store"));
        assert_eq!(proxy.faulted.load(Ordering::SeqCst), 3, "three attempts, no more (mode {mode})");
    }
    proxy.set(PASS);
    let got = crate::get(&s, "/w_40/a.jpg").await;
    assert_eq!(got.status, StatusCode::OK, "the first request after recovery succeeds");
    assert_eq!(got.image().width(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_is_504_within_the_timeout_and_not_cached() {
    let (proxy, s) = setup(Duration::from_millis(800)).await;
    assert_eq!(crate::get(&s, "/w_30/a.jpg").await.status, StatusCode::OK);
    proxy.set(STALL);
    let started = std::time::Instant::now();
    assert_eq!(crate::get(&s, "/w_31/a.jpg").await.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the S3 timeout: {:?}", started.elapsed());
    proxy.set(PASS);
    let got = crate::get(&s, "/w_31/a.jpg").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.image().width(), 31);
    assert_eq!(s.stats.transforms(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_up_is_502_after_bounded_retries_and_not_cached() {
    let (proxy, s) = setup(Duration::from_secs(20)).await;
    proxy.set(HANG_UP);
    assert_eq!(crate::get(&s, "/w_32/a.jpg").await.status, StatusCode::BAD_GATEWAY);
    let attempts = proxy.faulted.load(Ordering::SeqCst);
    assert!((1..=3).contains(&attempts), "{attempts} attempts");
    proxy.set(PASS);
    assert_eq!(crate::get(&s, "/w_32/a.jpg").await.status, StatusCode::OK);
}
