//! The embedded SQLite store.
//!
//! WAL journal with `synchronous = FULL`: a crash (or power loss) mid-write loses nothing that
//! was committed, and an uncommitted transaction leaves no trace. Migrations are numbered in
//! [`MIGRATIONS`] and tracked with `PRAGMA user_version`.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Row, Transaction, TransactionBehavior, params,
};
use serde_json::Value;

use super::activity::{
    ActivityEvent, ActivityKind, DailyActivity, InstanceActivity, assemble, day_number,
};
use super::audit::{
    AuditAction, AuditEntry, AuditEvent, AuditReport, GENESIS_HASH, entry_mac, verify_chain,
};
use super::lifecycle::Status;
use super::{
    CiphertextSlot, CiphertextUpdate, CredentialChange, CredentialVersion, InstanceRecord, Store,
    StoreError, StoredCiphertext,
};
use crate::clock::Timestamp;
use crate::secrets::vault::{AuditHead, AuditSeal, KeyId};

/// Schema migrations, in order; migration `i` brings the schema to version `i + 1`. Version 2
/// gives the store a random id (what the keyring anchors its audit head under) and marks keyed
/// audit entries (older entries keep `keyed = 0` and their unkeyed hash); version 3 adds the
/// activity of each instance (last use and error, daily counters; see [`super::activity`]).
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE connector_instances (
    id                    TEXT PRIMARY KEY NOT NULL,
    project_id            TEXT NOT NULL,
    connector_id          TEXT NOT NULL,
    config                TEXT NOT NULL DEFAULT '{}',
    credentials_encrypted TEXT NOT NULL,
    encryption_key_id     TEXT NOT NULL,
    credentials_version   INTEGER NOT NULL DEFAULT 1,
    status                TEXT NOT NULL CHECK (status IN
        ('installed', 'configured', 'validated', 'active', 'disabled', 'error', 'removed')),
    last_validated_at     INTEGER,
    validation_result     TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX idx_connector_instances_project ON connector_instances(project_id);
CREATE INDEX idx_connector_instances_connector ON connector_instances(connector_id);
CREATE INDEX idx_connector_instances_key ON connector_instances(encryption_key_id);
CREATE UNIQUE INDEX idx_connector_instances_live
    ON connector_instances(project_id, connector_id) WHERE status <> 'removed';

CREATE TABLE credential_versions (
    instance_id           TEXT NOT NULL REFERENCES connector_instances(id) ON DELETE CASCADE,
    version               INTEGER NOT NULL,
    credentials_encrypted TEXT NOT NULL,
    encryption_key_id     TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT 'expiring' CHECK (state IN ('expiring')),
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    PRIMARY KEY (instance_id, version)
);
CREATE INDEX idx_credential_versions_expiry ON credential_versions(expires_at);
CREATE INDEX idx_credential_versions_key ON credential_versions(encryption_key_id);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    instance_id TEXT,
    key_id      TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX idx_audit_log_instance ON audit_log(instance_id);
",
    r"
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))));
ALTER TABLE audit_log ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0;
",
    r"
CREATE TABLE instance_activity (
    instance_id     TEXT PRIMARY KEY NOT NULL REFERENCES connector_instances(id) ON DELETE CASCADE,
    last_used_at    INTEGER,
    last_error_at   INTEGER,
    last_error_kind TEXT,
    last_error      TEXT
);
CREATE TABLE instance_activity_days (
    instance_id      TEXT NOT NULL REFERENCES connector_instances(id) ON DELETE CASCADE,
    day              INTEGER NOT NULL,
    api_calls        INTEGER NOT NULL DEFAULT 0,
    credential_reads INTEGER NOT NULL DEFAULT 0,
    errors           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, day)
);
",
];

