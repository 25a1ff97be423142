//! The sample configs used by the main job (`cargo xtask sample`) are valid for their connectors,
//! and none of their secret values leaks through the redacted form.

use std::path::Path;

use mobigen_connectors::Registry;

#[test]
fn every_sample_config_is_valid_and_redacts_its_secrets() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/sample-configs"
    ));
    let registry = Registry::builtin().expect("builtin");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir).expect("sample-configs") {
        let path = entry.expect("entry").path();
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_string();
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let connector = registry.lookup(&id).expect("known connector");
        let valid = connector
            .validate_config(&config)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let redacted = valid.redacted().to_string();
        for pointer in connector.definition().secret_fields() {
            if let Some(secret) = config.pointer(pointer).and_then(|v| v.as_str()) {
                assert!(!redacted.contains(secret), "{id}{pointer} leaked");
            }
        }
        seen.push(id);
    }
    seen.sort();
    assert_eq!(
        seen,
        ["firebase", "onesignal", "revenuecat", "stripe", "supabase"]
    );
}
