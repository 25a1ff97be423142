//! The connector store: connector instances (public config, encrypted credentials, lifecycle
//! status), their expiring credential versions, and the audit log.
//!
//! [`Store`] is the storage interface (an embedded SQLite database by default,
//! [`SqliteStore`]; a shared PostgreSQL database with the `postgres` feature, `PgStore`; either
//! one chosen at run time by its address, [`AnyStore`] and [`StoreAddress`]). It only ever sees
//! ciphertext. [`CredentialService`] is what a CLI or a binding calls: it joins a store, a
//! [`crate::secrets::vault::Vault`] and a [`crate::clock::Clock`], and writes an audit entry for every
//! credential access or change.
//!
//! Invariants:
//! - every write is one transaction, including its audit entries;
//! - no plaintext secret is ever passed to the store;
//! - status changes follow [`Status::transition`], checked inside the write transaction.

pub mod activity;
mod any;
mod audit;
mod lifecycle;
#[cfg(feature = "postgres")]
mod postgres;
mod service;
mod sqlite;

use serde_json::Value;

pub use activity::{ActivityEvent, ActivityKind, InstanceActivity};
pub use any::{AnyStore, StoreAddress};
pub use audit::{
    AuditAction, AuditEntry, AuditEvent, AuditProblem, AuditReport, ChainBreak, GENESIS_HASH,
    entry_hash, entry_mac, verify_chain,
};
pub use lifecycle::{IllegalTransition, Status};
#[cfg(feature = "postgres")]
pub use postgres::{PG_SCHEMA_VERSION, PgStore};
pub use service::{
    CredentialService, DEFAULT_EXPIRING_PERIOD, DecryptedInstance, OAUTH_TOKENS, RewrapFailure,
    RewrapReport,
};
pub use sqlite::{SCHEMA_VERSION, SqliteStore};

use crate::clock::Timestamp;
use crate::secrets::secret::SecretFormatError;
use crate::secrets::vault::{AuditSeal, KeyId, VaultError};

/// Errors of the store and the credential service. No variant carries a secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("connector store database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The PostgreSQL database failed.
    #[cfg(feature = "postgres")]
    #[error("connector store PostgreSQL error: {0}")]
    Postgres(#[from] ::postgres::Error),
    /// The PostgreSQL store cannot be reached: a bad URL, schema name or TLS setup.
    #[error("cannot connect to the PostgreSQL connector store: {0}")]
    PostgresConnect(String),
    /// The database was written by a newer version.
    #[error(
        "connector store schema version {found} is newer than this build supports ({supported}): upgrade mobigen-connectors"
    )]
    SchemaTooNew {
        /// The database's schema version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// No connector instance has this id.
    #[error("no connector instance with id `{id}`")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// No credentials version with this number is kept.
    #[error(
        "connector instance `{id}` has no stored credentials version {version} (expired versions are purged)"
    )]
    VersionNotFound {
        /// The instance.
        id: String,
        /// The version asked for.
        version: i64,
    },
    /// The project already has a live instance of this connector.
    #[error(
        "project `{project_id}` already has connector `{connector_id}` (instance `{id}`); rotate its credentials instead"
    )]
    AlreadyExists {
        /// The project.
        project_id: String,
        /// The connector.
        connector_id: String,
        /// The existing instance.
        id: String,
    },
    /// The config belongs to a different connector than the instance.
    #[error("the config is for connector `{given}` but instance `{id}` is connector `{expected}`")]
    ConnectorMismatch {
        /// The instance.
        id: String,
        /// The instance's connector.
        expected: String,
        /// The config's connector.
        given: String,
    },
    /// Another writer changed the instance's credentials between the read and the write.
    #[error(
        "connector instance `{id}` changed meanwhile: its credentials are version {found}, not {expected}; read it again and retry"
    )]
    Conflict {
        /// The instance.
        id: String,
        /// The version the change was made from.
        expected: i64,
        /// The version stored now.
        found: i64,
    },
    /// The lifecycle does not allow this step.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// The operation is not possible in the instance's current status.
    #[error("connector instance `{id}` is `{status}`: {reason}")]
    WrongStatus {
        /// The instance.
        id: String,
        /// Its status.
        status: Status,
        /// What is not possible.
        reason: &'static str,
    },
    /// Encryption, decryption or a key operation failed.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Decrypted credentials were not in the expected shape.
    #[error(transparent)]
    SecretFormat(#[from] SecretFormatError),
    /// A key cannot be retired while records are still wrapped under it.
    #[error("vault key `{key_id}` still wraps {records} stored record(s); run a rewrap first")]
    KeyInUse {
        /// The key.
        key_id: String,
        /// How many records use it.
        records: u64,
    },
    /// A stored row cannot be read back.
    #[error("connector store row is corrupt: {table} `{id}`: {what}")]
    CorruptRow {
        /// The table.
        table: &'static str,
        /// The row's id.
        id: String,
        /// What is wrong (never a value).
        what: String,
    },
    /// The store was not given the keyring's audit key, so it can neither append to nor verify
    /// the audit log.
    #[error(
        "the connector store has no audit key: open it together with the vault keyring (through `CredentialService`, or `Store::set_audit_seal`)"
    )]
    AuditKeyMissing,
    /// A failure injected by a test.
    #[cfg(test)]
    #[error("injected failure at {0}")]
    Injected(&'static str),
}

