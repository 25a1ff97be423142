//! Engine tests against mock servers on 127.0.0.1 reproducing each service's documented answers
//! (see `shared/reference/service-facts.md`). Nothing here reaches the internet.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::mock::{MockResponse, MockServer};
use super::*;
use crate::Registry;
use crate::catalog::config::ValidConfig;
use crate::catalog::connector::Connector;

const SK: &str = "sk_test_51HxSecretValue1234";
const FIREBASE_KEY: &str = "AIzaSyA1234567890abcdefghijklmnopqrstuv";
const OS_KEY: &str = "os_v2_app_abcdefghijklmnop1234";
const OS_APP: &str = "5eb5a37e-b458-11e3-ac11-000c2940e62c";

fn registry() -> Registry {
    Registry::builtin().expect("built-in registry")
}

fn config(registry: &Registry, id: &str, values: Value) -> ValidConfig {
    registry
        .lookup(id)
        .expect("connector")
        .validate_config(&values)
        .expect("valid config")
}

/// Options with short timeouts, every listed service pointed at the mock and allowed local.
fn options(server: &MockServer, services: &[&str]) -> NetOptions {
    let mut options = NetOptions::default();
    options.timeout = Duration::from_millis(800);
    options.connect_timeout = Duration::from_millis(500);
    options.backoff_base = Duration::from_millis(10);
    for service in services {
        options = options
            .with_api_base(service, &server.url())
            .expect("override")
            .allow_local_network(service);
    }
    options
}

fn engine(server: &MockServer, services: &[&str]) -> NetEngine {
    NetEngine::new(options(server, services)).expect("engine")
}

fn lookup<'a>(registry: &'a Registry, id: &str) -> &'a Connector {
    registry.lookup(id).expect("connector")
}

fn no_params() -> BTreeMap<String, Value> {
    BTreeMap::new()
}

fn assert_no_secret(report: &CheckReport, secrets: &[&str]) {
    let text = serde_json::to_string(report).expect("json");
    for secret in secrets {
        assert!(!text.contains(secret), "secret leaked in {text}");
    }
    assert!(!text.contains("****"), "starred echo leaked in {text}");
}

fn stripe_config(registry: &Registry, sk: &str) -> ValidConfig {
    config(
        registry,
        "stripe",
        json!({"publishableKey": if sk.contains("_live_") { "pk_live_51Hx" } else { "pk_test_51Hx" }, "secretKey": sk}),
    )
}

fn stripe_error(kind: &str, message: &str, code: Option<&str>) -> Value {
    let mut error =
        json!({"type": kind, "message": message, "doc_url": "https://stripe.com/docs/error-codes"});
    if let Some(code) = code {
        error["code"] = json!(code);
    }
    json!({ "error": error })
}

// ---------------------------------------------------------------- Stripe

#[tokio::test]
async fn stripe_validation_passes_and_sends_the_bearer_key() {
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1Nx", "country": "US", "default_currency": "usd", "charges_enabled": true, "details_submitted": true})),
    );
    let registry = registry();
    let report = engine(&server, &["stripe"])
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps[0].details.as_deref(), Some("account acct_1Nx"));
    let request = &server.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {SK}").as_str())
    );
}

#[tokio::test]
async fn stripe_bad_key_names_the_secret_key_and_masks_the_echo() {
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(
            401,
            stripe_error(
                "invalid_request_error",
                "Invalid API Key provided: sk_test_****1234",
                None,
            ),
        ),
    );
    let registry = registry();
    let report = engine(&server, &["stripe"])
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(!report.success);
    let step = &report.steps[0];
    assert_eq!(step.field.as_deref(), Some("/secretKey"));
    assert!(
        step.details
            .as_deref()
            .is_some_and(|d| d.starts_with("Stripe rejected the secret key"))
    );
    assert!(
        step.details
            .as_deref()
            .is_some_and(|d| d.contains("[redacted]")),
        "{step:?}"
    );
    assert_no_secret(&report, &[SK, "sk_test_"]);
}

#[tokio::test]
async fn stripe_restricted_key_missing_a_scope_is_valid_with_a_note() {
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(403, stripe_error("invalid_request_error", "The provided key 'rk_test_****abcd' does not have the required permissions for this endpoint. Having the 'rak_accounts_kyc_basic_read' permission would allow this request to continue.", None)),
    );
    let registry = registry();
    let report = engine(&server, &["stripe"])
        .validate(
            lookup(&registry, "stripe"),
            &stripe_config(&registry, "rk_test_51HxRestricted99"),
        )
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps[0].field.as_deref(), Some("/secretKey"));
    assert!(report.steps[0].suggestion.is_some());
    assert_no_secret(&report, &["rk_test_51HxRestricted99", "rk_test_"]);
}

#[tokio::test]
async fn stripe_payment_intent_is_created_then_cancelled() {
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/payment_intents",
        MockResponse::json(200, json!({"id": "pi_3Mx", "status": "requires_payment_method", "client_secret": "pi_3Mx_secret_abc", "livemode": false, "amount": 1099}))
            .delay(Duration::from_millis(150)),
    );
    server.on(
        "POST",
        "/v1/payment_intents/pi_3Mx/cancel",
        MockResponse::json(
            200,
            json!({"id": "pi_3Mx", "status": "canceled", "livemode": false}),
        ),
    );
    let registry = registry();
    let report = engine(&server, &["stripe"])
        .run_test_action(
            lookup(&registry, "stripe"),
            &stripe_config(&registry, SK),
            "payment_intent",
            &no_params(),
        )
        .await
        .expect("known action");
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps.len(), 2);
    assert_eq!(report.requests, 2);
    assert_eq!(
        report.steps[0].details.as_deref(),
        Some("pi_3Mx (requires_payment_method)")
    );
    // Each step carries its own wall time; the slow answer is the first step's.
    assert!(report.steps[0].duration >= 150, "{report:?}");
    assert!(report.steps[1].duration < 150, "{report:?}");
    assert!(report.duration >= report.steps[0].duration + report.steps[1].duration);
    let create = &server.requests()[0];
    assert_eq!(
        create.body,
        "amount=1099&automatic_payment_methods%5Benabled%5D=true&currency=usd"
    );
    assert_eq!(
        create.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(create.header("idempotency-key").map(str::len), Some(36));
}

