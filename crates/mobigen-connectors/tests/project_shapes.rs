//! Real shapes of Expo apps (issue 16, items 6, 7 and 9): app.json written as JSON5, duplicate
//! keys in package.json or app.json, an Expo Router app without a root layout, a monorepo root
//! and a project without its root file. Each runs the real `add` / `remove` on a copy of a
//! fixture folder under `tests/fixtures`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mobigen_connectors::Registry;
use mobigen_connectors::ValidConfig;
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::PlanOptions;

const CONNECTORS: [&str; 5] = ["firebase", "onesignal", "revenuecat", "stripe", "supabase"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("prefix");
                out.insert(
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A copy of `tests/fixtures/<name>` in a temporary folder.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (rel, bytes) in files(&crate_dir().join("tests/fixtures").join(name)) {
        let target = dir.path().join(&rel);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::write(target, bytes).expect("write");
    }
    dir
}

fn config(registry: &Registry, id: &str) -> ValidConfig {
    let path = crate_dir().join(format!("../../tests/fixtures/configs/{id}-full.json"));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    registry
        .lookup(id)
        .expect("id")
        .validate_config(&value)
        .expect("valid")
}

fn add(registry: &Registry, dir: &Path, id: &str) -> Result<(), ops::OpError> {
    ops::add(
        registry,
        dir,
        &config(registry, id),
        PlanOptions::default(),
        Mode::Apply,
    )
    .map(|_| ())
}

fn remove(registry: &Registry, dir: &Path, id: &str) {
    ops::remove(registry, dir, id, PlanOptions::default(), Mode::Apply).expect("remove");
}

fn text(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).expect("read")
}

#[test]
fn json5_app_json_gets_all_five_connectors_and_removal_restores_every_byte() {
    let registry = Registry::builtin().expect("built-in");
    let dir = copy_fixture("json5-app");
    let before = files(dir.path());
    for id in CONNECTORS {
        add(&registry, dir.path(), id).unwrap_or_else(|e| panic!("adding {id}: {e}"));
    }
    let app = text(dir.path(), "app.json");
    // The user's comments, quotes and trailing commas stay where they were.
    for kept in [
        "// Expo reads app.json as JSON5: comments, trailing commas, unquoted keys, single quotes.\n",
        "    name: 'json5-app', /* the display name */\n",
        "      bundleIdentifier: 'com.example.json5app', // the App Store id\n",
        " package: 'com.example.json5app', },\n",
        "      'expo-router', // file-based routes\n",
    ] {
        assert!(app.contains(kept), "lost {kept:?}:\n{app}");
    }
    // The plugins and the server output went in (plain JSON, which JSON5 reads), in sorted
    // place before the user's entry, which keeps its comment and trailing comma.
    for added in [
        "\"@react-native-firebase/app\"",
        "\"onesignal-expo-plugin\"",
        "\"@stripe/stripe-react-native\"",
        "\"output\": \"server\"",
    ] {
        assert!(app.contains(added), "missing {added}:\n{app}");
    }
    assert!(
        app.ends_with("      ],\n      'expo-router', // file-based routes\n    ],\n  },\n}\n"),
        "{app}"
    );
    assert!(
        app.contains("      bundler: 'metro',\n      \"output\": \"server\",\n    },\n"),
        "{app}"
    );
    // Adding the same connectors again changes nothing.
    let added = files(dir.path());
    for id in CONNECTORS {
        add(&registry, dir.path(), id).expect("re-add");
    }
    assert_eq!(files(dir.path()), added, "re-adding changed a file");
    for id in CONNECTORS {
        remove(&registry, dir.path(), id);
    }
    assert_eq!(
        files(dir.path()),
        before,
        "removing every connector did not restore the fixture"
    );
}

/// Runs `add` for every connector on the fixture and checks that each is refused with `want`
/// in its message and that no file changed.
fn refused_without_change(fixture: &str, want: &str) {
    let registry = Registry::builtin().expect("built-in");
    let dir = copy_fixture(fixture);
    let before = files(dir.path());
    for id in CONNECTORS {
        let err = add(&registry, dir.path(), id).expect_err("refused");
        let message = err.to_string();
        assert!(message.contains(want), "{id}: {message}");
        assert_eq!(files(dir.path()), before, "{id}: a file changed");
    }
}

