// Tests fail loudly on the first unexpected error; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::Registry;
use crate::catalog::config::ValidConfig;
use crate::catalog::secret_config::SecretConfig;
use crate::clock::{Clock as _, DAY, ManualClock, Timestamp};
use crate::secrets::vault::{Envelope, KeyProvider as _, LocalKeyring, Vault};

const T0: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

type Service<B = SqliteStore> = CredentialService<B, LocalKeyring, Arc<ManualClock>>;

/// Where a test's store lives: a temporary folder (the SQLite file, the keyring files) and, for
/// PostgreSQL, the database URL and a schema of the test's own (tests run in parallel).
struct Place {
    dir: tempfile::TempDir,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))] // read by the PostgreSQL backend only
    pg: Option<(String, String)>,
}

/// `sql` with each `?N` replaced by `params[N - 1]` as a quoted SQL literal (the tests' raw
/// writes, run the same way on both databases).
fn inline_params(sql: &str, params: &[&str]) -> String {
    let mut out = sql.to_string();
    for (i, value) in params.iter().enumerate().rev() {
        out = out.replace(
            &format!("?{}", i + 1),
            &format!("'{}'", value.replace('\'', "''")),
        );
    }
    out
}

/// A store backend the shared tests run on.
trait Backend: Store + Sized {
    /// A fresh, empty place; `None` when the backend is not available here (PostgreSQL without
    /// `MOBIGEN_TEST_POSTGRES_URL`).
    fn fresh() -> Option<Place>;
    /// Opens (a new connection to) the store at `place`.
    fn open(place: &Place) -> Self;
    /// Runs `sql` (with `?N` placeholders) as a database writer would, outside the store.
    fn exec(place: &Place, sql: &str, params: &[&str]);
    /// Runs `sql` in a transaction that is dropped without commit (a crash mid-write).
    fn exec_uncommitted(place: &Place, sql: &str);
    /// The test failure point.
    fn fail_at(&mut self) -> &mut Option<&'static str>;
}

impl Backend for SqliteStore {
    fn fresh() -> Option<Place> {
        Some(Place {
            dir: tempfile::tempdir().unwrap(),
            pg: None,
        })
    }

    fn open(place: &Place) -> Self {
        SqliteStore::open(&place.dir.path().join("store.db")).unwrap()
    }

    fn exec(place: &Place, sql: &str, params: &[&str]) {
        raw(&place.dir.path().join("store.db"))
            .execute_batch(&inline_params(sql, params))
            .unwrap();
    }

    fn exec_uncommitted(place: &Place, sql: &str) {
        let mut conn = raw(&place.dir.path().join("store.db"));
        let tx = conn.transaction().unwrap();
        tx.execute_batch(sql).unwrap();
        drop(tx);
    }

    fn fail_at(&mut self) -> &mut Option<&'static str> {
        &mut self.fail_at
    }
}

/// The database URL of the PostgreSQL tests (`cargo xtask test` starts a server and sets it).
#[cfg(feature = "postgres")]
const POSTGRES_URL_VAR: &str = "MOBIGEN_TEST_POSTGRES_URL";

#[cfg(feature = "postgres")]
impl Backend for PgStore {
    fn fresh() -> Option<Place> {
        // With the feature on, the PostgreSQL variants must run: a missing server is a failure,
        // not a silent pass.
        let url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VAR} is not set: run the store tests of the postgres feature through \
                 `cargo xtask postgres -- cargo test ...` or `cargo xtask test`, which start a server"
            )
        });
        let schema = format!("t_{}", new_id().unwrap().replace('-', ""));
        Some(Place {
            dir: tempfile::tempdir().unwrap(),
            pg: Some((url, schema)),
        })
    }

    fn open(place: &Place) -> Self {
        let (url, schema) = place.pg.as_ref().unwrap();
        PgStore::connect_in_schema(url, Some(schema)).unwrap()
    }

    fn exec(place: &Place, sql: &str, params: &[&str]) {
        pg_raw(place)
            .batch_execute(&inline_params(sql, params))
            .unwrap();
    }

    fn exec_uncommitted(place: &Place, sql: &str) {
        let mut client = pg_raw(place);
        let mut tx = client.transaction().unwrap();
        tx.batch_execute(sql).unwrap();
        drop(tx);
    }

    fn fail_at(&mut self) -> &mut Option<&'static str> {
        &mut self.fail_at
    }
}

/// A plain connection to the test's schema.
#[cfg(feature = "postgres")]
fn pg_raw(place: &Place) -> ::postgres::Client {
    let (url, schema) = place.pg.as_ref().unwrap();
    let mut client = ::postgres::Client::connect(url, ::postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("SET search_path TO {schema}"))
        .unwrap();
    client
}

/// Runs each named generic test body once per backend: `NAME::sqlite`, and `NAME::postgres`
/// with the `postgres` feature.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name::<super::SqliteStore>();
            }

            #[cfg(feature = "postgres")]
            #[test]
            fn postgres() {
                super::$name::<super::PgStore>();
            }
        }
    )*};
}

