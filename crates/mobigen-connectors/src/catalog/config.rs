//! Config validation: the connector's JSON Schema (with defaults filled in) plus the cross-field
//! rules of its manifest. Every problem is reported at once, each with the JSON pointer of the
//! field at fault, a plain message and a suggestion. No message ever contains a config value.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use serde_json::Value;

use crate::catalog::connector::Connector;
use crate::catalog::definition::{ConfigRule, ConnectorDefinition, Sensitivity, Severity};

/// Placeholder shown instead of a secret value.
use crate::secrets::secret::{REDACTED, SecretValue, wipe_value};

/// One finding about a config.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigIssue {
    /// JSON pointer of the field at fault (`/secretKey`); empty for the whole config.
    pub pointer: String,
    /// What is wrong, without the value.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// Error (refused) or warning (accepted, reported).
    pub severity: Severity,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(config)"
        } else {
            &self.pointer
        };
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {pointer}: {}", self.message)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, "\n    hint: {suggestion}")?;
        }
        Ok(())
    }
}

/// A config that was refused, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid config for connector `{connector}`:{}", self.issues.iter().map(|i| format!("\n  {i}")).collect::<String>())]
pub struct ConfigError {
    /// The connector's id.
    pub connector: String,
    /// Every problem (errors, and any warnings found along the way).
    pub issues: Vec<ConfigIssue>,
}

/// A config that passed validation, with defaults filled in.
///
/// The secret fields (as the connector's definition classifies them) are taken out when the
/// config is validated and kept only as [`SecretValue`]s (wiped on drop, redacted by `Debug`);
/// the JSON that stays behind has [`REDACTED`] in their place, so it can be read, cloned and
/// printed freely. [`Self::secret`] reads one secret, [`Self::expose`] builds the whole config
/// for the moment it is needed.
#[derive(Clone, PartialEq)]
pub struct ValidConfig {
    connector: String,
    redacted: Value,
    secrets: BTreeMap<String, SecretValue>,
    secret_pointers: Vec<String>,
    warnings: Vec<ConfigIssue>,
}

/// The whole config, secrets included, as JSON ([`ValidConfig::expose`]). The secret strings in
/// it are overwritten when it is dropped; do not log it or keep copies of it.
pub struct ExposedConfig<'a> {
    value: Value,
    pointers: &'a [String],
}

impl std::ops::Deref for ExposedConfig<'_> {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.value
    }
}

impl Drop for ExposedConfig<'_> {
    fn drop(&mut self) {
        wipe_at(&mut self.value, self.pointers);
    }
}

impl fmt::Debug for ExposedConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExposedConfig(")?;
        f.write_str(REDACTED)?;
        f.write_str(")")
    }
}

/// Overwrites the values at `pointers` inside `values`.
fn wipe_at(values: &mut Value, pointers: &[String]) {
    for pointer in pointers {
        if let Some(slot) = values.pointer_mut(pointer) {
            wipe_value(slot);
        }
    }
}

impl ValidConfig {
    /// The connector's id.
    pub fn connector_id(&self) -> &str {
        &self.connector
    }

    /// The config values, defaults included, with [`REDACTED`] in place of every secret field
    /// (key order kept): safe to print, store and use for anything but the secrets themselves.
    pub fn redacted(&self) -> &Value {
        &self.redacted
    }

    /// The secret field at `pointer` (`/secretKey`), if the config has it.
    pub fn secret(&self, pointer: &str) -> Option<&SecretValue> {
        self.secrets.get(pointer)
    }

    /// Every secret field the config has, by pointer.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.secrets.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The whole config, secrets put back in their places: for code that needs the values
    /// themselves (request templates, the `.env` file, the vault). Keep it short-lived.
    pub fn expose(&self) -> ExposedConfig<'_> {
        let mut value = self.redacted.clone();
        for (pointer, secret) in &self.secrets {
            if let Some(slot) = value.pointer_mut(pointer) {
                *slot = secret.expose_json();
            }
        }
        ExposedConfig {
            value,
            pointers: &self.secret_pointers,
        }
    }

    /// Findings that did not refuse the config.
    pub fn warnings(&self) -> &[ConfigIssue] {
        &self.warnings
    }

    /// JSON pointers of the fields classified secret by the connector's definition.
    pub fn secret_pointers(&self) -> &[String] {
        &self.secret_pointers
    }

    /// The connector id, the redacted values and the secrets, taken apart.
    pub(crate) fn into_parts(self) -> (String, Value, BTreeMap<String, SecretValue>) {
        (self.connector, self.redacted, self.secrets)
    }
}

