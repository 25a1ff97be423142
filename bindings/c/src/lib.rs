//! C ABI of Mobigen connectors. Conventions (see bindings/c/README.md):
//!
//! - Opaque handles (`mgc_registry`, `mgc_vault`) are created by `_new`/`_open` functions and
//!   released by their `_free`; strings and byte buffers the library returns (`mgc_string`,
//!   `mgc_bytes`) are owned by the caller and released by `mgc_string_free` / `mgc_bytes_free`.
//!   Every free function accepts NULL (a no-op) and detects a second free of the same object.
//! - Strings go in as pointer + length and must be UTF-8; a NULL pointer is allowed only with
//!   length 0.
//! - Every function returns an `mgc_result`; codes are numbered and never reused. Outputs are
//!   written only on success. After any call, `mgc_last_error()` gives that call's message on
//!   the calling thread (an empty string after success).
//! - Every export runs behind a panic guard: a bug in the library is reported as
//!   `MGC_RESULT_PANIC`, never unwound into C.

// This crate is the C boundary: it has to dereference the pointers C hands it. Every `unsafe`
// block states why it is sound.
#![allow(unsafe_code)]
// The exported names follow C conventions (`mgc_registry`, `mgc_result`).
#![allow(non_camel_case_types)]
// These functions are the C API: they take raw pointers by design, check them (NULL, live-object
// set) before use, and state the caller's promises in their docs and in bindings/c/README.md.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{LazyLock, Mutex, MutexGuard};

use mobigen_connectors::catalog::summary;
use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::host::codes::{Coded, ErrorCode};
use mobigen_connectors::host::location::create_private_file;
use mobigen_connectors::host::protocol::{
    AddRequest, ConfigChange, IfStored, StoredProject, instance_json,
};
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::PlanOptions;
use mobigen_connectors::secrets::vault::{AnyKeys, Context, LocalKeyring, Vault};
use mobigen_connectors::store::{ActivityEvent, AnyStore, CredentialService, StoreAddress};
use mobigen_connectors::{Registry, ValidConfig};

/// Result of every call. Codes are stable: new ones are added, none is ever renumbered or reused.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mgc_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL (or NULL with a non-zero length).
    NullArgument = 1,
    /// A string argument was not UTF-8.
    InvalidUtf8 = 2,
    /// A length was larger than any object can be.
    InvalidLength = 3,
    /// A handle or returned object was not live: already freed, or never created here.
    InvalidHandle = 4,
    /// A JSON argument did not parse.
    InvalidJson = 5,
    /// No connector has that id, or an unknown category was given.
    UnknownConnector = 6,
    /// The config was refused; the message lists every problem.
    InvalidConfig = 7,
    /// A connector manifest (from `mgc_registry_load_dir`) is invalid, or one of its templates
    /// renders code that does not parse (when planned).
    InvalidManifest = 8,
    /// The project cannot be read or edited (bad package.json, unparsable root file...).
    ProjectError = 9,
    /// Generated files were edited by the user; nothing was written (use `MGC_FORCE`).
    Conflict = 10,
    /// The connector to remove is not enabled in the project.
    NotEnabled = 11,
    /// Another operation holds the project.
    Busy = 12,
    /// A file-system call failed; nothing was changed.
    Io = 13,
    /// Decryption failed: wrong project/connector, tampered or truncated ciphertext.
    DecryptionFailed = 14,
    /// A vault key problem: unknown key id, unreadable key file, rotation unsupported.
    KeyError = 15,
    /// The library panicked (a bug); the message says where.
    Panic = 16,
    /// Any other failure; the message says what.
    Other = 17,
    /// A supplied file (`mgc_project_add_supplied`) is not declared by the connector or its
    /// body does not parse.
    InvalidSupplied = 18,
    /// The project already has a stored instance of the connector (`MGC_REFUSE_STORED`).
    AlreadyExists = 19,
    /// The instance's lifecycle does not allow the step (enable before validation, remove an
    /// active instance without `MGC_DISABLE_ACTIVE`).
    IllegalTransition = 20,
    /// No stored instance (or credentials version) has that id.
    NotFound = 21,
    /// The store's database failed or holds an unreadable row.
    StoreError = 22,
}

/// `mgc_project_add`/`_remove` flag: plan only, write nothing.
pub const MGC_DRY_RUN: u32 = 1;
/// `mgc_project_add`/`_remove` flag: overwrite or delete generated files the user edited.
pub const MGC_FORCE: u32 = 2;
/// `mgc_project_add` flag: write no secret value to disk (not even `.env.local`).
pub const MGC_NO_SECRET_ENV: u32 = 4;

/// `mgc_store_add` flag: refuse (`MGC_RESULT_ALREADY_EXISTS`) when the project already has the
/// connector in the store, instead of updating it.
pub const MGC_REFUSE_STORED: u32 = 8;
/// `mgc_store_update` flag: the config is a JSON merge patch on the stored config.
pub const MGC_MERGE: u32 = 16;
/// `mgc_store_remove` flag: disable an active instance instead of refusing it.
pub const MGC_DISABLE_ACTIVE: u32 = 32;

/// The connector registry (built-in connectors plus any loaded from folders).
pub struct mgc_registry {
    inner: Registry,
}

/// A vault over a local keyring file.
pub struct mgc_vault {
    inner: Vault<LocalKeyring>,
}