on_both_backends!(
    put_then_get_round_trips_and_audits,
    lifecycle_is_enforced_by_the_store,
    credential_rotation_keeps_the_old_version_expiring_then_purges_it,
    key_rotation_keeps_old_records_readable_and_rewrap_moves_them_without_touching_bodies,
    audit_verify_detects_edited_and_deleted_rows,
    ciphertext_moved_to_another_project_fails_and_is_audited,
    an_interrupted_write_leaves_the_store_consistent,
    audit_chain_tampered_and_rehashed_is_detected,
    audit_chain_rewritten_from_the_start_is_detected,
    audit_chain_with_a_dropped_tail_is_detected,
    legacy_unkeyed_entries_verify_as_a_prefix,
    audit_seal_debug_shows_no_key,
    an_older_credentials_version_swapped_into_the_current_row_is_refused,
    credentials_moved_to_another_instance_are_refused,
    legacy_records_still_open_and_a_rewrap_binds_them_to_their_instance,
    concurrent_adds_of_one_connector_leave_one_instance,
    activity_counts_reads_runs_and_errors_per_day,
    activity_of_an_unknown_instance_is_not_found_and_removal_clears_it,
);

fn stripe(secret: &str) -> ValidConfig {
    let registry = Registry::builtin().unwrap();
    registry
        .lookup("stripe")
        .unwrap()
        .validate_config(&json!({
            "publishableKey": "pk_test_PUBLISHABLE",
            "secretKey": secret,
            "webhookSecret": format!("whsec_{}", secret.trim_start_matches("sk_test_")),
        }))
        .unwrap()
}

fn service_with<B: Store>(store: B) -> (Service<B>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let keyring = LocalKeyring::generate_in_memory(T0).unwrap();
    (
        CredentialService::new(store, Vault::new(keyring), clock.clone()),
        clock,
    )
}

/// A service with an in-memory keyring on a fresh store of `B` (`None`: `B` not available).
fn fresh_service<B: Backend>() -> Option<(Service<B>, Arc<ManualClock>, Place)> {
    let place = B::fresh()?;
    let (service, clock) = service_with(B::open(&place));
    Some((service, clock, place))
}

fn actions<B: Store>(service: &Service<B>) -> Vec<AuditAction> {
    service
        .audit_log(None, None)
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect()
}

fn put_then_get_round_trips_and_audits<B: Backend>() {
    let Some((mut service, _, _place)) = fresh_service::<B>() else {
        return;
    };
    let record = service
        .put("p1", stripe("sk_test_SECRETONE"), "alice")
        .unwrap();
    assert_eq!(record.status, Status::Configured);
    assert_eq!(record.config["publishableKey"], "pk_test_PUBLISHABLE");
    assert!(record.config.get("secretKey").is_none());
    assert!(record.credentials_encrypted.starts_with("mgv1:"));
    let opened = service.get(&record.id, "write .env", "bob").unwrap();
    assert_eq!(
        opened
            .config
            .secret("/secretKey")
            .and_then(|s| s.expose_str()),
        Some("sk_test_SECRETONE")
    );
    assert_eq!(
        opened.config.expose_full_config()["webhookSecret"],
        "whsec_SECRETONE"
    );
    assert!(!format!("{opened:?}").contains("SECRETONE"));
    let log = service.audit_log(Some(&record.id), None).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].event.action, AuditAction::Decrypt);
    assert_eq!(log[1].event.actor, "bob");
    assert!(log[1].event.detail.contains("write .env"));
    assert_eq!(
        log[1].event.key_id.as_ref().map(|k| k.to_string()),
        Some(record.encryption_key_id.clone())
    );
    assert!(matches!(
        service.put("p1", stripe("sk_test_OTHER"), "alice"),
        Err(StoreError::AlreadyExists { .. })
    ));
    // Another project may have the same connector.
    service.put("p2", stripe("sk_test_OTHER"), "alice").unwrap();
    assert_eq!(service.list(None).unwrap().len(), 2);
    assert_eq!(service.list(Some("p2")).unwrap().len(), 1);
    assert_eq!(
        service.find("p1", "stripe").unwrap().map(|r| r.id),
        Some(record.id)
    );
}

fn lifecycle_is_enforced_by_the_store<B: Backend>() {
    let Some((mut service, _, _place)) = fresh_service::<B>() else {
        return;
    };
    let installed = service.install("p1", "stripe", "cli").unwrap();
    assert_eq!(installed.status, Status::Installed);
    let id = installed.id;
    assert!(matches!(
        service.enable(&id, "cli"),
        Err(StoreError::IllegalTransition(IllegalTransition {
            from: Status::Installed,
            to: Status::Active
        }))
    ));
    let configured = service.put("p1", stripe("sk_test_A1"), "cli").unwrap();
    assert_eq!(
        (configured.id.as_str(), configured.status),
        (id.as_str(), Status::Configured)
    );
    let failed = service
        .record_validation(&id, false, &json!({"error": "401"}), "cli")
        .unwrap();
    assert_eq!(failed.status, Status::Error);
    assert!(
        service.enable(&id, "cli").is_err(),
        "error -> active needs re-validation"
    );
    let validated = service
        .record_validation(&id, true, &json!({"ok": true}), "cli")
        .unwrap();
    assert_eq!(validated.status, Status::Validated);
    assert_eq!(validated.validation_result, Some(json!({"ok": true})));
    assert_eq!(service.enable(&id, "cli").unwrap().status, Status::Active);
    assert!(matches!(
        service.remove(&id, "cli"),
        Err(StoreError::IllegalTransition(_))
    ));
    assert_eq!(
        service
            .record_validation(&id, true, &json!({}), "cli")
            .unwrap()
            .status,
        Status::Active
    );
    assert_eq!(
        service.disable(&id, "cli").unwrap().status,
        Status::Disabled
    );
    // Disabled keeps credentials.
    assert!(service.get(&id, "check", "cli").is_ok());
    assert_eq!(service.enable(&id, "cli").unwrap().status, Status::Active);
    service.disable(&id, "cli").unwrap();
    let removed = service.remove(&id, "cli").unwrap();
    assert_eq!(removed.status, Status::Removed);
    assert_eq!(removed.credentials_encrypted, "");
    assert!(matches!(
        service.get(&id, "x", "cli"),
        Err(StoreError::WrongStatus { .. })
    ));
    assert!(matches!(
        service.enable(&id, "cli"),
        Err(StoreError::IllegalTransition(_))
    ));
    // The connector can be added again after removal.
    service.put("p1", stripe("sk_test_A2"), "cli").unwrap();
    assert!(service.verify_audit().unwrap().is_intact());
}

