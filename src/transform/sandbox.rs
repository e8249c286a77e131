//! The untrusted renderers — resvg drawing an SVG, libde265 decoding a HEIC — run in a child
//! process of the same binary, under hard limits, so that whatever a hostile file makes them do
//! costs one request and never the process (docs/hardening.md "Containment").
//!
//! The parent writes the job (one JSON line) and the source bytes to the child's stdin and reads
//! the answer from its stdout. The child sets its own limits before it reads a byte: its data
//! segment (every heap allocation, the renderer's pixmaps included) to the request's share of the
//! memory budget, CPU time to the deadline plus a second, no core file, no file descriptor beyond
//! the three it has, and it starts with an empty environment. The parent kills it at the deadline.
//! An allocation failure in the child is a 413 for the request, a crash a 422, a kill a 504.

use super::TransformError;
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The first argument that makes the binary a sandbox child instead of the command line.
pub const CHILD_ARG: &str = "__pixflow-sandbox-child";

/// Memory the child needs beyond the pixels it makes: its own code's data, the parsed document
/// or container, the allocator's slack. Part of every sandboxed request's memory estimate.
pub const CHILD_BASE_BYTES: u64 = 48 << 20;

/// Time and memory one sandboxed job may take.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// When the parent kills the child.
    pub deadline: Instant,
    /// The child's data segment limit, in bytes.
    pub memory: u64,
}

impl Bounds {
    /// Bounds for reading a header (an SVG's size): the deadline given, a fixed share of memory.
    pub fn header(deadline: Instant) -> Bounds {
        Bounds { deadline, memory: HEADER_BYTES }
    }
}

/// Memory a header read (an SVG parsed for its size) may take: usvg's tree of the largest
/// document the SVG limits let through stays well under it.
pub const HEADER_BYTES: u64 = 128 << 20;

/// What the child is asked to do.
#[derive(Debug, Serialize, Deserialize)]
enum Job {
    /// Parse an SVG and answer its size.
    SvgSize { max_pixels: u64 },
    /// Draw an SVG at `width` × `height`.
    SvgRender { max_pixels: u64, width: u32, height: u32 },
    /// Decode a HEIC's primary image.
    Heic { max_pixels: u64, deadline_ms: u64 },
}

/// The program the child runs: this binary, whatever it is called (`pixflow`, `bootstrap` in a
/// Lambda zip). A test harness is not it: cargo builds those in a `deps` folder, and from there
/// the `pixflow` binary cargo builds above it is used. `PIXFLOW_SANDBOX_PROGRAM` names another.
fn program() -> Result<&'static PathBuf, TransformError> {
    static PROGRAM: OnceLock<Option<PathBuf>> = OnceLock::new();
    PROGRAM
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("PIXFLOW_SANDBOX_PROGRAM") {
                return Some(PathBuf::from(p));
            }
            let exe = std::env::current_exe().ok()?;
            let dir = exe.parent()?;
            if dir.file_name().is_some_and(|d| d == "deps") {
                return Some(dir.parent()?.join("pixflow")).filter(|p| p.is_file());
            }
            Some(exe)
        })
        .as_ref()
        .ok_or_else(|| TransformError::Internal("the sandbox program (pixflow) was not found".into()))
}

