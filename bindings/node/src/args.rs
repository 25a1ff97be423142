//! Reading JavaScript arguments. Every exported function takes its arguments as `Unknown` and
//! reads them here, so a wrong type becomes a `TypeError` (code `INVALID_ARGUMENT`) naming the
//! argument, rather than napi's generic conversion error.

use napi::bindgen_prelude::{
    Buffer, FromNapiValue, Function, JavaScriptClassExt, JsObjectValue, Object, Reference, Unknown,
    ValidateNapiValue,
};
use napi::{Env, JsValue, ValueType};
use serde_json::Value;

use crate::errors::{Failure, Outcome};
use crate::vault::Vault;

fn type_of(value: &Unknown<'_>, name: &str) -> Outcome<ValueType> {
    value
        .get_type()
        .map_err(|e| Failure::argument(format!("{name}: cannot read its type ({e})")))
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        ValueType::External => "an external",
        _ => "an unknown value",
    }
}

/// Converts `value` to `T` after napi's own type check (false when the check fails).
fn convert<T: FromNapiValue + ValidateNapiValue>(env: &Env, value: &Unknown<'_>) -> Option<T> {
    // SAFETY: `env` and `value` are the handles of the current call, alive for its whole
    // duration on this (the JS) thread; `validate` checks the type before `from_napi_value`
    // reads the value as `T`.
    unsafe {
        T::validate(env.raw(), value.raw()).ok()?;
        T::from_napi_value(env.raw(), value.raw()).ok()
    }
}

/// A required string.
///
/// # Errors
/// A `TypeError` failure for anything else.
pub fn string(env: &Env, value: Unknown<'_>, name: &str) -> Outcome<String> {
    match type_of(&value, name)? {
        ValueType::String => convert::<String>(env, &value)
            .ok_or_else(|| Failure::argument(format!("{name}: cannot read the string"))),
        other => Err(Failure::argument(format!(
            "{name} must be a string, got {}",
            type_name(other)
        ))),
    }
}

/// A required, non-empty string.
///
/// # Errors
/// A `TypeError` failure for anything else, or an empty string.
pub fn non_empty(env: &Env, value: Unknown<'_>, name: &str) -> Outcome<String> {
    let text = string(env, value, name)?;
    if text.is_empty() {
        return Err(Failure::argument(format!("{name} must not be empty")));
    }
    Ok(text)
}

/// An optional string (`undefined` and `null` are absent).
///
/// # Errors
/// A `TypeError` failure for any other type.
pub fn optional_string(
    env: &Env,
    value: Option<Unknown<'_>>,
    name: &str,
) -> Outcome<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => match type_of(&v, name)? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            _ => string(env, v, name).map(Some),
        },
    }
}

/// A plain object (not an array, not null), as JSON.
///
/// The object goes through JSON text (`JSON.stringify`, then the JSON parser's nesting limit of
/// 128 levels) rather than a recursive walk in Rust: a self-referencing object or one nested
/// thousands of levels deep is a `TypeError`, never a crash of the process (issue 15 item 10).
/// A number outside JavaScript's exact integer range (beyond ±(2^53 - 1),
/// `Number.MAX_SAFE_INTEGER`) is refused with a `TypeError` naming its place: such a number no
/// longer names one integer, and it used to be clamped to `i64::MAX` silently. Members JSON
/// leaves out (`undefined`, functions, symbols) are left out.
///
/// # Errors
/// A `TypeError` failure for anything else, or a value JSON cannot hold.
pub fn object(env: &Env, value: Unknown<'_>, name: &str) -> Outcome<Value> {
    match type_of(&value, name)? {
        ValueType::Object => {
            let json: Value = serde_json::from_str(&json_text(env, value, name)?).map_err(|e| {
                let reason = if e.to_string().contains("recursion limit") {
                    "it is nested more than 128 levels deep".to_string()
                } else {
                    format!("its JSON text is not valid ({e})")
                };
                Failure::argument(format!("{name} must be a JSON-like object: {reason}"))
            })?;
            if json.is_object() {
                exact_numbers(&json, name)?;
                Ok(json)
            } else {
                Err(Failure::argument(format!(
                    "{name} must be a plain object, got an array"
                )))
            }
        }
        other => Err(Failure::argument(format!(
            "{name} must be an object, got {}",
            type_name(other)
        ))),
    }
}