fn credential_rotation_keeps_the_old_version_expiring_then_purges_it<B: Backend>() {
    let Some((mut service, clock, _place)) = fresh_service::<B>() else {
        return;
    };
    let id = service.put("p1", stripe("sk_test_OLD"), "cli").unwrap().id;
    let rotated = service
        .rotate_credentials(&id, stripe("sk_test_NEW"), "cli")
        .unwrap();
    assert_eq!(rotated.credentials_version, 2);
    let current = service.get(&id, "env", "cli").unwrap();
    assert_eq!(
        current
            .config
            .secret("/secretKey")
            .and_then(|s| s.expose_str()),
        Some("sk_test_NEW")
    );
    let versions = service.store().credential_versions(&id).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[0].expires_at, T0.plus(DAY * 7));
    let old = service.get_version(&id, 1, "grace period", "cli").unwrap();
    assert_eq!(
        old.secret("/secretKey").and_then(|s| s.expose_str()),
        Some("sk_test_OLD")
    );

    clock.advance(DAY * 6);
    assert_eq!(service.purge_expired("cron").unwrap(), 0);
    clock.advance(DAY);
    assert_eq!(service.purge_expired("cron").unwrap(), 1);
    assert!(matches!(
        service.get_version(&id, 1, "x", "cli"),
        Err(StoreError::VersionNotFound { version: 1, .. })
    ));
    assert!(actions(&service).contains(&AuditAction::PurgeVersion));
    assert!(actions(&service).contains(&AuditAction::RotateCredentials));

    let other = service
        .put(
            "p2",
            crate::Registry::builtin()
                .unwrap()
                .lookup("stripe")
                .unwrap()
                .validate_config(&json!({"publishableKey": "pk_test_1", "secretKey": "sk_test_1"}))
                .unwrap(),
            "cli",
        )
        .unwrap();
    let mut short = service.with_expiring_period(DAY);
    short
        .rotate_credentials(&other.id, stripe("sk_test_2"), "cli")
        .unwrap();
    assert_eq!(
        short.store().credential_versions(&other.id).unwrap()[0].expires_at,
        clock.now().plus(DAY)
    );
}

fn key_rotation_keeps_old_records_readable_and_rewrap_moves_them_without_touching_bodies<
    B: Backend,
>() {
    let Some((mut service, clock, _place)) = fresh_service::<B>() else {
        return;
    };
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = service
            .put(&format!("p{i}"), stripe(&format!("sk_test_K{i}")), "cli")
            .unwrap()
            .id;
        ids.push(id);
    }
    service
        .rotate_credentials(&ids[0], stripe("sk_test_K0NEW"), "cli")
        .unwrap();
    let before: Vec<Envelope> = ids
        .iter()
        .map(|id| {
            Envelope::from_text(&service.instance(id).unwrap().credentials_encrypted).unwrap()
        })
        .collect();
    let old_key = before[0].key_id().clone();
    clock.advance(DAY * 91);
    assert_eq!(
        service
            .keys_due_for_rotation(crate::secrets::vault::DEFAULT_KEY_MAX_AGE)
            .len(),
        1
    );
    let new_key = service.rotate_key("admin").unwrap();
    assert!(
        service.keys_due_for_rotation(crate::secrets::vault::DEFAULT_KEY_MAX_AGE)[0].key_id
            == old_key
    );
    // Old records still decrypt; new ones go under the new key.
    assert!(service.get(&ids[1], "check", "cli").is_ok());
    let fresh = service.put("p9", stripe("sk_test_FRESH"), "cli").unwrap();
    assert_eq!(fresh.encryption_key_id, new_key.to_string());
    assert!(matches!(
        service.retire_key(&old_key, "admin"),
        Err(StoreError::KeyInUse { records: 6, .. })
    ));

    let report = service.rewrap_all_in_batches("admin", 2).unwrap();
    assert_eq!(
        (report.examined, report.rewrapped, report.failed.len()),
        (6, 6, 0)
    );
    for (id, old) in ids.iter().zip(&before) {
        let now =
            Envelope::from_text(&service.instance(id).unwrap().credentials_encrypted).unwrap();
        assert_eq!(now.key_id(), &new_key);
        assert_eq!(now.body(), old.body(), "body of {id} changed");
        assert_eq!(now.nonce(), old.nonce());
    }
    assert_eq!(service.store().count_under_key(&old_key).unwrap(), 0);
    assert_eq!(service.rewrap_all("admin").unwrap().examined, 0);
    service.retire_key(&old_key, "admin").unwrap();
    for id in &ids {
        assert!(service.get(id, "after retire", "cli").is_ok());
    }
    assert!(
        service
            .get_version(&ids[0], 1, "old version", "cli")
            .is_ok()
    );
    assert!(service.verify_audit().unwrap().is_intact());
    assert_eq!(
        actions(&service)
            .iter()
            .filter(|a| **a == AuditAction::Rewrap)
            .count(),
        6
    );
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

