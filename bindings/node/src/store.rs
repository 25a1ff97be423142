//! The `CredentialStore` class: connector instances with encrypted credentials (the library's
//! `CredentialService` over an SQLite file or a PostgreSQL database, and a local keyring), as the
//! CLI's store commands use them.
//! The store + project calls (`addConnector`, `updateConnector`, `removeConnector`) are sync
//! and async.

use std::path::PathBuf;
use std::sync::Arc;

use mobigen_connectors::Registry;
use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::host::location::create_private_file;
use mobigen_connectors::host::protocol::{
    AddRequest, ConfigChange, IfStored, ProtocolError, StoredProject, instance_json,
};
use mobigen_connectors::project::ops::Mode;
use mobigen_connectors::project::plan::PlanOptions;
use mobigen_connectors::secrets::vault::{AnyKeys, LocalKeyring, Vault};
use mobigen_connectors::store::{
    ActivityEvent, AnyStore, CredentialService, InstanceRecord, StoreAddress,
};
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::Value;

use crate::errors::{self, Code, Failure, Outcome};
use crate::vault::DEFAULT_ACTOR;
use crate::{args, call, guarded, json_to_js, project, registry};

type Service = CredentialService<AnyStore, AnyKeys, SystemClock>;

/// Stored connector instances of many projects: public config as JSON, secret fields encrypted
/// by the vault (the database never holds a plaintext secret), a lifecycle status, kept
/// credential versions and a hash-chained audit log. Results never hold a secret value, except
/// from `decryptCredentials`.
#[napi]
pub struct CredentialStore {
    service: Service,
    actor: String,
    /// The database and keyring, which an async call opens again on its worker thread.
    paths: StorePaths,
}

/// Where a store lives: its database (a file or a PostgreSQL URL) and its keyring.
#[derive(Clone)]
struct StorePaths {
    store: StoreAddress,
    keyring: PathBuf,
}

impl StorePaths {
    /// Opens the service, creating the database (a file: mode 0600) and the keyring when
    /// missing; the keys are in AWS KMS instead when `MOBIGEN_KMS_KEY_ID` is set. The store
    /// first: a database that cannot be reached leaves no new keyring.
    fn open(&self) -> Outcome<Service> {
        let store = open_store(&self.store)?;
        let keyring = match AnyKeys::kms_from_env().map_err(errors::vault)? {
            Some(kms) => kms,
            None => AnyKeys::Local(
                LocalKeyring::open_or_create(&self.keyring, SystemClock.now())
                    .map_err(errors::vault)?,
            ),
        };
        Ok(CredentialService::new(
            store,
            Vault::new(keyring),
            SystemClock,
        ))
    }
}

/// Opens the store at `address`; a missing file is created first with mode 0600.
pub(crate) fn open_store(address: &StoreAddress) -> Outcome<AnyStore> {
    if let Some(file) = address.file() {
        create_private_file(file).map_err(|e| {
            Failure::new(
                Code::Io,
                format!("cannot create the connector store {}: {e}", file.display()),
            )
        })?;
    }
    AnyStore::open(address).map_err(errors::store)
}

/// One call of the store + project protocol (`addConnector`, `updateConnector`,
/// `removeConnector`), with its arguments read: runs on the JS thread (sync) or on a worker
/// with a connection of its own (async).
struct ProjectCall {
    registry: Arc<Registry>,
    dir: PathBuf,
    project_id: String,
    op: ProjectOp,
}

enum ProjectOp {
    Add(AddRequest),
    Update {
        connector: String,
        change: ConfigChange,
        options: PlanOptions,
        mode: Mode,
    },
    Remove {
        connector: String,
        options: PlanOptions,
        mode: Mode,
        disable_active: bool,
    },
}

