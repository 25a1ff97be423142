//! The PostgreSQL store (feature `postgres`): one database that many service instances share.
//!
//! Schema: the PRD's `connector_instances` table (UUID id, JSONB config and validation result,
//! `TIMESTAMPTZ` times), the expiring `credential_versions`, the `audit_log`, and a one-row
//! `audit_chain_lock`. Migrations are numbered in [`MIGRATIONS`], recorded in
//! `schema_migrations`, and applied in one transaction under `pg_advisory_xact_lock`, so two
//! processes opening a fresh database at once do not race.
//!
//! Invariants (many writers, many processes):
//! - every write is one transaction, its audit entries included;
//! - a write that reads an instance before changing it locks its row (`SELECT ... FOR UPDATE`),
//!   so a credentials version number is taken once (the primary key `(instance_id, version)`
//!   refuses a duplicate anyway);
//! - audit appends lock the row of `audit_chain_lock` first and read the chain's last entry
//!   after the lock is held (READ COMMITTED takes a new snapshot per statement), so concurrent
//!   appends form one chain; the keyring's anchor moves under the same lock;
//! - row locks are always taken before the chain lock, so the two kinds cannot deadlock.
//!
//! Differences from SQLite: JSONB keeps the config's keys in its own order (sorted), not the
//! order they were written in; ids must be UUIDs (a lookup with anything else is "not found").

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use postgres::error::SqlState;
use postgres::{Client, GenericClient, Row, Statement, Transaction};
use serde_json::Value;

use super::activity::{
    ActivityEvent, ActivityKind, DailyActivity, InstanceActivity, assemble, day_number,
};
use super::audit::{AuditAction, AuditEntry, AuditEvent, AuditReport, GENESIS_HASH, entry_mac};
use super::lifecycle::Status;
use super::sqlite::{AuditChain, AuditRow, VERSION_CURSOR_BASE, audit_entry};
use super::{
    CiphertextSlot, CiphertextUpdate, CredentialChange, CredentialVersion, InstanceRecord, Store,
    StoreError, StoredCiphertext, verify_chain,
};
use crate::clock::Timestamp;
use crate::secrets::vault::{AuditHead, AuditSeal, KeyId};

