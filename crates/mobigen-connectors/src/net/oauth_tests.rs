//! OAuth and Supabase type generation against mock servers on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::mock::{MockResponse, MockServer};
use super::oauth::*;
use super::supabase_types::{
    TypesSource, generate_types, generate_types_from, typescript_from_openapi,
};
use super::*;
use crate::Registry;
use crate::clock::{Clock as _, ManualClock, SystemClock, Timestamp};
use crate::secrets::secret::SecretString;

fn engine_for(server: &MockServer, service: &str) -> NetEngine {
    let mut options = NetOptions::default()
        .with_api_base(service, &server.url())
        .expect("override")
        .allow_local_network(service);
    options.timeout = Duration::from_secs(2);
    NetEngine::new(options).expect("engine")
}

fn query(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn form(body: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

const REDIRECT: &str = "https://app.example/oauth/callback";

fn supabase_provider(engine: &NetEngine) -> OAuthProvider {
    OAuthProvider::supabase_management(
        "client-123",
        SecretString::new("client-secret-xyz".into()),
        REDIRECT,
    )
    .with_overrides(engine.options())
}

fn token_ok() -> MockResponse {
    MockResponse::json(
        200,
        json!({"access_token": "sbp_oauth_access_1", "refresh_token": "refresh-1-abcdef", "expires_in": 3600, "token_type": "Bearer"}),
    )
}

#[tokio::test]
async fn supabase_round_trip_with_pkce() {
    let server = MockServer::start();
    server.on("POST", "/v1/oauth/token", token_ok());
    let engine = engine_for(&server, "supabase.oauth");
    let provider = supabase_provider(&engine);
    let start = begin_authorization(&provider).expect("begin");
    assert!(
        start
            .url
            .starts_with(&format!("{}/v1/oauth/authorize?", server.url()))
    );
    let params = query(&start.url);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], "client-123");
    assert_eq!(params["redirect_uri"], REDIRECT);
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["state"], start.pending.state.expose_secret());
    assert!(
        !start.url.contains(
            start
                .pending
                .pkce_verifier
                .as_ref()
                .expect("pkce")
                .expose_secret()
        )
    );

    let callback = format!("{REDIRECT}?code=auth-code-1&state={}", params["state"]);
    let tokens =
        complete_authorization(&engine, &provider, &start.pending, &callback, &SystemClock)
            .await
            .expect("tokens");
    assert_eq!(tokens.access_token.expose_secret(), "sbp_oauth_access_1");
    assert!(tokens.expires_at.is_some());

    let request = &server.requests()[0];
    let sent = form(&request.body);
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["code"], "auth-code-1");
    assert_eq!(sent["redirect_uri"], REDIRECT);
    assert_eq!(
        pkce_challenge(&sent["code_verifier"]),
        params["code_challenge"]
    );
    let basic = base64::engine::general_purpose::STANDARD.encode("client-123:client-secret-xyz");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert!(!format!("{tokens:?}").contains("sbp_oauth_access_1"));
}

