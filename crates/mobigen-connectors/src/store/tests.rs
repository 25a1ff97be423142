// Tests fail loudly on the first unexpected error; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::Registry;
use crate::catalog::config::ValidConfig;
use crate::clock::{Clock as _, DAY, ManualClock, Timestamp};
use crate::secrets::vault::{Envelope, LocalKeyring, Vault};

const T0: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

type Service = CredentialService<SqliteStore, LocalKeyring, Arc<ManualClock>>;

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

fn service_with(store: SqliteStore) -> (Service, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let keyring = LocalKeyring::generate_in_memory(T0).unwrap();
    (
        CredentialService::new(store, Vault::new(keyring), clock.clone()),
        clock,
    )
}

fn service() -> (Service, Arc<ManualClock>) {
    service_with(SqliteStore::open_in_memory().unwrap())
}

fn actions(service: &Service) -> Vec<AuditAction> {
    service
        .audit_log(None, None)
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect()
}

#[test]
fn put_then_get_round_trips_and_audits() {
    let (mut service, _) = service();
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

#[test]
fn lifecycle_is_enforced_by_the_store() {
    let (mut service, _) = service();
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

#[test]
fn credential_rotation_keeps_the_old_version_expiring_then_purges_it() {
    let (mut service, clock) = service();
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

#[test]
fn key_rotation_keeps_old_records_readable_and_rewrap_moves_them_without_touching_bodies() {
    let (mut service, clock) = service();
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

#[test]
fn audit_verify_detects_edited_and_deleted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let (mut service, _) = service_with(SqliteStore::open(&path).unwrap());
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
    raw(&path)
        .execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", [])
        .unwrap();
    let problem = service.verify_audit().unwrap().first_problem.unwrap();
    assert_eq!(
        problem,
        AuditProblem {
            seq: 3,
            kind: ChainBreak::Edited
        }
    );
    assert!(problem.to_string().contains("entry 3 was edited"));

    // Edit it and recompute its own hash: the next link breaks.
    let conn = raw(&path);
    let entry = service.audit_log(None, None).unwrap().remove(2);
    let forged = entry_hash(3, &entry.event, &entry.prev_hash);
    conn.execute("UPDATE audit_log SET hash = ?1 WHERE seq = 3", [&forged])
        .unwrap();
    assert_eq!(
        service.verify_audit().unwrap().first_problem,
        Some(AuditProblem {
            seq: 4,
            kind: ChainBreak::BrokenLink
        })
    );

    // A deleted row (in a fresh chain).
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = dir2.path().join("store.db");
    let (mut service2, _) = service_with(SqliteStore::open(&path2).unwrap());
    let id2 = service2
        .put("p1", stripe("sk_test_AUDIT"), "cli")
        .unwrap()
        .id;
    service2.get(&id2, "a", "cli").unwrap();
    service2.get(&id2, "b", "cli").unwrap();
    raw(&path2)
        .execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap();
    assert_eq!(
        service2.verify_audit().unwrap().first_problem,
        Some(AuditProblem {
            seq: 2,
            kind: ChainBreak::Missing
        })
    );
    // Deleting the first row is caught too.
    raw(&path2)
        .execute("DELETE FROM audit_log WHERE seq = 1", [])
        .unwrap();
    assert_eq!(
        service2.verify_audit().unwrap().first_problem,
        Some(AuditProblem {
            seq: 1,
            kind: ChainBreak::Missing
        })
    );
}

#[test]
fn ciphertext_moved_to_another_project_fails_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let (mut service, _) = service_with(SqliteStore::open(&path).unwrap());
    let a = service
        .put("project-a", stripe("sk_test_AAA"), "cli")
        .unwrap();
    let b = service
        .put("project-b", stripe("sk_test_BBB"), "cli")
        .unwrap();
    raw(&path)
        .execute(
            "UPDATE connector_instances SET credentials_encrypted = ?1 WHERE id = ?2",
            [&a.credentials_encrypted, &b.id],
        )
        .unwrap();
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

#[test]
fn an_interrupted_write_leaves_the_store_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let (mut service, _) = service_with(SqliteStore::open(&path).unwrap());
    let id = service.put("p1", stripe("sk_test_KEEP"), "cli").unwrap().id;
    let before = service.instance(&id).unwrap();
    let audit_before = service.audit_log(None, None).unwrap().len();

    for point in [
        "change_credentials:after_version",
        "change_credentials:before_audit",
    ] {
        service.store_mut().fail_at = Some(point);
        let err = service
            .rotate_credentials(&id, stripe("sk_test_LOST"), "cli")
            .unwrap_err();
        assert!(matches!(err, StoreError::Injected(p) if p == point));
        service.store_mut().fail_at = None;
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
    service.store_mut().fail_at = Some("insert_instance:before_audit");
    assert!(service.put("p2", stripe("sk_test_LOST"), "cli").is_err());
    service.store_mut().fail_at = None;
    assert!(service.find("p2", "stripe").unwrap().is_none());

    // A transaction dropped before commit (a crash between statements) leaves nothing behind.
    {
        let mut conn = raw(&path);
        let tx = conn.transaction().unwrap();
        tx.execute(
            "UPDATE connector_instances SET status = 'active' WHERE id = ?1",
            [&id],
        )
        .unwrap();
        tx.execute("DELETE FROM audit_log", []).unwrap();
        drop(tx);
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.instance(&id).unwrap(), before);
    assert!(reopened.verify_audit().unwrap().is_intact());
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
            supported: 1
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