#[tokio::test]
async fn stripe_test_action_refuses_a_live_key_without_sending() {
    let server = MockServer::start();
    let registry = registry();
    let report = engine(&server, &["stripe"])
        .run_test_action(
            lookup(&registry, "stripe"),
            &stripe_config(&registry, "sk_live_51HxLiveValue999"),
            "payment_intent",
            &no_params(),
        )
        .await
        .expect("known action");
    assert!(!report.success);
    assert_eq!(report.steps[0].field.as_deref(), Some("/secretKey"));
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("live key"))
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn stripe_amount_too_small_fails_and_nothing_is_left_to_cancel() {
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/payment_intents",
        MockResponse::json(
            400,
            stripe_error(
                "invalid_request_error",
                "Amount must be at least $0.50 usd",
                Some("amount_too_small"),
            ),
        ),
    );
    let registry = registry();
    let mut params = BTreeMap::new();
    params.insert("amount".to_string(), json!("10"));
    let report = engine(&server, &["stripe"])
        .run_test_action(
            lookup(&registry, "stripe"),
            &stripe_config(&registry, SK),
            "payment_intent",
            &params,
        )
        .await
        .expect("known action");
    assert!(!report.success);
    assert_eq!(
        report.steps.len(),
        1,
        "no cancel without an intent: {report:?}"
    );
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("below Stripe's minimum"))
    );
    assert!(server.requests()[0].body.starts_with("amount=10&"));
}

#[tokio::test]
async fn stripe_bad_key_on_the_test_action_names_the_field() {
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/payment_intents",
        MockResponse::json(
            401,
            stripe_error(
                "invalid_request_error",
                "Invalid API Key provided: sk_test_****1234",
                None,
            ),
        ),
    );
    let registry = registry();
    let report = engine(&server, &["stripe"])
        .run_test_action(
            lookup(&registry, "stripe"),
            &stripe_config(&registry, SK),
            "payment_intent",
            &no_params(),
        )
        .await
        .expect("known action");
    assert_eq!(report.steps[0].field.as_deref(), Some("/secretKey"));
    assert_no_secret(&report, &[SK]);
}

#[tokio::test]
async fn unknown_actions_and_parameters_are_errors() {
    let server = MockServer::start();
    let registry = registry();
    let engine = engine(&server, &["stripe"]);
    let stripe = lookup(&registry, "stripe");
    let config = stripe_config(&registry, SK);
    let err = engine
        .run_test_action(stripe, &config, "refund", &no_params())
        .await;
    assert!(matches!(err, Err(NetError::UnknownAction { .. })));
    let mut params = BTreeMap::new();
    params.insert("colour".to_string(), json!("red"));
    let err = engine
        .run_test_action(stripe, &config, "payment_intent", &params)
        .await;
    assert!(matches!(err, Err(NetError::UnknownParam { .. })));
}

// ---------------------------------------------------------------- Firebase

fn firebase_config(registry: &Registry) -> ValidConfig {
    config(
        registry,
        "firebase",
        json!({
            "apiKey": FIREBASE_KEY, "authDomain": "my-app-1.firebaseapp.com", "projectId": "my-app-1",
            "storageBucket": "my-app-1.appspot.com", "messagingSenderId": "123456789",
            "appId": "1:123456789:web:abc123"
        }),
    )
}

fn google_error(code: u16, message: &str, status: &str, reason: Option<&str>) -> Value {
    let mut error = json!({"code": code, "message": message, "status": status});
    if let Some(reason) = reason {
        error["details"] =
            json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]);
    }
    json!({ "error": error })
}

#[tokio::test]
async fn firebase_validation_compares_the_project_id() {
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/projects",
        MockResponse::json(
            200,
            json!({"projectId": "my-app-1", "authorizedDomains": ["localhost"]}),
        ),
    );
    let registry = registry();
    let firebase = lookup(&registry, "firebase");
    let config = firebase_config(&registry);
    let engine = engine(&server, &["firebase"]);
    let report = engine.validate(firebase, &config).await;
    assert!(report.success, "{report:?}");
    assert_eq!(
        server.requests()[0].target,
        format!("/v1/projects?key={FIREBASE_KEY}")
    );

    let other = MockServer::start();
    other.on(
        "GET",
        "/v1/projects",
        MockResponse::json(
            200,
            json!({"projectId": "someone-else", "authorizedDomains": []}),
        ),
    );
    let report = self::engine(&other, &["firebase"])
        .validate(firebase, &config)
        .await;
    assert!(!report.success);
    assert_eq!(report.steps[0].field.as_deref(), Some("/projectId"));
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("someone-else"))
    );
}

#[tokio::test]
async fn firebase_bad_and_restricted_keys_name_the_api_key() {
    let registry = registry();
    let firebase = lookup(&registry, "firebase");
    let config = firebase_config(&registry);
    for (status, body, expect) in [
        (
            400,
            google_error(
                400,
                "API key not valid. Please pass a valid API key.",
                "INVALID_ARGUMENT",
                Some("API_KEY_INVALID"),
            ),
            "Google rejected the API key",
        ),
        (
            403,
            google_error(
                403,
                "Requests from referer <empty> are blocked.",
                "PERMISSION_DENIED",
                Some("API_KEY_HTTP_REFERRER_BLOCKED"),
            ),
            "restricted",
        ),
    ] {
        let server = MockServer::start();
        server.on("GET", "/v1/projects", MockResponse::json(status, body));
        let report = engine(&server, &["firebase"])
            .validate(firebase, &config)
            .await;
        assert!(!report.success);
        assert_eq!(report.steps[0].field.as_deref(), Some("/apiKey"));
        assert!(
            report.steps[0]
                .details
                .as_deref()
                .is_some_and(|d| d.contains(expect)),
            "{report:?}"
        );
    }
}

