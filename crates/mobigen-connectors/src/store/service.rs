//! The credential service: what the CLI and the bindings call.

use std::time::Duration;

use serde_json::Value;

use super::activity::{ActivityEvent, ActivityKind, InstanceActivity, first_reported_day};
use super::audit::{AuditAction, AuditEntry, AuditEvent, AuditReport};
use super::lifecycle::Status;
use super::{
    CiphertextSlot, CiphertextUpdate, CredentialChange, InstanceRecord, Store, StoreError, new_id,
};
use crate::catalog::config::ValidConfig;
use crate::catalog::secret_config::SecretConfig;
use crate::clock::{Clock, Timestamp};
use crate::secrets::secret::SecretValue;
use crate::secrets::vault::{
    Context, Envelope, KeyAgeFinding, KeyId, KeyProvider, RotateKeys, Vault, VaultError,
    keys_due_for_rotation,
};

/// How long replaced credentials are kept as `expiring` (7 days).
pub const DEFAULT_EXPIRING_PERIOD: Duration = Duration::from_secs(7 * 86_400);

/// Records per transaction in a rewrap pass.
const REWRAP_BATCH: usize = 1000;

/// How many times a credentials change is made again after another writer changed the same
/// instance first ([`StoreError::Conflict`]).
const CONFLICT_ATTEMPTS: u32 = 20;

/// The key of an instance's OAuth token set among its secrets. It is not a JSON pointer, so it
/// never names a config field, and [`SecretConfig::expose_full_config`] leaves it out.
pub const OAUTH_TOKENS: &str = "#oauth";

/// A decrypted connector instance.
///
/// `Debug` redacts the secrets.
#[derive(Debug, Clone)]
pub struct DecryptedInstance {
    /// The stored record.
    pub record: InstanceRecord,
    /// Its config: public values and decrypted secrets.
    pub config: SecretConfig,
}

/// A record that a rewrap pass could not move to the active key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrapFailure {
    /// Where it is.
    pub slot: CiphertextSlot,
    /// Why (a vault error message: no secret).
    pub error: String,
}

/// What a rewrap pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewrapReport {
    /// The key records were moved to.
    pub key_id: KeyId,
    /// Records looked at (those not under the active key).
    pub examined: u64,
    /// Records re-wrapped.
    pub rewrapped: u64,
    /// Records that could not be (unknown or retired key, tampering).
    pub failed: Vec<RewrapFailure>,
}

/// Connector instances with encrypted credentials, a lifecycle and an audit log.
///
/// ```
/// use mobigen_connectors::clock::SystemClock;
/// use mobigen_connectors::store::{CredentialService, SqliteStore};
/// use mobigen_connectors::secrets::vault::{LocalKeyring, Vault};
/// use mobigen_connectors::{clock::Clock, Registry};
///
/// let keyring = LocalKeyring::generate_in_memory(SystemClock.now())?;
/// let mut service =
///     CredentialService::new(SqliteStore::open_in_memory()?, Vault::new(keyring), SystemClock);
/// let config = serde_json::json!({"publishableKey": "pk_test_1", "secretKey": "sk_test_2"});
/// let valid = Registry::builtin()?.lookup("stripe")?.validate_config(&config)?;
/// let record = service.put("project-1", valid, "cli")?;
/// assert!(!record.credentials_encrypted.contains("sk_test_2"));
/// let opened = service.get(&record.id, "write .env", "cli")?;
/// let secret = opened.config.secret("/secretKey").and_then(|s| s.expose_str());
/// assert_eq!(secret, Some("sk_test_2"));
/// assert!(service.verify_audit()?.is_intact());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct CredentialService<S, P, C> {
    store: S,
    vault: Vault<P>,
    clock: C,
    expiring_period: Duration,
}

impl<S: Store, P: KeyProvider, C: Clock> CredentialService<S, P, C> {
    /// A service over `store`, encrypting with `vault`, reading time from `clock`.
    ///
    /// The store gets the keyring's audit key and anchor ([`KeyProvider::audit_seal`]); with a
    /// provider that has none, every audited operation fails with
    /// [`StoreError::AuditKeyMissing`].
    pub fn new(mut store: S, vault: Vault<P>, clock: C) -> Self {
        if let Ok(seal) = vault.provider().audit_seal() {
            store.set_audit_seal(seal);
        }
        CredentialService {
            store,
            vault,
            clock,
            expiring_period: DEFAULT_EXPIRING_PERIOD,
        }
    }

