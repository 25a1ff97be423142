//! What the PostgreSQL process test (`tests/postgres_processes.rs`) and the `pg_store` bench
//! share: a fresh database on the test server, a credential service on it, a Stripe config.

use std::path::Path;

use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::secrets::vault::{LocalKeyring, Vault};
use mobigen_connectors::store::{CredentialService, PgStore};
use mobigen_connectors::{Registry, ValidConfig};
use serde_json::json;

/// The test server's URL (`cargo xtask test` and `cargo xtask postgres` set it).
pub const URL_VAR: &str = "MOBIGEN_TEST_POSTGRES_URL";

/// A credential service on PostgreSQL with a local keyring file.
pub type Service = CredentialService<PgStore, LocalKeyring, SystemClock>;

/// A valid Stripe config whose secret key is `secret`.
pub fn stripe(registry: &Registry, secret: &str) -> ValidConfig {
    registry
        .lookup("stripe")
        .expect("stripe")
        .validate_config(&json!({"publishableKey": "pk_test_PUBLISHABLE", "secretKey": secret}))
        .expect("valid config")
}

/// A service on the database at `url` with the keyring file `keyring` (created when missing).
pub fn service(url: &str, keyring: &Path) -> Service {
    let keyring = LocalKeyring::open_or_create(keyring, SystemClock.now()).expect("keyring");
    CredentialService::new(
        PgStore::connect(url).expect("connect"),
        Vault::new(keyring),
        SystemClock,
    )
}

/// Creates a new database `PREFIX_<random>` on the test server; returns its URL. `how` says
/// how to run the caller with a server when [`URL_VAR`] is not set.
pub fn fresh_database(prefix: &str, how: &str) -> String {
    let base = std::env::var(URL_VAR)
        .unwrap_or_else(|_| panic!("{URL_VAR} is not set: run {how}, which starts a server"));
    let database = format!(
        "{prefix}_{}",
        mobigen_connectors::store::new_id()
            .expect("id")
            .replace('-', "")
    );
    postgres::Client::connect(&base, postgres::NoTls)
        .expect("connect")
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .expect("create database");
    match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{database}"),
        None => panic!("{URL_VAR} has no database name: {base}"),
    }
}
