//! Secret values in memory: wiped on drop, redacted in `Debug` and `Display`, not serializable
//! unless a caller opts in with [`serialize_exposed`].

use std::fmt;

use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

/// What every redacted secret value shows instead of itself.
pub const REDACTED: &str = "[redacted]";

/// A secret string (an API key, a token). Wiped on drop; `Debug`/`Display` print `[redacted]`.
#[derive(Clone, Default)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps `value`; the string is moved, not copied.
    pub fn new(value: String) -> SecretString {
        SecretString(Zeroizing::new(value))
    }

    /// The secret text. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString::new(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Secret bytes (key material, decrypted credentials). Wiped on drop; `Debug` prints a redaction.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// The capacity of the buffer (what a caller that must never reallocate it checks).
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }

    /// Wraps `bytes`; the vector is moved, not copied.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The secret bytes. Do not log them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Mutable access for in-place decryption.
    pub(crate) fn expose_secret_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        SecretBytes::new(bytes)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{REDACTED} ({} bytes)", self.0.len())
    }
}

/// Opt-in serialization of a secret, for `#[serde(serialize_with = "serialize_exposed")]` on a
/// field that must carry the plaintext (for instance a `.env` writer's input).
///
/// # Errors
/// Whatever the serializer reports.
pub fn serialize_exposed<S: serde::Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// The value of one secret config field. Wiped on drop; `Debug` prints a redaction.
///
/// Secret fields are almost always strings; other JSON values are kept as their compact JSON text.
#[derive(Clone)]
pub struct SecretValue {
    text: Zeroizing<String>,
    is_string: bool,
}

impl SecretValue {
    /// A secret string value.
    pub fn string(value: String) -> SecretValue {
        SecretValue {
            text: Zeroizing::new(value),
            is_string: true,
        }
    }

    /// Takes `value` over, wiping the strings inside it when it is not a plain string.
    pub fn from_json(mut value: Value) -> SecretValue {
        if let Value::String(s) = value {
            return SecretValue::string(s);
        }
        let text = value.to_string();
        wipe_value(&mut value);
        SecretValue {
            text: Zeroizing::new(text),
            is_string: false,
        }
    }

    /// The secret string, or `None` if the value is not a JSON string. Do not log it.
    pub fn expose_str(&self) -> Option<&str> {
        self.is_string.then_some(self.text.as_str())
    }

    /// The value as JSON. The result is an ordinary [`Value`], not wiped on drop: keep it short-lived.
    pub fn expose_json(&self) -> Value {
        if self.is_string {
            Value::String(self.text.to_string())
        } else {
            serde_json::from_str(&self.text).unwrap_or(Value::Null)
        }
    }

    /// Appends the JSON form of the value to `out` (which must have room: see [`Self::json_len_bound`]).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        if self.is_string {
            // Writing a &str into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, self.text.as_str());
        } else {
            out.extend_from_slice(self.text.as_bytes());
        }
    }

    /// An upper bound of the length of the JSON form (every byte escaped as `\u00XX`).
    pub(crate) fn json_len_bound(&self) -> usize {
        self.text.len() * 6 + 2
    }
}

impl PartialEq for SecretValue {
    /// Compares in time that depends on the lengths only, not on where the values differ.
    fn eq(&self, other: &SecretValue) -> bool {
        let (a, b) = (self.text.as_bytes(), other.text.as_bytes());
        self.is_string == other.is_string
            && a.len() == b.len()
            && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Overwrites every string (keys included) inside `value` before it is dropped.
pub(crate) fn wipe_value(value: &mut Value) {
    match value {
        Value::String(s) => s.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe_value),
        Value::Object(map) => {
            let taken = std::mem::take(map);
            for (mut key, mut item) in taken {
                key.zeroize();
                wipe_value(&mut item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The decrypted secrets were not the JSON object the vault writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "decrypted credentials are not a JSON object of secret fields; the record was written by an incompatible version"
)]
pub struct SecretFormatError;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn debug_and_display_redact() {
        let s = SecretString::new("sk_live_X".into());
        assert_eq!(format!("{s} {s:?}"), "[redacted] [redacted]");
        let b = SecretBytes::new(b"sk_live_X".to_vec());
        assert_eq!(format!("{b:?}"), "[redacted] (9 bytes)");
    }

    #[derive(serde::Serialize)]
    struct EnvLine {
        name: String,
        #[serde(serialize_with = "serialize_exposed")]
        value: SecretString,
    }

    #[test]
    fn serialization_needs_an_explicit_opt_in() {
        let line = EnvLine {
            name: "STRIPE_SECRET_KEY".into(),
            value: SecretString::new("sk_test_1".into()),
        };
        assert_eq!(
            serde_json::to_value(&line).ok(),
            Some(json!({"name": "STRIPE_SECRET_KEY", "value": "sk_test_1"}))
        );
    }
}
