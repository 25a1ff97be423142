//! What the connectors' templates render for a config: each config field does what it says.
//! (The toolchain check compiles and bundles the same files; these tests pin the behaviour.)

use std::path::{Path, PathBuf};

use mobigen_connectors::Registry;
use mobigen_connectors::project::generate::{self, ProjectLayout};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The rendered file at `path` (relative to the project) for `id` with `config`.
/// Every file connector `id` renders for `config` in an Expo Router app (path -> contents).
fn files_of(id: &str, config: serde_json::Value) -> std::collections::BTreeMap<String, String> {
    let registry = Registry::builtin().expect("builtin");
    let connector = registry.lookup(id).expect("id");
    let valid = connector.validate_config(&config).expect("valid");
    let features = connector.definition().enabled_features(valid.redacted());
    let layout = ProjectLayout {
        router_dir: Some("app".into()),
        nativewind: false,
    };
    generate::connector_files(connector, &features, valid.redacted(), &layout, &[])
        .into_iter()
        .map(|f| (f.path, f.contents))
        .collect()
}

fn rendered(id: &str, config: serde_json::Value, path: &str) -> String {
    files_of(id, config)
        .remove(path)
        .unwrap_or_else(|| panic!("{id} generates no {path}"))
}

fn onesignal(features: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    let mut config = serde_json::json!({
        "appId": "00000000-0000-4000-8000-00000000f1c5",
        "apiKey": "os_v2_app_sampleonlynotarealkey",
        "features": features
    });
    for (k, v) in extra.as_object().expect("object") {
        config[k] = v.clone();
    }
    config
}

#[test]
fn onesignal_in_app_messaging_off_pauses_in_app_messages() {
    let service = "src/services/push-notifications.ts";
    let off = rendered(
        "onesignal",
        onesignal(
            serde_json::json!({"inAppMessaging": false}),
            serde_json::json!({}),
        ),
        service,
    );
    assert!(
        off.contains("OneSignal.InAppMessages.setPaused(true);"),
        "{off}"
    );
    assert!(!off.contains("setPaused(false)"), "{off}");
    let on = rendered(
        "onesignal",
        onesignal(
            serde_json::json!({"inAppMessaging": true}),
            serde_json::json!({}),
        ),
        service,
    );
    assert!(
        on.contains("OneSignal.InAppMessages.setPaused(false);"),
        "{on}"
    );
}

#[test]
fn onesignal_confirm_alerts_decides_the_settings_fallback_of_the_permission_prompt() {
    let service = "src/services/push-notifications.ts";
    let on = rendered(
        "onesignal",
        onesignal(
            serde_json::json!({"confirmAlerts": true}),
            serde_json::json!({}),
        ),
        service,
    );
    assert!(on.contains("const CONFIRM_ALERTS: boolean = true;"), "{on}");
    assert!(on.contains("requestPermission(CONFIRM_ALERTS)"), "{on}");
    let off = rendered(
        "onesignal",
        onesignal(serde_json::json!({}), serde_json::json!({})),
        service,
    );
    assert!(
        off.contains("const CONFIRM_ALERTS: boolean = false;"),
        "{off}"
    );
}

#[test]
fn onesignal_has_get_user_id_on_every_platform() {
    for service in [
        "src/services/push-notifications.ts",
        "src/services/push-notifications.web.ts",
    ] {
        let text = rendered(
            "onesignal",
            onesignal(serde_json::json!({}), serde_json::json!({})),
            service,
        );
        assert!(
            text.contains("export async function getUserId")
                || text.contains("export function getUserId"),
            "{service}"
        );
    }
}

