//! The KMS provider against moto's KMS-compatible server on 127.0.0.1 (`cargo xtask kms -- cargo
//! test -p mobigen-connectors --features kms`, or `cargo xtask test`, start it and set
//! [`URL_VAR`]). Every test makes its own keys under its own alias, so they run in parallel
//! against one server.
// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::json;

use super::kms::{KmsAudit, KmsConfig, KmsKeyProvider};
use super::random::Rng;
use super::{Context, Envelope, KeyProvider, RotateKeys, Vault, VaultError, hex_lower};
use crate::Registry;
use crate::catalog::config::ValidConfig;
use crate::clock::{ManualClock, Timestamp};
use crate::store::{CredentialService, SqliteStore, StoreError};

/// The endpoint of the test server (`cargo xtask kms` / `cargo xtask test` set it).
const URL_VAR: &str = "MOBIGEN_TEST_KMS_URL";

const T0: Timestamp = Timestamp::from_unix_millis(1_700_000_000_000);

fn url() -> String {
    // With the feature on, the KMS tests must run: a missing server is a failure, not a pass.
    std::env::var(URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{URL_VAR} is not set: run the KMS tests through `cargo xtask kms -- cargo test -p \
             mobigen-connectors --features kms` or `cargo xtask test`, which start moto's KMS \
             server on 127.0.0.1"
        )
    })
}

fn unique_alias() -> String {
    let mut bytes = [0u8; 8];
    Rng::Os.fill(&mut bytes).unwrap();
    format!("alias/mobigen-test-{}", hex_lower(&bytes))
}

fn config(alias: &str) -> KmsConfig {
    KmsConfig::new(alias)
        .with_endpoint_url(url())
        .with_region("us-east-1")
}

/// A provider on a new key behind a new alias.
fn fresh(audit: KmsAudit) -> KmsKeyProvider {
    KmsKeyProvider::create(&config(&unique_alias()).with_audit(audit)).unwrap()
}

fn stripe(secret: &str) -> ValidConfig {
    Registry::builtin()
        .unwrap()
        .lookup("stripe")
        .unwrap()
        .validate_config(&json!({
            "publishableKey": "pk_test_PUBLISHABLE",
            "secretKey": secret,
            "webhookSecret": "whsec_1",
        }))
        .unwrap()
}

const SECRET: &[u8] = b"{\"/secretKey\":\"sk_test_KMS\"}";

#[test]
fn kms_vault_encrypts_and_decrypts_under_the_key_arn() {
    let vault = Vault::new(fresh(KmsAudit::None));
    let context = Context::for_instance("project-1", "stripe", "instance-1", 1);
    let envelope = vault.encrypt(SECRET, &context).unwrap();
    let active = vault.provider().active_key_id().unwrap();
    assert_eq!(envelope.key_id(), &active);
    assert!(
        active.as_str().starts_with("arn:aws:kms:us-east-1:"),
        "{active}"
    );
    let text = envelope.to_text();
    assert!(!text.contains("sk_test_KMS"));
    let opened = vault.decrypt_text(&text, &context).unwrap();
    assert_eq!(opened.expose_secret(), SECRET);
}

#[test]
fn kms_refuses_another_context_and_an_altered_wrapped_key() {
    let vault = Vault::new(fresh(KmsAudit::None));
    let context = Context::for_instance("project-1", "stripe", "instance-1", 2);
    let envelope = vault.encrypt(SECRET, &context).unwrap();
    for other in [
        Context::for_instance("project-2", "stripe", "instance-1", 2),
        Context::for_instance("project-1", "supabase", "instance-1", 2),
        Context::for_instance("project-1", "stripe", "instance-2", 2),
        Context::for_instance("project-1", "stripe", "instance-1", 1),
        Context::new("project-1", "stripe"),
    ] {
        assert!(
            matches!(
                vault.decrypt(&envelope, &other),
                Err(VaultError::Decryption)
            ),
            "{other:?}"
        );
    }
    let mut wrapped = envelope.wrapped_key().to_vec();
    let last = wrapped.len() - 1;
    wrapped[last] ^= 1;
    let altered = envelope
        .clone()
        .with_wrapped_key(envelope.key_id().clone(), wrapped);
    assert!(matches!(
        vault.decrypt(&altered, &context),
        Err(VaultError::Decryption)
    ));
    assert!(vault.decrypt(&envelope, &context).is_ok());
}

