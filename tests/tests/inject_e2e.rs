//! End to end on copies of the sample app: add and remove through `ops`, holding the invariants
//! I2-I7 of DESIGN.md byte for byte.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mobigen_connectors::project::ops::{self, Mode, OpError};
use mobigen_connectors::project::plan::{Plan, PlanError, PlanKind, PlanOptions};
use mobigen_connectors::{Registry, ValidConfig};

const ALL: [&str; 5] = ["firebase", "onesignal", "revenuecat", "stripe", "supabase"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn registry() -> Registry {
    Registry::builtin().expect("builtin")
}

/// Every file under `dir` (relative path -> bytes).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(base)
                .expect("prefix")
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A fresh copy of examples/sample-app.
fn sample_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("examples/sample-app"), dir.path());
    dir
}

fn config(registry: &Registry, id: &str) -> ValidConfig {
    let path = root().join(format!("examples/sample-configs/{id}.json"));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    registry
        .lookup(id)
        .expect("id")
        .validate_config(&value)
        .expect("valid")
}

fn add(registry: &Registry, dir: &Path, id: &str) -> Plan {
    ops::add(
        registry,
        dir,
        &config(registry, id),
        PlanOptions::default(),
        Mode::Apply,
    )
    .unwrap_or_else(|e| panic!("add {id}: {e}"))
}

fn remove(registry: &Registry, dir: &Path, id: &str) {
    ops::remove(registry, dir, id, PlanOptions::default(), Mode::Apply)
        .unwrap_or_else(|e| panic!("remove {id}: {e}"));
}

fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(
        files
            .get(path)
            .unwrap_or_else(|| panic!("{path} missing"))
            .clone(),
    )
    .expect("utf-8")
}

#[test]
fn adding_stripe_wires_the_sample_app() {
    let registry = registry();
    let app = sample_app();
    let plan = add(&registry, app.path(), "stripe");
    assert_eq!(plan.kind, PlanKind::Add);
    let after = files(app.path());
    let index = text(&after, "index.ts");
    assert!(
        index.contains("import { withConnectors } from './src/connectors';"),
        "{index}"
    );
    assert!(
        index.contains("registerRootComponent(withConnectors(App));"),
        "{index}"
    );
    assert_eq!(
        after["App.tsx"],
        std::fs::read(root().join("examples/sample-app/App.tsx")).expect("read")
    );
    let module = text(&after, "src/connectors.tsx");
    assert!(module.contains("import { StripeRoot } from './components/stripe/StripeRoot';"));
    assert!(module.contains("<StripeRoot>"));
    // The provider lives in a platform pair: Stripe's SDK only on native, a pass-through on web.
    assert!(
        text(&after, "src/components/stripe/StripeRoot.tsx")
            .contains("publishableKey={process.env.EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY ?? ''}")
    );
    assert!(
        !text(&after, "src/components/stripe/StripeRoot.web.tsx")
            .contains("@stripe/stripe-react-native")
    );
    assert!(text(&after, "package.json").contains("\"@stripe/stripe-react-native\": \"0.64.0\""));
    assert!(text(&after, "app.json").contains("@stripe/stripe-react-native"));
    assert!(after.contains_key("src/services/stripe.ts"));
    assert!(after.contains_key("server/api/stripe/payment-intent+api.ts"));
    assert!(text(&after, ".env").contains("EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_"));
    assert!(text(&after, ".env.local").contains("STRIPE_SECRET_KEY=sk_test_"));
    assert!(text(&after, ".gitignore").contains(".env*.local"));
    assert!(after.contains_key(".mobigen/connectors.lock.json"));
}