    /// How long replaced credentials stay `expiring` before [`Self::purge_expired`] deletes them.
    pub fn with_expiring_period(mut self, period: Duration) -> Self {
        self.expiring_period = period;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (tests, maintenance).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The vault.
    pub fn vault(&self) -> &Vault<P> {
        &self.vault
    }

    fn event(
        &self,
        actor: &str,
        action: AuditAction,
        instance_id: Option<&str>,
        key_id: Option<KeyId>,
        detail: String,
    ) -> AuditEvent {
        AuditEvent {
            at: self.clock.now(),
            actor: actor.to_string(),
            action,
            instance_id: instance_id.map(str::to_string),
            key_id,
            detail,
        }
    }

    /// Encrypts `config`'s secrets as credentials `version` of instance `instance_id`.
    fn seal(
        &self,
        config: &SecretConfig,
        project_id: &str,
        instance_id: &str,
        version: i64,
    ) -> Result<Envelope, StoreError> {
        let context =
            Context::for_instance(project_id, config.connector_id(), instance_id, version);
        Ok(self
            .vault
            .encrypt(config.secrets_plaintext().expose_secret(), &context)?)
    }

    /// Registers an installed connector (code injected, no config yet).
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`]; vault and database errors.
    pub fn install(
        &mut self,
        project_id: &str,
        connector_id: &str,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        let empty = SecretConfig::split_owned(
            connector_id.to_string(),
            Value::Object(Default::default()),
            [],
        );
        let id = new_id()?;
        let envelope = self.seal(&empty, project_id, &id, 1)?;
        let now = self.clock.now();
        let record = InstanceRecord {
            id,
            project_id: project_id.to_string(),
            connector_id: connector_id.to_string(),
            config: empty.public().clone(),
            credentials_encrypted: envelope.to_text(),
            encryption_key_id: envelope.key_id().to_string(),
            credentials_version: 1,
            status: Status::Installed,
            last_validated_at: None,
            validation_result: None,
            created_at: now,
            updated_at: now,
        };
        let event = self.event(
            actor,
            AuditAction::StatusChange,
            Some(&record.id),
            None,
            "-> installed".into(),
        );
        self.store.insert_instance(&record, &[event])?;
        Ok(record)
    }

    /// Stores a validated config for `project_id`: public values as JSON, secret fields
    /// encrypted. Creates a `configured` instance, or configures an `installed` one.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] if the project already has a configured instance of the
    /// connector (use [`Self::rotate_credentials`]); vault and database errors.
    pub fn put(
        &mut self,
        project_id: &str,
        config: ValidConfig,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        let config = SecretConfig::from_valid(config);
        if let Some(existing) = self
            .store
            .find_instance(project_id, config.connector_id())?
        {
            if existing.status != Status::Installed {
                return Err(StoreError::AlreadyExists {
                    project_id: project_id.to_string(),
                    connector_id: existing.connector_id,
                    id: existing.id,
                });
            }
            return self.replace(&existing, &config, false, Some(Status::Configured), actor);
        }
        let id = new_id()?;
        let envelope = self.seal(&config, project_id, &id, 1)?;
        let now = self.clock.now();
        let record = InstanceRecord {
            id,
            project_id: project_id.to_string(),
            connector_id: config.connector_id().to_string(),
            config: config.public().clone(),
            credentials_encrypted: envelope.to_text(),
            encryption_key_id: envelope.key_id().to_string(),
            credentials_version: 1,
            status: Status::Configured,
            last_validated_at: None,
            validation_result: None,
            created_at: now,
            updated_at: now,
        };
        let event = self.event(
            actor,
            AuditAction::Encrypt,
            Some(&record.id),
            Some(envelope.key_id().clone()),
            "credentials version 1 stored; -> configured".into(),
        );
        self.store.insert_instance(&record, &[event])?;
        Ok(record)
    }

    /// Replaces the credentials of `existing` with `config`; `keep_previous` keeps the replaced
    /// ones as a version expiring after the expiring period.
    fn replace(
        &mut self,
        existing: &InstanceRecord,
        config: &SecretConfig,
        keep_previous: bool,
        new_status: Option<Status>,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        self.replace_noting(existing, config, keep_previous, new_status, "", actor)
    }

    /// [`Self::replace`] with `note` appended to the audit detail.
    fn replace_noting(
        &mut self,
        existing: &InstanceRecord,
        config: &SecretConfig,
        keep_previous: bool,
        new_status: Option<Status>,
        note: &str,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        // One reading of the clock: the kept version expires exactly one period after it was
        // replaced.
        let now = self.clock.now();
        let keep_previous_until = keep_previous.then(|| now.plus(self.expiring_period));
        if config.connector_id() != existing.connector_id {
            return Err(StoreError::ConnectorMismatch {
                id: existing.id.clone(),
                expected: existing.connector_id.clone(),
                given: config.connector_id().to_string(),
            });
        }
        let next = existing.credentials_version + 1;
        let envelope = self.seal(config, &existing.project_id, &existing.id, next)?;
        let change = CredentialChange {
            config: config.public().clone(),
            credentials_encrypted: envelope.to_text(),
            encryption_key_id: envelope.key_id().clone(),
            keep_previous_until,
            new_status,
            replaces_version: existing.credentials_version,
        };
        let (action, detail) = match keep_previous_until {
            Some(until) => (
                AuditAction::RotateCredentials,
                format!(
                    "credentials version {next} stored; version {} expiring until {until}",
                    existing.credentials_version
                ),
            ),
            None => (
                AuditAction::Encrypt,
                format!("credentials version {next} stored{note}"),
            ),
        };
        let event = self.event(
            actor,
            action,
            Some(&existing.id),
            Some(envelope.key_id().clone()),
            detail,
        );
        self.store
            .change_credentials(&existing.id, &change, now, &[event])
    }

    /// Replaces the credentials of `id` with a newly validated config. The old ones stay
    /// decryptable as an `expiring` version for the expiring period (7 days by default), then
    /// [`Self::purge_expired`] deletes them. The status is kept: validate the new credentials
    /// and record it with [`Self::record_validation`].
    ///
    /// # Errors
    /// [`StoreError::ConnectorMismatch`], [`StoreError::NotFound`], [`StoreError::WrongStatus`]
    /// for a removed instance; vault and database errors.
    pub fn rotate_credentials(
        &mut self,
        id: &str,
        config: ValidConfig,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        let config = SecretConfig::from_valid(config);
        let mut attempt = 1;
        loop {
            let existing = self.store.instance(id)?;
            let replaced = if existing.status == Status::Installed {
                self.replace(&existing, &config, false, Some(Status::Configured), actor)
            } else {
                self.replace(&existing, &config, true, None, actor)
            };
            // Another writer rotated meanwhile: the new credentials replace theirs (kept as
            // an expiring version), sealed again for the next number.
            match replaced {
                Err(StoreError::Conflict { .. }) if attempt < CONFLICT_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// Stores an OAuth token set (the JSON a host's token store makes of it, such as
    /// `net::oauth::TokenSet::to_secret_value`) with the credentials of `id`, under the key
    /// [`OAUTH_TOKENS`] of its secrets: encrypted like them, re-wrapped with them, deleted with
    /// the instance. The previous token set is not kept (a refreshed token replaces it); the
    /// other secrets stay as they are. Audited as a new credentials version.
    ///
    /// Replacing the credentials with [`Self::rotate_credentials`] replaces the whole secret set:
    /// store the tokens again afterwards.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::WrongStatus`] for a removed instance; vault and
    /// database errors.
    pub fn save_oauth_tokens(
        &mut self,
        id: &str,
        tokens: SecretValue,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        let mut attempt = 1;
        loop {
            let current = self.get(id, "store OAuth tokens", actor)?;
            let config = current.config.with_secret(OAUTH_TOKENS, tokens.clone());
            // Another writer changed the credentials meanwhile: merge into theirs.
            match self.replace_noting(
                &current.record,
                &config,
                false,
                None,
                " (OAuth tokens)",
                actor,
            ) {
                Err(StoreError::Conflict { .. }) if attempt < CONFLICT_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// The OAuth token set stored for `id` with [`Self::save_oauth_tokens`], if any. The
    /// decryption is audited with `purpose`.
    ///
    /// # Errors
    /// As [`Self::get`].
    pub fn oauth_tokens(
        &mut self,
        id: &str,
        purpose: &str,
        actor: &str,
    ) -> Result<Option<SecretValue>, StoreError> {
        let opened = self.get(id, purpose, actor)?;
        Ok(opened.config.secret(OAUTH_TOKENS).cloned())
    }

    /// Decrypts credentials `version` of `record` (from `text`), bound to the instance and
    /// version; a record written before that binding existed opens with the project and
    /// connector alone (see [`Context::legacy`]).
    fn open(
        &mut self,
        record: &InstanceRecord,
        text: &str,
        version: i64,
        detail: String,
        actor: &str,
    ) -> Result<SecretConfig, StoreError> {
        let context = Context::for_instance(
            &record.project_id,
            &record.connector_id,
            &record.id,
            version,
        );
        let key_id = KeyId::new(&text_key_id(text).unwrap_or_else(|| "unknown".into())).ok();
        let decrypted = match self.vault.decrypt_text(text, &context) {
            Err(VaultError::Decryption) => self
                .vault
                .decrypt_text(text, &context.legacy())
                .map_err(|_| VaultError::Decryption),
            other => other,
        };
        match decrypted {
            Ok(plaintext) => {
                let config = SecretConfig::from_parts(
                    record.connector_id.clone(),
                    record.config.clone(),
                    &plaintext,
                )?;
                let event = self.event(
                    actor,
                    AuditAction::Decrypt,
                    Some(&record.id),
                    key_id,
                    detail,
                );
                // No audit entry, no plaintext.
                let read = ActivityEvent::credential_read(event.at);
                self.store.record_activity(&record.id, &read, &[event])?;
                Ok(config)
            }
            Err(error) => {
                let event = self.event(
                    actor,
                    AuditAction::DecryptFailed,
                    Some(&record.id),
                    key_id,
                    format!("{detail}; {error}"),
                );
                let read = ActivityEvent {
                    error: Some(format!("credentials version {version}: {error}")),
                    ..ActivityEvent::credential_read(event.at)
                };
                // The decryption error matters more than a failure to log it.
                let _ = self.store.record_activity(&record.id, &read, &[event]);
                Err(error.into())
            }
        }
    }

    /// Decrypts the current credentials of `id` for `purpose` (recorded in the audit log with
    /// `actor`).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::WrongStatus`] for a removed instance;
    /// [`StoreError::Vault`] if decryption fails (also audited); database errors (no plaintext
    /// is returned if the audit entry cannot be written).
    pub fn get(
        &mut self,
        id: &str,
        purpose: &str,
        actor: &str,
    ) -> Result<DecryptedInstance, StoreError> {
        let record = self.store.instance(id)?;
        if record.status == Status::Removed {
            return Err(StoreError::WrongStatus {
                id: id.to_string(),
                status: record.status,
                reason: "its credentials were deleted",
            });
        }
        let text = record.credentials_encrypted.clone();
        let detail = format!("version {}; purpose: {purpose}", record.credentials_version);
        let config = self.open(&record, &text, record.credentials_version, detail, actor)?;
        Ok(DecryptedInstance { record, config })
    }

    /// Decrypts a kept (expiring) credentials version of `id`.
    ///
    /// # Errors
    /// [`StoreError::VersionNotFound`] if it was purged or never existed; as [`Self::get`].
    pub fn get_version(
        &mut self,
        id: &str,
        version: i64,
        purpose: &str,
        actor: &str,
    ) -> Result<SecretConfig, StoreError> {
        let record = self.store.instance(id)?;
        let kept = self
            .store
            .credential_versions(id)?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| StoreError::VersionNotFound {
                id: id.to_string(),
                version,
            })?;
        let detail = format!("version {version} (expiring); purpose: {purpose}");
        self.open(&record, &kept.credentials_encrypted, version, detail, actor)
    }

    /// Deletes the expiring versions whose time is up. Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub fn purge_expired(&mut self, actor: &str) -> Result<u64, StoreError> {
        let now = self.clock.now();
        let actor = actor.to_string();
        self.store.purge_expired_versions(now, &mut |v| AuditEvent {
            at: now,
            actor: actor.clone(),
            action: AuditAction::PurgeVersion,
            instance_id: Some(v.instance_id.clone()),
            key_id: KeyId::new(&v.encryption_key_id).ok(),
            detail: format!("version {} expired at {}", v.version, v.expires_at),
        })
    }

    /// The live instance of `connector_id` in `project_id`.
    ///
    /// # Errors
    /// Database errors.
    pub fn find(
        &self,
        project_id: &str,
        connector_id: &str,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        self.store.find_instance(project_id, connector_id)
    }

    /// The instance `id` (no decryption).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    pub fn instance(&self, id: &str) -> Result<InstanceRecord, StoreError> {
        self.store.instance(id)
    }