/// The largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Fails on the first number of `value` beyond ±`MAX_SAFE_INTEGER`, naming where it is.
/// `value` comes from the JSON parser, so it is at most 128 levels deep.
fn exact_numbers(value: &Value, at: &str) -> Outcome<()> {
    match value {
        Value::Number(n) => {
            let exact = match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => i.unsigned_abs() <= 9_007_199_254_740_991,
                (None, Some(u), _) => u <= 9_007_199_254_740_991,
                (None, None, Some(f)) => f.abs() <= MAX_SAFE_INTEGER,
                (None, None, None) => false,
            };
            if exact {
                Ok(())
            } else {
                Err(Failure::argument(format!(
                    "{at} is {n}, beyond the integers a JavaScript number holds exactly (±Number.MAX_SAFE_INTEGER): pass it as a string"
                )))
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| exact_numbers(item, &format!("{at}[{i}]"))),
        Value::Object(members) => members
            .iter()
            .try_for_each(|(key, item)| exact_numbers(item, &format!("{at}.{key}"))),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// `JSON.stringify(value)`, its exception (a cycle, a BigInt, a stack overflow on a very deep
/// object) turned into a `TypeError` failure naming the argument.
fn json_text(env: &Env, value: Unknown<'_>, name: &str) -> Outcome<String> {
    let not_json = |reason: String| {
        Failure::argument(format!(
            "{name} must be a JSON-like object (no cycles, no BigInt, at most 128 levels deep): {reason}"
        ))
    };
    let global = env
        .get_global()
        .map_err(|e| not_json(format!("cannot reach JSON.stringify ({e})")))?;
    let json: Object<'_> = global
        .get_named_property("JSON")
        .map_err(|e| not_json(format!("cannot reach JSON.stringify ({e})")))?;
    let stringify: Function<'_, Unknown<'_>, Unknown<'_>> = json
        .get_named_property("stringify")
        .map_err(|e| not_json(format!("cannot reach JSON.stringify ({e})")))?;
    let text = stringify
        .call(value)
        .map_err(|e| not_json(e.reason.clone()))?;
    match type_of(&text, name)? {
        ValueType::String => convert::<String>(env, &text)
            .ok_or_else(|| not_json("cannot read its JSON text".into())),
        other => Err(not_json(format!(
            "JSON.stringify gave {} instead of text",
            type_name(other)
        ))),
    }
}

/// An optional plain object (`undefined` and `null` are absent).
///
/// # Errors
/// As [`object`].
pub fn optional_object(
    env: &Env,
    value: Option<Unknown<'_>>,
    name: &str,
) -> Outcome<Option<Value>> {
    match value {
        None => Ok(None),
        Some(v) => match type_of(&v, name)? {
            ValueType::Undefined | ValueType::Null => Ok(None),
            _ => object(env, v, name).map(Some),
        },
    }
}

/// A string (its UTF-8 bytes) or a Buffer / Uint8Array.
///
/// # Errors
/// A `TypeError` failure for anything else.
pub fn bytes(env: &Env, value: Unknown<'_>, name: &str) -> Outcome<Vec<u8>> {
    match type_of(&value, name)? {
        ValueType::String => string(env, value, name).map(String::into_bytes),
        ValueType::Object => convert::<Buffer>(env, &value)
            .map(|b| b.to_vec())
            .ok_or_else(|| {
                Failure::argument(format!(
                    "{name} must be a string or a Buffer, got an object"
                ))
            }),
        other => Err(Failure::argument(format!(
            "{name} must be a string or a Buffer, got {}",
            type_name(other)
        ))),
    }
}

/// A boolean member of an options object (absent: `default`).
///
/// # Errors
/// A `TypeError` failure when present and not a boolean.
pub fn flag(options: Option<&Value>, key: &str, default: bool) -> Outcome<bool> {
    match options.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Failure::argument(format!(
            "options.{key} must be a boolean"
        ))),
    }
}