/// A connector store (an SQLite file or a PostgreSQL database) with its keyring: stored instances with encrypted credentials,
/// changed together with the project by the `mgc_store_*` calls.
pub struct mgc_store {
    service: CredentialService<AnyStore, AnyKeys, SystemClock>,
    actor: String,
}

/// A UTF-8 string owned by the caller; NUL-terminated as well as counted.
pub struct mgc_string {
    text: CString,
    len: usize,
}

/// A byte buffer owned by the caller (decrypted plaintext); wiped when freed.
pub struct mgc_bytes {
    bytes: Vec<u8>,
}

/// An error of one call: its code and message.
struct Failure {
    code: mgc_result,
    message: String,
}

impl Failure {
    fn new(code: mgc_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // Interior NULs cannot be represented in a C string; show them as spaces.
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|cell| *cell.borrow_mut() = text);
}

/// Kinds of objects handed to C, for the live-object set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Registry,
    Vault,
    Store,
    String,
    Bytes,
}

/// Every object handed to C and not yet freed, by handle: C gets a handle (a number that looks
/// like a pointer and is never dereferenced by C), never the object's address. Handles are never
/// reused, so a stale handle (a second free, a use after free) is refused even when the
/// allocator has since put a new object at the old address.
struct LiveObjects {
    next: usize,
    /// Handle -> (kind, address of the boxed object).
    objects: HashMap<usize, (Kind, usize)>,
}

fn live() -> MutexGuard<'static, LiveObjects> {
    static LIVE: LazyLock<Mutex<LiveObjects>> = LazyLock::new(|| {
        Mutex::new(LiveObjects {
            next: 1,
            objects: HashMap::new(),
        })
    });
    // A poisoned lock only means another thread panicked while holding it; the table is still
    // consistent (inserts and removes are single operations).
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Handles are multiples of this (aligned like any pointer, never NULL).
const HANDLE_STEP: usize = 16;

fn hand_out<T>(value: T, kind: Kind) -> *mut T {
    let address = Box::into_raw(Box::new(value)) as usize;
    let mut live = live();
    let handle = live.next.wrapping_mul(HANDLE_STEP);
    live.next += 1;
    live.objects.insert(handle, (kind, address));
    // A handle, not an address: only this library turns it back into the object.
    std::ptr::without_provenance_mut(handle)
}

/// The object behind a live handle of `kind`.
fn resolve<T>(handle: *const T, kind: Kind, what: &str) -> Result<*mut T, Failure> {
    if handle.is_null() {
        return Err(Failure::new(
            mgc_result::NullArgument,
            format!("{what} is NULL"),
        ));
    }
    match live().objects.get(&handle.addr()) {
        Some(&(found, address)) if found == kind => Ok(address as *mut T),
        _ => Err(Failure::new(
            mgc_result::InvalidHandle,
            format!("{what} is not a live object (already freed, or not from this library)"),
        )),
    }
}

/// Frees an object handed out earlier. NULL is a no-op; a second free is refused.
fn take_back<T>(handle: *mut T, kind: Kind, what: &str) -> Result<(), Failure> {
    if handle.is_null() {
        return Ok(());
    }
    let address = {
        let mut live = live();
        match live.objects.get(&handle.addr()) {
            Some(&(found, address)) if found == kind => {
                live.objects.remove(&handle.addr());
                address
            }
            _ => {
                return Err(Failure::new(
                    mgc_result::InvalidHandle,
                    format!("{what} is not a live object (freed twice, or not from this library)"),
                ));
            }
        }
    };
    // SAFETY: `address` came from `Box::into_raw` in `hand_out` for an object of this kind (one
    // kind, one type), and its handle was just removed from the table, so this is its only
    // release.
    drop(unsafe { Box::from_raw(address as *mut T) });
    Ok(())
}

/// Runs `body` behind the panic guard and records its message.
fn guard(body: impl FnOnce() -> Result<(), Failure>) -> mgc_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error("");
            mgc_result::Ok
        }
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!(
                "internal error (a bug in mobigen-connectors): {detail}"
            ));
            mgc_result::Panic
        }
    }
}

/// Reads a string argument given as pointer + length.
fn arg_str<'a>(ptr: *const c_char, len: usize, what: &str) -> Result<&'a str, Failure> {
    if len == 0 {
        return Ok("");
    }
    if ptr.is_null() {
        return Err(Failure::new(
            mgc_result::NullArgument,
            format!("{what} is NULL with length {len}"),
        ));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            mgc_result::InvalidLength,
            format!("{what}: length {len} is too large"),
        ));
    }
    // SAFETY: the caller promises `ptr` points to `len` readable bytes that stay valid for the
    // call (the documented contract of every string argument); it is non-NULL and `len` fits
    // an isize.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            mgc_result::InvalidUtf8,
            format!("{what} is not UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

fn arg_bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::new(
            mgc_result::NullArgument,
            format!("{what} is NULL with length {len}"),
        ));
    }
    if len > isize::MAX as usize {
        return Err(Failure::new(
            mgc_result::InvalidLength,
            format!("{what}: length {len} is too large"),
        ));
    }
    // SAFETY: as in `arg_str`: the caller promises `len` readable bytes at `ptr`.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

fn arg_json(ptr: *const c_char, len: usize, what: &str) -> Result<serde_json::Value, Failure> {
    let text = arg_str(ptr, len, what)?;
    serde_json::from_str(text).map_err(|e| {
        Failure::new(
            mgc_result::InvalidJson,
            format!("{what}:{}:{}: not valid JSON", e.line(), e.column()),
        )
    })
}

