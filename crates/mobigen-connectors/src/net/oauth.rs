//! OAuth 2.0 authorization code flow with `state` and PKCE (S256), code exchange and refresh
//! before expiry, for the providers of the built-in connectors.
//!
//! Pasted keys stay the default way to connect every service; OAuth is optional and the manual
//! keys always work as a fallback.
//!
//! - **Stripe** ([`OAuthProvider::stripe_connect`]): Connect OAuth. Stripe itself advises against
//!   OAuth for *new* Connect platforms (it recommends Connect Onboarding with Account Links) and
//!   `read_write` OAuth cannot connect Standard accounts owned by another platform; it is kept for
//!   platforms that already use it. Stripe's endpoint takes no PKCE parameters, so none are sent;
//!   `state` is still checked.
//! - **Google for Firebase** ([`OAuthProvider::google_firebase`]): offline access (a refresh
//!   token) with PKCE.
//! - **Supabase Management API** ([`OAuthProvider::supabase_management`]): PKCE, client
//!   credentials as HTTP Basic.
//!
//! The flow: [`begin_authorization`] gives the URL to open and a [`PendingAuthorization`] (the
//! `state` and the PKCE verifier) that the host keeps until the callback; [`complete_authorization`]
//! checks the callback (errors, `state` in constant time) and exchanges the code; an
//! [`OAuthConnection`] then hands out access tokens, refreshing them shortly before they expire,
//! one refresh at a time per connection, and saving every new token set through a [`TokenStore`]
//! (the host's vault).
//!
//! Every endpoint is overridable: [`OAuthProvider::with_overrides`] applies the base URL override
//! of the service key `<provider id>.oauth` (`MOBIGEN_STRIPE_OAUTH_API_BASE`, ...).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::http::{Method, Outgoing, Reply};
use super::mask::Masker;
use super::{NetEngine, NetError, NetOptions};
use crate::clock::{Clock, Timestamp};
use crate::secrets::secret::{SecretString, SecretValue};
use crate::secrets::vault::KeyProvider;
use crate::store::{ActivityEvent, ActivityKind, CredentialService, Store};

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `Authorization: Basic base64(client_id:client_secret)` (Supabase).
    Basic,
    /// `client_id` and `client_secret` in the form body (Google).
    Form,
    /// `Authorization: Bearer <secret>`: the platform's secret key (Stripe).
    BearerSecret,
}

/// An OAuth provider: endpoints and client registration. All fields are public so a host can
/// point them anywhere (a test server, a proxy).
#[derive(Debug, Clone)]
pub struct OAuthProvider {
    /// Provider id, also the connector id (`stripe`, `firebase`, `supabase`); the base URL
    /// override key is `<id>.oauth`.
    pub id: String,
    /// Authorization endpoint.
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// The registered client id.
    pub client_id: String,
    /// The client secret (Stripe: the platform's secret key).
    pub client_secret: Option<SecretString>,
    /// The registered redirect URI.
    pub redirect_uri: String,
    /// Scopes requested (space-separated in the URL).
    pub scopes: Vec<String>,
    /// Further authorization parameters (`access_type=offline`).
    pub extra_params: Vec<(String, String)>,
    /// Client authentication at the token endpoint.
    pub client_auth: ClientAuth,
    /// Whether to use PKCE (S256).
    pub pkce: bool,
}

impl OAuthProvider {
    /// Stripe Connect OAuth (`read_write`); `platform_secret_key` authenticates the token calls.
    /// See the module documentation for Stripe's advice against OAuth for new platforms.
    pub fn stripe_connect(
        client_id: &str,
        platform_secret_key: SecretString,
        redirect_uri: &str,
    ) -> OAuthProvider {
        OAuthProvider {
            id: "stripe".into(),
            authorize_url: "https://connect.stripe.com/oauth/authorize".into(),
            token_url: "https://connect.stripe.com/oauth/token".into(),
            client_id: client_id.into(),
            client_secret: Some(platform_secret_key),
            redirect_uri: redirect_uri.into(),
            scopes: vec!["read_write".into()],
            extra_params: Vec::new(),
            client_auth: ClientAuth::BearerSecret,
            pkce: false,
        }
    }