#[test]
fn duplicate_dependencies_in_package_json_are_refused_with_file_and_line() {
    refused_without_change(
        "dup-package",
        "package.json:10:3: duplicate key `dependencies` (first at line 5)",
    );
}

#[test]
fn duplicate_plugins_in_app_json_are_refused_with_file_and_line() {
    refused_without_change(
        "dup-app",
        "app.json:7:5: duplicate key `plugins` (first at line 5)",
    );
}

#[test]
fn router_app_without_root_layout_gets_an_owned_layout_removed_with_the_last_connector() {
    let registry = Registry::builtin().expect("built-in");
    for (fixture, layout, module) in [
        ("router-no-layout", "app/_layout.tsx", "'../src/connectors'"),
        (
            "router-no-layout-src",
            "src/app/_layout.tsx",
            "'../connectors'",
        ),
    ] {
        let dir = copy_fixture(fixture);
        let before = files(dir.path());
        add(&registry, dir.path(), "stripe").expect("add stripe");
        let created = text(dir.path(), layout);
        assert!(created.contains("return <Slot />;"), "{created}");
        assert!(
            created.contains(&format!("import {{ withConnectors }} from {module};")),
            "{created}"
        );
        assert!(created.contains("export default withConnectors(RootLayout);"));
        // The API routes go into the router folder of the app.
        let router_dir = layout.trim_end_matches("/_layout.tsx");
        assert!(
            files(dir.path())
                .keys()
                .any(|p| p.starts_with(&format!("{router_dir}/")) && p.ends_with("+api.ts")),
            "{:?}",
            files(dir.path()).keys().collect::<Vec<_>>()
        );
        // The user's route is untouched.
        assert_eq!(
            files(dir.path())[&format!("{router_dir}/index.tsx")],
            before[&format!("{router_dir}/index.tsx")]
        );
        // Adding again (same config) changes nothing; a second connector keeps the layout.
        let once = files(dir.path());
        add(&registry, dir.path(), "stripe").expect("re-add");
        assert_eq!(
            files(dir.path()),
            once,
            "{fixture}: re-adding changed a file"
        );
        add(&registry, dir.path(), "supabase").expect("add supabase");
        assert_eq!(text(dir.path(), layout), created);
        remove(&registry, dir.path(), "stripe");
        assert_eq!(text(dir.path(), layout), created);
        remove(&registry, dir.path(), "supabase");
        assert_eq!(
            files(dir.path()),
            before,
            "{fixture}: removing the last connector did not restore the project"
        );
    }
}

#[test]
fn monorepo_root_is_refused_naming_the_app_folders_below_it() {
    let registry = Registry::builtin().expect("built-in");
    let dir = copy_fixture("monorepo");
    let before = files(dir.path());
    let err = add(&registry, dir.path(), "stripe")
        .expect_err("a monorepo root is not an app")
        .to_string();
    assert!(
        err.contains(
            "this is the root of a monorepo (it has package.json \"workspaces\") with no `expo` dependency of its own, not an Expo app; point --project at the app's folder: apps/mobile"
        ),
        "{err}"
    );
    assert!(!err.contains("packages/ui"), "{err}");
    assert_eq!(files(dir.path()), before);
    // Without any app below it, the message says where it looked.
    std::fs::remove_dir_all(dir.path().join("apps/mobile")).expect("rm");
    let err = add(&registry, dir.path(), "stripe")
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("no Expo app (a folder whose package.json depends on `expo`) was found in apps/*, packages/*"),
        "{err}"
    );
}

#[test]
fn missing_root_lists_every_file_looked_for() {
    let registry = Registry::builtin().expect("built-in");
    let dir = copy_fixture("router-no-layout");
    std::fs::remove_file(dir.path().join("app/index.tsx")).expect("rm");
    let before = files(dir.path());
    let err = add(&registry, dir.path(), "stripe")
        .expect_err("no root")
        .to_string();
    let mut looked_for = Vec::new();
    for stem in [
        "app/_layout",
        "src/app/_layout",
        "src/app/index",
        "app/index",
    ] {
        for ext in ["tsx", "ts", "jsx", "js"] {
            looked_for.push(format!("{stem}.{ext}"));
        }
    }
    assert!(
        err.contains(&format!(
            "package.json `main` is `expo-router/entry`, but none of {} exists",
            looked_for.join(", ")
        )),
        "{err}"
    );
    assert_eq!(files(dir.path()), before);
}
