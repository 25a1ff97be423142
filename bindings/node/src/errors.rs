//! Errors as JavaScript sees them: an `Error` whose `code` is one of the stable [`Code`]s and
//! whose message is the Rust message; bad argument types are `TypeError`s with code
//! `INVALID_ARGUMENT`.
//!
//! A [`Failure`] is plain data (`Send`), so an async task can carry it from the worker thread
//! back to the main thread, where [`Failure::into_js`] builds the JS object.

use mobigen_connectors::apply::ApplyError;
use mobigen_connectors::net::NetError;
use mobigen_connectors::ops::OpError;
use mobigen_connectors::plan::PlanError;
use mobigen_connectors::store::StoreError;
use mobigen_connectors::vault::VaultError;
use mobigen_connectors::{ConfigError, RegistryError};
use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsError, JsTypeError, JsValue, Status};
use serde_json::{Value, json};

/// The `code` of every error the package throws. Names are stable: new ones may be added,
/// none is renamed or reused. They match the C ABI's result names (`MGC_RESULT_CONFLICT` is
/// `CONFLICT`), plus the store's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// An argument has the wrong type or an impossible value (thrown as `TypeError`).
    InvalidArgument,
    /// No connector has that id.
    UnknownConnector,
    /// No category has that name.
    UnknownCategory,
    /// The config was refused; `error.issues` lists every problem.
    InvalidConfig,
    /// A connector manifest loaded from a folder is invalid.
    InvalidManifest,
    /// The project cannot be read or edited (no package.json, unparsable root file...).
    ProjectError,
    /// Generated files were edited by the user; nothing was written. `error.conflicts` lists
    /// them; `force: true` overrides.
    Conflict,
    /// The connector to remove is not enabled in the project.
    NotEnabled,
    /// Another operation holds the project.
    Busy,
    /// A file-system call failed; nothing was changed.
    Io,
    /// Decryption failed: wrong project or connector, tampered or truncated ciphertext.
    DecryptionFailed,
    /// A vault key problem: unknown or retired key id, unreadable key file.
    KeyError,
    /// No stored connector instance (or credentials version) has that id.
    NotFound,
    /// The project already has a stored instance of the connector.
    AlreadyExists,
    /// The instance's lifecycle does not allow the step.
    IllegalTransition,
    /// The store's database failed or holds an unreadable row.
    StoreError,
    /// The library panicked (a bug).
    Panic,
    /// The HTTP client could not be set up, or a `MOBIGEN_*_API_BASE` variable is not a URL.
    NetworkSetup,
    /// The connector has no test action of that id.
    UnknownAction,
    /// The test action has no parameter of that name.
    UnknownParam,
    /// The safety rules refuse the endpoint (not https, or not a public address).
    EndpointRefused,
    /// No answer: timeout, connection refused or dropped.
    NetworkError,
    /// The service answered with an unexpected status (`error.status`) or an unusable body.
    ServiceError,
    /// The connector has no OAuth flow (OAuth: stripe, firebase, supabase).
    OauthUnsupported,
    /// The user or the provider refused the authorization (`error.oauthError`: `access_denied`...).
    AuthorizationDenied,
    /// The callback's `state` is not the pending authorization's (maybe a forged callback).
    StateMismatch,
    /// The callback URL cannot be parsed or lacks `code`.
    BadCallback,
    /// The authorization code expired, was used already, or belongs to another client.
    InvalidGrant,
    /// A supplied file is not declared (or not fetchable) by the connector, or its body does
    /// not parse.
    InvalidSupplied,
}

impl Code {
    /// The string JavaScript sees as `error.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::UnknownConnector => "UNKNOWN_CONNECTOR",
            Code::UnknownCategory => "UNKNOWN_CATEGORY",
            Code::InvalidConfig => "INVALID_CONFIG",
            Code::InvalidManifest => "INVALID_MANIFEST",
            Code::ProjectError => "PROJECT_ERROR",
            Code::Conflict => "CONFLICT",
            Code::NotEnabled => "NOT_ENABLED",
            Code::Busy => "BUSY",
            Code::Io => "IO",
            Code::DecryptionFailed => "DECRYPTION_FAILED",
            Code::KeyError => "KEY_ERROR",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::IllegalTransition => "ILLEGAL_TRANSITION",
            Code::StoreError => "STORE_ERROR",
            Code::Panic => "PANIC",
            Code::NetworkSetup => "NETWORK_SETUP",
            Code::UnknownAction => "UNKNOWN_ACTION",
            Code::UnknownParam => "UNKNOWN_PARAM",
            Code::EndpointRefused => "ENDPOINT_REFUSED",
            Code::NetworkError => "NETWORK_ERROR",
            Code::ServiceError => "SERVICE_ERROR",
            Code::OauthUnsupported => "OAUTH_UNSUPPORTED",
            Code::AuthorizationDenied => "AUTHORIZATION_DENIED",
            Code::StateMismatch => "STATE_MISMATCH",
            Code::BadCallback => "BAD_CALLBACK",
            Code::InvalidGrant => "INVALID_GRANT",
            Code::InvalidSupplied => "INVALID_SUPPLIED",
        }
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// A failed call: its code, the Rust message, and structured details (`issues`, `conflicts`)
/// set as extra properties of the JS error.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The stable code.
    pub code: Code,
    /// The message.
    pub message: String,
    /// Extra properties of the error object, by name.
    pub details: Vec<(&'static str, Value)>,
}