    /// Google OAuth for the Firebase management APIs, with offline access.
    pub fn google_firebase(
        client_id: &str,
        client_secret: SecretString,
        redirect_uri: &str,
    ) -> OAuthProvider {
        OAuthProvider {
            id: "firebase".into(),
            authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
            client_id: client_id.into(),
            client_secret: Some(client_secret),
            redirect_uri: redirect_uri.into(),
            scopes: vec![
                "https://www.googleapis.com/auth/firebase".into(),
                "https://www.googleapis.com/auth/cloud-platform".into(),
            ],
            extra_params: vec![
                ("access_type".into(), "offline".into()),
                ("prompt".into(), "consent".into()),
            ],
            client_auth: ClientAuth::Form,
            pkce: true,
        }
    }

    /// Supabase Management API OAuth for third-party apps (`scope` is deprecated there).
    pub fn supabase_management(
        client_id: &str,
        client_secret: SecretString,
        redirect_uri: &str,
    ) -> OAuthProvider {
        OAuthProvider {
            id: "supabase".into(),
            authorize_url: "https://api.supabase.com/v1/oauth/authorize".into(),
            token_url: "https://api.supabase.com/v1/oauth/token".into(),
            client_id: client_id.into(),
            client_secret: Some(client_secret),
            redirect_uri: redirect_uri.into(),
            scopes: Vec::new(),
            extra_params: Vec::new(),
            client_auth: ClientAuth::Basic,
            pkce: true,
        }
    }

    /// The provider of a built-in connector with an OAuth flow: `stripe` (Connect), `firebase`
    /// (Google) or `supabase` (Management API); `None` for any other id.
    pub fn for_connector(
        connector_id: &str,
        client_id: &str,
        client_secret: SecretString,
        redirect_uri: &str,
    ) -> Option<OAuthProvider> {
        Some(match connector_id {
            "stripe" => OAuthProvider::stripe_connect(client_id, client_secret, redirect_uri),
            "firebase" => OAuthProvider::google_firebase(client_id, client_secret, redirect_uri),
            "supabase" => {
                OAuthProvider::supabase_management(client_id, client_secret, redirect_uri)
            }
            _ => return None,
        })
    }

    /// The environment variable hosts read a connector's OAuth client secret from:
    /// `MOBIGEN_<ID>_OAUTH_CLIENT_SECRET` (Stripe: the platform's secret key).
    pub fn client_secret_var(connector_id: &str) -> String {
        format!(
            "MOBIGEN_{}_OAUTH_CLIENT_SECRET",
            connector_id.to_ascii_uppercase()
        )
    }

    /// The service key of this provider's endpoints (`stripe.oauth`).
    pub fn service_key(&self) -> String {
        format!("{}.oauth", self.id)
    }

    /// Replaces the scheme, host and port of both endpoints with the override of
    /// [`Self::service_key`] in `options`, keeping their paths.
    pub fn with_overrides(mut self, options: &NetOptions) -> OAuthProvider {
        if let Some(base) = options.api_base_override(&self.service_key()) {
            self.authorize_url = rebase(&self.authorize_url, base);
            self.token_url = rebase(&self.token_url, base);
        }
        self
    }
}

fn rebase(endpoint: &str, base: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(url) => format!("{}{}", base.trim_end_matches('/'), url.path()),
        Err(_) => endpoint.to_string(),
    }
}

/// What the host keeps between [`begin_authorization`] and [`complete_authorization`].
#[derive(Debug, Clone)]
pub struct PendingAuthorization {
    /// The provider id.
    pub provider: String,
    /// The `state` sent; the callback must carry the same.
    pub state: SecretString,
    /// The PKCE verifier, when the provider uses PKCE.
    pub pkce_verifier: Option<SecretString>,
}

/// An authorization to start: the URL to open and what to keep.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    /// The URL to open in the user's browser.
    pub url: String,
    /// What to keep until the callback (never put it in a URL or a log).
    pub pending: PendingAuthorization,
}

