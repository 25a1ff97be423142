//! The stored side of the CLI: `add` and `remove` with the connector store, `credentials`,
//! `keys`, `audit`, `enable`/`disable`. Every test works in its own temporary folder: the store,
//! the keyring and HOME all point into it, never at the real home.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mobigen_connectors::clock::SystemClock;
use mobigen_connectors::net::mock::{MockResponse, MockServer};
use mobigen_connectors::secrets::vault::{LocalKeyring, Vault};
use mobigen_connectors::store::{AnyStore, CredentialService, StoreAddress};
use serde_json::{Value, json};

const SECRET_1: &str = "sk_test_51FirstSecretValue0001";
const SECRET_2: &str = "sk_test_51SecondSecretValue002";
const PUBLISHABLE: &str = "pk_test_51PublishableKey000001";
/// The test PostgreSQL server's URL.
const POSTGRES_URL_VAR: &str = "MOBIGEN_TEST_POSTGRES_URL";

/// 64 random bits in hex, for names that tests running at once must not share.
fn unique_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", hasher.finish())
}

struct Sandbox {
    dir: tempfile::TempDir,
    /// A PostgreSQL store URL, instead of the store file in the sandbox.
    postgres: Option<String>,
    /// More environment variables for every command.
    env: Vec<(&'static str, String)>,
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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("stdout is not JSON: {}", text(&output.stdout)))
}

fn stripe_config(secret: &str) -> String {
    json!({"publishableKey": PUBLISHABLE, "secretKey": secret}).to_string()
}

impl Sandbox {
    /// A temporary folder with a copy of the sample app in `app/`.
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app");
        copy_dir(&sample, &dir.path().join("app"));
        Sandbox {
            dir,
            postgres: None,
            env: Vec::new(),
        }
    }

    /// As [`Self::new`], with the store in a fresh schema of the test PostgreSQL server
    /// (`MOBIGEN_TEST_POSTGRES_URL`, set by `cargo xtask test` and `cargo xtask postgres`).
    fn on_postgres() -> Sandbox {
        let base = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VAR} is not set: run these tests through `cargo xtask test` or \
                 `cargo xtask postgres -- cargo test -p mobigen-connect`, which start a server"
            )
        });
        let schema = format!("cli_{}", std::process::id()) + &unique_suffix();
        let mut client =
            postgres::Client::connect(&base, postgres::NoTls).expect("connect to the test server");
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .expect("create schema");
        let separator = if base.contains('?') { '&' } else { '?' };
        Sandbox {
            postgres: Some(format!("{base}{separator}options=-csearch_path%3D{schema}")),
            ..Sandbox::new()
        }
    }

    /// What `--store` / `MOBIGEN_STORE` names.
    fn store_address(&self) -> std::ffi::OsString {
        match &self.postgres {
            Some(url) => url.into(),
            None => self.store().into(),
        }
    }

    fn app(&self) -> PathBuf {
        self.dir.path().join("app")
    }

    fn app_arg(&self) -> String {
        self.app().to_str().expect("utf-8").to_string()
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("data/connectors.db")
    }

    /// The default keyring: next to the store file, in the data folder for a PostgreSQL store.
    fn keyring(&self) -> PathBuf {
        match self.postgres {
            Some(_) => self.dir.path().join("home/data/mobigen/vault-keyring.json"),
            None => self.dir.path().join("data/vault-keyring.json"),
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let home = self.dir.path().join("home");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mobigen-connect"))
            .args(args)
            .env("MOBIGEN_STORE", self.store_address())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env_remove("MOBIGEN_KEYRING")
            .env_remove("MOBIGEN_VAULT_KEYRING")
            .env_remove("MOBIGEN_VAULT_KEY")
            .env_remove("MOBIGEN_VAULT_KEY_ID")
            .env_remove("MOBIGEN_VAULT_PREVIOUS_KEYS")
            .env_remove("MOBIGEN_CONNECTORS_DIR")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .expect("write stdin");
        drop(pipe);
        let output = child.wait_with_output().expect("wait");
        for secret in [SECRET_1, SECRET_2] {
            assert!(
                !text(&output.stdout).contains(secret) && !text(&output.stderr).contains(secret),
                "a secret was printed by {args:?}"
            );
        }
        output
    }

    /// `add stripe` with `secret`, config from a file; returns the JSON.
    fn add_stripe(&self, secret: &str) -> Value {
        let config = self.dir.path().join("stripe.json");
        std::fs::write(&config, stripe_config(secret)).expect("write config");
        let out = self.run(
            &[
                "add",
                "stripe",
                "--project",
                &self.app_arg(),
                "--config",
                config.to_str().expect("utf-8"),
                "--json",
            ],
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        stdout_json(&out)
    }

    fn rotate_stripe(&self, secret: &str) -> Output {
        self.run(
            &[
                "credentials",
                "rotate",
                "stripe",
                "--project",
                &self.app_arg(),
                "--config",
                "-",
                "--json",
            ],
            Some(&stripe_config(secret)),
        )
    }

    fn show(&self) -> Output {
        self.run(
            &[
                "credentials",
                "show",
                "stripe",
                "--project",
                &self.app_arg(),
                "--json",
            ],
            None,
        )
    }

    /// The store's files (database, -wal, -shm) that exist, with their bytes.
    fn store_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{}{suffix}", self.store().display())))
            .filter(|p| p.exists())
            .map(|p| {
                let bytes = std::fs::read(&p).expect("read store");
                (p, bytes)
            })
            .collect()
    }

    fn assert_store_has_no(&self, secret: &str) {
        let files = self.store_bytes();
        assert!(!files.is_empty(), "no store file");
        for (path, bytes) in files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a plaintext secret",
                path.display()
            );
        }
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.store()).expect("open store")
    }

    /// The current secret key of the instance, decrypted through the library.
    fn decrypted_secret(&self, instance_id: &str) -> String {
        let keyring = LocalKeyring::open(&self.keyring()).expect("keyring");
        let store = AnyStore::open(&StoreAddress::parse(self.store_address())).expect("store");
        let mut service = CredentialService::new(store, Vault::new(keyring), SystemClock);
        let opened = service
            .get(instance_id, "test reads the stored secret", "test")
            .expect("decrypt");
        opened
            .config
            .secret("/secretKey")
            .and_then(|s| s.expose_str())
            .expect("secretKey")
            .to_string()
    }

    fn env_local(&self) -> String {
        std::fs::read_to_string(self.app().join(".env.local")).expect(".env.local")
    }
}

