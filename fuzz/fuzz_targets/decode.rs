//! Decoding under limits: any bytes through the whole pipeline never panic, and finish.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixflow::spec::parse_options;
use pixflow::transform::{run, Limits};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_source_pixels: 4_000_000, max_output_side: 512, max_output_bytes: 8 << 20, ..Limits::default() };
    for options in ["w_64,h_64,c_fill,f_png", "w_32,f_jpeg", "f_json"] {
        let spec = parse_options(options, 512).expect("fixed options");
        let _ = run(data, &spec, &limits, Instant::now() + Duration::from_secs(5));
    }
});