fn sign_up_ok() -> MockResponse {
    MockResponse::json(
        200,
        json!({"kind": "identitytoolkit#SignupNewUserResponse", "idToken": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlVmFsdWU", "refreshToken": "AMf-refresh-token-value", "expiresIn": "3600", "localId": "uid123"}),
    )
}

#[tokio::test]
async fn firebase_anonymous_sign_in_deletes_the_user_afterwards() {
    let server = MockServer::start();
    server.on("POST", "/v1/accounts:signUp", sign_up_ok());
    server.on(
        "POST",
        "/v1/accounts:delete",
        MockResponse::json(
            200,
            json!({"kind": "identitytoolkit#DeleteAccountResponse"}),
        ),
    );
    let registry = registry();
    let report = engine(&server, &["firebase"])
        .run_test_action(
            lookup(&registry, "firebase"),
            &firebase_config(&registry),
            "anonymous_sign_in",
            &no_params(),
        )
        .await
        .expect("known action");
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps[0].details.as_deref(), Some("user uid123"));
    let delete = &server.requests()[1];
    let body: Value = serde_json::from_str(&delete.body).expect("json body");
    assert_eq!(
        body["idToken"],
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlVmFsdWU"
    );
    assert_no_secret(&report, &["eyJhbGciOiJSUzI1NiJ9"]);
}

#[tokio::test]
async fn firebase_sign_in_errors_are_explained() {
    let registry = registry();
    for (code, expect) in [
        ("ADMIN_ONLY_OPERATION", "anonymous sign-in is disabled"),
        ("CONFIGURATION_NOT_FOUND", "never set up"),
        ("TOO_MANY_ATTEMPTS_TRY_LATER", "wait an hour"),
    ] {
        let server = MockServer::start();
        server.on(
            "POST",
            "/v1/accounts:signUp",
            MockResponse::json(400, google_error(400, code, "INVALID_ARGUMENT", None)),
        );
        let report = engine(&server, &["firebase"])
            .run_test_action(
                lookup(&registry, "firebase"),
                &firebase_config(&registry),
                "anonymous_sign_in",
                &no_params(),
            )
            .await
            .expect("known action");
        assert!(!report.success);
        assert_eq!(report.steps.len(), 1, "nothing to delete: {report:?}");
        let step = &report.steps[0];
        let text = format!(
            "{} {}",
            step.details.clone().unwrap_or_default(),
            step.suggestion.clone().unwrap_or_default()
        );
        assert!(text.contains(expect), "{code}: {text}");
    }
}

#[tokio::test]
async fn firestore_write_read_cleans_up_even_after_a_denied_write() {
    let registry = registry();
    let firebase = lookup(&registry, "firebase");
    let config = firebase_config(&registry);
    let docs = "/v1/projects/my-app-1/databases/(default)/documents/mobigen_connector_probe";

    let server = MockServer::start();
    server.on("POST", "/v1/accounts:signUp", sign_up_ok());
    server.on(
        "POST",
        "/v1/accounts:delete",
        MockResponse::json(200, json!({})),
    );
    server.on("POST", docs, MockResponse::json(200, json!({"name": "projects/my-app-1/databases/(default)/documents/mobigen_connector_probe/x", "fields": {"message": {"stringValue": "hello from Mobigen"}}})));
    server.on(
        "GET",
        &format!("{docs}/*"),
        MockResponse::json(
            200,
            json!({"name": "x", "fields": {"message": {"stringValue": "hello from Mobigen"}}}),
        ),
    );
    server.on(
        "DELETE",
        &format!("{docs}/*"),
        MockResponse::json(200, json!({})),
    );
    let report = engine(&server, &["firebase", "firebase.firestore"])
        .run_test_action(firebase, &config, "firestore_write_read", &no_params())
        .await
        .expect("known action");
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps.len(), 5);
    assert_eq!(
        report.steps[2].details.as_deref(),
        Some("read: hello from Mobigen")
    );
    let write = server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path() == docs)
        .expect("write");
    assert!(
        write
            .header("authorization")
            .is_some_and(|a| a.starts_with("Bearer eyJ"))
    );

    let denied = MockServer::start();
    denied.on("POST", "/v1/accounts:signUp", sign_up_ok());
    denied.on(
        "POST",
        "/v1/accounts:delete",
        MockResponse::json(200, json!({})),
    );
    denied.on(
        "POST",
        docs,
        MockResponse::json(
            403,
            google_error(
                403,
                "Missing or insufficient permissions.",
                "PERMISSION_DENIED",
                None,
            ),
        ),
    );
    denied.on(
        "DELETE",
        &format!("{docs}/*"),
        MockResponse::json(
            404,
            google_error(404, "Document not found", "NOT_FOUND", None),
        ),
    );
    let report = engine(&denied, &["firebase", "firebase.firestore"])
        .run_test_action(firebase, &config, "firestore_write_read", &no_params())
        .await
        .expect("known action");
    assert!(!report.success);
    assert!(
        report.steps[1]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("security rules"))
    );
    assert_eq!(
        denied.hits("POST", "/v1/accounts:delete"),
        1,
        "the user is deleted after a failure"
    );
}

// ---------------------------------------------------------------- Supabase

const SB_URL: &str = "https://abcdefghijklmnopqrst.supabase.co";

fn supabase_config(registry: &Registry, extra: Value) -> ValidConfig {
    let mut values = json!({"projectUrl": SB_URL, "anonKey": "sb_publishable_abc123"});
    if let (Some(target), Some(more)) = (values.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    config(registry, "supabase", values)
}

fn supabase_401(hint: &str) -> Value {
    json!({"message": "Invalid API key", "hint": hint})
}

#[tokio::test]
async fn supabase_validation_tells_a_bad_key_from_a_wrong_key_type() {
    let registry = registry();
    let supabase = lookup(&registry, "supabase");
    let config = supabase_config(&registry, json!({}));

    let ok = MockServer::start();
    ok.on("GET", "/auth/v1/settings", MockResponse::json(200, json!({"external": {"email": true, "anonymous_users": false}, "disable_signup": false, "mailer_autoconfirm": false})));
    let report = engine(&ok, &["supabase"]).validate(supabase, &config).await;
    assert!(report.success, "{report:?}");
    assert_eq!(
        ok.requests()[0].header("apikey"),
        Some("sb_publishable_abc123")
    );

    let bad = MockServer::start();
    bad.on(
        "GET",
        "/auth/v1/settings",
        MockResponse::json(
            401,
            supabase_401("Double check your Supabase `anon` or `service_role` API key."),
        ),
    );
    let report = engine(&bad, &["supabase"])
        .validate(supabase, &config)
        .await;
    assert_eq!(report.steps[0].field.as_deref(), Some("/anonKey"));
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.starts_with("Supabase rejected the public key"))
    );

    let wrong_type = MockServer::start();
    wrong_type.on(
        "GET",
        "/auth/v1/settings",
        MockResponse::json(
            401,
            supabase_401("Only the `service_role` API key can be used for this endpoint."),
        )
        .header("sb-error-code", "UNAUTHORIZED_INVALID_API_KEY_TYPE"),
    );
    let report = engine(&wrong_type, &["supabase"])
        .validate(supabase, &config)
        .await;
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.starts_with("Supabase refused this kind of key"))
    );

    let header_only = MockServer::start();
    header_only.on(
        "GET",
        "/auth/v1/settings",
        MockResponse::json(401, json!({"message": "Invalid API key"}))
            .header("sb-error-code", "UNAUTHORIZED_INVALID_API_KEY_TYPE"),
    );
    let report = engine(&header_only, &["supabase"])
        .validate(supabase, &config)
        .await;
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.starts_with("Supabase refused this kind of key"))
    );
}

#[tokio::test]
async fn supabase_secret_key_must_be_a_secret_key() {
    let registry = registry();
    let config = supabase_config(
        &registry,
        json!({"serviceRoleKey": "sb_secret_abcdef123456"}),
    );
    let server = MockServer::start();
    server.on(
        "GET",
        "/auth/v1/settings",
        MockResponse::json(200, json!({"disable_signup": false})),
    );
    server.on(
        "GET",
        "/rest/v1/",
        MockResponse::json(
            401,
            supabase_401("Only the `service_role` API key can be used for this endpoint."),
        )
        .header("sb-error-code", "UNAUTHORIZED_INVALID_API_KEY_TYPE"),
    );
    let report = engine(&server, &["supabase"])
        .validate(lookup(&registry, "supabase"), &config)
        .await;
    assert!(!report.success);
    assert_eq!(report.steps[1].field.as_deref(), Some("/serviceRoleKey"));
    assert_no_secret(&report, &["sb_secret_abcdef123456"]);
}

