//! Config validation of the built-in connectors: defaults, every violation at once, and the
//! cross-field rules, each with a passing and a failing case. No message may contain a value.

use base64::Engine as _;
use mobigen_connectors::catalog::definition::Severity;
use mobigen_connectors::{ConfigError, Registry, ValidConfig};
use serde_json::{Value, json};

fn validate(id: &str, config: Value) -> Result<ValidConfig, ConfigError> {
    let registry = Registry::builtin().expect("builtin");
    registry.lookup(id).expect(id).validate_config(&config)
}

fn pointers(err: &ConfigError) -> Vec<&str> {
    err.issues.iter().map(|i| i.pointer.as_str()).collect()
}

const PK_TEST: &str = "pk_test_51HxAbCdEfGh";
const SK_TEST: &str = "sk_test_51HxSecretValue";
const SK_LIVE: &str = "sk_live_51HxSecretValue";

#[test]
fn stripe_defaults_are_filled_in() {
    let valid = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST}),
    )
    .expect("valid");
    assert_eq!(valid.values()["currency"], "usd");
    assert_eq!(valid.values()["paymentMethods"], json!(["card"]));
    assert_eq!(valid.values()["subscriptionEnabled"], false);
    assert!(valid.warnings().is_empty());
}

#[test]
fn stripe_publishable_key_as_secret_key_names_secret_key() {
    let err = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": PK_TEST}),
    )
    .expect_err("pk as sk");
    assert_eq!(pointers(&err), ["/secretKey"]);
    let text = err.to_string();
    assert!(text.contains("/secretKey"), "{text}");
    assert!(text.contains("sk_test_"), "hint missing: {text}");
    assert!(!text.contains(PK_TEST), "value leaked: {text}");
}

#[test]
fn stripe_keys_must_be_in_the_same_mode() {
    let err = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_LIVE}),
    )
    .expect_err("mixed modes");
    assert_eq!(pointers(&err), ["/secretKey"]);
    assert!(err.issues[0].message.contains("different modes"));
    assert!(!err.to_string().contains(SK_LIVE));
    let live = validate(
        "stripe",
        json!({"publishableKey": "pk_live_51HxAbC", "secretKey": SK_LIVE}),
    );
    assert!(live.is_ok());
}

#[test]
fn stripe_restricted_keys_are_accepted_with_a_warning() {
    let valid = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": "rk_test_51HxRestricted"}),
    )
    .expect("rk_ is valid");
    assert_eq!(valid.warnings().len(), 1);
    assert_eq!(valid.warnings()[0].pointer, "/secretKey");
    assert_eq!(valid.warnings()[0].severity, Severity::Warning);
}

#[test]
fn every_violation_is_reported_at_once() {
    let err = validate(
        "stripe",
        json!({
            "secretKey": "nope",
            "currency": "US Dollars",
            "paymentMethods": ["card", "bitcoin"],
            "secretkey2": 1
        }),
    )
    .expect_err("many problems");
    let mut found = pointers(&err);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "",
            "/currency",
            "/paymentMethods/1",
            "/publishableKey",
            "/secretKey"
        ]
    );
    let missing = err
        .issues
        .iter()
        .find(|i| i.pointer == "/publishableKey")
        .expect("required");
    assert_eq!(missing.message, "is required but missing");
    assert!(
        missing
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains("pk_test_"))
    );
    let unknown = err
        .issues
        .iter()
        .find(|i| i.pointer.is_empty())
        .expect("extra");
    assert!(unknown.message.contains("`secretkey2`"));
    assert!(
        unknown
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains("did you mean `secretKey`"))
    );
}

fn jwt(claims: Value) -> String {
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes()),
        b64(b"signature")
    )
}

const SUPABASE_URL: &str = "https://abcdefghijklmnopqrst.supabase.co";

#[test]
fn supabase_service_role_jwt_is_refused_as_the_public_key() {
    let service_role = jwt(json!({"role": "service_role", "iss": "supabase"}));
    let err = validate(
        "supabase",
        json!({"projectUrl": SUPABASE_URL, "anonKey": service_role}),
    )
    .expect_err("service_role as anon");
    assert_eq!(pointers(&err), ["/anonKey"]);
    assert!(err.issues[0].message.contains("service_role"));
    assert!(!err.to_string().contains(&service_role));

    let anon = jwt(json!({"role": "anon", "iss": "supabase"}));
    let valid = validate(
        "supabase",
        json!({"projectUrl": SUPABASE_URL, "anonKey": anon, "serviceRoleKey": service_role}),
    )
    .expect("anon key is fine");
    assert_eq!(valid.values()["features"]["auth"]["enabled"], true);
    assert_eq!(valid.values()["features"]["database"]["tables"], json!([]));
}

