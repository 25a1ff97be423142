//! The CLI contract: exit codes, `--json` shapes, messages on stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mobigen-connect"))
        .args(args)
        .env_remove("MOBIGEN_CONNECTORS_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(pipe);
    child.wait_with_output().expect("wait")
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_json_has_the_five_with_categories() {
    let out = run(&["list", "--json"], None);
    assert!(out.status.success());
    let json = stdout_json(&out);
    let pairs: Vec<(String, String)> = json["connectors"]
        .as_array()
        .expect("array")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").into(),
                c["category"].as_str().expect("cat").into(),
            )
        })
        .collect();
    let expected = [
        ("firebase", "auth"),
        ("onesignal", "push"),
        ("revenuecat", "iap"),
        ("stripe", "payments"),
        ("supabase", "database"),
    ];
    assert_eq!(pairs, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    let stripe = &json["connectors"][3];
    assert_eq!(stripe["setupDifficulty"], "easy");
    assert_eq!(stripe["authType"], "api-key");
    assert_eq!(stripe["authTypes"], json!(["api-key", "oauth"]));
}

#[test]
fn list_by_category() {
    let out = run(&["list", "--category", "push", "--json"], None);
    assert!(out.status.success());
    assert_eq!(stdout_json(&out)["connectors"][0]["id"], "onesignal");
    assert_eq!(
        stdout_json(&out)["connectors"].as_array().map(Vec::len),
        Some(1)
    );
    let out = run(&["list", "--category", "games"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown category `games`"));
}

#[test]
fn search_typo_ranks_stripe_first() {
    let out = run(&["search", "strpe", "--json"], None);
    assert!(out.status.success());
    let json = stdout_json(&out);
    assert_eq!(json["query"], "strpe");
    assert_eq!(json["results"][0]["id"], "stripe");
    assert!(json["results"][0]["score"].as_u64().is_some_and(|s| s > 0));
    let out = run(&["search", "strpe"], None);
    assert!(
        text(&out.stdout)
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("stripe"))
    );
}

#[test]
fn show_json_includes_the_config_schema() {
    let out = run(&["show", "supabase", "--json"], None);
    assert!(out.status.success());
    let json = stdout_json(&out);
    assert_eq!(json["id"], "supabase");
    assert_eq!(json["configSchema"]["type"], "object");
    assert_eq!(json["fields"]["/serviceRoleKey"]["sensitivity"], "secret");
    let human = run(&["show", "supabase"], None);
    assert!(text(&human.stdout).contains("/serviceRoleKey"));
}

#[test]
fn unknown_id_gets_did_you_mean_and_exit_1() {
    let out = run(&["show", "strpe"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: unknown connector `strpe`; did you mean `stripe`?"
    );
    assert!(out.stdout.is_empty());
}

const SECRET_LOOKALIKE: &str = "pk_test_51HxNotASecret";

#[test]
fn check_config_pk_as_secret_key_fails_naming_secret_key() {
    let config =
        json!({"publishableKey": "pk_test_51Hx", "secretKey": SECRET_LOOKALIKE}).to_string();
    let out = run(&["check-config", "stripe", "--config", "-"], Some(&config));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: invalid config for connector `stripe` (1 problem)"),
        "{err}"
    );
    assert!(err.contains("/secretKey"), "{err}");
    assert!(!err.contains(SECRET_LOOKALIKE), "value printed: {err}");

    let out = run(
        &["check-config", "stripe", "--config", "-", "--json"],
        Some(&config),
    );
    assert_eq!(out.status.code(), Some(1));
    let json = stdout_json(&out);
    assert_eq!(json["valid"], false);
    assert_eq!(json["issues"][0]["pointer"], "/secretKey");
    assert_eq!(json["issues"][0]["severity"], "error");
}

#[test]
fn check_config_valid_from_file_redacts_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("stripe.json");
    std::fs::write(
        &path,
        json!({"publishableKey": "pk_test_51Hx", "secretKey": "sk_test_51HxVerySecret"})
            .to_string(),
    )
    .expect("write");
    let path = path.to_str().expect("utf-8 path");
    let out = run(
        &["check-config", "stripe", "--config", path, "--json"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = stdout_json(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["config"]["secretKey"], "[redacted]");
    assert_eq!(json["config"]["currency"], "usd");
    assert!(!text(&out.stdout).contains("sk_test_51HxVerySecret"));
    let out = run(&["check-config", "stripe", "--config", path], None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("Stripe config is valid.")
    );
}

#[test]
fn check_config_malformed_json_names_file_line_and_column() {
    let out = run(
        &["check-config", "stripe", "--config", "-"],
        Some("{\n  \"secretKey\": ,\n}"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: <stdin>:2:16: not valid JSON"),
        "{err}"
    );
    let out = run(
        &[
            "check-config",
            "stripe",
            "--config",
            "/nonexistent/config.json",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read config file /nonexistent/config.json"));
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["list", "--help"],
        vec!["search", "--help"],
        vec!["show", "--help"],
        vec!["check-config", "--help"],
    ] {
        let out = run(&args, None);
        assert!(out.status.success(), "{args:?}");
        assert!(
            text(&out.stdout).contains("Usage: mobigen-connect"),
            "{args:?}"
        );
    }
}

#[test]
fn extra_connectors_dir_is_loaded_and_bad_ones_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("broken");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("manifest.json"), r#"{"id": "broken"}"#).expect("write");
    let dir_arg = dir.path().to_str().expect("utf-8");
    let out = run(&["--connectors", dir_arg, "list"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("broken/manifest.json: invalid connector manifest"),
        "{err}"
    );
    assert!(
        err.contains("(root): \"name\" is a required property"),
        "{err}"
    );
}