/// Checks an output pointer before any work is done.
fn check_out<T>(out: *mut *mut T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        Err(Failure::new(
            mgc_result::NullArgument,
            format!("{what} is NULL"),
        ))
    } else {
        Ok(())
    }
}

fn write_out<T>(out: *mut *mut T, value: T, kind: Kind) {
    // SAFETY: `out` was checked non-NULL by `check_out`, and the caller promises it points to
    // writable storage for one pointer.
    unsafe { *out = hand_out(value, kind) };
}

fn string_out(out: *mut *mut mgc_string, text: String) -> Result<(), Failure> {
    let len = text.len();
    let text = CString::new(text)
        .map_err(|_| Failure::new(mgc_result::Other, "result text holds a NUL byte"))?;
    write_out(out, mgc_string { text, len }, Kind::String);
    Ok(())
}

fn registry_ref<'a>(registry: *const mgc_registry) -> Result<&'a mgc_registry, Failure> {
    let registry = resolve(registry, Kind::Registry, "registry")?;
    // SAFETY: the handle is live (created by `hand_out`, not yet freed), so it resolves to a
    // valid `mgc_registry`; C must not free it during the call (documented).
    Ok(unsafe { &*registry })
}

/// The C result of a library error code: the codes C has a number for, else `Other`.
fn result_of(code: ErrorCode) -> mgc_result {
    match code {
        ErrorCode::UnknownConnector | ErrorCode::UnknownCategory => mgc_result::UnknownConnector,
        ErrorCode::InvalidConfig => mgc_result::InvalidConfig,
        ErrorCode::InvalidManifest => mgc_result::InvalidManifest,
        ErrorCode::ProjectError => mgc_result::ProjectError,
        ErrorCode::Conflict => mgc_result::Conflict,
        ErrorCode::NotEnabled => mgc_result::NotEnabled,
        ErrorCode::Busy => mgc_result::Busy,
        ErrorCode::Io => mgc_result::Io,
        ErrorCode::DecryptionFailed => mgc_result::DecryptionFailed,
        ErrorCode::KeyError => mgc_result::KeyError,
        ErrorCode::Panic => mgc_result::Panic,
        ErrorCode::InvalidSupplied => mgc_result::InvalidSupplied,
        ErrorCode::AlreadyExists => mgc_result::AlreadyExists,
        ErrorCode::IllegalTransition => mgc_result::IllegalTransition,
        ErrorCode::NotFound => mgc_result::NotFound,
        ErrorCode::StoreError => mgc_result::StoreError,
        _ => mgc_result::Other,
    }
}

/// A library error as a failure of the call: its code (decided by the library) and message.
fn failure(e: impl Coded + std::fmt::Display) -> Failure {
    Failure::new(result_of(e.code()), e.to_string())
}

fn to_json_text(value: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(value).map_err(|e| Failure::new(mgc_result::Other, e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Errors and strings

/// The message of the last call on this thread: empty after a success. The pointer stays valid
/// until the next call of this library on the same thread. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_last_error() -> *const c_char {
    LAST_ERROR.with(|cell| cell.borrow().as_ptr())
}

/// The library version, a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The text of a returned string, NUL-terminated; NULL when `s` is not a live string.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_string_ptr(s: *const mgc_string) -> *const c_char {
    let Ok(s) = resolve(s, Kind::String, "string") else {
        return std::ptr::null();
    };
    // SAFETY: `s` is live, so it resolves to a valid `mgc_string`.
    unsafe { (*s).text.as_ptr() }
}

/// The length of a returned string in bytes (without the NUL); 0 when `s` is not live.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_string_len(s: *const mgc_string) -> usize {
    let Ok(s) = resolve(s, Kind::String, "string") else {
        return 0;
    };
    // SAFETY: `s` is live, so it resolves to a valid `mgc_string`.
    unsafe { (*s).len }
}

/// Frees a returned string. NULL is a no-op; a second free returns `MGC_RESULT_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_string_free(s: *mut mgc_string) -> mgc_result {
    guard(|| take_back(s, Kind::String, "string"))
}

/// The bytes of a returned buffer; NULL when `b` is not live.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_bytes_ptr(b: *const mgc_bytes) -> *const u8 {
    let Ok(b) = resolve(b, Kind::Bytes, "bytes") else {
        return std::ptr::null();
    };
    // SAFETY: `b` is live, so it resolves to a valid `mgc_bytes`.
    unsafe { (*b).bytes.as_ptr() }
}

/// The length of a returned buffer; 0 when `b` is not live.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_bytes_len(b: *const mgc_bytes) -> usize {
    let Ok(b) = resolve(b, Kind::Bytes, "bytes") else {
        return 0;
    };
    // SAFETY: `b` is live, so it resolves to a valid `mgc_bytes`.
    unsafe { (*b).bytes.len() }
}

/// Wipes and frees a returned buffer. NULL is a no-op; a second free returns
/// `MGC_RESULT_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_bytes_free(b: *mut mgc_bytes) -> mgc_result {
    guard(|| {
        if let Ok(object) = resolve(b, Kind::Bytes, "bytes") {
            // SAFETY: `b` is live, so it resolves to a valid `mgc_bytes` owned by the library.
            let bytes = unsafe { &mut (*object).bytes };
            bytes.iter_mut().for_each(|byte| {
                // SAFETY: `byte` is a valid, aligned `u8` in the buffer; a volatile write keeps
                // the compiler from eliding the wipe.
                unsafe { std::ptr::write_volatile(byte, 0) }
            });
        }
        take_back(b, Kind::Bytes, "bytes")
    })
}