/// How long a writer waits for another process's write to finish before "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Runs `step` again (with a growing pause) while it fails with "database is busy / locked", up
/// to [`BUSY_TIMEOUT`].
fn retry_busy<T>(mut step: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(2);
    loop {
        match step() {
            Err(StoreError::Database(e)) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const INSTANCE_COLUMNS: &str = "id, project_id, connector_id, config, credentials_encrypted, \
    encryption_key_id, credentials_version, status, last_validated_at, validation_result, \
    created_at, updated_at";

/// Cursor offset separating current credentials (below) from versions (above) in a rewrap pass.
pub(super) const VERSION_CURSOR_BASE: i64 = 1 << 40;

/// The SQLite implementation of [`Store`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    chain: AuditChain,
    #[cfg(test)]
    pub(crate) fail_at: Option<&'static str>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`]; database errors.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open(path)?)
    }

    /// A private in-memory database (tests, dry runs).
    ///
    /// # Errors
    /// Database errors.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Switching a fresh database to WAL, and the first migration, can meet another process
        // doing the same: SQLite answers "database is locked" there without waiting on the busy
        // handler, so these steps are retried until the busy timeout.
        // `journal_mode` answers with the mode; in-memory databases stay `memory`.
        retry_busy(|| {
            let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            Ok(())
        })?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let mut store = SqliteStore {
            conn,
            chain: AuditChain {
                seal: None,
                store_id: String::new(),
            },
            #[cfg(test)]
            fail_at: None,
        };
        retry_busy(|| store.migrate())?;
        store.chain.store_id = store.conn.query_row(
            "SELECT value FROM store_meta WHERE key = 'store_id'",
            [],
            |r| r.get(0),
        )?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for (index, sql) in MIGRATIONS
            .iter()
            .enumerate()
            .skip(usize::try_from(found).unwrap_or(0))
        {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The store's random id, under which the keyring anchors its audit head.
    pub fn store_id(&self) -> &str {
        &self.chain.store_id
    }

    /// The schema version of the open database.
    ///
    /// # Errors
    /// Database errors.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE`, so it never has to upgrade a read lock),
    /// retried while another writer holds the database, up to the busy timeout.
    fn write(&self) -> Result<Transaction<'_>, StoreError> {
        let conn = &self.conn;
        let deadline = Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(2);
        loop {
            match Transaction::new_unchecked(conn, TransactionBehavior::Immediate) {
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => return Ok(other?),
            }
        }
    }

    #[cfg(test)]
    fn fail_point(fail_at: Option<&'static str>, name: &'static str) -> Result<(), StoreError> {
        if fail_at == Some(name) {
            return Err(StoreError::Injected(name));
        }
        Ok(())
    }

    #[cfg(not(test))]
    fn fail_point(_: Option<&'static str>, _: &'static str) -> Result<(), StoreError> {
        Ok(())
    }

    fn fail_at(&self) -> Option<&'static str> {
        #[cfg(test)]
        {
            self.fail_at
        }
        #[cfg(not(test))]
        {
            None
        }
    }
}

struct RawInstance {
    id: String,
    project_id: String,
    connector_id: String,
    config: String,
    credentials_encrypted: String,
    encryption_key_id: String,
    credentials_version: i64,
    status: String,
    last_validated_at: Option<i64>,
    validation_result: Option<String>,
    created_at: i64,
    updated_at: i64,
}

fn raw_instance(row: &Row<'_>) -> rusqlite::Result<RawInstance> {
    Ok(RawInstance {
        id: row.get(0)?,
        project_id: row.get(1)?,
        connector_id: row.get(2)?,
        config: row.get(3)?,
        credentials_encrypted: row.get(4)?,
        encryption_key_id: row.get(5)?,
        credentials_version: row.get(6)?,
        status: row.get(7)?,
        last_validated_at: row.get(8)?,
        validation_result: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

impl RawInstance {
    fn into_record(self) -> Result<InstanceRecord, StoreError> {
        let corrupt = |id: &str, what: &str| StoreError::CorruptRow {
            table: "connector_instances",
            id: id.to_string(),
            what: what.to_string(),
        };
        let config: Value = serde_json::from_str(&self.config)
            .map_err(|_| corrupt(&self.id, "config is not JSON"))?;
        let validation_result = match &self.validation_result {
            Some(text) => Some(
                serde_json::from_str(text)
                    .map_err(|_| corrupt(&self.id, "validation_result is not JSON"))?,
            ),
            None => None,
        };
        let status: Status = self
            .status
            .parse()
            .map_err(|e: String| corrupt(&self.id, &e))?;
        Ok(InstanceRecord {
            id: self.id,
            project_id: self.project_id,
            connector_id: self.connector_id,
            config,
            credentials_encrypted: self.credentials_encrypted,
            encryption_key_id: self.encryption_key_id,
            credentials_version: self.credentials_version,
            status,
            last_validated_at: self.last_validated_at.map(Timestamp::from_unix_millis),
            validation_result,
            created_at: Timestamp::from_unix_millis(self.created_at),
            updated_at: Timestamp::from_unix_millis(self.updated_at),
        })
    }
}

fn load_instance(conn: &Connection, id: &str) -> Result<InstanceRecord, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {INSTANCE_COLUMNS} FROM connector_instances WHERE id = ?1"
    ))?
    .query_row([id], raw_instance)
    .optional()?
    .ok_or_else(|| StoreError::NotFound { id: id.to_string() })?
    .into_record()
}

