//! Errors as JavaScript sees them: an `Error` whose `code` is one of the stable [`Code`]s and
//! whose message is the Rust message; bad argument types are `TypeError`s with code
//! `INVALID_ARGUMENT`.
//!
//! A [`Failure`] is plain data (`Send`), so an async task can carry it from the worker thread
//! back to the main thread, where [`Failure::into_js`] builds the JS object.

use mobigen_connectors::host::protocol::ProtocolError;
use mobigen_connectors::net::NetError;
use mobigen_connectors::project::ops::OpError;
use mobigen_connectors::project::plan::PlanError;
use mobigen_connectors::secrets::vault::VaultError;
use mobigen_connectors::store::StoreError;
use mobigen_connectors::{ConfigError, RegistryError};
use napi::bindgen_prelude::{JsObjectValue, Object};
use napi::{Env, JsError, JsTypeError, JsValue, Status};
use serde_json::{Value, json};

use mobigen_connectors::host::codes::Coded;
/// The `code` of every error the package throws: the library's stable codes, the same names
/// as the C ABI's results (`MGC_RESULT_CONFLICT` is `CONFLICT`).
pub use mobigen_connectors::host::codes::ErrorCode as Code;

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
    Failure::new(e.code(), e.to_string())
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
        other => Failure::new(other.code(), other.to_string()),
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
        other => Failure::new(other.code(), other.to_string()),
    }
}

/// A failure of the store + project protocol (`CredentialStore#addConnector` and friends): a
/// refused config keeps its `issues`, a plan its `conflicts`.
pub fn protocol(e: ProtocolError) -> Failure {
    match e {
        ProtocolError::Config(e) => config(e),
        ProtocolError::Registry(e) => registry(e),
        ProtocolError::Project(e) => op(e),
        ProtocolError::Store(e) => store(e),
        other => Failure::new(other.code(), other.to_string()),
    }
}

/// A failure of the vault.
pub fn vault(e: VaultError) -> Failure {
    Failure::new(e.code(), e.to_string())
}

/// A failure of the credential store.
pub fn store(e: StoreError) -> Failure {
    if e.code() == Code::InvalidArgument {
        return Failure::argument(e.to_string());
    }
    Failure::new(e.code(), e.to_string())
}

/// A failure of the network part. A credential the service rejects is not one: it is a failed
/// step of the report.
pub fn net(e: NetError) -> Failure {
    let failure = Failure::new(e.code(), e.to_string());
    match e {
        NetError::Config { field, reason } => failure.with(
            "issues",
            json!([{ "pointer": field, "message": reason, "severity": "error" }]),
        ),
        NetError::Status { status, .. } => failure.with("status", json!(status)),
        NetError::AuthorizationDenied { code, .. } => failure.with("oauthError", json!(code)),
        _ => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