/// Fails when an options object holds a key not in `known` (a typo would otherwise be ignored).
///
/// # Errors
/// A `TypeError` failure naming the key.
pub fn known_keys(options: Option<&Value>, known: &[&str]) -> Outcome<()> {
    if let Some(object) = options.and_then(Value::as_object) {
        for key in object.keys() {
            if !known.contains(&key.as_str()) {
                return Err(Failure::argument(format!(
                    "options.{key} is not an option (known: {})",
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// A plain object whose members are read one by one (it may hold class instances, such as a
/// `Vault`, which JSON cannot).
///
/// # Errors
/// A `TypeError` failure for anything else.
pub fn members<'a>(env: &Env, value: Unknown<'a>, name: &str) -> Outcome<Object<'a>> {
    match type_of(&value, name)? {
        ValueType::Object => convert::<Object<'a>>(env, &value)
            .ok_or_else(|| Failure::argument(format!("{name} must be an object"))),
        other => Err(Failure::argument(format!(
            "{name} must be an object, got {}",
            type_name(other)
        ))),
    }
}

/// Member `key` of `object` (`undefined` and `null` are absent).
///
/// # Errors
/// A `TypeError` failure when the member cannot be read (a throwing getter).
pub fn member<'a>(object: &Object<'a>, key: &str, name: &str) -> Outcome<Option<Unknown<'a>>> {
    let value: Unknown<'a> = object
        .get_named_property_unchecked(key)
        .map_err(|e| Failure::argument(format!("{name}.{key}: cannot read it ({e})")))?;
    match type_of(&value, name)? {
        ValueType::Undefined | ValueType::Null => Ok(None),
        _ => Ok(Some(value)),
    }
}

/// Fails when `object` has an own enumerable member not in `known`.
///
/// # Errors
/// A `TypeError` failure naming the member.
pub fn known_members(object: &Object<'_>, known: &[&str], name: &str) -> Outcome<()> {
    let keys: Vec<String> = Object::keys(object)
        .map_err(|e| Failure::argument(format!("{name}: cannot list its members ({e})")))?;
    match keys.iter().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(Failure::argument(format!(
            "{name}.{key} is not a member (known: {})",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// A `Vault` instance, kept alive by a reference (it may be used after the call returns).
///
/// # Errors
/// A `TypeError` failure for anything else.
pub fn vault(env: &Env, value: Unknown<'_>, name: &str) -> Outcome<Reference<Vault>> {
    if !Vault::instance_of(env, &value).unwrap_or(false) {
        return Err(Failure::argument(format!(
            "{name} must be a Vault (from Vault.open)"
        )));
    }
    // SAFETY: `value` is a live handle of the current call on the JS thread, and `instance_of`
    // checked that it is an instance of the `Vault` class, which wraps a `Vault`.
    unsafe { Reference::<Vault>::from_napi_value(env.raw(), value.raw()) }
        .map_err(|e| Failure::argument(format!("{name}: cannot use the Vault ({e})")))
}

/// An optional non-negative whole number member of an options object.
///
/// # Errors
/// A `TypeError` failure when present and not a whole number from 0 to `max`.
pub fn whole(options: Option<&Value>, key: &str, max: u64) -> Outcome<Option<u64>> {
    match options.and_then(|o| o.get(key)) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|n| *n <= max).map(Some).ok_or_else(|| {
            Failure::argument(format!(
                "options.{key} must be a whole number from 0 to {max}"
            ))
        }),
    }
}