#[test]
fn onesignal_default_sound_is_sent_with_notifications() {
    let route = "app/api/onesignal/send+api.ts";
    let text = rendered(
        "onesignal",
        onesignal(
            serde_json::json!({}),
            serde_json::json!({"defaultSound": "chime.wav"}),
        ),
        route,
    );
    assert!(
        text.contains(r#"const DEFAULT_SOUND: string | undefined = "chime.wav";"#),
        "{text}"
    );
    assert!(text.contains("ios_sound: DEFAULT_SOUND"), "{text}");
}

#[test]
fn stripe_google_pay_test_environment_follows_the_key_mode_not_the_build() {
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/stripe-full.json"))
            .expect("read"),
    )
    .expect("json");
    let text = rendered("stripe", config, "src/services/stripe.ts");
    assert!(!text.contains("testEnv: __DEV__"), "{text}");
    assert!(
        text.contains(
            "testEnv: (process.env.EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY ?? '').startsWith('pk_test_')"
        ),
        "{text}"
    );
}

fn supabase_full() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/supabase-full.json"))
            .expect("read"),
    )
    .expect("json")
}

#[test]
fn supabase_two_subscribers_to_one_table_get_their_own_channel_topics() {
    let text = rendered(
        "supabase",
        supabase_full(),
        "src/services/supabase-realtime.ts",
    );
    assert!(!text.contains(".channel(`table:${table}`)"), "{text}");
    assert!(text.contains("(tableSubscriptions += 1)"), "{text}");
}

#[test]
fn supabase_uploads_return_a_signed_url_not_a_public_one() {
    let text = rendered(
        "supabase",
        supabase_full(),
        "src/components/supabase/ImageUpload.tsx",
    );
    assert!(!text.contains("getPublicUrl"), "{text}");
    assert!(text.contains("createSignedUrl(path, 3600)"), "{text}");
}

#[test]
fn busy_buttons_inputs_and_images_have_accessible_labels() {
    let form = rendered(
        "supabase",
        supabase_full(),
        "src/components/supabase/FormControls.tsx",
    );
    assert!(
        form.contains("accessibilityLabel={busy ? `${label}: in progress` : label}"),
        "{form}"
    );
    let upload = rendered(
        "supabase",
        supabase_full(),
        "src/components/supabase/ImageUpload.tsx",
    );
    assert!(
        upload.contains(r#"<Image source={{ uri }} accessibilityLabel="The uploaded image""#),
        "{upload}"
    );
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/stripe-full.json"))
            .expect("read"),
    )
    .expect("json");
    let plans = rendered(
        "stripe",
        config.clone(),
        "src/components/stripe/SubscriptionPlans.tsx",
    );
    assert!(plans.contains(r#"accessibilityLabel="Email""#), "{plans}");
    let button = rendered("stripe", config, "src/components/stripe/CheckoutButton.tsx");
    assert!(
        button.contains("accessibilityLabel={busy ? `${label}: processing payment` : label}"),
        "{button}"
    );
}

#[test]
fn revenuecat_amazon_keys_configure_the_amazon_store() {
    let text = rendered(
        "revenuecat",
        serde_json::json!({"apiKey": {"android": "amzn_SampleOnlyNotARealKey"}}),
        "src/services/purchases.ts",
    );
    assert!(
        text.contains("useAmazon: apiKey.startsWith('amzn_')"),
        "{text}"
    );
}

/// The root module's contribution of a connector (imports and start-up statements).
fn root_contribution(id: &str) -> (Vec<String>, Vec<String>) {
    let registry = Registry::builtin().expect("builtin");
    let connector = registry.lookup(id).expect("id");
    let root = connector
        .definition()
        .root
        .clone()
        .unwrap_or_else(|| panic!("{id} adds nothing to the root module"));
    (root.imports, root.startup)
}

#[test]
fn supabase_magic_links_and_email_confirmations_complete_from_the_incoming_url() {
    let client = rendered("supabase", supabase_full(), "src/services/supabase.ts");
    // The link that opened the app, and links opened while it runs.
    assert!(client.contains("Linking.getInitialURL()"), "{client}");
    assert!(
        client.contains("Linking.addEventListener('url'"),
        "{client}"
    );
    // PKCE code, token hash (email templates using {{ .TokenHash }}), implicit-flow tokens.
    assert!(
        client.contains("supabase.auth.exchangeCodeForSession(params.code)"),
        "{client}"
    );
    assert!(
        client.contains("supabase.auth.verifyOtp({ token_hash: params.token_hash, type })"),
        "{client}"
    );
    assert!(client.contains("supabase.auth.setSession({"), "{client}");
    assert!(client.contains("params.error_description"), "{client}");
    // Started by the root module in every app that has the connector.
    let (imports, startup) = root_contribution("supabase");
    assert!(
        imports.contains(&"import { startSupabase } from './services/supabase';".to_string()),
        "{imports:?}"
    );
    assert!(
        startup.contains(&"startSupabase();".to_string()),
        "{startup:?}"
    );
    // The sign-in screen shows a link that failed.
    let screen = rendered(
        "supabase",
        supabase_full(),
        "src/components/supabase/AuthScreen.tsx",
    );
    assert!(screen.contains("onAuthRedirectError("), "{screen}");
    // Without the auth feature there is no link handling (expo-linking is not installed then).
    let minimal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/supabase-minimal.json"))
            .expect("read"),
    )
    .expect("json");
    let plain = rendered("supabase", minimal, "src/services/supabase.ts");
    assert!(!plain.contains("expo-linking"), "{plain}");
    assert!(
        plain.contains("export function startSupabase(): void"),
        "{plain}"
    );
}

fn stripe_full() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/stripe-full.json"))
            .expect("read"),
    )
    .expect("json")
}