// ---------------------------------------------------------------------------------------------
// Registry

/// Creates a registry of the built-in connectors in `*out`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_registry_new(out: *mut *mut mgc_registry) -> mgc_result {
    guard(|| {
        check_out(out, "out")?;
        let inner = Registry::builtin().map_err(failure)?;
        write_out(out, mgc_registry { inner }, Kind::Registry);
        Ok(())
    })
}

/// Loads every connector folder found in `dir` into the registry (nothing is loaded unless
/// every folder is valid).
#[unsafe(no_mangle)]
pub extern "C" fn mgc_registry_load_dir(
    registry: *mut mgc_registry,
    dir: *const c_char,
    dir_len: usize,
) -> mgc_result {
    guard(|| {
        let registry = resolve(registry, Kind::Registry, "registry")?;
        let dir = arg_str(dir, dir_len, "dir")?;
        // SAFETY: `registry` is live; C must not use it from another thread during this call
        // (documented: a registry is not thread-safe for writes).
        let registry = unsafe { &mut *registry };
        registry
            .inner
            .load_dir(Path::new(dir))
            .map(drop)
            .map_err(failure)
    })
}

/// Frees a registry. NULL is a no-op; a second free returns `MGC_RESULT_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_registry_free(registry: *mut mgc_registry) -> mgc_result {
    guard(|| take_back(registry, Kind::Registry, "registry"))
}

/// Lists connectors as JSON `{"connectors": [summary...]}`; `category` (may be empty for all)
/// filters by category.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_registry_list_json(
    registry: *const mgc_registry,
    category: *const c_char,
    category_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let registry = registry_ref(registry)?;
        let category = arg_str(category, category_len, "category")?;
        check_out(out, "out")?;
        let category = if category.is_empty() {
            None
        } else {
            Some(
                category
                    .parse()
                    .map_err(|e: String| Failure::new(mgc_result::UnknownConnector, e))?,
            )
        };
        string_out(
            out,
            to_json_text(&summary::list_json(&registry.inner, category))?,
        )
    })
}

/// One connector's full definition (its manifest, config schema included) as JSON.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_registry_get_json(
    registry: *const mgc_registry,
    id: *const c_char,
    id_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let registry = registry_ref(registry)?;
        let id = arg_str(id, id_len, "id")?;
        check_out(out, "out")?;
        let connector = registry.inner.lookup(id).map_err(failure)?;
        string_out(out, to_json_text(connector.definition())?)
    })
}

/// Searches connectors: JSON `{"query", "results": [summary + score]}`, best first.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_registry_search_json(
    registry: *const mgc_registry,
    query: *const c_char,
    query_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let registry = registry_ref(registry)?;
        let query = arg_str(query, query_len, "query")?;
        check_out(out, "out")?;
        string_out(
            out,
            to_json_text(&summary::search_json(&registry.inner, query))?,
        )
    })
}

/// Validates a JSON config for connector `id`. On success `*out` holds
/// `{"config" (defaults filled, secrets redacted), "warnings": [...]}`; an invalid config returns
/// `MGC_RESULT_INVALID_CONFIG` with every problem in the message.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_validate_config(
    registry: *const mgc_registry,
    id: *const c_char,
    id_len: usize,
    config_json: *const c_char,
    config_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let registry = registry_ref(registry)?;
        let id = arg_str(id, id_len, "id")?;
        let config = arg_json(config_json, config_len, "config")?;
        check_out(out, "out")?;
        let valid = validated(&registry.inner, id, &config)?;
        let report =
            serde_json::json!({ "config": valid.redacted(), "warnings": valid.warnings() });
        string_out(out, to_json_text(&report)?)
    })
}

// ---------------------------------------------------------------------------------------------
// Projects

/// `config` validated as connector `id`'s config.
fn validated(
    registry: &Registry,
    id: &str,
    config: &serde_json::Value,
) -> Result<ValidConfig, Failure> {
    registry
        .lookup(id)
        .map_err(failure)?
        .validate_config(config)
        .map_err(|e| Failure::new(mgc_result::InvalidConfig, e.to_string()))
}

fn options(flags: u32) -> (PlanOptions, Mode) {
    let options = PlanOptions {
        write_secret_env: flags & MGC_NO_SECRET_ENV == 0,
        force: flags & MGC_FORCE != 0,
    };
    let mode = if flags & MGC_DRY_RUN != 0 {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    (options, mode)
}

/// Adds connector `id` with a JSON config to the Expo project in `dir` (or updates it). `*out`
/// gets the plan summary JSON `{connector, kind, dryRun, codeChanges, files, manualSteps,
/// warnings}`. Flags: `MGC_DRY_RUN`, `MGC_FORCE`, `MGC_NO_SECRET_ENV`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_project_add(
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    id: *const c_char,
    id_len: usize,
    config_json: *const c_char,
    config_len: usize,
    flags: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let args = AddArgs::read(
            registry,
            (dir, dir_len),
            (id, id_len),
            (config_json, config_len),
        )?;
        check_out(out, "out")?;
        args.add(&BTreeMap::new(), flags, out)
    })
}