    /// Instances of `project_id`, or of every project.
    ///
    /// # Errors
    /// Database errors.
    pub fn list(&self, project_id: Option<&str>) -> Result<Vec<InstanceRecord>, StoreError> {
        self.store.list_instances(project_id)
    }

    /// Records the outcome of checking the credentials against the service: success moves a
    /// `configured` or `error` instance to `validated`; failure moves it to `error`. Other
    /// statuses keep their status on success (re-validation of an active connector). The run
    /// counts in the instance's activity ([`Self::activity`]: its `requests`, and its first
    /// failed step as the last error).
    ///
    /// # Errors
    /// [`StoreError::IllegalTransition`] (validating an `installed` or `removed` instance);
    /// [`StoreError::NotFound`]; database errors.
    pub fn record_validation(
        &mut self,
        id: &str,
        ok: bool,
        result: &Value,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        let record = self.set_validation(id, ok, result, actor)?;
        let event = ActivityEvent::from_report(self.clock.now(), ActivityKind::Validation, result);
        self.store.record_activity(id, &event, &[])?;
        Ok(record)
    }

    /// Records a test action's run (its report, a [`crate::net::CheckReport`] as JSON) in the
    /// activity of instance `id`; the status does not change.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    pub fn record_test(&mut self, id: &str, report: &Value) -> Result<(), StoreError> {
        let event = ActivityEvent::from_report(self.clock.now(), ActivityKind::Test, report);
        self.store.record_activity(id, &event, &[])
    }

    /// Records one use of instance `id` in its activity (a host's own calls to the service;
    /// the service itself records credential reads, validations, tests and OAuth refreshes).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    pub fn record_activity(&mut self, id: &str, event: &ActivityEvent) -> Result<(), StoreError> {
        self.store.record_activity(id, event, &[])
    }

    /// The activity of instance `id` over the last [`activity::ACTIVITY_DAYS`] days: last use,
    /// last error, API calls and credential reads per day.
    ///
    /// [`activity::ACTIVITY_DAYS`]: super::activity::ACTIVITY_DAYS
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    pub fn activity(&self, id: &str) -> Result<InstanceActivity, StoreError> {
        self.store
            .activity(id, first_reported_day(self.clock.now()))
    }

    /// The time the service reads from its clock (what [`InstanceActivity::to_json`] counts
    /// "today" from).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn set_validation(
        &mut self,
        id: &str,
        ok: bool,
        result: &Value,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        let current = self.store.instance(id)?;
        let target = match (ok, current.status) {
            (true, Status::Configured | Status::Error) => Some(Status::Validated),
            (true, Status::Validated | Status::Active | Status::Disabled) => None,
            (false, Status::Error) => None,
            (false, _) => Some(Status::Error),
            (true, other) => {
                return Err(StoreError::WrongStatus {
                    id: id.to_string(),
                    status: other,
                    reason: "only a configured connector can be validated",
                });
            }
        };
        match target {
            Some(to) => {
                let event = self.event(
                    actor,
                    AuditAction::StatusChange,
                    Some(id),
                    None,
                    format!("{} -> {to} (validation)", current.status),
                );
                self.store
                    .set_status(id, to, Some(result), self.clock.now(), &[event])
            }
            None => self.store.record_validation(id, result, self.clock.now()),
        }
    }

    /// Moves `id` to `to`, following the lifecycle.
    ///
    /// # Errors
    /// [`StoreError::IllegalTransition`]; [`StoreError::NotFound`]; database errors.
    pub fn set_status(
        &mut self,
        id: &str,
        to: Status,
        actor: &str,
    ) -> Result<InstanceRecord, StoreError> {
        if to == Status::Removed {
            return self.remove(id, actor);
        }
        let current = self.store.instance(id)?;
        let event = self.event(
            actor,
            AuditAction::StatusChange,
            Some(id),
            None,
            format!("{} -> {to}", current.status),
        );
        self.store
            .set_status(id, to, None, self.clock.now(), &[event])
    }

    /// `active` (from `validated` or `disabled`).
    ///
    /// # Errors
    /// As [`Self::set_status`].
    pub fn enable(&mut self, id: &str, actor: &str) -> Result<InstanceRecord, StoreError> {
        self.set_status(id, Status::Active, actor)
    }

    /// `disabled`: credentials and code kept, connector off.
    ///
    /// # Errors
    /// As [`Self::set_status`].
    pub fn disable(&mut self, id: &str, actor: &str) -> Result<InstanceRecord, StoreError> {
        self.set_status(id, Status::Disabled, actor)
    }

    /// `removed`: deletes the credentials and every kept version (the injector removes the code).
    ///
    /// # Errors
    /// [`StoreError::IllegalTransition`] (an active connector must be disabled first);
    /// [`StoreError::NotFound`]; database errors.
    pub fn remove(&mut self, id: &str, actor: &str) -> Result<InstanceRecord, StoreError> {
        let current = self.store.instance(id)?;
        let event = self.event(
            actor,
            AuditAction::Delete,
            Some(id),
            KeyId::new(&current.encryption_key_id).ok(),
            format!("credentials deleted; {} -> removed", current.status),
        );
        self.store.remove_instance(id, self.clock.now(), &[event])
    }

    /// Re-wraps every stored record not under the active key (current credentials and kept
    /// versions), in batches of 1,000 per transaction. Bodies are not re-encrypted. A record that
    /// cannot be re-wrapped is reported and left as it is.
    ///
    /// # Errors
    /// Provider and database errors (batches already committed stay committed; running again
    /// continues).
    pub fn rewrap_all(&mut self, actor: &str) -> Result<RewrapReport, StoreError> {
        self.rewrap_all_in_batches(actor, REWRAP_BATCH)
    }

    /// [`Self::rewrap_all`] with `batch` records per transaction.
    ///
    /// # Errors
    /// As [`Self::rewrap_all`].
    pub fn rewrap_all_in_batches(
        &mut self,
        actor: &str,
        batch: usize,
    ) -> Result<RewrapReport, StoreError> {
        let active = self.vault.provider().active_key_id()?;
        let mut report = RewrapReport {
            key_id: active.clone(),
            examined: 0,
            rewrapped: 0,
            failed: Vec::new(),
        };
        let mut after = 0;
        loop {
            let page = self
                .store
                .ciphertexts_not_under(&active, after, batch.max(1))?;
            let Some(last) = page.last() else { break };
            after = last.cursor;
            let mut updates = Vec::with_capacity(page.len());
            for stored in page {
                report.examined += 1;
                let context = Context::for_instance(
                    &stored.project_id,
                    &stored.connector_id,
                    stored.slot.instance_id(),
                    stored.version,
                );
                match self.rewrap_text(&stored.text, &context) {
                    Ok(envelope) => updates.push(CiphertextUpdate {
                        slot: stored.slot,
                        new_text: envelope.to_text(),
                        old_text: stored.text,
                        key_id: envelope.key_id().clone(),
                    }),
                    Err(error) => report.failed.push(RewrapFailure {
                        slot: stored.slot,
                        error: error.to_string(),
                    }),
                }
            }
            let now = self.clock.now();
            report.rewrapped +=
                self.store
                    .apply_ciphertext_updates(&updates, &mut |u| AuditEvent {
                        at: now,
                        actor: actor.to_string(),
                        action: AuditAction::Rewrap,
                        instance_id: Some(u.slot.instance_id().to_string()),
                        key_id: Some(u.key_id.clone()),
                        detail: match &u.slot {
                            CiphertextSlot::Current { .. } => "current credentials".into(),
                            CiphertextSlot::Version { version, .. } => format!("version {version}"),
                        },
                    })?;
        }
        Ok(report)
    }

    /// Moves the record in `text` to the active key. A record written before the instance
    /// binding (it opens only with [`Context::legacy`]) is decrypted and encrypted again, bound
    /// to its instance and version: a rewrap pass is the migration of such records.
    fn rewrap_text(&self, text: &str, context: &Context<'_>) -> Result<Envelope, VaultError> {
        let envelope = Envelope::from_text(text)?;
        match self.vault.rewrap(envelope.clone(), context) {
            Err(VaultError::Decryption) => {
                let plaintext = self
                    .vault
                    .decrypt(&envelope, &context.legacy())
                    .map_err(|_| VaultError::Decryption)?;
                self.vault.encrypt(plaintext.expose_secret(), context)
            }
            other => other,
        }
    }

    /// The provider's keys older than `max_age` (use [`crate::secrets::vault::DEFAULT_KEY_MAX_AGE`]).
    pub fn keys_due_for_rotation(&self, max_age: Duration) -> Vec<KeyAgeFinding> {
        keys_due_for_rotation(&self.vault.provider().keys(), self.clock.now(), max_age)
    }

    /// The newest `limit` audit entries (all if `None`), of one instance or all, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn audit_log(
        &self,
        instance_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.store.audit_entries(instance_id, limit)
    }

    /// Walks the audit chain and reports the first broken link.
    ///
    /// # Errors
    /// Database errors.
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        self.store.verify_audit()
    }
}