/// I6: no secret value of any connector's sample config is in any file but .env.local, and
/// only secrets that generated code reads (those with an `env` name) are there.
#[test]
fn secrets_reach_only_env_local_for_all_five() {
    let registry = registry();
    let app = sample_app();
    for id in ALL {
        add(&registry, app.path(), id);
    }
    let after = files(app.path());
    for id in ALL {
        let connector = registry.lookup(id).expect("id");
        let values = config(&registry, id).expose().clone();
        for pointer in connector.definition().secret_fields() {
            let Some(secret) = values.pointer(pointer).and_then(|v| v.as_str()) else {
                continue;
            };
            let read_by_code = connector.definition().fields[pointer].env.is_some();
            for (path, bytes) in &after {
                let found = String::from_utf8_lossy(bytes).contains(secret);
                assert_eq!(
                    found,
                    path == ".env.local" && read_by_code,
                    "{id}{pointer} in {path}: {found}"
                );
            }
        }
    }
    let env = text(&after, ".env");
    assert!(
        env.lines()
            .filter(|l| l.contains('='))
            .all(|l| l.starts_with("EXPO_PUBLIC_")),
        "{env}"
    );
}

/// I2: adding the same connector with the same config twice changes nothing the second time.
#[test]
fn adding_twice_changes_nothing_the_second_time() {
    let registry = registry();
    for id in ALL {
        let app = sample_app();
        add(&registry, app.path(), id);
        let once = files(app.path());
        let plan = add(&registry, app.path(), id);
        assert_eq!(plan.kind, PlanKind::UpToDate, "{id}");
        assert!(plan.changes.is_empty(), "{id}");
        assert_eq!(files(app.path()), once, "{id}");
    }
}

/// I3: removing right after adding restores every file byte for byte.
#[test]
fn remove_after_add_restores_every_byte() {
    let registry = registry();
    for id in ALL {
        let app = sample_app();
        let before = files(app.path());
        add(&registry, app.path(), id);
        remove(&registry, app.path(), id);
        assert_eq!(files(app.path()), before, "{id}");
    }
}

/// I4: add A, add B, remove A == add B alone, for every ordered pair.
#[test]
fn pairs_are_independent() {
    let registry = registry();
    let mut alone = BTreeMap::new();
    for id in ALL {
        let app = sample_app();
        add(&registry, app.path(), id);
        alone.insert(id, files(app.path()));
    }
    for a in ALL {
        for b in ALL {
            if a == b {
                continue;
            }
            let app = sample_app();
            add(&registry, app.path(), a);
            add(&registry, app.path(), b);
            remove(&registry, app.path(), a);
            let got = files(app.path());
            let want = &alone[b];
            for (path, bytes) in want {
                assert_eq!(
                    got.get(path),
                    Some(bytes),
                    "add {a}, add {b}, remove {a}: {path} differs"
                );
            }
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "add {a}, add {b}, remove {a}"
            );
        }
    }
}

/// I5: the result depends on the set, not the order.
#[test]
fn all_five_in_any_order_give_the_same_bytes_and_remove_cleanly() {
    let registry = registry();
    let forward = sample_app();
    let before = files(forward.path());
    for id in ALL {
        add(&registry, forward.path(), id);
    }
    let backward = sample_app();
    for id in ALL.iter().rev() {
        add(&registry, backward.path(), id);
    }
    assert_eq!(files(forward.path()), files(backward.path()));
    for id in [ALL[2], ALL[0], ALL[4], ALL[1], ALL[3]] {
        remove(&registry, forward.path(), id);
    }
    assert_eq!(files(forward.path()), before);
}

#[test]
fn dry_run_writes_nothing_and_shows_a_diff_without_secrets() {
    let registry = registry();
    let app = sample_app();
    let before = files(app.path());
    let plan = ops::add(
        &registry,
        app.path(),
        &config(&registry, "stripe"),
        PlanOptions::default(),
        Mode::DryRun,
    )
    .expect("plan");
    assert_eq!(files(app.path()), before);
    let diff = plan.unified_diff(false);
    assert!(diff.contains("+++ b/index.ts"), "{diff}");
    assert!(
        diff.contains("+registerRootComponent(withConnectors(App));"),
        "{diff}"
    );
    assert!(diff.contains("+STRIPE_SECRET_KEY=[redacted]"), "{diff}");
    assert!(!diff.contains("sk_test_51Sample"), "{diff}");
}

#[test]
fn no_secret_env_writes_no_secret_anywhere() {
    let registry = registry();
    let app = sample_app();
    let options = PlanOptions {
        write_secret_env: false,
        force: false,
    };
    ops::add(
        &registry,
        app.path(),
        &config(&registry, "stripe"),
        options,
        Mode::Apply,
    )
    .expect("add");
    let after = files(app.path());
    assert!(!after.contains_key(".env.local"));
    for (path, bytes) in &after {
        assert!(
            !String::from_utf8_lossy(bytes).contains("sk_test_51Sample"),
            "{path}"
        );
    }
}