fn audit_verify_detects_edited_and_deleted_rows<B: Backend>() {
    let Some((mut service, _, place)) = fresh_service::<B>() else {
        return;
    };
    let id = service
        .put("p1", stripe("sk_test_AUDIT"), "cli")
        .unwrap()
        .id;
    for purpose in ["a", "b", "c", "d"] {
        service.get(&id, purpose, "cli").unwrap();
    }
    let report = service.verify_audit().unwrap();
    assert_eq!((report.entries, report.first_problem), (5, None));
    assert!(report.head.is_some());

    // Edit a row's content.
    B::exec(
        &place,
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3",
        &[],
    );
    let problem = service.verify_audit().unwrap().first_problem.unwrap();
    assert_eq!(
        problem,
        AuditProblem {
            seq: 3,
            kind: ChainBreak::Edited
        }
    );
    assert!(problem.to_string().contains("entry 3 was edited"));

    // Edit it and recompute its own (unkeyed) hash: anyone can, so it does not pass.
    let entry = service.audit_log(None, None).unwrap().remove(2);
    let forged = entry_hash(3, &entry.event, &entry.prev_hash);
    B::exec(
        &place,
        "UPDATE audit_log SET hash = ?1 WHERE seq = 3",
        &[&forged],
    );
    assert_eq!(
        service.verify_audit().unwrap().first_problem,
        Some(AuditProblem {
            seq: 3,
            kind: ChainBreak::Edited
        })
    );

    // A deleted row (in a fresh chain).
    let Some((mut service2, _, place2)) = fresh_service::<B>() else {
        return;
    };
    let id2 = service2
        .put("p1", stripe("sk_test_AUDIT"), "cli")
        .unwrap()
        .id;
    service2.get(&id2, "a", "cli").unwrap();
    service2.get(&id2, "b", "cli").unwrap();
    B::exec(&place2, "DELETE FROM audit_log WHERE seq = 2", &[]);
    assert_eq!(
        service2.verify_audit().unwrap().first_problem,
        Some(AuditProblem {
            seq: 2,
            kind: ChainBreak::Missing
        })
    );
    // Deleting the first row is caught too.
    B::exec(&place2, "DELETE FROM audit_log WHERE seq = 1", &[]);
    assert_eq!(
        service2.verify_audit().unwrap().first_problem,
        Some(AuditProblem {
            seq: 1,
            kind: ChainBreak::Missing
        })
    );
}

fn ciphertext_moved_to_another_project_fails_and_is_audited<B: Backend>() {
    let Some((mut service, _, place)) = fresh_service::<B>() else {
        return;
    };
    let a = service
        .put("project-a", stripe("sk_test_AAA"), "cli")
        .unwrap();
    let b = service
        .put("project-b", stripe("sk_test_BBB"), "cli")
        .unwrap();
    B::exec(
        &place,
        "UPDATE connector_instances SET credentials_encrypted = ?1 WHERE id = ?2",
        &[&a.credentials_encrypted, &b.id],
    );
    let err = service.get(&b.id, "steal", "mallory").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Vault(crate::secrets::vault::VaultError::Decryption)
        ),
        "{err:?}"
    );
    assert_eq!(actions(&service).last(), Some(&AuditAction::DecryptFailed));
}

fn an_interrupted_write_leaves_the_store_consistent<B: Backend>() {
    let Some((mut service, _, place)) = fresh_service::<B>() else {
        return;
    };
    let id = service.put("p1", stripe("sk_test_KEEP"), "cli").unwrap().id;
    let before = service.instance(&id).unwrap();
    let audit_before = service.audit_log(None, None).unwrap().len();

    for point in [
        "change_credentials:after_version",
        "change_credentials:before_audit",
    ] {
        *service.store_mut().fail_at() = Some(point);
        let err = service
            .rotate_credentials(&id, stripe("sk_test_LOST"), "cli")
            .unwrap_err();
        assert!(matches!(err, StoreError::Injected(p) if p == point));
        *service.store_mut().fail_at() = None;
        assert_eq!(service.instance(&id).unwrap(), before, "{point}");
        assert!(
            service.store().credential_versions(&id).unwrap().is_empty(),
            "{point}"
        );
        assert_eq!(
            service.audit_log(None, None).unwrap().len(),
            audit_before,
            "{point}"
        );
    }
    *service.store_mut().fail_at() = Some("insert_instance:before_audit");
    assert!(service.put("p2", stripe("sk_test_LOST"), "cli").is_err());
    *service.store_mut().fail_at() = None;
    assert!(service.find("p2", "stripe").unwrap().is_none());

    // A transaction dropped before commit (a crash between statements) leaves nothing behind.
    B::exec_uncommitted(
        &place,
        &inline_params(
            "UPDATE connector_instances SET status = 'active' WHERE id = ?1; DELETE FROM audit_log",
            &[&id],
        ),
    );
    let reopened = B::open(&place);
    assert_eq!(reopened.instance(&id).unwrap(), before);
    assert!(matches!(
        reopened.verify_audit(),
        Err(StoreError::AuditKeyMissing)
    ));
    assert!(service.verify_audit().unwrap().is_intact());
    assert_eq!(
        service
            .get(&id, "after", "cli")
            .unwrap()
            .config
            .secret("/secretKey")
            .and_then(|s| s.expose_str()),
        Some("sk_test_KEEP")
    );
}