#[tokio::test]
async fn a_bad_state_is_refused_before_any_exchange() {
    let server = MockServer::start();
    server.on("POST", "/v1/oauth/token", token_ok());
    let engine = engine_for(&server, "supabase.oauth");
    let provider = supabase_provider(&engine);
    let start = begin_authorization(&provider).expect("begin");
    let forged = format!("{REDIRECT}?code=auth-code-1&state=forged-state");
    let result =
        complete_authorization(&engine, &provider, &start.pending, &forged, &SystemClock).await;
    assert!(matches!(result, Err(NetError::StateMismatch)));
    let missing = format!("{REDIRECT}?code=auth-code-1");
    let result =
        complete_authorization(&engine, &provider, &start.pending, &missing, &SystemClock).await;
    assert!(matches!(result, Err(NetError::StateMismatch)));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn error_callbacks_are_mapped() {
    let server = MockServer::start();
    let engine = engine_for(&server, "supabase.oauth");
    let provider = supabase_provider(&engine);
    let start = begin_authorization(&provider).expect("begin");
    let state = start.pending.state.expose_secret().to_string();
    let callback =
        format!("{REDIRECT}?error=access_denied&error_description=The+user+denied&state={state}");
    match complete_authorization(&engine, &provider, &start.pending, &callback, &SystemClock).await
    {
        Err(NetError::AuthorizationDenied { code, message }) => {
            assert_eq!(code, "access_denied");
            assert!(message.contains("declined"));
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    let result = complete_authorization(
        &engine,
        &provider,
        &start.pending,
        "not a url",
        &SystemClock,
    )
    .await;
    assert!(matches!(result, Err(NetError::BadCallback(_))));
}

#[tokio::test]
async fn an_expired_code_is_invalid_grant() {
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/oauth/token",
        MockResponse::json(
            400,
            json!({"error": "invalid_grant", "error_description": "authorization code expired"}),
        ),
    );
    let engine = engine_for(&server, "supabase.oauth");
    let provider = supabase_provider(&engine);
    let start = begin_authorization(&provider).expect("begin");
    let callback = format!(
        "{REDIRECT}?code=old&state={}",
        start.pending.state.expose_secret()
    );
    let result =
        complete_authorization(&engine, &provider, &start.pending, &callback, &SystemClock).await;
    assert!(matches!(result, Err(NetError::InvalidGrant)), "{result:?}");
    assert_eq!(
        server.hits("POST", "/v1/oauth/token"),
        1,
        "a code exchange is never retried"
    );
}

#[tokio::test]
async fn stripe_connect_uses_the_platform_key_and_keeps_the_account_id() {
    let server = MockServer::start();
    server.on("POST", "/oauth/token", MockResponse::json(200, json!({"access_token": "sk_test_connectedAccess123", "refresh_token": "rt_connected_456", "token_type": "bearer", "stripe_publishable_key": "pk_test_connected", "stripe_user_id": "acct_connected", "scope": "read_write", "livemode": false})));
    let engine = engine_for(&server, "stripe.oauth");
    let provider = OAuthProvider::stripe_connect(
        "ca_123",
        SecretString::new("sk_test_platform999".into()),
        REDIRECT,
    )
    .with_overrides(engine.options());
    let start = begin_authorization(&provider).expect("begin");
    let params = query(&start.url);
    assert_eq!(params["scope"], "read_write");
    assert!(!params.contains_key("code_challenge"));
    let callback = format!(
        "{REDIRECT}?code=ac_1&scope=read_write&state={}",
        params["state"]
    );
    let tokens =
        complete_authorization(&engine, &provider, &start.pending, &callback, &SystemClock)
            .await
            .expect("tokens");
    assert_eq!(tokens.extra["stripe_user_id"], "acct_connected");
    let request = &server.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk_test_platform999")
    );
    assert!(!form(&request.body).contains_key("code_verifier"));
}

#[tokio::test]
async fn google_sends_client_credentials_in_the_form_and_asks_for_offline_access() {
    let server = MockServer::start();
    server.on("POST", "/token", MockResponse::json(200, json!({"access_token": "ya29.access", "expires_in": 3599, "refresh_token": "1//refresh", "scope": "https://www.googleapis.com/auth/firebase", "token_type": "Bearer", "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.sig"})));
    let engine = engine_for(&server, "firebase.oauth");
    let provider = OAuthProvider::google_firebase(
        "id.apps.googleusercontent.com",
        SecretString::new("GOCSPX-secret".into()),
        REDIRECT,
    )
    .with_overrides(engine.options());
    let start = begin_authorization(&provider).expect("begin");
    let params = query(&start.url);
    assert_eq!(params["access_type"], "offline");
    assert!(
        start
            .url
            .starts_with(&format!("{}/o/oauth2/v2/auth?", server.url()))
    );
    let callback = format!("{REDIRECT}?code=4/0code&state={}", params["state"]);
    let tokens =
        complete_authorization(&engine, &provider, &start.pending, &callback, &SystemClock)
            .await
            .expect("tokens");
    assert!(!tokens.extra.contains_key("id_token"));
    let sent = form(&server.requests()[0].body);
    assert_eq!(sent["client_secret"], "GOCSPX-secret");
    assert!(sent.contains_key("code_verifier"));
}

#[derive(Default)]
struct MemoryStore(Mutex<Vec<String>>);

impl TokenStore for MemoryStore {
    fn save(&self, connection_id: &str, tokens: &TokenSet) -> Result<(), String> {
        let refresh = tokens
            .refresh_token
            .as_ref()
            .map(|t| t.expose_secret().to_string())
            .unwrap_or_default();
        self.0
            .lock()
            .map_err(|_| "poisoned".to_string())?
            .push(format!("{connection_id}:{refresh}"));
        Ok(())
    }
}

fn expiring_tokens(clock: &ManualClock, in_secs: u64) -> TokenSet {
    TokenSet {
        access_token: SecretString::new("old-access".into()),
        refresh_token: Some(SecretString::new("refresh-0-abcdef".into())),
        expires_at: Some(clock.now().plus(Duration::from_secs(in_secs))),
        token_type: Some("Bearer".into()),
        scope: None,
        extra: serde_json::Map::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_happens_once_for_concurrent_callers_and_is_persisted() {
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/oauth/token",
        MockResponse::json(200, json!({"access_token": "new-access", "refresh_token": "refresh-1-rotated", "expires_in": 3600})).delay(Duration::from_millis(150)),
    );
    let engine = Arc::new(engine_for(&server, "supabase.oauth"));
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_millis(
        1_700_000_000_000,
    )));
    let store = Arc::new(MemoryStore::default());
    let connection = Arc::new(OAuthConnection::new(
        "conn-1",
        supabase_provider(&engine),
        expiring_tokens(&clock, 30),
        Arc::clone(&engine),
        store.clone(),
        clock.clone(),
    ));
    let mut handles = Vec::new();
    for _ in 0..5 {
        let connection = Arc::clone(&connection);
        handles.push(tokio::spawn(async move { connection.access_token().await }));
    }
    for handle in handles {
        let token = handle.await.expect("join").expect("token");
        assert_eq!(token.expose_secret(), "new-access");
    }
    assert_eq!(
        server.hits("POST", "/v1/oauth/token"),
        1,
        "a single refresh in flight"
    );
    assert_eq!(*store.0.lock().expect("lock"), ["conn-1:refresh-1-rotated"]);
    let sent = form(&server.requests()[0].body);
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], "refresh-0-abcdef");

    // A fresh token is handed out without a request.
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        connection
            .access_token()
            .await
            .expect("token")
            .expose_secret(),
        "new-access"
    );
    assert_eq!(server.hits("POST", "/v1/oauth/token"), 1);
    let _ = clock.now();
}

