//! Checks written in Rust, for what the declarative form cannot say.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

use super::http::{Clients, Method, Outgoing};
use super::mask::Masker;
use super::{NetError, NetOptions, StepReport};
use crate::catalog::definition::HttpMethod;

/// A boxed future, as returned by [`CustomCheck::run`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A validation step written in Rust, registered with [`super::NetEngine::register_check`].
///
/// Its step details are masked like every other step's, but it should still use
/// [`CheckContext::mask`] on any service text it builds messages from.
///
/// ```
/// use mobigen_connectors::net::{BoxFuture, CheckContext, CustomCheck, StepReport};
///
/// struct StatusPage;
///
/// impl CustomCheck for StatusPage {
///     fn name(&self) -> &str {
///         "Service status"
///     }
///     fn run<'a>(&'a self, ctx: &'a CheckContext<'a>) -> BoxFuture<'a, StepReport> {
///         Box::pin(async move {
///             let Some(base) = ctx.api_base() else {
///                 return StepReport::fail(self.name(), "no base URL", None, "set one");
///             };
///             match ctx.send_json(mobigen_connectors::catalog::definition::HttpMethod::Get,
///                                 &format!("{base}/status"), &[], None).await {
///                 Ok(reply) if reply.status == 200 => StepReport::pass(self.name(), None),
///                 Ok(reply) => StepReport::fail(self.name(), format!("HTTP {}", reply.status),
///                                               None, "try again later"),
///                 Err(e) => StepReport::fail(self.name(), e.to_string(), None, "try again later"),
///             }
///         })
///     }
/// }
/// ```
pub trait CustomCheck: Send + Sync {
    /// Step name shown to the user.
    fn name(&self) -> &str;

    /// Runs the check.
    fn run<'a>(&'a self, ctx: &'a CheckContext<'a>) -> BoxFuture<'a, StepReport>;
}

/// What a custom check may use: the config, the connector's base URL and a guarded HTTP sender
/// (same timeouts, retries and endpoint rules as the declarative checks).
pub struct CheckContext<'a> {
    pub(crate) engine_options: &'a NetOptions,
    pub(crate) clients: &'a Clients,
    pub(crate) connector_id: &'a str,
    pub(crate) config: &'a Value,
    pub(crate) api_base: Option<&'a str>,
    pub(crate) allow_local: bool,
    pub(crate) masker: &'a Masker,
    pub(crate) requests: &'a AtomicU32,
}

/// A response to [`CheckContext::send_json`].
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// HTTP status.
    pub status: u16,
    /// Response headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Body text. May echo secrets: pass it through [`CheckContext::mask`] before showing it.
    pub body: String,
}

impl CheckContext<'_> {
    /// The connector's id.
    pub fn connector_id(&self) -> &str {
        self.connector_id
    }

    /// The config values, secrets included: never log them.
    pub fn config(&self) -> &Value {
        self.config
    }

    /// The connector's base URL after overrides (for Supabase, the project URL).
    pub fn api_base(&self) -> Option<&str> {
        self.api_base
    }

    /// `text` with the run's secrets and key-shaped echoes masked.
    pub fn mask(&self, text: &str) -> String {
        self.masker.mask(text)
    }

    /// Sends a request under the engine's rules; `body` is sent as JSON.
    ///
    /// # Errors
    /// [`NetError::EndpointRefused`] for a refused endpoint (not https, or a non-public address
    /// without the host's opt-in), [`NetError::Transport`] when no answer came, and
    /// [`NetError::Config`] for a URL that does not parse.
    pub async fn send_json(
        &self,
        method: HttpMethod,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<HttpReply, NetError> {
        let url = url::Url::parse(url).map_err(|e| NetError::Config {
            field: "(url)".into(),
            reason: e.to_string(),
        })?;
        let outgoing = Outgoing {
            method: Method::from(method),
            url,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
            body: body.map(|b| ("application/json", b.to_string().into_bytes())),
            allow_local: self.allow_local,
            idempotent: !matches!(method, HttpMethod::Post),
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let reply = self.clients.send(&outgoing, self.engine_options).await?;
        Ok(HttpReply {
            status: reply.status,
            headers: reply
                .headers
                .iter()
                .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect(),
            body: reply.body,
        })
    }
}
