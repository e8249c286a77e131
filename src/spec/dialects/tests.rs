//! The query and path dialects' tests: imgix's names and their meanings, parameters no dialect
//! defines, and the AWS image handler's Thumbor paths and base64 JSON read or refused by name.

use crate::spec::{parse_options, parse_request};
use proptest::prelude::*;

/// imgix's query language (DESIGN §2 "Query style speaks imgix"): its meanings, not the path's.
#[test]
fn imgix_names_mean_what_imgix_documents() {
    for (query, want) in [
        ("fit=crop&w=200&h=200", "c_fill,h_200,w_200"),
        ("fit=fill&w=200&h=200", "c_pad,h_200,w_200"),
        ("fit=min&w=200&h=200", "c_lfill,h_200,w_200"),
        ("fit=fillmax&w=200&h=200", "c_lpad,h_200,w_200"),
        ("fit=clip&w=200", "c_fit,w_200"),
        ("fit=max&w=200", "w_200"),
        ("fit=scale&w=2&h=3", "c_scale,h_3,w_2"),
        ("fit=crop&crop=top,left&w=2&h=2", "c_fill,g_north_west,h_2,w_2"),
        ("fit=crop&crop=bottom&w=2&h=2", "c_fill,g_south,h_2,w_2"),
        ("fit=crop&crop=focalpoint&fp-x=0.25&fp-y=0.7&w=2&h=2", "c_fill,g_0.25x0.7,h_2,w_2"),
        ("fp-y=0.7&crop=focalpoint&fp-x=0.333333&fit=crop&w=2&h=2", "c_fill,g_0.3333x0.7,h_2,w_2"),
        ("fit=crop&crop=focalpoint&w=2&h=2", "c_fill,h_2,w_2"),
        ("fit=crop&fp-x=0.2&w=2&h=2", "c_fill,h_2,w_2"),
        ("crop=focalpoint,entropy&fp-x=0.2&fp-y=0.2&fp-z=1", "g_0.2x0.2"),
        ("crop=faces,edges,top", "g_auto"),
        ("crop=faces,top", "g_north"),
        ("auto=format,compress&w=10", "f_auto,q_auto,w_10"),
        ("auto=format&fm=png", "f_png"),
        ("auto=compress", "q_auto"),
        ("auto=compress&q=60", "q_60"),
        ("bg=f00&fit=fill&w=2&h=2", "bg_ff0000,c_pad,h_2,w_2"),
        ("bg=FF00FF00", "bg_00ff00"),
        ("bg=f0a0", "bg_00aa00"),
        ("bg=%23123456", "bg_123456"),
        ("bg=RebeccaPurple", "bg_663399"),
        ("bg=fff", ""),
        ("blur=0", ""),
        ("rot=0&flip=hv", "a_hflip,a_vflip"),
        ("fm=pjpg", "f_jpeg"),
        ("fm=png32", "f_png"),
        ("expires=2000000000", ""),
        ("rect=10,20,30,40&w=10", "rect_10:20:30:40,w_10"),
        ("v=3&utm_source=x&w=10", "w_10"),
    ] {
        let r = parse_request("/a.jpg", Some(query), 8192).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(r.spec.to_string(), want, "{query}");
    }
    for (query, code) in [
        ("fit=clamp", "not_supported"),
        ("fit=facearea", "not_supported"),
        ("crop=faces", "not_supported"),
        ("crop=top,bottom", "bad_option"),
        ("crop=middle", "bad_option"),
        ("fp-x=1.5&crop=focalpoint", "bad_option"),
        ("fp-z=2", "not_supported"),
        ("auto=enhance", "not_supported"),
        ("auto=sharpen", "bad_option"),
        ("rot=45", "not_supported"),
        ("rot=-90", "not_supported"),
        ("bg=0fff", "not_supported"),
        ("bg=imgixblue", "bad_option"),
        ("fm=png8", "not_supported"),
        ("fm=blurhash", "not_supported"),
        ("w=0.5", "not_supported"),
        ("frame=2-4", "not_supported"),
        ("txt=hello", "not_supported"),
        ("mark-align=top", "not_supported"),
        ("sat=-100", "not_supported"),
        ("t=hello", "not_supported"),
        ("crop=entropy&g=north", "repeated_option"),
    ] {
        let e = parse_request("/a.jpg", Some(query), 8192).expect_err(query);
        assert_eq!(e.code, code, "{query}: {e}");
    }
}

#[test]
fn parameters_no_one_defines_are_kept_as_written_for_the_edge() {
    let r = parse_request("/a.jpg", Some("v=3&w=10&utm_source=a%20b&flag"), 8192).unwrap();
    assert_eq!(r.ignored, ["v=3", "utm_source=a%20b", "flag="]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Thumbor-style paths of any shape are read or refused by name, and what is read is a spec
    /// whose canonical form reads back as itself.
    #[test]
    fn handler_paths_are_read_or_refused(
        parts in prop::collection::vec(
            "(unsafe|fit-in|smart|left|top|bottom|-?[0-9]{0,4}x-?[0-9]{0,4}|[0-9]{1,3}x[0-9]{1,3}:[0-9]{1,3}x[0-9]{1,3}|filters:[a-z_]{1,12}\\([0-9a-f,]{0,8}\\)(:[a-z_]{1,8}\\([0-9]{0,3}\\))?|s3:b)",
            1..6,
        ),
        key in "[a-z]{1,4}\\.jpg",
    ) {
        let path = format!("/{}/{key}", parts.join("/"));
        if let Ok(r) = parse_request(&path, None, 8192) {
            let shown = r.spec.to_string();
            prop_assert_eq!(parse_options(&shown, 8192).unwrap().to_string(), shown);
        }
    }

    /// Base64 JSON of any shape is read, refused by name, or (not an object) a plain key.
    #[test]
    fn handler_json_is_read_or_refused(json in any_json(3)) {
        use base64::Engine as _;
        let path = format!("/{}", base64::engine::general_purpose::STANDARD.encode(json.to_string()));
        match parse_request(&path, None, 8192) {
            Ok(r) => {
                let shown = r.spec.to_string();
                prop_assert_eq!(parse_options(&shown, 8192).unwrap().to_string(), shown);
            }
            Err(e) => prop_assert!(!e.token.is_empty() || !e.message.is_empty()),
        }
    }
}

/// JSON values shaped like the handler's requests: its names, and anything.
fn any_json(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    let names = prop::sample::select(vec![
        "key",
        "bucket",
        "edits",
        "resize",
        "width",
        "height",
        "fit",
        "background",
        "position",
        "grayscale",
        "flip",
        "flop",
        "rotate",
        "toFormat",
        "jpeg",
        "webp",
        "quality",
        "smartCrop",
        "crop",
        "left",
        "top",
        "flatten",
        "r",
        "g",
        "b",
        "alpha",
        "tint",
        "withoutEnlargement",
        "outputFormat",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        (0u64..3000).prop_map(serde_json::Value::from),
        (-1e4f64..1e4).prop_map(serde_json::Value::from),
        "(a\\.jpg|cover|contain|fill|inside|outside|webp|jpeg|tiff|red|#fff|ffff|entropy|left top|x)"
            .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(depth, 24, 6, move |inner| {
        prop::collection::vec((names.clone(), inner), 0..6).prop_map(|kv| {
            serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        })
    })
}