impl fmt::Debug for ValidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidConfig")
            .field("connector", &self.connector)
            .field("values", &self.redacted)
            .field("warnings", &self.warnings)
            .finish()
    }
}

impl Connector {
    /// Validates `config` against this connector's schema and rules.
    ///
    /// # Errors
    /// [`ConfigError`] listing every violation (schema and cross-field rules) with its pointer.
    pub fn validate_config(&self, config: &Value) -> Result<ValidConfig, ConfigError> {
        let def = self.definition();
        let mut values = config.clone();
        normalize(def, &mut values);
        fill_defaults(&def.config_schema, &mut values);
        let mut issues: Vec<ConfigIssue> = self
            .config_validator()
            .iter_errors(&values)
            .map(|e| schema_issue(def, &e))
            .collect();
        issues.extend(rule_issues(def, &values));
        issues.extend(config_file_issues(def, &values));
        let error_count = issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .count();
        let secret_pointers: Vec<String> = def.secret_fields().map(str::to_string).collect();
        if error_count > 0 {
            wipe_at(&mut values, &secret_pointers);
            return Err(ConfigError {
                connector: def.id.clone(),
                issues,
            });
        }
        // Each secret leaf moves into a SecretValue (no copy is left); REDACTED takes its place.
        let mut secrets = BTreeMap::new();
        for pointer in &secret_pointers {
            if let Some(slot) = values.pointer_mut(pointer) {
                let value = std::mem::replace(slot, Value::String(REDACTED.into()));
                secrets.insert(pointer.clone(), SecretValue::from_json(value));
            }
        }
        Ok(ValidConfig {
            connector: def.id.clone(),
            redacted: values,
            secrets,
            secret_pointers,
            warnings: issues,
        })
    }
}

/// A config value written verbatim to a `.json` file (`configFiles`, Firebase's
/// `google-services.json`) must be JSON: the library never writes a file that does not parse
/// (invariant I1). Found by the fuzz target `config`.
fn config_file_issues(def: &ConnectorDefinition, values: &Value) -> Vec<ConfigIssue> {
    def.config_files
        .iter()
        .filter(|file| file.target.to_ascii_lowercase().ends_with(".json"))
        .filter_map(|file| {
            let text = values.pointer(&file.field)?.as_str()?;
            let error = serde_json::from_str::<Value>(text).err()?;
            Some(ConfigIssue {
                pointer: file.field.clone(),
                message: format!(
                    "is not valid JSON (line {}, column {}), so it cannot be written to `{}`",
                    error.line(),
                    error.column(),
                    file.target
                ),
                suggestion: Some(format!(
                    "paste the whole contents of `{}` as downloaded",
                    file.target
                )),
                severity: Severity::Error,
            })
        })
        .collect()
}

/// Applies each field's `normalize` to its string value (`"USD"` -> `"usd"`).
fn normalize(def: &ConnectorDefinition, values: &mut Value) {
    for (pointer, field) in &def.fields {
        let Some(rule) = field.normalize else {
            continue;
        };
        if let Some(Value::String(text)) = values.pointer_mut(pointer) {
            *text = rule.apply(text);
        }
    }
}

/// Inserts the `default` of every absent property, descending into objects present (or just
/// created from a default).
fn fill_defaults(schema: &Value, instance: &mut Value) {
    let (Some(props), Some(object)) = (
        schema.get("properties").and_then(Value::as_object),
        instance.as_object_mut(),
    ) else {
        return;
    };
    for (name, sub) in props {
        if !object.contains_key(name) {
            if let Some(default) = sub.get("default") {
                object.insert(name.clone(), default.clone());
            } else if sub.get("properties").is_some() && sub.get("type") == Some(&"object".into()) {
                // An optional object whose members have defaults: materialise it only when some
                // member does have one, so `features: {}` style groups get their flags.
                let mut created = Value::Object(Default::default());
                fill_defaults(sub, &mut created);
                if created.as_object().is_some_and(|o| !o.is_empty()) {
                    object.insert(name.clone(), created);
                }
                continue;
            }
        }
        if let Some(child) = object.get_mut(name) {
            fill_defaults(sub, child);
        }
    }
}

