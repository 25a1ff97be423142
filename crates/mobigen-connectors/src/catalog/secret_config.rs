//! [`SecretConfig`] splits a validated connector config into its public part (plain JSON, safe to
//! store and print) and its secret fields (kept only in zeroizing types), using the connector's
//! field classification.
//!
//! ```
//! use mobigen_connectors::{catalog::secret_config::SecretConfig, Registry};
//!
//! let registry = Registry::builtin()?;
//! let config = serde_json::json!({"publishableKey": "pk_test_1", "secretKey": "sk_test_2"});
//! let valid = registry.lookup("stripe")?.validate_config(&config)?;
//! let split = SecretConfig::from_valid(valid);
//! assert_eq!(split.public()["publishableKey"], "pk_test_1");
//! assert!(split.public().get("secretKey").is_none());
//! assert_eq!(split.secret("/secretKey").and_then(|s| s.expose_str()), Some("sk_test_2"));
//! assert!(!format!("{split:?}").contains("sk_test_2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::catalog::config::ValidConfig;
use crate::secrets::secret::{SecretBytes, SecretFormatError, SecretValue};

/// A connector config split into public values and secret fields.
///
/// `Debug` shows the public values and the pointers of the secret fields, never their values.
#[derive(Clone)]
pub struct SecretConfig {
    connector_id: String,
    public: Value,
    secrets: BTreeMap<String, SecretValue>,
}

impl SecretConfig {
    /// Splits a validated config, moving each secret value out of it (no copy is left behind in
    /// the public part).
    pub fn from_valid(valid: ValidConfig) -> SecretConfig {
        let (connector_id, mut public, secrets) = valid.into_parts();
        for pointer in secrets.keys() {
            take_at(&mut public, pointer);
        }
        SecretConfig {
            connector_id,
            public,
            secrets,
        }
    }

    /// Splits `values` of connector `connector_id`: the fields at `secret_pointers` become
    /// secrets, the rest stays public. Pointers that do not resolve are skipped.
    pub fn split_owned<'a>(
        connector_id: String,
        mut values: Value,
        secret_pointers: impl IntoIterator<Item = &'a str>,
    ) -> SecretConfig {
        let mut secrets = BTreeMap::new();
        for pointer in secret_pointers {
            if let Some(value) = take_at(&mut values, pointer) {
                secrets.insert(pointer.to_string(), SecretValue::from_json(value));
            }
        }
        SecretConfig {
            connector_id,
            public: values,
            secrets,
        }
    }

    /// Rebuilds a config from its public part and the plaintext written by
    /// [`Self::secrets_plaintext`].
    ///
    /// # Errors
    /// [`SecretFormatError`] if `plaintext` is not a JSON object.
    pub fn from_parts(
        connector_id: String,
        public: Value,
        plaintext: &SecretBytes,
    ) -> Result<SecretConfig, SecretFormatError> {
        let map: serde_json::Map<String, Value> =
            serde_json::from_slice(plaintext.expose_secret()).map_err(|_| SecretFormatError)?;
        let secrets = map
            .into_iter()
            .map(|(k, v)| (k, SecretValue::from_json(v)))
            .collect();
        Ok(SecretConfig {
            connector_id,
            public,
            secrets,
        })
    }

    /// This config with the secret `value` at `key` (added or replaced).
    #[must_use]
    pub fn with_secret(mut self, key: &str, value: SecretValue) -> SecretConfig {
        self.secrets.insert(key.to_string(), value);
        self
    }

    /// The connector's id.
    pub fn connector_id(&self) -> &str {
        &self.connector_id
    }

    /// The public values (secret fields removed): safe to store, print and bundle.
    pub fn public(&self) -> &Value {
        &self.public
    }

    /// The secret field at `pointer` (`/secretKey`).
    pub fn secret(&self, pointer: &str) -> Option<&SecretValue> {
        self.secrets.get(pointer)
    }

    /// Every secret field, by pointer.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.secrets.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The secret fields as one JSON object `{pointer: value}`, in a wiped-on-drop buffer: what
    /// the vault encrypts.
    pub fn secrets_plaintext(&self) -> SecretBytes {
        let bound = 2 + self
            .secrets
            .iter()
            .map(|(k, v)| k.len() * 6 + 3 + v.json_len_bound())
            .sum::<usize>();
        // Sized up front so the buffer never reallocates (a reallocation would leave an unwiped copy).
        let mut out = Vec::with_capacity(bound);
        out.push(b'{');
        for (i, (pointer, value)) in self.secrets.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let _ = serde_json::to_writer(&mut out, pointer);
            out.push(b':');
            value.write_json(&mut out);
        }
        out.push(b'}');
        SecretBytes::new(out)
    }

    /// The whole config, secrets merged back in, as an ordinary [`Value`] (not wiped on drop):
    /// for re-validation or code generation; keep it short-lived and never log it.
    pub fn expose_full_config(&self) -> Value {
        let mut full = self.public.clone();
        for (pointer, value) in &self.secrets {
            put_at(&mut full, pointer, value.expose_json());
        }
        full
    }
}