/// As `mgc_project_add`, with the bodies of the connector's supplied files as a JSON object
/// `{"ID": "body", ...}` (Supabase: `{"databaseTypes": "<the output of supabase gen types>"}`).
/// `MGC_RESULT_INVALID_SUPPLIED` when an id is not declared by the connector or a body does
/// not parse.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_project_add_supplied(
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    id: *const c_char,
    id_len: usize,
    config_json: *const c_char,
    config_len: usize,
    supplied_json: *const c_char,
    supplied_len: usize,
    flags: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let args = AddArgs::read(
            registry,
            (dir, dir_len),
            (id, id_len),
            (config_json, config_len),
        )?;
        let supplied = match arg_json(supplied_json, supplied_len, "supplied")? {
            serde_json::Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(body) => Ok((k, body)),
                    _ => Err(Failure::new(
                        mgc_result::InvalidSupplied,
                        format!("supplied: `{k}` must be a string (the file's body)"),
                    )),
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?,
            _ => {
                return Err(Failure::new(
                    mgc_result::InvalidSupplied,
                    "supplied: expected a JSON object of file bodies by id",
                ));
            }
        };
        check_out(out, "out")?;
        args.add(&supplied, flags, out)
    })
}

/// The checked arguments of an add.
struct AddArgs<'a> {
    registry: &'a Registry,
    dir: &'a str,
    valid: ValidConfig,
}

impl<'a> AddArgs<'a> {
    fn read(
        registry: *const mgc_registry,
        (dir, dir_len): (*const c_char, usize),
        (id, id_len): (*const c_char, usize),
        (config_json, config_len): (*const c_char, usize),
    ) -> Result<AddArgs<'a>, Failure> {
        let registry = &registry_ref(registry)?.inner;
        let dir = arg_str(dir, dir_len, "dir")?;
        let id = arg_str(id, id_len, "id")?;
        let config = arg_json(config_json, config_len, "config")?;
        let valid = validated(registry, id, &config)?;
        Ok(AddArgs {
            registry,
            dir,
            valid,
        })
    }

    fn add(
        &self,
        supplied: &BTreeMap<String, String>,
        flags: u32,
        out: *mut *mut mgc_string,
    ) -> Result<(), Failure> {
        let (options, mode) = options(flags);
        let plan = ops::add_supplied(
            self.registry,
            Path::new(self.dir),
            &self.valid,
            options,
            mode,
            supplied,
        )
        .map_err(failure)?;
        string_out(out, to_json_text(&plan.summary_json(mode == Mode::DryRun))?)
    }
}

/// Removes connector `id` from the project in `dir`; `*out` gets the plan summary JSON. Flags:
/// `MGC_DRY_RUN`, `MGC_FORCE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_project_remove(
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    id: *const c_char,
    id_len: usize,
    flags: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let registry = registry_ref(registry)?;
        let dir = arg_str(dir, dir_len, "dir")?;
        let id = arg_str(id, id_len, "id")?;
        check_out(out, "out")?;
        let (options, mode) = options(flags);
        let plan =
            ops::remove(&registry.inner, Path::new(dir), id, options, mode).map_err(failure)?;
        string_out(out, to_json_text(&plan.summary_json(mode == Mode::DryRun))?)
    })
}

/// The connectors enabled in the project in `dir`, as JSON `{connectors, rootFile, problems}`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_project_status(
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let registry = registry_ref(registry)?;
        let dir = arg_str(dir, dir_len, "dir")?;
        check_out(out, "out")?;
        let status = ops::status(&registry.inner, Path::new(dir)).map_err(failure)?;
        string_out(out, to_json_text(&status)?)
    })
}

// ---------------------------------------------------------------------------------------------
// Store + project: the library's protocol (plan, write the store, apply, undo the store write
// when applying fails), under the project lock

/// Opens the connector store at `store_path` — an SQLite file (created when missing, mode 0600)
/// or a PostgreSQL URL (`postgres://user@host/db`, `?sslmode=require` for TLS) that several
/// processes share — and the keyring file at `keyring_path` (not used when the environment
/// variable `MOBIGEN_KMS_KEY_ID` puts the keys in AWS KMS, as for the CLI: see the README);
/// `actor` (may be empty: `c-abi`) names the caller in the audit log. An error message names a
/// URL without its password.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_open(
    store_path: *const c_char,
    store_path_len: usize,
    keyring_path: *const c_char,
    keyring_path_len: usize,
    actor: *const c_char,
    actor_len: usize,
    out: *mut *mut mgc_store,
) -> mgc_result {
    guard(|| {
        let store = arg_str(store_path, store_path_len, "store_path")?;
        let keyring = arg_str(keyring_path, keyring_path_len, "keyring_path")?;
        let actor = arg_str(actor, actor_len, "actor")?;
        check_out(out, "out")?;
        for (path, what) in [(store, "store_path"), (keyring, "keyring_path")] {
            if path.is_empty() {
                return Err(Failure::new(
                    mgc_result::NullArgument,
                    format!("{what} is empty"),
                ));
            }
        }
        // The store first: a database that cannot be reached leaves no new keyring.
        let address = StoreAddress::parse(store);
        if let Some(file) = address.file() {
            create_private_file(file).map_err(|e| {
                Failure::new(
                    mgc_result::Io,
                    format!("cannot create the connector store {address}: {e}"),
                )
            })?;
        }
        let store = AnyStore::open(&address).map_err(failure)?;
        let keyring = match AnyKeys::kms_from_env().map_err(failure)? {
            Some(kms) => kms,
            None => AnyKeys::Local(
                LocalKeyring::open_or_create(Path::new(keyring), SystemClock.now())
                    .map_err(failure)?,
            ),
        };
        write_out(
            out,
            mgc_store {
                service: CredentialService::new(store, Vault::new(keyring), SystemClock),
                actor: if actor.is_empty() { "c-abi" } else { actor }.to_string(),
            },
            Kind::Store,
        );
        Ok(())
    })
}