/// Schema migrations, in order; migration `i` brings the schema to version `i + 1`. Version 2
/// adds the activity of each instance (see [`super::activity`]).
const MIGRATIONS: &[&str] = &[
    r"
CREATE FUNCTION mobigen_ts(ms BIGINT) RETURNS TIMESTAMPTZ LANGUAGE sql IMMUTABLE AS
    $$ SELECT timestamptz 'epoch' + (ms / 1000) * interval '1 second' + (ms % 1000) * interval '1 millisecond' $$;
CREATE FUNCTION mobigen_ms(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS
    $$ SELECT (extract(epoch FROM t) * 1000)::BIGINT $$;

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('store_id', replace(gen_random_uuid()::TEXT, '-', ''));

CREATE TABLE connector_instances (
    id                    UUID PRIMARY KEY,
    project_id            TEXT NOT NULL,
    connector_id          TEXT NOT NULL,
    config                JSONB NOT NULL DEFAULT '{}',
    credentials_encrypted TEXT NOT NULL,
    encryption_key_id     TEXT NOT NULL,
    credentials_version   BIGINT NOT NULL DEFAULT 1,
    status                TEXT NOT NULL CHECK (status IN
        ('installed', 'configured', 'validated', 'active', 'disabled', 'error', 'removed')),
    last_validated_at     TIMESTAMPTZ,
    validation_result     JSONB,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    row_seq               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX idx_connector_instances_project ON connector_instances(project_id);
CREATE INDEX idx_connector_instances_connector ON connector_instances(connector_id);
CREATE INDEX idx_connector_instances_key ON connector_instances(encryption_key_id);
CREATE UNIQUE INDEX idx_connector_instances_live
    ON connector_instances(project_id, connector_id) WHERE status <> 'removed';

CREATE TABLE credential_versions (
    instance_id           UUID NOT NULL REFERENCES connector_instances(id) ON DELETE CASCADE,
    version               BIGINT NOT NULL,
    credentials_encrypted TEXT NOT NULL,
    encryption_key_id     TEXT NOT NULL,
    state                 TEXT NOT NULL DEFAULT 'expiring' CHECK (state IN ('expiring')),
    created_at            TIMESTAMPTZ NOT NULL,
    expires_at            TIMESTAMPTZ NOT NULL,
    row_seq               BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    PRIMARY KEY (instance_id, version)
);
CREATE INDEX idx_credential_versions_expiry ON credential_versions(expires_at);
CREATE INDEX idx_credential_versions_key ON credential_versions(encryption_key_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    instance_id TEXT,
    key_id      TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    keyed       BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX idx_audit_log_instance ON audit_log(instance_id);

CREATE TABLE audit_chain_lock (
    id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id)
);
INSERT INTO audit_chain_lock (id) VALUES (TRUE);
",
    r"
CREATE TABLE instance_activity (
    instance_id     UUID PRIMARY KEY REFERENCES connector_instances(id) ON DELETE CASCADE,
    last_used_at    TIMESTAMPTZ,
    last_error_at   TIMESTAMPTZ,
    last_error_kind TEXT,
    last_error      TEXT
);
CREATE TABLE instance_activity_days (
    instance_id      UUID NOT NULL REFERENCES connector_instances(id) ON DELETE CASCADE,
    day              DATE NOT NULL,
    api_calls        BIGINT NOT NULL DEFAULT 0,
    credential_reads BIGINT NOT NULL DEFAULT 0,
    errors           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (instance_id, day)
);
",
];

/// The schema version this build writes.
pub const PG_SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Key of the transaction-level advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x6d6f_6269_6765_6e01;

const INSTANCE_COLUMNS: &str = "id::TEXT, project_id, connector_id, config::TEXT, credentials_encrypted, \
    encryption_key_id, credentials_version, status, mobigen_ms(last_validated_at), validation_result::TEXT, \
    mobigen_ms(created_at), mobigen_ms(updated_at)";

const VERSION_COLUMNS: &str = "instance_id::TEXT, version, credentials_encrypted, encryption_key_id, \
    mobigen_ms(created_at), mobigen_ms(expires_at)";

const AUDIT_COLUMNS: &str =
    "seq, mobigen_ms(at), actor, action, instance_id, key_id, detail, prev_hash, hash, keyed";

/// The PostgreSQL implementation of [`Store`].
pub struct PgStore {
    // Reads take `&self` in the trait; the client needs `&mut` for every query.
    client: RefCell<Client>,
    statements: Statements,
    chain: AuditChain,
    #[cfg(test)]
    pub(crate) fail_at: Option<&'static str>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("store_id", &self.chain.store_id)
            .finish_non_exhaustive()
    }
}

/// Whether `id` is a UUID in the lowercase form [`super::new_id`] writes.
fn is_uuid(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        })
}

/// The statements of the frequent queries, prepared once per connection (a query given as text
/// costs a round trip to prepare it every time).
#[derive(Default)]
struct Statements(RefCell<HashMap<String, Statement>>);