/// Tokens from a token endpoint. `Debug` redacts the tokens.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, if the provider sent one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<Timestamp>,
    /// Token type (`bearer`).
    pub token_type: Option<String>,
    /// Granted scope.
    pub scope: Option<String>,
    /// Other, non-secret fields of the answer (Stripe: `stripe_user_id`,
    /// `stripe_publishable_key`, `livemode`).
    pub extra: Map<String, Value>,
}

impl TokenSet {
    /// The token set as one secret JSON value, what a token store encrypts:
    /// `{accessToken, refreshToken, expiresAt (Unix ms), tokenType, scope, details}`.
    pub fn to_secret_value(&self) -> SecretValue {
        SecretValue::from_json(serde_json::json!({
            "accessToken": self.access_token.expose_secret(),
            "refreshToken": self.refresh_token.as_ref().map(SecretString::expose_secret),
            "expiresAt": self.expires_at.map(Timestamp::unix_millis),
            "tokenType": self.token_type,
            "scope": self.scope,
            "details": self.extra,
        }))
    }

    /// Reads what [`Self::to_secret_value`] wrote.
    ///
    /// # Errors
    /// [`NetError::InvalidResponse`] when the value has no `accessToken` string.
    pub fn from_secret_value(value: &SecretValue) -> Result<TokenSet, NetError> {
        let json = value.expose_json();
        let text = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_string);
        Ok(TokenSet {
            access_token: SecretString::new(text("accessToken").ok_or_else(|| {
                NetError::InvalidResponse("the stored token set has no access token".into())
            })?),
            refresh_token: text("refreshToken").map(SecretString::new),
            expires_at: json
                .get("expiresAt")
                .and_then(Value::as_i64)
                .map(Timestamp::from_unix_millis),
            token_type: text("tokenType"),
            scope: text("scope"),
            extra: json
                .get("details")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

fn random_token(bytes: usize) -> Result<String, NetError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| NetError::Setup(format!("no randomness: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
}

/// The S256 PKCE challenge of `verifier`.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Starts an authorization: a fresh random `state` (256 bits), a PKCE verifier (when the provider
/// uses PKCE) and the URL to open.
///
/// # Errors
/// [`NetError::Setup`] when the system has no randomness; [`NetError::Config`] when the
/// authorization URL does not parse.
pub fn begin_authorization(provider: &OAuthProvider) -> Result<AuthorizationRequest, NetError> {
    let state = random_token(32)?;
    let verifier = if provider.pkce {
        Some(random_token(32)?)
    } else {
        None
    };
    let mut url = url::Url::parse(&provider.authorize_url).map_err(|e| NetError::Config {
        field: "authorize_url".into(),
        reason: e.to_string(),
    })?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.client_id)
            .append_pair("redirect_uri", &provider.redirect_uri)
            .append_pair("state", &state);
        if !provider.scopes.is_empty() {
            query.append_pair("scope", &provider.scopes.join(" "));
        }
        if let Some(verifier) = &verifier {
            query
                .append_pair("code_challenge", &pkce_challenge(verifier))
                .append_pair("code_challenge_method", "S256");
        }
        for (name, value) in &provider.extra_params {
            query.append_pair(name, value);
        }
    }
    Ok(AuthorizationRequest {
        url: url.to_string(),
        pending: PendingAuthorization {
            provider: provider.id.clone(),
            state: SecretString::new(state),
            pkce_verifier: verifier.map(SecretString::new),
        },
    })
}

fn callback_error(code: &str) -> String {
    match code {
        "access_denied" => "the user declined the access request".into(),
        "invalid_scope" => "the requested scope is not allowed for this app".into(),
        "unauthorized_client" => "this client may not use the authorization code flow".into(),
        "invalid_request" => {
            "the authorization request was malformed (check the redirect URI and client id)".into()
        }
        "unsupported_response_type" => "the provider does not support this flow".into(),
        "server_error" | "temporarily_unavailable" => {
            "the provider had a problem; try again later".into()
        }
        other => format!("the provider returned the error `{other}`"),
    }
}

/// Checks a callback URL against `pending` and returns the authorization code.
///
/// # Errors
/// [`NetError::BadCallback`] for an unparsable URL or a missing parameter,
/// [`NetError::AuthorizationDenied`] for an error callback (`access_denied`, ...), and
/// [`NetError::StateMismatch`] when the `state` differs (compared in constant time).
pub fn check_callback(
    pending: &PendingAuthorization,
    callback_url: &str,
) -> Result<String, NetError> {
    let url = url::Url::parse(callback_url)
        .map_err(|e| NetError::BadCallback(format!("not a URL ({e})")))?;
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state_ok = param("state").is_some_and(|state| {
        bool::from(
            state
                .as_bytes()
                .ct_eq(pending.state.expose_secret().as_bytes()),
        )
    });
    if let Some(code) = param("error") {
        // An error callback is reported even without a valid state, but a forged one cannot
        // do more than show a message.
        return Err(NetError::AuthorizationDenied {
            message: callback_error(&code),
            code,
        });
    }
    if !state_ok {
        return Err(NetError::StateMismatch);
    }
    param("code").ok_or_else(|| NetError::BadCallback("it has no `code` parameter".into()))
}

/// The grant sent to the token endpoint.
enum Grant<'a> {
    Code {
        code: &'a str,
        verifier: Option<&'a SecretString>,
    },
    Refresh(&'a SecretString),
}

async fn token_request(
    engine: &NetEngine,
    provider: &OAuthProvider,
    grant: Grant<'_>,
    now: Timestamp,
) -> Result<TokenSet, NetError> {
    let refreshing = matches!(grant, Grant::Refresh(_));
    let mut masker = Masker::default();
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    // The form serializer is not `Send`: build the body before any await.
    let body = {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        match &grant {
            Grant::Code { code, verifier } => {
                form.append_pair("grant_type", "authorization_code")
                    .append_pair("code", code);
                if provider.id != "stripe" {
                    form.append_pair("redirect_uri", &provider.redirect_uri);
                }
                if let Some(verifier) = verifier {
                    form.append_pair("code_verifier", verifier.expose_secret());
                }
            }
            Grant::Refresh(token) => {
                masker.add(token.expose_secret());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", token.expose_secret());
            }
        }
        let secret = provider
            .client_secret
            .as_ref()
            .map(SecretString::expose_secret);
        if let Some(secret) = secret {
            masker.add(secret);
        }
        match (provider.client_auth, secret) {
            (ClientAuth::Basic, Some(secret)) => {
                let pair = format!("{}:{secret}", provider.client_id);
                headers.push((
                    "Authorization".into(),
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    ),
                ));
            }
            (ClientAuth::BearerSecret, Some(secret)) => {
                headers.push(("Authorization".into(), format!("Bearer {secret}")));
            }
            (ClientAuth::Form, Some(secret)) => {
                form.append_pair("client_id", &provider.client_id)
                    .append_pair("client_secret", secret);
            }
            (_, None) => {
                form.append_pair("client_id", &provider.client_id);
            }
        }
        form.finish()
    };
    let url = url::Url::parse(&provider.token_url).map_err(|e| NetError::Config {
        field: "token_url".into(),
        reason: e.to_string(),
    })?;
    let outgoing = Outgoing {
        method: Method::Post,
        url,
        headers,
        body: Some(("application/x-www-form-urlencoded", body.into_bytes())),
        allow_local: engine
            .options()
            .allows_local_network(&provider.service_key()),
        // A code can be exchanged once: never resend after a server error.
        idempotent: false,
    };
    let reply = engine.send(&outgoing).await?;
    parse_token_reply(&reply, refreshing, now, &masker)
}

fn parse_token_reply(
    reply: &Reply,
    refreshing: bool,
    now: Timestamp,
    masker: &Masker,
) -> Result<TokenSet, NetError> {
    let json: Option<Value> = serde_json::from_str(&reply.body).ok();
    if reply.status != 200 {
        let code = json
            .as_ref()
            .and_then(|j| j.get("error"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if code == "invalid_grant" {
            return Err(if refreshing {
                NetError::RefreshRejected("invalid_grant".into())
            } else {
                NetError::InvalidGrant
            });
        }
        let description = json
            .as_ref()
            .and_then(|j| j.get("error_description").or_else(|| j.get("message")))
            .and_then(Value::as_str)
            .unwrap_or(code);
        return Err(NetError::Status {
            status: reply.status,
            message: masker.mask(description),
        });
    }
    let Some(Value::Object(mut fields)) = json else {
        return Err(NetError::InvalidResponse(
            "the token endpoint did not answer with a JSON object".into(),
        ));
    };
    let mut take_string = |name: &str| match fields.remove(name) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let access_token = take_string("access_token")
        .ok_or_else(|| NetError::InvalidResponse("the answer has no access_token".into()))?;
    let refresh_token = take_string("refresh_token").map(SecretString::new);
    let token_type = take_string("token_type");
    let scope = take_string("scope");
    // Google also returns an `id_token`; no secret stays in `extra`.
    fields.remove("id_token");
    let expires_at = fields
        .remove("expires_in")
        .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
        .map(|secs| now.plus(Duration::from_secs(secs)));
    Ok(TokenSet {
        access_token: SecretString::new(access_token),
        refresh_token,
        expires_at,
        token_type,
        scope,
        extra: fields,
    })
}

/// Checks the callback and exchanges its code for tokens.
///
/// # Errors
/// As [`check_callback`]; then [`NetError::InvalidGrant`] for an expired or used code,
/// [`NetError::Status`] for another refusal, [`NetError::EndpointRefused`] /
/// [`NetError::Transport`] when the token endpoint cannot be reached, and
/// [`NetError::InvalidResponse`] for an answer without an access token.
pub async fn complete_authorization(
    engine: &NetEngine,
    provider: &OAuthProvider,
    pending: &PendingAuthorization,
    callback_url: &str,
    clock: &dyn Clock,
) -> Result<TokenSet, NetError> {
    let code = check_callback(pending, callback_url)?;
    let grant = Grant::Code {
        code: &code,
        verifier: pending.pkce_verifier.as_ref(),
    };
    token_request(engine, provider, grant, clock.now()).await
}

/// Exchanges a refresh token for new tokens. A set without a new refresh token keeps the old one.
///
/// # Errors
/// [`NetError::RefreshRejected`] when the provider refuses the refresh token; otherwise as
/// [`complete_authorization`].
pub async fn refresh_tokens(
    engine: &NetEngine,
    provider: &OAuthProvider,
    refresh_token: &SecretString,
    clock: &dyn Clock,
) -> Result<TokenSet, NetError> {
    let mut tokens =
        token_request(engine, provider, Grant::Refresh(refresh_token), clock.now()).await?;
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = Some(refresh_token.clone());
    }
    Ok(tokens)
}

/// Where new token sets go (the host's vault). Called after every refresh, before the new
/// access token is handed out.
pub trait TokenStore: Send + Sync {
    /// Saves `tokens` for `connection_id`.
    ///
    /// # Errors
    /// A message saying why the tokens could not be saved (never containing them).
    fn save(&self, connection_id: &str, tokens: &TokenSet) -> Result<(), String>;

    /// Notes that a refresh for `connection_id` was attempted (one request to the provider),
    /// with `error` when it failed. The default does nothing; the credential store counts it in
    /// the instance's activity. Best effort: a failure to note it is not reported.
    fn refreshed(&self, connection_id: &str, error: Option<&str>) {
        let _ = (connection_id, error);
    }
}

/// A [`TokenStore`] over the credential store: the connection id is the connector instance's
/// id, and every new token set is stored encrypted with the instance's credentials
/// ([`CredentialService::save_oauth_tokens`]: re-wrapped with them on key rotation, deleted with
/// the instance, each save audited).
pub struct CredentialTokenStore<S, P, C> {
    service: Arc<std::sync::Mutex<CredentialService<S, P, C>>>,
    actor: String,
}

impl<S, P, C> std::fmt::Debug for CredentialTokenStore<S, P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialTokenStore")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl<S: Store, P: KeyProvider, C: Clock> CredentialTokenStore<S, P, C> {
    /// Saves through `service`, naming `actor` in the audit log.
    pub fn new(
        service: Arc<std::sync::Mutex<CredentialService<S, P, C>>>,
        actor: &str,
    ) -> CredentialTokenStore<S, P, C> {
        CredentialTokenStore {
            service,
            actor: actor.to_string(),
        }
    }

    /// The token set stored for instance `id`, if any (the decryption is audited).
    ///
    /// # Errors
    /// [`NetError::TokenStore`] when the store cannot be read or decrypted, and
    /// [`NetError::InvalidResponse`] when the stored value is not a token set.
    pub fn load(&self, id: &str) -> Result<Option<TokenSet>, NetError> {
        let mut service = self
            .service
            .lock()
            .map_err(|_| NetError::TokenStore("the credential store lock is poisoned".into()))?;
        let stored = service
            .oauth_tokens(id, "use OAuth tokens", &self.actor)
            .map_err(|e| NetError::TokenStore(e.to_string()))?;
        stored.as_ref().map(TokenSet::from_secret_value).transpose()
    }
}

impl<S, P, C> TokenStore for CredentialTokenStore<S, P, C>
where
    S: Store + Send,
    P: KeyProvider + Send,
    C: Clock + Send,
{
    fn save(&self, connection_id: &str, tokens: &TokenSet) -> Result<(), String> {
        let mut service = self
            .service
            .lock()
            .map_err(|_| "the credential store lock is poisoned".to_string())?;
        service
            .save_oauth_tokens(connection_id, tokens.to_secret_value(), &self.actor)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn refreshed(&self, connection_id: &str, error: Option<&str>) {
        if let Ok(mut service) = self.service.lock() {
            let event = ActivityEvent {
                at: service.now(),
                kind: ActivityKind::OAuthRefresh,
                api_calls: 1,
                error: error.map(str::to_string),
            };
            let _ = service.record_activity(connection_id, &event);
        }
    }
}

/// An authorized connection: hands out access tokens, refreshing them before they expire.
///
/// Concurrent callers share one refresh: the token set sits behind an async mutex, so while one
/// caller refreshes the others wait and then get the new token.
pub struct OAuthConnection {
    id: String,
    provider: OAuthProvider,
    engine: Arc<NetEngine>,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    tokens: tokio::sync::Mutex<TokenSet>,
    /// Refresh when the token expires within this margin (default 60 s).
    margin: Duration,
}

impl std::fmt::Debug for OAuthConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConnection")
            .field("id", &self.id)
            .field("provider", &self.provider.id)
            .finish_non_exhaustive()
    }
}