#[test]
fn the_database_files_never_contain_a_plaintext_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let (mut service, _) = service_with(SqliteStore::open(&path).unwrap());
    let secrets = [
        "sk_test_PLAINTEXTONE",
        "sk_test_PLAINTEXTTWO",
        "whsec_PLAINTEXTONE",
    ];
    let id = service.put("p1", stripe(secrets[0]), "cli").unwrap().id;
    service
        .rotate_credentials(&id, stripe(secrets[1]), "cli")
        .unwrap();
    service.get(&id, "env", "cli").unwrap();
    service.get_version(&id, 1, "grace", "cli").unwrap();
    let check = |when: &str, min_files: usize| {
        let mut files = 0;
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let file = entry.unwrap().path();
            let bytes = std::fs::read(&file).unwrap();
            files += 1;
            for secret in secrets.iter().chain(&["PLAINTEXTONE", "PLAINTEXTTWO"]) {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{when}: {} contains {secret}", file.display());
            }
            let public = b"pk_test_PUBLISHABLE";
            if file.extension().is_some_and(|e| e == "db-wal") {
                // The scan sees real data: the public value is there in clear.
                assert!(
                    bytes.windows(public.len()).any(|w| w == public),
                    "{when}: WAL has no data?"
                );
            }
        }
        assert!(
            files >= min_files,
            "{when}: expected {min_files} files, found {files}"
        );
    };
    check("open", 2);
    drop(service);
    // Closing checkpoints the WAL into the database file.
    check("closed", 1);
}

#[test]
fn migrations_are_versioned_and_refuse_newer_databases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    assert_eq!(
        SqliteStore::open(&path).unwrap().schema_version().unwrap(),
        SCHEMA_VERSION
    );
    assert_eq!(
        SqliteStore::open(&path).unwrap().schema_version().unwrap(),
        SCHEMA_VERSION
    );
    let mode: String = raw(&path)
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    raw(&path).pragma_update(None, "user_version", 99).unwrap();
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported: SCHEMA_VERSION
        })
    ));
}

#[test]
fn ids_look_like_uuid_v4() {
    let id = new_id().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    assert_ne!(new_id().unwrap(), id);
}

/// Issue 15 item 5: five processes adding credentials to a fresh store at once all succeed
/// (no "database is locked").
#[test]
fn concurrent_writers_on_a_fresh_store_all_succeed() {
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let barrier = Arc::new(std::sync::Barrier::new(5));
        let threads: Vec<_> = (0..5)
            .map(|i| {
                let path = path.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let store = SqliteStore::open(&path).map_err(|e| e.to_string())?;
                    let (mut service, _) = service_with(store);
                    service
                        .put(&format!("p{i}"), stripe("sk_test_CONCURRENT"), "alice")
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for t in threads {
            let result: Result<(), String> = t.join().unwrap();
            assert!(result.is_ok(), "round {round}: {result:?}");
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.list_instances(None).unwrap().len(), 5);
    }
}

/// A service on the store at `place` and a keyring file in its folder (the audit key and anchor
/// in `keyring.json.audit`).
fn file_service<B: Backend>(place: &Place) -> Service<B> {
    let keyring = LocalKeyring::open_or_create(&place.dir.path().join("keyring.json"), T0).unwrap();
    CredentialService::new(
        B::open(place),
        Vault::new(keyring),
        Arc::new(ManualClock::new(T0)),
    )
}

/// Rewrites every audit row from `from` on with `actor`, recomputing each hash and link the
/// way the unkeyed chain did (what a database writer could do before issue 15 item 13).
fn rewrite_chain_from<B: Backend>(place: &Place, from: i64, actor: &str, keyed: bool) {
    let mut store = B::open(place);
    store.set_audit_seal(
        LocalKeyring::generate_in_memory(T0)
            .unwrap()
            .audit_seal()
            .unwrap(),
    );
    let entries = store.audit_entries(None, None).unwrap();
    let mut prev = entries
        .iter()
        .find(|e| e.seq == from - 1)
        .map_or(GENESIS_HASH.to_string(), |e| e.hash.clone());
    for mut entry in entries.into_iter().filter(|e| e.seq >= from) {
        entry.event.actor = actor.to_string();
        let hash = entry_hash(entry.seq, &entry.event, &prev);
        B::exec(
            place,
            "UPDATE audit_log SET actor = ?1, prev_hash = ?2, hash = ?3, keyed = ?4 WHERE seq = ?5",
            &[
                actor,
                &prev,
                &hash,
                if keyed { "1" } else { "0" },
                &entry.seq.to_string(),
            ],
        );
        prev = hash;
    }
}

/// Issue 15 item 13: a database writer edits an entry and re-hashes the rest of the chain; the
/// unkeyed chain called that intact.
fn audit_chain_tampered_and_rehashed_is_detected<B: Backend>() {
    for keyed_flag in [true, false] {
        let Some(place) = B::fresh() else {
            return;
        };
        let mut service = file_service::<B>(&place);
        let id = service
            .put("p1", stripe("sk_test_AUDIT"), "cli")
            .unwrap()
            .id;
        for purpose in ["a", "b", "c"] {
            service.get(&id, purpose, "cli").unwrap();
        }
        assert!(service.verify_audit().unwrap().is_intact());
        rewrite_chain_from::<B>(&place, 2, "mallory", keyed_flag);
        let report = service.verify_audit().unwrap();
        assert_eq!(
            report.first_problem,
            Some(AuditProblem {
                seq: 2,
                kind: ChainBreak::Edited
            }),
            "keyed flag {keyed_flag}"
        );
        assert!(!report.is_intact());
    }
}

/// Issue 15 item 13: a database writer rewrites the whole chain (every row re-hashed, marked as
/// written before keying); the keyring's anchor no longer matches.
fn audit_chain_rewritten_from_the_start_is_detected<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let mut service = file_service::<B>(&place);
    let id = service
        .put("p1", stripe("sk_test_AUDIT"), "cli")
        .unwrap()
        .id;
    service.get(&id, "a", "cli").unwrap();
    rewrite_chain_from::<B>(&place, 1, "mallory", false);
    let problem = service.verify_audit().unwrap().first_problem.unwrap();
    assert_eq!(problem.kind, ChainBreak::HeadMismatch, "{problem}");
    assert!(problem.to_string().contains("rewritten"), "{problem}");
}