#[test]
fn stripe_amounts_of_zero_decimal_currencies_are_not_divided_by_100() {
    let sheet = rendered(
        "stripe",
        stripe_full(),
        "src/components/stripe/PaymentSheet.tsx",
    );
    // Stripe's own table decides the unit, not the locale, and no path divides by 100 blindly.
    assert!(
        sheet.contains("const ZERO_DECIMAL_CURRENCIES = new Set(["),
        "{sheet}"
    );
    for code in ["'jpy'", "'krw'", "'vnd'", "'clp'"] {
        assert!(sheet.contains(code), "{code}: {sheet}");
    }
    assert!(
        sheet.contains("const value = amount / 10 ** digits;"),
        "{sheet}"
    );
    assert!(!sheet.contains("amount / 100"), "{sheet}");
}

#[test]
fn stripe_redirects_come_back_to_the_app_and_are_handed_to_stripe() {
    let service = rendered("stripe", stripe_full(), "src/services/stripe.ts");
    assert!(
        service.contains("export const STRIPE_RETURN_URL = Linking.createURL('stripe-redirect');"),
        "{service}"
    );
    assert!(
        service.contains("returnURL: STRIPE_RETURN_URL,"),
        "{service}"
    );
    let root_component = rendered(
        "stripe",
        stripe_full(),
        "src/components/stripe/StripeRoot.tsx",
    );
    assert!(
        root_component.contains("const { handleURLCallback } = useStripe();"),
        "{root_component}"
    );
    assert!(
        root_component.contains("Linking.addEventListener('url'"),
        "{root_component}"
    );
    assert!(
        root_component.contains("<StripeUrlHandler />"),
        "{root_component}"
    );
}

fn revenuecat_full() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/revenuecat-full.json"))
            .expect("read"),
    )
    .expect("json")
}

