//! The `CredentialStore` class: connector instances with encrypted credentials (the library's
//! `CredentialService` over SQLite and a local keyring), as the CLI's store commands use them.

use std::path::{Path, PathBuf};

use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::secrets::vault::{LocalKeyring, Vault};
use mobigen_connectors::store::{CredentialService, InstanceRecord, SqliteStore, Store};
use napi::Env;
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::{Value, json};

use crate::errors::{self, Code, Failure, Outcome};
use crate::vault::DEFAULT_ACTOR;
use crate::{args, call, registry};

type Service = CredentialService<SqliteStore, LocalKeyring, SystemClock>;

/// Stored connector instances of many projects: public config as JSON, secret fields encrypted
/// by the vault (the database never holds a plaintext secret), a lifecycle status, kept
/// credential versions and a hash-chained audit log. Results never hold a secret value, except
/// from `decryptCredentials`.
#[napi]
pub struct CredentialStore {
    service: Service,
    actor: String,
}

/// Creates `path` empty with mode 0600 unless it exists (SQLite then initialises it).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl CredentialStore {
    /// An instance as the CLI's `credentials show --json` prints it.
    fn instance_json(&self, record: &InstanceRecord) -> Outcome<Value> {
        let versions = self
            .service
            .store()
            .credential_versions(&record.id)
            .map_err(errors::store)?;
        let expiring: Vec<Value> = versions
            .iter()
            .map(|v| {
                json!({
                    "version": v.version,
                    "keyId": v.encryption_key_id,
                    "status": "expiring",
                    "replacedAt": v.created_at.to_string(),
                    "expiresAt": v.expires_at.to_string(),
                })
            })
            .collect();
        Ok(json!({
            "id": record.id,
            "projectId": record.project_id,
            "connector": record.connector_id,
            "status": record.status.as_str(),
            "credentialsVersion": record.credentials_version,
            "keyId": record.encryption_key_id,
            "createdAt": record.created_at.to_string(),
            "updatedAt": record.updated_at.to_string(),
            "lastValidatedAt": record.last_validated_at.map(|t| t.to_string()),
            "expiringVersions": expiring,
        }))
    }

    fn validated(
        env: &Env,
        connector_id: &str,
        config: Unknown<'_>,
    ) -> Outcome<mobigen_connectors::ValidConfig> {
        let config = args::object(env, config, "config")?;
        let registry = registry::current()?;
        let connector = registry.lookup(connector_id).map_err(errors::registry)?;
        connector.validate_config(&config).map_err(errors::config)
    }
}

