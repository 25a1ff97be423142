//! The network part: live validation of a connector's credentials, test actions, Supabase type
//! generation and OAuth. Behind the cargo feature `net` (on by default); planning and applying
//! never call into it.
//!
//! One engine ([`NetEngine`], or [`BlockingNetEngine`] for synchronous hosts) runs the
//! declarative checks of a connector manifest (`validation`, `testActions`) and any custom checks
//! a host registers in Rust ([`CustomCheck`]). Every run returns a [`CheckReport`] in the shape
//! of the PRD's test endpoint: `{success, duration, steps: [{name, passed, details, field?,
//! suggestion?}]}`.
//!
//! # Rules the engine follows
//! - **Error mappings** are checked against every response, in manifest order, and the first
//!   mapping whose conditions all hold wins. A mapping with a `status` matches exactly that
//!   status, even an expected one (a OneSignal 200 with an empty `id` fails); a mapping without
//!   `status` only matches an unexpected status. A response matched by no mapping passes when its
//!   status is expected and every `extract` pointer resolves, and fails otherwise.
//! - **Templates**: `{{apiBase}}` is inserted as is (it must start the URL); every other value is
//!   percent-encoded in the URL, form-encoded in form bodies, inserted as is in headers, and keeps
//!   its JSON type when it is a whole JSON string leaf (`"{{param.amount}}"` stays a number).
//! - **Clean-up** steps run even after a failed step; one that needs a value no step extracted
//!   (nothing was created) is skipped.
//! - **Timeouts**: connect 5 s, whole request 15 s ([`NetOptions`]).
//! - **Retries**: at most [`NetOptions::max_retries`] more attempts, on 429 (any method: the
//!   service did not act on the request) and on 5xx or a dropped connection (idempotent requests
//!   only), waiting `Retry-After` (seconds or an HTTP date) or an exponential backoff. A
//!   `Retry-After` longer than [`NetOptions::max_retry_wait`] is not waited for: the step fails
//!   and says when to try again.
//! - **Secrets**: every step detail and error text is masked: the values of the config's secret
//!   fields, extracted values named like a token or secret, values sent in headers from earlier
//!   steps, and key-shaped text a service echoes (`sk_test_****1234`) become `[redacted]`. URLs are
//!   never put into error texts (they can hold keys in the query).
//! - **Endpoints**: only `https`, and never to a private, loopback, link-local or otherwise
//!   non-public address (IP literals are checked, host names are resolved and every address
//!   checked, redirects are not followed, proxies are not used), unless the host allows the local
//!   network for that service ([`NetOptions::allow_local_network`]), which also allows `http`.
//!   A base URL override from `MOBIGEN_<SERVICE>_API_BASE` implies that opt-in for that service.

mod custom;
mod engine;
mod guard;
mod http;
mod mask;
#[cfg(any(test, feature = "mock-server"))]
pub mod mock;
pub mod oauth;
#[cfg(test)]
mod oauth_tests;
mod options;
pub mod supabase_types;
mod template;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use custom::{BoxFuture, CheckContext, CustomCheck, HttpReply};
pub use engine::{BlockingNetEngine, NetEngine};
pub use options::{NetOptions, env_var_name};

use crate::catalog::config::ValidConfig;
use crate::catalog::connector::Connector;