/// Frees a store. NULL is a no-op; a second free returns `MGC_RESULT_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_free(store: *mut mgc_store) -> mgc_result {
    guard(|| take_back(store, Kind::Store, "store"))
}

/// The checked common arguments of the `mgc_store_*` project calls (the output pointer checked
/// too, before any work).
struct StoreCall<'a> {
    store: &'a mut mgc_store,
    registry: &'a Registry,
    dir: &'a str,
    project_id: &'a str,
    id: &'a str,
}

impl<'a> StoreCall<'a> {
    fn read(
        store: *mut mgc_store,
        registry: *const mgc_registry,
        (dir, dir_len): (*const c_char, usize),
        (project_id, project_id_len): (*const c_char, usize),
        (id, id_len): (*const c_char, usize),
        out: *mut *mut mgc_string,
    ) -> Result<StoreCall<'a>, Failure> {
        let store = resolve(store, Kind::Store, "store")?;
        let registry = &registry_ref(registry)?.inner;
        let dir = arg_str(dir, dir_len, "dir")?;
        let project_id = arg_str(project_id, project_id_len, "project_id")?;
        if project_id.is_empty() {
            return Err(Failure::new(
                mgc_result::NullArgument,
                "project_id is empty",
            ));
        }
        let id = arg_str(id, id_len, "id")?;
        check_out(out, "out")?;
        // SAFETY: the handle is live, so it resolves to a valid `mgc_store`; C must not use the
        // store from another thread during this call (documented: a store is used by one
        // thread at a time).
        let store = unsafe { &mut *store };
        Ok(StoreCall {
            store,
            registry,
            dir,
            project_id,
            id,
        })
    }

    fn project(&mut self) -> StoredProject<'_, AnyStore, AnyKeys, SystemClock> {
        StoredProject::new(
            self.registry,
            &mut self.store.service,
            Path::new(self.dir),
            self.project_id,
            &self.store.actor,
        )
    }
}

/// Adds connector `id` with a JSON config to the Expo project in `dir`, named `project_id` in the
/// store, in one step under the project lock: plan, store the config (secrets encrypted), inject
/// the code, and remove the stored instance again (or put the previous credentials back) if
/// injecting fails. `*out` gets `{connector, kind, dryRun, codeChanges, files, manualSteps,
/// warnings, store: {action, instanceId, projectId, status, credentialsVersion, keyId} | null}`.
/// Flags: `MGC_DRY_RUN` (neither the project nor the store is written), `MGC_FORCE`,
/// `MGC_NO_SECRET_ENV` (no secret in any file; the store still takes every value),
/// `MGC_REFUSE_STORED`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_add(
    store: *mut mgc_store,
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    project_id: *const c_char,
    project_id_len: usize,
    id: *const c_char,
    id_len: usize,
    config_json: *const c_char,
    config_len: usize,
    flags: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let mut call = StoreCall::read(
            store,
            registry,
            (dir, dir_len),
            (project_id, project_id_len),
            (id, id_len),
            out,
        )?;
        let config = arg_json(config_json, config_len, "config")?;
        let valid = validated(call.registry, call.id, &config)?;
        let (options, mode) = options(flags);
        let request = AddRequest {
            config: valid,
            options,
            supplied: BTreeMap::new(),
            mode,
            if_stored: if flags & MGC_REFUSE_STORED != 0 {
                IfStored::Refuse
            } else {
                IfStored::Update
            },
        };
        let outcome = call.project().add(&request).map_err(failure)?;
        string_out(out, to_json_text(&outcome.to_json(mode == Mode::DryRun))?)
    })
}

/// Updates the stored config of connector `id` (stored and in the project) and its code, in one
/// step under the project lock; if updating the code fails, the previous credentials become
/// current again. `config_json` is the complete new config, or with `MGC_MERGE` a JSON merge
/// patch on the stored one (secrets it does not name are kept). `*out` as `mgc_store_add`.
/// `MGC_RESULT_NOT_ENABLED` when the project has no stored instance or not the code. Flags:
/// `MGC_DRY_RUN`, `MGC_FORCE`, `MGC_NO_SECRET_ENV`, `MGC_MERGE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_update(
    store: *mut mgc_store,
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    project_id: *const c_char,
    project_id_len: usize,
    id: *const c_char,
    id_len: usize,
    config_json: *const c_char,
    config_len: usize,
    flags: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let mut call = StoreCall::read(
            store,
            registry,
            (dir, dir_len),
            (project_id, project_id_len),
            (id, id_len),
            out,
        )?;
        let config = arg_json(config_json, config_len, "config")?;
        let change = if flags & MGC_MERGE != 0 {
            ConfigChange::Merge(config)
        } else {
            ConfigChange::Replace(validated(call.registry, call.id, &config)?)
        };
        let (options, mode) = options(flags);
        let id = call.id;
        let outcome = call
            .project()
            .update(id, change, options, mode)
            .map_err(failure)?;
        string_out(out, to_json_text(&outcome.to_json(mode == Mode::DryRun))?)
    })
}

