//! The project operations a host calls: add, remove and status, each on a project folder.
//!
//! Every operation (dry runs and `status` included) takes the project lock, rolls back an
//! interrupted earlier call, then reads and plans under the lock, so no call ever reads files
//! another is changing, nor a half-applied project whose journal is still pending.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::catalog::config::ValidConfig;
use crate::catalog::registry::Registry;
use crate::project::apply::{
    self, ApplyError, DEFAULT_LOCK_TIMEOUT, FileSystem, ProjectLock, RealFs,
};
use crate::project::generate;
use crate::project::plan::{self, Plan, PlanError, PlanOptions};
use crate::project::snapshot::{ProjectError, ProjectSnapshot};

/// Why an operation failed. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpError {
    /// Planning refused.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Writing failed and was rolled back.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

impl From<ProjectError> for OpError {
    fn from(e: ProjectError) -> OpError {
        OpError::Plan(PlanError::Project(e))
    }
}

/// Whether to write, or only plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Plan and write.
    Apply,
    /// Plan only (`--dry-run`).
    DryRun,
}

/// A project held under its lock, with any interrupted earlier operation rolled back: the base
/// of every operation here, and of the hosts' store + project protocol
/// ([`crate::host::protocol`]), which plans, writes the store and applies under one lock.
/// The lock is released when this is dropped.
pub struct LockedProject<'a> {
    dir: &'a Path,
    fs: &'a dyn FileSystem,
    _lock: ProjectLock,
}

impl std::fmt::Debug for LockedProject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockedProject")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl<'a> LockedProject<'a> {
    /// Takes the project lock of `dir` (waiting up to [`DEFAULT_LOCK_TIMEOUT`]) and rolls back
    /// an interrupted earlier operation, writing through `fs` ([`RealFs`] outside tests).
    ///
    /// # Errors
    /// [`ProjectError::NotAProject`] without a package.json (nothing is created then);
    /// [`ApplyError::Busy`] when another operation holds the lock; recovery errors.
    pub fn open(dir: &'a Path, fs: &'a dyn FileSystem) -> Result<LockedProject<'a>, OpError> {
        if !dir.join("package.json").is_file() {
            // Report a missing project before creating .mobigen/ in it.
            return Err(ProjectError::NotAProject {
                dir: dir.to_path_buf(),
            }
            .into());
        }
        let lock = ProjectLock::acquire(dir, DEFAULT_LOCK_TIMEOUT)?;
        apply::recover_locked(fs, dir)?;
        Ok(LockedProject {
            dir,
            fs,
            _lock: lock,
        })
    }

    /// The project folder.
    pub fn dir(&self) -> &Path {
        self.dir
    }

    /// Reads the project's files (under the lock).
    ///
    /// # Errors
    /// As [`ProjectSnapshot::read`].
    pub fn snapshot(&self, registry: &Registry) -> Result<ProjectSnapshot, OpError> {
        Ok(ProjectSnapshot::read(self.dir, registry)?)
    }

    /// Plans adding (or updating) the connector of `config`; writes nothing.
    ///
    /// # Errors
    /// [`OpError::Plan`].
    pub fn plan_add(
        &self,
        registry: &Registry,
        config: &ValidConfig,
        options: PlanOptions,
        supplied: &BTreeMap<String, String>,
    ) -> Result<Plan, OpError> {
        let snapshot = self.snapshot(registry)?;
        Ok(plan::plan_add_supplied(
            registry, &snapshot, config, options, supplied,
        )?)
    }

    /// Plans removing connector `id`; writes nothing.
    ///
    /// # Errors
    /// [`OpError::Plan`] ([`PlanError::NotEnabled`] when it is not in the project).
    pub fn plan_remove(
        &self,
        registry: &Registry,
        id: &str,
        options: PlanOptions,
    ) -> Result<Plan, OpError> {
        let snapshot = self.snapshot(registry)?;
        Ok(plan::plan_remove(registry, &snapshot, id, options)?)
    }

    /// Whether connector `id` is enabled in the project (its lock file names it).
    ///
    /// # Errors
    /// The project or its lock file cannot be read.
    pub fn is_enabled(&self, registry: &Registry, id: &str) -> Result<bool, OpError> {
        let snapshot = self.snapshot(registry)?;
        Ok(plan::read_lock(&snapshot)?.connectors.contains_key(id))
    }

    /// Writes `plan` (all or nothing).
    ///
    /// # Errors
    /// [`OpError::Apply`]; the project is unchanged after it.
    pub fn apply(&self, plan: &Plan) -> Result<(), OpError> {
        Ok(apply::apply_changes_locked(
            self.fs,
            self.dir,
            &plan.writes(),
        )?)
    }

    /// The project's status (see [`status`]).
    ///
    /// # Errors
    /// As [`status`].
    pub fn status(&self, registry: &Registry) -> Result<Status, OpError> {
        status_locked(registry, self.dir)
    }
}

/// Adds (or updates) the connector of `config` to the project in `dir`.
///
/// # Errors
/// [`OpError`]; the project is unchanged after any error.
pub fn add(
    registry: &Registry,
    dir: &Path,
    config: &ValidConfig,
    options: PlanOptions,
    mode: Mode,
) -> Result<Plan, OpError> {
    add_supplied(registry, dir, config, options, mode, &BTreeMap::new())
}