#[test]
fn revenuecat_products_of_the_config_are_used() {
    let service = rendered("revenuecat", revenuecat_full(), "src/services/purchases.ts");
    assert!(
        service.contains(r#""id":"pro_monthly""#) || service.contains(r#""id": "pro_monthly""#),
        "{service}"
    );
    assert!(
        service.contains("export const PRODUCTS: readonly ConfiguredProduct[] = ["),
        "{service}"
    );
    assert!(
        service.contains("Purchases.getProducts(subscriptions, PRODUCT_CATEGORY.SUBSCRIPTION)"),
        "{service}"
    );
    let plans = rendered(
        "revenuecat",
        revenuecat_full(),
        "src/components/revenuecat/SubscriptionPlans.tsx",
    );
    assert!(
        plans.contains("productDisplayName(pkg.product.identifier)"),
        "{plans}"
    );
}

#[test]
fn revenuecat_restore_reports_when_nothing_was_restored() {
    let service = rendered("revenuecat", revenuecat_full(), "src/services/purchases.ts");
    assert!(
        service.contains("Promise<{ customerInfo: CustomerInfo; restored: boolean }>"),
        "{service}"
    );
    let button = rendered(
        "revenuecat",
        revenuecat_full(),
        "src/components/revenuecat/RestorePurchases.tsx",
    );
    // onRestored only when something came back; otherwise a message and onNothingRestored.
    let restored_at = button.find("if (restored) {").expect("branch");
    let callback_at = button
        .find("onRestored?.(customerInfo);")
        .expect("callback");
    assert!(restored_at < callback_at, "{button}");
    assert!(button.contains("onNothingRestored?.();"), "{button}");
    assert!(button.contains("Nothing was restored"), "{button}");
    let paywall = rendered(
        "revenuecat",
        revenuecat_full(),
        "src/components/revenuecat/PaywallScreen.tsx",
    );
    assert!(
        paywall.contains("if (hasRestorableAccess(customerInfo)) onPurchased?.(customerInfo);"),
        "{paywall}"
    );
}

#[test]
fn revenuecat_paywalls_can_be_presented_and_say_so_on_the_web() {
    let native = rendered("revenuecat", revenuecat_full(), "src/services/paywalls.ts");
    assert!(native.contains("RevenueCatUI.presentPaywall()"), "{native}");
    assert!(
        native.contains(
            "RevenueCatUI.presentPaywallIfNeeded({ requiredEntitlementIdentifier: entitlementId })"
        ),
        "{native}"
    );
    let web = rendered(
        "revenuecat",
        revenuecat_full(),
        "src/services/paywalls.web.ts",
    );
    assert!(web.contains("not available on the web"), "{web}");
    assert!(
        web.contains("export const paywallsAvailable = false;"),
        "{web}"
    );
}

fn firebase_full() -> serde_json::Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/firebase-full.json"))
            .expect("read"),
    )
    .expect("json")
}

#[test]
fn firebase_apple_and_phone_providers_and_persistence_are_used() {
    let auth = rendered("firebase", firebase_full(), "src/services/firebase-auth.ts");
    assert!(
        auth.contains("export async function signInWithApple()"),
        "{auth}"
    );
    assert!(auth.contains("new OAuthProvider('apple.com')"), "{auth}");
    assert!(
        auth.contains("await signInWithPhoneNumber(getAuth(), phoneNumber)"),
        "{auth}"
    );
    let login = rendered(
        "firebase",
        firebase_full(),
        "src/components/firebase/LoginScreen.tsx",
    );
    assert!(login.contains("label=\"Continue with Apple\""), "{login}");
    assert!(login.contains("label=\"Phone number\""), "{login}");
    let db = rendered("firebase", firebase_full(), "src/services/firebase-db.ts");
    assert!(
        db.contains("const PERSISTENCE_ENABLED: boolean = false;"),
        "{db}"
    );
    assert!(
        db.contains("initializeFirestore(getApp(), { persistence: PERSISTENCE_ENABLED })"),
        "{db}"
    );
    // Without the providers, neither is generated.
    let minimal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/configs/firebase-minimal.json"))
            .expect("read"),
    )
    .expect("json");
    let registry = Registry::builtin().expect("builtin");
    let connector = registry.lookup("firebase").expect("id");
    let valid = connector.validate_config(&minimal).expect("valid");
    let features = connector.definition().enabled_features(valid.redacted());
    assert!(
        !features
            .iter()
            .any(|f| *f == "appleSignIn" || *f == "phoneSignIn")
    );
}

