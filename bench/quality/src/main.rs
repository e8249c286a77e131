//! Reads `REFERENCE<TAB>CANDIDATE` lines on stdin and prints `CANDIDATE<TAB>SCORE` for each, the
//! SSIMULACRA2 score of the candidate against the reference (100 = identical, above ~80 is very
//! high quality, ~70 high, ~50 medium). Both must have the same size.

use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};
use std::io::BufRead;

fn load(path: &str) -> Result<Rgb, String> {
    let img = image::open(path).map_err(|e| format!("{path}: {e}"))?.to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let data = img.pixels().map(|p| p.0.map(|c| f32::from(c) / 255.0)).collect();
    Rgb::new(data, w, h, TransferCharacteristic::SRGB, ColorPrimaries::BT709).map_err(|e| format!("{path}: {e}"))
}

fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin");
        let Some((reference, candidate)) = line.split_once('\t') else { continue };
        let score = load(reference).and_then(|r| {
            let c = load(candidate)?;
            if (r.width(), r.height()) != (c.width(), c.height()) {
                return Err(format!("size {}x{} vs {}x{}", c.width(), c.height(), r.width(), r.height()));
            }
            compute_frame_ssimulacra2(r, c).map_err(|e| e.to_string())
        });
        match score {
            Ok(s) => println!("{candidate}\t{s:.3}"),
            Err(e) => println!("{candidate}\terror: {e}"),
        }
    }
}
