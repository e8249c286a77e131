//! HEIF in both codecs: an AVIF through the whole pipeline (rav1d and the grid assembly run in
//! the process), a HEIC as the sandboxed child decodes it (libde265), in this process. Any bytes
//! are decoded within the pixel limit or refused, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixflow::spec::parse_options;
use pixflow::transform::sandbox::child_job;
use pixflow::transform::{run, Limits};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_source_pixels: 4_000_000, max_output_side: 512, ..Limits::default() };
    let spec = parse_options("w_64,f_png", 512).expect("fixed options");
    let _ = run(data, &spec, &limits, Instant::now() + Duration::from_secs(5));
    let input = [br#"{"Heic":{"max_pixels":4000000,"deadline_ms":5000}}"#.as_slice(), b"\n", data].concat();
    let _ = child_job(&input, Instant::now());
});
