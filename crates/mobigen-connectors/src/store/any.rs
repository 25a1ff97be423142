//! A store chosen at run time by its address: an SQLite file path, or a `postgres://` URL (with
//! the `postgres` feature). Every host (CLI, Node, C, the example server) takes the same string
//! and calls [`AnyStore::open`].
//!
//! ```
//! use mobigen_connectors::store::StoreAddress;
//!
//! let file = StoreAddress::parse("/srv/mobigen/connectors.db");
//! assert!(file.file().is_some());
//! let shared = StoreAddress::parse("postgres://svc:hunter2@db.internal/mobigen");
//! // Shown without the password, so it can go into messages and logs.
//! assert_eq!(shared.to_string(), "postgres://svc:***@db.internal/mobigen");
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[cfg(feature = "postgres")]
use super::PgStore;
use super::{
    ActivityEvent, AuditEntry, AuditEvent, AuditReport, CiphertextUpdate, CredentialChange,
    CredentialVersion, InstanceActivity, InstanceRecord, SqliteStore, Store, StoreError,
    StoredCiphertext,
};
use crate::clock::Timestamp;
use crate::secrets::vault::{AuditSeal, KeyId};

/// Where a store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreAddress {
    /// An SQLite database file.
    File(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`; may hold a password, which
    /// [`fmt::Display`] and [`fmt::Debug`] never show).
    Postgres(String),
}

impl StoreAddress {
    /// A `postgres://` or `postgresql://` URL is a PostgreSQL store; anything else is a file path.
    pub fn parse(address: impl AsRef<std::ffi::OsStr>) -> StoreAddress {
        let address = address.as_ref();
        match address.to_str() {
            Some(url)
                if ["postgres://", "postgresql://"]
                    .iter()
                    .any(|scheme| starts_with_ignore_case(url, scheme)) =>
            {
                StoreAddress::Postgres(url.to_string())
            }
            _ => StoreAddress::File(PathBuf::from(address)),
        }
    }

    /// The file of an SQLite store.
    pub fn file(&self) -> Option<&Path> {
        match self {
            StoreAddress::File(path) => Some(path),
            StoreAddress::Postgres(_) => None,
        }
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// `url` with the password of its user info replaced by `***`, and the value of a `password`
/// query parameter too. The user info ends at the last `@`, so a password with an unescaped
/// `/`, `?` or `@` is hidden whole (a later `@`, in a database name, hides more: safe).
fn redacted_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = match rest.rsplit_once('@') {
        Some((user_info, after)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{user}:***@{after}")
        }
        _ => rest.to_string(),
    };
    let shown = match rest.split_once('?') {
        Some((before, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{before}?{}", pairs.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{shown}")
}

impl fmt::Display for StoreAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreAddress::File(path) => path.display().fmt(f),
            StoreAddress::Postgres(url) => f.write_str(&redacted_url(url)),
        }
    }
}

impl fmt::Debug for StoreAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreAddress::File(path) => f.debug_tuple("File").field(path).finish(),
            StoreAddress::Postgres(_) => f
                .debug_tuple("Postgres")
                .field(&format_args!("{self}"))
                .finish(),
        }
    }
}

/// A store of either kind, opened from a [`StoreAddress`].
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyStore {
    /// An SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(Box<PgStore>),
}

impl AnyStore {
    /// Opens the store at `address` (a missing SQLite file is created; a PostgreSQL schema is
    /// created or upgraded).
    ///
    /// # Errors
    /// The store's errors; [`StoreError::PostgresConnect`], naming the URL without its password,
    /// when the database cannot be reached or this build has no `postgres` feature.
    pub fn open(address: &StoreAddress) -> Result<AnyStore, StoreError> {
        match address {
            StoreAddress::File(path) => SqliteStore::open(path).map(AnyStore::Sqlite),
            #[cfg(feature = "postgres")]
            StoreAddress::Postgres(url) => PgStore::connect(url)
                .map(|store| AnyStore::Postgres(Box::new(store)))
                .map_err(|e| match e {
                    StoreError::PostgresConnect(cause) => {
                        StoreError::PostgresConnect(format!("{address}: {cause}"))
                    }
                    StoreError::Postgres(cause) if cause.as_db_error().is_none() => {
                        StoreError::PostgresConnect(format!("{address}: {cause}"))
                    }
                    other => other,
                }),
            #[cfg(not(feature = "postgres"))]
            StoreAddress::Postgres(_) => Err(StoreError::PostgresConnect(format!(
                "{address}: this build of mobigen-connectors has no PostgreSQL support (the `postgres` feature)"
            ))),
        }
    }

    /// The store's random id, under which the keyring anchors its audit head.
    pub fn store_id(&self) -> &str {
        match self {
            AnyStore::Sqlite(s) => s.store_id(),
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(s) => s.store_id(),
        }
    }

    /// The schema version of the database.
    ///
    /// # Errors
    /// Database errors.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.schema_version(),
            #[cfg(feature = "postgres")]
            AnyStore::Postgres(s) => s.schema_version(),
        }
    }
}

/// Calls the same method on whichever store it is.
macro_rules! each {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call,
            #[cfg(feature = "postgres")]
            AnyStore::Postgres($s) => $call,
        }
    };
}

