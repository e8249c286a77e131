//! The shared vectors (`tests/vectors/canonical.json`): the origin form the CloudFront Function
//! must produce for each URL and Accept header, or the error. `cdk/test/function.test.ts` runs the
//! same file against the function.

use pixflow::spec::origin_form;

#[test]
fn the_parser_agrees_with_every_shared_vector() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/canonical.json"))
        .unwrap();
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(vectors.len() >= 150, "only {} vectors", vectors.len());
    let mut failures = Vec::new();
    for v in &vectors {
        let url = v["url"].as_str().unwrap();
        let accept = v["accept"].as_str();
        let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
        let got = match origin_form(path, query, accept, 8192) {
            Ok(form) => serde_json::json!({ "origin": form }),
            Err(e) => serde_json::json!({ "error": e.code }),
        };
        let want = match (&v["origin"], &v["error"]) {
            (serde_json::Value::String(o), _) => serde_json::json!({ "origin": o }),
            (_, e) => serde_json::json!({ "error": e }),
        };
        if got != want {
            failures.push(format!("{url} [{}]: got {got}, want {want}", accept.unwrap_or("")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
