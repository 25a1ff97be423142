//! Node bindings of Mobigen connectors: the npm package `@mobigen/connectors`.
//!
//! Conventions (see bindings/node/README.md):
//! - Names are camelCase; results are plain objects shaped as the CLI's `--json` output.
//! - Every argument is read by `args.rs`, so a wrong type throws a `TypeError` whose `code` is
//!   `INVALID_ARGUMENT`. Every other failure is an `Error` whose `code` is a stable
//!   code (`errors.rs`) and whose message is the Rust message.
//! - The registry is one per process (module-level functions); `registerConnectorDir` adds
//!   connector folders to it. Calls already running keep the registry they started with.
//! - CPU-heavy calls (`planAdd`, `planRemove`, `add`, `remove`, `status`) have `...Async`
//!   variants that run on libuv's thread pool and return Promises. Their arguments are read
//!   before any work starts, so a bad argument throws synchronously even there.
//! - Secrets reach JavaScript only through calls that say so: `Vault#decryptSecret` and
//!   `CredentialStore#decryptCredentials`. Everything else redacts them.
//! - Panics in the library become errors with code `PANIC`, never a crashed process.

// napi-derive expands `#[napi]` items into FFI glue with `unsafe` blocks; this crate's own
// `unsafe` is in `args::convert` only, with its SAFETY comment.
#![allow(unsafe_code)]
// In test builds napi-derive does not register the exported functions with Node, so nothing
// calls them and everything behind them looks dead; the library build uses all of it.
#![cfg_attr(test, allow(dead_code))]

mod args;
mod errors;
mod project;
mod registry;
mod store;
mod vault;

use std::panic::{AssertUnwindSafe, catch_unwind};

use errors::{Code, Failure, Outcome};

/// Runs `body`, turning a panic into a [`Code::Panic`] failure.
fn guarded<T>(body: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Failure::new(
            Code::Panic,
            format!("internal error (a bug in mobigen-connectors): {detail}"),
        ))
    })
}

/// Runs `body` behind the panic guard and turns a failure into the JS error napi throws.
fn call<T>(env: &napi::Env, body: impl FnOnce() -> Outcome<T>) -> napi::Result<T> {
    guarded(body).map_err(|f| f.into_js(env))
}