#[tokio::test]
async fn supabase_table_probe_and_storage_list() {
    let registry = registry();
    let supabase = lookup(&registry, "supabase");
    let config = supabase_config(&registry, json!({}));
    let server = MockServer::start();
    server.on(
        "GET",
        "/rest/v1/profiles",
        MockResponse::json(200, json!([])),
    );
    server.on(
        "GET",
        "/storage/v1/bucket",
        MockResponse::json(
            200,
            json!([{"id": "avatars", "name": "avatars", "public": true}]),
        ),
    );
    let engine = engine(&server, &["supabase"]);
    let report = engine
        .run_test_action(supabase, &config, "table_probe", &no_params())
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    assert_eq!(
        server.requests()[0].target,
        "/rest/v1/profiles?select=*&limit=1"
    );
    let report = engine
        .run_test_action(supabase, &config, "storage_buckets", &no_params())
        .await
        .expect("action");
    assert!(report.success, "{report:?}");

    let missing = MockServer::start();
    missing.on("GET", "/rest/v1/*", MockResponse::json(404, json!({"code": "PGRST205", "details": null, "hint": "Perhaps you meant the table 'public.profile'", "message": "Could not find the table 'public.nope' in the schema cache"})));
    let mut params = BTreeMap::new();
    params.insert("table".to_string(), json!("no pe"));
    let report = self::engine(&missing, &["supabase"])
        .run_test_action(supabase, &config, "table_probe", &params)
        .await
        .expect("action");
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("does not exist"))
    );
    assert_eq!(
        missing.requests()[0].path(),
        "/rest/v1/no%20pe",
        "parameters are encoded in URLs"
    );

    let denied = MockServer::start();
    denied.on(
        "GET",
        "/rest/v1/profiles",
        MockResponse::json(
            401,
            json!({"code": "42501", "message": "permission denied for table profiles"}),
        ),
    );
    let report = self::engine(&denied, &["supabase"])
        .run_test_action(supabase, &config, "table_probe", &no_params())
        .await
        .expect("action");
    assert!(
        report.steps[0]
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains("GRANT SELECT"))
    );
}

// ---------------------------------------------------------------- RevenueCat

fn revenuecat_config(registry: &Registry, extra: Value) -> ValidConfig {
    let mut values = json!({"apiKey": {"ios": "appl_abcdef123", "android": "goog_abcdef456"}});
    if let (Some(target), Some(more)) = (values.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    config(registry, "revenuecat", values)
}

fn offerings() -> MockResponse {
    MockResponse::json(
        200,
        json!({"current_offering_id": "default", "offerings": [{"identifier": "default", "description": "Standard", "packages": [{"identifier": "$rc_monthly", "platform_product_identifier": "monthly"}]}]}),
    )
}

#[tokio::test]
async fn revenuecat_validates_each_public_key_with_its_platform_and_the_secret_key() {
    let registry = registry();
    let config = revenuecat_config(&registry, json!({"secretKey": "sk_abcdefghijklmnop"}));
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/subscribers/mobigen-connector-probe/offerings",
        offerings(),
    );
    server.on(
        "GET",
        "/v2/projects",
        MockResponse::json(
            200,
            json!({"object": "list", "items": [{"id": "proj1a2b", "name": "App"}]}),
        ),
    );
    let report = engine(&server, &["revenuecat"])
        .validate(lookup(&registry, "revenuecat"), &config)
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps.len(), 3);
    let requests = server.requests();
    assert_eq!(requests[0].header("x-platform"), Some("ios"));
    assert_eq!(
        requests[0].header("authorization"),
        Some("Bearer appl_abcdef123")
    );
    assert_eq!(requests[1].header("x-platform"), Some("android"));
    assert_eq!(
        requests[2].header("authorization"),
        Some("Bearer sk_abcdefghijklmnop")
    );
}

#[tokio::test]
async fn revenuecat_errors_name_the_key_at_fault() {
    let registry = registry();
    let config = revenuecat_config(&registry, json!({"secretKey": "sk_abcdefghijklmnop"}));
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/subscribers/mobigen-connector-probe/offerings",
        MockResponse::json(401, json!({"code": 7225, "message": "Invalid API Key."})),
    );
    server.on("GET", "/v1/subscribers/mobigen-connector-probe/offerings", MockResponse::json(400, json!({"code": 7000, "message": "The specified platform does not match the API key's platform."})));
    server.on("GET", "/v2/projects", MockResponse::json(403, json!({"type": "authorization_error", "message": "The API key does not have the permission project_configuration:projects:read", "retryable": false, "doc_url": "https://errors.rev.cat/authorization-error"})));
    let report = engine(&server, &["revenuecat"])
        .validate(lookup(&registry, "revenuecat"), &config)
        .await;
    assert!(!report.success);
    let fields: Vec<Option<&str>> = report.steps.iter().map(|s| s.field.as_deref()).collect();
    assert_eq!(
        fields,
        [
            Some("/apiKey/ios"),
            Some("/apiKey/android"),
            Some("/secretKey")
        ]
    );
    assert!(
        report.steps[1]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("Play Store"))
    );
    assert_no_secret(&report, &["sk_abcdefghijklmnop"]);
}

#[tokio::test]
async fn revenuecat_offerings_action_fetches_per_platform() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/subscribers/mobigen-connector-probe/offerings",
        offerings(),
    );
    let report = engine(&server, &["revenuecat"])
        .run_test_action(
            lookup(&registry, "revenuecat"),
            &revenuecat_config(&registry, json!({})),
            "offerings",
            &no_params(),
        )
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    assert_eq!(
        report.steps[0].details.as_deref(),
        Some("current offering: default")
    );
}

// ---------------------------------------------------------------- OneSignal

fn onesignal_config(registry: &Registry, with_key: bool) -> ValidConfig {
    let mut values = json!({"appId": OS_APP});
    if with_key {
        values["apiKey"] = json!(OS_KEY);
    }
    config(registry, "onesignal", values)
}

#[tokio::test]
async fn onesignal_validation_uses_key_authorization() {
    let registry = registry();
    let onesignal = lookup(&registry, "onesignal");
    let server = MockServer::start();
    server.on("GET", &format!("/apps/{OS_APP}/segments"), MockResponse::json(200, json!({"total_count": 2, "offset": 0, "limit": 300, "segments": [{"id": "s1", "name": "Test Users"}]})));
    let report = engine(&server, &["onesignal"])
        .validate(onesignal, &onesignal_config(&registry, true))
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps[0].details.as_deref(), Some("2 segments"));
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some(format!("Key {OS_KEY}").as_str())
    );

    let denied = MockServer::start();
    denied.on("GET", &format!("/apps/{OS_APP}/segments"), MockResponse::json(401, json!({"errors": ["Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/accounts-and-keys#api-keys)."]})));
    let report = engine(&denied, &["onesignal"])
        .validate(onesignal, &onesignal_config(&registry, true))
        .await;
    assert_eq!(report.steps[0].field.as_deref(), Some("/apiKey"));

    let unknown = MockServer::start();
    unknown.on(
        "GET",
        &format!("/apps/{OS_APP}/segments"),
        MockResponse::json(404, json!({"errors": ["App not found"]})),
    );
    let report = engine(&unknown, &["onesignal"])
        .validate(onesignal, &onesignal_config(&registry, true))
        .await;
    assert_eq!(report.steps[0].field.as_deref(), Some("/appId"));
}