/// Removes connector `id` from the project: the code first, then its stored credentials (every
/// version). An active instance is refused (`MGC_RESULT_ILLEGAL_TRANSITION`) unless
/// `MGC_DISABLE_ACTIVE`. `*out` gets the plan summary with `store: {action: "removed",
/// instanceId, projectId, status} | null`. Flags: `MGC_DRY_RUN`, `MGC_FORCE`,
/// `MGC_DISABLE_ACTIVE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_remove(
    store: *mut mgc_store,
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    project_id: *const c_char,
    project_id_len: usize,
    id: *const c_char,
    id_len: usize,
    flags: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let mut call = StoreCall::read(
            store,
            registry,
            (dir, dir_len),
            (project_id, project_id_len),
            (id, id_len),
            out,
        )?;
        let (options, mode) = options(flags);
        let id = call.id;
        let outcome = call
            .project()
            .remove(id, options, mode, flags & MGC_DISABLE_ACTIVE != 0)
            .map_err(failure)?;
        string_out(
            out,
            to_json_text(&outcome.to_json(id, mode == Mode::DryRun))?,
        )
    })
}

/// Enables (`enabled` non-zero: `active`) or disables connector `id` of the project in the
/// store, under the project lock. `*out` gets the instance as JSON (metadata only).
/// `MGC_RESULT_NOT_ENABLED` when nothing is stored; `MGC_RESULT_ILLEGAL_TRANSITION` when the
/// lifecycle forbids it (not validated yet, or already in that state).
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_set_enabled(
    store: *mut mgc_store,
    registry: *const mgc_registry,
    dir: *const c_char,
    dir_len: usize,
    project_id: *const c_char,
    project_id_len: usize,
    id: *const c_char,
    id_len: usize,
    enabled: u32,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let mut call = StoreCall::read(
            store,
            registry,
            (dir, dir_len),
            (project_id, project_id_len),
            (id, id_len),
            out,
        )?;
        let id = call.id;
        let switched = call
            .project()
            .set_enabled(id, enabled != 0)
            .map_err(failure)?;
        let service = &call.store.service;
        let instance =
            instance_json(service.store(), &switched.record, service.now()).map_err(failure)?;
        string_out(out, to_json_text(&instance)?)
    })
}

/// The stored instances of `project_id` (every project when it is empty), as a JSON array of
/// `{id, projectId, connector, status, credentialsVersion, keyId, createdAt, updatedAt,
/// lastValidatedAt, expiringVersions, activity: {lastUsedAt, apiCallsToday,
/// credentialReadsToday, errorsToday, lastError, days}}`: metadata and activity, never a value.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_instances(
    store: *mut mgc_store,
    project_id: *const c_char,
    project_id_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let store = resolve(store, Kind::Store, "store")?;
        let project_id = arg_str(project_id, project_id_len, "project_id")?;
        check_out(out, "out")?;
        // SAFETY: the handle is live, so it resolves to a valid `mgc_store`; a store is used by
        // one thread at a time (documented).
        let service = unsafe { &(*store).service };
        let now = service.now();
        let instances = service
            .list((!project_id.is_empty()).then_some(project_id))
            .map_err(failure)?
            .iter()
            .map(|record| instance_json(service.store(), record, now).map_err(failure))
            .collect::<Result<Vec<_>, _>>()?;
        string_out(out, to_json_text(&instances)?)
    })
}

/// Records one use of stored instance `instance_id` in its activity: `event_json` is
/// `{"kind": "validation" | "test" | "oauth_refresh" | "credential_read", "apiCalls": N,
/// "error": "what failed" | null}` (a C host that calls the service itself reports it here;
/// the library records its own credential reads). Never put a secret in `error`.
/// `MGC_RESULT_NOT_FOUND` for an unknown instance; `MGC_RESULT_INVALID_CONFIG` for an event
/// that is not of that shape.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_store_record_activity(
    store: *mut mgc_store,
    instance_id: *const c_char,
    instance_id_len: usize,
    event_json: *const c_char,
    event_json_len: usize,
) -> mgc_result {
    guard(|| {
        let store = resolve(store, Kind::Store, "store")?;
        let id = arg_str(instance_id, instance_id_len, "instance_id")?;
        let event = arg_json(event_json, event_json_len, "event_json")?;
        // SAFETY: as in `mgc_store_instances`.
        let service = unsafe { &mut (*store).service };
        let event = ActivityEvent::from_host_json(service.now(), &event)
            .map_err(|e| Failure::new(mgc_result::InvalidConfig, format!("event_json: {e}")))?;
        service.record_activity(id, &event).map_err(failure)
    })
}

// ---------------------------------------------------------------------------------------------
// Vault

/// Opens the vault over the keyring file at `keyring_path`, creating the file (mode 0600) with a
/// first key when it does not exist.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_vault_open(
    keyring_path: *const c_char,
    keyring_path_len: usize,
    out: *mut *mut mgc_vault,
) -> mgc_result {
    guard(|| {
        let path = arg_str(keyring_path, keyring_path_len, "keyring_path")?;
        check_out(out, "out")?;
        if path.is_empty() {
            return Err(Failure::new(
                mgc_result::NullArgument,
                "keyring_path is empty",
            ));
        }
        let keyring =
            LocalKeyring::open_or_create(Path::new(path), SystemClock.now()).map_err(failure)?;
        write_out(
            out,
            mgc_vault {
                inner: Vault::new(keyring),
            },
            Kind::Vault,
        );
        Ok(())
    })
}

