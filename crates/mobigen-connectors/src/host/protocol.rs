//! The store + project protocol every host runs (the CLI, the Node package and so the example
//! server, the C ABI): one implementation, so the store and the project never disagree silently.
//!
//! Each operation holds the project lock from start to end ([`LockedProject`]): it first rolls
//! back an interrupted earlier operation (a pending journal), then
//! 1. plans the code change without writing (a refused plan touches nothing);
//! 2. writes the store (one transaction: a failure leaves the project untouched);
//! 3. applies the code change (transactional: on failure the project is rolled back), and if
//!    that fails, undoes step 2: a newly created instance is removed (its credentials deleted),
//!    replaced credentials are put back (the previous version becomes current again; the ones
//!    that failed to deploy stay `expiring` until purged). If the undo fails too, the error says
//!    what the store holds and that running the operation again reconciles it.
//!
//! Removal runs the other way round (code first, then the credentials, which cannot be put
//! back once deleted): if deleting the credentials fails, the error says so and removing again
//! finishes the job. `enable` / `disable` change only the store, under the same lock.
//!
//! ```no_run
//! use std::path::Path;
//! use mobigen_connectors::Registry;
//! use mobigen_connectors::clock::{Clock, SystemClock};
//! use mobigen_connectors::host::protocol::{AddRequest, StoredProject};
//! use mobigen_connectors::project::ops::Mode;
//! use mobigen_connectors::secrets::vault::{LocalKeyring, Vault};
//! use mobigen_connectors::store::{CredentialService, SqliteStore};
//!
//! let registry = Registry::builtin()?;
//! let keyring = LocalKeyring::open_or_create(Path::new("keys.json"), SystemClock.now())?;
//! let store = SqliteStore::open(Path::new("connectors.db"))?;
//! let mut service = CredentialService::new(store, Vault::new(keyring), SystemClock);
//! let config = registry.lookup("stripe")?.validate_config(&serde_json::json!({
//!     "publishableKey": "pk_test_51Hx", "secretKey": "sk_test_51Hx",
//! }))?;
//! let mut project = StoredProject::new(&registry, &mut service, Path::new("app"), "prj-1", "me");
//! let done = project.add(&AddRequest::new(config, Mode::Apply))?;
//! println!("{}", done.to_json(false));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::catalog::config::{ConfigError, ValidConfig};
use crate::catalog::error::RegistryError;
use crate::catalog::registry::Registry;
use crate::clock::{Clock, Timestamp};
use crate::host::codes::{Coded, ErrorCode};
use crate::project::apply::{FileSystem, RealFs};
use crate::project::ops::{LockedProject, Mode, OpError};
use crate::project::plan::{Plan, PlanKind, PlanOptions};
use crate::secrets::vault::KeyProvider;
use crate::store::activity::first_reported_day;
use crate::store::{CredentialService, InstanceRecord, Status, Store, StoreError};

