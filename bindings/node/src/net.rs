//! The network calls: live validation (`validate`), test actions (`runTest`) and OAuth
//! (`oauthBegin`, `oauthComplete`). Each returns a Promise; the HTTP work runs on napi's tokio
//! runtime, so waiting for a service takes no thread of libuv's pool and no time of the JS
//! thread. Arguments are read before anything starts (a bad one throws a `TypeError`); every
//! other failure rejects the Promise with an `Error` whose `code` is stable.
//!
//! Secrets: the reports are masked by the library. OAuth's secrets (the PKCE verifier, the
//! tokens) never cross into JS in plain text: both are sealed with the caller's `Vault` and only
//! `Vault#decryptSecret` (named so, and audited) opens them.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use mobigen_connectors::clock::SystemClock;
use mobigen_connectors::net::oauth::{
    OAuthProvider, PendingAuthorization, TokenSet, begin_authorization, complete_authorization,
};
use mobigen_connectors::net::{CheckReport, NetEngine, NetOptions};
use mobigen_connectors::secrets::secret::SecretString;
use mobigen_connectors::{Connector, Registry, ValidConfig};
use napi::Env;
use napi::bindgen_prelude::{PromiseRaw, Reference, Unknown};
use napi_derive::napi;
use serde_json::{Map, Value, json};

use crate::errors::{self, Code, Failure, Outcome};
use crate::vault::Vault;
use crate::{args, call, guarded, json_to_js, panic_failure, registry};

/// A future that turns a panic while it is polled into a [`Code::Panic`] failure.
struct Guarded<F>(Pin<Box<F>>);

impl<T, F: Future<Output = Outcome<T>>> Future for Guarded<F> {
    type Output = Outcome<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Outcome<T>> {
        let inner = self.get_mut().0.as_mut();
        catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))
            .unwrap_or_else(|panic| Poll::Ready(Err(panic_failure(panic))))
    }
}

/// Runs `work` on napi's tokio runtime; back on the JS thread, `finish` makes the result (it
/// may use JS-thread objects such as a `Vault`), and a failure becomes the JS error with its
/// code. Returns the Promise.
fn promise<'env, T: Send + 'static>(
    env: &'env Env,
    work: impl Future<Output = Outcome<T>> + Send + 'static,
    finish: impl FnOnce(T) -> Outcome<Value> + 'static,
) -> napi::Result<PromiseRaw<'env, Unknown<'static>>> {
    let work = Guarded(Box::pin(work));
    env.spawn_future_with_callback(
        async move { Ok(work.await) },
        move |env, outcome| match outcome.and_then(|t| guarded(|| finish(t))) {
            Ok(value) => json_to_js(env, &value),
            Err(failure) => Err(failure.into_js(env)),
        },
    )
}

/// The options object of the network calls, read on the JS thread; the [`NetOptions`] are
/// made on the runtime (the environment's base URL overrides are read there, per call).
#[derive(Debug, Clone, Default)]
struct NetSettings {
    api_bases: Vec<(String, String)>,
    allow_local: Vec<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    max_retries: Option<u32>,
}

const NET_OPTIONS: &[&str] = &[
    "apiBases",
    "allowLocalNetwork",
    "timeoutMs",
    "connectTimeoutMs",
    "maxRetries",
];

