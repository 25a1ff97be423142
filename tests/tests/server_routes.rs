//! The generated server routes, run: rendered from the full fixture configs, transpiled with
//! TypeScript and called under Node against mock services on 127.0.0.1
//! (`tests/fixtures/server-routes/check-routes.mjs`). An unauthenticated call is refused with
//! 401, a tampered amount is ignored, the webhook fulfils only the server's price, and the
//! OneSignal send route is an admin route with no default audience.
//!
//! TypeScript and the `stripe` package come from the toolchain fixture's installed packages
//! (`target/toolchain-cache/<hash>/node_modules`, or `$MOBIGEN_TOOLCHAIN_CACHE`), which
//! `cargo xtask toolchain` installs and `cargo xtask test` runs before this test.

use std::path::{Path, PathBuf};
use std::process::Command;

use mobigen_connectors::Registry;
use mobigen_connectors::project::generate::{self, ProjectLayout};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The toolchain fixture's `node_modules`, as `cargo xtask toolchain` installs it.
fn fixture_node_modules() -> PathBuf {
    let lock = std::fs::read_to_string(root().join("tests/fixtures/expo-app/package-lock.json"))
        .expect("the fixture's package-lock.json");
    let cache = std::env::var_os("MOBIGEN_TOOLCHAIN_CACHE")
        .map_or_else(|| root().join("target/toolchain-cache"), PathBuf::from);
    let dir = cache.join(generate::content_hash(&lock));
    assert!(
        dir.join(".installed").exists(),
        "the toolchain fixture's packages are not installed in {}: run `cargo xtask toolchain stripe-minimal` once",
        dir.display()
    );
    dir.join("node_modules")
}

/// Renders `id`'s full fixture config into `app/` of `dir`, as in an Expo Router project.
fn render(registry: &Registry, id: &str, dir: &Path) {
    let connector = registry.get(id).expect("connector");
    let path = root().join(format!("tests/fixtures/configs/{id}-full.json"));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("config")).expect("json");
    let valid = connector.validate_config(&config).expect("valid config");
    let features = connector.definition().enabled_features(valid.redacted());
    let layout = ProjectLayout {
        router_dir: Some("app".into()),
        nativewind: false,
    };
    for file in generate::connector_files(connector, &features, valid.redacted(), &layout, &[]) {
        let target = dir.join(&file.path);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(target, file.contents).expect("write");
    }
}

#[test]
fn server_routes_refuse_unauthenticated_callers_and_decide_prices_on_the_server() {
    let node_modules = fixture_node_modules();
    let registry = Registry::builtin().expect("builtin");
    let project = tempfile::tempdir().expect("tempdir");
    for id in ["stripe", "onesignal"] {
        render(&registry, id, project.path());
    }
    let output = Command::new("node")
        .arg(root().join("tests/fixtures/server-routes/check-routes.mjs"))
        .arg(project.path().join("app"))
        .arg(&node_modules)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // Every check ran: the webhook, subscription and send routes were generated and exercised.
    assert!(
        stdout.contains("server routes: 17 checks passed"),
        "{stdout}"
    );
}