impl ProjectCall {
    /// Reads the project arguments every call takes.
    fn new(
        env: &Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        op: ProjectOp,
    ) -> Outcome<Self> {
        Ok(ProjectCall {
            registry: registry::current()?,
            dir: PathBuf::from(args::non_empty(env, project_dir, "projectDir")?),
            project_id: args::non_empty(env, project_id, "projectId")?,
            op,
        })
    }

    /// Runs the call through the library's protocol; the result is the CLI's `--json` shape.
    fn run(self, service: &mut Service, actor: &str) -> Outcome<Value> {
        let mut project =
            StoredProject::new(&self.registry, service, &self.dir, &self.project_id, actor);
        match self.op {
            ProjectOp::Add(request) => project
                .add(&request)
                .map(|outcome| outcome.to_json(request.mode == Mode::DryRun)),
            ProjectOp::Update {
                connector,
                change,
                options,
                mode,
            } => project
                .update(&connector, change, options, mode)
                .map(|outcome| outcome.to_json(mode == Mode::DryRun)),
            ProjectOp::Remove {
                connector,
                options,
                mode,
                disable_active,
            } => project
                .remove(&connector, options, mode, disable_active)
                .map(|outcome| outcome.to_json(&connector, mode == Mode::DryRun)),
        }
        .map_err(errors::protocol)
    }
}

/// An async store + project call: opens the store again on the worker thread (SQLite and the
/// keyring take their locks there), so the JS thread never waits on the project lock.
pub struct ProjectCallTask {
    call: Option<ProjectCall>,
    paths: StorePaths,
    actor: String,
}

impl Task for ProjectCallTask {
    type Output = Outcome<Value>;
    type JsValue = Unknown<'static>;

    fn compute(&mut self) -> napi::Result<Outcome<Value>> {
        Ok(match self.call.take() {
            Some(call) => guarded(|| call.run(&mut self.paths.open()?, &self.actor)),
            None => Err(Failure::new(Code::Panic, "the task ran twice")),
        })
    }

    fn resolve(&mut self, env: Env, output: Outcome<Value>) -> napi::Result<Unknown<'static>> {
        match output {
            Ok(value) => json_to_js(&env, &value),
            Err(failure) => Err(failure.into_js(&env)),
        }
    }
}

impl CredentialStore {
    /// An instance as the CLI's `credentials show --json` prints it.
    fn instance_json(&self, record: &InstanceRecord) -> Outcome<Value> {
        instance_json(self.service.store(), record, self.service.now()).map_err(errors::store)
    }

    /// Runs `f` on the project `dir` named `project_id` in the store, through the library's
    /// protocol.
    fn with_project<T>(
        &mut self,
        env: &Env,
        dir: Unknown<'_>,
        project_id: Unknown<'_>,
        f: impl FnOnce(
            &mut StoredProject<'_, AnyStore, AnyKeys, SystemClock>,
        ) -> Result<T, ProtocolError>,
    ) -> Outcome<T> {
        let dir = PathBuf::from(args::non_empty(env, dir, "projectDir")?);
        let project_id = args::non_empty(env, project_id, "projectId")?;
        let registry = registry::current()?;
        let mut project =
            StoredProject::new(&registry, &mut self.service, &dir, &project_id, &self.actor);
        f(&mut project).map_err(errors::protocol)
    }

    fn switch(
        &mut self,
        env: &Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        on: bool,
    ) -> napi::Result<Value> {
        call(env, || {
            let connector = args::string(env, connector_id, "connectorId")?;
            let switched = self.with_project(env, project_dir, project_id, |p| {
                p.set_enabled(&connector, on)
            })?;
            self.instance_json(&switched.record)
        })
    }

    fn run(&mut self, call: ProjectCall) -> Outcome<Value> {
        call.run(&mut self.service, &self.actor)
    }

    fn spawn(&self, call: ProjectCall) -> AsyncTask<ProjectCallTask> {
        AsyncTask::new(ProjectCallTask {
            call: Some(call),
            paths: self.paths.clone(),
            actor: self.actor.clone(),
        })
    }