#[tokio::test]
async fn onesignal_without_a_key_says_what_was_not_checked() {
    let registry = registry();
    let server = MockServer::start();
    let report = engine(&server, &["onesignal"])
        .validate(
            lookup(&registry, "onesignal"),
            &onesignal_config(&registry, false),
        )
        .await;
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.starts_with("not checked"))
    );
    assert_eq!(report.steps[0].field.as_deref(), Some("/apiKey"));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn onesignal_test_notification_fails_on_an_empty_id() {
    let registry = registry();
    let onesignal = lookup(&registry, "onesignal");
    let server = MockServer::start();
    server.on(
        "POST",
        "/notifications",
        MockResponse::json(
            200,
            json!({"id": "b98881cc-1e94-4366-bbd9-db8f3429292b", "external_id": null}),
        ),
    );
    let report = engine(&server, &["onesignal"])
        .run_test_action(
            onesignal,
            &onesignal_config(&registry, true),
            "test_notification",
            &no_params(),
        )
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    let body: Value = serde_json::from_str(&server.requests()[0].body).expect("json");
    assert_eq!(body["app_id"], OS_APP);
    assert_eq!(body["included_segments"], json!(["Test Users"]));
    assert_eq!(body["contents"]["en"], "Hello from Mobigen");
    assert_eq!(body["idempotency_key"].as_str().map(str::len), Some(36));
    assert_eq!(server.requests()[0].target, "/notifications?c=push");

    let nobody = MockServer::start();
    nobody.on(
        "POST",
        "/notifications",
        MockResponse::json(
            200,
            json!({"id": "", "errors": ["All included players are not subscribed"]}),
        ),
    );
    let report = engine(&nobody, &["onesignal"])
        .run_test_action(
            onesignal,
            &onesignal_config(&registry, true),
            "test_notification",
            &no_params(),
        )
        .await
        .expect("action");
    assert!(!report.success);
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("nobody in the segment")),
        "{report:?}"
    );
}

// ---------------------------------------------------------------- safety

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "POST",
        "/notifications",
        MockResponse::json(429, json!({"errors": ["API rate limit exceeded."]}))
            .header("Retry-After", "1"),
    );
    server.on(
        "POST",
        "/notifications",
        MockResponse::json(200, json!({"id": "b98881cc-1e94-4366-bbd9-db8f3429292b"})),
    );
    let started = Instant::now();
    let report = engine(&server, &["onesignal"])
        .run_test_action(
            lookup(&registry, "onesignal"),
            &onesignal_config(&registry, true),
            "test_notification",
            &no_params(),
        )
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    assert_eq!(server.hits("POST", "/notifications"), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    let requests = server.requests();
    assert_eq!(
        serde_json::from_str::<Value>(&requests[0].body)
            .ok()
            .map(|b| b["idempotency_key"].clone()),
        serde_json::from_str::<Value>(&requests[1].body)
            .ok()
            .map(|b| b["idempotency_key"].clone()),
        "a retry repeats the idempotency key"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(
            429,
            stripe_error(
                "invalid_request_error",
                "Too many requests",
                Some("rate_limit"),
            ),
        )
        .header("Retry-After", "3600"),
    );
    let started = Instant::now();
    let report = engine(&server, &["stripe"])
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server.hits("GET", "/v1/account"), 1);
    assert!(
        report.steps[0]
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains("3600 s")),
        "{report:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_for_idempotent_requests_only() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(
            503,
            json!({"error": {"type": "api_error", "message": "overloaded"}}),
        ),
    );
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1", "charges_enabled": true})),
    );
    let report = engine(&server, &["stripe"])
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(server.hits("GET", "/v1/account"), 2);

    let post = MockServer::start();
    post.on(
        "POST",
        "/v1/accounts:signUp",
        MockResponse::json(503, google_error(503, "unavailable", "UNAVAILABLE", None)),
    );
    let report = engine(&post, &["firebase"])
        .run_test_action(
            lookup(&registry, "firebase"),
            &firebase_config(&registry),
            "anonymous_sign_in",
            &no_params(),
        )
        .await
        .expect("action");
    assert!(!report.success);
    assert_eq!(
        post.hits("POST", "/v1/accounts:signUp"),
        1,
        "a sign-up is not sent twice"
    );
    assert!(
        report.steps[0]
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains("try again later"))
    );
}

#[tokio::test]
async fn a_slow_service_times_out() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1"})).delay(Duration::from_secs(3)),
    );
    let mut options = options(&server, &["stripe"]);
    options.timeout = Duration::from_millis(300);
    options.max_retries = 0;
    let started = Instant::now();
    let report = NetEngine::new(options)
        .expect("engine")
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("timeout")),
        "{report:?}"
    );
}

#[tokio::test]
async fn a_dropped_connection_is_retried_then_reported() {
    let registry = registry();
    let server = MockServer::start();
    server.on("GET", "/v1/account", MockResponse::dropped());
    let report = engine(&server, &["stripe"])
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(!report.success);
    assert_eq!(
        server.hits("GET", "/v1/account"),
        3,
        "first attempt and two retries"
    );
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("closed")),
        "{report:?}"
    );
}