/// A command the child is started through, from `PIXFLOW_SANDBOX_LAUNCHER` (words separated by
/// spaces): a binary of another architecture run under user-mode emulation cannot start itself,
/// so its tests name the emulator here (`qemu-aarch64-static -L /usr/aarch64-linux-gnu`).
fn launcher() -> Option<&'static (String, Vec<String>)> {
    static LAUNCHER: OnceLock<Option<(String, Vec<String>)>> = OnceLock::new();
    LAUNCHER
        .get_or_init(|| {
            let words = std::env::var("PIXFLOW_SANDBOX_LAUNCHER").ok()?;
            let mut words = words.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .as_ref()
}

/// Parses an SVG in the child and answers its size. A miss reads the header twice (its estimate,
/// then its plan): the sizes of the last few documents are remembered by their digest, so the
/// second read starts no child. Only sizes are remembered, never a failure.
pub fn svg_size(bytes: &[u8], max_pixels: u64, bounds: Bounds) -> Result<(u32, u32), TransformError> {
    use sha2::{Digest, Sha256};
    /// (the document's digest, the pixel limit it was read under, its size)
    type Known = ([u8; 32], u64, (u32, u32));
    static SIZES: std::sync::Mutex<std::collections::VecDeque<Known>> =
        std::sync::Mutex::new(std::collections::VecDeque::new());
    const REMEMBERED: usize = 64;
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let known = SIZES.lock().ok().and_then(|sizes| {
        sizes.iter().find(|(d, m, _)| *d == digest && *m == max_pixels).map(|(_, _, size)| *size)
    });
    if let Some(size) = known {
        return Ok(size);
    }
    let size = match run(&Job::SvgSize { max_pixels }, bytes, bounds, "SVG")? {
        Answer::Size(w, h) => (w, h),
        Answer::Image(_) => {
            return Err(TransformError::Internal("the sandbox answered an image for a size".into()))
        }
    };
    if let Ok(mut sizes) = SIZES.lock() {
        if sizes.len() == REMEMBERED {
            sizes.pop_front();
        }
        sizes.push_back((digest, max_pixels, size));
    }
    Ok(size)
}

/// Draws an SVG in the child at `width` × `height`.
pub fn svg_render(
    bytes: &[u8],
    max_pixels: u64,
    (width, height): (u32, u32),
    bounds: Bounds,
) -> Result<DynamicImage, TransformError> {
    image_answer(run(&Job::SvgRender { max_pixels, width, height }, bytes, bounds, "SVG")?)
}

/// Decodes a HEIC's primary image in the child.
pub fn heic(bytes: &[u8], max_pixels: u64, bounds: Bounds) -> Result<DynamicImage, TransformError> {
    let deadline_ms = bounds.deadline.saturating_duration_since(Instant::now()).as_millis() as u64;
    image_answer(run(&Job::Heic { max_pixels, deadline_ms }, bytes, bounds, "HEIC")?)
}

fn image_answer(answer: Answer) -> Result<DynamicImage, TransformError> {
    match answer {
        Answer::Image(image) => Ok(image),
        Answer::Size(..) => Err(TransformError::Internal("the sandbox answered a size for an image".into())),
    }
}

enum Answer {
    Size(u32, u32),
    Image(DynamicImage),
}

/// Most bytes of the child's stderr kept for the log.
const STDERR_KEPT: u64 = 4 << 10;

/// Runs `job` on `bytes` in a child and waits for its answer until the deadline.
fn run(job: &Job, bytes: &[u8], bounds: Bounds, what: &str) -> Result<Answer, TransformError> {
    let left = bounds.deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(TransformError::Deadline);
    }
    let cpu_secs = left.as_secs() + 2;
    let mut command = match launcher() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(program()?);
            c
        }
        None => Command::new(program()?),
    };
    let mut child = command
        .arg(CHILD_ARG)
        .arg(bounds.memory.to_string())
        .arg(cpu_secs.to_string())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| TransformError::Internal(format!("the sandbox did not start: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let mut request = serde_json::to_vec(job).expect("a job serialises");
    request.push(b'\n');
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let answer = std::thread::scope(|scope| {
        scope.spawn(move || {
            // A child that died early closes its stdin: the write fails, and its status says why.
            let _ = stdin.write_all(&request).and_then(|()| stdin.write_all(bytes));
        });
        let log = scope.spawn(move || {
            let mut kept = Vec::new();
            let _ = (&mut stderr).take(STDERR_KEPT).read_to_end(&mut kept);
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
            kept
        });
        let reader = scope.spawn(move || {
            let mut out = Vec::new();
            let read = stdout.read_to_end(&mut out);
            let _ = done_tx.send(());
            read.map(|_| out)
        });
        let killed = match done_rx.recv_timeout(left) {
            Ok(()) => false,
            Err(_) => {
                let _ = child.kill();
                true
            }
        };
        let status = child.wait();
        let out = reader.join().ok().and_then(|r| r.ok()).unwrap_or_default();
        let log = log.join().unwrap_or_default();
        (killed, status, out, log)
    });
    let (killed, status, out, log) = answer;
    let status = status.map_err(|e| TransformError::Internal(format!("the sandbox: {e}")))?;
    if killed {
        tracing::warn!(what, "a sandboxed {what} job ran to the deadline and was killed");
        return Err(TransformError::Deadline);
    }
    if status.success() {
        return parse_answer(out);
    }
    let log = String::from_utf8_lossy(&log);
    use std::os::unix::process::ExitStatusExt;
    if status.signal() == Some(24) {
        // SIGXCPU: the CPU limit, the deadline's backstop.
        return Err(TransformError::Deadline);
    }
    if status.code() == Some(ERROR_EXIT) {
        return parse_error(&out);
    }
    tracing::warn!(what, %status, log = %log.trim(), "a sandboxed {what} job died");
    if log.contains("memory allocation") {
        return Err(TransformError::OverBudget(format!(
            "this {what} needs more than the {} MB of memory its request may use",
            bounds.memory >> 20
        )));
    }
    Err(TransformError::Corrupt(format!("the {what} stopped its decoder")))
}

/// The child's exit code when it answers an error (written to stdout) rather than a result.
const ERROR_EXIT: i32 = 3;

fn parse_answer(mut out: Vec<u8>) -> Result<Answer, TransformError> {
    let bad = || TransformError::Internal("the sandbox's answer is malformed".into());
    let word = |at: usize| -> Result<u32, TransformError> {
        Ok(u32::from_le_bytes(out.get(at..at + 4).ok_or_else(bad)?.try_into().expect("4 bytes")))
    };
    let (kind, w, h) = (*out.first().ok_or_else(bad)?, word(1)?, word(5)?);
    out.drain(..9);
    let pixels = out;
    let image = match kind {
        0 => return Ok(Answer::Size(w, h)),
        1 => GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        2 => GrayAlphaImage::from_raw(w, h, pixels).map(DynamicImage::ImageLumaA8),
        3 => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
        4 => RgbaImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8),
        _ => None,
    };
    image.map(Answer::Image).ok_or_else(bad)
}