/// Issue 15 item 13: dropping the last rows left an intact-looking chain; the keyring anchors
/// the head, so the cut is reported, also from another process (a fresh keyring and store).
fn audit_chain_with_a_dropped_tail_is_detected<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let dir = place.dir.path();
    let mut service = file_service::<B>(&place);
    let id = service
        .put("p1", stripe("sk_test_AUDIT"), "cli")
        .unwrap()
        .id;
    for purpose in ["a", "b", "c"] {
        service.get(&id, purpose, "cli").unwrap();
    }
    let report = service.verify_audit().unwrap();
    assert_eq!((report.entries, report.anchored_seq), (4, Some(4)));
    B::exec(&place, "DELETE FROM audit_log WHERE seq >= 3", &[]);
    let fresh = file_service::<B>(&place);
    for report in [
        service.verify_audit().unwrap(),
        fresh.verify_audit().unwrap(),
    ] {
        let problem = report.first_problem.unwrap();
        assert_eq!(
            problem,
            AuditProblem {
                seq: 4,
                kind: ChainBreak::Truncated
            }
        );
        assert!(problem.to_string().contains("cut off the end"), "{problem}");
    }
    // Without the keyring's anchor file the store cannot vouch for its own end either.
    std::fs::remove_file(dir.join("keyring.json.audit")).unwrap();
    let err = file_service::<B>(&place)
        .verify_audit()
        .unwrap()
        .first_problem;
    assert!(
        err.is_some(),
        "a new audit key cannot verify the old entries"
    );
}

/// Entries written before the chain was keyed (schema 1) still verify, as a prefix that the
/// first keyed entry then seals.
fn legacy_unkeyed_entries_verify_as_a_prefix<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let dir = place.dir.path();
    let mut service = file_service::<B>(&place);
    let id = service
        .put("p1", stripe("sk_test_AUDIT"), "cli")
        .unwrap()
        .id;
    service.get(&id, "a", "cli").unwrap();
    // Turn the two entries into what schema 1 wrote (unkeyed hashes, keyed = 0).
    rewrite_chain_from::<B>(&place, 1, "cli", false);
    std::fs::remove_file(dir.join("keyring.json.audit")).unwrap();
    let mut service = file_service::<B>(&place);
    let report = service.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.first_problem);
    assert_eq!(report.legacy_entries, 2);
    service.get(&id, "b", "cli").unwrap();
    let report = service.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.first_problem);
    assert_eq!((report.entries, report.legacy_entries), (3, 2));
}

/// Issue 15 item 13: the audit key is not in the store; Debug of the seal shows no key.
fn audit_seal_debug_shows_no_key<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let dir = place.dir.path();
    let mut service = file_service::<B>(&place);
    service.put("p1", stripe("sk_test_AUDIT"), "cli").unwrap();
    let file = std::fs::read_to_string(dir.join("keyring.json.audit")).unwrap();
    let key: serde_json::Value = serde_json::from_str(&file).unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    let seal = service.vault().provider().audit_seal().unwrap();
    assert!(!format!("{seal:?}").contains(&key));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("keyring.json.audit"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

fn secret_key(config: &SecretConfig) -> Option<String> {
    config
        .secret("/secretKey")
        .and_then(|s| s.expose_str())
        .map(str::to_string)
}

/// Issue 15 item 13: the authenticated data named only (project, connector), so a database
/// writer could copy an older credentials version into the current row and it opened as the
/// current credentials. It names the instance and the version now.
fn an_older_credentials_version_swapped_into_the_current_row_is_refused<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let mut service = file_service::<B>(&place);
    let id = service.put("p1", stripe("sk_test_OLD"), "cli").unwrap().id;
    service
        .rotate_credentials(&id, stripe("sk_test_NEW"), "cli")
        .unwrap();
    B::exec(
        &place,
        "UPDATE connector_instances SET credentials_encrypted =
           (SELECT credentials_encrypted FROM credential_versions WHERE instance_id = ?1 AND version = 1)
         WHERE id = ?1",
        &[&id],
    );
    let err = service.get(&id, "swap", "cli").unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Vault(crate::secrets::vault::VaultError::Decryption)
        ),
        "{err}"
    );
    // The kept version still opens as what it is.
    let old = service.get_version(&id, 1, "audit", "cli").unwrap();
    assert_eq!(secret_key(&old).as_deref(), Some("sk_test_OLD"));
}

/// The current credentials of one instance copied into another instance of the same connector
/// in the same project (a removed one, then a new one) do not open there.
fn credentials_moved_to_another_instance_are_refused<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let mut service = file_service::<B>(&place);
    let first = service.put("p1", stripe("sk_test_FIRST"), "cli").unwrap();
    service.remove(&first.id, "cli").unwrap();
    let second = service.put("p1", stripe("sk_test_SECOND"), "cli").unwrap();
    B::exec(
        &place,
        "UPDATE connector_instances SET credentials_encrypted = ?1 WHERE id = ?2",
        &[&first.credentials_encrypted, &second.id],
    );
    assert!(service.get(&second.id, "moved", "cli").is_err());
}