/// The result of every fallible step inside the binding.
pub type Outcome<T> = Result<T, Failure>;

impl Failure {
    /// A failure without details.
    pub fn new(code: Code, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// A bad argument (thrown as `TypeError`).
    pub fn argument(message: impl Into<String>) -> Failure {
        Failure::new(Code::InvalidArgument, message)
    }

    fn with(mut self, name: &'static str, value: Value) -> Failure {
        self.details.push((name, value));
        self
    }

    /// Builds the JS error object and wraps it so napi throws (or rejects with) exactly it.
    pub fn into_js(self, env: &Env) -> napi::Error {
        match self.build(env) {
            Ok(error) => error,
            // Building the object failed (out of memory, a pending exception): fall back to
            // napi's own error, which still carries the message.
            Err(e) => napi::Error::new(
                Status::GenericFailure,
                format!("{}: {} ({e})", self.code.as_str(), self.message),
            ),
        }
    }

    fn build(&self, env: &Env) -> napi::Result<napi::Error> {
        let base = napi::Error::new(self.code, self.message.clone());
        let value = if self.code == Code::InvalidArgument {
            JsTypeError::from(base).into_unknown(*env)
        } else {
            JsError::from(base).into_unknown(*env)
        };
        if !self.details.is_empty() {
            let mut object: Object = value.coerce_to_object()?;
            for (name, detail) in &self.details {
                object.set_named_property(name, detail.clone())?;
            }
        }
        Ok(napi::Error::from(value))
    }
}

/// A failure in a registry call.
pub fn registry(e: RegistryError) -> Failure {
    let code = match e {
        RegistryError::Unknown { .. } => Code::UnknownConnector,
        RegistryError::Io { .. } => Code::Io,
        _ => Code::InvalidManifest,
    };
    Failure::new(code, e.to_string())
}

/// A refused config: the message lists every problem, `error.issues` holds them as data.
pub fn config(e: ConfigError) -> Failure {
    let issues = json!(e.issues);
    Failure::new(Code::InvalidConfig, e.to_string()).with("issues", issues)
}

/// A failure of add / remove / status / planning.
pub fn op(e: OpError) -> Failure {
    match e {
        OpError::Plan(e) => plan(e),
        OpError::Apply(ApplyError::Busy { .. }) => Failure::new(Code::Busy, e.to_string()),
        OpError::Apply(_) => Failure::new(Code::Io, e.to_string()),
        _ => Failure::new(Code::ProjectError, e.to_string()),
    }
}

/// A failure of planning.
pub fn plan(e: PlanError) -> Failure {
    match e {
        PlanError::Conflicts { ref conflicts } => {
            let list: Vec<Value> = conflicts
                .iter()
                .map(|c| json!({"path": c.path, "reason": c.reason, "manualStep": c.manual_step}))
                .collect();
            Failure::new(Code::Conflict, e.to_string()).with("conflicts", Value::Array(list))
        }
        PlanError::NotEnabled { .. } => Failure::new(Code::NotEnabled, e.to_string()),
        PlanError::Supplied { .. } => Failure::new(Code::InvalidSupplied, e.to_string()),
        PlanError::Template { .. } => Failure::new(Code::InvalidManifest, e.to_string()),
        PlanError::Registry(e) => registry(e),
        _ => Failure::new(Code::ProjectError, e.to_string()),
    }
}

/// A failure of the vault.
pub fn vault(e: VaultError) -> Failure {
    let code = match e {
        VaultError::Decryption
        | VaultError::Truncated
        | VaultError::NotARecord
        | VaultError::UnknownVersion { .. }
        | VaultError::UnknownAlgorithm { .. }
        | VaultError::Malformed { .. }
        | VaultError::BadTextEncoding { .. } => Code::DecryptionFailed,
        _ => Code::KeyError,
    };
    Failure::new(code, e.to_string())
}

/// A failure of the credential store.
pub fn store(e: StoreError) -> Failure {
    match e {
        StoreError::Vault(e) => vault(e),
        StoreError::NotFound { .. } | StoreError::VersionNotFound { .. } => {
            Failure::new(Code::NotFound, e.to_string())
        }
        StoreError::AlreadyExists { .. } => Failure::new(Code::AlreadyExists, e.to_string()),
        StoreError::IllegalTransition(_) | StoreError::WrongStatus { .. } => {
            Failure::new(Code::IllegalTransition, e.to_string())
        }
        StoreError::ConnectorMismatch { .. } => Failure::argument(e.to_string()),
        _ => Failure::new(Code::StoreError, e.to_string()),
    }
}

/// A failure of the network part. A credential the service rejects is not one: it is a failed
/// step of the report.
pub fn net(e: NetError) -> Failure {
    let message = e.to_string();
    match e {
        NetError::Setup(_) | NetError::BadOverride { .. } => {
            Failure::new(Code::NetworkSetup, message)
        }
        NetError::UnknownAction { .. } => Failure::new(Code::UnknownAction, message),
        NetError::UnknownParam { .. } => Failure::new(Code::UnknownParam, message),
        NetError::Config { field, reason } => Failure::new(Code::InvalidConfig, message).with(
            "issues",
            json!([{ "pointer": field, "message": reason, "severity": "error" }]),
        ),
        NetError::EndpointRefused(_) => Failure::new(Code::EndpointRefused, message),
        NetError::Status { status, .. } => {
            Failure::new(Code::ServiceError, message).with("status", json!(status))
        }
        NetError::InvalidResponse(_) => Failure::new(Code::ServiceError, message),
        NetError::AuthorizationDenied { code, .. } => {
            Failure::new(Code::AuthorizationDenied, message).with("oauthError", json!(code))
        }
        NetError::StateMismatch => Failure::new(Code::StateMismatch, message),
        NetError::BadCallback(_) => Failure::new(Code::BadCallback, message),
        NetError::InvalidGrant => Failure::new(Code::InvalidGrant, message),
        NetError::UnknownSupplied { .. } => Failure::new(Code::InvalidSupplied, message),
        // Transport, and what the binding never calls (refresh, token store).
        _ => Failure::new(Code::NetworkError, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_screaming_snake_and_distinct() {
        let all = [
            Code::InvalidArgument,
            Code::UnknownConnector,
            Code::UnknownCategory,
            Code::InvalidConfig,
            Code::InvalidManifest,
            Code::ProjectError,
            Code::Conflict,
            Code::NotEnabled,
            Code::Busy,
            Code::Io,
            Code::DecryptionFailed,
            Code::KeyError,
            Code::NotFound,
            Code::AlreadyExists,
            Code::IllegalTransition,
            Code::StoreError,
            Code::Panic,
            Code::NetworkSetup,
            Code::UnknownAction,
            Code::UnknownParam,
            Code::EndpointRefused,
            Code::NetworkError,
            Code::ServiceError,
            Code::OauthUnsupported,
            Code::AuthorizationDenied,
            Code::StateMismatch,
            Code::BadCallback,
            Code::InvalidGrant,
        ];
        let names: std::collections::HashSet<&str> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), all.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        );
    }

    #[test]
    fn store_errors_keep_the_vault_code() {
        let failure = store(StoreError::Vault(VaultError::Decryption));
        assert_eq!(failure.code, Code::DecryptionFailed);
        let failure = store(StoreError::NotFound { id: "x".into() });
        assert_eq!(failure.code, Code::NotFound);
    }

    #[test]
    fn oauth_refusals_keep_their_detail() {
        let failure = net(NetError::AuthorizationDenied {
            code: "access_denied".into(),
            message: "the user declined".into(),
        });
        assert_eq!(failure.code, Code::AuthorizationDenied);
        assert_eq!(
            failure.details,
            vec![("oauthError", json!("access_denied"))]
        );
        let failure = net(NetError::Status {
            status: 502,
            message: "bad gateway".into(),
        });
        assert_eq!(
            (failure.code, failure.details[0].1.clone()),
            (Code::ServiceError, json!(502))
        );
        let failure = net(NetError::Config {
            field: "/projectUrl".into(),
            reason: "not a URL".into(),
        });
        assert_eq!(failure.code, Code::InvalidConfig);
        assert_eq!(failure.details[0].1[0]["pointer"], "/projectUrl");
    }
}