#[tokio::test]
async fn http_is_refused_without_the_opt_in() {
    let registry = registry();
    let server = MockServer::start();
    let options = NetOptions::default()
        .with_api_base("stripe", &server.url())
        .expect("override");
    let report = NetEngine::new(options)
        .expect("engine")
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(!report.success);
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("only https")),
        "{report:?}"
    );
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn private_and_loopback_project_urls_are_refused() {
    let registry = registry();
    let supabase = lookup(&registry, "supabase");
    let server = MockServer::start();
    let engine = NetEngine::new(NetOptions::default()).expect("engine");
    for url in [
        format!("https://127.0.0.1:{}", server.port()),
        format!("https://localhost:{}", server.port()),
        "https://10.0.0.7".to_string(),
        "https://169.254.169.254".to_string(),
        "https://192.168.1.20".to_string(),
    ] {
        let config = config(
            &registry,
            "supabase",
            json!({"projectUrl": url, "anonKey": "sb_publishable_abc123"}),
        );
        let report = engine.validate(supabase, &config).await;
        assert!(!report.success, "{url}");
        assert_eq!(
            report.steps[0].field.as_deref(),
            Some("/projectUrl"),
            "{url}"
        );
        assert!(
            report.steps[0]
                .details
                .as_deref()
                .is_some_and(|d| d.starts_with("endpoint refused")),
            "{url}: {report:?}"
        );
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn names_resolving_to_local_addresses_are_refused_by_the_resolver() {
    use reqwest::dns::Resolve as _;
    let name: reqwest::dns::Name = "localhost".parse().expect("name");
    let result = guard::PublicOnlyResolver.resolve(name).await;
    let error = result.err().expect("refused");
    assert!(guard::blocked_address(error.as_ref()).is_some(), "{error}");
}

#[test]
fn address_classification() {
    use std::net::IpAddr;
    for ip in [
        "127.0.0.1",
        "10.1.1.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ] {
        let ip: IpAddr = ip.parse().expect("ip");
        assert!(!guard::is_public_ip(ip), "{ip}");
    }
    for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
        let ip: IpAddr = ip.parse().expect("ip");
        assert!(guard::is_public_ip(ip), "{ip}");
    }
}

#[tokio::test]
async fn full_secrets_echoed_by_a_service_are_masked() {
    let registry = registry();
    let server = MockServer::start();
    server.on("GET", "/v1/account", MockResponse::json(400, json!({"error": {"type": "invalid_request_error", "message": format!("Key {SK} is not allowed here")}})));
    let report = engine(&server, &["stripe"])
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("[redacted]")),
        "{report:?}"
    );
    assert_no_secret(&report, &[SK]);
}

#[test]
fn env_overrides_imply_the_local_opt_in_for_that_service_only() {
    let vars = [
        (
            "MOBIGEN_STRIPE_API_BASE".to_string(),
            "http://127.0.0.1:9".to_string(),
        ),
        (
            "MOBIGEN_FIREBASE_FIRESTORE_API_BASE".to_string(),
            "http://127.0.0.1:10/".to_string(),
        ),
        ("MOBIGEN_CONNECTORS_DIR".to_string(), "/tmp".to_string()),
        ("MOBIGEN_ONESIGNAL_API_BASE".to_string(), String::new()),
    ];
    let options = NetOptions::default().with_env(vars).expect("valid");
    assert_eq!(
        options.api_base_override("stripe"),
        Some("http://127.0.0.1:9")
    );
    assert!(options.allows_local_network("stripe"));
    assert_eq!(
        options.api_base_override("firebase.firestore"),
        Some("http://127.0.0.1:10")
    );
    assert!(options.allows_local_network("firebase.firestore"));
    assert!(!options.allows_local_network("firebase"));
    assert!(!options.allows_local_network("onesignal"));
    assert_eq!(
        env_var_name("supabase.management"),
        "MOBIGEN_SUPABASE_MANAGEMENT_API_BASE"
    );
    let bad = NetOptions::default()
        .with_env([("MOBIGEN_STRIPE_API_BASE".to_string(), "ftp://x".to_string())]);
    assert!(matches!(bad, Err(NetError::BadOverride { .. })));
}

struct EchoCheck;

impl CustomCheck for EchoCheck {
    fn name(&self) -> &str {
        "Custom balance check"
    }

    fn run<'a>(&'a self, ctx: &'a CheckContext<'a>) -> BoxFuture<'a, StepReport> {
        Box::pin(async move {
            let base = ctx.api_base().unwrap_or_default().to_string();
            let key = ctx.config()["secretKey"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let auth = format!("Bearer {key}");
            match ctx
                .send_json(
                    crate::catalog::definition::HttpMethod::Get,
                    &format!("{base}/v1/balance"),
                    &[("Authorization", &auth)],
                    None,
                )
                .await
            {
                Ok(reply) => StepReport::pass(
                    self.name(),
                    Some(format!("HTTP {} for {key}", reply.status)),
                ),
                Err(e) => StepReport::fail(self.name(), e.to_string(), None, "retry"),
            }
        })
    }
}

#[tokio::test]
async fn custom_checks_run_after_the_declarative_ones_and_are_masked() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1", "charges_enabled": true})),
    );
    server.on(
        "GET",
        "/v1/balance",
        MockResponse::json(200, json!({"object": "balance"})),
    );
    let mut engine = engine(&server, &["stripe"]);
    engine.register_check("stripe", Arc::new(EchoCheck));
    let report = engine
        .validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK))
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(report.steps[1].name, "Custom balance check");
    assert_eq!(
        report.steps[1].details.as_deref(),
        Some("HTTP 200 for [redacted]")
    );
}

#[test]
fn the_report_has_the_prd_shape() {
    let report = CheckReport {
        success: false,
        duration: 842,
        requests: 2,
        steps: vec![
            StepReport::pass("API key validation", None),
            StepReport::fail(
                "Payment intent created",
                "Stripe rejected the secret key",
                Some("/secretKey".into()),
                "copy it again",
            ),
        ],
    };
    assert_eq!(
        serde_json::to_value(&report).expect("json"),
        json!({"success": false, "duration": 842, "requests": 2, "steps": [
            {"name": "API key validation", "passed": true, "duration": 0},
            {"name": "Payment intent created", "passed": false, "details": "Stripe rejected the secret key", "field": "/secretKey", "suggestion": "copy it again", "duration": 0}
        ]})
    );
}

#[test]
fn the_blocking_engine_runs_outside_a_runtime() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1", "charges_enabled": true})),
    );
    let engine = BlockingNetEngine::new(options(&server, &["stripe"])).expect("engine");
    let report = engine.validate(lookup(&registry, "stripe"), &stripe_config(&registry, SK));
    assert!(report.success, "{report:?}");
}

/// Issue 15 item 16: `MOBIGEN_<SERVICE>_API_BASE` may open loopback for tests, never a
/// link-local or cloud metadata address (the request and its secret key went there).
#[test]
fn overrides_to_link_local_or_metadata_addresses_are_refused() {
    for base in [
        "http://169.254.169.254",
        "http://169.254.169.254/latest",
        "http://[fe80::1]:8080",
        "http://[::ffff:169.254.169.254]",
        "http://metadata.google.internal",
    ] {
        let result = NetOptions::default()
            .with_env([("MOBIGEN_STRIPE_API_BASE".to_string(), base.to_string())]);
        match result {
            Err(NetError::BadOverride { service, reason }) => {
                assert_eq!(service, "STRIPE");
                assert!(reason.contains("never"), "{base}: {reason}");
            }
            other => panic!("{base}: {other:?}"),
        }
    }
    assert!(
        NetOptions::default()
            .with_env([(
                "MOBIGEN_STRIPE_API_BASE".to_string(),
                "http://127.0.0.1:9".to_string()
            )])
            .is_ok()
    );
}

// ------------------------------------------- PRD validation items (issue 17 item 7)