/// Error kinds on the wire; each keeps its HTTP status.
fn error_code(e: &TransformError) -> u8 {
    match e {
        TransformError::Unsupported(_) => 1,
        TransformError::Corrupt(_) | TransformError::Geometry(_) => 2,
        TransformError::TooManyPixels(..) | TransformError::OverLimit(_) => 3,
        TransformError::OverBudget(_) => 4,
        TransformError::Deadline => 5,
        TransformError::Internal(_) => 6,
    }
}

fn parse_error(out: &[u8]) -> Result<Answer, TransformError> {
    let message = String::from_utf8_lossy(out.get(1..).unwrap_or_default()).into_owned();
    Err(match out.first() {
        Some(1) => TransformError::Unsupported(message),
        Some(2) => TransformError::Corrupt(message),
        Some(3) => TransformError::OverLimit(message),
        Some(4) => TransformError::OverBudget(message),
        Some(5) => TransformError::Deadline,
        _ => TransformError::Internal(format!("the sandbox: {message}")),
    })
}

/// The child's side: limits first, then the job; the answer on stdout. `args` are what follows
/// [`CHILD_ARG`]: the memory limit in bytes and the CPU limit in seconds.
pub fn child_main(args: &[String]) -> std::process::ExitCode {
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u64>().ok());
    let (Some(memory), Some(cpu)) = (number(0), number(1)) else {
        eprintln!("pixflow: the sandbox child takes a memory and a CPU limit");
        return std::process::ExitCode::FAILURE;
    };
    if let Err(e) = limit_self(memory, cpu) {
        eprintln!("pixflow: the sandbox child could not set its limits: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let mut input = Vec::new();
    if std::io::stdin().lock().read_to_end(&mut input).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    let started = Instant::now();
    let mut stdout = std::io::stdout().lock();
    let (written, code) = match child_job(&input, started) {
        Ok((kind, (w, h), pixels)) => {
            drop(input);
            let head = [[kind].as_slice(), &w.to_le_bytes(), &h.to_le_bytes()].concat();
            let pixels = pixels.as_ref().map_or(&[][..], |p| p.as_bytes());
            (stdout.write_all(&head).and_then(|()| stdout.write_all(pixels)), 0)
        }
        Err(e) => {
            let message = [[error_code(&e)].as_slice(), e.to_string().as_bytes()].concat();
            (stdout.write_all(&message), ERROR_EXIT as u8)
        }
    };
    if written.and_then(|()| stdout.flush()).is_err() {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::from(code)
}

fn limit_self(memory: u64, cpu_secs: u64) -> std::io::Result<()> {
    use rlimit::Resource;
    Resource::DATA.set(memory, memory)?;
    Resource::CPU.set(cpu_secs, cpu_secs + 1)?;
    Resource::CORE.set(0, 0)?;
    // stdin, stdout and stderr are open; nothing else can be (no file, no socket).
    Resource::NOFILE.set(3, 3)?;
    Ok(())
}

/// The answer's kind, size and pixels (none for a size).
pub type ChildAnswer = (u8, (u32, u32), Option<DynamicImage>);

/// The child's work on its whole input (the job's JSON line, then the file), in this process:
/// what the child runs after setting its limits, and what the fuzz targets call.
pub fn child_job(input: &[u8], started: Instant) -> Result<ChildAnswer, TransformError> {
    let bad = || TransformError::Internal("the sandbox's job is malformed".into());
    let line_end = input.iter().position(|&b| b == b'\n').ok_or_else(bad)?;
    let job: Job = serde_json::from_slice(&input[..line_end]).map_err(|_| bad())?;
    let bytes = &input[line_end + 1..];
    let limits = |max_pixels| super::Limits { max_source_pixels: max_pixels, ..Default::default() };
    let image = match job {
        Job::SvgSize { max_pixels } => {
            let size = super::decode_svg::Svg::parse(bytes, &limits(max_pixels))?.size();
            return Ok((0, size, None));
        }
        Job::SvgRender { max_pixels, width, height } => {
            super::decode_svg::Svg::parse(bytes, &limits(max_pixels))?.render(width, height)?
        }
        Job::Heic { max_pixels, deadline_ms } => {
            let deadline = started + Duration::from_millis(deadline_ms);
            super::decode_heif::decode(bytes, super::decode_heif::Codec::Hevc, max_pixels, deadline)?
        }
    };
    let image = super::decode::to_8bit(image);
    let kind = match &image {
        DynamicImage::ImageLuma8(_) => 1,
        DynamicImage::ImageLumaA8(_) => 2,
        DynamicImage::ImageRgb8(_) => 3,
        _ => 4,
    };
    let image = if kind == 4 { DynamicImage::ImageRgba8(image.into_rgba8()) } else { image };
    Ok((kind, (image.width(), image.height()), Some(image)))
}