#[napi]
impl CredentialStore {
    /// Opens (creating when missing, mode 0600) the store database at `storePath` and the
    /// keyring file at `keyringPath`. `options.actor` names the caller in the audit log
    /// (default `@mobigen/connectors`). Throws `STORE_ERROR`, `KEY_ERROR`, `IO`.
    #[napi(
        factory,
        ts_args_type = "storePath: string, keyringPath: string, options?: { actor?: string }",
        ts_return_type = "CredentialStore"
    )]
    pub fn open(
        env: Env,
        store_path: Unknown<'_>,
        keyring_path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<CredentialStore> {
        call(&env, || {
            let store = PathBuf::from(args::non_empty(&env, store_path, "storePath")?);
            let keyring = PathBuf::from(args::non_empty(&env, keyring_path, "keyringPath")?);
            let options = args::optional_object(&env, options, "options")?;
            args::known_keys(options.as_ref(), &["actor"])?;
            let actor = match options.as_ref().and_then(|o| o.get("actor")) {
                None | Some(Value::Null) => DEFAULT_ACTOR.to_string(),
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(_) => {
                    return Err(Failure::argument(
                        "options.actor must be a non-empty string",
                    ));
                }
            };
            let keyring =
                LocalKeyring::open_or_create(&keyring, SystemClock.now()).map_err(errors::vault)?;
            create_private_file(&store).map_err(|e| {
                Failure::new(
                    Code::Io,
                    format!("cannot create the connector store {}: {e}", store.display()),
                )
            })?;
            let store = SqliteStore::open(&store).map_err(errors::store)?;
            Ok(CredentialStore {
                service: CredentialService::new(store, Vault::new(keyring), SystemClock),
                actor,
            })
        })
    }

    /// The instances of `projectId`, or of every project: metadata only, no secret.
    #[napi(ts_args_type = "projectId?: string", ts_return_type = "Instance[]")]
    pub fn list_instances(
        &self,
        env: Env,
        project_id: Option<Unknown<'_>>,
    ) -> napi::Result<Vec<Value>> {
        call(&env, || {
            let project = args::optional_string(&env, project_id, "projectId")?;
            self.service
                .list(project.as_deref())
                .map_err(errors::store)?
                .iter()
                .map(|r| self.instance_json(r))
                .collect()
        })
    }

    /// The instance `id` (metadata only). Throws `NOT_FOUND`.
    #[napi(ts_args_type = "id: string", ts_return_type = "Instance")]
    pub fn get_instance(&self, env: Env, id: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let record = self.service.instance(&id).map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// The live instance of `connectorId` in `projectId`, or `null`.
    #[napi(
        ts_args_type = "projectId: string, connectorId: string",
        ts_return_type = "Instance | null"
    )]
    pub fn find_instance(
        &self,
        env: Env,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let project = args::string(&env, project_id, "projectId")?;
            let connector = args::string(&env, connector_id, "connectorId")?;
            match self
                .service
                .find(&project, &connector)
                .map_err(errors::store)?
            {
                Some(record) => self.instance_json(&record),
                None => Ok(Value::Null),
            }
        })
    }

    /// Validates `config` and stores it for `projectId` as a new `configured` instance: public
    /// values as JSON, secret fields encrypted. Throws `INVALID_CONFIG` (with `error.issues`),
    /// `ALREADY_EXISTS` when the project has the connector (use `rotateCredentials`).
    #[napi(
        ts_generic_types = "K extends string",
        ts_args_type = "projectId: string, connectorId: K, config: ConnectorConfig<K>",
        ts_return_type = "Instance"
    )]
    pub fn store_credentials(
        &mut self,
        env: Env,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let project = args::non_empty(&env, project_id, "projectId")?;
            let connector = args::string(&env, connector_id, "connectorId")?;
            let valid = Self::validated(&env, &connector, config)?;
            let record = self
                .service
                .put(&project, valid, &self.actor)
                .map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Replaces the credentials of instance `id` with a newly validated config; the previous
    /// ones stay decryptable as an `expiring` version for 7 days.
    #[napi(
        ts_args_type = "id: string, config: Record<string, unknown>",
        ts_return_type = "Instance"
    )]
    pub fn rotate_credentials(
        &mut self,
        env: Env,
        id: Unknown<'_>,
        config: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let existing = self.service.instance(&id).map_err(errors::store)?;
            let valid = Self::validated(&env, &existing.connector_id, config)?;
            let record = self
                .service
                .rotate_credentials(&id, valid, &self.actor)
                .map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Moves instance `id` to `active` (from `validated` or `disabled`). Throws
    /// `ILLEGAL_TRANSITION` naming the allowed next states.
    #[napi(ts_args_type = "id: string", ts_return_type = "Instance")]
    pub fn enable(&mut self, env: Env, id: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let record = self
                .service
                .enable(&id, &self.actor)
                .map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Records the outcome of a live check (`validate()`'s report) for instance `id`: success
    /// moves a `configured` (or `error`) instance to `validated` and sets `lastValidatedAt`;
    /// failure moves it to `error`. Throws `ILLEGAL_TRANSITION` for an `installed` or `removed`
    /// instance.
    #[napi(
        js_name = "recordValidation",
        ts_args_type = "id: string, report: CheckReport",
        ts_return_type = "Instance"
    )]
    pub fn record_validation(
        &mut self,
        env: Env,
        id: Unknown<'_>,
        report: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let report = args::object(&env, report, "report")?;
            let success = report
                .get("success")
                .and_then(Value::as_bool)
                .ok_or_else(|| Failure::argument("report.success must be a boolean"))?;
            let record = self
                .service
                .record_validation(&id, success, &report, &self.actor)
                .map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Moves instance `id` from `active` to `disabled` (code and credentials stay).
    #[napi(ts_args_type = "id: string", ts_return_type = "Instance")]
    pub fn disable(&mut self, env: Env, id: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let record = self
                .service
                .disable(&id, &self.actor)
                .map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Deletes the credentials of instance `id` and every kept version; the instance stays as
    /// `removed`. An `active` instance must be disabled first.
    #[napi(ts_args_type = "id: string", ts_return_type = "Instance")]
    pub fn remove_instance(&mut self, env: Env, id: Unknown<'_>) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let record = self
                .service
                .remove(&id, &self.actor)
                .map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Decrypts the current credentials of instance `id` and returns the full config WITH its
    /// SECRET values. `purpose` is recorded in the audit log; no audit entry, no plaintext.
    #[napi(
        ts_args_type = "id: string, purpose: string",
        ts_return_type = "Record<string, unknown>"
    )]
    pub fn decrypt_credentials(
        &mut self,
        env: Env,
        id: Unknown<'_>,
        purpose: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let purpose = args::non_empty(&env, purpose, "purpose")?;
            let opened = self
                .service
                .get(&id, &purpose, &self.actor)
                .map_err(errors::store)?;
            Ok(opened.config.expose_full_config())
        })
    }
}