impl Statements {
    /// `sql`, prepared on `client`'s connection the first time.
    fn get(
        &self,
        client: &mut impl GenericClient,
        sql: &str,
    ) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.0.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = client.prepare(sql)?;
        self.0
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound { id: id.to_string() }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db?sslmode=require`),
    /// creating or upgrading the schema. TLS (rustls, the platform's certificate verifier) is
    /// used when the server offers it and is required with `sslmode=require`.
    ///
    /// # Errors
    /// [`StoreError::PostgresConnect`] for a bad URL or TLS setup; [`StoreError::SchemaTooNew`];
    /// database errors.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::connect_in_schema(url, None)
    }

    /// As [`Self::connect`], with the tables in the schema `schema` (created if missing)
    /// instead of the connection's default (`public`). Lets several stores share a database.
    ///
    /// # Errors
    /// As [`Self::connect`]; [`StoreError::PostgresConnect`] for a schema name other than
    /// ASCII letters, digits and `_`.
    pub fn connect_in_schema(url: &str, schema: Option<&str>) -> Result<PgStore, StoreError> {
        let config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::PostgresConnect(e.to_string()))?;
        let mut client = if config.get_ssl_mode() == postgres::config::SslMode::Disable {
            config.connect(postgres::NoTls)?
        } else {
            config.connect(tls_connector()?)?
        };
        if let Some(schema) = schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_')
            {
                return Err(StoreError::PostgresConnect(format!(
                    "schema name `{schema}` must be ASCII letters, digits and `_`"
                )));
            }
            client.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
            ))?;
        }
        migrate(&mut client)?;
        let store_id: String = client
            .query_one("SELECT value FROM store_meta WHERE key = 'store_id'", &[])?
            .get(0);
        Ok(PgStore {
            client: RefCell::new(client),
            statements: Statements::default(),
            chain: AuditChain {
                seal: None,
                store_id,
            },
            #[cfg(test)]
            fail_at: None,
        })
    }

    /// The store's random id, under which the keyring anchors its audit head.
    pub fn store_id(&self) -> &str {
        &self.chain.store_id
    }

    /// The schema version of the database.
    ///
    /// # Errors
    /// Database errors.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .client
            .borrow_mut()
            .query_one(
                "SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations",
                &[],
            )?
            .get(0))
    }

    fn fail_point(&self, name: &'static str) -> Result<(), StoreError> {
        #[cfg(test)]
        if self.fail_at == Some(name) {
            return Err(StoreError::Injected(name));
        }
        let _ = name;
        Ok(())
    }
}

/// rustls with the ring provider and the platform's certificate verifier.
fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::PostgresConnect(e.to_string()))?
        .with_platform_verifier()
        .map_err(|e| StoreError::PostgresConnect(e.to_string()))?
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )?;
    let found: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations",
            &[],
        )?
        .get(0);
    if found > PG_SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: PG_SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.batch_execute(sql)?;
        let version = index as i64 + 1;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn instance_from_row(row: &Row) -> Result<InstanceRecord, StoreError> {
    let id: String = row.try_get(0)?;
    let corrupt = |what: &str| StoreError::CorruptRow {
        table: "connector_instances",
        id: id.clone(),
        what: what.to_string(),
    };
    let config: String = row.try_get(3)?;
    let config: Value = serde_json::from_str(&config).map_err(|_| corrupt("config is not JSON"))?;
    let validation_result: Option<String> = row.try_get(9)?;
    let validation_result = match validation_result {
        Some(text) => Some(
            serde_json::from_str(&text).map_err(|_| corrupt("validation_result is not JSON"))?,
        ),
        None => None,
    };
    let status: String = row.try_get(7)?;
    let status: Status = status.parse().map_err(|e: String| corrupt(&e))?;
    let last_validated_at: Option<i64> = row.try_get(8)?;
    Ok(InstanceRecord {
        project_id: row.try_get(1)?,
        connector_id: row.try_get(2)?,
        config,
        credentials_encrypted: row.try_get(4)?,
        encryption_key_id: row.try_get(5)?,
        credentials_version: row.try_get(6)?,
        status,
        last_validated_at: last_validated_at.map(Timestamp::from_unix_millis),
        validation_result,
        created_at: Timestamp::from_unix_millis(row.try_get(10)?),
        updated_at: Timestamp::from_unix_millis(row.try_get(11)?),
        id,
    })
}

fn version_from_row(row: &Row) -> Result<CredentialVersion, StoreError> {
    Ok(CredentialVersion {
        instance_id: row.try_get(0)?,
        version: row.try_get(1)?,
        credentials_encrypted: row.try_get(2)?,
        encryption_key_id: row.try_get(3)?,
        created_at: Timestamp::from_unix_millis(row.try_get(4)?),
        expires_at: Timestamp::from_unix_millis(row.try_get(5)?),
    })
}

fn audit_row(row: &Row) -> Result<AuditRow, StoreError> {
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
        row.try_get(8)?,
        row.try_get(9)?,
    ))
}

/// Loads instance `id` inside `tx`, locking its row until the transaction ends.
fn load_for_update(
    tx: &mut Transaction<'_>,
    statements: &Statements,
    id: &str,
) -> Result<InstanceRecord, StoreError> {
    if !is_uuid(id) {
        return Err(not_found(id));
    }
    let query = statements.get(
        tx,
        &format!(
            "SELECT {INSTANCE_COLUMNS} FROM connector_instances WHERE id = $1::TEXT::UUID FOR UPDATE"
        ),
    )?;
    let row = tx.query_opt(&query, &[&id])?.ok_or_else(|| not_found(id))?;
    instance_from_row(&row)
}

fn load(
    tx: &mut Transaction<'_>,
    statements: &Statements,
    id: &str,
) -> Result<InstanceRecord, StoreError> {
    let query = statements.get(
        tx,
        &format!("SELECT {INSTANCE_COLUMNS} FROM connector_instances WHERE id = $1::TEXT::UUID"),
    )?;
    let row = tx.query_opt(&query, &[&id])?.ok_or_else(|| not_found(id))?;
    instance_from_row(&row)
}

/// An anchor moved before a commit, put back if the commit fails.
struct AnchorMove<'a> {
    seal: &'a AuditSeal,
    store_id: &'a str,
    new: AuditHead,
    previous: Option<AuditHead>,
}

/// Appends `events` inside `tx` under the chain lock, each with its MAC, and advances the
/// keyring's anchor (still under the lock). Pass the result to [`commit`].
fn append_in<'a>(
    tx: &mut Transaction<'_>,
    events: &[AuditEvent],
    chain: &'a AuditChain,
    statements: &Statements,
) -> Result<Option<AnchorMove<'a>>, StoreError> {
    if events.is_empty() {
        return Ok(None);
    }
    let seal = chain.seal()?;
    let lock = statements.get(tx, "SELECT id FROM audit_chain_lock FOR UPDATE")?;
    tx.execute(&lock, &[])?;
    let last = statements.get(
        tx,
        "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
    )?;
    let (mut seq, mut prev): (i64, String) = tx
        .query_opt(&last, &[])?
        .map(|r| (r.get(0), r.get(1)))
        .unwrap_or((0, GENESIS_HASH.to_string()));
    let insert = statements.get(
        tx,
        "INSERT INTO audit_log (seq, at, actor, action, instance_id, key_id, detail, prev_hash, hash, keyed)
         VALUES ($1, mobigen_ts($2), $3, $4, $5, $6, $7, $8, $9, TRUE)",
    )?;
    for event in events {
        seq += 1;
        let hash = entry_mac(seal, &chain.store_id, seq, event, &prev)?;
        tx.execute(
            &insert,
            &[
                &seq,
                &event.at.unix_millis(),
                &event.actor,
                &event.action.as_str(),
                &event.instance_id,
                &event.key_id.as_ref().map(KeyId::as_str),
                &event.detail,
                &prev,
                &hash,
            ],
        )?;
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

/// Commits `tx`; when that fails after [`append_in`] moved the anchor, puts the anchor back.
fn commit(tx: Transaction<'_>, moved: Option<AnchorMove<'_>>) -> Result<(), StoreError> {
    match (tx.commit(), moved) {
        (Ok(()), _) => Ok(()),
        (Err(e), None) => Err(e.into()),
        (Err(e), Some(m)) => {
            // The commit error is the one to report; a failed restore leaves the anchor ahead,
            // which verification reports as a truncated log (on the safe side).
            let _ = m.seal.restore_head(m.store_id, &m.new, m.previous);
            Err(e.into())
        }
    }
}

impl Store for PgStore {
    fn insert_instance(
        &mut self,
        record: &InstanceRecord,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let existing = |tx: &mut Transaction<'_>| -> Result<Option<String>, StoreError> {
            Ok(tx
                .query_opt(
                    "SELECT id::TEXT FROM connector_instances
                     WHERE project_id = $1 AND connector_id = $2 AND status <> 'removed'",
                    &[&record.project_id, &record.connector_id],
                )?
                .map(|r| r.get(0)))
        };
        let already = |id: String| StoreError::AlreadyExists {
            project_id: record.project_id.clone(),
            connector_id: record.connector_id.clone(),
            id,
        };
        if let Some(id) = existing(&mut tx)? {
            return Err(already(id));
        }
        let inserted = tx.execute(
            "INSERT INTO connector_instances (id, project_id, connector_id, config, credentials_encrypted,
                 encryption_key_id, credentials_version, status, last_validated_at, validation_result,
                 created_at, updated_at)
             VALUES ($1::TEXT::UUID, $2, $3, $4::TEXT::JSONB, $5, $6, $7, $8, mobigen_ts($9),
                 $10::TEXT::JSONB, mobigen_ts($11), mobigen_ts($12))",
            &[
                &record.id,
                &record.project_id,
                &record.connector_id,
                &record.config.to_string(),
                &record.credentials_encrypted,
                &record.encryption_key_id,
                &record.credentials_version,
                &record.status.as_str(),
                &record.last_validated_at.map(Timestamp::unix_millis),
                &record.validation_result.as_ref().map(Value::to_string),
                &record.created_at.unix_millis(),
                &record.updated_at.unix_millis(),
            ],
        );
        if let Err(e) = inserted {
            // Another writer added the same connector to the project after the check above.
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                drop(tx);
                let mut tx = client.transaction()?;
                if let Some(id) = existing(&mut tx)? {
                    return Err(already(id));
                }
            }
            return Err(e.into());
        }
        self.fail_point("insert_instance:before_audit")?;
        let moved = append_in(&mut tx, audit, &self.chain, &self.statements)?;
        commit(tx, moved)
    }

    fn instance(&self, id: &str) -> Result<InstanceRecord, StoreError> {
        if !is_uuid(id) {
            return Err(not_found(id));
        }
        let mut client = self.client.borrow_mut();
        let query = self.statements.get(
            &mut *client,
            &format!(
                "SELECT {INSTANCE_COLUMNS} FROM connector_instances WHERE id = $1::TEXT::UUID"
            ),
        )?;
        let row = client
            .query_opt(&query, &[&id])?
            .ok_or_else(|| not_found(id))?;
        instance_from_row(&row)
    }

    fn find_instance(
        &self,
        project_id: &str,
        connector_id: &str,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        self.client
            .borrow_mut()
            .query_opt(
                &format!(
                    "SELECT {INSTANCE_COLUMNS} FROM connector_instances
                     WHERE project_id = $1 AND connector_id = $2 AND status <> 'removed'"
                ),
                &[&project_id, &connector_id],
            )?
            .as_ref()
            .map(instance_from_row)
            .transpose()
    }

    fn list_instances(&self, project_id: Option<&str>) -> Result<Vec<InstanceRecord>, StoreError> {
        self.client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {INSTANCE_COLUMNS} FROM connector_instances
                     WHERE $1::TEXT IS NULL OR project_id = $1 ORDER BY created_at, id::TEXT"
                ),
                &[&project_id],
            )?
            .iter()
            .map(instance_from_row)
            .collect()
    }

    fn change_credentials(
        &mut self,
        id: &str,
        change: &CredentialChange,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let current = load_for_update(&mut tx, &self.statements, id)?;
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
            let keep = self.statements.get(
                &mut tx,
                "INSERT INTO credential_versions
                 (instance_id, version, credentials_encrypted, encryption_key_id, created_at, expires_at)
                 VALUES ($1::TEXT::UUID, $2, $3, $4, mobigen_ts($5), mobigen_ts($6))",
            )?;
            tx.execute(
                &keep,
                &[
                    &id,
                    &current.credentials_version,
                    &current.credentials_encrypted,
                    &current.encryption_key_id,
                    &now.unix_millis(),
                    &expires_at.unix_millis(),
                ],
            )?;
        }
        self.fail_point("change_credentials:after_version")?;
        let replace = self.statements.get(
            &mut tx,
            &format!(
                "UPDATE connector_instances SET config = $2::TEXT::JSONB, credentials_encrypted = $3,
                     encryption_key_id = $4, credentials_version = credentials_version + 1,
                     status = $5, updated_at = mobigen_ts($6)
                 WHERE id = $1::TEXT::UUID RETURNING {INSTANCE_COLUMNS}"
            ),
        )?;
        let row = tx.query_one(
            &replace,
            &[
                &id,
                &change.config.to_string(),
                &change.credentials_encrypted,
                &change.encryption_key_id.as_str(),
                &status.as_str(),
                &now.unix_millis(),
            ],
        )?;
        let updated = instance_from_row(&row)?;
        self.fail_point("change_credentials:before_audit")?;
        let moved = append_in(&mut tx, audit, &self.chain, &self.statements)?;
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
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let current = load_for_update(&mut tx, &self.statements, id)?;
        current.status.transition(to)?;
        tx.execute(
            "UPDATE connector_instances SET status = $2, updated_at = mobigen_ts($3) WHERE id = $1::TEXT::UUID",
            &[&id, &to.as_str(), &now.unix_millis()],
        )?;
        if let Some(result) = validation {
            tx.execute(
                "UPDATE connector_instances SET last_validated_at = mobigen_ts($2),
                     validation_result = $3::TEXT::JSONB WHERE id = $1::TEXT::UUID",
                &[&id, &now.unix_millis(), &result.to_string()],
            )?;
        }
        let updated = load(&mut tx, &self.statements, id)?;
        let moved = append_in(&mut tx, audit, &self.chain, &self.statements)?;
        commit(tx, moved)?;
        Ok(updated)
    }

    fn record_validation(
        &mut self,
        id: &str,
        result: &Value,
        now: Timestamp,
    ) -> Result<InstanceRecord, StoreError> {
        if !is_uuid(id) {
            return Err(not_found(id));
        }
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let changed = tx.execute(
            "UPDATE connector_instances SET last_validated_at = mobigen_ts($2),
                 validation_result = $3::TEXT::JSONB, updated_at = mobigen_ts($2)
             WHERE id = $1::TEXT::UUID",
            &[&id, &now.unix_millis(), &result.to_string()],
        )?;
        if changed == 0 {
            return Err(not_found(id));
        }
        let updated = load(&mut tx, &self.statements, id)?;
        tx.commit()?;
        Ok(updated)
    }

    fn remove_instance(
        &mut self,
        id: &str,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let current = load_for_update(&mut tx, &self.statements, id)?;
        current.status.transition(Status::Removed)?;
        tx.execute(
            "UPDATE connector_instances SET status = 'removed', credentials_encrypted = '',
                 encryption_key_id = '', updated_at = mobigen_ts($2) WHERE id = $1::TEXT::UUID",
            &[&id, &now.unix_millis()],
        )?;
        for table in [
            "credential_versions",
            "instance_activity",
            "instance_activity_days",
        ] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE instance_id = $1::TEXT::UUID"),
                &[&id],
            )?;
        }
        let updated = load(&mut tx, &self.statements, id)?;
        let moved = append_in(&mut tx, audit, &self.chain, &self.statements)?;
        commit(tx, moved)?;
        Ok(updated)
    }

    fn credential_versions(&self, id: &str) -> Result<Vec<CredentialVersion>, StoreError> {
        if !is_uuid(id) {
            return Ok(Vec::new());
        }
        self.client
            .borrow_mut()
            .query(
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM credential_versions
                     WHERE instance_id = $1::TEXT::UUID ORDER BY version DESC"
                ),
                &[&id],
            )?
            .iter()
            .map(version_from_row)
            .collect()
    }

    fn purge_expired_versions(
        &mut self,
        now: Timestamp,
        audit_for: &mut dyn FnMut(&CredentialVersion) -> AuditEvent,
    ) -> Result<u64, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        // DELETE ... RETURNING takes the rows' locks: two purges at once delete each version once.
        let rows = tx.query(
            "WITH gone AS (
                 DELETE FROM credential_versions WHERE expires_at <= mobigen_ts($1)
                 RETURNING instance_id, version, credentials_encrypted, encryption_key_id, created_at, expires_at
             )
             SELECT instance_id::TEXT, version, credentials_encrypted, encryption_key_id,
                 mobigen_ms(created_at), mobigen_ms(expires_at)
             FROM gone ORDER BY instance_id::TEXT, version",
            &[&now.unix_millis()],
        )?;
        let expired = rows
            .iter()
            .map(version_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let events: Vec<AuditEvent> = expired.iter().map(&mut *audit_for).collect();
        let moved = append_in(&mut tx, &events, &self.chain, &self.statements)?;
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
        let mut client = self.client.borrow_mut();
        let mut out = Vec::new();
        if after < VERSION_CURSOR_BASE {
            for r in client.query(
                "SELECT row_seq, id::TEXT, project_id, connector_id, credentials_encrypted, credentials_version
                 FROM connector_instances
                 WHERE row_seq > $1 AND encryption_key_id <> $2 AND status <> 'removed'
                 ORDER BY row_seq LIMIT $3",
                &[&after, &key_id.as_str(), &limit_sql],
            )? {
                out.push(StoredCiphertext {
                    cursor: r.try_get(0)?,
                    slot: CiphertextSlot::Current {
                        instance_id: r.try_get(1)?,
                    },
                    project_id: r.try_get(2)?,
                    connector_id: r.try_get(3)?,
                    text: r.try_get(4)?,
                    version: r.try_get(5)?,
                });
            }
        }
        if out.len() < limit {
            let after_version = (after - VERSION_CURSOR_BASE).max(0);
            let remaining = i64::try_from(limit - out.len()).unwrap_or(i64::MAX);
            for r in client.query(
                "SELECT v.row_seq, v.instance_id::TEXT, v.version, i.project_id, i.connector_id, v.credentials_encrypted
                 FROM credential_versions v JOIN connector_instances i ON i.id = v.instance_id
                 WHERE v.row_seq > $1 AND v.encryption_key_id <> $2
                 ORDER BY v.row_seq LIMIT $3",
                &[&after_version, &key_id.as_str(), &remaining],
            )? {
                let version: i64 = r.try_get(2)?;
                out.push(StoredCiphertext {
                    cursor: VERSION_CURSOR_BASE + r.try_get::<_, i64>(0)?,
                    slot: CiphertextSlot::Version {
                        instance_id: r.try_get(1)?,
                        version,
                    },
                    project_id: r.try_get(3)?,
                    connector_id: r.try_get(4)?,
                    text: r.try_get(5)?,
                    version,
                });
            }
        }
        Ok(out)
    }

    fn apply_ciphertext_updates(
        &mut self,
        updates: &[CiphertextUpdate],
        audit_for: &mut dyn FnMut(&CiphertextUpdate) -> AuditEvent,
    ) -> Result<u64, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let mut events = Vec::with_capacity(updates.len());
        let current = tx.prepare(
            "UPDATE connector_instances SET credentials_encrypted = $3, encryption_key_id = $4
             WHERE id = $1::TEXT::UUID AND credentials_encrypted = $2",
        )?;
        let version = tx.prepare(
            "UPDATE credential_versions SET credentials_encrypted = $4, encryption_key_id = $5
             WHERE instance_id = $1::TEXT::UUID AND version = $2 AND credentials_encrypted = $3",
        )?;
        for update in updates {
            if !is_uuid(update.slot.instance_id()) {
                continue;
            }
            let changed = match &update.slot {
                CiphertextSlot::Current { instance_id } => tx.execute(
                    &current,
                    &[
                        instance_id,
                        &update.old_text,
                        &update.new_text,
                        &update.key_id.as_str(),
                    ],
                )?,
                CiphertextSlot::Version {
                    instance_id,
                    version: v,
                } => tx.execute(
                    &version,
                    &[
                        instance_id,
                        v,
                        &update.old_text,
                        &update.new_text,
                        &update.key_id.as_str(),
                    ],
                )?,
            };
            if changed == 1 {
                events.push(audit_for(update));
            }
        }
        let moved = append_in(&mut tx, &events, &self.chain, &self.statements)?;
        commit(tx, moved)?;
        Ok(events.len() as u64)
    }

    fn count_under_key(&self, key_id: &KeyId) -> Result<u64, StoreError> {
        let count: i64 = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT (SELECT count(*) FROM connector_instances WHERE encryption_key_id = $1)
                      + (SELECT count(*) FROM credential_versions WHERE encryption_key_id = $1)",
                &[&key_id.as_str()],
            )?
            .get(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    fn append_audit(&mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let moved = append_in(&mut tx, events, &self.chain, &self.statements)?;
        commit(tx, moved)
    }

    fn audit_entries(
        &self,
        instance_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let rows = self.client.borrow_mut().query(
            &format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log
                 WHERE $1::TEXT IS NULL OR instance_id = $1 ORDER BY seq DESC LIMIT $2"
            ),
            &[&instance_id, &limit],
        )?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let row = audit_row(row)?;
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
        let seal = self.chain.seal()?;
        let mut client = self.client.borrow_mut();
        // Under the chain lock, as appends are: an append moves the anchor before it commits.
        let mut tx = client.transaction()?;
        tx.execute("SELECT id FROM audit_chain_lock FOR UPDATE", &[])?;
        let rows = tx.query(
            &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq"),
            &[],
        )?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            let row = audit_row(row)?;
            let (seq, prev_hash, keyed) = (row.0, row.7.clone(), row.9);
            // An unreadable row cannot match its hash: keep it with a placeholder hash so the
            // walk reports it as edited.
            entries.push(audit_entry(row).unwrap_or_else(|| AuditEntry {
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
            }));
        }
        let anchored = seal.head(&self.chain.store_id)?;
        let report = verify_chain(entries, seal, &self.chain.store_id, anchored.as_ref())?;
        tx.commit()?;
        Ok(report)
    }

    fn record_activity(
        &mut self,
        id: &str,
        event: &ActivityEvent,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        if !is_uuid(id) {
            return Err(not_found(id));
        }
        let mut client = self.client.borrow_mut();
        let mut tx = client.transaction()?;
        let at = event.at.unix_millis();
        let (error_at, kind, message) = match event.stored_error() {
            Some(message) => (Some(at), Some(event.kind.as_str()), Some(message)),
            None => (None, None, None),
        };
        // One statement: the instance row is locked first (as every writer locks it before the
        // rows that refer to it and before the chain, so a removal running beside this cannot
        // deadlock with it), then both activity rows are upserted. Every SET expression sees the
        // row as it was, so the error columns move together.
        let newer = "excluded.last_error_at IS NOT NULL \
            AND excluded.last_error_at >= coalesce(a.last_error_at, excluded.last_error_at)";
        let upsert = self.statements.get(
            &mut tx,
            &format!(
                "WITH known AS (
                     SELECT id FROM connector_instances WHERE id = $1::TEXT::UUID FOR KEY SHARE
                 ), last AS (
                     INSERT INTO instance_activity AS a
                         (instance_id, last_used_at, last_error_at, last_error_kind, last_error)
                     SELECT id, mobigen_ts($2), mobigen_ts($3), $4, $5 FROM known
                     ON CONFLICT (instance_id) DO UPDATE SET
                         last_used_at = greatest(a.last_used_at, excluded.last_used_at),
                         last_error_at = CASE WHEN {newer} THEN excluded.last_error_at ELSE a.last_error_at END,
                         last_error_kind = CASE WHEN {newer} THEN excluded.last_error_kind ELSE a.last_error_kind END,
                         last_error = CASE WHEN {newer} THEN excluded.last_error ELSE a.last_error END
                 ), day AS (
                     INSERT INTO instance_activity_days AS d
                         (instance_id, day, api_calls, credential_reads, errors)
                     SELECT id, DATE '1970-01-01' + $6::BIGINT::INT, $7, $8, $9 FROM known
                     ON CONFLICT (instance_id, day) DO UPDATE SET
                         api_calls = d.api_calls + excluded.api_calls,
                         credential_reads = d.credential_reads + excluded.credential_reads,
                         errors = d.errors + excluded.errors
                 )
                 SELECT count(*) FROM known"
            ),
        )?;
        let reads = i64::from(event.kind == ActivityKind::CredentialRead);
        let found: i64 = tx
            .query_one(
                &upsert,
                &[
                    &id,
                    &at,
                    &error_at,
                    &kind,
                    &message,
                    &day_number(event.at),
                    &i64::from(event.api_calls),
                    &reads,
                    &i64::from(event.is_error()),
                ],
            )?
            .get(0);
        if found == 0 {
            return Err(not_found(id));
        }
        let moved = append_in(&mut tx, audit, &self.chain, &self.statements)?;
        commit(tx, moved)
    }

    fn activity(&self, id: &str, since_day: i64) -> Result<InstanceActivity, StoreError> {
        self.instance(id)?;
        let mut client = self.client.borrow_mut();
        let last = client
            .query_opt(
                "SELECT mobigen_ms(last_used_at), mobigen_ms(last_error_at), last_error_kind, last_error
                 FROM instance_activity WHERE instance_id = $1::TEXT::UUID",
                &[&id],
            )?
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)));
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let days = client
            .query(
                "SELECT (day - DATE '1970-01-01')::BIGINT, api_calls, credential_reads, errors
                 FROM instance_activity_days
                 WHERE instance_id = $1::TEXT::UUID AND day >= DATE '1970-01-01' + $2::BIGINT::INT
                 ORDER BY day DESC",
                &[&id, &since_day],
            )?
            .iter()
            .map(|r| DailyActivity {
                day: r.get(0),
                api_calls: count(r.get(1)),
                credential_reads: count(r.get(2)),
                errors: count(r.get(3)),
            })
            .collect();
        assemble(id, last, days)
    }

    fn set_audit_seal(&mut self, seal: AuditSeal) {
        self.chain.seal = Some(seal);
    }
}
