//! Masking of secrets in any text shown to a user or written to a log.

use std::sync::OnceLock;

use crate::secrets::secret::REDACTED;

/// Key-shaped text a service may echo, even partly starred (`sk_test_****1234`).
fn echo_pattern() -> Option<&'static regex::Regex> {
    static PATTERN: OnceLock<Option<regex::Regex>> = OnceLock::new();
    PATTERN
        .get_or_init(|| {
            regex::Regex::new(concat!(
                r"\b(?:sk|rk)_(?:test|live)_[0-9A-Za-z*]+",
                r"|\bsb_secret_[0-9A-Za-z_-]+",
                r"|\bsbp_[0-9a-f]+",
                r"|\bos_v2_(?:app|org)_[0-9A-Za-z]+",
                r"|\bwhsec_[0-9A-Za-z+/=]+",
                r"|\b(?:sk|atk)_[0-9A-Za-z]{8,}",
                r"|\beyJ[0-9A-Za-z_-]*\.[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+",
                r"|[0-9A-Za-z_]*\*{3,}[0-9A-Za-z]*",
            ))
            .ok()
        })
        .as_ref()
}

/// The secrets of one run; [`Masker::mask`] hides them (and key-shaped echoes) in text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Masker {
    secrets: Vec<String>,
}

impl Masker {
    /// Adds a secret. Very short values are not masked (they would garble text) but are never
    /// secrets in practice.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.len() >= 6 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `text` with every known secret and every key-shaped echo replaced by `[redacted]`.
    pub(crate) fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        match echo_pattern() {
            Some(re) => re.replace_all(&out, REDACTED).into_owned(),
            None => out,
        }
    }
}

/// Whether an extracted value's name says it is a credential (`idToken`, `client_secret`).
pub(crate) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["token", "secret", "password", "key"]
        .iter()
        .any(|w| lower.contains(w))
}
