//! One test per fixed bug, each saying which bug it guards. Crash inputs stay here as data.

use crate::{get, state};
use http::StatusCode;

/// Bug: `?o=` followed by `o_` ten thousand times recursed once per level and overflowed the
/// stack before any signature check, aborting the whole process. `o=` no longer nests.
#[tokio::test]
async fn deeply_nested_o_options_are_one_400_not_a_stack_overflow() {
    let url = format!("/rocket.jpg?o={}w_1", "o_".repeat(10_000));
    let got = get(&state(), &url).await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    assert_eq!(got.json()["error"], "bad_option");
    assert!(got.json()["message"].as_str().unwrap().contains("cannot nest"), "{:?}", got.json());
}

/// The parser's worst case up to the URL limit is linear: the longest repeats of one token are
/// refused at the second copy, a 16 KB run of commas is a key over the length limit, and 16,000
/// leading zeros are still the number 1.
#[tokio::test]
async fn long_repeats_up_to_the_url_limit_are_refused_quickly() {
    let s = state();
    let repeated = format!("/{}/rocket.jpg", vec!["w_1"; 4000].join(","));
    let commas = format!("/w_1{}/rocket.jpg", ",".repeat(16_000));
    let digits = format!("/w_{}1/quadrants.jpg", "0".repeat(16_000));
    let query = format!("/rocket.jpg?{}", vec!["w=1"; 4000].join("&"));
    let cases = [(repeated, 400), (commas, 400), (digits, 200), (query, 400)];
    for (url, status) in cases {
        let started = std::time::Instant::now();
        let got = get(&s, &url).await;
        assert_eq!(got.status.as_u16(), status, "{}", &url[..40]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{}: {:?}",
            &url[..40],
            started.elapsed()
        );
    }
}