impl OAuthConnection {
    /// A connection `id` (the store's record id) holding `tokens`.
    pub fn new(
        id: &str,
        provider: OAuthProvider,
        tokens: TokenSet,
        engine: Arc<NetEngine>,
        store: Arc<dyn TokenStore>,
        clock: Arc<dyn Clock>,
    ) -> OAuthConnection {
        OAuthConnection {
            id: id.into(),
            provider,
            engine,
            store,
            clock,
            tokens: tokio::sync::Mutex::new(tokens),
            margin: Duration::from_secs(60),
        }
    }

    /// Refresh this long before expiry instead of 60 s.
    pub fn with_refresh_margin(mut self, margin: Duration) -> OAuthConnection {
        self.margin = margin;
        self
    }

    /// A valid access token, refreshed first when it expires within the margin.
    ///
    /// # Errors
    /// [`NetError::RefreshRejected`] when it must be refreshed and cannot be (no refresh token,
    /// or the provider refuses it), [`NetError::TokenStore`] when the new tokens cannot be saved,
    /// and the transport errors of [`refresh_tokens`].
    pub async fn access_token(&self) -> Result<SecretString, NetError> {
        let mut tokens = self.tokens.lock().await;
        let due = tokens
            .expires_at
            .is_some_and(|at| self.clock.now().plus(self.margin) >= at);
        if due {
            let refresh = tokens.refresh_token.clone().ok_or_else(|| {
                NetError::RefreshRejected("the provider gave no refresh token".into())
            })?;
            let fresh =
                match refresh_tokens(&self.engine, &self.provider, &refresh, self.clock.as_ref())
                    .await
                {
                    Ok(fresh) => fresh,
                    Err(e) => {
                        self.store.refreshed(&self.id, Some(&e.to_string()));
                        return Err(e);
                    }
                };
            self.store.refreshed(&self.id, None);
            self.store
                .save(&self.id, &fresh)
                .map_err(NetError::TokenStore)?;
            *tokens = fresh;
        }
        Ok(tokens.access_token.clone())
    }
}
