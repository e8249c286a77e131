//! SVG as the sandboxed child reads and draws it, in this process: any document parses within
//! the SVG limits or is refused, and draws at 64 × 64 without a panic. Allocations past
//! libFuzzer's `-malloc_limit_mb` are reported as crashes: in pixflow the child's data limit turns
//! them into a 422 (docs/hardening.md), here they show what the tree-level limits let through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixflow::transform::sandbox::child_job;
use std::time::Instant;

fuzz_target!(|data: &[u8]| {
    for job in [r#"{"SvgSize":{"max_pixels":4000000}}"#, r#"{"SvgRender":{"max_pixels":4000000,"width":64,"height":64}}"#] {
        let input = [job.as_bytes(), b"\n", data].concat();
        let _ = child_job(&input, Instant::now());
    }
});
