//! The URL parser: never panics, and the canonical form is a fixed point — parsing a request's
//! canonical options again gives the same spec and the same string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixflow::spec::{origin_form, parse_options, parse_request, Hints};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (path, query) = match text.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (text.to_string(), None),
    };
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    let hints = Hints { dpr: Some("2"), width: Some("640") };
    let _ = origin_form(&path, query.as_deref(), Some("image/webp,*/*"), hints, 8192);
    if let Ok(parsed) = parse_request(&path, query.as_deref(), 8192) {
        let canon = parsed.spec.to_string();
        let again = parse_options(&canon, 8192).expect("a canonical form always parses");
        let mut without_expiry = parsed.spec.clone();
        without_expiry.expires = None;
        assert_eq!(again, without_expiry, "parse(canon(x)) != x for {canon}");
        assert_eq!(again.to_string(), canon, "canon(canon(x)) != canon(x)");
    }
});
