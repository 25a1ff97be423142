//! Filling `{{...}}` placeholders of manifest checks.

use std::collections::BTreeMap;

use serde_json::Value;

/// A placeholder whose value is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    /// A config field (JSON pointer).
    Config(String),
    /// A value no earlier step extracted.
    Step(String),
    /// Anything else (unknown parameter or base); a manifest check catches these.
    Other(String),
}

/// Where placeholder values come from.
pub(crate) struct Vars<'a> {
    pub(crate) config: &'a Value,
    pub(crate) params: &'a BTreeMap<String, Value>,
    pub(crate) steps: &'a BTreeMap<String, Value>,
    pub(crate) run_id: &'a str,
    /// `""` for `{{apiBase}}`, `NAME` for `{{apiBase.NAME}}`.
    pub(crate) bases: &'a BTreeMap<String, String>,
}

/// How a value is written into the text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Encoding {
    /// As is (headers, form values before form encoding, JSON strings, details).
    Raw,
    /// Percent-encoded (URL parts).
    Url,
}

/// The text of a JSON value: strings as they are, `null` as nothing, anything else as JSON.
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Percent-encodes everything but the unreserved characters of RFC 3986.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Vars<'_> {
    /// The value of one placeholder.
    pub(crate) fn lookup(&self, name: &str) -> Result<Value, Missing> {
        if name == "runId" {
            return Ok(Value::String(self.run_id.to_string()));
        }
        if name == "apiBase" || name.starts_with("apiBase.") {
            let key = name.strip_prefix("apiBase").unwrap_or_default();
            let key = key.strip_prefix('.').unwrap_or(key);
            return self
                .bases
                .get(key)
                .map(|b| Value::String(b.clone()))
                .ok_or_else(|| Missing::Other(name.to_string()));
        }
        if name.starts_with('/') {
            return self
                .config
                .pointer(name)
                .filter(|v| !v.is_null())
                .cloned()
                .ok_or_else(|| Missing::Config(name.to_string()));
        }
        if let Some(param) = name.strip_prefix("param.") {
            return self
                .params
                .get(param)
                .cloned()
                .ok_or_else(|| Missing::Other(name.to_string()));
        }
        if let Some(step) = name.strip_prefix("step.") {
            return self
                .steps
                .get(step)
                .cloned()
                .ok_or_else(|| Missing::Step(step.to_string()));
        }
        Err(Missing::Other(name.to_string()))
    }

    /// `template` with every placeholder filled; base URLs are never encoded.
    pub(crate) fn fill(&self, template: &str, encoding: Encoding) -> Result<String, Missing> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            let text = value_text(&self.lookup(name)?);
            match encoding {
                Encoding::Url if !name.starts_with("apiBase") => {
                    out.push_str(&percent_encode(&text));
                }
                _ => out.push_str(&text),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A JSON body with its string leaves filled; a leaf that is exactly one placeholder takes
    /// the value's own JSON type.
    pub(crate) fn fill_json(&self, value: &Value) -> Result<Value, Missing> {
        Ok(match value {
            Value::String(s) => {
                let trimmed = s.trim();
                let single = trimmed
                    .strip_prefix("{{")
                    .and_then(|r| r.strip_suffix("}}"))
                    .filter(|inner| !inner.contains("{{") && !inner.contains("}}"));
                match single {
                    Some(name) => self.lookup(name.trim())?,
                    None => Value::String(self.fill(s, Encoding::Raw)?),
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|v| self.fill_json(v))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.fill_json(v)?)))
                    .collect::<Result<_, Missing>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// The names of the `{{step.NAME}}` placeholders in `text`.
pub(crate) fn step_names(text: &str) -> impl Iterator<Item = &str> {
    crate::catalog::manifest_check::placeholders(text).filter_map(|p| p.strip_prefix("step."))
}