#[test]
fn supabase_new_key_formats() {
    assert!(
        validate(
            "supabase",
            json!({"projectUrl": SUPABASE_URL, "anonKey": "sb_publishable_abc123"})
        )
        .is_ok()
    );
    let err = validate(
        "supabase",
        json!({"projectUrl": SUPABASE_URL, "anonKey": "sb_secret_abc123"}),
    )
    .expect_err("secret key as public key");
    assert_eq!(pointers(&err), ["/anonKey"]);
    let err = validate(
        "supabase",
        json!({"projectUrl": "http://abcdefghijklmnopqrst.supabase.co", "anonKey": "sb_publishable_abc"}),
    )
    .expect_err("http");
    assert_eq!(pointers(&err), ["/projectUrl"]);
}

#[test]
fn revenuecat_test_store_keys_are_flagged() {
    let valid = validate("revenuecat", json!({"apiKey": {"ios": "test_AbCdEf123"}}))
        .expect("accepted with a warning");
    assert_eq!(valid.warnings().len(), 1);
    assert_eq!(valid.warnings()[0].pointer, "/apiKey/ios");
    assert!(valid.warnings()[0].message.contains("Test Store"));

    let valid = validate(
        "revenuecat",
        json!({"apiKey": {"ios": "appl_AbCdEf123", "android": "goog_AbCdEf123"}}),
    )
    .expect("store keys");
    assert!(valid.warnings().is_empty());

    let err = validate("revenuecat", json!({"apiKey": {"ios": "goog_AbCdEf123"}}))
        .expect_err("play key as ios key");
    assert_eq!(pointers(&err), ["/apiKey/ios"]);
    let err = validate("revenuecat", json!({"apiKey": {}})).expect_err("no key");
    assert_eq!(pointers(&err), ["/apiKey"]);
}

const APP_ID: &str = "5eb5a37e-b458-11e3-ac11-000c2940e62c";

#[test]
fn onesignal_keys() {
    let valid = validate(
        "onesignal",
        json!({"appId": APP_ID, "apiKey": "os_v2_app_abcdefghijklmnop"}),
    )
    .expect("app key");
    assert_eq!(valid.values()["mode"], "development");
    let err = validate(
        "onesignal",
        json!({"appId": APP_ID, "apiKey": "os_v2_org_abcdefghijklmnop"}),
    )
    .expect_err("org key");
    assert_eq!(pointers(&err), ["/apiKey"]);
    assert!(err.issues[0].message.contains("organization key"));
    let err = validate("onesignal", json!({"appId": "not-a-uuid"})).expect_err("bad id");
    assert_eq!(pointers(&err), ["/appId"]);
}

fn firebase_web_config() -> Value {
    json!({
        "apiKey": "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "authDomain": "demo-app.firebaseapp.com",
        "projectId": "demo-app",
        "storageBucket": "demo-app.firebasestorage.app",
        "messagingSenderId": "1234567890",
        "appId": "1:1234567890:web:abc123def456"
    })
}

#[test]
fn firebase_web_config_and_features() {
    let mut config = firebase_web_config();
    config["features"] =
        json!({"firestore": {"enabled": true}, "auth": {"providers": ["email", "google"]}});
    let valid = validate("firebase", config.clone()).expect("valid");
    let registry = Registry::builtin().expect("builtin");
    let features = registry
        .lookup("firebase")
        .expect("firebase")
        .definition()
        .enabled_features(valid.values());
    assert_eq!(features, ["auth", "googleSignIn", "firestore"]);

    let mut bad = config;
    bad["apiKey"] = json!("AIza-too-short");
    bad["appId"] = json!("1:123:windows:abc");
    let err = validate("firebase", bad).expect_err("bad");
    let errors: Vec<&str> = err
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.pointer.as_str())
        .collect();
    assert_eq!(errors, ["/apiKey", "/appId"]);
}

/// Found by the fuzz target `config`: a `googleServicesJson` that is not JSON was written
/// verbatim to google-services.json, a file that does not parse (I1). Now it is refused.
#[test]
fn firebase_config_files_written_as_json_must_be_json() {
    let mut config = firebase_web_config();
    config["googleServicesJson"] = json!("{\"project_info\": {\"project_id\": \"demo-app\"}}");
    config["googleServiceInfoPlist"] = json!("<plist version=\"1.0\"><dict/></plist>");
    validate("firebase", config.clone()).expect("valid JSON is accepted");
    let mut bad = config;
    bad["googleServicesJson"] = json!("{\"project_info\": {\"project_id\": \"demo-app\"}");
    let err = validate("firebase", bad).expect_err("not JSON");
    assert_eq!(pointers(&err), ["/googleServicesJson"]);
    let message = err.to_string();
    assert!(message.contains("is not valid JSON"), "{message}");
    assert!(message.contains("google-services.json"), "{message}");
    assert!(
        !message.contains("demo-app"),
        "no value in the message: {message}"
    );
}

#[test]
fn debug_output_of_a_valid_config_redacts_secrets() {
    let valid = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST, "webhookSecret": "whsec_abcDEF123"}),
    )
    .expect("valid");
    let debug = format!("{valid:?}");
    assert!(!debug.contains(SK_TEST), "{debug}");
    assert!(!debug.contains("whsec_abcDEF123"), "{debug}");
    assert!(
        debug.contains(PK_TEST),
        "public values stay visible: {debug}"
    );
    assert_eq!(valid.redacted()["secretKey"], "[redacted]");
}