impl Store for AnyStore {
    fn insert_instance(
        &mut self,
        record: &InstanceRecord,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        each!(self, s => s.insert_instance(record, audit))
    }

    fn instance(&self, id: &str) -> Result<InstanceRecord, StoreError> {
        each!(self, s => s.instance(id))
    }

    fn find_instance(
        &self,
        project_id: &str,
        connector_id: &str,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        each!(self, s => s.find_instance(project_id, connector_id))
    }

    fn list_instances(&self, project_id: Option<&str>) -> Result<Vec<InstanceRecord>, StoreError> {
        each!(self, s => s.list_instances(project_id))
    }

    fn change_credentials(
        &mut self,
        id: &str,
        change: &CredentialChange,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        each!(self, s => s.change_credentials(id, change, now, audit))
    }

    fn set_status(
        &mut self,
        id: &str,
        to: super::Status,
        validation: Option<&Value>,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        each!(self, s => s.set_status(id, to, validation, now, audit))
    }

    fn record_validation(
        &mut self,
        id: &str,
        result: &Value,
        now: Timestamp,
    ) -> Result<InstanceRecord, StoreError> {
        each!(self, s => s.record_validation(id, result, now))
    }

    fn remove_instance(
        &mut self,
        id: &str,
        now: Timestamp,
        audit: &[AuditEvent],
    ) -> Result<InstanceRecord, StoreError> {
        each!(self, s => s.remove_instance(id, now, audit))
    }

    fn credential_versions(&self, id: &str) -> Result<Vec<CredentialVersion>, StoreError> {
        each!(self, s => s.credential_versions(id))
    }

    fn purge_expired_versions(
        &mut self,
        now: Timestamp,
        audit_for: &mut dyn FnMut(&CredentialVersion) -> AuditEvent,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.purge_expired_versions(now, audit_for))
    }

    fn ciphertexts_not_under(
        &self,
        key_id: &KeyId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<StoredCiphertext>, StoreError> {
        each!(self, s => s.ciphertexts_not_under(key_id, after, limit))
    }

    fn apply_ciphertext_updates(
        &mut self,
        updates: &[CiphertextUpdate],
        audit_for: &mut dyn FnMut(&CiphertextUpdate) -> AuditEvent,
    ) -> Result<u64, StoreError> {
        each!(self, s => s.apply_ciphertext_updates(updates, audit_for))
    }

    fn count_under_key(&self, key_id: &KeyId) -> Result<u64, StoreError> {
        each!(self, s => s.count_under_key(key_id))
    }

    fn append_audit(&mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        each!(self, s => s.append_audit(events))
    }

    fn audit_entries(
        &self,
        instance_id: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        each!(self, s => s.audit_entries(instance_id, limit))
    }

    fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        each!(self, s => s.verify_audit())
    }

    fn set_audit_seal(&mut self, seal: AuditSeal) {
        each!(self, s => s.set_audit_seal(seal))
    }

    fn record_activity(
        &mut self,
        id: &str,
        event: &ActivityEvent,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        each!(self, s => s.record_activity(id, event, audit))
    }

    fn activity(&self, id: &str, since_day: i64) -> Result<InstanceActivity, StoreError> {
        each!(self, s => s.activity(id, since_day))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_everything_else_a_file() {
        for url in [
            "postgres://localhost/db",
            "postgresql://u@h:5433/db?sslmode=require",
            "POSTGRES://h/db",
        ] {
            assert!(
                matches!(StoreAddress::parse(url), StoreAddress::Postgres(ref u) if u == url),
                "{url}"
            );
        }
        for path in [
            "connectors.db",
            "/srv/postgres/c.db",
            "postgres:/x",
            "./postgres://x",
        ] {
            assert_eq!(
                StoreAddress::parse(path).file(),
                Some(Path::new(path)),
                "{path}"
            );
        }
    }

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            ("postgres://svc:s3cret@h/db", "postgres://svc:***@h/db"),
            ("postgres://svc:s3cret@h", "postgres://svc:***@h"),
            (
                "postgres://svc:s3:c@ret@h:5432/db?sslmode=require&password=s3cret",
                "postgres://svc:***@h:5432/db?sslmode=require&password=***",
            ),
            (
                "postgresql://h/db?user=svc&PASSWORD=s3cret",
                "postgresql://h/db?user=svc&PASSWORD=***",
            ),
            ("postgres://svc:pa/s3@h/db", "postgres://svc:***@h/db"),
            ("postgres://svc:pa?s3@h/db", "postgres://svc:***@h/db"),
            ("postgres://svc@h/db", "postgres://svc@h/db"),
        ] {
            let address = StoreAddress::parse(url);
            assert_eq!(address.to_string(), shown);
            assert!(!format!("{address:?}").contains("s3"), "{address:?}");
        }
    }

    #[test]
    fn a_file_address_opens_an_sqlite_store() {
        let dir = tempfile::tempdir().unwrap();
        let address = StoreAddress::parse(dir.path().join("c.db"));
        let store = AnyStore::open(&address).unwrap();
        assert!(matches!(store, AnyStore::Sqlite(_)));
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::SCHEMA_VERSION
        );
        assert!(store.list_instances(None).unwrap().is_empty());
    }
}
