//! Source keys: what may name an original, checked once, after a single percent-decode.

use super::parse::SpecError;
use std::fmt;

/// The longest key accepted, in bytes (S3's own limit).
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// A validated source key: relative, no `.`/`..`/empty segments, no backslash or control
/// characters, at most 1024 bytes, not under the reserved `_` segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    /// The key as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file extension, lower-cased, if any.
    pub fn extension(&self) -> Option<String> {
        let name = self.0.rsplit('/').next()?;
        name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
    }
}

/// What a key's characters become in a URL path: everything but unreserved characters and `/`.
const PATH: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

impl Key {
    /// The key percent-encoded for a URL path (decoding it once gives the key back).
    pub fn to_url_path(&self) -> String {
        percent_encoding::utf8_percent_encode(&self.0, PATH).to_string()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks a decoded key.
pub fn validate_key(key: &str) -> Result<Key, SpecError> {
    let refuse =
        |why: &str| Err(SpecError { code: "bad_key", token: key.to_string(), message: why.to_string() });
    if key.is_empty() {
        return refuse("the path names no image");
    }
    if key.len() > MAX_KEY_BYTES {
        return refuse("the key is longer than 1024 bytes");
    }
    if key.starts_with('/') {
        return refuse("the key starts with /");
    }
    if key.contains('\\') {
        return refuse("the key contains a backslash");
    }
    if key.chars().any(char::is_control) {
        return refuse("the key contains a control character");
    }
    for segment in key.split('/') {
        match segment {
            "" => return refuse("the key has an empty segment"),
            "." | ".." => return refuse("the key has a . or .. segment"),
            _ => {}
        }
    }
    if key == "_" || key.starts_with("_/") {
        return refuse("keys under _/ are reserved");
    }
    Ok(Key(key.to_string()))
}