#[test]
fn stripe_currency_and_country_are_normalised_not_refused() {
    // The PRD's own example config says "USD"; Stripe wants lowercase currencies and Apple Pay
    // an upper-case country. Both are normalised by the fields' `normalize` in the manifest.
    let valid = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST, "currency": "USD", "merchantCountryCode": "gb"}),
    )
    .expect("PRD config accepted");
    assert_eq!(valid.values()["currency"], "usd");
    assert_eq!(valid.values()["merchantCountryCode"], "GB");
    // Normalising does not make a wrong value right.
    let err = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST, "currency": "DOLLARS"}),
    )
    .expect_err("not a currency code");
    assert_eq!(pointers(&err), ["/currency"]);
}

#[test]
fn revenuecat_offline_mode_from_the_prd_is_accepted() {
    let valid = validate(
        "revenuecat",
        json!({"apiKey": {"ios": "appl_SampleKey"}, "offlineMode": true}),
    )
    .expect("PRD field accepted");
    assert_eq!(valid.values()["offlineMode"], true);
    let registry = Registry::builtin().expect("builtin");
    let def = registry.lookup("revenuecat").expect("rc").definition();
    assert!(
        def.enabled_features(valid.values())
            .contains(&"offlineMode")
    );
}

#[test]
fn an_oversized_key_is_refused_naming_the_field_not_the_value() {
    // Issue 15 item 9: a 20 MB publishable key went into .env and the store.
    let huge = format!("pk_test_{}", "A".repeat(20 * 1024 * 1024));
    let err = validate(
        "stripe",
        json!({"publishableKey": huge, "secretKey": SK_TEST}),
    )
    .expect_err("oversized key");
    assert_eq!(pointers(&err), ["/publishableKey"]);
    let text = err.to_string();
    assert!(
        text.len() < 2_000,
        "the message is short: {} bytes",
        text.len()
    );
    assert!(!text.contains("AAAAAAAAAAAAAAAA"), "value leaked");
    let secret = format!("sk_test_{}", "B".repeat(5000));
    let err = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": secret}),
    )
    .expect_err("oversized secret");
    assert_eq!(pointers(&err), ["/secretKey"]);
    assert!(!err.to_string().contains("BBBBBBBB"), "value leaked");
}

#[test]
fn apple_pay_requires_a_merchant_identifier() {
    // Without one, every iOS payment throws in initPaymentSheet.
    let err = validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST, "paymentMethods": ["card", "apple_pay"]}),
    )
    .expect_err("apple pay without merchant id");
    assert_eq!(pointers(&err), ["/merchantIdentifier"]);
    assert!(err.to_string().contains("Apple Pay"), "{err}");
    validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST, "paymentMethods": ["card", "apple_pay"], "merchantIdentifier": "merchant.com.example.app"}),
    )
    .expect("with a merchant id");
    validate(
        "stripe",
        json!({"publishableKey": PK_TEST, "secretKey": SK_TEST, "paymentMethods": ["card"]}),
    )
    .expect("no apple pay, no merchant id needed");
}

#[test]
fn firebase_without_native_config_files_is_accepted_with_a_warning_per_platform() {
    let valid = validate(
        "firebase",
        json!({
            "apiKey": "AIzaSyFixtureOnlyNotARealKey00000000000",
            "authDomain": "mobigen-fixture.firebaseapp.com",
            "projectId": "mobigen-fixture",
            "storageBucket": "mobigen-fixture.firebasestorage.app",
            "messagingSenderId": "123456789012",
            "appId": "1:123456789012:web:0123456789abcdef"
        }),
    )
    .expect("accepted");
    let warned: Vec<&str> = valid
        .warnings()
        .iter()
        .map(|w| w.pointer.as_str())
        .collect();
    assert_eq!(warned, ["/googleServicesJson", "/googleServiceInfoPlist"]);
    assert!(
        valid
            .warnings()
            .iter()
            .all(|w| w.severity == Severity::Warning)
    );
    assert!(
        valid.warnings()[0].message.contains("Android"),
        "{:?}",
        valid.warnings()
    );
}

#[test]
fn onesignal_app_id_format_is_checked_without_an_api_key() {
    // No API key: the App ID is still checked (a UUID), offline, and a pasted upper-case UUID is
    // taken as OneSignal shows it in lower case.
    let valid = validate(
        "onesignal",
        json!({"appId": "0A1B2C3D-0000-4000-8000-00000000F1C5"}),
    )
    .expect("valid");
    assert_eq!(
        valid.values()["appId"],
        "0a1b2c3d-0000-4000-8000-00000000f1c5"
    );
    for bad in [
        "not-a-uuid",
        "0a1b2c3d00004000800000000000f1c5",
        "0a1b2c3d-0000-4000-8000-00000000f1c",
    ] {
        let err = validate("onesignal", json!({"appId": bad})).expect_err(bad);
        assert_eq!(pointers(&err), ["/appId"], "{bad}");
        assert!(!err.to_string().contains(bad), "{err}");
    }
}
