//! Hardening, round 2, against the real binary on real sockets: the CPU stops after a deadline,
//! memory stays within the budget under the shapes that once took 2 GB, and slow or idle
//! clients cannot hold connections.

use crate::fixtures;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `pixflow serve` on a free port, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(args: &[&str]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_pixflow"))
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env("RUST_LOG", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, port };
    let started = Instant::now();
    while get(server.port, "/_/health").0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(20), "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// One GET on a fresh connection: status and body length.
pub(crate) fn get(port: u16, path: &str) -> (u16, usize) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, 0);
    };
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out[..out.len().min(12)]).to_string();
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out.len())
}

/// User + system CPU time of a process.
pub(crate) fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    // Fields 14 and 15 of stat(5), counted after the command name: utime and stime, in ticks.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Peak resident memory of a process (VmHWM).
pub(crate) fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

fn write_png(path: &std::path::Path, w: u32, h: u32) {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8, 200])
    });
    img.save(path).unwrap();
}

/// Bug: a 504 answered the client while the blur ran on for another ten seconds, holding its
/// slot. Now the work stops at the deadline: CPU time stops growing and the slot is free.
#[test]
fn the_cpu_stops_within_a_second_of_the_deadline_and_the_slot_is_free_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures::dir().join("big.jpg"), dir.path().join("big.jpg")).unwrap();
    std::fs::copy(fixtures::dir().join("quadrants.jpg"), dir.path().join("q.jpg")).unwrap();
    let source = dir.path().display().to_string();
    let server = serve(&[
        "--source",
        &source,
        "--transform-timeout-secs",
        "1",
        "--max-transforms",
        "1",
        "--max-cost",
        "100000000",
        "--memory-cache-mb",
        "0",
    ]);
    let started = Instant::now();
    let (status, _) = get(server.port, "/w_6400,h_3200,c_scale,blur_60,f_jpeg/big.jpg");
    assert_eq!(status, 504);
    assert!(started.elapsed() < Duration::from_secs(4), "answered after {:?}", started.elapsed());
    // Within a second of the answer the work has stopped: over the next two seconds the process
    // uses (almost) no CPU.
    std::thread::sleep(Duration::from_secs(1));
    let before = cpu_time(server.child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(server.child.id()) - before;
    assert!(used < Duration::from_millis(300), "{used:?} of CPU after the deadline");
    // The one slot is free: a thumbnail is answered at once.
    let thumb = Instant::now();
    assert_eq!(get(server.port, "/w_50/q.jpg").0, 200);
    assert!(thumb.elapsed() < Duration::from_secs(2), "{:?}", thumb.elapsed());
}

/// The three shapes that once took 2 GB, at once: an upscale to a huge WebP of a tiny PNG,
/// a rotated WebP of a large RGBA PNG, and many slow downloads of a large original, plus large
/// POST bodies. Peak RSS stays under the budget plus a stated margin, and every answer is a
/// 200, 413 or 503.
#[test]
fn memory_stays_within_the_budget_under_concurrent_heavy_requests() {
    const BUDGET_MB: u64 = 384;
    // The binary, its runtime and the allocator's slack, measured idle at ≈ 20 MB, plus what is
    // not reserved (response headers, sockets): the margin the README states.
    const MARGIN_MB: u64 = 96;
    let dir = tempfile::tempdir().unwrap();
    write_png(&dir.path().join("tiny.png"), 16, 16);
    write_png(&dir.path().join("large.png"), 2500, 2500);
    // A 30 MB original: a PNG signature, then bytes (served untouched, never decoded).
    let mut blob = b"\x89PNG\r\n\x1a\n".to_vec();
    blob.resize(30 << 20, 7);
    std::fs::write(dir.path().join("blob.png"), &blob).unwrap();
    let source = dir.path().display().to_string();
    let budget = BUDGET_MB.to_string();
    let server = serve(&[
        "--source",
        &source,
        "--max-memory-mb",
        &budget,
        "--memory-cache-mb",
        "0",
        "--max-upscale",
        "1000",
        "--max-cost",
        "100000000",
        "--allow-post",
        "--queue-wait-ms",
        "2000",
        "--max-transforms",
        "2",
    ]);
    let port = server.port;
    // Twenty slow downloads: each asks for the 30 MB original and reads nothing for a while.
    let slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(s, "GET /blob.png HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            s
        })
        .collect();
    // Each fits the budget alone (≈ 230 and 260 MB estimated), not two at once.
    let heavy = ["/w_3000,h_3000,c_scale,f_webp/tiny.png", "/a_90,f_webp/large.png"];
    let workers: Vec<_> = (0..6)
        .map(|i| {
            let path = heavy[i % 2].to_string();
            std::thread::spawn(move || get(port, &path).0)
        })
        .collect();
    let posts: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                let _ = write!(
                    s,
                    "POST /_/transform/w_10 HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 65000000\r\nConnection: close\r\n\r\n"
                );
                let mut out = vec![0u8; 12];
                let _ = s.read_exact(&mut out);
                String::from_utf8_lossy(&out[9..12]).parse::<u16>().unwrap_or(0)
            })
        })
        .collect();
    let mut statuses: Vec<u16> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    statuses.extend(posts.into_iter().map(|p| p.join().unwrap()));
    // Now the slow readers read their answers' status lines.
    for mut s in slow {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = vec![0u8; 12];
        s.read_exact(&mut head).unwrap();
        statuses.push(String::from_utf8_lossy(&head[9..12]).parse().unwrap());
    }
    let peak = peak_rss_mb(server.child.id());
    eprintln!("statuses {statuses:?}, peak RSS {peak} MB");
    assert!(statuses.iter().all(|s| [200, 413, 503].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(peak <= BUDGET_MB + MARGIN_MB, "peak RSS {peak} MB over {BUDGET_MB} + {MARGIN_MB} MB");
    assert_eq!(get(server.port, "/_/health").0, 200, "the process is alive");
}

/// Whether the server has closed `s` (a read returns end of stream or an error) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_silent_and_idle_clients_are_closed_and_cannot_starve_health() {
    let server =
        serve(&["--header-read-timeout-secs", "1", "--idle-timeout-secs", "1", "--max-connections", "20"]);
    let port = server.port;
    // A client that trickles its headers one byte every 200 ms is cut off by the header timeout.
    let mut trickle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let request =
        b"GET /_/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut = false;
    for b in request {
        if trickle.write_all(&[*b]).is_err() {
            cut = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        if started.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    assert!(cut || closed_within(&mut trickle, Duration::from_secs(1)), "a trickling client was kept");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    // Silent connections fill every slot; they are closed after the timeouts and health answers.
    let mut silent: Vec<TcpStream> =
        (0..20).map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap()).collect();
    let started = Instant::now();
    assert_eq!(get(server.port, "/_/health").0, 200);
    assert!(started.elapsed() < Duration::from_secs(4), "health waited {:?}", started.elapsed());
    for s in &mut silent {
        assert!(closed_within(s, Duration::from_secs(3)), "a silent connection was kept");
    }
    // A keep-alive connection that goes quiet after one answer is closed after the idle timeout.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(idle, "GET /_/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).unwrap();
    assert_eq!(&head[9..12], b"200");
    let started = Instant::now();
    assert!(closed_within(&mut idle, Duration::from_secs(4)), "an idle connection was kept");
    assert!(started.elapsed() >= Duration::from_millis(500), "closed too soon: {:?}", started.elapsed());
}
