//! The network commands against mock servers on 127.0.0.1 (through `MOBIGEN_*_API_BASE`).

use std::path::Path;
use std::process::{Command, Output};

use mobigen_connectors::net::mock::{MockResponse, MockServer};
use serde_json::{Value, json};

const SK: &str = "sk_test_51HxCliSecret777";

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mobigen-connect"));
    command.args(args).env_remove("MOBIGEN_CONNECTORS_DIR");
    for (name, _) in std::env::vars() {
        if name.starts_with("MOBIGEN_") {
            command.env_remove(name);
        }
    }
    command.envs(envs.iter().copied());
    command.output().expect("run")
}

fn write_config(dir: &Path, value: &Value) -> String {
    let path = dir.join("config.json");
    std::fs::write(&path, value.to_string()).expect("write config");
    path.display().to_string()
}

fn stripe_config(dir: &Path) -> String {
    write_config(
        dir,
        &json!({"publishableKey": "pk_test_51Hx", "secretKey": SK}),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_json_reports_success_and_failure_with_exit_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = stripe_config(dir.path());
    let server = MockServer::start();
    server.on(
        "GET",
        "/v1/account",
        MockResponse::json(200, json!({"id": "acct_cli", "charges_enabled": true})),
    );
    let base = server.url();
    let out = run(
        &["validate", "stripe", "--config", &config, "--json"],
        &[("MOBIGEN_STRIPE_API_BASE", &base)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["success"], true);
    assert_eq!(report["steps"][0]["details"], "account acct_cli");

    let bad = MockServer::start();
    bad.on("GET", "/v1/account", MockResponse::json(401, json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****e777"}})));
    let base = bad.url();
    let out = run(
        &["validate", "stripe", "--config", &config],
        &[("MOBIGEN_STRIPE_API_BASE", &base)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("field: /secretKey"), "{stdout}");
    assert!(
        !stdout.contains("sk_test_") && !text(&out.stderr).contains(SK),
        "{stdout}"
    );
}

#[test]
fn without_the_override_loopback_http_is_not_used() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = write_config(
        dir.path(),
        &json!({"projectUrl": "https://127.0.0.1:9", "anonKey": "sb_publishable_abc"}),
    );
    let out = run(
        &["validate", "supabase", "--config", &config, "--json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["steps"][0]["field"], "/projectUrl");
}

#[test]
fn test_action_takes_params_and_refuses_bad_configs() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = stripe_config(dir.path());
    let server = MockServer::start();
    server.on(
        "POST",
        "/v1/payment_intents",
        MockResponse::json(
            200,
            json!({"id": "pi_cli", "status": "requires_payment_method", "livemode": false}),
        ),
    );
    server.on(
        "POST",
        "/v1/payment_intents/pi_cli/cancel",
        MockResponse::json(200, json!({"id": "pi_cli", "status": "canceled"})),
    );
    let base = server.url();
    let out = run(
        &[
            "test",
            "stripe",
            "--config",
            &config,
            "--action",
            "payment_intent",
            "--param",
            "amount=2000",
            "--json",
        ],
        &[("MOBIGEN_STRIPE_API_BASE", &base)],
    );
    assert!(
        out.status.success(),
        "{} {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(server.requests()[0].body.starts_with("amount=2000&"));

    let out = run(
        &["test", "stripe", "--config", &config, "--action", "refund"],
        &[("MOBIGEN_STRIPE_API_BASE", &base)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("error: connector `stripe` has no test action `refund`"));

    let out = run(
        &[
            "test",
            "stripe",
            "--config",
            &config,
            "--action",
            "payment_intent",
            "--param",
            "oops",
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed --param is a usage error"
    );

    let broken = write_config(
        dir.path(),
        &json!({"publishableKey": "pk_test_1", "secretKey": "nope"}),
    );
    let out = run(&["validate", "stripe", "--config", &broken], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/secretKey"));
}

#[test]
fn oauth_begin_and_complete_round_trip() {
    let dir = tempfile::tempdir().expect("tmp");
    let state_dir = dir.path().join("state");
    let state_dir = state_dir.to_str().expect("utf-8");
    let keyring = dir.path().join("keyring.json");
    let keyring = keyring.to_str().expect("utf-8");
    let server = MockServer::start();
    server.on("POST", "/v1/oauth/token", MockResponse::json(200, json!({"access_token": "sbp_oauth_cli_access", "refresh_token": "refresh-cli", "expires_in": 3600, "token_type": "Bearer"})));
    let base = server.url();
    let envs = [
        ("MOBIGEN_SUPABASE_OAUTH_API_BASE", base.as_str()),
        ("MOBIGEN_SUPABASE_OAUTH_CLIENT_SECRET", "cli-client-secret"),
        ("MOBIGEN_VAULT_KEYRING", keyring),
    ];
    let out = run(
        &[
            "oauth",
            "begin",
            "supabase",
            "--client-id",
            "cid",
            "--redirect-uri",
            "https://app.example/cb",
            "--state-dir",
            state_dir,
            "--json",
        ],
        &envs,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let begun: Value = serde_json::from_slice(&out.stdout).expect("json");
    let state = begun["state"].as_str().expect("state").to_string();
    assert!(
        begun["url"]
            .as_str()
            .is_some_and(|u| u.contains("code_challenge_method=S256"))
    );
    let pending = Path::new(state_dir)
        .join("oauth")
        .join("supabase.pending.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&pending)
            .expect("pending file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!text(&out.stdout).contains("pkceVerifier"));

    let forged = run(
        &[
            "oauth",
            "complete",
            "supabase",
            "--callback",
            "https://app.example/cb?code=c1&state=forged",
            "--state-dir",
            state_dir,
        ],
        &envs,
    );
    assert_eq!(forged.status.code(), Some(1));
    assert!(text(&forged.stderr).contains("state does not match"));
    assert!(
        pending.exists(),
        "a forged callback does not consume the pending authorization"
    );

    let callback = format!("https://app.example/cb?code=c1&state={state}");
    let out = run(
        &[
            "oauth",
            "complete",
            "supabase",
            "--callback",
            &callback,
            "--state-dir",
            state_dir,
            "--json",
        ],
        &envs,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let done: Value = serde_json::from_slice(&out.stdout).expect("json");
    let tokens_file = done["tokensFile"].as_str().expect("file");
    let sealed = std::fs::read_to_string(tokens_file).expect("tokens");
    assert!(!sealed.contains("sbp_oauth_cli_access") && !sealed.contains("refresh-cli"));
    assert!(!text(&out.stdout).contains("sbp_oauth_cli_access"));
    assert!(!pending.exists());
    assert!(server.requests()[0].body.contains("code_verifier="));
}

#[test]
fn oauth_complete_reports_an_expired_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let state_dir = dir.path().to_str().expect("utf-8");
    let server = MockServer::start();
    server.on("POST", "/oauth/token", MockResponse::json(400, json!({"error": "invalid_grant", "error_description": "Authorization code expired: ac_123"})));
    let base = server.url();
    let envs = [
        ("MOBIGEN_STRIPE_OAUTH_API_BASE", base.as_str()),
        ("MOBIGEN_STRIPE_OAUTH_CLIENT_SECRET", "sk_test_platform1"),
    ];
    let out = run(
        &[
            "oauth",
            "begin",
            "stripe",
            "--client-id",
            "ca_1",
            "--redirect-uri",
            "https://app.example/cb",
            "--state-dir",
            state_dir,
        ],
        &envs,
    );
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("advises against OAuth"));
    let state = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("state: ").map(str::to_string))
        .expect("state line");
    let callback = format!("https://app.example/cb?code=ac_123&state={state}");
    let out = run(
        &[
            "oauth",
            "complete",
            "stripe",
            "--callback",
            &callback,
            "--state-dir",
            state_dir,
        ],
        &envs,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("invalid_grant"),
        "{}",
        text(&out.stderr)
    );

    let out = run(
        &[
            "oauth",
            "begin",
            "onesignal",
            "--client-id",
            "x",
            "--redirect-uri",
            "https://a.example/cb",
            "--state-dir",
            state_dir,
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("has no OAuth flow"));
}

/// A copy of the sample app, and the environment `add` needs for its store and keyring.
fn sample_app(home: &Path) -> (tempfile::TempDir, Vec<(String, String)>) {
    let app = tempfile::tempdir().expect("tmp");
    let status = Command::new("cp")
        .arg("-R")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app/."))
        .arg(app.path())
        .status()
        .expect("cp");
    assert!(status.success());
    let envs = vec![
        ("HOME".into(), home.display().to_string()),
        (
            "MOBIGEN_STORE".into(),
            home.join("store.db").display().to_string(),
        ),
        (
            "MOBIGEN_KEYRING".into(),
            home.join("keyring.json").display().to_string(),
        ),
    ];
    (app, envs)
}

#[test]
fn add_fetches_the_supabase_types_or_takes_them_from_a_file() {
    let home = tempfile::tempdir().expect("tmp");
    let (app, mut envs) = sample_app(home.path());
    let project = app.path().display().to_string();
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sample-configs/supabase.json")
        .display()
        .to_string();
    let server = MockServer::start();
    let swagger = json!({"swagger": "2.0", "definitions": {"profiles": {
        "required": ["id", "username"],
        "properties": {
            "id": {"format": "uuid", "type": "string", "description": "Note:\nThis is a Primary Key.<pk/>"},
            "username": {"format": "text", "type": "string"}
        }
    }}});
    server.on("GET", "/rest/v1/", MockResponse::json(200, swagger));
    envs.push(("MOBIGEN_SUPABASE_API_BASE".into(), server.url()));
    let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "add",
            "supabase",
            "--config",
            &config,
            "--project",
            &project,
        ];
        args.extend_from_slice(extra);
        run(&args, &envs)
    };

    let out = add(&["--fetch", "databaseTypes", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let types = std::fs::read_to_string(app.path().join("src/types/supabase-database.ts"))
        .expect("types written");
    assert!(types.contains("username: string"), "{types}");
    assert_eq!(
        server.requests()[0].header("apikey"),
        Some("sb_secret_SampleOnlyNotARealKey")
    );

    // From a file instead; a file that is not TypeScript is refused and nothing changes.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("database.types.ts");
    std::fs::write(&file, "export type Database = { public: { Tables: {} } }\n").expect("w");
    let supply = format!("databaseTypes={}", file.display());
    let out = add(&["--supply", &supply]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let types =
        std::fs::read_to_string(app.path().join("src/types/supabase-database.ts")).expect("types");
    assert!(types.contains("Tables: {} }"), "{types}");
    std::fs::write(&file, "<html>502</html>").expect("w");
    let out = add(&["--supply", &supply]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("supplied file `databaseTypes`"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(app.path().join("src/types/supabase-database.ts"))
            .expect("kept")
            .contains("Tables: {} }")
    );

    // The service refusing the key stops the add before anything is written.
    let refused = MockServer::start();
    refused.on(
        "GET",
        "/rest/v1/",
        MockResponse::json(401, json!({"message": "Invalid API key"})),
    );
    let fresh_home = tempfile::tempdir().expect("tmp");
    let (fresh, fresh_envs) = sample_app(fresh_home.path());
    let mut fresh_envs: Vec<(String, String)> = fresh_envs;
    fresh_envs.push(("MOBIGEN_SUPABASE_API_BASE".into(), refused.url()));
    let fresh_envs: Vec<(&str, &str)> = fresh_envs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let fresh_project = fresh.path().display().to_string();
    let out = run(
        &[
            "add",
            "supabase",
            "--config",
            &config,
            "--project",
            &fresh_project,
            "--fetch",
            "databaseTypes",
        ],
        &fresh_envs,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("HTTP 401") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("sb_secret_SampleOnlyNotARealKey"),
        "{stderr}"
    );
    assert!(!fresh.path().join(".mobigen").exists());
    assert!(!fresh_home.path().join("store.db").exists());
}
