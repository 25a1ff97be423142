//! One stable code for every error the library reports, the same in every host: Node's
//! `error.code` is [`ErrorCode::as_str`], the C ABI numbers the codes it knows, the CLI prints the
//! message. Which error gets which code is decided here, once ([`Coded`]).
//!
//! ```
//! use mobigen_connectors::host::codes::{Coded, ErrorCode};
//! use mobigen_connectors::Registry;
//!
//! let error = Registry::builtin()?.lookup("strpe").unwrap_err();
//! assert_eq!(error.code(), ErrorCode::UnknownConnector);
//! assert_eq!(error.code().as_str(), "UNKNOWN_CONNECTOR");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::catalog::config::ConfigError;
use crate::catalog::error::RegistryError;
use crate::project::apply::ApplyError;
use crate::project::ops::OpError;
use crate::project::plan::PlanError;
use crate::secrets::vault::VaultError;
use crate::store::StoreError;

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $name:ident = $text:literal,)*) => {
        /// The stable code of an error. Names are stable: new ones may be added, none is renamed
        /// or reused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $name,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code's name (`UNKNOWN_CONNECTOR`): Node's `error.code`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $text,)*
                }
            }
        }
    };
}

codes! {
    /// An argument has the wrong type or an impossible value.
    InvalidArgument = "INVALID_ARGUMENT",
    /// No connector has that id.
    UnknownConnector = "UNKNOWN_CONNECTOR",
    /// No category has that name.
    UnknownCategory = "UNKNOWN_CATEGORY",
    /// The config was refused; the error lists every problem.
    InvalidConfig = "INVALID_CONFIG",
    /// A connector manifest is invalid, or one of its templates renders code that does not parse.
    InvalidManifest = "INVALID_MANIFEST",
    /// The project cannot be read or edited (no package.json, unparsable root file...).
    ProjectError = "PROJECT_ERROR",
    /// Generated files were edited by the user; nothing was written (force overrides).
    Conflict = "CONFLICT",
    /// The connector to remove is not enabled in the project.
    NotEnabled = "NOT_ENABLED",
    /// Another operation holds the project.
    Busy = "BUSY",
    /// A file-system call failed; nothing was changed.
    Io = "IO",
    /// Decryption failed: wrong project or connector, tampered or truncated ciphertext.
    DecryptionFailed = "DECRYPTION_FAILED",
    /// A vault key problem: unknown or retired key id, unreadable key file.
    KeyError = "KEY_ERROR",
    /// No stored connector instance (or credentials version) has that id.
    NotFound = "NOT_FOUND",
    /// The project already has a stored instance of the connector.
    AlreadyExists = "ALREADY_EXISTS",
    /// The instance's lifecycle does not allow the step.
    IllegalTransition = "ILLEGAL_TRANSITION",
    /// The store's database failed or holds an unreadable row.
    StoreError = "STORE_ERROR",
    /// The library panicked (a bug).
    Panic = "PANIC",
    /// The HTTP client could not be set up, or a base URL override is not a URL.
    NetworkSetup = "NETWORK_SETUP",
    /// The connector has no test action of that id.
    UnknownAction = "UNKNOWN_ACTION",
    /// The test action has no parameter of that name.
    UnknownParam = "UNKNOWN_PARAM",
    /// The safety rules refuse the endpoint (not https, or not a public address).
    EndpointRefused = "ENDPOINT_REFUSED",
    /// No answer: timeout, connection refused or dropped.
    NetworkError = "NETWORK_ERROR",
    /// The service answered with an unexpected status or an unusable body.
    ServiceError = "SERVICE_ERROR",
    /// The connector has no OAuth flow.
    OauthUnsupported = "OAUTH_UNSUPPORTED",
    /// The user or the provider refused the authorization.
    AuthorizationDenied = "AUTHORIZATION_DENIED",
    /// The callback's `state` is not the pending authorization's.
    StateMismatch = "STATE_MISMATCH",
    /// The callback URL cannot be parsed or lacks `code`.
    BadCallback = "BAD_CALLBACK",
    /// The authorization code expired, was used already, or belongs to another client.
    InvalidGrant = "INVALID_GRANT",
    /// A supplied file is not declared (or not fetchable) by the connector, or does not parse.
    InvalidSupplied = "INVALID_SUPPLIED",
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error that has a stable code.
pub trait Coded {
    /// The error's code.
    fn code(&self) -> ErrorCode;
}

impl Coded for RegistryError {
    fn code(&self) -> ErrorCode {
        match self {
            RegistryError::Unknown { .. } => ErrorCode::UnknownConnector,
            RegistryError::Io { .. } => ErrorCode::Io,
            _ => ErrorCode::InvalidManifest,
        }
    }
}

impl Coded for ConfigError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidConfig
    }
}