/// The audit chain's key and the store's id.
#[derive(Debug)]
pub(super) struct AuditChain {
    pub(super) seal: Option<AuditSeal>,
    pub(super) store_id: String,
}

impl AuditChain {
    pub(super) fn seal(&self) -> Result<&AuditSeal, StoreError> {
        self.seal.as_ref().ok_or(StoreError::AuditKeyMissing)
    }
}

/// An anchor moved before a commit, put back if the commit fails.
struct AnchorMove<'a> {
    seal: &'a AuditSeal,
    store_id: &'a str,
    new: AuditHead,
    previous: Option<AuditHead>,
}

/// Appends `events` to the chain inside `tx`, each with its MAC under the keyring's audit key,
/// and advances the keyring's anchor to the new head (under the database's write lock, which
/// `tx` holds). Pass the result to [`commit`].
fn append_in<'a>(
    tx: &Transaction<'_>,
    events: &[AuditEvent],
    chain: &'a AuditChain,
) -> Result<Option<AnchorMove<'a>>, StoreError> {
    if events.is_empty() {
        return Ok(None);
    }
    let seal = chain.seal()?;
    let (mut seq, mut prev): (i64, String) = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, GENESIS_HASH.to_string()));
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, instance_id, key_id, detail, prev_hash, hash, keyed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)",
    )?;
    for event in events {
        seq += 1;
        let hash = entry_mac(seal, &chain.store_id, seq, event, &prev)?;
        insert.execute(params![
            seq,
            event.at.unix_millis(),
            event.actor,
            event.action.as_str(),
            event.instance_id,
            event.key_id.as_ref().map(KeyId::as_str),
            event.detail,
            prev,
            hash,
        ])?;
        prev = hash;
    }
    let new = AuditHead { seq, mac: prev };
    let previous = seal.advance_head(&chain.store_id, &new)?;
    Ok(Some(AnchorMove {
        seal,
        store_id: &chain.store_id,
        new,
        previous,
    }))
}

/// Commits `tx`; when that fails after [`append_in`] moved the anchor, puts the anchor back (a
/// head anchored past the committed log would read as entries cut off the end).
fn commit(tx: Transaction<'_>, moved: Option<AnchorMove<'_>>) -> Result<(), StoreError> {
    match (tx.commit(), moved) {
        (Ok(()), _) => Ok(()),
        (Err(e), None) => Err(e.into()),
        (Err(e), Some(m)) => {
            // The commit error is the one to report; a failure to restore leaves the anchor
            // ahead, which verification reports as a truncated log (on the safe side).
            let _ = m.seal.restore_head(m.store_id, &m.new, m.previous);
            Err(e.into())
        }
    }
}

fn read_audit_row(row: &Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
    ))
}

pub(super) type AuditRow = (
    i64,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    bool,
);

pub(super) fn audit_entry(row: AuditRow) -> Option<AuditEntry> {
    let (seq, at, actor, action, instance_id, key_id, detail, prev_hash, hash, keyed) = row;
    let action: AuditAction = action.parse().ok()?;
    let key_id = match key_id {
        Some(k) => Some(KeyId::new(&k).ok()?),
        None => None,
    };
    Some(AuditEntry {
        seq,
        event: AuditEvent {
            at: Timestamp::from_unix_millis(at),
            actor,
            action,
            instance_id,
            key_id,
            detail,
        },
        prev_hash,
        hash,
        keyed,
    })
}