#[test]
fn kms_refuses_a_record_relabelled_with_another_key() {
    let vault = Vault::new(fresh(KmsAudit::None));
    let other = fresh(KmsAudit::None).active_key_id().unwrap();
    let context = Context::new("project-1", "stripe");
    let envelope = vault.encrypt(SECRET, &context).unwrap();
    let relabelled = envelope
        .clone()
        .with_wrapped_key(other.clone(), envelope.wrapped_key().to_vec());
    let error = vault.decrypt(&relabelled, &context).unwrap_err();
    // Real KMS answers IncorrectKeyException (Decryption); moto answers AccessDeniedException,
    // reported as a provider error. Either way the record does not open.
    match &error {
        VaultError::Decryption => {}
        VaultError::Provider { message, .. } => {
            assert!(message.contains("Decrypt"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(!error.to_string().contains("sk_test_KMS"));
}

#[test]
fn kms_rotation_moves_the_alias_for_every_process_and_old_records_still_open() {
    let alias = unique_alias();
    let mut first = KmsKeyProvider::create(&config(&alias)).unwrap();
    let second = KmsKeyProvider::connect(&config(&alias)).unwrap();
    let context = Context::new("project-1", "stripe");
    let old_key = first.active_key_id().unwrap();
    let old_record = Vault::new(KmsKeyProvider::connect(&config(&alias)).unwrap())
        .encrypt(SECRET, &context)
        .unwrap();

    let new_key = first.rotate_active_key(T0).unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(first.active_key_id().unwrap(), new_key);
    // Another process naming the alias wraps under the new key from its next record.
    let vault = Vault::new(second);
    assert_eq!(vault.provider().active_key_id().unwrap(), new_key);
    let new_record = vault.encrypt(SECRET, &context).unwrap();
    assert_eq!(new_record.key_id(), &new_key);
    assert_eq!(
        vault
            .decrypt(&old_record, &context)
            .unwrap()
            .expose_secret(),
        SECRET
    );

    let mut keys = first.keys();
    keys.sort_by_key(|k| !k.active);
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!((&keys[0].id, keys[0].active), (&new_key, true));
    assert_eq!((&keys[1].id, keys[1].active), (&old_key, false));
    assert!(
        keys.iter()
            .all(|k| k.retired_at.is_none() && k.created_at.is_some())
    );

    assert!(matches!(
        first.retire_key(&new_key, T0),
        Err(VaultError::Unsupported { .. })
    ));

    let rewrapped = vault.rewrap(old_record.clone(), &context).unwrap();
    assert_eq!(rewrapped.key_id(), &new_key);
    assert_eq!(rewrapped.body(), old_record.body());
    assert!(vault.decrypt(&rewrapped, &context).is_ok());
}

#[test]
fn kms_rewrap_through_the_credential_service_then_the_old_key_retires() {
    let dir = tempfile::tempdir().unwrap();
    let audit = KmsAudit::File(dir.path().join("kms.audit"));
    let clock = Arc::new(ManualClock::new(T0));
    let mut service = CredentialService::new(
        SqliteStore::open_in_memory().unwrap(),
        Vault::new(fresh(audit)),
        clock,
    );
    let mut ids = Vec::new();
    for i in 0..3 {
        let record = service
            .put(&format!("p{i}"), stripe(&format!("sk_test_R{i}")), "cli")
            .unwrap();
        ids.push(record.id);
    }
    service
        .rotate_credentials(&ids[0], stripe("sk_test_R0NEW"), "cli")
        .unwrap();
    let old_key = service.vault().provider().active_key_id().unwrap();
    let before = service.instance(&ids[1]).unwrap();
    assert_eq!(before.encryption_key_id, old_key.to_string());

    let new_key = service.rotate_key("admin").unwrap();
    assert!(matches!(
        service.retire_key(&old_key, "admin"),
        Err(StoreError::KeyInUse { records: 4, .. })
    ));
    let report = service.rewrap_all_in_batches("admin", 2).unwrap();
    assert_eq!(
        (report.examined, report.rewrapped, report.failed.len()),
        (4, 4, 0)
    );
    assert_eq!(report.key_id, new_key);
    for id in &ids {
        let record = service.instance(id).unwrap();
        assert_eq!(record.encryption_key_id, new_key.to_string());
        assert!(service.get(id, "check", "cli").is_ok());
    }
    assert_eq!(
        Envelope::from_text(&service.instance(&ids[1]).unwrap().credentials_encrypted)
            .unwrap()
            .body(),
        Envelope::from_text(&before.credentials_encrypted)
            .unwrap()
            .body()
    );
    assert!(service.get_version(&ids[0], 1, "old", "cli").is_ok());

    assert!(matches!(
        service.retire_key(&new_key, "admin"),
        Err(StoreError::KeyInUse { .. })
    ));
    service.retire_key(&old_key, "admin").unwrap();
    let keys = service.vault().provider().keys();
    let old = keys.iter().find(|k| k.id == old_key).unwrap();
    assert!(old.retired_at.is_some() && !old.active);
    assert!(keys.iter().any(|k| k.id == new_key && k.active));
    // A record still under the retired key no longer opens; everything rewrapped does.
    let stale = Envelope::from_text(&before.credentials_encrypted).unwrap();
    let context = Context::for_instance(&before.project_id, "stripe", &before.id, 1);
    assert!(matches!(
        service.vault().decrypt(&stale, &context),
        Err(VaultError::KeyRetired { .. })
    ));
    assert!(service.get(&ids[2], "after retire", "cli").is_ok());
    // The audit key was re-wrapped under the new key before the old one was disabled.
    assert!(service.verify_audit().unwrap().is_intact());
}

#[test]
fn kms_audit_file_keeps_the_key_wrapped_and_processes_share_key_and_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let audit_file = dir.path().join("kms.audit");
    let db = dir.path().join("store.db");
    let alias = unique_alias();
    let cfg = config(&alias).with_audit(KmsAudit::File(audit_file.clone()));
    let first = KmsKeyProvider::create(&cfg).unwrap();
    let seal = first.audit_seal().unwrap();
    assert!(seal.is_anchored());
    let clock = Arc::new(ManualClock::new(T0));
    let mut one = CredentialService::new(
        SqliteStore::open(&db).unwrap(),
        Vault::new(first),
        clock.clone(),
    );
    let record = one.put("p1", stripe("sk_test_A1"), "svc-1").unwrap();

    let text = std::fs::read_to_string(&audit_file).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["format"], "mobigen-kms-audit-anchor");
    assert!(file.get("key").is_none(), "the audit key is never in clear");
    assert!(
        file["wrappedKey"]["keyId"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:kms:")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&audit_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A second process: same alias, same file, same database.
    let mut two = CredentialService::new(
        SqliteStore::open(&db).unwrap(),
        Vault::new(KmsKeyProvider::connect(&cfg).unwrap()),
        clock,
    );
    assert!(two.get(&record.id, "read", "svc-2").is_ok());
    two.put("p2", stripe("sk_test_A2"), "svc-2").unwrap();
    assert!(one.get(&record.id, "read", "svc-1").is_ok());
    let report = one.verify_audit().unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert!(two.verify_audit().unwrap().is_intact());
    assert!(!format!("{:?}", one.vault().provider()).contains(&text));
}

#[test]
fn kms_wrapped_audit_key_in_a_variable_gives_every_instance_the_same_key() {
    let alias = unique_alias();
    let setup = KmsKeyProvider::create(&config(&alias)).unwrap();
    assert!(matches!(
        setup.audit_seal(),
        Err(VaultError::Unsupported { .. })
    ));
    let wrapped = setup.new_wrapped_audit_key().unwrap();
    let cfg = config(&alias).with_audit(KmsAudit::WrappedKey(wrapped.clone()));
    let one = KmsKeyProvider::connect(&cfg).unwrap().audit_seal().unwrap();
    let two = KmsKeyProvider::connect(&cfg).unwrap().audit_seal().unwrap();
    assert!(!one.is_anchored());
    let mac = one.mac_hex(b"entry").unwrap();
    assert!(two.verify_hex(b"entry", &mac).unwrap());

    // The key it is wrapped under cannot be retired until the variable is re-wrapped.
    let mut provider = KmsKeyProvider::connect(&cfg).unwrap();
    let old = provider.active_key_id().unwrap();
    provider.rotate_active_key(T0).unwrap();
    assert!(matches!(
        provider.retire_key(&old, T0),
        Err(VaultError::Unsupported { .. })
    ));
    let rewrapped = provider.wrapped_audit_key_under_active().unwrap();
    assert_ne!(rewrapped, wrapped);
    let moved = config(&alias).with_audit(KmsAudit::WrappedKey(rewrapped));
    let mut provider = KmsKeyProvider::connect(&moved).unwrap();
    provider.retire_key(&old, T0).unwrap();
    let seal = provider.audit_seal().unwrap();
    assert!(seal.verify_hex(b"entry", &mac).unwrap());
    // A data key's blob does not pass for the audit key.
    let bad = config(&alias).with_audit(KmsAudit::WrappedKey("bm90IGEga2V5".into()));
    assert!(KmsKeyProvider::connect(&bad).is_err());
}

#[test]
fn kms_without_an_alias_cannot_rotate() {
    let arn = fresh(KmsAudit::None).active_key_id().unwrap();
    let mut provider = KmsKeyProvider::connect(&config(arn.as_str())).unwrap();
    assert_eq!(provider.active_key_id().unwrap(), arn);
    assert!(matches!(
        provider.rotate_active_key(T0),
        Err(VaultError::Unsupported { .. })
    ));
    assert_eq!(provider.keys().len(), 1);
}

#[test]
fn kms_unreachable_gives_a_clear_error_naming_the_endpoint() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let cfg = KmsConfig::new("alias/nowhere")
        .with_endpoint_url(&endpoint)
        .with_region("us-east-1");
    let error = KmsKeyProvider::connect(&cfg).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, VaultError::Provider { .. }), "{error:?}");
    assert!(message.contains(&endpoint), "{message}");
    assert!(message.contains("cannot reach"), "{message}");
}

#[test]
fn kms_unknown_key_is_a_clear_error() {
    let error = KmsKeyProvider::connect(&config(&unique_alias())).unwrap_err();
    assert!(error.to_string().contains("NotFoundException"), "{error}");
}

#[tokio::test]
async fn kms_provider_works_when_called_inside_a_tokio_runtime() {
    let provider = fresh(KmsAudit::None);
    let generated = provider.generate_data_key(b"aad").unwrap();
    let opened = provider
        .unwrap_data_key(&generated.key_id, &generated.wrapped_key, b"aad")
        .unwrap();
    assert_eq!(opened.expose_secret(), generated.data_key.expose_secret());
    drop(provider);
}

#[test]
fn kms_config_from_env_needs_a_key_id() {
    // Only reads: the variables of this test process are not changed.
    match std::env::var(super::kms::ENV_KMS_KEY_ID) {
        Ok(_) => assert!(KmsConfig::from_env().is_ok()),
        Err(_) => assert!(
            KmsConfig::from_env()
                .unwrap_err()
                .to_string()
                .contains("MOBIGEN_KMS_KEY_ID")
        ),
    }
}