/// Why an operation of the protocol failed, and what became of the store and the project.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The connector is unknown; nothing was changed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The config (or, for a merge, the merged config) is invalid; nothing was changed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Reading, planning or locking the project failed before the store was written; nothing
    /// was changed.
    #[error(transparent)]
    Project(#[from] OpError),
    /// The store refused or failed; the project was not touched.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An update or a status change of a connector the store has no instance of for the project.
    #[error(
        "connector `{connector}` has no stored instance for project `{project_id}`; add it first (nothing was changed)"
    )]
    NotStored {
        /// The project's id in the store.
        project_id: String,
        /// The connector.
        connector: String,
    },
    /// A create of a connector the project already has in the store.
    #[error(
        "project `{project_id}` already has connector `{connector}` (instance {instance_id}); update its config instead (nothing was changed)"
    )]
    AlreadyStored {
        /// The project's id in the store.
        project_id: String,
        /// The connector.
        connector: String,
        /// The stored instance.
        instance_id: String,
    },
    /// An update of a connector that is stored but not in the project's code.
    #[error(
        "connector `{connector}` is not in the project {}: add it instead of updating it (nothing was changed)",
        dir.display()
    )]
    NotInProject {
        /// The connector.
        connector: String,
        /// The project folder.
        dir: std::path::PathBuf,
    },
    /// A removal of an instance whose status does not allow it (an `active` one).
    #[error(
        "connector `{connector}` is `{status}` in the store and must be disabled before it is removed; nothing was changed"
    )]
    MustDisableFirst {
        /// The connector.
        connector: String,
        /// Its status.
        status: Status,
    },
    /// `enable` of an enabled connector, `disable` of a disabled one.
    #[error("connector `{connector}` is already {status}")]
    AlreadyInStatus {
        /// The connector.
        connector: String,
        /// Its status.
        status: Status,
    },
    /// Applying the code change failed after the store was written; the project was rolled
    /// back and the store write undone.
    #[error("{source}\nthe project was left unchanged, and {undone}")]
    ApplyFailed {
        /// Why applying failed.
        source: Box<OpError>,
        /// What undoing the store write did.
        undone: String,
    },
    /// Applying failed and undoing the store write failed too.
    #[error(
        "{source}\nthe project was left unchanged, but undoing the store write failed ({undo}): the store holds credentials version {version} for instance {instance_id} ({status}); run the operation again to reconcile them"
    )]
    UndoFailed {
        /// Why applying failed.
        source: Box<OpError>,
        /// Why the undo failed.
        undo: Box<ProtocolError>,
        /// The instance.
        instance_id: String,
        /// Its current credentials version.
        version: i64,
        /// Its status.
        status: Status,
    },
    /// A removal removed the code (or found it gone) but could not delete the credentials.
    #[error(
        "{}, but its stored credentials (instance {instance_id}) could not be deleted ({source}); remove it again to finish",
        if *code_removed { "the code was removed" } else { "the code was already gone" }
    )]
    CredentialsNotDeleted {
        /// Why.
        source: StoreError,
        /// The instance.
        instance_id: String,
        /// Whether this call removed the code.
        code_removed: bool,
    },
}

impl Coded for ProtocolError {
    fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::Registry(e) => e.code(),
            ProtocolError::Config(e) => e.code(),
            ProtocolError::Project(e) => e.code(),
            ProtocolError::Store(e) => e.code(),
            ProtocolError::NotStored { .. } | ProtocolError::NotInProject { .. } => {
                ErrorCode::NotEnabled
            }
            ProtocolError::AlreadyStored { .. } => ErrorCode::AlreadyExists,
            ProtocolError::MustDisableFirst { .. } | ProtocolError::AlreadyInStatus { .. } => {
                ErrorCode::IllegalTransition
            }
            ProtocolError::ApplyFailed { source, .. }
            | ProtocolError::UndoFailed { source, .. } => source.code(),
            ProtocolError::CredentialsNotDeleted { source, .. } => source.code(),
        }
    }
}

/// What [`StoredProject::add`] does when the project already has the connector in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfStored {
    /// Keep it when the config is the stored one and the code is up to date; otherwise replace
    /// its credentials (the old ones kept `expiring`). The CLI's `add`.
    #[default]
    Update,
    /// Refuse with [`ProtocolError::AlreadyStored`]. A REST `POST`.
    Refuse,
}

/// An add: the config, how to plan, and whether to write.
#[derive(Debug, Clone)]
pub struct AddRequest {
    /// The validated config.
    pub config: ValidConfig,
    /// Planning options (`write_secret_env: false` is `--no-secret-env`: no secret reaches any
    /// file, the store still takes every value).
    pub options: PlanOptions,
    /// Bodies of the connector's supplied files, by id.
    pub supplied: BTreeMap<String, String>,
    /// Write, or only plan (a dry run touches neither the project nor the store).
    pub mode: Mode,
    /// When the connector is stored already.
    pub if_stored: IfStored,
}

impl AddRequest {
    /// An add of `config` with the default options, no supplied files, [`IfStored::Update`].
    pub fn new(config: ValidConfig, mode: Mode) -> AddRequest {
        AddRequest {
            config,
            options: PlanOptions::default(),
            supplied: BTreeMap::new(),
            mode,
            if_stored: IfStored::Update,
        }
    }
}

/// The new config of an update.
#[derive(Debug, Clone)]
pub enum ConfigChange {
    /// The complete new config.
    Replace(ValidConfig),
    /// A JSON merge patch (RFC 7386) applied to the stored config, secrets included: members
    /// replace stored ones, objects merge, `null` deletes. The result is validated.
    Merge(Value),
}

/// What an add or update did to the store.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StoreWrite {
    /// A new instance with credentials version 1.
    Created(InstanceRecord),
    /// The credentials of an existing instance were replaced; `previous` is kept `expiring`.
    Replaced {
        /// The instance after the change.
        record: InstanceRecord,
        /// The replaced version.
        previous: i64,
    },
    /// Nothing to store: the project is up to date and the store holds this very config.
    Unchanged(InstanceRecord),
}