impl Store for SqliteStore {
    fn insert_instance(
        &mut self,
        record: &InstanceRecord,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let fail_at = self.fail_at();
        let tx = self.write()?;
        if let Some(existing) = tx
            .query_row(
                "SELECT id FROM connector_instances WHERE project_id = ?1 AND connector_id = ?2 AND status <> 'removed'",
                [&record.project_id, &record.connector_id],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        {
            return Err(StoreError::AlreadyExists {
                project_id: record.project_id.clone(),
                connector_id: record.connector_id.clone(),
                id: existing,
            });
        }
        tx.execute(
            &format!("INSERT INTO connector_instances ({INSTANCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![
                record.id,
                record.project_id,
                record.connector_id,
                record.config.to_string(),
                record.credentials_encrypted,
                record.encryption_key_id,
                record.credentials_version,
                record.status.as_str(),
                record.last_validated_at.map(Timestamp::unix_millis),
                record.validation_result.as_ref().map(Value::to_string),
                record.created_at.unix_millis(),
                record.updated_at.unix_millis(),
            ],
        )?;
        Self::fail_point(fail_at, "insert_instance:before_audit")?;
        let moved = append_in(&tx, audit, &self.chain)?;
        commit(tx, moved)?;
        Ok(())
    }

    fn instance(&self, id: &str) -> Result<InstanceRecord, StoreError> {
        load_instance(&self.conn, id)
    }

    fn find_instance(
        &self,
        project_id: &str,
        connector_id: &str,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {INSTANCE_COLUMNS} FROM connector_instances
                 WHERE project_id = ?1 AND connector_id = ?2 AND status <> 'removed'"
            ))?
            .query_row([project_id, connector_id], raw_instance)
            .optional()?
            .map(RawInstance::into_record)
            .transpose()
    }

    fn list_instances(&self, project_id: Option<&str>) -> Result<Vec<InstanceRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM connector_instances
             WHERE ?1 IS NULL OR project_id = ?1 ORDER BY created_at, id"
        ))?;
        let raws = stmt
            .query_map([project_id], raw_instance)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(RawInstance::into_record).collect()
    }

    fn change_credentials(
        &mut self,
        id: &str,
        change: &CredentialChange,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        let fail_at = self.fail_at();
        let tx = self.write()?;
        let current = load_instance(&tx, id)?;
        if current.status == Status::Removed {
            return Err(StoreError::WrongStatus {
                id: id.to_string(),
                status: current.status,
                reason: "a removed connector has no credentials; add it again",
            });
        }
        if current.credentials_version != change.replaces_version {
            return Err(StoreError::Conflict {
                id: id.to_string(),
                expected: change.replaces_version,
                found: current.credentials_version,
            });
        }
        let status = match change.new_status {
            Some(to) if to != current.status => current.status.transition(to)?,
            _ => current.status,
        };
        if let Some(expires_at) = change.keep_previous_until {
            tx.execute(
                "INSERT INTO credential_versions
                 (instance_id, version, credentials_encrypted, encryption_key_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    current.credentials_version,
                    current.credentials_encrypted,
                    current.encryption_key_id,
                    now.unix_millis(),
                    expires_at.unix_millis(),
                ],
            )?;
        }
        Self::fail_point(fail_at, "change_credentials:after_version")?;
        tx.execute(
            "UPDATE connector_instances SET config = ?2, credentials_encrypted = ?3, encryption_key_id = ?4,
                 credentials_version = credentials_version + 1, status = ?5, updated_at = ?6
             WHERE id = ?1",
            params![
                id,
                change.config.to_string(),
                change.credentials_encrypted,
                change.encryption_key_id.as_str(),
                status.as_str(),
                now.unix_millis(),
            ],
        )?;
        Self::fail_point(fail_at, "change_credentials:before_audit")?;
        let updated = load_instance(&tx, id)?;
        let moved = append_in(&tx, audit, &self.chain)?;
        commit(tx, moved)?;
        Ok(updated)
    }

    fn set_status(
        &mut self,
        id: &str,
        to: Status,
        validation: Option<&Value>,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        let tx = self.write()?;
        let current = load_instance(&tx, id)?;
        current.status.transition(to)?;
        tx.execute(
            "UPDATE connector_instances SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, to.as_str(), now.unix_millis()],
        )?;
        if let Some(result) = validation {
            tx.execute(
                "UPDATE connector_instances SET last_validated_at = ?2, validation_result = ?3 WHERE id = ?1",
                params![id, now.unix_millis(), result.to_string()],
            )?;
        }
        let updated = load_instance(&tx, id)?;
        let moved = append_in(&tx, audit, &self.chain)?;
        commit(tx, moved)?;
        Ok(updated)
    }

    fn record_validation(
        &mut self,
        id: &str,
        result: &Value,
        now: Timestamp,
    ) -> Result<InstanceRecord, StoreError> {
        let tx = self.write()?;
        let changed = tx.execute(
            "UPDATE connector_instances SET last_validated_at = ?2, validation_result = ?3, updated_at = ?2 WHERE id = ?1",
            params![id, now.unix_millis(), result.to_string()],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound { id: id.to_string() });
        }
        let updated = load_instance(&tx, id)?;
        tx.commit()?;
        Ok(updated)
    }

    fn remove_instance(
        &mut self,
        id: &str,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        let tx = self.write()?;
        let current = load_instance(&tx, id)?;
        current.status.transition(Status::Removed)?;
        tx.execute(
            "UPDATE connector_instances SET status = 'removed', credentials_encrypted = '',
                 encryption_key_id = '', updated_at = ?2 WHERE id = ?1",
            params![id, now.unix_millis()],
        )?;
        for table in [
            "credential_versions",
            "instance_activity",
            "instance_activity_days",
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE instance_id = ?1"), [id])?;
        }
        let updated = load_instance(&tx, id)?;
        let moved = append_in(&tx, audit, &self.chain)?;
        commit(tx, moved)?;
        Ok(updated)
    }

    fn credential_versions(&self, id: &str) -> Result<Vec<CredentialVersion>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT instance_id, version, credentials_encrypted, encryption_key_id, created_at, expires_at
             FROM credential_versions WHERE instance_id = ?1 ORDER BY version DESC",
        )?;
        let rows = stmt.query_map([id], version_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn purge_expired_versions(
        &mut self,
        now: Timestamp,
        audit_for: &mut dyn FnMut(&CredentialVersion) -> AuditEvent,
    ) -> Result<u64, StoreError> {
        let tx = self.write()?;
        let expired = {
            let mut stmt = tx.prepare_cached(
                "SELECT instance_id, version, credentials_encrypted, encryption_key_id, created_at, expires_at
                 FROM credential_versions WHERE expires_at <= ?1 ORDER BY instance_id, version",
            )?;
            let rows = stmt.query_map([now.unix_millis()], version_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        let mut events = Vec::with_capacity(expired.len());
        for version in &expired {
            tx.execute(
                "DELETE FROM credential_versions WHERE instance_id = ?1 AND version = ?2",
                params![version.instance_id, version.version],
            )?;
            events.push(audit_for(version));
        }
        let moved = append_in(&tx, &events, &self.chain)?;
        commit(tx, moved)?;
        Ok(expired.len() as u64)
    }

    fn ciphertexts_not_under(
        &self,
        key_id: &KeyId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredCiphertext>, StoreError> {
        let limit_sql = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        if after < VERSION_CURSOR_BASE {
            let mut stmt = self.conn.prepare_cached(
                "SELECT rowid, id, project_id, connector_id, credentials_encrypted, credentials_version FROM connector_instances
                 WHERE rowid > ?1 AND encryption_key_id <> ?2 AND status <> 'removed'
                 ORDER BY rowid LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![after, key_id.as_str(), limit_sql], |r| {
                Ok(StoredCiphertext {
                    cursor: r.get(0)?,
                    slot: CiphertextSlot::Current {
                        instance_id: r.get(1)?,
                    },
                    project_id: r.get(2)?,
                    connector_id: r.get(3)?,
                    text: r.get(4)?,
                    version: r.get(5)?,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        if out.len() < limit {
            let after_version = (after - VERSION_CURSOR_BASE).max(0);
            let mut stmt = self.conn.prepare_cached(
                "SELECT v.rowid, v.instance_id, v.version, i.project_id, i.connector_id, v.credentials_encrypted
                 FROM credential_versions v JOIN connector_instances i ON i.id = v.instance_id
                 WHERE v.rowid > ?1 AND v.encryption_key_id <> ?2
                 ORDER BY v.rowid LIMIT ?3",
            )?;
            let remaining = i64::try_from(limit - out.len()).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![after_version, key_id.as_str(), remaining], |r| {
                Ok(StoredCiphertext {
                    cursor: VERSION_CURSOR_BASE + r.get::<_, i64>(0)?,
                    slot: CiphertextSlot::Version {
                        instance_id: r.get(1)?,
                        version: r.get(2)?,
                    },
                    project_id: r.get(3)?,
                    connector_id: r.get(4)?,
                    text: r.get(5)?,
                    version: r.get(2)?,
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    fn apply_ciphertext_updates(
        &mut self,
        updates: &[CiphertextUpdate],
        audit_for: &mut dyn FnMut(&CiphertextUpdate) -> AuditEvent,
    ) -> Result<u64, StoreError> {
        let tx = self.write()?;
        let mut events = Vec::with_capacity(updates.len());
        {
            let mut current = tx.prepare_cached(
                "UPDATE connector_instances SET credentials_encrypted = ?3, encryption_key_id = ?4
                 WHERE id = ?1 AND credentials_encrypted = ?2",
            )?;
            let mut version = tx.prepare_cached(
                "UPDATE credential_versions SET credentials_encrypted = ?4, encryption_key_id = ?5
                 WHERE instance_id = ?1 AND version = ?2 AND credentials_encrypted = ?3",
            )?;
            for update in updates {
                let changed = match &update.slot {
                    CiphertextSlot::Current { instance_id } => current.execute(params![
                        instance_id,
                        update.old_text,
                        update.new_text,
                        update.key_id.as_str()
                    ])?,
                    CiphertextSlot::Version {
                        instance_id,
                        version: v,
                    } => version.execute(params![
                        instance_id,
                        v,
                        update.old_text,
                        update.new_text,
                        update.key_id.as_str()
                    ])?,
                };
                if changed == 1 {
                    events.push(audit_for(update));
                }
            }
        }
        let moved = append_in(&tx, &events, &self.chain)?;
        commit(tx, moved)?;
        Ok(events.len() as u64)
    }

    fn count_under_key(&self, key_id: &KeyId) -> Result<u64, StoreError> {
        let count: i64 = self.conn.query_row(
            "SELECT (SELECT count(*) FROM connector_instances WHERE encryption_key_id = ?1)
                  + (SELECT count(*) FROM credential_versions WHERE encryption_key_id = ?1)",
            [key_id.as_str()],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn append_audit(&mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let tx = self.write()?;
        let moved = append_in(&tx, events, &self.chain)?;
        commit(tx, moved)?;
        Ok(())
    }

    fn audit_entries(
        &self,
        instance_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, actor, action, instance_id, key_id, detail, prev_hash, hash, keyed FROM audit_log
             WHERE ?1 IS NULL OR instance_id = ?1 ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![instance_id, limit], read_audit_row)?;
        let mut entries = Vec::new();
        for row in rows {
            let row = row?;
            let seq = row.0;
            entries.push(audit_entry(row).ok_or_else(|| StoreError::CorruptRow {
                table: "audit_log",
                id: seq.to_string(),
                what: "unknown action or invalid key id".into(),
            })?);
        }
        entries.reverse();
        Ok(entries)
    }

    fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        // Under the write lock, as appends are: an append moves the anchor before it commits,
        // so reading the log and the anchor outside it could see the anchor ahead of the log.
        let tx = self.write()?;
        let mut stmt = tx.prepare(
            "SELECT seq, at, actor, action, instance_id, key_id, detail, prev_hash, hash, keyed FROM audit_log ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([], read_audit_row)?
            .collect::<Result<Vec<_>, _>>()?;
        // An unreadable row cannot match its hash: keep it with a placeholder hash so the
        // walk reports it as edited.
        let entries = rows.into_iter().map(|row| {
            let (seq, prev_hash, keyed) = (row.0, row.7.clone(), row.9);
            audit_entry(row).unwrap_or_else(|| AuditEntry {
                seq,
                event: AuditEvent {
                    at: Timestamp::from_unix_millis(0),
                    actor: String::new(),
                    action: AuditAction::Encrypt,
                    instance_id: None,
                    key_id: None,
                    detail: String::new(),
                },
                prev_hash,
                hash: String::new(),
                keyed,
            })
        });
        let seal = self.chain.seal()?;
        let anchored = seal.head(&self.chain.store_id)?;
        Ok(verify_chain(
            entries,
            seal,
            &self.chain.store_id,
            anchored.as_ref(),
        )?)
    }

    fn record_activity(
        &mut self,
        id: &str,
        event: &ActivityEvent,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        let known: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM connector_instances WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        if known.is_none() {
            return Err(StoreError::NotFound { id: id.to_string() });
        }
        let at = event.at.unix_millis();
        let (error_at, kind, message) = match event.stored_error() {
            Some(message) => (Some(at), Some(event.kind.as_str()), Some(message)),
            None => (None, None, None),
        };
        // Every SET expression sees the row as it was, so the error columns move together.
        let newer = "excluded.last_error_at IS NOT NULL \
            AND excluded.last_error_at >= coalesce(last_error_at, excluded.last_error_at)";
        tx.prepare_cached(&format!(
            "INSERT INTO instance_activity
                 (instance_id, last_used_at, last_error_at, last_error_kind, last_error)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (instance_id) DO UPDATE SET
                 last_used_at = max(coalesce(last_used_at, excluded.last_used_at), excluded.last_used_at),
                 last_error_at = CASE WHEN {newer} THEN excluded.last_error_at ELSE last_error_at END,
                 last_error_kind = CASE WHEN {newer} THEN excluded.last_error_kind ELSE last_error_kind END,
                 last_error = CASE WHEN {newer} THEN excluded.last_error ELSE last_error END"
        ))?
        .execute(params![id, at, error_at, kind, message])?;
        let reads = i64::from(event.kind == ActivityKind::CredentialRead);
        tx.prepare_cached(
            "INSERT INTO instance_activity_days (instance_id, day, api_calls, credential_reads, errors)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (instance_id, day) DO UPDATE SET
                 api_calls = api_calls + excluded.api_calls,
                 credential_reads = credential_reads + excluded.credential_reads,
                 errors = errors + excluded.errors",
        )?
        .execute(params![
            id,
            day_number(event.at),
            i64::from(event.api_calls),
            reads,
            i64::from(event.is_error()),
        ])?;
        let moved = append_in(&tx, audit, &self.chain)?;
        commit(tx, moved)
    }

    fn activity(&self, id: &str, since_day: i64) -> Result<InstanceActivity, StoreError> {
        load_instance(&self.conn, id)?;
        let last = self
            .conn
            .prepare_cached(
                "SELECT last_used_at, last_error_at, last_error_kind, last_error
                 FROM instance_activity WHERE instance_id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT day, api_calls, credential_reads, errors FROM instance_activity_days
             WHERE instance_id = ?1 AND day >= ?2 ORDER BY day DESC",
        )?;
        let days = stmt
            .query_map(params![id, since_day], |r| {
                let count = |i: usize| -> rusqlite::Result<u64> {
                    Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
                };
                Ok(DailyActivity {
                    day: r.get(0)?,
                    api_calls: count(1)?,
                    credential_reads: count(2)?,
                    errors: count(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        assemble(id, last, days)
    }

    fn set_audit_seal(&mut self, seal: AuditSeal) {
        self.chain.seal = Some(seal);
    }
}

fn version_row(r: &Row<'_>) -> rusqlite::Result<CredentialVersion> {
    Ok(CredentialVersion {
        instance_id: r.get(0)?,
        version: r.get(1)?,
        credentials_encrypted: r.get(2)?,
        encryption_key_id: r.get(3)?,
        created_at: Timestamp::from_unix_millis(r.get(4)?),
        expires_at: Timestamp::from_unix_millis(r.get(5)?),
    })
}