/// Records sealed before the instance binding (project and connector only) still open, and a
/// rewrap pass after a key rotation re-seals them bound to their instance and version.
fn legacy_records_still_open_and_a_rewrap_binds_them_to_their_instance<B: Backend>() {
    let Some(place) = B::fresh() else {
        return;
    };
    let mut service = file_service::<B>(&place);
    let id = service
        .put("p1", stripe("sk_test_LEGACY"), "cli")
        .unwrap()
        .id;
    let opened = service.get(&id, "plaintext", "cli").unwrap();
    let legacy = service
        .vault()
        .encrypt_to_text(
            opened.config.secrets_plaintext().expose_secret(),
            &crate::secrets::vault::Context::new("p1", "stripe"),
        )
        .unwrap();
    B::exec(
        &place,
        "UPDATE connector_instances SET credentials_encrypted = ?1 WHERE id = ?2",
        &[&legacy, &id],
    );
    let opened = service.get(&id, "legacy", "cli").unwrap();
    assert_eq!(
        secret_key(&opened.config).as_deref(),
        Some("sk_test_LEGACY")
    );

    service.rotate_key("admin").unwrap();
    let report = service.rewrap_all("cli").unwrap();
    assert_eq!((report.rewrapped, report.failed.len()), (1, 0));
    let text = service.instance(&id).unwrap().credentials_encrypted;
    let bound = crate::secrets::vault::Context::for_instance("p1", "stripe", &id, 1);
    assert!(service.vault().decrypt_text(&text, &bound).is_ok());
    assert!(
        service
            .vault()
            .decrypt_text(&text, &bound.legacy())
            .is_err()
    );
    assert!(service.verify_audit().unwrap().is_intact());
}

/// PostgreSQL: migrations are recorded in `schema_migrations`, a second open applies nothing,
/// and a database written by a newer version is refused.
#[cfg(feature = "postgres")]
#[test]
fn postgres_migrations_are_versioned_and_refuse_newer_databases() {
    let Some(place) = PgStore::fresh() else {
        return;
    };
    assert_eq!(
        PgStore::open(&place).schema_version().unwrap(),
        PG_SCHEMA_VERSION
    );
    assert_eq!(
        PgStore::open(&place).schema_version().unwrap(),
        PG_SCHEMA_VERSION
    );
    PgStore::exec(
        &place,
        "INSERT INTO schema_migrations (version) VALUES (99)",
        &[],
    );
    let (url, schema) = place.pg.as_ref().unwrap();
    assert!(matches!(
        PgStore::connect_in_schema(url, Some(schema)),
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported: PG_SCHEMA_VERSION
        })
    ));
    assert!(matches!(
        PgStore::connect_in_schema(url, Some("bad; name")),
        Err(StoreError::PostgresConnect(_))
    ));
}

/// PostgreSQL, many writers: 4 threads, each with its own connection (and its own keyring file
/// handle on one shared keyring), open a fresh schema at once (migrations race), then append
/// audit events and rotate the credentials of one instance. Afterwards the audit chain verifies,
/// the version numbers are unique and gapless, and every rotation is counted.
#[cfg(feature = "postgres")]
#[test]
fn postgres_concurrent_writers_keep_one_chain_and_unique_versions() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 15;
    let Some(place) = PgStore::fresh() else {
        return;
    };
    let place = Arc::new(place);
    let id = file_service::<PgStore>(&place)
        .put("p1", stripe("sk_test_START"), "setup")
        .unwrap()
        .id;
    let barrier = Arc::new(std::sync::Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (place, barrier, id) = (Arc::clone(&place), Arc::clone(&barrier), id.clone());
            std::thread::spawn(move || {
                let mut service = file_service::<PgStore>(&place);
                barrier.wait();
                for round in 0..ROUNDS {
                    service
                        .rotate_credentials(&id, stripe(&format!("sk_test_T{t}R{round}")), "writer")
                        .unwrap();
                    service
                        .get(&id, &format!("thread {t} round {round}"), "reader")
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut service = file_service::<PgStore>(&place);
    let record = service.instance(&id).unwrap();
    let rotations = (THREADS * ROUNDS) as i64;
    assert_eq!(record.credentials_version, 1 + rotations);
    let mut versions: Vec<i64> = service
        .store()
        .credential_versions(&id)
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=rotations).collect::<Vec<_>>());
    let report = service.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.first_problem);
    let log = service.audit_log(None, None).unwrap();
    assert_eq!(report.entries, log.len() as u64);
    let count = |action| log.iter().filter(|e| e.event.action == action).count();
    assert_eq!(count(AuditAction::RotateCredentials), THREADS * ROUNDS);
    assert_eq!(count(AuditAction::Decrypt), THREADS * ROUNDS);
    // The last credentials written open.
    assert!(service.get(&id, "after", "check").is_ok());
}

/// Several processes adding the same connector to one project at once: one wins, the others get
/// `AlreadyExists` naming the winner (on PostgreSQL also when the insert itself meets the
/// unique index), and one live instance is left.
fn concurrent_adds_of_one_connector_leave_one_instance<B: Backend + 'static>() {
    const THREADS: usize = 4;
    for round in 0..5 {
        let Some(place) = B::fresh() else {
            return;
        };
        let place = Arc::new(place);
        // Migrate first: this test is about the adds.
        drop(B::open(&place));
        let barrier = Arc::new(std::sync::Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (place, barrier) = (Arc::clone(&place), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let (mut service, _) = service_with(B::open(&place));
                    barrier.wait();
                    match service.put("p1", stripe("sk_test_RACE"), "writer") {
                        Ok(record) => Ok(record.id),
                        Err(StoreError::AlreadyExists { id, .. }) => Err(id),
                        Err(other) => panic!("round {round}: {other}"),
                    }
                })
            })
            .collect();
        let results: Vec<Result<String, String>> =
            threads.into_iter().map(|t| t.join().unwrap()).collect();
        let winners: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        for loser in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(loser, winners[0], "round {round}");
        }
        let (service, _) = service_with(B::open(&place));
        assert_eq!(service.list(Some("p1")).unwrap().len(), 1);
    }
}

