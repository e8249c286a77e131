//! Hardening, round 3 (issue 32), against the real binary on real sockets: SVG and HEIC are drawn
//! and decoded in a sandboxed child process, so the probe's files — a pattern that asks for a
//! 4 TB pixmap, chains of masks and `feImage`s, a morphology filter that would run for minutes —
//! cost one request a 4xx or a 504, never the process; the child is gone within a second of the
//! answer; `/_/health` answers while every slot is busy with them; and request bodies that
//! trickle in are cut off without starving transforms.

use crate::server_limits::{cpu_time, get, peak_rss_mb, serve, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const NS: &str = r#"xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink""#;

/// The probe's 318-byte shape: a pattern scaled a millionfold, whose tile resvg allocates whole.
fn pattern_bomb() -> String {
    format!(
        r#"<svg {NS} width="10" height="10"><defs><pattern id="p" width="1" height="1" patternUnits="userSpaceOnUse" patternTransform="scale(1000000)"><rect width="1" height="1"/></pattern></defs><rect width="10" height="10" fill="url(#p)"/></svg>"#
    )
}

/// `n` masks, each masking the content of the one before: every level is a canvas-sized layer.
fn mask_chain(n: usize) -> String {
    let mut defs = String::new();
    for i in 0..n {
        let inner = if i + 1 < n { format!(r#" mask="url(#m{})""#, i + 1) } else { String::new() };
        defs.push_str(&format!(
            r#"<mask id="m{i}"><rect width="10" height="10" fill="white"{inner}/></mask>"#
        ));
    }
    format!(
        r#"<svg {NS} viewBox="0 0 10 10"><defs>{defs}</defs><rect width="10" height="10" mask="url(#m0)"/></svg>"#
    )
}

/// `n` nested `feImage` levels: each filter draws an element that is itself filtered.
fn fe_image_chain(n: usize) -> String {
    let mut body = String::new();
    for i in 0..n {
        let content = if i + 1 < n {
            format!(
                r##"<feImage href="#e{}" width="10" height="10"/><feImage href="#e{}" x="1"/>"##,
                i + 1,
                i + 1
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            r#"<filter id="f{i}" x="0" y="0" width="10" height="10" filterUnits="userSpaceOnUse">{content}</filter><g id="e{i}" filter="url(#f{i})"><rect width="10" height="10" fill="red"/></g>"#
        ));
    }
    format!(r#"<svg {NS} viewBox="0 0 10 10"><defs>{body}</defs><use href="/#e0"/></svg>"#)
        .replace("/#e0", "#e0")
}

/// The probe's 273-byte runaway: a morphology radius of half the drawing, O(W·H·(2r+1)²).
fn morphology() -> String {
    format!(
        r#"<svg {NS} viewBox="0 0 10 10" width="10" height="10"><filter id="f"><feMorphology operator="dilate" radius="5"/></filter><rect width="10" height="10" filter="url(#f)"/></svg>"#
    )
}

/// The pids of `pid`'s child processes.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        let fields: Vec<&str> =
            stat.rsplit_once(')').map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            found.push(child);
        }
    }
    found
}

fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

/// A server over `dir` with a 512 MB budget and a `deadline`-second transform deadline.
fn server(dir: &tempfile::TempDir, deadline: &str, slots: &str) -> Server {
    let source = dir.path().display().to_string();
    serve(&[
        "--source",
        &source,
        "--max-memory-mb",
        "512",
        "--transform-timeout-secs",
        deadline,
        "--max-transforms",
        slots,
        "--memory-cache-mb",
        "0",
        "--allow-post",
    ])
}

/// Bug: a 318-byte SVG aborted the process (SIGABRT: tiny-skia could not allocate the pattern's
/// 4 TB tile). Now the child that draws it dies instead, the request is a 4xx and the server
/// serves on — on GET, on POST and on an upload's proof render alike.
#[test]
fn an_svg_that_asks_for_terabytes_costs_one_request_not_the_process() {
    let dir = folder(&[
        ("bomb.svg", pattern_bomb().as_bytes()),
        (
            "ok.svg",
            format!("<svg {NS} width=\"8\" height=\"8\"><rect width=\"8\" height=\"8\"/></svg>").as_bytes(),
        ),
    ]);
    let s = server(&dir, "10", "2");
    for path in ["/f_png/bomb.svg", "/w_100/bomb.svg"] {
        let (status, _) = get(s.port, path);
        assert!((400..500).contains(&status) || status == 200, "{path}: {status}");
        assert_ne!(status, 0, "{path}: the connection died");
    }
    let (status, _) = post(s.port, "/_/transform/w_100", "image/svg+xml", pattern_bomb().as_bytes());
    assert!((400..500).contains(&status) || status == 200, "POST: {status}");
    assert_eq!(get(s.port, "/_/health").0, 200, "the process is alive");
    assert_eq!(get(s.port, "/w_16,f_png/ok.svg").0, 200, "and draws other SVGs");
}

/// Bug: 250 chained masks took 985 MB at 1000 px and aborted the process at `w_3000`; nested
/// `feImage`s reached 12.9 GB. Now each is drawn in a child held to the request's share of the
/// budget: a 4xx (or the drawing) within the deadline, the server's own memory untouched.
#[test]
fn chains_of_masks_and_fe_images_stay_within_the_budget() {
    let dir =
        folder(&[("masks.svg", mask_chain(250).as_bytes()), ("images.svg", fe_image_chain(24).as_bytes())]);
    let s = server(&dir, "10", "2");
    // The long chains are refused from the tree (413); a chain short enough to pass drawn 3000 px
    // wide needs ≈ 540 MB of layers, over its estimate: the child's data limit stops it (413).
    std::fs::write(dir.path().join("short.svg"), mask_chain(15)).unwrap();
    for path in [
        "/w_3000,f_png/masks.svg",
        "/w_1000,f_png/masks.svg",
        "/w_1000,f_png/images.svg",
        "/w_3000,f_png/short.svg",
    ] {
        let started = Instant::now();
        let (status, _) = get(s.port, path);
        eprintln!("{path}: {status} in {:?}", started.elapsed());
        assert!([200, 413, 422, 504].contains(&status), "{path}: {status}");
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "{path}: answered after {:?}",
            started.elapsed()
        );
    }
    let short = get_body(s.port, "/w_3000,f_png/short.svg");
    assert!(short.contains("over_budget") && short.contains("MB of memory"), "{short}");
    let peak = peak_rss_mb(s.child.id());
    assert!(peak < 512 + 96, "the server's own peak RSS is {peak} MB");
    assert_eq!(get(s.port, "/_/health").0, 200);
}

