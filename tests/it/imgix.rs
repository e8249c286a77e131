//! pixflow's query style against imgix's own machine-readable parameter list (the npm package
//! `imgix-url-params`, pinned in cdk/package.json and installed by scripts/setup): every imgix
//! parameter and alias is read with imgix's meaning, refused as not supported, or one of the two
//! names pixflow defined first — and where a read one's default or range differs, it is listed
//! here and in the README.

use pixflow::spec::imgix::{CONFLICTS, READ, UNSUPPORTED};
use pixflow::spec::parse_request;
use serde_json::Value;

/// Parameters whose imgix default is not pixflow's, and why (the README's list).
const DEFAULT_DIFFERS: &[(&str, &str)] = &[
    ("fit", "pixflow never enlarges unless asked: no fit is fit=max"),
    ("q", "each format has its own default quality"),
    ("page", "page=1 of an animation is its first frame as a still"),
];

/// Parameters whose imgix range reaches past pixflow's, and pixflow's range.
const RANGE_DIFFERS: &[(&str, &str)] = &[
    ("dpr", "1 to 4"),
    ("q", "1 to 100"),
    ("blur", "a gaussian sigma 0.3 to 100, or 0"),
    ("rot", "0, 90, 180, 270"),
    ("fp-z", "1 only"),
];

fn parameters() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/cdk/node_modules/imgix-url-params/dist/parameters.json");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (scripts/setup installs the cdk/ packages)"));
    serde_json::from_str(&text).unwrap()
}

/// The canonical options of `/a.jpg?{query}`, or the error code.
fn outcome(query: &str) -> Result<String, &'static str> {
    parse_request("/a.jpg", Some(query), 8192).map(|r| r.spec.to_string()).map_err(|e| e.code)
}

fn enc(v: &str) -> String {
    v.replace('#', "%23").replace(' ', "%20")
}

#[test]
fn every_imgix_parameter_is_read_or_refused_by_name() {
    let list = parameters();
    assert_eq!(list["version"].as_str(), Some("11.36.0"), "the pinned version");
    let mut names: Vec<&str> = list["parameters"].as_object().unwrap().keys().map(String::as_str).collect();
    names
        .extend(list["aliases"].as_object().unwrap().keys().map(String::as_str).filter(|a| !a.contains('=')));
    names.sort_unstable();
    let listed = |n: &str| [READ, UNSUPPORTED, CONFLICTS].iter().filter(|l| l.contains(&n)).count();
    let unlisted: Vec<&&str> = names.iter().filter(|n| listed(n) != 1).collect();
    assert!(unlisted.is_empty(), "in none or several of the lists: {unlisted:?}");
    let stale: Vec<&&str> =
        READ.iter().chain(UNSUPPORTED).chain(CONFLICTS).filter(|n| names.binary_search(n).is_err()).collect();
    assert!(stale.is_empty(), "not imgix parameters: {stale:?}");
    assert!(UNSUPPORTED.windows(2).all(|w| w[0] < w[1]), "UNSUPPORTED is sorted (binary search)");
    for name in UNSUPPORTED {
        assert_eq!(outcome(&format!("{name}=1")), Err("not_supported"), "{name}");
    }
}

#[test]
fn every_documented_value_of_a_read_parameter_is_handled_on_purpose() {
    let list = parameters();
    let params = list["parameters"].as_object().unwrap();
    for name in READ.iter().filter(|n| params.contains_key(**n)) {
        let p = &params[*name];
        for expect in p["expects"].as_array().unwrap() {
            // A documented value is read or refused as not supported, never a bad value.
            for v in expect["possible_values"].as_array().into_iter().flatten() {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                let got = outcome(&format!("{name}={}", enc(&v)));
                assert!(matches!(got, Ok(_) | Err("not_supported")), "{name}={v}: {got:?}");
            }
            // The ends of imgix's strict range are read, unless pixflow's range is listed narrower.
            let range = &expect["strict_range"];
            if RANGE_DIFFERS.iter().any(|(n, _)| n == name) || !range.is_object() {
                continue;
            }
            let whole = expect["type"] == "integer";
            for end in ["min", "max"].iter().filter_map(|e| range[e].as_f64()) {
                let v = if whole || end.fract() == 0.0 && *name != "fp-x" && *name != "fp-y" {
                    format!("{}", end as i64)
                } else {
                    format!("{end}")
                };
                let v =
                    if expect["type"] == "unit_scalar" && !v.contains('.') { format!("{v}.0") } else { v };
                let query = match *name {
                    "fp-x" | "fp-y" => format!("crop=focalpoint&{name}={v}"),
                    _ => format!("{name}={v}"),
                };
                let got = outcome(&query);
                let relative = matches!(*name, "w" | "h") && expect["type"] == "unit_scalar";
                assert!(got.is_ok() || relative && got == Err("not_supported"), "{query}: {got:?}");
            }
        }
        // imgix's default written out is no option at all, unless listed as different.
        if let Some(default) = p.get("default").filter(|_| !DEFAULT_DIFFERS.iter().any(|(n, _)| n == name)) {
            let v = default.as_str().map_or_else(|| default.to_string(), str::to_string);
            assert_eq!(outcome(&format!("{name}={v}")), Ok(String::new()), "{name}={v} is imgix's default");
        }
    }
}

#[test]
fn the_listed_differences_are_real() {
    // Each default listed as different does change the variant, each narrower range refuses.
    assert_eq!(outcome("fit=clip&w=10"), Ok("c_fit,w_10".into()));
    assert_eq!(outcome("q=75"), Ok("q_75".into()));
    assert_eq!(outcome("page=1"), Ok("pg_1".into()));
    for query in ["dpr=5", "q=0", "blur=2000", "rot=45", "fp-z=10"] {
        assert!(outcome(query).is_err(), "{query}");
    }
    // The two names pixflow defined first keep pixflow's meaning.
    assert_eq!(outcome("f=webp"), Ok("f_webp".into()));
    assert_eq!(outcome("exp=2000000000"), Ok(String::new()));
}