fn field_hint(def: &ConnectorDefinition, pointer: &str) -> Option<String> {
    def.fields.get(pointer).and_then(|f| f.hint.clone())
}

/// The schema node describing the instance at `pointer`, following `properties` only.
fn schema_at<'a>(schema: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut node = schema;
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        node = node.get("properties")?.get(&token)?;
    }
    Some(node)
}

fn schema_issue(def: &ConnectorDefinition, error: &jsonschema::ValidationError<'_>) -> ConfigIssue {
    use jsonschema::error::ValidationErrorKind as Kind;
    let at = error.instance_path().to_string();
    let issue = |pointer: String, message: String, suggestion: Option<String>| ConfigIssue {
        pointer,
        message,
        suggestion,
        severity: Severity::Error,
    };
    match error.kind() {
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let pointer = format!(
                "{at}/{}",
                crate::catalog::manifest_check::escape_pointer_token(name)
            );
            let suggestion =
                field_hint(def, &pointer).or_else(|| Some(format!("add `{name}` to the config")));
            issue(pointer, "is required but missing".into(), suggestion)
        }
        Kind::AdditionalProperties { unexpected } => {
            let known: Vec<&str> = schema_at(&def.config_schema, &at)
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object)
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let hints: Vec<String> = unexpected
                .iter()
                .map(
                    |name| match crate::catalog::search::closest_id(known.iter().copied(), name) {
                        Some(k) => format!("`{name}`: did you mean `{k}`?"),
                        None => format!("`{name}`: remove it"),
                    },
                )
                .collect();
            issue(
                at,
                format!(
                    "unknown field{} {}",
                    if unexpected.len() == 1 { "" } else { "s" },
                    unexpected
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(hints.join("; ")),
            )
        }
        _ => {
            let suggestion = field_hint(def, &at);
            issue(at, error.masked_with("the value").to_string(), suggestion)
        }
    }
}

