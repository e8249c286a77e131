//! URL signatures: `s_` = the first 16 characters of base64url(HMAC-SHA256(secret,
//! canonical options with `exp_` + "/" + key)), compared in constant time.

use super::{Key, TransformSpec};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a request's signature is refused (all 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// Options without `s_` while a secret is configured.
    #[error("this URL must be signed")]
    Missing,
    /// `s_` does not match.
    #[error("the signature does not match")]
    Invalid,
    /// Past `exp_`.
    #[error("the URL has expired")]
    Expired,
}

/// Signs and checks URLs with one secret.
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// The signature of `spec` (as written, `t_` unexpanded, `exp_` included) for `key`.
pub fn sign(secret: &[u8], spec: &TransformSpec, key: &Key) -> String {
    sign_path(secret, spec, key.as_str())
}

/// The signature over options and any path (`_/transform` for POSTed images).
pub fn sign_path(secret: &[u8], spec: &TransformSpec, key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(spec.as_authored().tokens(true).join(",").as_bytes());
    mac.update(b"/");
    mac.update(key.as_bytes());
    let full = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    full[..16].to_string()
}

impl Signer {
    /// A signer over `secret`.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Signer { secret: secret.into() }
    }

    /// The signature for a spec and key.
    pub fn signature(&self, spec: &TransformSpec, key: &Key) -> String {
        sign(&self.secret, spec, key)
    }

    /// Checks `given` against the expected signature.
    pub fn verify(&self, spec: &TransformSpec, key: &Key, given: Option<&str>) -> Result<(), SignError> {
        self.verify_path(spec, key.as_str(), given)
    }

    /// Checks `given` for options over any path.
    pub fn verify_path(
        &self,
        spec: &TransformSpec,
        path: &str,
        given: Option<&str>,
    ) -> Result<(), SignError> {
        let given = given.ok_or(SignError::Missing)?;
        let expected = sign_path(&self.secret, spec, path);
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            Ok(())
        } else {
            Err(SignError::Invalid)
        }
    }
}

impl Signer {
    /// Checks the signature of AWS's image handler's forms: the lowercase hex HMAC-SHA256 of
    /// `text` (`dialects::aws_handler::signed_text`), compared in constant time.
    pub fn verify_handler(&self, text: &str, given: Option<&str>) -> Result<(), SignError> {
        let given = given.ok_or(SignError::Missing)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(text.as_bytes());
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        if bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            Ok(())
        } else {
            Err(SignError::Invalid)
        }
    }
}

/// Refuses a spec whose `exp_` is before `now` (unix seconds).
pub fn check_expiry(spec: &TransformSpec, now: u64) -> Result<(), SignError> {
    match spec.expires {
        Some(exp) if exp < now => Err(SignError::Expired),
        _ => Ok(()),
    }
}
