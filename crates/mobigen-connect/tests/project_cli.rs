//! The project commands through the binary: add, remove, status, dry runs and bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Env {
    _home: tempfile::TempDir,
    app: tempfile::TempDir,
    home: PathBuf,
}

/// A fresh copy of the sample app, and a private home for any state the CLI keeps.
fn setup() -> Env {
    let home = tempfile::tempdir().expect("tempdir");
    let app = tempfile::tempdir().expect("tempdir");
    copy_dir(&workspace().join("examples/sample-app"), app.path());
    Env {
        home: home.path().to_path_buf(),
        _home: home,
        app,
    }
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

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).expect("prefix").to_path_buf(),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    out
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mobigen-connect"))
            .args(args)
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("MOBIGEN_STORE", self.home.join("store.db"))
            .env("MOBIGEN_KEYRING", self.home.join("keyring.json"))
            .env_remove("MOBIGEN_CONNECTORS_DIR")
            .output()
            .expect("run")
    }

    fn app(&self) -> &str {
        self.app.path().to_str().expect("utf-8")
    }
}

fn config(id: &str) -> String {
    workspace()
        .join(format!("examples/sample-configs/{id}.json"))
        .to_str()
        .expect("utf-8")
        .to_string()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let env = setup();
    let before = files(env.app.path());
    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        &config("stripe"),
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("+registerRootComponent(withConnectors(App));"),
        "{text}"
    );
    assert!(text.contains("STRIPE_SECRET_KEY=[redacted]"), "{text}");
    assert!(!text.contains("sk_test_51Sample"), "secret printed");
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
    assert!(text.contains("(dry run: nothing written).\n"), "{text}");
    // The sample app has no Expo Router: the plan ends with the step that serves the routes.
    assert!(
        text.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("manual step: ")
                && l.contains("server/api/stripe/payment-intent+api.ts")),
        "{text}"
    );
    assert_eq!(files(env.app.path()), before);
}

#[test]
fn add_again_remove_and_status() {
    let env = setup();
    let before = files(env.app.path());
    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        &config("stripe"),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).starts_with("Added Stripe. Files: "), "{}", out(&o));

    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        &config("stripe"),
    ]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o).lines().next(),
        Some("Stripe is already up to date; nothing to change.")
    );

    let o = env.run(&["status", "--project", env.app(), "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let status: Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(status["connectors"][0]["id"], "stripe");
    assert_eq!(status["rootFile"], "index.ts");
    assert_eq!(status["problems"], serde_json::json!([]));

    let o = env.run(&["remove", "stripe", "--project", env.app(), "--json"]);
    assert!(o.status.success(), "{}", err(&o));
    let removed: Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(removed["kind"], "remove");
    assert!(
        removed["codeChanges"]["filesDeleted"]
            .as_u64()
            .is_some_and(|n| n >= 3)
    );
    assert_eq!(files(env.app.path()), before);
}

#[test]
fn add_json_reports_code_changes() {
    let env = setup();
    let o = env.run(&[
        "add",
        "onesignal",
        "--project",
        env.app(),
        "--config",
        &config("onesignal"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let json: Value = serde_json::from_str(&out(&o)).expect("json");
    assert_eq!(json["connector"], "onesignal");
    assert_eq!(json["kind"], "add");
    assert_eq!(json["dryRun"], false);
    let files = json["files"].as_array().expect("files");
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "index.ts" && f["action"] == "update")
    );
    assert!(
        files
            .iter()
            .any(|f| f["path"] == "src/connectors.tsx" && f["action"] == "create")
    );
    assert_eq!(
        json["codeChanges"]["filesAdded"].as_u64(),
        Some(files.iter().filter(|f| f["action"] == "create").count() as u64)
    );
}

#[test]
fn set_refuses_secret_fields_and_sets_public_ones() {
    let env = setup();
    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        &config("stripe"),
        "--set",
        "secretKey=sk_test_51OnTheCommandLine",
        "--dry-run",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = err(&o);
    assert!(e.contains("secret field"), "{e}");
    assert!(e.contains("--config FILE"), "{e}");
    assert!(!e.contains("sk_test_51OnTheCommandLine"), "{e}");

    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        &config("stripe"),
        "--set",
        "currency=eur",
        "--set",
        "subscriptionEnabled=false",
    ]);
    assert!(o.status.success(), "{}", err(&o));
    let dotenv = std::fs::read_to_string(env.app.path().join(".env")).expect(".env");
    assert!(
        dotenv.contains("EXPO_PUBLIC_STRIPE_CURRENCY=eur"),
        "{dotenv}"
    );
}

#[test]
fn bad_input_exits_1_and_changes_nothing() {
    let env = setup();
    // An invalid config.
    let bad = env.home.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"publishableKey": "pk_test_1", "secretKey": "pk_test_1"}"#,
    )
    .expect("w");
    let before = files(env.app.path());
    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("/secretKey"), "{}", err(&o));
    assert_eq!(files(env.app.path()), before);

    // A root file that does not parse.
    std::fs::write(
        env.app.path().join("index.ts"),
        "registerRootComponent(App;\n",
    )
    .expect("w");
    let before = files(env.app.path());
    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        env.app(),
        "--config",
        &config("stripe"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).starts_with("error: index.ts:1:"), "{}", err(&o));
    assert_eq!(files(env.app.path()), before);

    // Removing what is not there.
    let o = env.run(&["remove", "supabase", "--project", env.app()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o).trim(),
        "error: connector `supabase` is not enabled in this project; no connector is enabled"
    );

    // Not a project.
    let empty = tempfile::tempdir().expect("tempdir");
    let o = env.run(&[
        "add",
        "stripe",
        "--project",
        empty.path().to_str().expect("utf-8"),
        "--config",
        &config("stripe"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("no package.json"), "{}", err(&o));
    assert!(files(empty.path()).is_empty());
}

#[test]
fn project_commands_have_help() {
    let env = setup();
    for cmd in ["add", "remove", "status"] {
        let o = env.run(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd}");
        assert!(out(&o).contains("--project"), "{cmd}");
    }
}