#[tokio::test]
async fn stripe_checks_the_payment_methods_and_the_webhook_endpoint() {
    let registry = registry();
    let stripe = lookup(&registry, "stripe");
    let with_webhook = config(
        &registry,
        "stripe",
        json!({"publishableKey": "pk_test_51Hx", "secretKey": SK, "webhookSecret": "whsec_abc123", "paymentMethods": ["card", "apple_pay"], "merchantIdentifier": "merchant.com.example"}),
    );
    let account = json!({"id": "acct_1Nx", "charges_enabled": true, "capabilities": {"card_payments": "active"}});

    // An endpoint is set up and cards are active: every step passes.
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, account.clone()),
    );
    server.on(
        "GET",
        "/v1/webhook_endpoints",
        MockResponse::json(200, json!({"object": "list", "data": [{"id": "we_1", "url": "https://example.com/api/stripe/webhook", "status": "enabled"}]})),
    );
    let report = engine(&server, &["stripe"])
        .validate(stripe, &with_webhook)
        .await;
    assert!(report.success, "{report:?}");
    let names: Vec<&str> = report.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["API key validation", "Webhook endpoint"]);
    // The payment methods are read from the same account answer: one request.
    assert_eq!(server.hits("GET", "/v1/account"), 1);
    assert_eq!(server.hits("GET", "/v1/webhook_endpoints"), 1);
    assert_no_secret(&report, &[SK, "whsec_abc123"]);

    // No endpoint: the webhook secret is named.
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, account.clone()),
    );
    server.on(
        "GET",
        "/v1/webhook_endpoints",
        MockResponse::json(200, json!({"object": "list", "data": []})),
    );
    let report = engine(&server, &["stripe"])
        .validate(stripe, &with_webhook)
        .await;
    assert!(!report.success, "{report:?}");
    let failed = report
        .steps
        .iter()
        .find(|s| !s.passed)
        .expect("a failed step");
    assert_eq!(failed.name, "Webhook endpoint");
    assert_eq!(failed.field.as_deref(), Some("/webhookSecret"));

    // Card payments inactive: the payment methods are named.
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1Nx", "charges_enabled": true, "capabilities": {"card_payments": "inactive"}})),
    );
    server.on(
        "GET",
        "/v1/webhook_endpoints",
        MockResponse::json(200, json!({"object": "list", "data": [{"id": "we_1"}]})),
    );
    let report = engine(&server, &["stripe"])
        .validate(stripe, &with_webhook)
        .await;
    assert!(!report.success, "{report:?}");
    let failed = report
        .steps
        .iter()
        .find(|s| !s.passed)
        .expect("a failed step");
    assert_eq!(failed.name, "API key validation");
    assert_eq!(failed.field.as_deref(), Some("/paymentMethods"));

    // Charges not enabled yet (an account being activated): passes, saying so.
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_1Nx", "charges_enabled": false, "capabilities": {"card_payments": "active"}})),
    );
    let report = engine(&server, &["stripe"])
        .validate(stripe, &stripe_config(&registry, SK))
        .await;
    assert!(report.success, "{report:?}");
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("cannot accept live payments")),
        "{report:?}"
    );
    // Without a webhook secret, no endpoint is asked for.
    assert_eq!(server.hits("GET", "/v1/webhook_endpoints"), 0);
}

#[tokio::test]
async fn revenuecat_validation_fails_when_no_products_are_configured() {
    let registry = registry();
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/subscribers/mobigen-connector-probe/offerings",
        MockResponse::json(200, json!({"current_offering_id": null, "offerings": []})),
    );
    let report = engine(&server, &["revenuecat"])
        .validate(
            lookup(&registry, "revenuecat"),
            &revenuecat_config(&registry, json!({})),
        )
        .await;
    assert!(!report.success, "{report:?}");
    for step in &report.steps {
        assert!(!step.passed, "{report:?}");
        assert_eq!(step.field.as_deref(), Some("/products"), "{report:?}");
    }
    // With an offering holding a package, the same keys pass.
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/subscribers/mobigen-connector-probe/offerings",
        offerings(),
    );
    let report = engine(&server, &["revenuecat"])
        .validate(
            lookup(&registry, "revenuecat"),
            &revenuecat_config(&registry, json!({})),
        )
        .await;
    assert!(report.success, "{report:?}");
}

#[tokio::test]
async fn supabase_storage_upload_uploads_then_deletes_the_file() {
    let registry = registry();
    let supabase = lookup(&registry, "supabase");
    let server = MockServer::start();
    server.on(
        "POST",
        "/storage/v1/object/avatars/*",
        MockResponse::json(
            200,
            json!({"Key": "avatars/mobigen-check.json", "Id": "0b7d"}),
        ),
    );
    server.on(
        "DELETE",
        "/storage/v1/object/avatars/*",
        MockResponse::json(200, json!({"message": "Successfully deleted"})),
    );
    let params = BTreeMap::from([("bucket".to_string(), json!("avatars"))]);
    let report = engine(&server, &["supabase"])
        .run_test_action(
            supabase,
            &supabase_config(&registry, json!({})),
            "storage_upload",
            &params,
        )
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[1].method, "DELETE");
    assert_eq!(requests[0].path(), requests[1].path());
    assert_eq!(requests[0].header("apikey"), Some("sb_publishable_abc123"));

    // Refused by the bucket's policies: the step says so (the clean-up still runs).
    let server = MockServer::start();
    server.on(
        "POST",
        "/storage/v1/object/avatars/*",
        MockResponse::json(
            400,
            json!({"statusCode": "403", "error": "Unauthorized", "message": "new row violates row-level security policy"}),
        ),
    );
    let report = engine(&server, &["supabase"])
        .run_test_action(
            supabase,
            &supabase_config(&registry, json!({})),
            "storage_upload",
            &params,
        )
        .await
        .expect("action");
    assert!(!report.success, "{report:?}");
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("policies")),
        "{report:?}"
    );
}

