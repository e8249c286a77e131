//! Named presets (`t_NAME`): configured token lists that a URL can name instead of spelling out.

use super::parse::{parse_options, SpecError};
use super::TransformSpec;
use std::collections::BTreeMap;

/// Presets by name, each already parsed and validated.
#[derive(Debug, Clone, Default)]
pub struct Presets(BTreeMap<String, TransformSpec>);

impl Presets {
    /// Whether `name` may name a preset.
    pub fn valid_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    /// Parses `name=tokens;name=tokens` (newlines also separate entries, `#` starts a comment).
    pub fn parse(text: &str, max_side: u32) -> Result<Presets, String> {
        let mut map = BTreeMap::new();
        let entries = text.lines().map(|l| l.split('#').next().unwrap_or("")).flat_map(|l| l.split(';'));
        for entry in entries.map(str::trim).filter(|e| !e.is_empty()) {
            let (name, tokens) =
                entry.split_once('=').ok_or_else(|| format!("preset `{entry}` is not name=tokens"))?;
            let name = name.trim();
            if !Self::valid_name(name) {
                return Err(format!("preset name `{name}` must be 1-64 of a-z A-Z 0-9 _ -"));
            }
            let spec = parse_options(tokens.trim(), max_side)
                .map_err(|e: SpecError| format!("preset `{name}`: {e}"))?;
            if spec.preset.is_some() || spec.expires.is_some() {
                return Err(format!("preset `{name}` may not contain t_ or exp_ tokens"));
            }
            // A hint must be in the URL the caches are keyed on, not behind a preset's name.
            if spec.auto_dpr.is_some() || spec.auto_width.is_some() {
                return Err(format!(
                    "preset `{name}` may not contain dpr_auto or w_auto: write them in the URL"
                ));
            }
            if map.insert(name.to_string(), spec).is_some() {
                return Err(format!("preset `{name}` is defined twice"));
            }
        }
        Ok(Presets(map))
    }

    /// The preset's spec.
    pub fn get(&self, name: &str) -> Option<&TransformSpec> {
        self.0.get(name)
    }

    /// Replaces `t_NAME` by the preset's tokens; tokens given in the URL win over the preset's.
    pub fn expand(&self, spec: &TransformSpec) -> Result<TransformSpec, SpecError> {
        match &spec.preset {
            None => Ok(spec.clone()),
            Some(name) => match self.get(name) {
                Some(base) => Ok(spec.over(base)),
                None => Err(SpecError {
                    code: "unknown_preset",
                    token: format!("t_{name}"),
                    message: "no preset by that name is configured".into(),
                }),
            },
        }
    }
}