impl StoreWrite {
    /// The instance after the write.
    pub fn record(&self) -> &InstanceRecord {
        match self {
            StoreWrite::Created(r) | StoreWrite::Unchanged(r) => r,
            StoreWrite::Replaced { record, .. } => record,
        }
    }

    /// `created`, `rotated` or `unchanged`.
    pub fn action(&self) -> &'static str {
        match self {
            StoreWrite::Created(_) => "created",
            StoreWrite::Replaced { .. } => "rotated",
            StoreWrite::Unchanged(_) => "unchanged",
        }
    }

    /// `{action, instanceId, projectId, status, credentialsVersion, keyId}`: never a value.
    pub fn to_json(&self) -> Value {
        let record = self.record();
        json!({
            "action": self.action(),
            "instanceId": record.id,
            "projectId": record.project_id,
            "status": record.status.as_str(),
            "credentialsVersion": record.credentials_version,
            "keyId": record.encryption_key_id,
        })
    }
}

/// The result of an add or update.
#[derive(Debug, Clone)]
pub struct AddOutcome {
    /// The code change (applied unless it was a dry run).
    pub plan: Plan,
    /// What was stored; `None` on a dry run.
    pub store: Option<StoreWrite>,
}

impl AddOutcome {
    /// The plan summary (`{connector, kind, dryRun, codeChanges, files, manualSteps,
    /// warnings}`) with `"store"`: [`StoreWrite::to_json`] or `null` on a dry run. The shape
    /// of the CLI's `add --json`.
    pub fn to_json(&self, dry_run: bool) -> Value {
        let mut value = self.plan.summary_json(dry_run);
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "store".into(),
                self.store.as_ref().map_or(Value::Null, StoreWrite::to_json),
            );
        }
        value
    }
}

/// The result of a removal.
#[derive(Debug, Clone)]
pub struct RemoveOutcome {
    /// The code change; `None` when only the store still had the connector (an earlier removal
    /// stopped half-way).
    pub plan: Option<Plan>,
    /// The instance whose credentials were deleted (`removed`); `None` when none was stored or
    /// on a dry run.
    pub removed: Option<InstanceRecord>,
}

impl RemoveOutcome {
    /// The plan summary (an empty one when `plan` is `None`) with `"store"`:
    /// `{action: "removed", instanceId, projectId, status}` or `null`.
    pub fn to_json(&self, connector: &str, dry_run: bool) -> Value {
        let mut value = match &self.plan {
            Some(plan) => plan.summary_json(dry_run),
            None => json!({
                "connector": connector,
                "kind": "remove",
                "dryRun": dry_run,
                "codeChanges": {"filesAdded": 0, "filesModified": 0, "filesDeleted": 0},
                "files": [],
                "manualSteps": [],
                "warnings": [],
            }),
        };
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "store".into(),
                self.removed.as_ref().map_or(Value::Null, |r| {
                    json!({
                        "action": "removed",
                        "instanceId": r.id,
                        "projectId": r.project_id,
                        "status": r.status.as_str(),
                    })
                }),
            );
        }
        value
    }
}

/// The result of `enable` / `disable`.
#[derive(Debug, Clone)]
pub struct SwitchOutcome {
    /// The instance after the change.
    pub record: InstanceRecord,
    /// Its status before.
    pub previous: Status,
}

/// An instance's metadata as every host prints it: `{id, projectId, connector, status,
/// credentialsVersion, keyId, createdAt, updatedAt, lastValidatedAt, expiringVersions: [{version,
/// keyId, status, replacedAt, expiresAt}], activity}` (`activity` as
/// [`crate::store::InstanceActivity::to_json`], "today" being the UTC day of `now`). Never a config or
/// credential value.
///
/// # Errors
/// Database errors reading the kept versions and the activity.
pub fn instance_json<S: Store>(
    store: &S,
    record: &InstanceRecord,
    now: Timestamp,
) -> Result<Value, StoreError> {
    let versions = store.credential_versions(&record.id)?;
    let activity = store.activity(&record.id, first_reported_day(now))?;
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
        "activity": activity.to_json(now),
    }))
}