fn rule_issues(def: &ConnectorDefinition, values: &Value) -> Vec<ConfigIssue> {
    let mut issues = Vec::new();
    for rule in &def.rules {
        match rule {
            ConfigRule::SameCapture {
                fields,
                pattern,
                group,
                message,
                suggestion,
            } => {
                // The pattern was compiled when the manifest was loaded; a failure here cannot
                // happen for a loaded connector, and would only skip the rule.
                let Ok(re) = regex::Regex::new(pattern) else {
                    continue;
                };
                let mut first: Option<&str> = None;
                for field in fields {
                    let Some(text) = values.pointer(field).and_then(Value::as_str) else {
                        continue;
                    };
                    let Some(captured) = re
                        .captures(text)
                        .and_then(|c| c.get(*group))
                        .map(|m| m.as_str())
                    else {
                        continue;
                    };
                    match first {
                        None => first = Some(captured),
                        Some(f) if f != captured => {
                            issues.push(ConfigIssue {
                                pointer: field.clone(),
                                message: message.clone(),
                                suggestion: Some(suggestion.clone()),
                                severity: Severity::Error,
                            });
                            break;
                        }
                        Some(_) => {}
                    }
                }
            }
            ConfigRule::JwtClaimNot {
                field,
                claim,
                forbidden,
                message,
                suggestion,
            } => {
                let claim_value = values
                    .pointer(field)
                    .and_then(Value::as_str)
                    .and_then(jwt_claims)
                    .and_then(|claims| {
                        claims
                            .get(claim)
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                if claim_value.is_some_and(|v| forbidden.contains(&v)) {
                    issues.push(ConfigIssue {
                        pointer: field.clone(),
                        message: message.clone(),
                        suggestion: Some(suggestion.clone()),
                        severity: Severity::Error,
                    });
                }
            }
            ConfigRule::Requires {
                when,
                fields,
                severity,
                message,
                suggestion,
            } => {
                if when.holds(values) {
                    for field in fields {
                        if values.pointer(field).is_none_or(Value::is_null) {
                            issues.push(ConfigIssue {
                                pointer: field.clone(),
                                message: message.clone(),
                                suggestion: Some(suggestion.clone()),
                                severity: *severity,
                            });
                        }
                    }
                }
            }
            ConfigRule::Prefix {
                fields,
                prefix,
                severity,
                message,
                suggestion,
            } => {
                for field in fields {
                    if values
                        .pointer(field)
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.starts_with(prefix.as_str()))
                    {
                        issues.push(ConfigIssue {
                            pointer: field.clone(),
                            message: message.clone(),
                            suggestion: Some(suggestion.clone()),
                            severity: *severity,
                        });
                    }
                }
            }
        }
    }
    issues
}

/// The claims of a JWT (its decoded middle part), or `None` if `token` is not a JWT.
fn jwt_claims(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether a field of `def` is secret.
pub fn is_secret(def: &ConnectorDefinition, pointer: &str) -> bool {
    def.fields
        .get(pointer)
        .is_some_and(|f| f.sensitivity == Sensitivity::Secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fill_defaults_fills_nested_groups() {
        let schema = json!({
            "type": "object",
            "properties": {
                "currency": {"type": "string", "default": "usd"},
                "features": {"type": "object", "properties": {
                    "auth": {"type": "boolean", "default": true}
                }}
            }
        });
        let mut config = json!({});
        fill_defaults(&schema, &mut config);
        assert_eq!(
            config,
            json!({"currency": "usd", "features": {"auth": true}})
        );
        let mut config = json!({"currency": "eur", "features": {"auth": false}});
        fill_defaults(&schema, &mut config);
        assert_eq!(
            config,
            json!({"currency": "eur", "features": {"auth": false}})
        );
    }

    #[test]
    fn jwt_claims_decodes_payload_and_rejects_non_jwts() {
        // {"alg":"HS256"} . {"role":"anon"} . sig
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2ln";
        assert_eq!(jwt_claims(token), Some(json!({"role": "anon"})));
        assert_eq!(jwt_claims("sb_publishable_abc"), None);
        assert_eq!(jwt_claims("a.b.c.d"), None);
        assert_eq!(jwt_claims("a.!!!.c"), None);
    }

    /// Issue 15 item 12: the secret leaves leave the JSON when the config is validated.
    #[test]
    fn secret_fields_are_taken_out_when_validated() {
        let registry = crate::Registry::builtin().expect("registry");
        let stripe = registry.lookup("stripe").expect("stripe");
        let input = json!({"publishableKey": "pk_test_PUBLIC", "secretKey": "sk_test_SECRET"});
        let valid = stripe.validate_config(&input).expect("valid");
        let keys: Vec<&String> = valid
            .redacted()
            .as_object()
            .expect("object")
            .keys()
            .collect();
        assert_eq!(keys[..2], ["publishableKey", "secretKey"], "key order kept");
        assert_eq!(valid.redacted()["secretKey"], REDACTED);
        assert_eq!(valid.redacted()["publishableKey"], "pk_test_PUBLIC");
        assert!(!valid.redacted().to_string().contains("sk_test_SECRET"));
        assert!(!format!("{valid:?}").contains("sk_test_SECRET"));
        assert_eq!(
            valid.secret("/secretKey").and_then(SecretValue::expose_str),
            Some("sk_test_SECRET")
        );
        let exposed = valid.expose();
        assert_eq!(exposed["secretKey"], "sk_test_SECRET");
        assert_eq!(exposed["currency"], "usd", "defaults are in");
        assert!(!format!("{exposed:?}").contains("sk_test_SECRET"));
        drop(exposed);
        let other = json!({"publishableKey": "pk_test_PUBLIC", "secretKey": "sk_test_OTHER"});
        assert_ne!(valid, stripe.validate_config(&other).expect("valid"));
        assert_eq!(valid, stripe.validate_config(&input).expect("valid"));
    }

    #[test]
    fn wipe_at_overwrites_the_secret_strings_only() {
        let mut values = json!({"pk": "pk_test_1", "sk": "sk_test_2", "nested": {"token": "t"}});
        wipe_at(
            &mut values,
            &["/sk".into(), "/nested/token".into(), "/absent".into()],
        );
        assert_eq!(
            values,
            json!({"pk": "pk_test_1", "sk": "", "nested": {"token": ""}})
        );
    }
}
