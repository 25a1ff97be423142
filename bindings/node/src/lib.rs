//! Node bindings of Mobigen connectors: the npm package `@mobigen/connectors`.
//!
//! Conventions (see bindings/node/README.md):
//! - Names are camelCase; results are plain objects shaped as the CLI's `--json` output.
//! - Every argument is read by the private `args` module, so a wrong type throws a `TypeError` whose `code` is
//!   `INVALID_ARGUMENT`. Every other failure is an `Error` whose `code` is a stable
//!   `errors::Code` and whose message is the Rust message.
//! - The registry is one per process (module-level functions); `registerConnectorDir` adds
//!   connector folders to it. Calls already running keep the registry they started with.
//! - CPU-heavy calls (`planAdd`, `planRemove`, `add`, `remove`, `status`) have `...Async`
//!   variants that run on libuv's thread pool and return Promises. Their arguments are read
//!   before any work starts, so a bad argument throws synchronously even there.
//! - The network calls (`validate`, `runTest`, `oauthBegin`, `oauthComplete`) return Promises
//!   and run on napi's tokio runtime (the private `net` module).
//! - Secrets reach JavaScript only through calls that say so: `Vault#decryptSecret` and
//!   `CredentialStore#decryptCredentials`. Everything else redacts them; OAuth's pending
//!   authorization and tokens cross sealed with the caller's `Vault`.
//! - Panics in the library become errors with code `PANIC`, never a crashed process.

// napi-derive expands `#[napi]` items into FFI glue with `unsafe` blocks; this crate's own
// `unsafe` is in `args::convert` only, with its SAFETY comment.
#![allow(unsafe_code)]
// In test builds napi-derive does not register the exported functions with Node, so nothing
// calls them and everything behind them looks dead; the library build uses all of it.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod errors;
mod net;
mod project;
mod registry;
mod store;
mod vault;

use std::panic::{AssertUnwindSafe, catch_unwind};

use errors::{Code, Failure, Outcome};
use napi::JsValue as _;
use napi::bindgen_prelude::{Function, JsObjectValue, Object, Unknown};

/// The [`Code::Panic`] failure of a caught panic.
fn panic_failure(panic: Box<dyn std::any::Any + Send>) -> Failure {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Failure::new(
        Code::Panic,
        format!("internal error (a bug in mobigen-connectors): {detail}"),
    )
}

/// Runs `body`, turning a panic into a [`Code::Panic`] failure.
fn guarded<T>(body: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| Err(panic_failure(panic)))
}

/// Runs `body` behind the panic guard and turns a failure into the JS error napi throws.
fn call<T>(env: &napi::Env, body: impl FnOnce() -> Outcome<T>) -> napi::Result<T> {
    guarded(body).map_err(|f| f.into_js(env))
}

/// As [`call`], for results returned as plain objects (see [`json_to_js`]).
fn call_json(
    env: &napi::Env,
    body: impl FnOnce() -> Outcome<serde_json::Value>,
) -> napi::Result<Unknown<'static>> {
    let value = call(env, body)?;
    json_to_js(env, &value)
}

/// Top-level string members longer than this are passed as JS strings of their own (see
/// [`json_to_js`]).
const LONG_TEXT: usize = 512;

/// Converts a result to a JS value through one JSON text: `serde_json` writes it, V8's
/// `JSON.parse` reads it. For results with many members (a plan: ~70 values) this is several
/// times cheaper than building the object one N-API call per member, and gives the same plain
/// object (JSON has no other types). Long top-level strings (a plan's unified diff: tens of
/// kilobytes of newlines and quotes, which `JSON.parse` takes four times longer to unescape than
/// the rest of the plan) are made directly from their UTF-8 bytes instead: they go into the
/// text as `""` and are set after parsing, which keeps the members' order.
///
/// # Errors
/// When the JS side cannot be reached (a pending exception, out of memory).
fn json_to_js(env: &napi::Env, value: &serde_json::Value) -> napi::Result<Unknown<'static>> {
    let bad = |e: serde_json::Error| napi::Error::from_reason(e.to_string());
    let long: Vec<(&str, &str)> = match value {
        serde_json::Value::Object(members) => members
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .filter(|(_, text)| text.len() > LONG_TEXT)
            .collect(),
        _ => Vec::new(),
    };
    let text = match value {
        // Written member by member: no copy of the value, the long strings left out.
        serde_json::Value::Object(members) if !long.is_empty() => {
            let mut text = String::from("{");
            for (i, (key, member)) in members.iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                text.push_str(&serde_json::to_string(key).map_err(bad)?);
                text.push(':');
                if member.as_str().is_some_and(|t| t.len() > LONG_TEXT) {
                    text.push_str("\"\"");
                } else {
                    text.push_str(&serde_json::to_string(member).map_err(bad)?);
                }
            }
            text.push('}');
            text
        }
        _ => serde_json::to_string(value).map_err(bad)?,
    };
    let json: Object<'static> = env.get_global()?.get_named_property("JSON")?;
    let parse: Function<'static, String, Unknown<'static>> = json.get_named_property("parse")?;
    let parsed = parse.call(text)?;
    if !long.is_empty() {
        let mut object: Object<'_> = parsed.coerce_to_object()?;
        for (key, text) in long {
            object.set_named_property(key, env.create_string(text)?)?;
        }
    }
    Ok(parsed)
}