/// Applies the JSON merge patch `patch` to `target` (RFC 7386).
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(object) = target {
        for (key, value) in members {
            if value.is_null() {
                object.remove(key);
            } else {
                merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Sets the object member at the JSON pointer `pointer` in `root`, creating objects on the way.
fn put_at(root: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let mut node = root;
    for (i, token) in tokens.iter().enumerate() {
        if !node.is_object() {
            *node = Value::Object(serde_json::Map::new());
        }
        let Value::Object(members) = node else {
            return;
        };
        if i + 1 == tokens.len() {
            members.insert(token.clone(), value);
            return;
        }
        node = members
            .entry(token.clone())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

/// One project and its stored connectors: the protocol's operations (see the module docs).
pub struct StoredProject<'a, S, P, C> {
    registry: &'a Registry,
    service: &'a mut CredentialService<S, P, C>,
    dir: &'a Path,
    project_id: &'a str,
    actor: &'a str,
    fs: &'a dyn FileSystem,
}

impl<S, P, C> std::fmt::Debug for StoredProject<'_, S, P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredProject")
            .field("dir", &self.dir)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

impl<'a, S: Store, P: KeyProvider, C: Clock> StoredProject<'a, S, P, C> {
    /// The project in `dir`, named `project_id` in `service`'s store; `actor` names the caller
    /// in the audit log.
    pub fn new(
        registry: &'a Registry,
        service: &'a mut CredentialService<S, P, C>,
        dir: &'a Path,
        project_id: &'a str,
        actor: &'a str,
    ) -> Self {
        StoredProject {
            registry,
            service,
            dir,
            project_id,
            actor,
            fs: &RealFs,
        }
    }

    /// Writes the project through `fs` instead of the real file system (tests inject failures
    /// with it).
    pub fn with_file_system(mut self, fs: &'a dyn FileSystem) -> Self {
        self.fs = fs;
        self
    }

    /// Deletes expired credentials versions; a failure only delays that to the next call.
    fn purge(&mut self) {
        // Best effort by design: nothing depends on it, the next operation tries again.
        let _ = self.service.purge_expired(self.actor);
    }

    /// Adds (or updates) the connector of `request.config` (see the module docs and
    /// [`IfStored`]). A project without a stored instance gets one (`configured`).
    ///
    /// # Errors
    /// [`ProtocolError`]: nothing changed, except as [`ProtocolError::UndoFailed`] says.
    pub fn add(&mut self, request: &AddRequest) -> Result<AddOutcome, ProtocolError> {
        let project = LockedProject::open(self.dir, self.fs)?;
        let connector = request.config.connector_id().to_string();
        let existing = self.service.find(self.project_id, &connector)?;
        if request.if_stored == IfStored::Refuse
            && let Some(existing) = &existing
        {
            return Err(ProtocolError::AlreadyStored {
                project_id: self.project_id.to_string(),
                connector,
                instance_id: existing.id.clone(),
            });
        }
        let plan = project.plan_add(
            self.registry,
            &request.config,
            request.options,
            &request.supplied,
        )?;
        if request.mode == Mode::DryRun {
            return Ok(AddOutcome { plan, store: None });
        }
        self.purge();
        let previous_public = existing.as_ref().map(|e| e.config.clone());
        let write = match existing {
            None => StoreWrite::Created(self.service.put(
                self.project_id,
                request.config.clone(),
                self.actor,
            )?),
            Some(existing) if existing.status == Status::Installed => StoreWrite::Replaced {
                previous: existing.credentials_version,
                record: self
                    .service
                    .put(self.project_id, request.config.clone(), self.actor)?,
            },
            // An up-to-date plan says the files are; the store is unchanged only when the
            // stored values are the given ones (secrets included: the plan's hash covers
            // redacted values, and with `write_secret_env: false` no file holds a secret).
            Some(existing)
                if plan.kind == PlanKind::UpToDate
                    && self
                        .service
                        .get(
                            &existing.id,
                            "compare with the config given to add",
                            self.actor,
                        )?
                        .config
                        .expose_full_config()
                        == *request.config.expose() =>
            {
                StoreWrite::Unchanged(existing)
            }
            Some(existing) => StoreWrite::Replaced {
                previous: existing.credentials_version,
                record: self.service.rotate_credentials(
                    &existing.id,
                    request.config.clone(),
                    self.actor,
                )?,
            },
        };
        self.apply_or_undo(&project, plan, write, previous_public)
    }

    /// Replaces (or merges into) the stored config of `connector`, which must be stored and in
    /// the project, and updates the code: the old credentials stay `expiring`.
    ///
    /// # Errors
    /// [`ProtocolError::NotStored`], [`ProtocolError::NotInProject`], [`ProtocolError::Config`]
    /// (the merged config is invalid); as [`Self::add`].
    pub fn update(
        &mut self,
        connector: &str,
        change: ConfigChange,
        options: PlanOptions,
        mode: Mode,
    ) -> Result<AddOutcome, ProtocolError> {
        let definition = self.registry.lookup(connector)?;
        let project = LockedProject::open(self.dir, self.fs)?;
        let existing = self
            .service
            .find(self.project_id, connector)?
            .ok_or_else(|| ProtocolError::NotStored {
                project_id: self.project_id.to_string(),
                connector: connector.to_string(),
            })?;
        let config = match change {
            ConfigChange::Replace(config) => config,
            ConfigChange::Merge(patch) => {
                let mut merged = self
                    .service
                    .get(
                        &existing.id,
                        "merge an update into the stored config",
                        self.actor,
                    )?
                    .config
                    .expose_full_config();
                merge_patch(&mut merged, &patch);
                definition.validate_config(&merged)?
            }
        };
        if config.connector_id() != connector {
            return Err(StoreError::ConnectorMismatch {
                id: existing.id,
                expected: connector.to_string(),
                given: config.connector_id().to_string(),
            }
            .into());
        }
        let plan = project.plan_add(self.registry, &config, options, &BTreeMap::new())?;
        if plan.kind == PlanKind::Add {
            return Err(ProtocolError::NotInProject {
                connector: connector.to_string(),
                dir: self.dir.to_path_buf(),
            });
        }
        if mode == Mode::DryRun {
            return Ok(AddOutcome { plan, store: None });
        }
        self.purge();
        let record = self
            .service
            .rotate_credentials(&existing.id, config, self.actor)?;
        let write = StoreWrite::Replaced {
            previous: existing.credentials_version,
            record,
        };
        self.apply_or_undo(&project, plan, write, Some(existing.config))
    }

    /// Step 3: applies `plan`; on failure undoes `write` (`previous_public`: the public values
    /// stored before it).
    fn apply_or_undo(
        &mut self,
        project: &LockedProject<'_>,
        plan: Plan,
        write: StoreWrite,
        previous_public: Option<Value>,
    ) -> Result<AddOutcome, ProtocolError> {
        let source = match project.apply(&plan) {
            Ok(()) => {
                return Ok(AddOutcome {
                    plan,
                    store: Some(write),
                });
            }
            Err(error) => error,
        };
        let undo = match &write {
            StoreWrite::Unchanged(_) => Ok("the store was not changed".to_string()),
            StoreWrite::Created(record) => self
                .service
                .remove(&record.id, self.actor)
                .map(|_| {
                    format!(
                        "the stored instance {} was removed again (credentials deleted)",
                        record.id
                    )
                })
                .map_err(ProtocolError::from),
            StoreWrite::Replaced { record, previous } => {
                let public = previous_public.unwrap_or_else(|| record.config.clone());
                self.restore_version(record, *previous, public).map(|()| {
                    format!(
                        "the stored credentials were put back to version {previous} (now current again)"
                    )
                })
            }
        };
        let record = write.record();
        Err(match undo {
            Ok(undone) => ProtocolError::ApplyFailed {
                source: Box::new(source),
                undone,
            },
            Err(undo) => ProtocolError::UndoFailed {
                source: Box::new(source),
                undo: Box::new(undo),
                instance_id: record.id.clone(),
                version: record.credentials_version,
                status: record.status,
            },
        })
    }

    /// Makes the kept `version` of `record` current again, with the public values `public`
    /// stored with it (through a rotation, so it is audited).
    fn restore_version(
        &mut self,
        record: &InstanceRecord,
        version: i64,
        public: Value,
    ) -> Result<(), ProtocolError> {
        let old = self.service.get_version(
            &record.id,
            version,
            "restore after a failed code update",
            self.actor,
        )?;
        // A kept version holds the secrets; its public values are the ones recorded before the
        // write (the record now has the new ones).
        let secrets = old.expose_full_config();
        let mut full = public;
        for (pointer, _) in old.secrets() {
            if let Some(value) = secrets.pointer(pointer) {
                put_at(&mut full, pointer, value.clone());
            }
        }
        let valid = self
            .registry
            .lookup(&record.connector_id)?
            .validate_config(&full)?;
        self.service
            .rotate_credentials(&record.id, valid, self.actor)?;
        Ok(())
    }

    /// Removes `connector`: the code first (transactional), then the stored credentials. An
    /// `active` instance is refused before any file is touched, unless `disable_active` (it is
    /// then disabled after the code is gone). When only the store still has the connector (an
    /// earlier removal stopped half-way), only the credentials are deleted.
    ///
    /// # Errors
    /// [`ProtocolError::MustDisableFirst`]; [`ProtocolError::Project`] (nothing changed;
    /// `NOT_ENABLED` when neither the project nor the store has it);
    /// [`ProtocolError::Registry`] when neither has it and the registry does not know the id;
    /// [`ProtocolError::CredentialsNotDeleted`] (removing again finishes).
    pub fn remove(
        &mut self,
        connector: &str,
        options: PlanOptions,
        mode: Mode,
        disable_active: bool,
    ) -> Result<RemoveOutcome, ProtocolError> {
        let project = LockedProject::open(self.dir, self.fs)?;
        let stored = self.service.find(self.project_id, connector)?;
        if let Some(record) = &stored
            && !record.status.can_become(Status::Removed)
            && !(disable_active && record.status == Status::Active)
        {
            return Err(ProtocolError::MustDisableFirst {
                connector: connector.to_string(),
                status: record.status,
            });
        }
        let in_project = project.is_enabled(self.registry, connector)?;
        if stored.is_none() && !in_project {
            // Neither has it: an id the registry does not know either is named as unknown
            // (with its suggestion) rather than as not enabled.
            self.registry.lookup(connector)?;
        }
        let plan = if stored.is_none() || in_project {
            Some(project.plan_remove(self.registry, connector, options)?)
        } else {
            None
        };
        if mode == Mode::DryRun {
            return Ok(RemoveOutcome {
                plan,
                removed: None,
            });
        }
        if let Some(plan) = &plan {
            project.apply(plan)?;
        }
        let Some(record) = stored else {
            return Ok(RemoveOutcome {
                plan,
                removed: None,
            });
        };
        let deleted = (|| {
            if record.status == Status::Active {
                self.service.disable(&record.id, self.actor)?;
            }
            self.service.remove(&record.id, self.actor)
        })();
        match deleted {
            Ok(removed) => Ok(RemoveOutcome {
                plan,
                removed: Some(removed),
            }),
            Err(source) => Err(ProtocolError::CredentialsNotDeleted {
                source,
                instance_id: record.id,
                code_removed: plan.is_some(),
            }),
        }
    }

    /// `enable` (`on`: `active`) or `disable` (`disabled`) `connector` in the store, under the
    /// project lock (after recovering a pending journal). The code and credentials stay.
    ///
    /// # Errors
    /// [`ProtocolError::NotStored`] ([`ProtocolError::Registry`] for an id the registry does
    /// not know), [`ProtocolError::AlreadyInStatus`],
    /// [`ProtocolError::Store`] with [`StoreError::IllegalTransition`] (a connector not yet
    /// validated cannot be enabled).
    pub fn set_enabled(
        &mut self,
        connector: &str,
        on: bool,
    ) -> Result<SwitchOutcome, ProtocolError> {
        let _project = LockedProject::open(self.dir, self.fs)?;
        let Some(record) = self.service.find(self.project_id, connector)? else {
            // An id the registry does not know is named as unknown (with its suggestion).
            self.registry.lookup(connector)?;
            return Err(ProtocolError::NotStored {
                project_id: self.project_id.to_string(),
                connector: connector.to_string(),
            });
        };
        let target = if on { Status::Active } else { Status::Disabled };
        if record.status == target {
            return Err(ProtocolError::AlreadyInStatus {
                connector: connector.to_string(),
                status: target,
            });
        }
        let updated = if on {
            self.service.enable(&record.id, self.actor)?
        } else {
            self.service.disable(&record.id, self.actor)?
        };
        Ok(SwitchOutcome {
            record: updated,
            previous: record.status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}}));
        let mut target = json!({"a": [1]});
        merge_patch(&mut target, &json!({"a": {"b": 1}, "n": 2}));
        assert_eq!(target, json!({"a": {"b": 1}, "n": 2}));
    }
}
