//! The shared vectors (`tests/vectors/canonical.json`): the origin form the CloudFront Function
//! must produce for each URL and Accept header, or the error — its code and its message, which
//! both sides must word alike. `cdk/test/function.test.ts` runs the same file against the
//! function. `BLESS=1` fills in the message of an error vector that has none (never rewrites one).

use pixflow::spec::origin_form;

#[test]
fn the_parser_agrees_with_every_shared_vector() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/canonical.json");
    let text = std::fs::read_to_string(path).unwrap();
    let mut vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(vectors.len() >= 150, "only {} vectors", vectors.len());
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let (mut failures, mut blessed) = (Vec::new(), 0);
    for v in &mut vectors {
        let url = v["url"].as_str().unwrap().to_string();
        let accept = v["accept"].as_str().map(str::to_string);
        let (path, query) = url.split_once('?').map_or((url.as_str(), None), |(p, q)| (p, Some(q)));
        let mut headers = http::HeaderMap::new();
        for (name, value) in v["headers"].as_object().into_iter().flatten() {
            let name = http::HeaderName::try_from(name.as_str()).unwrap();
            headers.insert(name, http::HeaderValue::try_from(value.as_str().unwrap()).unwrap());
        }
        let hints = pixflow::spec::Hints::from_headers(&headers);
        let got = match origin_form(path, query, accept.as_deref(), hints, 8192) {
            Ok(form) => serde_json::json!({ "origin": form }),
            Err(e) => {
                serde_json::json!({ "error": e.code, "message": format!("`{}`: {}", e.token, e.message) })
            }
        };
        if v.get("error").is_some() && v.get("message").is_none() && bless {
            if let Some(m) = got.get("message") {
                v["message"] = m.clone();
                blessed += 1;
            }
        }
        let want = match (&v["origin"], &v["error"]) {
            (serde_json::Value::String(o), _) => serde_json::json!({ "origin": o }),
            (_, e) => serde_json::json!({ "error": e, "message": v["message"] }),
        };
        if got != want {
            let sent = format!("{} {}", accept.unwrap_or_default(), v["headers"]);
            failures.push(format!("{url} [{sent}]: got {got}, want {want}"));
        }
    }
    if blessed > 0 {
        std::fs::write(path, serde_json::to_string_pretty(&vectors).unwrap() + "\n").unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