fn activity_counts_reads_runs_and_errors_per_day<B: Backend>() {
    let Some((mut service, clock, _place)) = fresh_service::<B>() else {
        return;
    };
    let record = service.put("p1", stripe("sk_test_ACT"), "cli").unwrap();
    let id = record.id;
    let never = service.activity(&id).unwrap();
    assert_eq!(never, InstanceActivity::default());
    assert_eq!(never.to_json(clock.now())["apiCallsToday"], 0);

    // Day 1: two reads, a failed validation (3 requests), a passed test (2 requests).
    service.get(&id, "host read", "cli").unwrap();
    service.get(&id, "host read", "cli").unwrap();
    let failed = json!({"success": false, "requests": 3, "steps": [
        {"name": "API key validation", "passed": false, "details": "HTTP 401 from Stripe"}]});
    assert_eq!(
        service
            .record_validation(&id, false, &failed, "cli")
            .unwrap()
            .status,
        Status::Error
    );
    clock.advance(std::time::Duration::from_secs(60));
    service
        .record_test(&id, &json!({"success": true, "requests": 2, "steps": []}))
        .unwrap();
    let day1 = service.activity(&id).unwrap();
    let today = day1.today(clock.now());
    assert_eq!(
        (today.api_calls, today.credential_reads, today.errors),
        (5, 2, 1)
    );
    assert_eq!(day1.last_used_at, Some(clock.now()));
    let error = day1.last_error.clone().unwrap();
    assert_eq!(error.kind, ActivityKind::Validation);
    assert_eq!(error.message, "API key validation: HTTP 401 from Stripe");
    assert_eq!(error.at, T0);

    // Day 2: an OAuth refresh that failed, and a read; the figures of day 1 stay apart.
    clock.advance(DAY);
    service
        .record_activity(
            &id,
            &ActivityEvent {
                at: clock.now(),
                kind: ActivityKind::OAuthRefresh,
                api_calls: 1,
                error: Some("the provider refused the refresh token".into()),
            },
        )
        .unwrap();
    service.get(&id, "host read", "cli").unwrap();
    let day2 = service.activity(&id).unwrap();
    assert_eq!(day2.days.len(), 2);
    assert_eq!(day2.days[0].day, day2.days[1].day + 1, "newest first");
    assert_eq!(
        (
            day2.days[0].api_calls,
            day2.days[0].credential_reads,
            day2.days[0].errors
        ),
        (1, 1, 1)
    );
    assert_eq!(day2.days[1].api_calls, 5);
    assert_eq!(day2.last_error.unwrap().kind, ActivityKind::OAuthRefresh);
    let shown = service.activity(&id).unwrap().to_json(clock.now());
    assert_eq!(shown["apiCallsToday"], 1);
    assert_eq!(shown["credentialReadsToday"], 1);
    assert_eq!(shown["lastError"]["kind"], "oauth_refresh");
    assert_eq!(shown["days"][1]["apiCalls"], 5);

    // An event recorded late (an older time) moves neither the last use nor the last error back.
    service
        .record_activity(
            &id,
            &ActivityEvent {
                at: T0,
                kind: ActivityKind::Test,
                api_calls: 1,
                error: Some("late".into()),
            },
        )
        .unwrap();
    let late = service.activity(&id).unwrap();
    assert_eq!(late.last_used_at, Some(clock.now()));
    assert_eq!(late.last_error.unwrap().kind, ActivityKind::OAuthRefresh);
    assert_eq!(late.days[1].api_calls, 6, "counted on its own day");

    // Days older than the window are not reported.
    clock.advance(DAY * 40);
    let later = service.activity(&id).unwrap();
    assert!(later.days.is_empty());
    assert_eq!(later.last_used_at, late.last_used_at);

    // A failed decryption is an error of the day too; a huge message is cut.
    B::exec(
        &_place,
        "UPDATE connector_instances SET credentials_encrypted = ?2 WHERE id = ?1",
        &[
            &id,
            &record.credentials_encrypted.replace("mgv1:", "mgv1:A"),
        ],
    );
    assert!(service.get(&id, "after tampering", "cli").is_err());
    service
        .record_test(
            &id,
            &json!({"success": false, "steps": [{"name": "x", "passed": false, "details": "y".repeat(10_000)}]}),
        )
        .unwrap();
    let tampered = service.activity(&id).unwrap();
    assert_eq!(tampered.days[0].errors, 2);
    assert_eq!(tampered.days[0].credential_reads, 1);
    assert_eq!(
        tampered.last_error.unwrap().message.len(),
        activity::MAX_ERROR_MESSAGE
    );
    assert!(service.verify_audit().unwrap().is_intact());
}

fn activity_of_an_unknown_instance_is_not_found_and_removal_clears_it<B: Backend>() {
    let Some((mut service, _, _place)) = fresh_service::<B>() else {
        return;
    };
    let unknown = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        service.activity(unknown),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        service.record_test(unknown, &json!({"success": true})),
        Err(StoreError::NotFound { .. })
    ));
    let id = service.put("p1", stripe("sk_test_GONE"), "cli").unwrap().id;
    service.get(&id, "read", "cli").unwrap();
    assert_eq!(service.activity(&id).unwrap().days.len(), 1);
    service.remove(&id, "cli").unwrap();
    assert_eq!(service.activity(&id).unwrap(), InstanceActivity::default());
}
