//! Dependency versions come from the project's Expo SDK (`connectors/expo-sdk.json`): apps on
//! SDK 54 and 57 get their own SDK's versions, a pin the project has is never moved (a pin that
//! disagrees with the SDK is kept and warned about), and an SDK without a table is refused.

use std::collections::BTreeMap;
use std::path::Path;

use mobigen_connectors::Registry;
use mobigen_connectors::project::plan::{self, Plan, PlanError, PlanOptions};
use mobigen_connectors::project::snapshot::ProjectSnapshot;
use serde_json::{Value, json};

fn fixture(name: &str) -> BTreeMap<String, Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("read"))
        })
        .collect()
}

fn stripe_config(registry: &Registry) -> mobigen_connectors::ValidConfig {
    registry
        .lookup("stripe")
        .expect("stripe")
        .validate_config(&json!({
            "publishableKey": "pk_test_51FixtureOnlyNotARealKey0000",
            "secretKey": "sk_test_51FixtureOnlyNotARealSecret000"
        }))
        .expect("valid")
}

fn plan_stripe(files: &BTreeMap<String, Vec<u8>>) -> Result<Plan, PlanError> {
    let registry = Registry::builtin().expect("built-in");
    let snapshot = ProjectSnapshot::from_files(files.clone());
    plan::plan_add(
        &registry,
        &snapshot,
        &stripe_config(&registry),
        PlanOptions::default(),
    )
}

fn after(plan: &Plan, files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let mut out = files.clone();
    for change in &plan.changes {
        match &change.after {
            Some(text) => out.insert(change.path.clone(), text.clone().into_bytes()),
            None => out.remove(&change.path),
        };
    }
    out
}

fn dependencies(files: &BTreeMap<String, Vec<u8>>) -> Value {
    let package: Value = serde_json::from_slice(&files["package.json"]).expect("JSON");
    package["dependencies"].clone()
}

#[test]
fn an_sdk_54_app_gets_sdk_54_versions_and_keeps_its_pin() {
    let files = fixture("expo-sdk54");
    let plan = plan_stripe(&files).expect("plan");
    let deps = dependencies(&after(&plan, &files));
    assert_eq!(deps["@stripe/stripe-react-native"], "0.50.3");
    // The app's own pin stays (the table says ~18.0.14, the same SDK).
    assert_eq!(deps["expo-constants"], "~18.0.13");
    // Not in Expo's list: the manifest's range.
    assert_eq!(deps["stripe"], "^23.1.0");
    assert_eq!(plan.warnings, Vec::<String>::new());
}

#[test]
fn a_pin_from_another_sdk_is_kept_with_a_warning_and_removal_restores_the_bytes() {
    let mut files = fixture("expo-sdk54");
    let package = String::from_utf8(files["package.json"].clone()).expect("UTF-8");
    let package = package.replace("\"~18.0.13\"", "\"~17.0.8\"");
    files.insert("package.json".into(), package.into_bytes());
    let plan = plan_stripe(&files).expect("plan");
    let added = after(&plan, &files);
    assert_eq!(dependencies(&added)["expo-constants"], "~17.0.8");
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    let warning = &plan.warnings[0];
    assert!(
        warning.contains("`expo-constants` is ~17.0.8")
            && warning.contains("Expo SDK 54 expects ~18.0.14"),
        "{warning}"
    );

    let registry = Registry::builtin().expect("built-in");
    let snapshot = ProjectSnapshot::from_files(added.clone());
    let removal =
        plan::plan_remove(&registry, &snapshot, "stripe", PlanOptions::default()).expect("remove");
    assert_eq!(after(&removal, &added), files);
}

#[test]
fn an_sdk_57_app_gets_sdk_57_versions() {
    let files = fixture("expo-sdk57");
    let plan = plan_stripe(&files).expect("plan");
    let deps = dependencies(&after(&plan, &files));
    assert_eq!(deps["@stripe/stripe-react-native"], "0.64.0");
    assert_eq!(deps["expo-constants"], "~57.0.24");
    assert_eq!(deps["stripe"], "^23.1.0");
}

#[test]
fn an_sdk_without_a_table_is_refused_naming_the_supported_sdks() {
    let supported = "supported Expo SDKs: 52, 53, 54, 55, 56, 57, 58";
    for (expo, says) in [
        (
            Some("~51.0.28"),
            "Expo SDK 51 (`expo` ~51.0.28) has no version table",
        ),
        (
            Some("~59.0.0"),
            "Expo SDK 59 (`expo` ~59.0.0) has no version table",
        ),
        (
            Some("latest"),
            "the `expo` dependency `latest` names no SDK version",
        ),
        (None, "there is no `expo` dependency"),
    ] {
        let mut files = fixture("expo-sdk57");
        let package = String::from_utf8(files["package.json"].clone()).expect("UTF-8");
        let package = match expo {
            Some(range) => package.replace("\"~57.0.33\"", &format!("\"{range}\"")),
            None => package.replace("    \"expo\": \"~57.0.33\",\n", ""),
        };
        files.insert("package.json".into(), package.into_bytes());
        let err = plan_stripe(&files).expect_err("refused");
        assert!(matches!(err, PlanError::ExpoSdk { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains(says), "{message}");
        assert!(message.contains(supported), "{message}");
    }
}