/// A connector instance as stored: public config, encrypted credentials, lifecycle.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRecord {
    /// Random id (UUID v4 form).
    pub id: String,
    /// The project.
    pub project_id: String,
    /// The connector (`stripe`).
    pub connector_id: String,
    /// Non-secret config values.
    pub config: Value,
    /// The secret fields, encrypted (vault text form); empty once removed.
    pub credentials_encrypted: String,
    /// The key-encryption key that wraps them; empty once removed.
    pub encryption_key_id: String,
    /// Number of the current credentials version, from 1.
    pub credentials_version: i64,
    /// Lifecycle status.
    pub status: Status,
    /// When the credentials were last checked against the service.
    pub last_validated_at: Option<Timestamp>,
    /// What that check found (no secrets).
    pub validation_result: Option<Value>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// An older credentials version, kept until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialVersion {
    /// The instance.
    pub instance_id: String,
    /// Its number.
    pub version: i64,
    /// The secret fields, encrypted.
    pub credentials_encrypted: String,
    /// The key-encryption key that wraps them.
    pub encryption_key_id: String,
    /// When it was replaced by newer credentials (and marked expiring).
    pub created_at: Timestamp,
    /// When it stops being kept (purged after that).
    pub expires_at: Timestamp,
}

/// Where a ciphertext lives, for a rewrap pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiphertextSlot {
    /// The current credentials of an instance.
    Current {
        /// The instance.
        instance_id: String,
    },
    /// An expiring version.
    Version {
        /// The instance.
        instance_id: String,
        /// The version.
        version: i64,
    },
}

impl CiphertextSlot {
    /// The instance the slot belongs to.
    pub fn instance_id(&self) -> &str {
        match self {
            CiphertextSlot::Current { instance_id }
            | CiphertextSlot::Version { instance_id, .. } => instance_id,
        }
    }
}

/// A stored ciphertext and what it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCiphertext {
    /// Where it lives.
    pub slot: CiphertextSlot,
    /// Position for paging (opaque, increasing).
    pub cursor: i64,
    /// The project (part of the vault context).
    pub project_id: String,
    /// The connector (part of the vault context).
    pub connector_id: String,
    /// The credentials version it holds (part of the vault context).
    pub version: i64,
    /// The vault text.
    pub text: String,
}

/// A replacement ciphertext from a rewrap pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiphertextUpdate {
    /// Where it goes.
    pub slot: CiphertextSlot,
    /// The text it replaces; the update is skipped if the slot changed meanwhile.
    pub old_text: String,
    /// The new text.
    pub new_text: String,
    /// The key that now wraps it.
    pub key_id: KeyId,
}

/// A change of current credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialChange {
    /// New public config.
    pub config: Value,
    /// New encrypted credentials.
    pub credentials_encrypted: String,
    /// Their key.
    pub encryption_key_id: KeyId,
    /// Keep the replaced credentials as a version expiring then (`None`: drop them, as when
    /// configuring an installed instance that had none).
    pub keep_previous_until: Option<Timestamp>,
    /// Status to move to (checked against the lifecycle), if any.
    pub new_status: Option<Status>,
    /// The credentials version the change was made from (the new credentials are sealed for the
    /// next number): the store refuses the change with [`StoreError::Conflict`] when another
    /// writer changed the credentials since, so no update is lost and no version is numbered
    /// twice.
    pub replaces_version: i64,
}