#[tokio::test]
async fn a_revoked_refresh_token_asks_for_a_new_authorization() {
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/oauth/token",
        MockResponse::json(400, json!({"error": "invalid_grant"})),
    );
    let engine = Arc::new(engine_for(&server, "supabase.oauth"));
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_millis(
        1_700_000_000_000,
    )));
    let connection = OAuthConnection::new(
        "conn-2",
        supabase_provider(&engine),
        expiring_tokens(&clock, 0),
        Arc::clone(&engine),
        Arc::new(MemoryStore::default()),
        clock,
    );
    let result = connection.access_token().await;
    assert!(
        matches!(result, Err(NetError::RefreshRejected(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn token_endpoints_follow_the_endpoint_rules() {
    let server = MockServer::start();
    let options = NetOptions::default()
        .with_api_base("supabase.oauth", &server.url())
        .expect("override");
    let engine = NetEngine::new(options).expect("engine");
    let provider = supabase_provider(&engine);
    let start = begin_authorization(&provider).expect("begin");
    let callback = format!(
        "{REDIRECT}?code=c&state={}",
        start.pending.state.expose_secret()
    );
    let result =
        complete_authorization(&engine, &provider, &start.pending, &callback, &SystemClock).await;
    assert!(
        matches!(result, Err(NetError::EndpointRefused(_))),
        "{result:?}"
    );
    assert!(server.requests().is_empty());
}

// ---------------------------------------------------------------- Supabase types

fn swagger() -> serde_json::Value {
    json!({
        "swagger": "2.0",
        "definitions": {
            "profiles": {
                "required": ["id", "username"],
                "properties": {
                    "id": {"format": "uuid", "type": "string", "description": "Note:\nThis is a Primary Key.<pk/>"},
                    "username": {"format": "text", "type": "string"},
                    "age": {"format": "integer", "type": "integer"},
                    "settings": {"format": "jsonb"},
                    "tags": {"format": "text[]", "type": "array", "items": {"type": "string"}},
                    "org_id": {"format": "bigint", "type": "integer", "description": "Note:\nThis is a Foreign Key to `orgs.id`.<fk table='orgs' column='id'/>"},
                    "status": {"format": "public.status", "type": "string", "enum": ["active", "banned"]}
                },
                "type": "object"
            },
            "orgs": {
                "required": ["name"],
                "properties": {
                    "id": {"format": "bigint", "type": "integer", "description": "<pk/>"},
                    "name": {"format": "character varying", "type": "string"},
                    "created_at": {"format": "timestamp with time zone", "type": "string"}
                },
                "type": "object"
            }
        }
    })
}

#[test]
fn openapi_documents_become_database_types() {
    let ts = typescript_from_openapi(&swagger()).expect("types");
    for line in [
        "export type Database = {",
        "      orgs: {",
        "          id: number\n",
        "          created_at: string | null\n",
        "          id?: number\n",
        "      profiles: {",
        "          username: string\n",
        "          age: number | null\n",
        "          age?: number | null\n",
        "          settings: Json | null\n",
        "          tags: string[] | null\n",
        "          status: \"active\" | \"banned\" | null\n",
        "            referencedRelation: \"orgs\"\n",
        "            columns: [\"org_id\"]\n",
        "    Views: {\n      [_ in never]: never\n    }\n",
    ] {
        assert!(ts.contains(line), "missing {line:?} in\n{ts}");
    }
    assert!(
        ts.find("orgs: {") < ts.find("profiles: {"),
        "tables are sorted"
    );
    assert!(typescript_from_openapi(&json!({"swagger": "2.0"})).is_err());
}

fn supabase_config(extra: serde_json::Value) -> crate::catalog::config::ValidConfig {
    let registry = Registry::builtin().expect("registry");
    let mut values = json!({"projectUrl": "https://abcdefghijklmnopqrst.supabase.co", "anonKey": "sb_publishable_abc123"});
    if let (Some(target), Some(more)) = (values.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    registry
        .lookup("supabase")
        .expect("supabase")
        .validate_config(&values)
        .expect("valid")
}

#[tokio::test]
async fn types_come_from_the_management_api_with_a_token() {
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/projects/abcdefghijklmnopqrst/types/typescript",
        MockResponse::json(
            200,
            json!({"types": "export type Database = { public: {} }\n"}),
        ),
    );
    let engine = engine_for(&server, "supabase.management");
    let config = supabase_config(json!({"managementToken": "sbp_0123456789abcdef"}));
    let ts = generate_types(&engine, &config).await.expect("types");
    assert_eq!(ts, "export type Database = { public: {} }\n");
    let request = &server.requests()[0];
    assert_eq!(
        request.target,
        "/v1/projects/abcdefghijklmnopqrst/types/typescript?included_schemas=public"
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sbp_0123456789abcdef")
    );
}

#[tokio::test]
async fn types_come_from_the_openapi_document_with_the_secret_key() {
    let server = MockServer::start();
    server.on("GET", "/rest/v1/", MockResponse::json(200, swagger()));
    let engine = engine_for(&server, "supabase");
    let config = supabase_config(json!({"serviceRoleKey": "sb_secret_abcdef123456"}));
    let ts = generate_types(&engine, &config).await.expect("types");
    assert!(ts.contains("profiles: {"));
    assert_eq!(
        server.requests()[0].header("apikey"),
        Some("sb_secret_abcdef123456")
    );

    let refused = MockServer::start();
    refused.on("GET", "/rest/v1/", MockResponse::json(401, json!({"message": "Invalid API key sb_secret_abcdef123456", "hint": "Only the `service_role` API key can be used for this endpoint."})));
    let result = generate_types_from(
        &engine_for(&refused, "supabase"),
        &config,
        TypesSource::OpenApi,
    )
    .await;
    let text = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        text.contains("HTTP 401") && text.contains("/serviceRoleKey"),
        "{text}"
    );
    assert!(!text.contains("sb_secret_abcdef123456"), "{text}");

    let none = supabase_config(json!({}));
    assert!(matches!(
        generate_types(&engine, &none).await,
        Err(NetError::Config { .. })
    ));
}

#[tokio::test]
async fn supplied_files_are_fetched_by_the_fetcher_the_manifest_names() {
    let server = MockServer::start();
    server.on("GET", "/rest/v1/", MockResponse::json(200, swagger()));
    let engine = engine_for(&server, "supabase");
    let registry = Registry::builtin().expect("registry");
    let supabase = registry.lookup("supabase").expect("supabase");
    let config = supabase_config(json!({"serviceRoleKey": "sb_secret_abcdef123456"}));
    let ts = fetch_supplied(&engine, supabase, "databaseTypes", &config)
        .await
        .expect("types");
    assert!(ts.contains("profiles: {"), "{ts}");
    // What the converter writes is a module the injector accepts.
    crate::edit::code::check_syntax("src/types/supabase-database.ts", &ts).expect("parses");

    let err = fetch_supplied(&engine, supabase, "schema", &config).await;
    assert!(
        matches!(&err, Err(NetError::UnknownSupplied { known, .. }) if known == "databaseTypes"),
        "{err:?}"
    );
    let stripe = registry.lookup("stripe").expect("stripe");
    assert!(matches!(
        fetch_supplied(&engine, stripe, "databaseTypes", &config).await,
        Err(NetError::UnknownSupplied { .. })
    ));
}

#[tokio::test]
async fn refreshed_tokens_are_kept_encrypted_in_the_credential_store() {
    use crate::secrets::vault::{LocalKeyring, Vault};
    use crate::store::{CredentialService, OAUTH_TOKENS, SqliteStore};

    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/oauth/token",
        MockResponse::json(200, json!({"access_token": "sbp_oauth_new_access", "refresh_token": "refresh-1-rotated", "expires_in": 3600})),
    );
    // A second refresh is refused (the refresh token was revoked).
    server.on(
        "POST",
        "/v1/oauth/token",
        MockResponse::json(400, json!({"error": "invalid_grant"})),
    );
    let engine = Arc::new(engine_for(&server, "supabase.oauth"));
    let start = Timestamp::from_unix_millis(1_700_000_000_000);
    let clock = Arc::new(ManualClock::new(start));
    let keyring = LocalKeyring::generate_in_memory(start).expect("keyring");
    let mut service = CredentialService::new(
        SqliteStore::open_in_memory().expect("store"),
        Vault::new(keyring),
        ManualClock::new(start),
    );
    let record = service
        .put(
            "project-1",
            supabase_config(json!({"serviceRoleKey": "sb_secret_abcdef123456"})),
            "test",
        )
        .expect("put");
    let service = Arc::new(std::sync::Mutex::new(service));
    let store = Arc::new(CredentialTokenStore::new(service.clone(), "oauth-refresh"));
    assert!(store.load(&record.id).expect("load").is_none());

    let connection = OAuthConnection::new(
        &record.id,
        supabase_provider(&engine),
        expiring_tokens(&clock, 10),
        engine.clone(),
        store.clone(),
        clock.clone(),
    );
    let token = connection.access_token().await.expect("refreshed");
    assert_eq!(token.expose_secret(), "sbp_oauth_new_access");

    // The new set is in the store, encrypted, next to the untouched config secrets.
    let saved = store.load(&record.id).expect("load").expect("saved");
    assert_eq!(saved.access_token.expose_secret(), "sbp_oauth_new_access");
    assert_eq!(
        saved
            .refresh_token
            .as_ref()
            .map(SecretString::expose_secret),
        Some("refresh-1-rotated")
    );
    assert_eq!(
        saved.expires_at,
        Some(start.plus(Duration::from_secs(3600)))
    );
    {
        let mut guard = service.lock().expect("lock");
        let stored = guard.instance(&record.id).expect("instance");
        assert!(!stored.credentials_encrypted.contains("refresh-1-rotated"));
        assert_eq!(stored.credentials_version, 2);
        let opened = guard.get(&record.id, "check", "test").expect("get");
        assert_eq!(
            opened
                .config
                .secret("/serviceRoleKey")
                .and_then(|s| s.expose_str()),
            Some("sb_secret_abcdef123456")
        );
        assert!(
            opened
                .config
                .expose_full_config()
                .get(OAUTH_TOKENS)
                .is_none()
        );

        // Key rotation re-wraps the tokens with the credentials; the audit chain holds.
        guard.rotate_key("test").expect("rotate");
        let report = guard.rewrap_all("test").expect("rewrap");
        assert!(
            report.failed.is_empty() && report.rewrapped >= 1,
            "{report:?}"
        );
        let audit = guard.audit_log(Some(&record.id), None).expect("audit");
        assert!(
            audit
                .iter()
                .any(|e| e.event.detail.contains("(OAuth tokens)")),
            "{audit:?}"
        );
        assert!(guard.verify_audit().expect("verify").is_intact());
    }
    let reloaded = store.load(&record.id).expect("load").expect("still there");
    assert_eq!(
        reloaded.access_token.expose_secret(),
        "sbp_oauth_new_access"
    );

    // Each refresh counts in the instance's activity; the refused one as its last error.
    let refused = OAuthConnection::new(
        &record.id,
        supabase_provider(&engine),
        expiring_tokens(&clock, 10),
        engine.clone(),
        store.clone(),
        clock.clone(),
    );
    assert!(matches!(
        refused.access_token().await,
        Err(NetError::RefreshRejected(_))
    ));
    let activity = service
        .lock()
        .expect("lock")
        .activity(&record.id)
        .expect("activity");
    let total = |f: fn(&crate::store::activity::DailyActivity) -> u64| {
        activity.days.iter().map(f).sum::<u64>()
    };
    assert_eq!(total(|d| d.api_calls), 2, "{activity:?}");
    assert_eq!(total(|d| d.errors), 1, "{activity:?}");
    let error = activity.last_error.as_ref().expect("last error");
    assert_eq!(error.kind, crate::store::ActivityKind::OAuthRefresh);
    assert!(!error.message.contains("refresh-1-rotated"), "{error:?}");

    // Removing the instance deletes them.
    service
        .lock()
        .expect("lock")
        .remove(&record.id, "test")
        .expect("remove");
    assert!(matches!(
        store.load(&record.id),
        Err(NetError::TokenStore(_))
    ));
}

#[test]
fn for_connector_knows_the_three_oauth_connectors_only() {
    let secret = || SecretString::new("s".to_string());
    for (id, pkce) in [("stripe", false), ("firebase", true), ("supabase", true)] {
        let provider = OAuthProvider::for_connector(id, "client", secret(), "https://a.example/cb")
            .expect("a provider");
        assert_eq!((provider.id.as_str(), provider.pkce), (id, pkce));
        assert_eq!(provider.client_id, "client");
    }
    assert!(OAuthProvider::for_connector("onesignal", "c", secret(), "https://a/cb").is_none());
    assert_eq!(
        OAuthProvider::client_secret_var("stripe"),
        "MOBIGEN_STRIPE_OAUTH_CLIENT_SECRET"
    );
}