impl Coded for PlanError {
    fn code(&self) -> ErrorCode {
        match self {
            PlanError::Conflicts { .. } => ErrorCode::Conflict,
            PlanError::NotEnabled { .. } => ErrorCode::NotEnabled,
            PlanError::Supplied { .. } => ErrorCode::InvalidSupplied,
            PlanError::Template { .. } => ErrorCode::InvalidManifest,
            PlanError::Registry(e) => e.code(),
            _ => ErrorCode::ProjectError,
        }
    }
}

impl Coded for ApplyError {
    fn code(&self) -> ErrorCode {
        match self {
            ApplyError::Busy { .. } => ErrorCode::Busy,
            _ => ErrorCode::Io,
        }
    }
}

impl Coded for OpError {
    fn code(&self) -> ErrorCode {
        match self {
            OpError::Plan(e) => e.code(),
            OpError::Apply(e) => e.code(),
        }
    }
}

impl Coded for VaultError {
    fn code(&self) -> ErrorCode {
        match self {
            VaultError::Decryption
            | VaultError::Truncated
            | VaultError::NotARecord
            | VaultError::UnknownVersion { .. }
            | VaultError::UnknownAlgorithm { .. }
            | VaultError::Malformed { .. }
            | VaultError::BadTextEncoding { .. } => ErrorCode::DecryptionFailed,
            _ => ErrorCode::KeyError,
        }
    }
}

impl Coded for StoreError {
    fn code(&self) -> ErrorCode {
        match self {
            StoreError::Vault(e) => e.code(),
            StoreError::NotFound { .. } | StoreError::VersionNotFound { .. } => ErrorCode::NotFound,
            StoreError::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            StoreError::IllegalTransition(_) | StoreError::WrongStatus { .. } => {
                ErrorCode::IllegalTransition
            }
            StoreError::ConnectorMismatch { .. } => ErrorCode::InvalidArgument,
            _ => ErrorCode::StoreError,
        }
    }
}

#[cfg(feature = "net")]
impl Coded for crate::net::NetError {
    fn code(&self) -> ErrorCode {
        use crate::net::NetError;
        match self {
            NetError::Setup(_) | NetError::BadOverride { .. } => ErrorCode::NetworkSetup,
            NetError::UnknownAction { .. } => ErrorCode::UnknownAction,
            NetError::UnknownParam { .. } => ErrorCode::UnknownParam,
            NetError::Config { .. } => ErrorCode::InvalidConfig,
            NetError::EndpointRefused(_) => ErrorCode::EndpointRefused,
            NetError::Status { .. } | NetError::InvalidResponse(_) => ErrorCode::ServiceError,
            NetError::AuthorizationDenied { .. } => ErrorCode::AuthorizationDenied,
            NetError::StateMismatch => ErrorCode::StateMismatch,
            NetError::BadCallback(_) => ErrorCode::BadCallback,
            NetError::InvalidGrant => ErrorCode::InvalidGrant,
            NetError::UnknownSupplied { .. } => ErrorCode::InvalidSupplied,
            // Transport, and what the hosts never call (refresh, token store).
            _ => ErrorCode::NetworkError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_screaming_snake_and_distinct() {
        let names: std::collections::HashSet<&str> =
            ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        );
    }

    #[test]
    fn store_errors_keep_the_vault_code() {
        assert_eq!(
            StoreError::Vault(VaultError::Decryption).code(),
            ErrorCode::DecryptionFailed
        );
        assert_eq!(
            StoreError::NotFound { id: "x".into() }.code(),
            ErrorCode::NotFound
        );
    }

    #[test]
    fn plan_errors_keep_the_registry_code() {
        let unknown = RegistryError::Unknown {
            id: "strpe".into(),
            suggestion: Some("stripe".into()),
        };
        assert_eq!(
            OpError::Plan(PlanError::Registry(unknown)).code(),
            ErrorCode::UnknownConnector
        );
    }
}
