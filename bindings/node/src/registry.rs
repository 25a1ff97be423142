//! The process-wide connector registry and the calls on it: list, get, search, register a
//! folder, validate a config.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use mobigen_connectors::Registry;
use mobigen_connectors::catalog::definition::Category;
use mobigen_connectors::catalog::summary;
use napi::Env;
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{self, Code, Failure, Outcome};
use crate::{args, call, call_json};

/// The registry every call uses: the built-in connectors plus the folders registered so far.
/// Replaced as a whole (copy on write) when a folder is registered, so a call that holds the
/// old `Arc` keeps a consistent view.
struct Shared {
    registry: Arc<Registry>,
    dirs: Vec<PathBuf>,
}

fn shared() -> MutexGuard<'static, Outcome<Shared>> {
    static SHARED: LazyLock<Mutex<Outcome<Shared>>> = LazyLock::new(|| {
        Mutex::new(
            Registry::builtin()
                .map(|r| Shared {
                    registry: Arc::new(r),
                    dirs: Vec::new(),
                })
                .map_err(errors::registry),
        )
    });
    // A poisoned lock means a panic while swapping the Arc, which leaves the old value intact.
    SHARED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The current registry.
///
/// # Errors
/// When the built-in connectors failed to load (a broken build).
pub(crate) fn current() -> Outcome<Arc<Registry>> {
    match &*shared() {
        Ok(s) => Ok(Arc::clone(&s.registry)),
        Err(f) => Err(f.clone()),
    }
}

fn parse_category(text: &str) -> Outcome<Category> {
    text.parse()
        .map_err(|e: String| Failure::new(Code::UnknownCategory, e))
}

/// Lists the connectors, optionally of one category: `{ connectors: ConnectorSummary[] }`
/// (the CLI's `list --json`).
#[napi(
    js_name = "listConnectors",
    ts_args_type = "category?: ConnectorCategory",
    ts_return_type = "ConnectorList"
)]
pub fn list_connectors(env: Env, category: Option<Unknown<'_>>) -> napi::Result<Unknown<'static>> {
    call_json(&env, || {
        let category = args::optional_string(&env, category, "category")?;
        list_json(category.as_deref())
    })
}

/// The work of `listConnectors` once its argument is read.
pub(crate) fn list_json(category: Option<&str>) -> Outcome<Value> {
    let category = category.map(parse_category).transpose()?;
    let registry = current()?;
    Ok(summary::list_json(&registry, category))
}

/// One connector's full definition (its manifest, `configSchema` included), as the CLI's
/// `show --json`. Throws `UNKNOWN_CONNECTOR` (with a "did you mean" in the message).
#[napi(
    js_name = "getConnector",
    ts_args_type = "id: string",
    ts_return_type = "ConnectorDefinition"
)]
pub fn get_connector(env: Env, id: Unknown<'_>) -> napi::Result<Value> {
    call(&env, || {
        let id = args::string(&env, id, "id")?;
        let registry = current()?;
        let connector = registry.lookup(&id).map_err(errors::registry)?;
        serde_json::to_value(connector.definition())
            .map_err(|e| Failure::new(Code::InvalidManifest, e.to_string()))
    })
}

/// Searches connectors by name, id, category and capabilities, typo tolerant ("strpe" finds
/// Stripe): `{ query, results }`, best first.
#[napi(
    js_name = "searchConnectors",
    ts_args_type = "query: string",
    ts_return_type = "SearchResults"
)]
pub fn search_connectors(env: Env, query: Unknown<'_>) -> napi::Result<Value> {
    call(&env, || {
        let query = args::string(&env, query, "query")?;
        let registry = current()?;
        Ok(summary::search_json(&registry, &query))
    })
}

/// Loads every connector folder found in `path` (each with a `manifest.json`) into the
/// process-wide registry and returns their ids. Nothing is loaded unless every folder is valid
/// (`INVALID_MANIFEST` lists each problem with its JSON pointer); an id that is already
/// registered is refused too.
#[napi(
    js_name = "registerConnectorDir",
    ts_args_type = "path: string",
    ts_return_type = "string[]"
)]
pub fn register_connector_dir(env: Env, path: Unknown<'_>) -> napi::Result<Vec<String>> {
    call(&env, || {
        let dir = PathBuf::from(args::non_empty(&env, path, "path")?);
        let mut guard = shared();
        let shared = guard.as_mut().map_err(|f| f.clone())?;
        // Build the new registry aside: the one in use stays valid until the swap.
        let mut next = Registry::builtin().map_err(errors::registry)?;
        for earlier in &shared.dirs {
            next.load_dir(earlier).map_err(errors::registry)?;
        }
        let ids = next.load_dir(&dir).map_err(errors::registry)?;
        shared.registry = Arc::new(next);
        shared.dirs.push(dir);
        Ok(ids)
    })
}

/// Checks a config against the connector's JSON Schema and rules. An invalid config is data,
/// not an exception: `{ valid: false, connector, issues }`. A valid one gives `{ valid: true,
/// connector, config (defaults filled, secrets "[redacted]"), features, issues (warnings) }`,
/// as the CLI's `check-config --json`. Throws only for an unknown connector or bad arguments.
///
/// `config` (like every object argument of this package) is read through `JSON.stringify`: a
/// self-referencing object, one nested more than 128 levels deep, a BigInt, or a number beyond
/// `Number.MAX_SAFE_INTEGER` in magnitude is a `TypeError` (code `INVALID_ARGUMENT`) naming the
/// argument and where; the process never crashes on it. Pass such numbers as strings.
#[napi(
    js_name = "validateConfig",
    ts_generic_types = "K extends string",
    ts_args_type = "id: K, config: ConnectorConfig<K>",
    ts_return_type = "ConfigReport"
)]
pub fn validate_config(env: Env, id: Unknown<'_>, config: Unknown<'_>) -> napi::Result<Value> {
    call(&env, || {
        let id = args::string(&env, id, "id")?;
        let config = args::object(&env, config, "config")?;
        let registry = current()?;
        let connector = registry.lookup(&id).map_err(errors::registry)?;
        Ok(summary::config_report_json(connector, &config))
    })
}