#[test]
fn add_stores_the_instance_with_secrets_encrypted() {
    let sandbox = Sandbox::new();
    let json = sandbox.add_stripe(SECRET_1);
    assert_eq!(json["kind"], "add");
    let store = &json["store"];
    assert_eq!(store["action"], "created");
    assert_eq!(store["status"], "configured");
    assert_eq!(store["credentialsVersion"], 1);
    let id = store["instanceId"].as_str().expect("instanceId");
    assert!(
        store["projectId"]
            .as_str()
            .is_some_and(|p| p.starts_with("prj-"))
    );

    let shown = sandbox.show();
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    let shown = stdout_json(&shown);
    assert_eq!(shown["instance"]["id"], id);
    assert_eq!(shown["instance"]["keyId"], store["keyId"]);
    assert_eq!(shown["instance"]["expiringVersions"], json!([]));

    sandbox.assert_store_has_no(SECRET_1);
    let public: String = sandbox
        .db()
        .query_row(
            "SELECT config FROM connector_instances WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .expect("row");
    assert!(public.contains(PUBLISHABLE), "public config stored plain");
    assert_eq!(sandbox.decrypted_secret(id), SECRET_1);
    assert!(sandbox.env_local().contains(SECRET_1));

    // Adding again with the same config changes neither the project nor the store.
    let again = sandbox.add_stripe(SECRET_1);
    assert_eq!(again["kind"], "upToDate");
    assert_eq!(again["store"]["action"], "unchanged");
    assert_eq!(again["store"]["credentialsVersion"], 1);
}

#[test]
fn store_file_is_private() {
    let sandbox = Sandbox::new();
    sandbox.add_stripe(SECRET_1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for path in [sandbox.store(), sandbox.keyring()] {
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
        }
    }
    assert!(sandbox.keyring().is_file(), "keyring next to the store");
}

#[test]
fn dry_run_touches_neither_project_nor_store() {
    let sandbox = Sandbox::new();
    let out = sandbox.run(
        &[
            "add",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--config",
            "-",
            "--dry-run",
            "--json",
        ],
        Some(&stripe_config(SECRET_1)),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = stdout_json(&out);
    assert_eq!(json["dryRun"], true);
    assert_eq!(json["store"], Value::Null);
    assert!(!sandbox.store().exists());
    assert!(!sandbox.keyring().exists());
    assert!(!sandbox.app().join(".mobigen").exists());
}

#[test]
fn rotate_keeps_the_old_version_expiring_and_updates_env_local() {
    let sandbox = Sandbox::new();
    let id = sandbox.add_stripe(SECRET_1)["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let out = sandbox.rotate_stripe(SECRET_2);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = stdout_json(&out);
    assert_eq!(json["instance"]["id"], id.as_str());
    assert_eq!(json["instance"]["credentialsVersion"], 2);
    assert_eq!(json["previousVersion"]["version"], 1);
    assert_eq!(
        json["instance"]["expiringVersions"][0]["status"],
        "expiring"
    );
    assert_eq!(json["code"]["kind"], "update");

    let (replaced, expires): (i64, i64) = sandbox
        .db()
        .query_row(
            "SELECT created_at, expires_at FROM credential_versions WHERE instance_id = ?1 AND version = 1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("version 1 kept");
    assert_eq!(expires - replaced, 7 * 86_400_000, "kept for 7 days");

    let env = sandbox.env_local();
    assert!(
        env.contains(SECRET_2) && !env.contains(SECRET_1),
        "{}",
        env.len()
    );
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_2);
    sandbox.assert_store_has_no(SECRET_1);
    sandbox.assert_store_has_no(SECRET_2);

    // Secrets come from --config only: the flag is required.
    let out = sandbox.run(
        &[
            "credentials",
            "rotate",
            "stripe",
            "--project",
            &sandbox.app_arg(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--config <FILE>"));
}

#[test]
fn rotate_refuses_an_invalid_config_and_a_connector_not_stored() {
    let sandbox = Sandbox::new();
    let out = sandbox.rotate_stripe(SECRET_2);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("error: no connector store at"),
        "{}",
        text(&out.stderr)
    );
    sandbox.add_stripe(SECRET_1);
    let out = sandbox.run(
        &[
            "credentials",
            "rotate",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--config",
            "-",
        ],
        Some(&json!({"publishableKey": PUBLISHABLE, "secretKey": "pk_test_wrongKind"}).to_string()),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("/secretKey"),
        "{}",
        text(&out.stderr)
    );
    let out = sandbox.run(
        &[
            "credentials",
            "show",
            "supabase",
            "--project",
            &sandbox.app_arg(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("connector `supabase` has no stored instance"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn keys_rotate_and_rewrap_keep_records_readable() {
    let sandbox = Sandbox::new();
    let added = sandbox.add_stripe(SECRET_1);
    let id = added["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let first_key = added["store"]["keyId"].as_str().expect("key").to_string();
    assert!(sandbox.rotate_stripe(SECRET_2).status.success());

    let out = sandbox.run(&["keys", "rotate", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rotated = stdout_json(&out);
    assert_eq!(rotated["previousKeyId"], first_key.as_str());
    let new_key = rotated["keyId"].as_str().expect("keyId").to_string();
    assert_ne!(new_key, first_key);
    // Not yet re-wrapped: still readable under the old key.
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_2);

    let out = sandbox.run(&["keys", "rewrap", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = stdout_json(&out);
    assert_eq!(report["keyId"], new_key.as_str());
    assert_eq!(report["rewrapped"], 2, "current credentials and version 1");
    assert_eq!(report["failed"], json!([]));

    let shown = stdout_json(&sandbox.show());
    assert_eq!(shown["instance"]["keyId"], new_key.as_str());
    assert_eq!(
        shown["instance"]["expiringVersions"][0]["keyId"],
        new_key.as_str()
    );
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_2);
    sandbox.assert_store_has_no(SECRET_2);

    let out = sandbox.run(&["keys", "list", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = stdout_json(&out);
    let keys = list["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    let active: Vec<&Value> = keys.iter().filter(|k| k["active"] == true).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["id"], new_key.as_str());
    assert!(keys.iter().all(|k| k["dueForRotation"] == false));
    assert_eq!(list["maxAgeDays"], 90);
}

#[test]
fn keys_list_flags_keys_older_than_90_days() {
    let sandbox = Sandbox::new();
    sandbox.add_stripe(SECRET_1);
    // Backdate the key by 100 days in the key file.
    let path = sandbox.keyring();
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let created = file["keys"][0]["createdAt"].as_i64().expect("createdAt");
    file["keys"][0]["createdAt"] = json!(created - 100 * 86_400_000);
    std::fs::write(&path, file.to_string()).expect("write");

    let out = sandbox.run(&["keys", "list", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = &stdout_json(&out)["keys"][0];
    assert_eq!(key["dueForRotation"], true);
    assert_eq!(key["ageDays"], 100);
    let out = sandbox.run(&["keys", "list"], None);
    assert!(
        text(&out.stdout).contains("older than 90 days: rotate"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn audit_verify_passes_then_detects_an_edited_and_a_deleted_row() {
    let sandbox = Sandbox::new();
    sandbox.add_stripe(SECRET_1);
    assert!(sandbox.rotate_stripe(SECRET_2).status.success());

    let out = sandbox.run(&["audit", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let actions: Vec<String> = stdout_json(&out)["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_string())
        .collect();
    assert_eq!(actions, ["encrypt", "rotate-credentials"]);

    let out = sandbox.run(&["audit", "--verify"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Audit log intact: 2 entries"));

    sandbox
        .db()
        .execute(
            "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 1",
            [],
        )
        .expect("tamper");
    let out = sandbox.run(&["audit", "--verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "error: the audit log was tampered with: audit entry 1 was edited: its content does not match its hash"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = sandbox.run(&["audit", "--verify", "--json"], None);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout_json(&out);
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["seq"], 1);
    assert_eq!(report["problem"]["kind"], "edited");

    let sandbox = Sandbox::new();
    sandbox.add_stripe(SECRET_1);
    assert!(sandbox.rotate_stripe(SECRET_2).status.success());
    sandbox
        .db()
        .execute("DELETE FROM audit_log WHERE seq = 1", [])
        .expect("tamper");
    let out = sandbox.run(&["audit", "--verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("audit entry 1 is missing (deleted)"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue 15 item 13: with an unkeyed chain, a database writer could drop the last rows or
/// rewrite and re-hash entries and `audit --verify` said intact. The chain is keyed and its head
/// anchored with the keyring now.
#[test]
fn audit_verify_detects_a_dropped_tail_and_a_rehashed_chain() {
    let sandbox = Sandbox::new();
    sandbox.add_stripe(SECRET_1);
    assert!(sandbox.rotate_stripe(SECRET_2).status.success());
    let out = sandbox.run(&["audit", "--verify"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("The keyring anchors entry 2 as the last one appended"),
        "{}",
        text(&out.stdout)
    );

    sandbox
        .db()
        .execute("DELETE FROM audit_log WHERE seq = 2", [])
        .expect("tamper");
    let out = sandbox.run(&["audit", "--verify"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("audit entries up to 2 were cut off the end"),
        "{}",
        text(&out.stderr)
    );
    let out = sandbox.run(&["audit", "--verify", "--json"], None);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout_json(&out);
    assert_eq!(report["problem"]["kind"], "truncated");
    assert_eq!(report["anchoredSeq"], 2);

    // Rewriting entry 1 and its hash (the library tests re-hash the whole chain with SHA-256;
    // here any hash the writer can compute without the keyring is refused).
    let sandbox = Sandbox::new();
    sandbox.add_stripe(SECRET_1);
    let db = sandbox.db();
    let (hash, prev): (String, String) = db
        .query_row(
            "SELECT hash, prev_hash FROM audit_log WHERE seq = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!(hash.len(), 64);
    db.execute(
        "UPDATE audit_log SET actor = 'mallory', hash = ?1 WHERE seq = 1",
        [format!("{:0>64}", &prev[..8])],
    )
    .expect("tamper");
    let out = sandbox.run(&["audit", "--verify", "--json"], None);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout_json(&out);
    assert_eq!(report["intact"], false);
    assert_eq!(report["problem"]["seq"], 1);
    assert_eq!(report["problem"]["kind"], "edited");
}

#[test]
fn enable_and_disable_follow_the_lifecycle() {
    let mut sandbox = Sandbox::new();
    // Stripe's API, on 127.0.0.1: the key is refused first, then accepted.
    let stripe = MockServer::start();
    stripe
        .on(
            "GET",
            "/v1/account",
            MockResponse::json(
                401,
                json!({"error": {"message": "Invalid API Key provided"}}),
            ),
        )
        .on(
            "GET",
            "/v1/account",
            MockResponse::json(200, json!({"id": "acct_cli", "charges_enabled": true})),
        );
    stripe.on(
        "POST",
        "/v1/payment_intents",
        MockResponse::json(
            200,
            json!({"id": "pi_cli", "status": "requires_payment_method", "livemode": false}),
        ),
    );
    stripe.on(
        "POST",
        "/v1/payment_intents/pi_cli/cancel",
        MockResponse::json(200, json!({"id": "pi_cli", "status": "canceled"})),
    );
    sandbox.env.push(("MOBIGEN_STRIPE_API_BASE", stripe.url()));
    let id = sandbox.add_stripe(SECRET_1)["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let app = sandbox.app_arg();
    let switch = |verb: &str| sandbox.run(&[verb, "stripe", "--project", &app, "--json"], None);
    let status = || {
        let out = sandbox.run(&["status", "--project", &app, "--json"], None);
        assert!(out.status.success(), "{}", text(&out.stderr));
        stdout_json(&out)["connectors"][0]["store"].clone()
    };
    let stored = status();
    assert_eq!(stored["status"], "configured");
    assert_eq!(stored["activity"]["lastUsedAt"], Value::Null);

    // `configured`: not validated yet, so it cannot be switched on or off.
    let out = switch("enable");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "error: cannot enable `stripe`: a connector cannot go from `configured` to `active`"
        ),
        "{err}"
    );
    assert!(err.contains("validated against the service first"), "{err}");
    let out = switch("disable");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("`mobigen-connect validate stripe --stored`"),
        "the hint names the command: {err}"
    );

    // The stored key is checked against the service and the outcome recorded: refused first.
    let validate = || sandbox.run(&["validate", "stripe", "--stored", "--project", &app], None);
    let out = validate();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Recorded in the store: status error"));
    let stored = status();
    assert_eq!(stored["status"], "error");
    assert_eq!(stored["activity"]["apiCallsToday"], 1);
    assert_eq!(stored["activity"]["credentialReadsToday"], 1);
    assert_eq!(stored["activity"]["errorsToday"], 1);
    assert_eq!(stored["activity"]["lastError"]["kind"], "validation");
    let out = validate();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Recorded in the store: status validated"));
    // A test action on the stored credentials counts its two requests.
    let out = sandbox.run(
        &[
            "test",
            "stripe",
            "--stored",
            "--project",
            &app,
            "--action",
            "payment_intent",
            "--json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(stdout_json(&out)["requests"], 2);
    let stored = status();
    assert_eq!(stored["status"], "validated");
    assert_eq!(stored["activity"]["apiCallsToday"], 4);
    assert_eq!(stored["activity"]["credentialReadsToday"], 3);
    assert_eq!(stored["activity"]["errorsToday"], 1);
    let out = sandbox.run(&["status", "--project", &app], None);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("store: validated, credentials version 1")
            && shown.contains("today: 4 API calls, 3 credential reads, 1 errors")
            && shown.contains("last error (validation, "),
        "{shown}"
    );
    // Neither --config nor --stored: clap says what is missing.
    let out = sandbox.run(&["validate", "stripe"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--config <FILE>"),
        "{}",
        text(&out.stderr)
    );
    let _ = &id;

    let out = switch("enable");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = stdout_json(&out);
    assert_eq!(json["previousStatus"], "validated");
    assert_eq!(json["instance"]["status"], "active");

    let out = switch("enable");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim(),
        "error: connector `stripe` is already enabled"
    );

    // An active connector must be disabled before removal; nothing is touched.
    let out = sandbox.run(&["remove", "stripe", "--project", &app], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("must be disabled before it is removed"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        sandbox
            .app()
            .join(".mobigen/connectors.lock.json")
            .is_file()
    );

    let out = switch("disable");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(stdout_json(&out)["instance"]["status"], "disabled");
    // Disabled keeps the code and the credentials.
    assert!(
        sandbox
            .app()
            .join(".mobigen/connectors.lock.json")
            .is_file()
    );
    assert!(sandbox.env_local().contains(SECRET_1));
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_1);
    let out = switch("disable");
    assert_eq!(
        text(&out.stderr).trim(),
        "error: connector `stripe` is already disabled"
    );

    let out = switch("enable");
    assert_eq!(stdout_json(&out)["instance"]["status"], "active");

    let out = sandbox.run(&["audit", "--verify"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn remove_deletes_the_credentials_and_every_version() {
    let sandbox = Sandbox::new();
    let id = sandbox.add_stripe(SECRET_1)["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(sandbox.rotate_stripe(SECRET_2).status.success());

    // A dry run touches neither side.
    let out = sandbox.run(
        &[
            "remove",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--dry-run",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(sandbox.show().status.success());

    let out = sandbox.run(
        &[
            "remove",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json = stdout_json(&out);
    assert_eq!(json["kind"], "remove");
    assert_eq!(json["store"]["action"], "removed");
    assert_eq!(json["store"]["instanceId"], id.as_str());

    let (status, ciphertext): (String, String) = sandbox
        .db()
        .query_row(
            "SELECT status, credentials_encrypted FROM connector_instances WHERE id = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("row");
    assert_eq!(status, "removed");
    assert_eq!(ciphertext, "");
    let versions: i64 = sandbox
        .db()
        .query_row(
            "SELECT count(*) FROM credential_versions WHERE instance_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(versions, 0);
    assert_eq!(sandbox.show().status.code(), Some(1));
    assert!(!sandbox.app().join(".env.local").exists());

    // Adding again starts a fresh instance.
    let again = sandbox.add_stripe(SECRET_1);
    assert_eq!(again["store"]["action"], "created");
    assert_ne!(again["store"]["instanceId"], id.as_str());
}

#[test]
fn set_refuses_secret_fields_and_points_to_config() {
    let sandbox = Sandbox::new();
    let set = format!("secretKey={SECRET_1}");
    let out = sandbox.run(
        &[
            "add",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--set",
            &format!("publishableKey={PUBLISHABLE}"),
            "--set",
            &set,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: --set secretKey=...: `/secretKey` is a secret field"),
        "{err}"
    );
    assert!(
        err.contains("--config FILE") && err.contains("--config -"),
        "{err}"
    );
    assert!(!sandbox.store().exists());
    assert!(!sandbox.app().join(".mobigen").exists());
}

/// Makes `add`'s apply step fail after the store was written: planning reads through the
/// symbolic link `link` (to a folder inside the project's `.mobigen/`, so reading it is allowed),
/// applying refuses to write into the library's own folder through it.
#[cfg(unix)]
fn link_into_the_state_folder(dir: &Path, link: &str) {
    let path = dir.join(link);
    let target = dir.join(".mobigen").join(format!("moved-{link}"));
    std::fs::create_dir_all(dir.join(".mobigen")).expect("mkdir .mobigen");
    if path.exists() {
        std::fs::rename(&path, &target).expect("move");
    } else {
        std::fs::create_dir_all(&target).expect("mkdir target");
    }
    std::os::unix::fs::symlink(&target, &path).expect("symlink");
}

#[cfg(unix)]
#[test]
fn a_failed_injection_undoes_a_new_store_record() {
    let sandbox = Sandbox::new();
    link_into_the_state_folder(&sandbox.app(), "src");
    let out = sandbox.run(
        &[
            "add",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--config",
            "-",
        ],
        Some(&stripe_config(SECRET_1)),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: refusing to write `src/") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(
        err.contains("the project was left unchanged, and the stored instance"),
        "{err}"
    );
    assert!(
        err.contains("was removed again (credentials deleted)"),
        "{err}"
    );
    let live: i64 = sandbox
        .db()
        .query_row(
            "SELECT count(*) FROM connector_instances WHERE status != 'removed' OR credentials_encrypted != ''",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(live, 0);
    assert!(!sandbox.app().join(".mobigen/connectors.lock.json").exists());
    assert!(sandbox.run(&["audit", "--verify"], None).status.success());
}

#[cfg(unix)]
#[test]
fn a_failed_injection_puts_the_previous_credentials_back() {
    let sandbox = Sandbox::new();
    let id = sandbox.add_stripe(SECRET_1)["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    link_into_the_state_folder(&sandbox.app(), ".env.local");
    let out = sandbox.rotate_stripe(SECRET_2);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("the stored credentials were put back to version 1"),
        "{err}"
    );
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_1);
    assert!(sandbox.env_local().contains(SECRET_1));
    sandbox.assert_store_has_no(SECRET_2);
}

#[test]
fn every_new_command_has_help() {
    let sandbox = Sandbox::new();
    for args in [
        vec!["credentials", "--help"],
        vec!["credentials", "rotate", "--help"],
        vec!["credentials", "show", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "list", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["keys", "rewrap", "--help"],
        vec!["audit", "--help"],
        vec!["enable", "--help"],
        vec!["disable", "--help"],
        vec!["add", "--help"],
        vec!["remove", "--help"],
    ] {
        let out = sandbox.run(&args, None);
        assert!(out.status.success(), "{args:?}");
        let help = text(&out.stdout);
        assert!(help.contains("Usage: mobigen-connect"), "{args:?}");
        assert!(help.contains("--store <PATH|URL>"), "{args:?}");
    }
    assert!(!sandbox.store().exists());
}

/// Issue 15, item 7: `add --no-secret-env` with a changed secret gives a plan that is up to date
/// (no file holds the secret), but the store must still take the new secret.
#[test]
fn add_without_secret_env_stores_a_changed_secret() {
    let sandbox = Sandbox::new();
    let add = |secret: &str| {
        let out = sandbox.run(
            &[
                "add",
                "stripe",
                "--project",
                &sandbox.app_arg(),
                "--no-secret-env",
                "--config",
                "-",
                "--json",
            ],
            Some(&stripe_config(secret)),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        stdout_json(&out)
    };
    let first = add(SECRET_1);
    let id = first["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let same = add(SECRET_1);
    assert_eq!(same["store"]["action"], "unchanged", "{same}");
    let second = add(SECRET_2);
    assert_eq!(second["kind"], "upToDate", "{second}");
    assert_eq!(second["store"]["action"], "rotated", "{second}");
    assert_eq!(second["store"]["credentialsVersion"], 2, "{second}");
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_2);
}

/// Every file under `dir` (relative path -> bytes).
fn project_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("prefix");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Issue 15, item 5, as separate processes (the way several CLI calls or service instances
/// meet): five `mobigen-connect add` processes for five connectors on one project and one
/// fresh store, started together, ROUNDS times. Each must succeed (no false conflict, no
/// "database is locked", no half-read keyring) and each round must end byte-equal to the five
/// adds one after the other, with five stored instances.
#[test]
fn five_concurrent_add_processes_equal_sequential_adds() {
    const ROUNDS: usize = 50;
    let ids = ["stripe", "supabase", "revenuecat", "onesignal", "firebase"];
    let configs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-configs");
    let add = |sandbox: &Sandbox, id: &str| {
        let config = configs.join(format!("{id}.json"));
        let home = sandbox.dir.path().join("home");
        Command::new(env!("CARGO_BIN_EXE_mobigen-connect"))
            .args(["add", id, "--project", &sandbox.app_arg(), "--config"])
            .arg(&config)
            .env("MOBIGEN_STORE", sandbox.store())
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env_remove("MOBIGEN_KEYRING")
            .env_remove("MOBIGEN_VAULT_KEYRING")
            .env_remove("MOBIGEN_VAULT_KEY")
            .env_remove("MOBIGEN_VAULT_KEY_ID")
            .env_remove("MOBIGEN_VAULT_PREVIOUS_KEYS")
            .env_remove("MOBIGEN_CONNECTORS_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let sequential = Sandbox::new();
    for id in ids {
        let out = add(&sequential, id).wait_with_output().expect("wait");
        assert!(out.status.success(), "{id}: {}", text(&out.stderr));
    }
    let expected = project_files(&sequential.app());
    for round in 0..ROUNDS {
        let sandbox = Sandbox::new();
        let children: Vec<_> = ids.iter().map(|id| add(&sandbox, id)).collect();
        for (child, id) in children.into_iter().zip(ids) {
            let out = child.wait_with_output().expect("wait");
            assert!(
                out.status.success(),
                "round {round}: add {id}: {}",
                text(&out.stderr)
            );
        }
        assert_eq!(
            project_files(&sandbox.app()),
            expected,
            "round {round}: the project differs from sequential adds"
        );
        let stored: i64 = sandbox
            .db()
            .query_row(
                "SELECT count(*) FROM connector_instances WHERE status = 'configured'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(stored, 5, "round {round}");
    }
}

/// Issue 18: `--store postgres://…` (here `MOBIGEN_STORE`) gives the CLI the same lifecycle as
/// a store file: add, rotate, key rotation and rewrap, audit verification, remove, and the
/// project back byte for byte; no column holds a plaintext secret; the keyring defaults to the
/// user's data folder.
#[test]
fn the_cli_keeps_the_whole_lifecycle_in_a_postgres_store() {
    let sandbox = Sandbox::on_postgres();
    let before = project_files(&sandbox.app());
    let added = sandbox.add_stripe(SECRET_1);
    assert_eq!(added["store"]["action"], "created", "{added}");
    let id = added["store"]["instanceId"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(sandbox.keyring().is_file(), "keyring in the data folder");
    assert!(!sandbox.store().exists(), "no store file beside it");

    let rotated = sandbox.rotate_stripe(SECRET_2);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert_eq!(stdout_json(&rotated)["instance"]["credentialsVersion"], 2);
    for args in [["keys", "rotate", "--json"], ["keys", "rewrap", "--json"]] {
        let out = sandbox.run(&args, None);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
    let shown = stdout_json(&sandbox.show());
    assert_eq!(shown["instance"]["id"], id.as_str());
    assert_eq!(shown["instance"]["expiringVersions"][0]["version"], 1);
    assert_eq!(sandbox.decrypted_secret(&id), SECRET_2);

    // Every row of every table, as text: no secret in clear.
    let mut client =
        postgres::Client::connect(sandbox.postgres.as_deref().expect("url"), postgres::NoTls)
            .expect("connect");
    for table in [
        "connector_instances",
        "credential_versions",
        "audit_log",
        "instance_activity",
        "instance_activity_days",
    ] {
        for row in client
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .expect("rows")
        {
            let row: String = row.get(0);
            assert!(
                !row.contains(SECRET_1) && !row.contains(SECRET_2),
                "{table} holds a plaintext secret"
            );
        }
    }

    let out = sandbox.run(&["audit", "--verify", "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verified = stdout_json(&out);
    assert_eq!(verified["intact"], true, "{verified}");
    assert!(
        verified["anchoredSeq"].as_i64().is_some_and(|seq| seq > 0),
        "{verified}"
    );
    let out = sandbox.run(&["status", "--project", &sandbox.app_arg(), "--json"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The reads above count in the instance's activity, kept in PostgreSQL too.
    let stored = &stdout_json(&out)["connectors"][0]["store"];
    assert_eq!(stored["id"], id.as_str());
    assert!(stored["activity"]["lastUsedAt"].is_string(), "{stored}");
    assert!(
        stored["activity"]["credentialReadsToday"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "{stored}"
    );

    let out = sandbox.run(
        &[
            "remove",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(stdout_json(&out)["store"]["action"], "removed");
    assert_eq!(sandbox.show().status.code(), Some(1));
    let status: String = client
        .query_one(
            "SELECT status FROM connector_instances WHERE id::text = $1",
            &[&id],
        )
        .expect("row")
        .get(0);
    assert_eq!(status, "removed");
    assert_eq!(project_files(&sandbox.app()), before);
}

/// A PostgreSQL store that cannot be reached: a clear error that names the store without its
/// password, and neither the project nor the keyring is touched.
#[test]
fn an_unreachable_postgres_store_is_named_without_its_password_and_nothing_changes() {
    let mut sandbox = Sandbox::new();
    // Port 1 on the loopback: nothing listens there.
    sandbox.postgres = Some("postgres://svc:Pg-Secret-Word@127.0.0.1:1/mobigen".to_string());
    let before = project_files(&sandbox.app());
    let config = sandbox.dir.path().join("stripe.json");
    std::fs::write(&config, stripe_config(SECRET_1)).expect("write config");
    let out = sandbox.run(
        &[
            "add",
            "stripe",
            "--project",
            &sandbox.app_arg(),
            "--config",
            config.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("postgres://svc:***@127.0.0.1:1/mobigen"),
        "{stderr}"
    );
    assert!(!stderr.contains("Pg-Secret-Word"), "{stderr}");
    assert_eq!(project_files(&sandbox.app()), before);
    assert!(!sandbox.keyring().exists());
}

/// Issue 18: with `MOBIGEN_KMS_KEY_ID` set the CLI keeps its keys in AWS KMS (here moto's
/// server from `cargo xtask test` / `cargo xtask kms`, `MOBIGEN_TEST_KMS_URL`): records name the
/// KMS key ARN, `keys rotate` makes a new KMS key active, `keys rewrap` moves the records to it,
/// the audit chain (its key wrapped by KMS in `MOBIGEN_KMS_AUDIT_FILE`) verifies, and no local
/// keyring is created.
#[test]
fn the_cli_keeps_its_keys_in_aws_kms() {
    use mobigen_connectors::secrets::vault::{KmsAudit, KmsConfig, KmsKeyProvider};
    let endpoint = std::env::var("MOBIGEN_TEST_KMS_URL").unwrap_or_else(|_| {
        panic!(
            "MOBIGEN_TEST_KMS_URL is not set: run these tests through `cargo xtask test` or \
             `cargo xtask kms -- cargo test -p mobigen-connect`, which start moto's KMS server"
        )
    });
    let mut sandbox = Sandbox::new();
    let alias = format!("alias/cli-{}", unique_suffix());
    let audit_file = sandbox.dir.path().join("kms-audit.json");
    KmsKeyProvider::create(
        &KmsConfig::new(&alias)
            .with_endpoint_url(&endpoint)
            .with_audit(KmsAudit::File(audit_file.clone())),
    )
    .expect("the first KMS key");
    sandbox.env = vec![
        ("MOBIGEN_KMS_KEY_ID", alias),
        ("AWS_ENDPOINT_URL_KMS", endpoint),
        ("MOBIGEN_KMS_AUDIT_FILE", audit_file.display().to_string()),
    ];
    let run = |args: &[&str], stdin: Option<&str>| {
        let out = sandbox.run(args, stdin);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        stdout_json(&out)
    };
    let app = sandbox.app_arg();
    let added = run(
        &[
            "add",
            "stripe",
            "--project",
            &app,
            "--config",
            "-",
            "--json",
        ],
        Some(&stripe_config(SECRET_1)),
    );
    let first_key = added["store"]["keyId"].as_str().expect("keyId").to_string();
    assert!(first_key.starts_with("arn:aws:kms:"), "{first_key}");
    assert!(sandbox.env_local().contains(SECRET_1));

    let rotated = run(&["keys", "rotate", "--json"], None);
    assert_eq!(rotated["previousKeyId"], first_key.as_str());
    let new_key = rotated["keyId"].as_str().expect("keyId").to_string();
    assert!(new_key.starts_with("arn:aws:kms:") && new_key != first_key);
    let rewrapped = run(&["keys", "rewrap", "--json"], None);
    assert_eq!(rewrapped["rewrapped"], 1, "{rewrapped}");
    assert_eq!(rewrapped["failed"], json!([]));
    let listed = run(&["keys", "list", "--json"], None);
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(2), "{listed}");
    assert!(
        listed["keyring"]
            .as_str()
            .is_some_and(|s| s.contains("AWS KMS"))
    );
    let shown = run(
        &["credentials", "show", "stripe", "--project", &app, "--json"],
        None,
    );
    assert_eq!(shown["instance"]["keyId"], new_key.as_str());
    let verified = run(&["audit", "--verify", "--json"], None);
    assert_eq!(verified["intact"], true, "{verified}");
    run(&["remove", "stripe", "--project", &app, "--json"], None);

    assert!(!sandbox.keyring().exists(), "no local keyring");
    sandbox.assert_store_has_no(SECRET_1);
}