impl NetSettings {
    fn read(env: &Env, options: Option<Unknown<'_>>) -> Outcome<NetSettings> {
        let options = args::optional_object(env, options, "options")?;
        let options = options.as_ref();
        args::known_keys(options, NET_OPTIONS)?;
        let mut settings = NetSettings::default();
        match options.and_then(|o| o.get("apiBases")) {
            None | Some(Value::Null) => {}
            Some(Value::Object(bases)) => {
                for (service, base) in bases {
                    let base = base.as_str().ok_or_else(|| {
                        Failure::argument(format!("options.apiBases.{service} must be a string"))
                    })?;
                    // Checked now, so a bad URL is a TypeError rather than a rejection.
                    NetOptions::default()
                        .with_api_base(service, base)
                        .map_err(|e| Failure::argument(format!("options.apiBases: {e}")))?;
                    settings.api_bases.push((service.clone(), base.to_string()));
                }
            }
            Some(_) => {
                return Err(Failure::argument(
                    "options.apiBases must be an object: service key -> base URL",
                ));
            }
        }
        match options.and_then(|o| o.get("allowLocalNetwork")) {
            None | Some(Value::Null) => {}
            Some(Value::Array(services)) => {
                for service in services {
                    let service = service.as_str().ok_or_else(|| {
                        Failure::argument("options.allowLocalNetwork must hold service keys")
                    })?;
                    settings.allow_local.push(service.to_string());
                }
            }
            Some(_) => {
                return Err(Failure::argument(
                    "options.allowLocalNetwork must be an array of service keys",
                ));
            }
        }
        let millis =
            |key| Ok::<_, Failure>(args::whole(options, key, 600_000)?.map(Duration::from_millis));
        settings.timeout = millis("timeoutMs")?;
        settings.connect_timeout = millis("connectTimeoutMs")?;
        settings.max_retries = args::whole(options, "maxRetries", 10)?.map(|n| n as u32);
        Ok(settings)
    }

    /// The environment's settings (`MOBIGEN_<SERVICE>_API_BASE`), then these on top.
    fn options(&self) -> Outcome<NetOptions> {
        let mut options = NetOptions::from_env().map_err(errors::net)?;
        for (service, base) in &self.api_bases {
            options = options.with_api_base(service, base).map_err(errors::net)?;
        }
        for service in &self.allow_local {
            options = options.allow_local_network(service);
        }
        if let Some(timeout) = self.timeout {
            options.timeout = timeout;
        }
        if let Some(timeout) = self.connect_timeout {
            options.connect_timeout = timeout;
        }
        if let Some(retries) = self.max_retries {
            options.max_retries = retries;
        }
        Ok(options)
    }
}

/// A report as JS sees it: the PRD's `{ success, duration, steps }`.
fn report_json(report: &CheckReport) -> Outcome<Value> {
    serde_json::to_value(report).map_err(|e| Failure::new(Code::Panic, e.to_string()))
}

/// The connector, the checked config and an engine: what every network call starts with.
fn prepare<'r>(
    registry: &'r Registry,
    id: &str,
    config: &Value,
    settings: &NetSettings,
) -> Outcome<(&'r Connector, ValidConfig, NetEngine)> {
    let connector = registry.lookup(id).map_err(errors::registry)?;
    let valid = connector.validate_config(config).map_err(errors::config)?;
    let engine = NetEngine::new(settings.options()?).map_err(errors::net)?;
    Ok((connector, valid, engine))
}

/// What `validate` and `runTest` check: the connector, the config, the engine.
async fn live_check(
    registry: Arc<Registry>,
    id: String,
    config: Value,
    settings: NetSettings,
    action: Option<(String, BTreeMap<String, Value>)>,
) -> Outcome<Value> {
    let (connector, valid, engine) = prepare(&registry, &id, &config, &settings)?;
    let report = match &action {
        None => engine.validate(connector, &valid).await,
        Some((action, params)) => engine
            .run_test_action(connector, &valid, action, params)
            .await
            .map_err(errors::net)?,
    };
    report_json(&report)
}