#[tokio::test]
async fn supabase_email_sign_up_signs_up_and_deletes_the_user_with_the_secret_key() {
    let registry = registry();
    let supabase = lookup(&registry, "supabase");
    let secret = "sb_secret_xyz789";
    let with_secret = || supabase_config(&registry, json!({"serviceRoleKey": secret}));
    let params = BTreeMap::from([("emailDomain".to_string(), json!("mobigen.dev"))]);
    // Email confirmation on: the answer is the user itself.
    let user_id = "8f3c2a1e-0000-4000-8000-000000000001";
    let server = MockServer::start();
    server.on(
        "POST",
        "/auth/v1/signup",
        MockResponse::json(
            200,
            json!({"id": user_id, "email": "x", "confirmation_sent_at": "2026-12-03T00:00:00Z"}),
        ),
    );
    server.on(
        "DELETE",
        &format!("/auth/v1/admin/users/{user_id}"),
        MockResponse::json(200, json!({})),
    );
    let report = engine(&server, &["supabase"])
        .run_test_action(supabase, &with_secret(), "email_sign_up", &params)
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    assert_no_secret(&report, &[secret]);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let body: Value = serde_json::from_str(&requests[0].body).expect("json body");
    let email = body["email"].as_str().expect("email");
    assert!(
        email.starts_with("mobigen-check-") && email.ends_with("@mobigen.dev"),
        "{email}"
    );
    assert_eq!(requests[0].header("apikey"), Some("sb_publishable_abc123"));
    assert_eq!(requests[1].method, "DELETE");
    assert_eq!(requests[1].header("apikey"), Some(secret));

    // Confirmation off: the answer is a session holding the user; the id is found there.
    let server = MockServer::start();
    server.on(
        "POST",
        "/auth/v1/signup",
        MockResponse::json(
            200,
            json!({"access_token": "eyJ.session.token", "user": {"id": user_id}}),
        ),
    );
    server.on(
        "DELETE",
        "/auth/v1/admin/users/*",
        MockResponse::json(200, json!({})),
    );
    let report = engine(&server, &["supabase"])
        .run_test_action(supabase, &with_secret(), "email_sign_up", &params)
        .await
        .expect("action");
    assert!(report.success, "{report:?}");
    assert_eq!(
        server.hits("DELETE", &format!("/auth/v1/admin/users/{user_id}")),
        1
    );

    // Without a secret key the user stays (no admin call), and sign-ups turned off say so.
    let server = MockServer::start();
    server.on(
        "POST",
        "/auth/v1/signup",
        MockResponse::json(
            422,
            json!({"code": 422, "error_code": "signup_disabled", "msg": "Signups not allowed for this instance"}),
        ),
    );
    let report = engine(&server, &["supabase"])
        .run_test_action(
            supabase,
            &supabase_config(&registry, json!({})),
            "email_sign_up",
            &no_params(),
        )
        .await
        .expect("action");
    assert!(!report.success, "{report:?}");
    assert!(
        report.steps[0]
            .details
            .as_deref()
            .is_some_and(|d| d.contains("sign-ups are turned off")),
        "{report:?}"
    );
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());
}

#[tokio::test]
async fn supabase_realtime_connection_is_validated_when_realtime_is_enabled() {
    let registry = registry();
    let supabase = lookup(&registry, "supabase");
    let realtime = json!({"features": {"realtime": {"enabled": true}}});
    let settings = || MockResponse::json(200, json!({"disable_signup": false}));
    let server = MockServer::start();
    server.on("GET", "/auth/v1/settings", settings());
    server.on(
        "GET",
        "/realtime/v1/websocket",
        MockResponse::websocket_accepted(),
    );
    let report = engine(&server, &["supabase"])
        .validate(supabase, &supabase_config(&registry, realtime.clone()))
        .await;
    assert!(report.success, "{report:?}");
    let handshake = server
        .requests()
        .into_iter()
        .find(|r| r.path() == "/realtime/v1/websocket")
        .expect("a realtime handshake");
    assert_eq!(handshake.header("upgrade"), Some("websocket"));
    assert_eq!(handshake.header("sec-websocket-version"), Some("13"));
    assert!(report.steps.iter().any(|s| s.name == "Realtime connection"));

    // A key the realtime server refuses is named as the field at fault.
    let server = MockServer::start();
    server.on("GET", "/auth/v1/settings", settings());
    server.on(
        "GET",
        "/realtime/v1/websocket",
        MockResponse::text(403, "Forbidden"),
    );
    let report = engine(&server, &["supabase"])
        .validate(supabase, &supabase_config(&registry, realtime))
        .await;
    assert!(!report.success, "{report:?}");
    let step = report
        .steps
        .iter()
        .find(|s| s.name == "Realtime connection")
        .expect("realtime step");
    assert_eq!(step.field.as_deref(), Some("/anonKey"), "{report:?}");

    // Realtime off: no handshake.
    let server = MockServer::start();
    server.on("GET", "/auth/v1/settings", settings());
    let report = engine(&server, &["supabase"])
        .validate(supabase, &supabase_config(&registry, json!({})))
        .await;
    assert!(report.success, "{report:?}");
    assert_eq!(server.hits("GET", "/realtime/v1/websocket"), 0);
}

#[tokio::test]
async fn firebase_storage_upload_uploads_then_deletes_the_file_and_the_user() {
    let registry = registry();
    let firebase = lookup(&registry, "firebase");
    let sign_up = || {
        MockResponse::json(
            200,
            json!({"idToken": "id-token-1", "refreshToken": "r", "expiresIn": "3600", "localId": "anon1"}),
        )
    };
    let config = firebase_config(&registry);
    let run = async |server: &MockServer| {
        engine(server, &["firebase", "firebase.storage"])
            .run_test_action(firebase, &config, "storage_upload", &no_params())
            .await
            .expect("action")
    };
    let server = MockServer::start();
    server.on("POST", "/v1/accounts:signUp", sign_up());
    server.on(
        "POST",
        "/v0/b/my-app-1.appspot.com/o",
        MockResponse::json(
            200,
            json!({"name": "mobigen_connector_probe/x.json", "bucket": "my-app-1.appspot.com", "size": "31"}),
        ),
    );
    server.on(
        "DELETE",
        "/v0/b/my-app-1.appspot.com/o/*",
        MockResponse::text(204, ""),
    );
    server.on(
        "POST",
        "/v1/accounts:delete",
        MockResponse::json(200, json!({})),
    );
    let report = run(&server).await;
    assert!(report.success, "{report:?}");
    assert_no_secret(&report, &[FIREBASE_KEY]);
    let requests = server.requests();
    let paths: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path()))
        .collect();
    assert_eq!(
        paths.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
        ["POST", "POST", "DELETE", "POST"],
        "{paths:?}"
    );
    let upload = &requests[1];
    assert_eq!(upload.header("authorization"), Some("Firebase id-token-1"));
    assert!(
        upload.target.contains("name=mobigen_connector_probe/"),
        "{}",
        upload.target
    );
    // The object is deleted by its whole name, the folder's slash encoded.
    let delete = &requests[2];
    assert!(
        delete
            .path()
            .starts_with("/v0/b/my-app-1.appspot.com/o/mobigen_connector_probe%2F"),
        "{}",
        delete.path()
    );
    assert_eq!(delete.header("authorization"), Some("Firebase id-token-1"));

    // Storage rules that refuse the upload are named; the user is still deleted.
    let server = MockServer::start();
    server.on("POST", "/v1/accounts:signUp", sign_up());
    server.on(
        "POST",
        "/v0/b/my-app-1.appspot.com/o",
        MockResponse::json(
            403,
            json!({"error": {"code": 403, "message": "Permission denied."}}),
        ),
    );
    server.on(
        "POST",
        "/v1/accounts:delete",
        MockResponse::json(200, json!({})),
    );
    let report = run(&server).await;
    assert!(!report.success, "{report:?}");
    assert!(
        report.steps.iter().any(|s| s
            .details
            .as_deref()
            .is_some_and(|d| d.contains("Storage security rules"))),
        "{report:?}"
    );
    assert_eq!(server.hits("POST", "/v1/accounts:delete"), 1);
}