/// Bug: `feMorphology radius=5` in a 10-unit drawing at `w_1000` answered 504 after 21 s and
/// kept a core busy for minutes after. Now the child is killed at the deadline: the answer comes
/// with it and no CPU is spent after.
#[test]
fn a_runaway_filter_is_killed_at_the_deadline() {
    let dir = folder(&[("morph.svg", morphology().as_bytes())]);
    let s = server(&dir, "2", "1");
    let started = Instant::now();
    let (status, _) = get(s.port, "/w_1000,f_png/morph.svg");
    assert_eq!(status, 504);
    assert!(started.elapsed() < Duration::from_secs(4), "answered after {:?}", started.elapsed());
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(children(s.child.id()), Vec::<u32>::new(), "no renderer outlives its answer");
    let before = cpu_time(s.child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(s.child.id()) - before;
    assert!(used < Duration::from_millis(300), "{used:?} of CPU after the answer");
}

/// Bug: two SVG requests froze the server, `/_/health` included, for ≈ 28 s: the SVG was parsed
/// on an async worker. Now no image bytes are parsed there: with both slots drawing runaway
/// filters, `/_/health` answers within 100 ms.
#[test]
fn health_answers_while_every_slot_draws_the_worst_svg() {
    let dir = folder(&[("morph.svg", morphology().as_bytes()), ("masks.svg", mask_chain(250).as_bytes())]);
    let s = server(&dir, "6", "2");
    let port = s.port;
    let bombs: Vec<_> = ["/w_1000,f_png/morph.svg", "/w_1200,f_png/morph.svg", "/w_2000,f_png/masks.svg"]
        .into_iter()
        .map(|path| std::thread::spawn(move || get(port, path).0))
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        assert_eq!(get(port, "/_/health").0, 200);
        worst = worst.max(started.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    for bomb in bombs {
        let status = bomb.join().unwrap();
        assert!([413, 422, 503, 504].contains(&status), "{status}");
    }
    assert!(worst < Duration::from_millis(100), "/_/health took {worst:?}");
}

/// One GET on a fresh connection: the whole answer, as text.
fn get_body(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// One POST on a fresh connection with the whole body: the status.
fn post(port: u16, path: &str, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let status = String::from_utf8_lossy(&out[..out.len().min(12)]).get(9..12).and_then(|c| c.parse().ok());
    (status.unwrap_or(0), out)
}

/// Bug: eight chunked JSON POSTs sending a byte every 4 s reserved ≈ 133 MB each, and every
/// transform answered 503 while they trickled. Now a body reserves the budget as its bytes
/// arrive, and one slower than the minimum rate is cut off with 408.
#[test]
fn stalled_bodies_neither_hold_the_budget_nor_stay_open() {
    let dir = folder(&[]);
    std::fs::copy(crate::fixtures::dir().join("big.jpg"), dir.path().join("big.jpg")).unwrap();
    let s = server(&dir, "10", "2");
    let port = s.port;
    let stalled: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
                c.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                write!(
                    c,
                    "POST /_/transform HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n"
                )
                .unwrap();
                let started = Instant::now();
                let mut out = Vec::new();
                while started.elapsed() < Duration::from_secs(30) {
                    let mut buf = [0u8; 512];
                    match c.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            out.extend_from_slice(&buf[..n]);
                            break;
                        }
                        Err(_) => {}
                    }
                    if started.elapsed().as_millis() % 4000 < 200 {
                        let _ = c.write_all(b"1\r\n \r\n");
                    }
                }
                let status = String::from_utf8_lossy(&out[..out.len().min(12)]).get(9..12).and_then(|c| c.parse().ok());
                (status.unwrap_or(0), started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    assert_eq!(get(port, "/w_120/big.jpg").0, 200, "a thumbnail while eight bodies stall");
    assert!(started.elapsed() < Duration::from_secs(5), "answered after {:?}", started.elapsed());
    for stall in stalled {
        let (status, after) = stall.join().unwrap();
        assert_eq!(status, 408, "a stalled body is cut off (after {after:?})");
        assert!(after < Duration::from_secs(20), "cut off after {after:?}");
    }
}
