//! Server routes come with the steps that make them reachable: in an app without Expo Router
//! nothing serves `server/api/…+api.ts`, so the plan says exactly how to mount them; every app
//! is told how to deploy its API routes and point native builds at their origin
//! (`EXPO_PUBLIC_API_BASE_URL`, which the connector's `apiBaseUrl` field writes to `.env`).

use std::path::{Path, PathBuf};

use mobigen_connectors::Registry;
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::{Plan, PlanOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            if entry.file_name() != "node_modules" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn app(from: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join(from), dir.path());
    dir
}

fn add(dir: &Path, id: &str, config: serde_json::Value) -> Plan {
    let registry = Registry::builtin().expect("builtin");
    let valid = registry
        .lookup(id)
        .expect("id")
        .validate_config(&config)
        .expect("valid");
    ops::add(&registry, dir, &valid, PlanOptions::default(), Mode::Apply).expect("add")
}

fn stripe_config() -> serde_json::Value {
    serde_json::json!({
        "publishableKey": "pk_test_51SampleOnlyNotARealKey00000000",
        "secretKey": "sk_test_51SampleOnlyNotARealKey00000000",
        "subscriptionEnabled": true
    })
}

#[test]
fn an_app_without_expo_router_is_told_how_to_serve_its_server_routes() {
    let app = app("examples/sample-app");
    let plan = add(app.path(), "stripe", stripe_config());
    let step = plan
        .manual_steps
        .iter()
        .find(|s| s.contains("server/api/stripe/payment-intent+api.ts"))
        .unwrap_or_else(|| panic!("no step names the server routes: {:?}", plan.manual_steps));
    assert!(
        step.contains("server/api/stripe/subscription+api.ts"),
        "{step}"
    );
    assert!(step.contains("does not use Expo Router"), "{step}");
    assert!(step.contains("POST(request: Request)"), "{step}");
    assert!(step.contains("/api/stripe/payment-intent"), "{step}");
    assert!(step.contains("EXPO_PUBLIC_API_BASE_URL"), "{step}");
    assert!(step.contains("STRIPE_SECRET_KEY"), "{step}");
    // No webhook secret in this config, so no webhook route and no STRIPE_WEBHOOK_SECRET.
    assert!(!step.contains("STRIPE_WEBHOOK_SECRET"), "{step}");
    assert!(step.contains("API_SERVER_TOKEN"), "{step}");
    // The routes' shared caller check goes with them.
    assert!(step.contains("src/server/stripe-auth.ts"), "{step}");
}

#[test]
fn an_expo_router_app_is_told_how_to_deploy_its_api_routes_and_set_their_origin() {
    let app = app("tests/fixtures/expo-app");
    let plan = add(
        app.path(),
        "onesignal",
        serde_json::json!({
            "appId": "00000000-0000-4000-8000-00000000f1c5",
            "apiKey": "os_v2_app_sampleonlynotarealkey"
        }),
    );
    let step = plan
        .manual_steps
        .iter()
        .find(|s| s.contains("app/api/onesignal/send+api.ts"))
        .unwrap_or_else(|| panic!("no step names the API route: {:?}", plan.manual_steps));
    assert!(step.contains("eas deploy"), "{step}");
    assert!(step.contains("EXPO_PUBLIC_API_BASE_URL"), "{step}");
    assert!(step.contains("ONESIGNAL_API_KEY"), "{step}");
    assert!(step.contains("ONESIGNAL_ADMIN_TOKEN"), "{step}");
}

#[test]
fn a_connector_without_server_routes_gets_no_server_step() {
    let app = app("examples/sample-app");
    let plan = add(
        app.path(),
        "revenuecat",
        serde_json::from_str(
            &std::fs::read_to_string(root().join("examples/sample-configs/revenuecat.json"))
                .expect("read"),
        )
        .expect("json"),
    );
    assert!(
        plan.manual_steps.iter().all(|s| !s.contains("+api.ts")),
        "{:?}",
        plan.manual_steps
    );
}

#[test]
fn the_api_base_url_field_sets_the_origin_native_builds_call() {
    let app = app("examples/sample-app");
    let mut config = stripe_config();
    config["apiBaseUrl"] = "https://api.example.com".into();
    add(app.path(), "stripe", config);
    let env = std::fs::read_to_string(app.path().join(".env")).expect(".env");
    assert!(
        env.contains("EXPO_PUBLIC_API_BASE_URL=https://api.example.com"),
        "{env}"
    );
}