/// Checks `config`'s credentials against the live service (the manifest's `validation`
/// checks): resolves to `{ success, duration, steps: [{ name, passed, details?, field?,
/// suggestion? }] }`, the PRD's test result. A credential the service refuses is a failed step
/// (with `field`, the config field at fault), not a rejection. Rejects with `INVALID_CONFIG`
/// (the config is checked first, as `validateConfig`), `UNKNOWN_CONNECTOR`, `NETWORK_SETUP`.
/// No step detail holds a secret.
#[napi(
    ts_generic_types = "K extends string",
    ts_args_type = "id: K, config: ConnectorConfig<K>, options?: NetCallOptions",
    ts_return_type = "Promise<CheckReport>"
)]
pub fn validate<'env>(
    env: &'env Env,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<PromiseRaw<'env, Unknown<'static>>> {
    let (registry, id, config, settings) = call(env, || {
        Ok((
            registry::current()?,
            args::string(env, id, "id")?,
            args::object(env, config, "config")?,
            NetSettings::read(env, options)?,
        ))
    })?;
    promise(env, live_check(registry, id, config, settings, None), Ok)
}

/// Runs the connector's test action `action` (its manifest's `testActions`: Stripe
/// `payment_intent`, Supabase `table_probe`, ...) with `params` (missing ones take the
/// manifest's defaults): resolves to the same report as `validate`. Clean-up steps run after a
/// failed step too. Rejects with `UNKNOWN_ACTION`, `UNKNOWN_PARAM`, and as `validate`.
#[napi(
    js_name = "runTest",
    ts_generic_types = "K extends string",
    ts_args_type = "id: K, config: ConnectorConfig<K>, action: string, params?: TestParams, options?: NetCallOptions",
    ts_return_type = "Promise<CheckReport>"
)]
pub fn run_test<'env>(
    env: &'env Env,
    id: Unknown<'_>,
    config: Unknown<'_>,
    action: Unknown<'_>,
    params: Option<Unknown<'_>>,
    options: Option<Unknown<'_>>,
) -> napi::Result<PromiseRaw<'env, Unknown<'static>>> {
    let (registry, id, config, action, settings) = call(env, || {
        let action = args::non_empty(env, action, "action")?;
        let params: BTreeMap<String, Value> = match args::optional_object(env, params, "params")? {
            Some(Value::Object(params)) => params.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        Ok((
            registry::current()?,
            args::string(env, id, "id")?,
            args::object(env, config, "config")?,
            (action, params),
            NetSettings::read(env, options)?,
        ))
    })?;
    promise(
        env,
        live_check(registry, id, config, settings, Some(action)),
        Ok,
    )
}

/// Fetches the body of connector `id`'s supplied file `suppliedId` from the live service (the
/// Supabase `databaseTypes`: the project's `Database` TypeScript types, with `managementToken`
/// or `serviceRoleKey` in `config`): resolves to the text, which `planAdd` / `add` take as
/// `options.supplied`. Rejects with `INVALID_SUPPLIED` when the connector has no such
/// fetchable file, `SERVICE_ERROR` (with `error.status`) when the service refuses, and as
/// `validate`.
#[napi(
    js_name = "fetchSupplied",
    ts_generic_types = "K extends string",
    ts_args_type = "id: K, config: ConnectorConfig<K>, suppliedId: string, options?: NetCallOptions",
    ts_return_type = "Promise<string>"
)]
pub fn fetch_supplied<'env>(
    env: &'env Env,
    id: Unknown<'_>,
    config: Unknown<'_>,
    supplied_id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<PromiseRaw<'env, Unknown<'static>>> {
    let (registry, id, config, supplied_id, settings) = call(env, || {
        Ok((
            registry::current()?,
            args::string(env, id, "id")?,
            args::object(env, config, "config")?,
            args::non_empty(env, supplied_id, "suppliedId")?,
            NetSettings::read(env, options)?,
        ))
    })?;
    let work = async move {
        let (connector, valid, engine) = prepare(&registry, &id, &config, &settings)?;
        mobigen_connectors::net::fetch_supplied(&engine, connector, &supplied_id, &valid)
            .await
            .map(Value::String)
            .map_err(errors::net)
    };
    promise(env, work, Ok)
}