fn assert_unchanged_after_error(dir: &Path, before: &BTreeMap<String, Vec<u8>>, err: &OpError) {
    assert_eq!(&files(dir), before, "files changed after: {err}");
}

#[test]
fn a_root_file_that_does_not_parse_is_refused_and_nothing_changes() {
    let registry = registry();
    let app = sample_app();
    std::fs::write(
        app.path().join("index.ts"),
        "import App from './App';\nregisterRootComponent(App;\n",
    )
    .expect("w");
    let before = files(app.path());
    let err = ops::add(
        &registry,
        app.path(),
        &config(&registry, "stripe"),
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("broken root");
    let message = err.to_string();
    assert!(message.contains("index.ts:2:"), "{message}");
    assert_unchanged_after_error(app.path(), &before, &err);
}

#[test]
fn malformed_json_and_missing_projects_are_refused() {
    let registry = registry();
    let app = sample_app();
    std::fs::write(app.path().join("app.json"), "{ \"expo\": { \"name\": } }").expect("w");
    let before = files(app.path());
    let err = ops::add(
        &registry,
        app.path(),
        &config(&registry, "stripe"),
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("broken app.json");
    assert!(err.to_string().contains("app.json:1:"), "{err}");
    assert_unchanged_after_error(app.path(), &before, &err);

    let empty = tempfile::tempdir().expect("tempdir");
    let err = ops::add(
        &registry,
        empty.path(),
        &config(&registry, "stripe"),
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("no project");
    assert!(err.to_string().contains("no package.json"), "{err}");
    assert!(files(empty.path()).is_empty());
}

#[test]
fn removing_a_connector_that_is_not_enabled_is_a_clear_error() {
    let registry = registry();
    let app = sample_app();
    add(&registry, app.path(), "stripe");
    let err = ops::remove(
        &registry,
        app.path(),
        "supabase",
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("not enabled");
    assert!(matches!(err, OpError::Plan(PlanError::NotEnabled { .. })));
    assert_eq!(
        err.to_string(),
        "connector `supabase` is not enabled in this project; enabled: stripe"
    );
}

#[test]
fn an_edited_generated_file_is_a_conflict_unless_forced() {
    let registry = registry();
    let app = sample_app();
    add(&registry, app.path(), "stripe");
    let service = app.path().join("src/services/stripe.ts");
    let mut edited = std::fs::read_to_string(&service).expect("read");
    edited.push_str("// my change\n");
    std::fs::write(&service, &edited).expect("w");
    let before = files(app.path());
    let err = ops::remove(
        &registry,
        app.path(),
        "stripe",
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("conflict");
    assert!(
        err.to_string()
            .contains("src/services/stripe.ts: this generated file was edited"),
        "{err}"
    );
    assert_unchanged_after_error(app.path(), &before, &err);
    let status = ops::status(&registry, app.path()).expect("status");
    assert!(
        status
            .problems
            .iter()
            .any(|p| p.starts_with("src/services/stripe.ts: edited")),
        "{:?}",
        status.problems
    );
    let forced = PlanOptions {
        write_secret_env: true,
        force: true,
    };
    ops::remove(&registry, app.path(), "stripe", forced, Mode::Apply).expect("forced remove");
    assert!(!service.exists());
}

#[test]
fn a_changed_config_updates_in_place() {
    let registry = registry();
    let app = sample_app();
    add(&registry, app.path(), "stripe");
    let mut value = config(&registry, "stripe").expose().clone();
    value["subscriptionEnabled"] = serde_json::json!(false);
    value["paymentMethods"] = serde_json::json!(["card"]);
    let valid = registry
        .lookup("stripe")
        .expect("stripe")
        .validate_config(&value)
        .expect("valid");
    let plan = ops::add(
        &registry,
        app.path(),
        &valid,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("update");
    assert_eq!(plan.kind, PlanKind::Update);
    let app_json = std::fs::read_to_string(app.path().join("app.json")).expect("read");
    assert!(
        app_json.contains("\"enableGooglePay\": false"),
        "{app_json}"
    );
}

#[test]
fn status_lists_enabled_connectors() {
    let registry = registry();
    let app = sample_app();
    assert!(
        ops::status(&registry, app.path())
            .expect("status")
            .connectors
            .is_empty()
    );
    add(&registry, app.path(), "supabase");
    add(&registry, app.path(), "onesignal");
    let status = ops::status(&registry, app.path()).expect("status");
    let ids: Vec<&str> = status.connectors.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["onesignal", "supabase"]);
    assert_eq!(status.root_file.as_deref(), Some("index.ts"));
    assert!(status.problems.is_empty(), "{:?}", status.problems);
}

/// A copy of the sample app with `tests/fixtures/app-config/FIXTURE` as its `TARGET`.
fn with_app_config(fixture: &str, target: &str) -> tempfile::TempDir {
    let app = sample_app();
    std::fs::copy(
        root().join("tests/fixtures/app-config").join(fixture),
        app.path().join(target),
    )
    .expect("copy app config");
    app
}

/// The plan's manual steps that name `file`.
fn steps_naming<'p>(plan: &'p Plan, file: &str) -> Vec<&'p str> {
    plan.manual_steps
        .iter()
        .map(String::as_str)
        .filter(|step| step.contains(file))
        .collect()
}

/// Turns the app into an Expo Router app with a root layout (server routes need one).
fn make_router_app(dir: &Path) {
    let package = std::fs::read_to_string(dir.join("package.json")).expect("read");
    std::fs::write(
        dir.join("package.json"),
        package.replace("\"main\": \"index.ts\"", "\"main\": \"expo-router/entry\""),
    )
    .expect("w");
    std::fs::create_dir_all(dir.join("app")).expect("mkdir");
    std::fs::write(
        dir.join("app/_layout.tsx"),
        "import { Stack } from 'expo-router';\n\nexport default function RootLayout() {\n  return <Stack />;\n}\n",
    )
    .expect("w");
}

#[test]
fn a_dynamic_app_config_that_spreads_the_static_config_gets_app_json_edited() {
    let registry = registry();
    let app = with_app_config("spreads-static.ts", "app.config.ts");
    let before = files(app.path());
    let plan = add(&registry, app.path(), "onesignal");
    // (OneSignal's other step, how to serve its server route, is not about the config.)
    assert!(
        steps_naming(&plan, "app.config").is_empty(),
        "{:?}",
        plan.manual_steps
    );
    assert!(
        plan.warnings.iter().any(|w| w.contains("app.config.ts")
            && w.contains("app.json was edited")
            && w.contains("onesignal-expo-plugin")),
        "{:?}",
        plan.warnings
    );
    let after = files(app.path());
    assert!(text(&after, "app.json").contains("\"onesignal-expo-plugin\""));
    assert_eq!(after["app.config.ts"], before["app.config.ts"]);
    remove(&registry, app.path(), "onesignal");
    assert_eq!(files(app.path()), before);

    // Returning the static config itself is the same shape.
    let app = sample_app();
    std::fs::write(
        app.path().join("app.config.ts"),
        "export default ({ config }) => config;\n",
    )
    .expect("w");
    let plan = add(&registry, app.path(), "onesignal");
    assert!(
        steps_naming(&plan, "app.config").is_empty(),
        "{:?}",
        plan.manual_steps
    );
    assert!(text(&files(app.path()), "app.json").contains("\"onesignal-expo-plugin\""));
}

#[test]
fn a_dynamic_app_config_with_a_plugins_literal_gets_the_entries_inserted_reversibly() {
    let registry = registry();
    let app = with_app_config("literal-plugins.ts", "app.config.ts");
    let before = files(app.path());
    add(&registry, app.path(), "stripe");
    let plan = add(&registry, app.path(), "onesignal");
    assert!(
        steps_naming(&plan, "app.config").is_empty(),
        "{:?}",
        plan.manual_steps
    );
    let after = files(app.path());
    let config = text(&after, "app.config.ts");
    // OneSignal's plugin goes first; Stripe's at the end, one per line like the others.
    assert!(
        config.contains("  plugins: [\n    ['onesignal-expo-plugin', {"),
        "{config}"
    );
    assert!(
        config.contains(
            "    ['expo-splash-screen', { backgroundColor: '#ffffff' }],\n    ['@stripe/stripe-react-native', {"
        ),
        "{config}"
    );
    assert_eq!(after["app.json"], before["app.json"]);
    // I4 on the literal: removing the first one leaves exactly stripe's entry.
    remove(&registry, app.path(), "onesignal");
    let stripe_only = text(&files(app.path()), "app.config.ts");
    assert!(!stripe_only.contains("onesignal"), "{stripe_only}");
    assert!(
        stripe_only.contains("@stripe/stripe-react-native"),
        "{stripe_only}"
    );
    remove(&registry, app.path(), "stripe");
    assert_eq!(files(app.path()), before);
}

#[test]
fn any_other_dynamic_app_config_gets_one_manual_step_without_duplicates() {
    let registry = registry();
    let app = with_app_config("computed.js", "app.config.js");
    make_router_app(app.path());
    let before = files(app.path());
    add(&registry, app.path(), "stripe");
    let plan = add(&registry, app.path(), "onesignal");
    // One step for the config, naming each entry and setting once (the other step says how to
    // serve the API routes).
    let steps = steps_naming(&plan, "app.config.js");
    assert_eq!(steps.len(), 1, "{:?}", plan.manual_steps);
    let step = steps[0];
    assert!(
        step.starts_with("app.config.js is a dynamic config"),
        "{step}"
    );
    assert_eq!(step.matches("web.output").count(), 1, "{step}");
    assert_eq!(step.matches("onesignal-expo-plugin").count(), 1, "{step}");
    assert_eq!(
        step.matches("@stripe/stripe-react-native").count(),
        1,
        "{step}"
    );
    assert!(
        step.contains("[\"onesignal-expo-plugin\", {")
            && step.contains("[\"@stripe/stripe-react-native\", {"),
        "{step}"
    );
    let after = files(app.path());
    assert_eq!(after["app.json"], before["app.json"]);
    assert_eq!(after["app.config.js"], before["app.config.js"]);
}

#[test]
fn expo_router_projects_get_api_routes_and_server_output() {
    let registry = registry();
    let app = sample_app();
    make_router_app(app.path());
    let before = files(app.path());
    add(&registry, app.path(), "stripe");
    let after = files(app.path());
    assert!(after.contains_key("app/api/stripe/payment-intent+api.ts"));
    let layout = text(&after, "app/_layout.tsx");
    assert!(
        layout.contains("import { withConnectors } from '../src/connectors';"),
        "{layout}"
    );
    assert!(text(&after, "app.json").contains("\"output\": \"server\""));
    remove(&registry, app.path(), "stripe");
    assert_eq!(files(app.path()), before);
}

/// The deep links the connectors create (`Linking.createURL('auth-callback')`) open as routes in
/// an Expo Router app: each has a route file there, which sends the user on to `/`, instead of
/// "Unmatched Route". An app without Expo Router gets none.
#[test]
fn deep_link_routes_exist_in_router_apps_only() {
    let registry = registry();
    let routes = [
        ("stripe", "src/services/stripe.ts", "stripe-redirect"),
        ("supabase", "src/services/supabase-auth.ts", "auth-callback"),
    ];
    let plain = sample_app();
    let router = sample_app();
    make_router_app(router.path());
    let before = files(router.path());
    for (id, _, _) in routes {
        add(&registry, plain.path(), id);
        add(&registry, router.path(), id);
    }
    let (plain_files, router_files) = (files(plain.path()), files(router.path()));
    for (id, service, route) in routes {
        assert!(
            text(&router_files, service).contains(&format!("Linking.createURL('{route}')")),
            "{id}: the service names the deep link {route}"
        );
        let file = format!("app/{route}.tsx");
        let screen = text(&router_files, &file);
        assert!(
            screen.contains("<Redirect href=\"/\" />"),
            "{file}: {screen}"
        );
        assert!(
            !plain_files.keys().any(|path| path.contains(route)),
            "{id}: no route file without Expo Router"
        );
    }
    for (id, _, _) in routes {
        remove(&registry, router.path(), id);
    }
    assert_eq!(files(router.path()), before);
}

#[test]
fn a_changed_secret_updates_env_local_and_the_lock_file_holds_no_secret_hash() {
    let registry = registry();
    let app = sample_app();
    add(&registry, app.path(), "stripe");
    let lock_before =
        std::fs::read(app.path().join(".mobigen/connectors.lock.json")).expect("lock");
    let mut value = config(&registry, "stripe").expose().clone();
    value["secretKey"] = serde_json::json!("sk_test_51RotatedSecretValue");
    let valid = registry
        .lookup("stripe")
        .expect("stripe")
        .validate_config(&value)
        .expect("valid");
    let plan = ops::add(
        &registry,
        app.path(),
        &valid,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("update");
    assert_eq!(plan.kind, PlanKind::Update);
    assert_eq!(
        plan.changes
            .iter()
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>(),
        [".env.local"]
    );
    let env_local = std::fs::read_to_string(app.path().join(".env.local")).expect("read");
    assert!(
        env_local.contains("STRIPE_SECRET_KEY=sk_test_51RotatedSecretValue"),
        "{env_local}"
    );
    // Only public values feed the config hash: the lock file did not change.
    assert_eq!(
        std::fs::read(app.path().join(".mobigen/connectors.lock.json")).expect("lock"),
        lock_before
    );
}

fn fixture_config(registry: &Registry, id: &str, set: &str) -> ValidConfig {
    let path = root().join(format!("tests/fixtures/configs/{id}-{set}.json"));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    registry
        .lookup(id)
        .expect("id")
        .validate_config(&value)
        .expect("valid")
}

#[test]
fn firebase_writes_the_pasted_service_files_and_removes_them_again() {
    let registry = registry();
    let app = sample_app();
    let before = files(app.path());
    let config = fixture_config(&registry, "firebase", "full");
    ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("add");
    let after = files(app.path());
    let pasted = config.redacted()["googleServicesJson"]
        .as_str()
        .expect("json");
    assert_eq!(text(&after, "google-services.json"), pasted);
    assert!(text(&after, "GoogleService-Info.plist").contains("<plist"));
    let app_json = text(&after, "app.json");
    assert!(app_json.contains("\"googleServicesFile\": \"./google-services.json\""));
    assert!(app_json.contains("\"googleServicesFile\": \"./GoogleService-Info.plist\""));
    let lock = text(&after, ".mobigen/connectors.lock.json");
    assert!(lock.contains("\"configFiles\""), "{lock}");
    // Features switch files: auth with Google, Firestore, Storage, Analytics are all on, each
    // with its web twin on the Firebase JS SDK app of `firebase-web.ts`.
    for file in [
        "src/services/firebase-web.ts",
        "src/services/firebase-auth.ts",
        "src/services/firebase-auth.web.ts",
        "src/services/firebase-db.ts",
        "src/services/firebase-db.web.ts",
        "src/services/firebase-storage.ts",
        "src/services/firebase-storage.web.ts",
        "src/services/analytics.ts",
        "src/services/analytics.web.ts",
        "src/components/firebase/LoginScreen.tsx",
    ] {
        assert!(after.contains_key(file), "{file} missing");
    }
    let package = text(&after, "package.json");
    assert!(package.contains("\"firebase\": \"^12.19.0\""), "{package}");
    assert!(text(&after, "src/components/firebase/LoginScreen.tsx").contains("signInWithGoogle"));
    remove(&registry, app.path(), "firebase");
    assert_eq!(files(app.path()), before);
}

#[test]
fn a_service_file_the_project_already_had_is_kept_on_removal() {
    let registry = registry();
    let app = sample_app();
    let config = fixture_config(&registry, "firebase", "minimal");
    let pasted = config.redacted()["googleServicesJson"]
        .as_str()
        .expect("json");
    std::fs::write(app.path().join("google-services.json"), pasted).expect("write");
    let before = files(app.path());
    ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("add");
    remove(&registry, app.path(), "firebase");
    assert_eq!(files(app.path()), before);
}

#[test]
fn a_different_service_file_in_the_way_is_a_conflict() {
    let registry = registry();
    let app = sample_app();
    std::fs::write(app.path().join("google-services.json"), "{}\n").expect("write");
    let before = files(app.path());
    let config = fixture_config(&registry, "firebase", "minimal");
    let err = ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("conflict");
    assert!(err.to_string().contains("google-services.json"), "{err}");
    assert_unchanged_after_error(app.path(), &before, &err);
}

#[test]
fn components_follow_nativewind_when_the_project_uses_it() {
    let registry = registry();
    let app = sample_app();
    let package = app.path().join("package.json");
    let text_before = std::fs::read_to_string(&package).expect("read");
    add(&registry, app.path(), "stripe");
    let plain = text(
        &files(app.path()),
        "src/components/stripe/CheckoutButton.tsx",
    );
    assert!(plain.contains("StyleSheet.create") && !plain.contains("className"));
    remove(&registry, app.path(), "stripe");
    std::fs::write(
        &package,
        text_before.replace("\"expo\": ", "\"nativewind\": \"4.2.7\",\n    \"expo\": "),
    )
    .expect("write");
    add(&registry, app.path(), "stripe");
    let styled = text(
        &files(app.path()),
        "src/components/stripe/CheckoutButton.tsx",
    );
    assert!(styled.contains("className=") && !styled.contains("StyleSheet"));
}

#[test]
fn supabase_types_list_the_configured_tables() {
    let registry = registry();
    let app = sample_app();
    let config = fixture_config(&registry, "supabase", "full");
    ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("add");
    let types = text(&files(app.path()), "src/types/supabase.ts");
    assert!(
        types.contains("export const TABLE_NAMES = [\"profiles\",\"orders\"] as const;"),
        "{types}"
    );
}

fn live_types() -> BTreeMap<String, String> {
    let body = std::fs::read_to_string(root().join("tests/fixtures/supabase/database.types.ts"))
        .expect("read");
    BTreeMap::from([("databaseTypes".to_string(), body)])
}

fn add_supplied(
    registry: &Registry,
    dir: &Path,
    config: &ValidConfig,
    supplied: &BTreeMap<String, String>,
) -> Result<Plan, OpError> {
    ops::add_supplied(
        registry,
        dir,
        config,
        PlanOptions::default(),
        Mode::Apply,
        supplied,
    )
}

#[test]
fn supplied_supabase_types_replace_the_placeholders_and_are_kept_until_removal() {
    let registry = registry();
    let app = sample_app();
    let original = files(app.path());
    let config = fixture_config(&registry, "supabase", "full");
    add_supplied(&registry, app.path(), &config, &live_types()).expect("add");
    let after = files(app.path());
    let live = text(&after, "src/types/supabase-database.ts");
    assert!(live.starts_with("// @generated by mobigen-connectors for `supabase`"));
    assert!(live.contains("order_status: \"pending\" | \"paid\" | \"shipped\""));
    let types = text(&after, "src/types/supabase.ts");
    assert!(
        types.contains("export type { Database, Json } from './supabase-database';"),
        "{types}"
    );
    assert!(!types.contains("PlaceholderRow"), "{types}");

    // Adding again without the types keeps them: nothing to do; a changed config keeps them too.
    let plan = ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("re-add");
    assert_eq!(plan.kind, PlanKind::UpToDate, "{:?}", plan.changes);
    let changed = add(&registry, app.path(), "supabase");
    assert_eq!(changed.kind, PlanKind::Update);
    assert_eq!(
        text(&files(app.path()), "src/types/supabase-database.ts"),
        live
    );

    // Removal takes both files away: the project is the sample app again (I6).
    remove(&registry, app.path(), "supabase");
    assert_eq!(files(app.path()), original);
}

#[test]
fn a_deleted_supplied_file_falls_back_to_the_placeholders() {
    let registry = registry();
    let app = sample_app();
    let config = fixture_config(&registry, "supabase", "full");
    add_supplied(&registry, app.path(), &config, &live_types()).expect("add");
    std::fs::remove_file(app.path().join("src/types/supabase-database.ts")).expect("rm");
    let plan = ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("re-add");
    assert_eq!(plan.kind, PlanKind::Update);
    let after = files(app.path());
    assert!(!after.contains_key("src/types/supabase-database.ts"));
    assert!(text(&after, "src/types/supabase.ts").contains("PlaceholderRow"));
}

#[test]
fn bad_supplied_files_are_refused_and_nothing_changes() {
    let registry = registry();
    let app = sample_app();
    let before = files(app.path());
    let config = fixture_config(&registry, "supabase", "full");
    let broken = BTreeMap::from([(
        "databaseTypes".to_string(),
        "<html>502 Bad Gateway</html>".to_string(),
    )]);
    let err = add_supplied(&registry, app.path(), &config, &broken).expect_err("broken");
    let message = err.to_string();
    assert!(
        message.contains("supplied file `databaseTypes`")
            && message.contains("src/types/supabase-database.ts:1:"),
        "{message}"
    );
    assert_unchanged_after_error(app.path(), &before, &err);

    let unknown = BTreeMap::from([("schema".to_string(), "export {}".to_string())]);
    let err = add_supplied(&registry, app.path(), &config, &unknown).expect_err("unknown");
    assert!(
        err.to_string().contains("it declares databaseTypes"),
        "{err}"
    );
    let stripe = fixture_config(&registry, "stripe", "minimal");
    let err = add_supplied(&registry, app.path(), &stripe, &live_types()).expect_err("stripe");
    assert!(err.to_string().contains("it declares none"), "{err}");
    assert_unchanged_after_error(app.path(), &before, &err);
}

#[test]
fn an_edited_supplied_file_is_a_conflict_unless_forced() {
    let registry = registry();
    let app = sample_app();
    let config = fixture_config(&registry, "supabase", "full");
    add_supplied(&registry, app.path(), &config, &live_types()).expect("add");
    let path = app.path().join("src/types/supabase-database.ts");
    let edited = format!(
        "{}// my note\n",
        std::fs::read_to_string(&path).expect("read")
    );
    std::fs::write(&path, &edited).expect("edit");
    let before = files(app.path());
    let err = ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect_err("conflict");
    assert!(
        matches!(&err, OpError::Plan(PlanError::Conflicts { conflicts }) if conflicts[0].path == "src/types/supabase-database.ts"),
        "{err}"
    );
    assert_unchanged_after_error(app.path(), &before, &err);
    // Supplying the types again (or --force) settles it.
    add_supplied(&registry, app.path(), &config, &live_types()).expect_err("still edited");
    let forced = ops::add_supplied(
        &registry,
        app.path(),
        &config,
        PlanOptions {
            force: true,
            ..PlanOptions::default()
        },
        Mode::Apply,
        &live_types(),
    )
    .expect("forced");
    assert_eq!(forced.kind, PlanKind::Update);
    assert!(
        !std::fs::read_to_string(&path)
            .expect("read")
            .contains("my note")
    );
}

#[test]
fn onesignal_location_adds_the_location_permissions_and_removes_them_again() {
    let registry = registry();
    let app = sample_app();
    let before = files(app.path());
    // The full fixture config shares the location (`features.location: true`).
    let config = fixture_config(&registry, "onesignal", "full");
    ops::add(
        &registry,
        app.path(),
        &config,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("add");
    let after = files(app.path());
    let app_json = text(&after, "app.json");
    // expo-location's config plugin writes the iOS usage string and the Android permissions.
    assert!(app_json.contains("\"expo-location\""), "{app_json}");
    assert!(
        app_json.contains("\"locationWhenInUsePermission\""),
        "{app_json}"
    );
    let package = text(&after, "package.json");
    assert!(package.contains("\"expo-location\""), "{package}");
    remove(&registry, app.path(), "onesignal");
    assert_eq!(files(app.path()), before);
    // Without the feature, nothing about location is added.
    let minimal = fixture_config(&registry, "onesignal", "minimal");
    ops::add(
        &registry,
        app.path(),
        &minimal,
        PlanOptions::default(),
        Mode::Apply,
    )
    .expect("add minimal");
    let plain = files(app.path());
    assert!(!text(&plain, "app.json").contains("expo-location"));
    assert!(!text(&plain, "package.json").contains("expo-location"));
}