#[test]
fn firebase_web_twins_use_the_js_sdk_with_the_public_web_config() {
    let files = files_of("firebase", firebase_full());
    let file = |path: &str| {
        files
            .get(path)
            .unwrap_or_else(|| panic!("firebase generates no {path}"))
            .as_str()
    };
    // One web app, initialised once from the EXPO_PUBLIC_ variables of the manifest's fields.
    let app = file("src/services/firebase-web.ts");
    assert!(app.contains("from 'firebase/app'"), "{app}");
    assert!(
        app.contains("if (getApps().length > 0) return getApp();"),
        "{app}"
    );
    assert!(
        app.contains("return initializeApp(firebaseWebConfig);"),
        "{app}"
    );
    for (key, env) in [
        ("apiKey", "EXPO_PUBLIC_FIREBASE_API_KEY"),
        ("authDomain", "EXPO_PUBLIC_FIREBASE_AUTH_DOMAIN"),
        ("projectId", "EXPO_PUBLIC_FIREBASE_PROJECT_ID"),
        ("storageBucket", "EXPO_PUBLIC_FIREBASE_STORAGE_BUCKET"),
        (
            "messagingSenderId",
            "EXPO_PUBLIC_FIREBASE_MESSAGING_SENDER_ID",
        ),
        ("appId", "EXPO_PUBLIC_FIREBASE_APP_ID"),
        ("measurementId", "EXPO_PUBLIC_FIREBASE_MEASUREMENT_ID"),
    ] {
        assert!(
            app.contains(&format!("{key}: process.env.{env}")),
            "{key}: {app}"
        );
    }
    // Each twin calls the JS SDK through that app and says it works.
    let twins = [
        (
            "src/services/firebase-auth.web.ts",
            "from 'firebase/auth'",
            "export const authAvailable = true;",
            &[
                "signInWithEmailAndPassword(auth(), email, password)",
                "createUserWithEmailAndPassword(auth(), email, password)",
                "updateProfile(credential.user, { displayName })",
                "sendPasswordResetEmail(auth(), email)",
                "firebaseSignOut(auth())",
                "onAuthStateChanged(auth(), listener)",
                "signInWithPopup(auth(), new GoogleAuthProvider())",
                "new OAuthProvider('apple.com')",
                "signInWithPopup(auth(), provider)",
                "new RecaptchaVerifier(auth(), container, { size: 'invisible' })",
                "signInWithPhoneNumber(auth(), phoneNumber, recaptchaVerifier())",
            ][..],
        ),
        (
            "src/services/firebase-db.web.ts",
            "from 'firebase/firestore'",
            "export const firestoreAvailable = true;",
            &[
                "initializeFirestore(app, {",
                "getDoc(doc(getFirestore(), path))",
                "setDoc(doc(getFirestore(), path)",
                "addDoc(collection(getFirestore(), collectionPath)",
                "deleteDoc(doc(getFirestore(), path))",
                "onSnapshot(",
            ][..],
        ),
        (
            "src/services/firebase-storage.web.ts",
            "from 'firebase/storage'",
            "export const storageAvailable = true;",
            &[
                "await uploadBytes(target, body,",
                "return getDownloadURL(target);",
                "deleteObject(ref(getStorage(firebaseWebApp()), remotePath))",
            ][..],
        ),
        (
            "src/services/analytics.web.ts",
            "from 'firebase/analytics'",
            // True only once the browser is found to support Analytics.
            "analyticsAvailable = true;",
            &[
                "if (!(await isSupported())) return null;",
                "getAnalytics(firebaseWebApp())",
                "logEvent(instance, name, params)",
                "setUserId(instance, userId)",
            ][..],
        ),
    ];
    for (path, import, available, calls) in twins {
        let text = file(path);
        assert!(text.contains(import), "{path}: {text}");
        assert!(
            text.contains("import { firebaseWebApp } from './firebase-web';"),
            "{path}: {text}"
        );
        assert!(text.contains(available), "{path}: {text}");
        for call in calls {
            assert!(text.contains(call), "{path} does not call {call}: {text}");
        }
        // Nothing stands in for the service any more.
        assert!(!text.contains("not available on the web"), "{path}: {text}");
        assert!(!text.contains("@react-native-firebase"), "{path}: {text}");
    }
    assert!(
        file("src/services/analytics.web.ts").contains("export let analyticsAvailable = false;")
    );
    // Firestore's offline copy follows the config (off in the full fixture).
    let db = file("src/services/firebase-db.web.ts");
    assert!(
        db.contains("const PERSISTENCE_ENABLED: boolean = false;"),
        "{db}"
    );
    assert!(
        db.contains("persistentLocalCache({ tabManager: persistentMultipleTabManager() })"),
        "{db}"
    );
    // No config value is written into the web code (Expo inlines the public variables when it
    // bundles), and every variable it reads is a public field's.
    let registry = Registry::builtin().expect("builtin");
    let def = registry.lookup("firebase").expect("id").definition();
    let config = firebase_full();
    for path in [
        "src/services/firebase-web.ts",
        "src/services/firebase-auth.web.ts",
        "src/services/firebase-db.web.ts",
        "src/services/firebase-storage.web.ts",
        "src/services/analytics.web.ts",
    ] {
        let text = file(path);
        for pointer in def.fields.keys() {
            if let Some(value) = config.pointer(pointer).and_then(|v| v.as_str()) {
                assert!(!text.contains(value), "{path} contains {pointer}");
            }
        }
        for read in text.split("process.env.").skip(1) {
            let name: String = read
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let field = def
                .fields
                .values()
                .find(|f| f.env.as_deref() == Some(name.as_str()))
                .unwrap_or_else(|| panic!("{path} reads {name}, no field's variable"));
            assert_eq!(
                field.sensitivity,
                mobigen_connectors::catalog::definition::Sensitivity::Public,
                "{path} reads {name}"
            );
        }
    }
}