impl fmt::Debug for SecretConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretConfig")
            .field("connector", &self.connector_id)
            .field("public", &self.public)
            .field("secrets", &self.secrets)
            .finish()
    }
}

fn unescape_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Removes and returns the object member at `pointer` (array elements are not supported).
fn take_at(root: &mut Value, pointer: &str) -> Option<Value> {
    let (parent, last) = pointer.rsplit_once('/')?;
    match root.pointer_mut(parent)? {
        Value::Object(map) => map.shift_remove(&unescape_token(last)),
        _ => None,
    }
}

/// Sets the object member at `pointer`, creating parent objects as needed.
fn put_at(root: &mut Value, pointer: &str, value: Value) {
    let mut node = root;
    let mut tokens = pointer.split('/').skip(1).map(unescape_token).peekable();
    while let Some(token) = tokens.next() {
        if !node.is_object() {
            *node = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = node else { return };
        if tokens.peek().is_none() {
            map.insert(token, value);
            return;
        }
        node = map
            .entry(token)
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stripe_like() -> SecretConfig {
        SecretConfig::split_owned(
            "stripe".into(),
            json!({
                "publishableKey": "pk_test_PUBLIC1",
                "secretKey": "sk_test_SECRET1",
                "webhook": {"secret": "whsec_SECRET2", "path": "/hook"},
                "account": {"token": 12345, "nested": ["SECRET3"]}
            }),
            ["/secretKey", "/webhook/secret", "/account", "/missing"],
        )
    }

    #[test]
    fn debug_of_a_config_with_secrets_contains_none_of_them() {
        let config = stripe_like();
        let printed = format!("{config:?} {config:#?}");
        for secret in ["SECRET1", "SECRET2", "SECRET3", "12345"] {
            assert!(!printed.contains(secret), "{secret} leaked: {printed}");
        }
        assert!(printed.contains("pk_test_PUBLIC1"));
        assert!(printed.contains("/secretKey"));
    }

    #[test]
    fn split_moves_secrets_out_of_the_public_part() {
        let config = stripe_like();
        assert_eq!(
            config.public(),
            &json!({"publishableKey": "pk_test_PUBLIC1", "webhook": {"path": "/hook"}})
        );
        assert_eq!(
            config
                .secret("/webhook/secret")
                .and_then(|s| s.expose_str()),
            Some("whsec_SECRET2")
        );
        assert_eq!(config.secret("/account").and_then(|s| s.expose_str()), None);
        assert_eq!(
            config.secret("/account").map(|s| s.expose_json()),
            Some(json!({"token": 12345, "nested": ["SECRET3"]}))
        );
        assert!(config.secret("/missing").is_none());
    }

    #[test]
    fn plaintext_round_trips_and_merges_back() {
        let config = stripe_like();
        let plaintext = config.secrets_plaintext();
        let text = std::str::from_utf8(plaintext.expose_secret()).unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<Value>(text).ok(),
            Some(json!({
                "/account": {"token": 12345, "nested": ["SECRET3"]},
                "/secretKey": "sk_test_SECRET1",
                "/webhook/secret": "whsec_SECRET2"
            }))
        );
        let back =
            SecretConfig::from_parts("stripe".into(), config.public().clone(), &plaintext).ok();
        let back = back.map(|c| c.expose_full_config());
        assert_eq!(back, Some(stripe_like_full()));
        assert_eq!(
            SecretConfig::from_parts("x".into(), json!({}), &SecretBytes::new(b"[1]".to_vec()))
                .err(),
            Some(SecretFormatError)
        );
    }

    fn stripe_like_full() -> Value {
        json!({
            "publishableKey": "pk_test_PUBLIC1",
            "secretKey": "sk_test_SECRET1",
            "webhook": {"secret": "whsec_SECRET2", "path": "/hook"},
            "account": {"token": 12345, "nested": ["SECRET3"]}
        })
    }

    #[test]
    fn plaintext_buffer_never_reallocates_even_with_escapes() {
        let config = SecretConfig::split_owned(
            "x".into(),
            json!({"a~1b": "\u{1}\u{2}\"\\\n", "c": "plain"}),
            ["/a~01b", "/a~1b", "/c"],
        );
        let plaintext = config.secrets_plaintext();
        assert!(plaintext.expose_secret().len() <= plaintext.capacity());
        let parsed: Value = serde_json::from_slice(plaintext.expose_secret()).unwrap_or_default();
        assert_eq!(parsed, json!({"/a~01b": "\u{1}\u{2}\"\\\n", "/c": "plain"}));
    }
}