/// [`add`] with the bodies of supplied files, by id (see [`plan::plan_add_supplied`]).
///
/// # Errors
/// [`OpError`]; the project is unchanged after any error.
pub fn add_supplied(
    registry: &Registry,
    dir: &Path,
    config: &ValidConfig,
    options: PlanOptions,
    mode: Mode,
    supplied: &BTreeMap<String, String>,
) -> Result<Plan, OpError> {
    let project = LockedProject::open(dir, &RealFs)?;
    let plan = project.plan_add(registry, config, options, supplied)?;
    if mode == Mode::Apply {
        project.apply(&plan)?;
    }
    Ok(plan)
}

/// Removes connector `id` from the project in `dir`.
///
/// # Errors
/// [`OpError`]; the project is unchanged after any error.
pub fn remove(
    registry: &Registry,
    dir: &Path,
    id: &str,
    options: PlanOptions,
    mode: Mode,
) -> Result<Plan, OpError> {
    let project = LockedProject::open(dir, &RealFs)?;
    let plan = project.plan_remove(registry, id, options)?;
    if mode == Mode::Apply {
        project.apply(&plan)?;
    }
    Ok(plan)
}

/// State of one generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FileState {
    /// As generated.
    Unchanged,
    /// Edited by the user (a conflict on the next update or removal).
    Modified,
    /// Deleted by the user (regenerated by the next add).
    Missing,
}

/// One generated file and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileStatus {
    /// Path relative to the project.
    pub path: String,
    /// Its state.
    pub state: FileState,
}

/// One enabled connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorStatus {
    /// Connector id.
    pub id: String,
    /// Display name (the id when the connector is not in the registry).
    pub name: String,
    /// Features on.
    pub features: Vec<String>,
    /// Its generated files.
    pub files: Vec<FileStatus>,
    /// npm packages it needs.
    pub dependencies: Vec<String>,
    /// Env keys it wrote.
    pub env: Vec<String>,
}

/// The connectors of a project and any drift from what the lock file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Enabled connectors, by id.
    pub connectors: Vec<ConnectorStatus>,
    /// The edited root file, when any connector is enabled.
    pub root_file: Option<String>,
    /// Drift and conflicts found (empty when everything is as recorded).
    pub problems: Vec<String>,
}

/// The status of the project in `dir`, after rolling back an interrupted operation (under the
/// project lock).
///
/// # Errors
/// [`OpError`] when the project or its lock file cannot be read.
pub fn status(registry: &Registry, dir: &Path) -> Result<Status, OpError> {
    LockedProject::open(dir, &RealFs)?.status(registry)
}

fn status_locked(registry: &Registry, dir: &Path) -> Result<Status, OpError> {
    let snapshot = ProjectSnapshot::read(dir, registry)?;
    let lock = plan::read_lock(&snapshot)?;
    let mut problems = Vec::new();
    let file_status = |path: &str| -> Result<FileStatus, OpError> {
        let state = match snapshot.text(path)? {
            None => FileState::Missing,
            Some(text) if generate::is_unmodified(text) => FileState::Unchanged,
            Some(_) => FileState::Modified,
        };
        Ok(FileStatus {
            path: path.to_string(),
            state,
        })
    };
    let mut connectors = Vec::new();
    for (id, entry) in &lock.connectors {
        let name = registry
            .get(id)
            .map_or_else(|| id.clone(), |c| c.definition().name.clone());
        if registry.get(id).is_none() {
            problems.push(format!(
                "connector `{id}` is enabled but not in the registry; load its folder with --connectors"
            ));
        }
        let files = entry
            .files
            .keys()
            .map(|p| file_status(p))
            .collect::<Result<Vec<_>, _>>()?;
        for f in &files {
            match f.state {
                FileState::Modified => problems.push(format!(
                    "{}: edited since it was generated ({id}); updating or removing `{id}` will report a conflict",
                    f.path
                )),
                FileState::Missing => problems.push(format!(
                    "{}: missing; `add {id}` again regenerates it",
                    f.path
                )),
                FileState::Unchanged => {}
            }
        }
        connectors.push(ConnectorStatus {
            id: id.clone(),
            name,
            features: entry.features.clone(),
            files,
            dependencies: entry
                .dependencies
                .iter()
                .map(|d| d.package.clone())
                .collect(),
            env: entry
                .public_env
                .iter()
                .chain(&entry.secret_env)
                .cloned()
                .collect(),
        });
    }
    if lock.project.root_module_hash.is_some() {
        let root_module = file_status(generate::ROOT_MODULE)?;
        if root_module.state != FileState::Unchanged {
            problems.push(format!(
                "{}: {}",
                generate::ROOT_MODULE,
                if root_module.state == FileState::Missing {
                    "missing; the app no longer builds until a connector is added again"
                } else {
                    "edited since it was generated"
                }
            ));
        }
    }
    if let Some(root) = &lock.project.root {
        match snapshot.text(&root.file)? {
            None => problems.push(format!("{}: the root file is missing", root.file)),
            Some(text) => {
                for insertion in &root.insertions {
                    if !text.contains(insertion.text.trim()) {
                        problems.push(format!(
                            "{}: the inserted `{}` is no longer there",
                            root.file,
                            insertion.text.trim()
                        ));
                    }
                }
            }
        }
    }
    Ok(Status {
        connectors,
        root_file: lock.project.root.map(|r| r.file),
        problems,
    })
}