/// The storage interface. Every method that writes is atomic, its audit events included.
pub trait Store {
    /// Inserts a new instance.
    ///
    /// # Errors
    /// [`StoreError::AlreadyExists`] if the project has a live instance of the connector;
    /// database errors.
    fn insert_instance(
        &mut self,
        record: &InstanceRecord,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError>;

    /// The instance with this id.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    fn instance(&self, id: &str) -> Result<InstanceRecord, StoreError>;

    /// The live (not removed) instance of `connector_id` in `project_id`, if any.
    ///
    /// # Errors
    /// Database errors.
    fn find_instance(
        &self,
        project_id: &str,
        connector_id: &str,
    ) -> Result<Option<InstanceRecord>, StoreError>;

    /// Instances, of one project or all, oldest first.
    ///
    /// # Errors
    /// Database errors.
    fn list_instances(&self, project_id: Option<&str>) -> Result<Vec<InstanceRecord>, StoreError>;

    /// Replaces the current credentials of `id` at `now`; the replaced ones become an expiring
    /// version when asked. Returns the updated record.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::IllegalTransition`], [`StoreError::Conflict`]
    /// when the current version is not `change.replaces_version`, database errors.
    fn change_credentials(
        &mut self,
        id: &str,
        change: &CredentialChange,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError>;

    /// Moves `id` to `to` (checked against the lifecycle), recording a validation result when
    /// given.
    ///
    /// # Errors
    /// [`StoreError::IllegalTransition`], [`StoreError::NotFound`], database errors.
    fn set_status(
        &mut self,
        id: &str,
        to: Status,
        validation: Option<&Value>,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError>;

    /// Records a validation that leaves the status as it is (re-validating an active connector).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], database errors.
    fn record_validation(
        &mut self,
        id: &str,
        result: &Value,
        now: Timestamp,
    ) -> Result<InstanceRecord, StoreError>;

    /// Marks `id` removed and deletes its credentials and versions.
    ///
    /// # Errors
    /// [`StoreError::IllegalTransition`], [`StoreError::NotFound`], database errors.
    fn remove_instance(
        &mut self,
        id: &str,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError>;

    /// The kept (expiring) credentials versions of `id`, newest first.
    ///
    /// # Errors
    /// Database errors.
    fn credential_versions(&self, id: &str) -> Result<Vec<CredentialVersion>, StoreError>;

    /// Deletes versions expired at `now`; `audit_for` makes the audit event of each one deleted.
    /// Returns how many were deleted.
    ///
    /// # Errors
    /// Database errors.
    fn purge_expired_versions(
        &mut self,
        now: Timestamp,
        audit_for: &mut dyn FnMut(&CredentialVersion) -> AuditEvent,
    ) -> Result<u64, StoreError>;

    /// Up to `limit` ciphertexts (current and versions) not wrapped under `key_id`, past `after`.
    ///
    /// # Errors
    /// Database errors.
    fn ciphertexts_not_under(
        &self,
        key_id: &KeyId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredCiphertext>, StoreError>;

    /// Applies rewrap results; each is skipped if its slot no longer holds `old_text`. Returns
    /// how many were applied. `audit` is called for each applied update.
    ///
    /// # Errors
    /// Database errors (nothing is applied then).
    fn apply_ciphertext_updates(
        &mut self,
        updates: &[CiphertextUpdate],
        audit_for: &mut dyn FnMut(&CiphertextUpdate) -> AuditEvent,
    ) -> Result<u64, StoreError>;

    /// How many stored ciphertexts are wrapped under `key_id`.
    ///
    /// # Errors
    /// Database errors.
    fn count_under_key(&self, key_id: &KeyId) -> Result<u64, StoreError>;

    /// Appends audit events.
    ///
    /// # Errors
    /// Database errors.
    fn append_audit(&mut self, events: &[AuditEvent]) -> Result<(), StoreError>;

    /// Audit entries, oldest first, optionally of one instance only, at most `limit`.
    ///
    /// # Errors
    /// Database errors; [`StoreError::CorruptRow`] for an unreadable entry.
    fn audit_entries(
        &self,
        instance_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Walks the whole audit chain: each entry's MAC under the audit key, the links, and the
    /// head the keyring anchors.
    ///
    /// # Errors
    /// [`StoreError::AuditKeyMissing`] without [`Self::set_audit_seal`]; the seal's errors;
    /// database errors. An unreadable entry is reported as an edited one, not as an error.
    fn verify_audit(&self) -> Result<AuditReport, StoreError>;

    /// Gives the store the keyring's audit key and anchor ([`KeyProvider::audit_seal`]); every
    /// write with audit events and [`Self::verify_audit`] need it. [`CredentialService::new`]
    /// does this.
    ///
    /// [`KeyProvider::audit_seal`]: crate::secrets::vault::KeyProvider::audit_seal
    fn set_audit_seal(&mut self, seal: AuditSeal);

    /// Counts one use of instance `id` (see [`activity`]) and appends `audit`, in one
    /// transaction: the day's counters, the last use, and the last error when it failed.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    fn record_activity(
        &mut self,
        id: &str,
        event: &ActivityEvent,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError>;

    /// The activity of instance `id`: last use, last error, and the daily figures from day
    /// `since_day` on ([`activity::day_number`]), newest first. An instance never used has
    /// none (not an error); a removed one has none either (its activity is deleted with its
    /// credentials).
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; database errors.
    fn activity(&self, id: &str, since_day: i64) -> Result<InstanceActivity, StoreError>;
}

/// A fresh random id in UUID v4 form.
///
/// # Errors
/// [`VaultError::Random`] if the OS RNG fails.
pub fn new_id() -> Result<String, VaultError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| VaultError::Random)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::secrets::vault::hex_lower(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

#[cfg(test)]
mod tests;