impl<S: Store, P: RotateKeys, C: Clock> CredentialService<S, P, C> {
    /// Makes a new key active: a new key in the local keyring (saved to its file), or a new KMS
    /// key behind the provider's alias. Existing records keep decrypting; run
    /// [`Self::rewrap_all`] to move them to the new key.
    ///
    /// # Errors
    /// [`StoreError::Vault`] (environment keyrings cannot rotate; the key file cannot be
    /// written; a KMS key given without an alias; KMS errors); database errors.
    pub fn rotate_key(&mut self, actor: &str) -> Result<KeyId, StoreError> {
        let now = self.clock.now();
        let previous = self.vault.provider().active_key_id()?;
        let key_id = self.vault.provider_mut().rotate_active_key(now)?;
        let event = self.event(
            actor,
            AuditAction::RotateKey,
            None,
            Some(key_id.clone()),
            format!("replaces {previous} as the active key"),
        );
        self.store.append_audit(&[event])?;
        Ok(key_id)
    }

    /// Retires `key_id` once no stored record is wrapped under it.
    ///
    /// # Errors
    /// [`StoreError::KeyInUse`] if records still use it; [`StoreError::Vault`] (the active key,
    /// an unknown key, the key file); database errors.
    pub fn retire_key(&mut self, key_id: &KeyId, actor: &str) -> Result<(), StoreError> {
        let records = self.store.count_under_key(key_id)?;
        if records > 0 {
            return Err(StoreError::KeyInUse {
                key_id: key_id.to_string(),
                records,
            });
        }
        self.vault
            .provider_mut()
            .retire_key(key_id, self.clock.now())?;
        let event = self.event(
            actor,
            AuditAction::RetireKey,
            None,
            Some(key_id.clone()),
            "retired".into(),
        );
        self.store.append_audit(&[event])?;
        Ok(())
    }
}

/// The key id in a vault text, for the audit entry of a failed decryption.
fn text_key_id(text: &str) -> Option<String> {
    Envelope::from_text(text)
        .ok()
        .map(|e| e.key_id().to_string())
}