    /// The arguments of `addConnector` after the project's.
    fn add_op(
        env: &Env,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Outcome<ProjectOp> {
        let connector = args::string(env, connector_id, "connectorId")?;
        let valid = Self::validated(env, &connector, config)?;
        let options = args::optional_object(env, options, "options")?;
        let options = options.as_ref();
        args::known_keys(
            options,
            &["force", "writeSecretEnv", "dryRun", "supplied", "ifStored"],
        )?;
        let if_stored = match options.and_then(|o| o.get("ifStored")) {
            None | Some(Value::Null) => IfStored::Update,
            Some(Value::String(s)) if s == "update" => IfStored::Update,
            Some(Value::String(s)) if s == "refuse" => IfStored::Refuse,
            Some(_) => {
                return Err(Failure::argument(
                    "options.ifStored must be \"update\" or \"refuse\"",
                ));
            }
        };
        let supplied = project::supplied_option(options)?;
        let (plan_options, mode) = project::plan_options(options)?;
        Ok(ProjectOp::Add(AddRequest {
            config: valid,
            options: plan_options,
            supplied,
            mode,
            if_stored,
        }))
    }

    /// The arguments of `updateConnector` after the project's.
    fn update_op(
        env: &Env,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Outcome<ProjectOp> {
        let connector = args::string(env, connector_id, "connectorId")?;
        let options = args::optional_object(env, options, "options")?;
        let options = options.as_ref();
        args::known_keys(options, &["force", "writeSecretEnv", "dryRun", "merge"])?;
        let change = if args::flag(options, "merge", false)? {
            ConfigChange::Merge(args::object(env, config, "config")?)
        } else {
            ConfigChange::Replace(Self::validated(env, &connector, config)?)
        };
        let (options, mode) = project::plan_options(options)?;
        Ok(ProjectOp::Update {
            connector,
            change,
            options,
            mode,
        })
    }

    /// The arguments of `removeConnector` after the project's.
    fn remove_op(
        env: &Env,
        connector_id: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Outcome<ProjectOp> {
        let connector = args::string(env, connector_id, "connectorId")?;
        let options = args::optional_object(env, options, "options")?;
        let options = options.as_ref();
        args::known_keys(options, &["force", "dryRun", "disableActive"])?;
        let disable_active = args::flag(options, "disableActive", false)?;
        let (options, mode) = project::plan_options(options)?;
        Ok(ProjectOp::Remove {
            connector,
            options,
            mode,
            disable_active,
        })
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
    /// Opens the store at `store` — an SQLite file (created when missing, mode 0600) or a
    /// PostgreSQL URL (`postgres://user@host/db`, `?sslmode=require` for TLS; the schema is
    /// created or upgraded), which many service instances can share — and the keyring file at
    /// `keyringPath` (not used when `MOBIGEN_KMS_KEY_ID` puts the keys in AWS KMS: see the
    /// README). `options.actor` names the caller in the audit log (default
    /// `@mobigen/connectors`). Throws `STORE_ERROR`, `KEY_ERROR`, `IO`; a message names a URL
    /// without its password.
    #[napi(
        factory,
        ts_args_type = "store: string, keyringPath: string, options?: { actor?: string }",
        ts_return_type = "CredentialStore"
    )]
    pub fn open(
        env: Env,
        store: Unknown<'_>,
        keyring_path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<CredentialStore> {
        call(&env, || {
            let store = StoreAddress::parse(args::non_empty(&env, store, "store")?);
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
            let paths = StorePaths { store, keyring };
            Ok(CredentialStore {
                service: paths.open()?,
                actor,
                paths,
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
    /// failure moves it to `error`; the run counts in the instance's `activity` (its requests
    /// as API calls, its first failed step as the last error). Throws `ILLEGAL_TRANSITION` for an
    /// `installed` or `removed` instance.
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

    /// Records a test action's run (`runTest()`'s report) in the activity of instance `id`: its
    /// requests count as API calls, its first failed step as the last error. The status does
    /// not change. Throws `NOT_FOUND`.
    #[napi(
        js_name = "recordTest",
        ts_args_type = "id: string, report: CheckReport",
        ts_return_type = "Instance"
    )]
    pub fn record_test(
        &mut self,
        env: Env,
        id: Unknown<'_>,
        report: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let report = args::object(&env, report, "report")?;
            if !report.get("success").is_some_and(Value::is_boolean) {
                return Err(Failure::argument("report.success must be a boolean"));
            }
            self.service
                .record_test(&id, &report)
                .map_err(errors::store)?;
            let record = self.service.instance(&id).map_err(errors::store)?;
            self.instance_json(&record)
        })
    }

    /// Records one use of instance `id` that the host made itself (its own call to the
    /// service): `kind` is `'validation' | 'test' | 'oauth_refresh' | 'credential_read'`,
    /// `apiCalls` the requests sent (default 0), `error` what failed (never a secret). Throws
    /// `NOT_FOUND`, `INVALID_ARGUMENT`.
    #[napi(
        js_name = "recordActivity",
        ts_args_type = "id: string, event: { kind: ActivityKind; apiCalls?: number; error?: string | null }",
        ts_return_type = "Instance"
    )]
    pub fn record_activity(
        &mut self,
        env: Env,
        id: Unknown<'_>,
        event: Unknown<'_>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let id = args::string(&env, id, "id")?;
            let event = args::object(&env, event, "event")?;
            let event = ActivityEvent::from_host_json(self.service.now(), &event)
                .map_err(|e| Failure::argument(format!("event: {e}")))?;
            self.service
                .record_activity(&id, &event)
                .map_err(errors::store)?;
            let record = self.service.instance(&id).map_err(errors::store)?;
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

    /// Adds connector `connectorId` with `config` to the Expo project in `projectDir`, named
    /// `projectId` in the store, in one step under the project lock: plan, store the config
    /// (secrets encrypted), inject the code, and if injecting fails undo the store write, so
    /// store and project never disagree. Returns the CLI's `add --json` shape with `store`
    /// (`{action, instanceId, projectId, status, credentialsVersion, keyId}`, `null` on a dry
    /// run). Options: `force`, `writeSecretEnv` (false: no secret in any file, the store still
    /// takes every value), `dryRun` (touches neither), `supplied`, `ifStored`: `"update"`
    /// (default: a changed config replaces the stored one) or `"refuse"` (`ALREADY_EXISTS`).
    #[napi(
        js_name = "addConnector",
        ts_generic_types = "K extends string",
        ts_args_type = "projectDir: string, projectId: string, connectorId: K, config: ConnectorConfig<K>, options?: AddConnectorOptions",
        ts_return_type = "StoredChange"
    )]
    pub fn add_connector(
        &mut self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let op = Self::add_op(&env, connector_id, config, options)?;
            self.run(ProjectCall::new(&env, project_dir, project_id, op)?)
        })
    }

    /// As `addConnector`, on the thread pool with a connection of its own: returns a Promise,
    /// and the JS thread does not wait for the project lock, the disk or the store.
    #[napi(
        js_name = "addConnectorAsync",
        ts_generic_types = "K extends string",
        ts_args_type = "projectDir: string, projectId: string, connectorId: K, config: ConnectorConfig<K>, options?: AddConnectorOptions",
        ts_return_type = "Promise<StoredChange>"
    )]
    pub fn add_connector_async(
        &self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<AsyncTask<ProjectCallTask>> {
        call(&env, || {
            let op = Self::add_op(&env, connector_id, config, options)?;
            Ok(self.spawn(ProjectCall::new(&env, project_dir, project_id, op)?))
        })
    }

    /// Updates the stored config of connector `connectorId` in the project and its code, in one
    /// step under the project lock; if updating the code fails, the previous credentials become
    /// current again. `config` is the complete new config, or with `options.merge` a JSON merge
    /// patch on the stored one (members replace, objects merge, `null` deletes; secrets not
    /// named are kept). The old credentials stay `expiring`. Throws `NOT_ENABLED` when the
    /// project has no stored instance or not the code. Options: `merge`, `force`,
    /// `writeSecretEnv`, `dryRun`.
    #[napi(
        js_name = "updateConnector",
        ts_args_type = "projectDir: string, projectId: string, connectorId: string, config: Record<string, unknown>, options?: UpdateConnectorOptions",
        ts_return_type = "StoredChange"
    )]
    pub fn update_connector(
        &mut self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let op = Self::update_op(&env, connector_id, config, options)?;
            self.run(ProjectCall::new(&env, project_dir, project_id, op)?)
        })
    }

    /// As `updateConnector`, on the thread pool: returns a Promise.
    #[napi(
        js_name = "updateConnectorAsync",
        ts_args_type = "projectDir: string, projectId: string, connectorId: string, config: Record<string, unknown>, options?: UpdateConnectorOptions",
        ts_return_type = "Promise<StoredChange>"
    )]
    pub fn update_connector_async(
        &self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        config: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<AsyncTask<ProjectCallTask>> {
        call(&env, || {
            let op = Self::update_op(&env, connector_id, config, options)?;
            Ok(self.spawn(ProjectCall::new(&env, project_dir, project_id, op)?))
        })
    }

    /// Removes connector `connectorId` from the project: the code first, then the stored
    /// credentials (every version). An `active` instance is refused (`ILLEGAL_TRANSITION`)
    /// unless `options.disableActive`. When only the store still has it (an earlier removal
    /// stopped half-way), only the credentials go. Returns the CLI's `remove --json` shape.
    /// Options: `force`, `dryRun`, `disableActive`.
    #[napi(
        js_name = "removeConnector",
        ts_args_type = "projectDir: string, projectId: string, connectorId: string, options?: RemoveConnectorOptions",
        ts_return_type = "StoredChange"
    )]
    pub fn remove_connector(
        &mut self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Value> {
        call(&env, || {
            let op = Self::remove_op(&env, connector_id, options)?;
            self.run(ProjectCall::new(&env, project_dir, project_id, op)?)
        })
    }

    /// As `removeConnector`, on the thread pool: returns a Promise.
    #[napi(
        js_name = "removeConnectorAsync",
        ts_args_type = "projectDir: string, projectId: string, connectorId: string, options?: RemoveConnectorOptions",
        ts_return_type = "Promise<StoredChange>"
    )]
    pub fn remove_connector_async(
        &self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<AsyncTask<ProjectCallTask>> {
        call(&env, || {
            let op = Self::remove_op(&env, connector_id, options)?;
            Ok(self.spawn(ProjectCall::new(&env, project_dir, project_id, op)?))
        })
    }

    /// Enables connector `connectorId` of the project in the store (`active`), under the
    /// project lock after recovering an interrupted operation. Returns the instance. Throws
    /// `NOT_ENABLED` when nothing is stored, `ILLEGAL_TRANSITION` when the lifecycle forbids it
    /// (not validated yet, or already active).
    #[napi(
        js_name = "enableConnector",
        ts_args_type = "projectDir: string, projectId: string, connectorId: string",
        ts_return_type = "Instance"
    )]
    pub fn enable_connector(
        &mut self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
    ) -> napi::Result<Value> {
        self.switch(&env, project_dir, project_id, connector_id, true)
    }

    /// Disables connector `connectorId` of the project in the store (`disabled`: code and
    /// credentials stay), as `enableConnector`.
    #[napi(
        js_name = "disableConnector",
        ts_args_type = "projectDir: string, projectId: string, connectorId: string",
        ts_return_type = "Instance"
    )]
    pub fn disable_connector(
        &mut self,
        env: Env,
        project_dir: Unknown<'_>,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
    ) -> napi::Result<Value> {
        self.switch(&env, project_dir, project_id, connector_id, false)
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