/// Fetches the body of `connector`'s supplied file `id` (see
/// [`crate::catalog::definition::SuppliedFile`]) from the live service, with the fetcher the manifest
/// names; give the result to [`crate::project::plan::plan_add_supplied`] (or `ops::add_supplied`).
///
/// # Errors
/// [`NetError::UnknownSupplied`] when the connector declares no such file or no fetcher for it,
/// and the fetcher's own errors (for `supabaseTypes`, those of
/// [`supabase_types::generate_types`]).
pub async fn fetch_supplied(
    engine: &NetEngine,
    connector: &Connector,
    id: &str,
    config: &ValidConfig,
) -> Result<String, NetError> {
    let def = connector.definition();
    let fetcher = def
        .supplied_files
        .iter()
        .find(|f| f.id == id)
        .and_then(|f| f.fetcher.as_deref());
    match fetcher {
        Some("supabaseTypes") => supabase_types::generate_types(engine, config).await,
        _ => Err(NetError::UnknownSupplied {
            connector: def.id.clone(),
            id: id.to_string(),
            known: def
                .supplied_files
                .iter()
                .filter(|f| f.fetcher.is_some())
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The result of a validation or test action run (the PRD's Appendix B test result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Every step passed.
    pub success: bool,
    /// Wall time of the run in milliseconds.
    pub duration: u64,
    /// Requests sent to the service (a retried request counts once): what the instance's
    /// activity counts as API calls.
    pub requests: u32,
    /// The steps, in the order they ran (clean-up steps last).
    pub steps: Vec<StepReport>,
}

/// One step of a [`CheckReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// Step name (`Payment intent created`).
    pub name: String,
    /// Whether the step passed.
    pub passed: bool,
    /// What happened (an id that was created, what the service said); never a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The config field at fault (JSON pointer), when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// Wall time of the step in milliseconds (0 for a step that sent nothing).
    pub duration: u64,
}

impl StepReport {
    /// A passed step.
    pub fn pass(name: impl Into<String>, details: Option<String>) -> StepReport {
        StepReport {
            name: name.into(),
            passed: true,
            details,
            field: None,
            suggestion: None,
            duration: 0,
        }
    }

    /// A failed step naming the field at fault (if any) and what to do.
    pub fn fail(
        name: impl Into<String>,
        details: impl Into<String>,
        field: Option<String>,
        suggestion: impl Into<String>,
    ) -> StepReport {
        StepReport {
            name: name.into(),
            passed: false,
            details: Some(details.into()),
            field,
            suggestion: Some(suggestion.into()),
            duration: 0,
        }
    }
}

/// Errors of the network part: bad arguments, client set-up, OAuth and type generation.
///
/// A credential the service rejects is not an error but a failed step of a [`CheckReport`].
/// No variant ever carries a secret or a URL with its query.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The HTTP client or the async runtime could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// A base URL override is not a usable URL.
    #[error("invalid base URL override for `{service}`: {reason}")]
    BadOverride {
        /// Service key (`stripe`, `firebase.firestore`).
        service: String,
        /// What is wrong.
        reason: String,
    },
    /// The connector has no test action of that id.
    #[error("connector `{connector}` has no test action `{action}`; known: {known}")]
    UnknownAction {
        /// Connector id.
        connector: String,
        /// The id asked for.
        action: String,
        /// The ids it has.
        known: String,
    },
    /// The connector has no supplied file of that id that can be fetched.
    #[error("connector `{connector}` has no fetchable supplied file `{id}`; known: {known}")]
    UnknownSupplied {
        /// Connector id.
        connector: String,
        /// The id asked for.
        id: String,
        /// The ids it can fetch (may be empty).
        known: String,
    },
    /// A parameter the test action does not declare.
    #[error("test action `{action}` has no parameter `{name}`; known: {known}")]
    UnknownParam {
        /// Test action id.
        action: String,
        /// The parameter given.
        name: String,
        /// The parameters it has.
        known: String,
    },
    /// A config value the request needs is missing or unusable.
    #[error("config field `{field}`: {reason}")]
    Config {
        /// JSON pointer of the field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The endpoint is refused by the safety rules (scheme or address).
    #[error("endpoint refused: {0}")]
    EndpointRefused(String),
    /// The request did not get an answer (timeout, connection refused or dropped).
    #[error("{0}")]
    Transport(String),
    /// The service answered with an unexpected status.
    #[error("the service answered HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// What the service said, masked.
        message: String,
    },
    /// The answer is not what the protocol says it should be.
    #[error("unexpected answer from the service: {0}")]
    InvalidResponse(String),
    /// The authorization server sent the user back with an error.
    #[error("authorization failed: {message} (`{code}`)")]
    AuthorizationDenied {
        /// OAuth error code (`access_denied`).
        code: String,
        /// A plain explanation.
        message: String,
    },
    /// The callback's `state` is not the one of the pending authorization.
    #[error(
        "the callback's state does not match the pending authorization; start again with \
         `oauth begin` (a mismatch can mean a forged callback)"
    )]
    StateMismatch,
    /// The callback URL lacks a parameter or cannot be parsed.
    #[error("invalid callback URL: {0}")]
    BadCallback(String),
    /// The authorization code was rejected (`invalid_grant`): expired, used or for another client.
    #[error(
        "the authorization code was rejected (invalid_grant): it expired or was already used; \
         start the authorization again"
    )]
    InvalidGrant,
    /// The refresh token was rejected; the user must authorize again.
    #[error("the refresh token was rejected ({0}); the user must authorize again")]
    RefreshRejected(String),
    /// The host's token store could not save the new tokens.
    #[error("cannot save the new tokens: {0}")]
    TokenStore(String),
}