/// Frees a vault. NULL is a no-op; a second free returns `MGC_RESULT_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_vault_free(vault: *mut mgc_vault) -> mgc_result {
    guard(|| take_back(vault, Kind::Vault, "vault"))
}

fn vault_ref<'a>(vault: *const mgc_vault) -> Result<&'a mgc_vault, Failure> {
    let vault = resolve(vault, Kind::Vault, "vault")?;
    // SAFETY: live, so it resolves to a valid `mgc_vault`; C must not free it during the call.
    Ok(unsafe { &*vault })
}

/// Encrypts `plaintext` for (project, connector); `*out` gets the text form (`mgv1:...`).
#[unsafe(no_mangle)]
pub extern "C" fn mgc_vault_encrypt(
    vault: *const mgc_vault,
    project_id: *const c_char,
    project_id_len: usize,
    connector_id: *const c_char,
    connector_id_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let vault = vault_ref(vault)?;
        let project = arg_str(project_id, project_id_len, "project_id")?;
        let connector = arg_str(connector_id, connector_id_len, "connector_id")?;
        let plaintext = arg_bytes(plaintext, plaintext_len, "plaintext")?;
        check_out(out, "out")?;
        let text = vault
            .inner
            .encrypt_to_text(plaintext, &Context::new(project, connector))
            .map_err(failure)?;
        string_out(out, text)
    })
}

/// Decrypts a text-form ciphertext for (project, connector); `*out` gets the plaintext, which
/// `mgc_bytes_free` wipes.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_vault_decrypt(
    vault: *const mgc_vault,
    project_id: *const c_char,
    project_id_len: usize,
    connector_id: *const c_char,
    connector_id_len: usize,
    ciphertext: *const c_char,
    ciphertext_len: usize,
    out: *mut *mut mgc_bytes,
) -> mgc_result {
    guard(|| {
        let vault = vault_ref(vault)?;
        let project = arg_str(project_id, project_id_len, "project_id")?;
        let connector = arg_str(connector_id, connector_id_len, "connector_id")?;
        let text = arg_str(ciphertext, ciphertext_len, "ciphertext")?;
        check_out(out, "out")?;
        let plaintext = vault
            .inner
            .decrypt_text(text, &Context::new(project, connector))
            .map_err(failure)?;
        write_out(
            out,
            mgc_bytes {
                bytes: plaintext.expose_secret().to_vec(),
            },
            Kind::Bytes,
        );
        Ok(())
    })
}

/// Makes a new key the active one (saved to the keyring file); `*out` gets its id. Older keys
/// keep decrypting.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_vault_rotate(vault: *mut mgc_vault, out: *mut *mut mgc_string) -> mgc_result {
    guard(|| {
        let vault = resolve(vault, Kind::Vault, "vault")?;
        check_out(out, "out")?;
        // SAFETY: the handle is live, so it resolves to a valid `mgc_vault`; C must not use the
        // vault from another thread during this call (documented: rotation needs exclusive use).
        let vault = unsafe { &mut *vault };
        let id = vault
            .inner
            .provider_mut()
            .rotate(SystemClock.now())
            .map_err(failure)?;
        string_out(out, id.to_string())
    })
}

/// Re-wraps a ciphertext's data key under the active key without touching its body; `*out`
/// gets the new text form.
#[unsafe(no_mangle)]
pub extern "C" fn mgc_vault_rewrap(
    vault: *const mgc_vault,
    project_id: *const c_char,
    project_id_len: usize,
    connector_id: *const c_char,
    connector_id_len: usize,
    ciphertext: *const c_char,
    ciphertext_len: usize,
    out: *mut *mut mgc_string,
) -> mgc_result {
    guard(|| {
        let vault = vault_ref(vault)?;
        let project = arg_str(project_id, project_id_len, "project_id")?;
        let connector = arg_str(connector_id, connector_id_len, "connector_id")?;
        let text = arg_str(ciphertext, ciphertext_len, "ciphertext")?;
        check_out(out, "out")?;
        let envelope =
            mobigen_connectors::secrets::vault::Envelope::from_text(text).map_err(failure)?;
        let rewrapped = vault
            .inner
            .rewrap(envelope, &Context::new(project, connector))
            .map_err(failure)?;
        string_out(out, rewrapped.to_text())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15 item 15: the live set held bare addresses, so after a free the allocator could
    /// put a new string at the same address and a second free of the old pointer freed the new
    /// string. Handles are never reused.
    #[test]
    fn a_second_free_is_refused_even_when_the_address_was_reused() {
        let mut first: *mut mgc_string = std::ptr::null_mut();
        assert_eq!(string_out(&mut first, "one".into()).ok(), Some(()));
        assert_eq!(mgc_string_free(first), mgc_result::Ok);
        let mut second: *mut mgc_string = std::ptr::null_mut();
        assert_eq!(string_out(&mut second, "two".into()).ok(), Some(()));
        assert_eq!(mgc_string_free(first), mgc_result::InvalidHandle);
        assert_eq!(mgc_string_len(second), 3);
        assert_eq!(mgc_string_free(second), mgc_result::Ok);
        assert_eq!(mgc_string_free(second), mgc_result::InvalidHandle);
        assert_eq!(mgc_string_free(std::ptr::null_mut()), mgc_result::Ok);
    }
}