#[test]
fn firebase_web_firestore_keeps_an_offline_copy_when_persistence_is_on() {
    let mut config = firebase_full();
    config["features"]["firestore"]["persistenceEnabled"] = serde_json::json!(true);
    let db = files_of("firebase", config)
        .remove("src/services/firebase-db.web.ts")
        .expect("db");
    assert!(
        db.contains("const PERSISTENCE_ENABLED: boolean = true;"),
        "{db}"
    );
}

#[test]
fn firebase_web_auth_has_only_the_configured_providers() {
    let mut config = firebase_full();
    config["features"]["auth"]["providers"] = serde_json::json!(["email", "apple"]);
    let auth = files_of("firebase", config)
        .remove("src/services/firebase-auth.web.ts")
        .expect("auth");
    assert!(auth.contains("new OAuthProvider('apple.com')"), "{auth}");
    // signInWithPopup is imported once, for Apple alone.
    assert_eq!(auth.matches("  signInWithPopup,\n").count(), 1, "{auth}");
    assert!(!auth.contains("GoogleAuthProvider"), "{auth}");
    assert!(!auth.contains("RecaptchaVerifier"), "{auth}");
}

#[test]
fn firebase_profile_shows_a_loading_state_before_the_first_auth_callback() {
    let profile = rendered(
        "firebase",
        firebase_full(),
        "src/components/firebase/ProfileScreen.tsx",
    );
    assert!(
        profile.contains("useState<User | null | undefined>(undefined)"),
        "{profile}"
    );
    let loading = profile
        .find("if (user === undefined)")
        .expect("loading branch");
    let signed_out = profile
        .find("You are not signed in.")
        .expect("signed-out text");
    assert!(loading < signed_out, "{profile}");
    assert!(
        profile.contains("<ActivityIndicator accessibilityLabel=\"Loading your profile\" />"),
        "{profile}"
    );
}