/// The connector id the sealed pending authorization of `id` is bound to.
fn pending_context(id: &str) -> String {
    format!("{id}.oauth-pending")
}

/// The connector id the sealed tokens of `id` are bound to (give it to `Vault#decryptSecret`).
fn tokens_context(id: &str) -> String {
    format!("{id}.oauth-tokens")
}

/// The OAuth provider of connector `id`.
fn provider(
    id: &str,
    client_id: &str,
    redirect_uri: &str,
    secret: SecretString,
    options: &NetOptions,
) -> Outcome<OAuthProvider> {
    OAuthProvider::for_connector(id, client_id, secret, redirect_uri)
        .map(|provider| provider.with_overrides(options))
        .ok_or_else(|| {
            Failure::new(
                Code::OauthUnsupported,
                format!(
                    "connector `{id}` has no OAuth flow; paste its keys instead (OAuth: stripe, \
                     firebase, supabase)"
                ),
            )
        })
}

/// The members of a `{ ... vault, projectId }` request object, read on the JS thread.
struct Sealing {
    vault: Reference<Vault>,
    project: String,
}

fn required(env: &Env, object: &napi::bindgen_prelude::Object<'_>, key: &str) -> Outcome<String> {
    match args::member(object, key, "request")? {
        Some(value) => args::non_empty(env, value, &format!("request.{key}")),
        None => Err(Failure::argument(format!("request.{key} is required"))),
    }
}

fn sealing(env: &Env, object: &napi::bindgen_prelude::Object<'_>) -> Outcome<Sealing> {
    let vault = match args::member(object, "vault", "request")? {
        Some(value) => args::vault(env, value, "request.vault")?,
        None => return Err(Failure::argument("request.vault is required (a Vault)")),
    };
    Ok(Sealing {
        vault,
        project: required(env, object, "projectId")?,
    })
}

/// Starts an OAuth authorization for connector `id` (`stripe`: Connect, `firebase`: Google,
/// `supabase`: Management API) with `state` and PKCE (S256; not for Stripe, whose endpoint takes
/// none). Resolves to `{ connector, url, state, pending }`: send the user to `url`; keep
/// `pending` (the state and the PKCE verifier, sealed with `request.vault` for
/// `request.projectId`: opaque, safe to store in the user's server-side session) and give it to
/// `oauthComplete`. No secret is in the result in plain text. Rejects with `OAUTH_UNSUPPORTED`
/// for other connectors and `UNKNOWN_CONNECTOR`.
#[napi(
    js_name = "oauthBegin",
    ts_args_type = "id: OAuthConnectorId, request: OAuthBeginRequest, options?: NetCallOptions",
    ts_return_type = "Promise<OAuthBeginResult>"
)]
pub fn oauth_begin<'env>(
    env: &'env Env,
    id: Unknown<'_>,
    request: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<PromiseRaw<'env, Unknown<'static>>> {
    let (registry, id, client_id, redirect_uri, sealing, settings) = call(env, || {
        let id = args::string(env, id, "id")?;
        let request = args::members(env, request, "request")?;
        args::known_members(
            &request,
            &["clientId", "redirectUri", "vault", "projectId"],
            "request",
        )?;
        Ok((
            registry::current()?,
            id,
            required(env, &request, "clientId")?,
            required(env, &request, "redirectUri")?,
            sealing(env, &request)?,
            NetSettings::read(env, options)?,
        ))
    })?;
    let begin = async move {
        registry.lookup(&id).map_err(errors::registry)?;
        let options = settings.options()?;
        let provider = provider(
            &id,
            &client_id,
            &redirect_uri,
            SecretString::default(),
            &options,
        )?;
        let request = begin_authorization(&provider).map_err(errors::net)?;
        Ok((id, client_id, redirect_uri, request))
    };
    promise(env, begin, move |(id, client_id, redirect_uri, request)| {
        let pending = json!({
            "provider": id,
            "clientId": client_id,
            "redirectUri": redirect_uri,
            "state": request.pending.state.expose_secret(),
            "pkceVerifier": request.pending.pkce_verifier.as_ref().map(SecretString::expose_secret),
        });
        let plaintext = SecretString::new(pending.to_string());
        let sealed = sealing.vault.seal(
            &sealing.project,
            &pending_context(&id),
            plaintext.expose_secret().as_bytes(),
        )?;
        Ok(json!({
            "connector": id,
            "url": request.url,
            "state": request.pending.state.expose_secret(),
            "pending": sealed,
        }))
    })
}

/// The pending authorization sealed by `oauthBegin`, opened.
struct Pending {
    authorization: PendingAuthorization,
    client_id: String,
    redirect_uri: String,
}

fn open_pending(sealing: &Sealing, id: &str, sealed: &str) -> Outcome<Pending> {
    let plaintext = sealing
        .vault
        .unseal(&sealing.project, &pending_context(id), sealed)?;
    let saved: Map<String, Value> = serde_json::from_slice(plaintext.expose_secret())
        .map_err(|_| Failure::argument("request.pending is not a pending authorization"))?;
    let text = |key: &str| {
        saved
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Failure::argument(format!("request.pending has no `{key}`")))
    };
    Ok(Pending {
        authorization: PendingAuthorization {
            provider: id.to_string(),
            state: SecretString::new(text("state")?),
            pkce_verifier: saved
                .get("pkceVerifier")
                .and_then(Value::as_str)
                .map(|v| SecretString::new(v.to_string())),
        },
        client_id: text("clientId")?,
        redirect_uri: text("redirectUri")?,
    })
}

/// Finishes an authorization: checks `callbackUrl` (the URL the provider sent the browser back
/// to) against `request.pending` (from `oauthBegin`; its `state` compared in constant time) and
/// exchanges the code for tokens with the client secret (`request.clientSecret`, else
/// `MOBIGEN_<ID>_OAUTH_CLIENT_SECRET`; Stripe: the platform's secret key). Resolves to
/// `{ connector, tokens, tokensConnectorId, tokenType, scope, expiresAt, details }`: `tokens`
/// is SEALED with `request.vault` for (`request.projectId`, `tokensConnectorId`), so the tokens
/// cross into JS only through `vault.decryptSecret(projectId, tokensConnectorId, tokens,
/// purpose)` (a JSON `{ accessToken, refreshToken, expiresAt, tokenType, scope, details }`).
/// Rejects with `STATE_MISMATCH` (keep `pending` for the real callback: a mismatch can be a
/// forged one), `AUTHORIZATION_DENIED` (`error.oauthError`, e.g. `access_denied`),
/// `BAD_CALLBACK`, `INVALID_GRANT`, `SERVICE_ERROR`, `NETWORK_ERROR`, `ENDPOINT_REFUSED`, and
/// `DECRYPTION_FAILED` when `pending` was not sealed for this project and connector.
#[napi(
    js_name = "oauthComplete",
    ts_args_type = "id: OAuthConnectorId, callbackUrl: string, request: OAuthCompleteRequest, options?: NetCallOptions",
    ts_return_type = "Promise<OAuthCompleteResult>"
)]
pub fn oauth_complete<'env>(
    env: &'env Env,
    id: Unknown<'_>,
    callback_url: Unknown<'_>,
    request: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<PromiseRaw<'env, Unknown<'static>>> {
    let (registry, id, callback, pending, secret, sealing, settings) = call(env, || {
        let id = args::string(env, id, "id")?;
        let callback = args::non_empty(env, callback_url, "callbackUrl")?;
        let request = args::members(env, request, "request")?;
        args::known_members(
            &request,
            &["pending", "clientSecret", "vault", "projectId"],
            "request",
        )?;
        let secret = match args::member(&request, "clientSecret", "request")? {
            Some(value) => Some(args::non_empty(env, value, "request.clientSecret")?),
            None => std::env::var(OAuthProvider::client_secret_var(&id))
                .ok()
                .filter(|s| !s.is_empty()),
        }
        .map(SecretString::new)
        .ok_or_else(|| {
            Failure::argument(format!(
                "request.clientSecret is required (or set {}; Stripe: the platform's secret key)",
                OAuthProvider::client_secret_var(&id)
            ))
        })?;
        Ok((
            registry::current()?,
            id,
            callback,
            required(env, &request, "pending")?,
            secret,
            sealing(env, &request)?,
            NetSettings::read(env, options)?,
        ))
    })?;
    // Opened on the JS thread (the vault lives there); a failure rejects the Promise.
    let opened = guarded(|| open_pending(&sealing, &id, &pending));
    let exchange = {
        let id = id.clone();
        async move {
            registry.lookup(&id).map_err(errors::registry)?;
            let pending = opened?;
            let options = settings.options()?;
            let provider = provider(
                &id,
                &pending.client_id,
                &pending.redirect_uri,
                secret,
                &options,
            )?;
            let engine = NetEngine::new(options).map_err(errors::net)?;
            complete_authorization(
                &engine,
                &provider,
                &pending.authorization,
                &callback,
                &SystemClock,
            )
            .await
            .map_err(errors::net)
        }
    };
    promise(env, exchange, move |tokens: TokenSet| {
        let expires_at = tokens.expires_at.map(|t| t.unix_millis());
        let plaintext = SecretString::new(
            json!({
                "accessToken": tokens.access_token.expose_secret(),
                "refreshToken": tokens.refresh_token.as_ref().map(SecretString::expose_secret),
                "expiresAt": expires_at,
                "tokenType": tokens.token_type,
                "scope": tokens.scope,
                "details": tokens.extra,
            })
            .to_string(),
        );
        let connector_id = tokens_context(&id);
        let sealed = sealing.vault.seal(
            &sealing.project,
            &connector_id,
            plaintext.expose_secret().as_bytes(),
        )?;
        Ok(json!({
            "connector": id,
            "tokens": sealed,
            "tokensConnectorId": connector_id,
            "tokenType": tokens.token_type,
            "scope": tokens.scope,
            "expiresAt": expires_at,
            "details": tokens.extra,
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_on_top_of_the_defaults() {
        let settings = NetSettings {
            api_bases: vec![("supabase.oauth".into(), "http://127.0.0.1:9".into())],
            allow_local: vec!["supabase.oauth".into()],
            timeout: Some(Duration::from_millis(1500)),
            connect_timeout: None,
            max_retries: Some(0),
        };
        let options = settings.options().expect("options");
        assert_eq!(
            options.api_base_override("supabase.oauth"),
            Some("http://127.0.0.1:9")
        );
        assert!(options.allows_local_network("supabase.oauth"));
        assert!(!options.allows_local_network("stripe"));
        assert_eq!(options.timeout, Duration::from_millis(1500));
        assert_eq!(
            options.connect_timeout,
            NetOptions::default().connect_timeout
        );
        assert_eq!(options.max_retries, 0);
    }

    #[test]
    fn oauth_seals_are_bound_to_distinct_connector_ids() {
        assert_ne!(pending_context("stripe"), tokens_context("stripe"));
        assert_ne!(
            tokens_context("stripe"),
            "stripe",
            "not the credentials' context"
        );
    }

    #[test]
    fn only_oauth_connectors_have_a_provider() {
        let options = NetOptions::default();
        let failure = provider(
            "onesignal",
            "c",
            "https://a/cb",
            SecretString::default(),
            &options,
        )
        .expect_err("no OAuth");
        assert_eq!(failure.code, Code::OauthUnsupported);
        assert!(
            provider(
                "stripe",
                "c",
                "https://a/cb",
                SecretString::default(),
                &options
            )
            .is_ok()
        );
    }
}
