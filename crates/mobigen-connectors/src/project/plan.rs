//! Planning an add or a remove: pure, no IO. A [`Plan`] is the full set of file changes (with
//! before and after text), the new lock file, and any manual steps; [`crate::project::apply`] writes it.
//!
//! Shared files are recomputed from the user's baseline: the recorded edits of every enabled
//! connector are taken out, then the edits of the new set are made, in a canonical order. So the
//! result depends only on the set of enabled connectors and their configs (I4, I5), adding the
//! same connector twice changes nothing (I2), and removing the last one restores the baseline (I3).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use crate::catalog::config::ValidConfig;
use crate::catalog::connector::Connector;
use crate::catalog::definition::{Sensitivity, TemplateKind};
use crate::catalog::error::RegistryError;
use crate::catalog::expo_sdk::{ExpoSdkTable, SdkVersions};
use crate::catalog::registry::Registry;
use crate::edit::code::app_config::{self, PluginsPlace};
use crate::edit::code::root::{self, RootInsert, RootRemove, SourceSyntax, WrapSpec};
use crate::edit::code::{InjectError, Style};
use crate::edit::env::{self, EnvEditError, EnvTarget, EnvVar};
use crate::edit::json::{self, DepRequest, JsonEditError, PluginRequest};
use crate::project::apply::FileWrite;
use crate::project::generate::{self, GeneratedFile, ROOT_MODULE, WRAPPER};
use crate::project::lockfile::{
    AppConfigRecord, ConnectorEntry, LOCK_VERSION, LockFile, LockFileError, RootRecord, Setting,
};
use crate::project::snapshot::{LOCK_FILE, ProjectError, ProjectSnapshot, RootKind};

/// Options of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOptions {
    /// Write secret values to `.env.local` (default). `false` writes no secret value anywhere.
    pub write_secret_env: bool,
    /// Overwrite or delete generated files the user edited, and files in the way.
    pub force: bool,
}

impl Default for PlanOptions {
    fn default() -> PlanOptions {
        PlanOptions {
            write_secret_env: true,
            force: false,
        }
    }
}

/// What a plan does overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanKind {
    /// Adds a connector that was not enabled.
    Add,
    /// Updates an enabled connector whose config changed.
    Update,
    /// Nothing to do: enabled with the same config and unchanged files.
    UpToDate,
    /// Removes an enabled connector.
    Remove,
}

/// One file's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path relative to the project root.
    pub path: String,
    /// Text before (`None`: the file is created).
    pub before: Option<String>,
    /// Text after (`None`: the file is deleted).
    pub after: Option<String>,
}

/// A file the plan refuses to touch without `force`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub reason: String,
    /// What to do.
    pub manual_step: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}; {}", self.path, self.reason, self.manual_step)
    }
}

/// A planned add or remove.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The connector added or removed.
    pub connector: String,
    /// What the plan does.
    pub kind: PlanKind,
    /// File changes, sorted by path. Empty when up to date.
    pub changes: Vec<FileChange>,
    /// Things the user must do by hand (a dynamic app config, for instance).
    pub manual_steps: Vec<String>,
    /// Notes (config warnings, files overwritten with force).
    pub warnings: Vec<String>,
}

/// Why a plan cannot be made. Nothing is written in any case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The project cannot be read or understood.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The lock file is damaged or too new.
    #[error(transparent)]
    Lock(#[from] LockFileError),
    /// A connector is unknown.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The root file cannot be edited.
    #[error(transparent)]
    Root(#[from] InjectError),
    /// package.json or app.json cannot be edited.
    #[error(transparent)]
    Json(#[from] JsonEditError),
    /// An env file cannot be edited.
    #[error(transparent)]
    Env(#[from] EnvEditError),
    /// The project's Expo SDK has no version table (or package.json names no Expo version), so
    /// the versions to install are unknown.
    #[error(
        "package.json: {}; supported Expo SDKs: {}; move the app to one of them (`npx expo install expo@^{} --fix`) and try again (nothing was written)",
        expo_found(found.as_deref(), *sdk),
        supported.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
        supported.last().copied().unwrap_or_default()
    )]
    ExpoSdk {
        /// The `expo` range found, if any.
        found: Option<String>,
        /// The SDK major it asks for, if it is a version range.
        sdk: Option<u32>,
        /// The SDK majors with a version table.
        supported: Vec<u32>,
    },
    /// The connector to remove is not enabled.
    #[error(
        "connector `{id}` is not enabled in this project{}",
        enabled_list(enabled)
    )]
    NotEnabled {
        /// The id.
        id: String,
        /// The enabled ones.
        enabled: Vec<String>,
    },
    /// The root file re-exports its default export from elsewhere.
    #[error(
        "{file}:{line}:{column}: the default export is re-exported from `{specifier}`; point package.json `main` at that file, or add `import {{ {WRAPPER} }} from '{module}'` there and wrap its default export in `{WRAPPER}(...)`"
    )]
    ReExport {
        /// The root file.
        file: String,
        /// Where the re-export is.
        line: usize,
        /// Column.
        column: usize,
        /// The module re-exported.
        specifier: String,
        /// Import specifier of the root module from the root file.
        module: String,
    },
    /// A supplied file body (see [`crate::catalog::definition::SuppliedFile`]) is refused.
    #[error("connector `{connector}`, supplied file `{id}`: {reason}")]
    Supplied {
        /// The connector.
        connector: String,
        /// The supplied file's id.
        id: String,
        /// Why it is refused.
        reason: String,
    },
    /// A connector's template renders a source file that does not parse: the connector
    /// definition is faulty.
    #[error(
        "connector `{connector}`: its template for {file} renders code that does not parse ({reason}); the connector definition needs fixing, nothing was written"
    )]
    Template {
        /// The connector.
        connector: String,
        /// The file the template renders.
        file: String,
        /// The parser's place and message.
        reason: String,
    },
    /// Files the plan would overwrite or delete that the user changed.
    #[error("{} conflict{} (nothing was written; --force overrides):{}", conflicts.len(), if conflicts.len() == 1 { "" } else { "s" }, conflicts.iter().map(|c| format!("\n  {c}")).collect::<String>())]
    Conflicts {
        /// Every conflict.
        conflicts: Vec<Conflict>,
    },
}

fn expo_found(found: Option<&str>, sdk: Option<u32>) -> String {
    match (found, sdk) {
        (Some(range), Some(sdk)) => {
            format!("Expo SDK {sdk} (`expo` {range}) has no version table")
        }
        (Some(range), None) => format!("the `expo` dependency `{range}` names no SDK version"),
        (None, _) => "there is no `expo` dependency, so the Expo SDK is unknown".to_string(),
    }
}

/// The project's Expo SDK and its versions, from package.json's `expo` range.
///
/// # Errors
/// [`PlanError::ExpoSdk`] when the SDK is not in the table or unknown.
fn project_sdk(snapshot: &ProjectSnapshot) -> Result<(u32, &'static SdkVersions), PlanError> {
    let package = snapshot.text("package.json")?;
    let table = ExpoSdkTable::builtin();
    let sdk = package.and_then(json::expo_sdk_major);
    match sdk.and_then(|major| Some((major, table.sdk(major)?))) {
        Some(found) => Ok(found),
        None => Err(PlanError::ExpoSdk {
            found: package.and_then(|p| json::dependency_range(p, "expo")),
            sdk,
            supported: table.supported(),
        }),
    }
}

/// package.json and app.json read as npm and Expo read them, before anything else looks at
/// them: a duplicate key (the tools take the last one, an edit could change the first) or a
/// syntax error is refused with `file:line:column`, before any other check can misread them.
fn check_project_json(snapshot: &ProjectSnapshot) -> Result<(), PlanError> {
    for file in [json::PACKAGE_JSON, json::APP_JSON] {
        if let Some(text) = snapshot.text(file)? {
            json::check_document(file, text)?;
        }
    }
    Ok(())
}

fn enabled_list(enabled: &[String]) -> String {
    if enabled.is_empty() {
        "; no connector is enabled".to_string()
    } else {
        format!("; enabled: {}", enabled.join(", "))
    }
}

impl Plan {
    /// The writes [`crate::project::apply::apply_changes`] takes.
    pub fn writes(&self) -> Vec<FileWrite> {
        self.changes
            .iter()
            .map(|c| FileWrite {
                path: c.path.clone(),
                contents: c.after.as_ref().map(|t| t.as_bytes().to_vec()),
            })
            .collect()
    }

    /// The plan as JSON, the shape every binding prints: `{connector, kind, dryRun, codeChanges:
    /// {filesAdded, filesModified, filesDeleted}, files: [{path, action}], manualSteps,
    /// warnings}`. No file contents, so no secret values.
    pub fn summary_json(&self, dry_run: bool) -> Value {
        let (added, modified, deleted) = self.counts();
        let files: Vec<Value> = self
            .changes
            .iter()
            .map(|c| {
                let action = match (&c.before, &c.after) {
                    (None, _) => "create",
                    (_, None) => "delete",
                    _ => "update",
                };
                serde_json::json!({"path": c.path, "action": action})
            })
            .collect();
        serde_json::json!({
            "connector": self.connector,
            "kind": self.kind,
            "dryRun": dry_run,
            "codeChanges": {"filesAdded": added, "filesModified": modified, "filesDeleted": deleted},
            "files": files,
            "manualSteps": self.manual_steps,
            "warnings": self.warnings,
        })
    }

    /// Counts of files (added, modified, deleted).
    pub fn counts(&self) -> (usize, usize, usize) {
        let added = self.changes.iter().filter(|c| c.before.is_none()).count();
        let deleted = self.changes.iter().filter(|c| c.after.is_none()).count();
        (added, self.changes.len() - added - deleted, deleted)
    }
}

/// The lock file of a snapshot (empty when there is none).
///
/// # Errors
/// [`PlanError::Lock`] when it is damaged; [`PlanError::Project`] when it is not UTF-8.
pub fn read_lock(snapshot: &ProjectSnapshot) -> Result<LockFile, PlanError> {
    match snapshot.text(LOCK_FILE)? {
        Some(text) => Ok(LockFile::parse(text)?),
        None => Ok(LockFile {
            version: LOCK_VERSION,
            ..LockFile::default()
        }),
    }
}

/// Plans adding (or updating) the connector of `config` to the project. Dependency versions
/// come from the project's Expo SDK ([`ExpoSdkTable`]); a dependency the project already has
/// keeps its range.
///
/// # Errors
/// [`PlanError`]; the plan is refused as a whole, nothing is written. [`PlanError::ExpoSdk`]
/// when package.json's `expo` names an SDK without a version table, or none.
pub fn plan_add(
    registry: &Registry,
    snapshot: &ProjectSnapshot,
    config: &ValidConfig,
    options: PlanOptions,
) -> Result<Plan, PlanError> {
    plan_add_supplied(registry, snapshot, config, options, &BTreeMap::new())
}

/// [`plan_add`] with the bodies of supplied files, by id (see
/// [`crate::catalog::definition::SuppliedFile`]; the Supabase `databaseTypes` come from
/// `net::supabase_types`). A supplied file not given again is kept while it is unmodified; a
/// deleted one is dropped (the templates fall back to their `//#else` branch), and an edited
/// one is a conflict like any edited generated file.
///
/// # Errors
/// [`PlanError::Supplied`] for an id the connector does not declare or a body that does not
/// parse as the target's syntax; the other [`PlanError`]s as for [`plan_add`].
pub fn plan_add_supplied(
    registry: &Registry,
    snapshot: &ProjectSnapshot,
    config: &ValidConfig,
    options: PlanOptions,
    supplied: &BTreeMap<String, String>,
) -> Result<Plan, PlanError> {
    let connector = registry.lookup(config.connector_id())?;
    let lock = read_lock(snapshot)?;
    check_project_json(snapshot)?;
    let layout = snapshot.layout()?;
    let (sdk, sdk_versions) = project_sdk(snapshot)?;
    let previous = lock.connectors.get(connector.id());
    let supplied = supplied_files(connector, snapshot, previous, supplied)?;
    let supplied_paths: Vec<String> = supplied.iter().map(|(_, f)| f.path.clone()).collect();
    let (mut entry, files, config_files, env) = connector_entry(
        connector,
        config,
        &layout,
        (sdk, sdk_versions),
        options,
        supplied,
    );
    let server_step = server_routes_step(connector, config.redacted(), &layout);
    let rendered = files.iter().filter(|f| !supplied_paths.contains(&f.path));
    check_rendered(connector.id(), rendered)?;
    // A config file the project already had with the same contents stays the user's: it is not
    // recorded, so removing the connector leaves it.
    for file in &config_files {
        let owned_before = previous.is_some_and(|p| p.config_files.contains_key(&file.path));
        if !owned_before && snapshot.text(&file.path)? == Some(file.contents.as_str()) {
            entry.config_files.remove(&file.path);
        }
    }
    let kind = match previous {
        Some(p) if p.config_hash == entry.config_hash && p == &entry => PlanKind::UpToDate,
        Some(_) => PlanKind::Update,
        None => PlanKind::Add,
    };
    let mut warnings: Vec<String> = config.warnings().iter().map(ToString::to_string).collect();
    warnings.extend(pin_warnings(snapshot, &entry, sdk, sdk_versions)?);
    let mut after = lock.clone();
    after.version = LOCK_VERSION;
    after.connectors.insert(connector.id().to_string(), entry);
    let mut builder = Builder::new(registry, snapshot, &lock, after, options);
    builder.owned_files(connector.id(), &files, &mut warnings)?;
    builder.owned_config_files(connector.id(), &config_files, &mut warnings)?;
    builder.env(connector.id(), Some(&env))?;
    let mut plan = builder.finish(connector.id(), kind)?;
    plan.warnings.extend(warnings);
    plan.manual_steps.extend(server_step);
    if plan.kind == PlanKind::UpToDate && !plan.changes.is_empty() {
        // The config is the same but a file drifted (deleted, or a newer template): repair it.
        plan.kind = PlanKind::Update;
    }
    Ok(plan)
}

/// Plans removing connector `id` from the project.
///
/// # Errors
/// [`PlanError::NotEnabled`] when it is not enabled; other [`PlanError`]s as for [`plan_add`].
pub fn plan_remove(
    registry: &Registry,
    snapshot: &ProjectSnapshot,
    id: &str,
    options: PlanOptions,
) -> Result<Plan, PlanError> {
    let lock = read_lock(snapshot)?;
    check_project_json(snapshot)?;
    if !lock.connectors.contains_key(id) {
        return Err(PlanError::NotEnabled {
            id: id.to_string(),
            enabled: lock.connectors.keys().cloned().collect(),
        });
    }
    let mut after = lock.clone();
    after.connectors.remove(id);
    let mut warnings = Vec::new();
    let mut builder = Builder::new(registry, snapshot, &lock, after, options);
    builder.owned_files(id, &[], &mut warnings)?;
    builder.owned_config_files(id, &[], &mut warnings)?;
    builder.env(id, None)?;
    let mut plan = builder.finish(id, PlanKind::Remove)?;
    plan.warnings.extend(warnings);
    Ok(plan)
}

/// The supplied files of `connector` after the change, by id: the given bodies (checked) with
/// the generated-file header, and the unmodified files of the previous add that are not given
/// again, as they are.
fn supplied_files(
    connector: &Connector,
    snapshot: &ProjectSnapshot,
    previous: Option<&ConnectorEntry>,
    given: &BTreeMap<String, String>,
) -> Result<Vec<(String, GeneratedFile)>, PlanError> {
    let declared = &connector.definition().supplied_files;
    let refuse = |id: &str, reason: String| PlanError::Supplied {
        connector: connector.id().to_string(),
        id: id.to_string(),
        reason,
    };
    if let Some(unknown) = given
        .keys()
        .find(|id| !declared.iter().any(|f| &f.id == *id))
    {
        let known: Vec<&str> = declared.iter().map(|f| f.id.as_str()).collect();
        let known = if known.is_empty() {
            "it declares none".to_string()
        } else {
            format!("it declares {}", known.join(", "))
        };
        return Err(refuse(
            unknown,
            format!("the connector has no supplied file with this id; {known}"),
        ));
    }
    let mut out = Vec::new();
    for file in declared {
        let contents = if let Some(body) = given.get(&file.id) {
            let body = if body.ends_with('\n') {
                body.clone()
            } else {
                format!("{body}\n")
            };
            crate::edit::code::check_syntax(&file.target, &body)
                .map_err(|e| refuse(&file.id, format!("the body is refused: {e}")))?;
            generate::with_header(connector.id(), &body)
        } else {
            let owned = previous.is_some_and(|p| p.files.contains_key(&file.target));
            match snapshot.text(&file.target)? {
                Some(text) if owned && generate::is_unmodified(text) => text.to_string(),
                _ => continue,
            }
        };
        let path = file.target.clone();
        out.push((file.id.clone(), GeneratedFile { path, contents }));
    }
    Ok(out)
}

/// A warning for every dependency of `entry` that the SDK table lists and the project already
/// has at a range that cannot agree with the table's (the project's pin is kept).
fn pin_warnings(
    snapshot: &ProjectSnapshot,
    entry: &ConnectorEntry,
    sdk: u32,
    versions: &SdkVersions,
) -> Result<Vec<String>, PlanError> {
    let Some(package) = snapshot.text("package.json")? else {
        return Ok(Vec::new());
    };
    Ok(entry
        .dependencies
        .iter()
        .filter_map(|dep| {
            let expected = versions.packages.get(&dep.package)?;
            let pinned = json::dependency_range(package, &dep.package)?;
            (!json::ranges_compatible(&pinned, expected)).then(|| {
                format!(
                    "package.json: `{}` is {pinned}, but Expo SDK {sdk} expects {expected}; it was kept as it is (run `npx expo install --fix` to align it)",
                    dep.package
                )
            })
        })
        .collect())
}

/// Env values of one connector: public ones for `.env`, secret ones for `.env.local`.
#[derive(Debug, Default)]
struct ConnectorEnv {
    public: Vec<EnvVar>,
    secret: Vec<EnvVar>,
}

fn env_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Resolves `{{/pointer}}` and `{{feature.ID}}` placeholders in plugin options; a whole-string
/// placeholder of an absent value removes its key.
fn resolve_options(options: &Value, config: &Value, features: &[&str]) -> Option<Value> {
    match options {
        Value::String(s) => {
            let trimmed = s.trim();
            if let Some(name) = trimmed
                .strip_prefix("{{")
                .and_then(|r| r.strip_suffix("}}"))
                .map(str::trim)
            {
                if let Some(feature) = name.strip_prefix("feature.") {
                    return Some(Value::Bool(features.contains(&feature)));
                }
                return config.pointer(name).filter(|v| !v.is_null()).cloned();
            }
            Some(options.clone())
        }
        Value::Object(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(k, v)| resolve_options(v, config, features).map(|v| (k.clone(), v)))
                .collect(),
        )),
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter_map(|v| resolve_options(v, config, features))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// I1 for a connector's templates: every rendered source file parses. A connector defined as
/// data could render code that does not (a `.tsx` body into a `.ts` target, a broken
/// conditional); that is refused before anything is written.
///
/// Texts that parsed are remembered ([`ParsedTexts`]): a host that plans again and again (a
/// server, a fuzz target) renders the same files each time, and the same text parses again.
fn check_rendered<'f>(
    connector: &str,
    files: impl Iterator<Item = &'f GeneratedFile>,
) -> Result<(), PlanError> {
    let files: Vec<&GeneratedFile> = files
        .filter(|f| SourceSyntax::from_path(&f.path).is_ok())
        .collect();
    let unchecked: Vec<(&str, &str)> = {
        let parsed = ParsedTexts::shared();
        files
            .iter()
            .filter(|f| !parsed.contains(&f.path, &f.contents))
            .map(|f| (f.path.as_str(), f.contents.as_str()))
            .collect()
    };
    match crate::edit::code::check_syntax_each(&unchecked) {
        Ok(()) => {
            let mut parsed = ParsedTexts::shared();
            for (path, contents) in unchecked {
                parsed.insert(path, contents);
            }
            Ok(())
        }
        Err((index, error)) => Err(PlanError::Template {
            connector: connector.to_owned(),
            file: unchecked[index].0.to_owned(),
            reason: match error {
                InjectError::Parse {
                    line,
                    column,
                    message,
                    ..
                } => format!("{line}:{column}: {message}"),
                other => other.to_string(),
            },
        }),
    }
}

/// Rendered texts known to parse, by syntax and exact contents, up to [`ParsedTexts::MAX_BYTES`]
/// (then it starts over).
#[derive(Default)]
struct ParsedTexts {
    by_syntax: HashMap<SourceSyntax, HashSet<Box<str>>>,
    bytes: usize,
}

impl ParsedTexts {
    const MAX_BYTES: usize = 16 << 20;

    /// The process's set (a poisoned lock only means another thread panicked mid-insert: the
    /// set holds whole entries, so it is still right).
    fn shared() -> std::sync::MutexGuard<'static, ParsedTexts> {
        static SHARED: std::sync::OnceLock<std::sync::Mutex<ParsedTexts>> =
            std::sync::OnceLock::new();
        SHARED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn contains(&self, path: &str, text: &str) -> bool {
        SourceSyntax::from_path(path).is_ok_and(|syntax| {
            self.by_syntax
                .get(&syntax)
                .is_some_and(|texts| texts.contains(text))
        })
    }

    fn insert(&mut self, path: &str, text: &str) {
        let Ok(syntax) = SourceSyntax::from_path(path) else {
            return;
        };
        if self.bytes + text.len() > Self::MAX_BYTES {
            *self = ParsedTexts::default();
        }
        if self
            .by_syntax
            .entry(syntax)
            .or_default()
            .insert(text.into())
        {
            self.bytes += text.len();
        }
    }
}

/// The lock entry, generated files, config files and env values of one connector with its
/// config.
fn connector_entry(
    connector: &Connector,
    config: &ValidConfig,
    layout: &generate::ProjectLayout,
    (sdk, sdk_versions): (u32, &SdkVersions),
    options: PlanOptions,
    supplied: Vec<(String, GeneratedFile)>,
) -> (
    ConnectorEntry,
    Vec<GeneratedFile>,
    Vec<GeneratedFile>,
    ConnectorEnv,
) {
    let def = connector.definition();
    // Secret fields read as REDACTED here: the manifest checks keep them out of code, app.json
    // and config files; only the env values below take the secrets themselves.
    let values = config.redacted();
    let features = def.enabled_features(values);
    let on = |when: &[String]| when.iter().all(|f| features.contains(&f.as_str()));
    let supplied_ids: Vec<&str> = supplied.iter().map(|(id, _)| id.as_str()).collect();
    let mut files = generate::connector_files(connector, &features, values, layout, &supplied_ids);
    files.extend(supplied.into_iter().map(|(_, file)| file));
    let config_files = generate::config_files(connector, values);
    let dependencies = def
        .dependencies
        .iter()
        .filter(|d| on(&d.when))
        .map(|d| DepRequest {
            package: d.package.clone(),
            version: sdk_versions
                .packages
                .get(&d.package)
                .map_or_else(|| d.version_for_sdk(Some(sdk)), String::as_str)
                .to_string(),
            dev: d.dev,
        })
        .collect();
    let plugins = def
        .plugins
        .iter()
        .filter(|p| on(&p.when))
        .map(|p| PluginRequest {
            connector: def.id.clone(),
            name: p.name.clone(),
            options: p
                .options
                .as_ref()
                .and_then(|o| resolve_options(o, values, &features))
                .filter(|o| o.as_object().is_none_or(|m| !m.is_empty())),
            first: p.first,
        })
        .collect();
    let has_server_files = def
        .templates
        .iter()
        .any(|t| t.kind == TemplateKind::Server && on(&t.when));
    let mut settings = Vec::new();
    if has_server_files && layout.router_dir.is_some() {
        settings.push(Setting {
            path: vec!["web".into(), "output".into()],
            value: Value::String("server".into()),
        });
    }
    for file in &def.config_files {
        if config_files.iter().any(|f| f.path == file.target) {
            settings.push(Setting {
                path: file.app_json.clone(),
                value: Value::String(format!("./{}", file.target)),
            });
        }
    }
    let mut env = ConnectorEnv::default();
    for (pointer, field) in &def.fields {
        let value = match field.sensitivity {
            Sensitivity::Secret => config
                .secret(pointer)
                .and_then(|s| env_text(&s.expose_json())),
            Sensitivity::Public => values.pointer(pointer).and_then(env_text),
        };
        let (Some(key), Some(value)) = (field.env.as_ref(), value) else {
            continue;
        };
        let var = EnvVar {
            key: key.clone(),
            value,
        };
        match field.sensitivity {
            Sensitivity::Public => env.public.push(var),
            Sensitivity::Secret if options.write_secret_env => env.secret.push(var),
            Sensitivity::Secret => {}
        }
    }
    let has_secrets = def.fields.iter().any(|(p, f)| {
        f.sensitivity == Sensitivity::Secret && f.env.is_some() && config.secret(p).is_some()
    });
    let entry = ConnectorEntry {
        // Public values only: the lock file is committed, and a changed secret shows up as a
        // changed .env.local block anyway.
        config_hash: generate::content_hash(&values.to_string()),
        features: features.iter().map(|f| f.to_string()).collect(),
        files: files
            .iter()
            .map(|f| (f.path.clone(), body_hash(&f.contents)))
            .collect(),
        config_files: config_files
            .iter()
            .map(|f| (f.path.clone(), generate::content_hash(&f.contents)))
            .collect(),
        dependencies,
        plugins,
        settings,
        public_env: env.public.iter().map(|v| v.key.clone()).collect(),
        secret_env: env.secret.iter().map(|v| v.key.clone()).collect(),
        secrets_not_written: has_secrets && !options.write_secret_env,
    };
    (entry, files, config_files, env)
}

/// The step that makes the connector's server routes reachable, when it generates any: how to
/// serve them (nothing serves `server/` in an app without Expo Router), the origin native builds
/// call (`EXPO_PUBLIC_API_BASE_URL`) and the server-only variables the routes read.
fn server_routes_step(
    connector: &Connector,
    values: &Value,
    layout: &generate::ProjectLayout,
) -> Option<String> {
    let def = connector.definition();
    let features = def.enabled_features(values);
    // The enabled server-only files: the routes and the modules they import.
    let server_templates: Vec<_> = def
        .templates
        .iter()
        .filter(|t| t.kind.is_server())
        .filter(|t| t.when.iter().all(|f| features.contains(&f.as_str())))
        .collect();
    let routes: Vec<&str> = server_templates
        .iter()
        .filter(|t| t.kind == TemplateKind::Server)
        .map(|t| t.target.as_str())
        .collect();
    let modules: Vec<&str> = server_templates
        .iter()
        .filter(|t| t.kind == TemplateKind::ServerModule)
        .map(|t| t.target.as_str())
        .collect();
    let bodies: Vec<&str> = server_templates
        .iter()
        .filter_map(|t| connector.template(&t.source))
        .collect();
    if routes.is_empty() {
        return None;
    }
    let files: Vec<String> = routes
        .iter()
        .map(|t| format!("{}/{t}", layout.server_dir()))
        .collect();
    let urls: Vec<String> = routes
        .iter()
        .map(|t| format!("/{}", t.trim_end_matches("+api.ts")))
        .collect();
    // The server-only variables the enabled routes read.
    let env: Vec<&str> = def
        .fields
        .values()
        .filter(|f| f.sensitivity == Sensitivity::Secret)
        .filter_map(|f| f.env.as_deref())
        .chain(def.server_env.iter().map(String::as_str))
        .filter(|name| bodies.iter().any(|body| body.contains(name)))
        .collect();
    let serve = if layout.router_dir.is_some() {
        format!(
            "the API routes {} need a server: deploy them with `eas deploy` (EAS Hosting, `web.output` is \"server\") or another host of Expo Router API routes",
            files.join(", ")
        )
    } else {
        format!(
            "this app does not use Expo Router, so nothing serves {}: each exports `POST(request: Request): Promise<Response>` (web-standard); mount them on your server at {} (an Express or Hono route, an edge function, or Expo Router API routes after moving to Expo Router)",
            files.join(", "),
            urls.join(", ")
        )
    };
    let serve = if modules.is_empty() {
        serve
    } else {
        format!(
            "{serve} (with the server-only modules they import: {})",
            modules.join(", ")
        )
    };
    Some(format!(
        "{serve}; set EXPO_PUBLIC_API_BASE_URL (the connector's `apiBaseUrl`) to the deployed origin so release builds reach {}; set the server-only variables {} in the server's environment, never as EXPO_PUBLIC_ variables",
        urls.join(", "),
        env.join(", ")
    ))
}

/// Hash of a generated file's body (the text after its three header lines).
fn body_hash(contents: &str) -> String {
    let body = contents.splitn(4, '\n').nth(3).unwrap_or_default();
    generate::content_hash(body)
}

/// Accumulates the new text of every file, from the snapshot.
struct Builder<'a> {
    registry: &'a Registry,
    snapshot: &'a ProjectSnapshot,
    before: &'a LockFile,
    after: LockFile,
    options: PlanOptions,
    /// path -> new text (`None`: delete).
    texts: BTreeMap<String, Option<String>>,
    conflicts: Vec<Conflict>,
    manual_steps: Vec<String>,
    /// Notes for the plan's `warnings` (what was done instead of the obvious).
    notes: Vec<String>,
}

impl<'a> Builder<'a> {
    fn new(
        registry: &'a Registry,
        snapshot: &'a ProjectSnapshot,
        before: &'a LockFile,
        after: LockFile,
        options: PlanOptions,
    ) -> Builder<'a> {
        Builder {
            registry,
            snapshot,
            before,
            after,
            options,
            texts: BTreeMap::new(),
            conflicts: Vec::new(),
            manual_steps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The current text of `path`: planned, else from the snapshot.
    fn current(&self, path: &str) -> Result<Option<String>, PlanError> {
        match self.texts.get(path) {
            Some(planned) => Ok(planned.clone()),
            None => Ok(self.snapshot.text(path)?.map(str::to_string)),
        }
    }

    fn set(&mut self, path: &str, text: Option<String>) {
        self.texts.insert(path.to_string(), text);
    }

    /// Checks that an owned file can be replaced or deleted: it is missing, or unmodified since
    /// generation, or `force` is on.
    fn check_owned(
        &mut self,
        path: &str,
        action: &str,
        warnings: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        if let Some(text) = self.snapshot.text(path)?
            && !generate::is_unmodified(text)
        {
            if self.options.force {
                warnings.push(format!("{path}: your edits are {action} (--force)"));
            } else {
                self.conflicts.push(Conflict {
                    path: path.to_string(),
                    reason: "this generated file was edited since it was generated".into(),
                    manual_step: format!(
                        "move your changes elsewhere (the file is {action} otherwise), or run again with --force"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Writes `files` as `id`'s owned files, deleting those it owned before and no longer has.
    fn owned_files(
        &mut self,
        id: &str,
        files: &[GeneratedFile],
        warnings: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        let old: BTreeSet<String> = self
            .before
            .connectors
            .get(id)
            .map(|e| e.files.keys().cloned().collect())
            .unwrap_or_default();
        let owned_by_others: BTreeSet<&String> = self
            .before
            .connectors
            .iter()
            .filter(|(other, _)| other.as_str() != id)
            .flat_map(|(_, e)| e.files.keys())
            .collect();
        for file in files {
            let existing = self.snapshot.text(&file.path)?;
            if existing == Some(file.contents.as_str()) {
                continue;
            }
            if old.contains(&file.path) {
                self.check_owned(&file.path, "overwritten", warnings)?;
            } else if existing.is_some() || owned_by_others.contains(&file.path) {
                if self.options.force {
                    warnings.push(format!(
                        "{}: replaced an existing file (--force)",
                        file.path
                    ));
                } else {
                    self.conflicts.push(Conflict {
                        path: file.path.clone(),
                        reason: "a file that mobigen did not generate is in the way".into(),
                        manual_step: "rename or move it, or run again with --force to replace it"
                            .into(),
                    });
                }
            }
            self.set(&file.path, Some(file.contents.clone()));
        }
        let new: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for path in old.iter().filter(|p| !new.contains(p.as_str())) {
            if self.snapshot.exists(path) {
                self.check_owned(path, "deleted", warnings)?;
                self.set(path, None);
            }
        }
        Ok(())
    }

    /// Writes `files` as `id`'s config files (already filtered by [`plan_add`]: the lock entry
    /// lists the ones it owns), deleting those it wrote before and no longer has. A file is
    /// replaced or deleted only while it holds what was written (its hash in the lock file).
    fn owned_config_files(
        &mut self,
        id: &str,
        files: &[GeneratedFile],
        warnings: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        let old: BTreeMap<String, String> = self
            .before
            .connectors
            .get(id)
            .map(|e| e.config_files.clone())
            .unwrap_or_default();
        for file in files {
            let existing = self.snapshot.text(&file.path)?;
            if existing == Some(file.contents.as_str()) {
                continue;
            }
            if let Some(text) = existing {
                let ours = old
                    .get(&file.path)
                    .is_some_and(|hash| *hash == generate::content_hash(text));
                if !ours {
                    self.config_file_conflict(&file.path, old.contains_key(&file.path), warnings);
                }
            }
            self.set(&file.path, Some(file.contents.clone()));
        }
        for (path, hash) in &old {
            if files.iter().any(|f| &f.path == path) {
                continue;
            }
            if let Some(text) = self.snapshot.text(path)? {
                if generate::content_hash(text) != *hash {
                    self.config_file_conflict(path, true, warnings);
                }
                self.set(path, None);
            }
        }
        Ok(())
    }

    fn config_file_conflict(&mut self, path: &str, edited: bool, warnings: &mut Vec<String>) {
        if self.options.force {
            warnings.push(format!("{path}: replaced a file you changed (--force)"));
            return;
        }
        let (reason, manual_step) = if edited {
            (
                "this file was changed since the connector wrote it",
                "paste the new contents into the connector's config instead, or run again with --force",
            )
        } else {
            (
                "a different file is already there",
                "remove it or paste its contents into the connector's config, or run again with --force",
            )
        };
        self.conflicts.push(Conflict {
            path: path.to_string(),
            reason: reason.into(),
            manual_step: manual_step.into(),
        });
    }

    /// Writes or removes `id`'s env blocks.
    fn env(&mut self, id: &str, env: Option<&ConnectorEnv>) -> Result<(), PlanError> {
        for (target, vars) in [
            (EnvTarget::Public, env.map(|e| e.public.as_slice())),
            (EnvTarget::Secret, env.map(|e| e.secret.as_slice())),
        ] {
            let file = target.file_name();
            let text = self.current(file)?;
            let base = text.clone().unwrap_or_default();
            let new = match vars {
                Some(vars) if !vars.is_empty() => env::set_env_block(target, &base, id, vars)?.0,
                _ => env::remove_env_block(target, &base, id)?,
            };
            self.set_created(file, text.as_deref(), new);
        }
        Ok(())
    }

    /// Sets a file the library may have created (env files, .gitignore): one that did not exist
    /// before any connector and ends up empty is deleted again.
    fn set_created(&mut self, file: &str, current: Option<&str>, new: String) {
        let created = &mut self.after.project.created_files;
        if current.is_none() && !self.snapshot.exists(file) && !new.is_empty() {
            created.insert(file.to_string());
        }
        if new.is_empty() && created.remove(file) {
            self.set(file, None);
        } else if current != Some(new.as_str()) && !(current.is_none() && new.is_empty()) {
            self.set(file, Some(new));
        }
    }

    fn enabled_after(&self) -> Result<Vec<&'a Connector>, PlanError> {
        self.after
            .connectors
            .keys()
            .map(|id| self.registry.lookup(id).map_err(PlanError::from))
            .collect()
    }

    /// package.json: baseline, then the merged dependencies of the new set.
    fn package_json(&mut self) -> Result<(), PlanError> {
        let Some(text) = self.current("package.json")? else {
            return Err(ProjectError::NotAProject { dir: ".".into() }.into());
        };
        let baseline = json::remove_dependencies(&text, &self.before.project.package_json)?;
        // A package Expo's SDK table lists that the project already has keeps its range: a pin
        // is never moved to another SDK's version (pin_warnings says when it disagrees).
        let sdk_packages = json::expo_sdk_major(&baseline)
            .and_then(|major| ExpoSdkTable::builtin().sdk(major))
            .map(|versions| &versions.packages);
        let mut merged: BTreeMap<String, DepRequest> = BTreeMap::new();
        for entry in self.after.connectors.values() {
            for dep in &entry.dependencies {
                merged
                    .entry(dep.package.clone())
                    .and_modify(|d| {
                        d.dev &= dep.dev;
                        if json::compare_ranges(&dep.version, &d.version).is_gt() {
                            d.version = dep.version.clone();
                        }
                    })
                    .or_insert_with(|| dep.clone());
            }
        }
        let requests: Vec<DepRequest> = merged
            .into_values()
            .map(|mut request| {
                if sdk_packages.is_some_and(|p| p.contains_key(&request.package))
                    && let Some(pinned) = json::dependency_range(&baseline, &request.package)
                {
                    request.version = pinned;
                }
                request
            })
            .collect();
        let (new, changes) = json::add_dependencies(&baseline, &requests)?;
        self.after.project.package_json = changes;
        if new != text {
            self.set("package.json", Some(new));
        }
        Ok(())
    }

    /// app.json: baseline, then the merged plugins and settings of the new set.
    fn app_json(&mut self) -> Result<(), PlanError> {
        let plugins: Vec<PluginRequest> = self
            .after
            .connectors
            .values()
            .flat_map(|e| e.plugins.iter().cloned())
            .collect();
        let settings: Vec<Setting> = self
            .after
            .connectors
            .values()
            .flat_map(|e| e.settings.iter().cloned())
            .collect();
        let snapshot = self.snapshot;
        let (plugins, settings) = match snapshot.dynamic_app_config() {
            Some(dynamic) => self.app_config(dynamic, plugins, settings)?,
            None => (plugins, settings),
        };
        let Some(text) = self.current("app.json")? else {
            if !plugins.is_empty() || !settings.is_empty() {
                self.manual_steps.push(
                    "the project has no app.json: create one with an `expo` object, then add the connector again".into(),
                );
            }
            return Ok(());
        };
        let mut baseline = text.clone();
        for change in self.before.project.app_json_settings.iter().rev() {
            baseline = json::unset_path("app.json", &baseline, change)?;
        }
        baseline = json::remove_plugins(&baseline, &self.before.project.app_json_plugins, &[])?;
        let pinned: Vec<&str> = plugins
            .iter()
            .filter(|p| p.first)
            .map(|p| p.name.as_str())
            .collect();
        let (mut new, plugin_changes) = json::add_plugins(&baseline, &plugins, &pinned)?;
        let mut unique: BTreeMap<Vec<String>, &Value> = BTreeMap::new();
        for s in &settings {
            unique.insert(s.path.clone(), &s.value);
        }
        let mut setting_changes = Vec::new();
        for (path, value) in unique {
            let keys: Vec<&str> = path.iter().map(String::as_str).collect();
            let (text, change) = json::set_expo_config(&new, &keys, value)?;
            new = text;
            setting_changes.push(change);
        }
        self.after.project.app_json_plugins = plugin_changes;
        self.after.project.app_json_settings = setting_changes;
        if new != text {
            self.set("app.json", Some(new));
        }
        Ok(())
    }

    /// The dynamic app config (`app.config.ts` ...): what it returns decides where plugins and
    /// settings go. Through app.json when it passes the static config on (said in a note);
    /// into the `plugins` array literal it returns (recorded, removed byte for byte); else one
    /// manual step with the exact entries. Returns the plugins and settings app.json takes.
    fn app_config(
        &mut self,
        file: &str,
        plugins: Vec<PluginRequest>,
        settings: Vec<Setting>,
    ) -> Result<(Vec<PluginRequest>, Vec<Setting>), PlanError> {
        let Some(text) = self.current(file)? else {
            return Ok((plugins, settings));
        };
        let mut baseline = text.clone();
        if let Some(record) = &self.before.project.app_config_plugins {
            match app_config::remove_plugins(&record.file, &text, &record.insertion)? {
                Some(restored) if record.file == file => baseline = restored,
                _ => {
                    self.conflicts.push(Conflict {
                        path: record.file.clone(),
                        reason: "the plugin entries mobigen inserted into the `plugins` array it returns were changed".into(),
                        manual_step: format!(
                            "take these inserted texts out by hand, then run again: {}",
                            record
                                .insertion
                                .texts
                                .iter()
                                .map(|t| format!("`{}`", t.trim()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                    return Ok((Vec::new(), Vec::new()));
                }
            }
        }
        let shape = app_config::analyze(file, &baseline)?;
        let mut unique_plugins: Vec<PluginRequest> = Vec::new();
        for plugin in plugins {
            if !unique_plugins.iter().any(|p| p.name == plugin.name) {
                unique_plugins.push(plugin);
            }
        }
        let mut unique_settings: Vec<Setting> = Vec::new();
        for setting in settings {
            if !unique_settings.iter().any(|s| s.path == setting.path) {
                unique_settings.push(setting);
            }
        }
        let (mut json_plugins, mut manual_plugins) = (Vec::new(), Vec::new());
        let mut new_text = baseline.clone();
        let mut record = None;
        match shape.plugins {
            PluginsPlace::StaticConfig => json_plugins = unique_plugins,
            PluginsPlace::Manual => manual_plugins = unique_plugins,
            PluginsPlace::ArrayLiteral => {
                let quote = Style::detect(&baseline).quote.as_char();
                let render = |p: &PluginRequest| {
                    let name = format!("{quote}{}{quote}", escape_quoted(&p.name, quote));
                    let text = match &p.options {
                        Some(options) => format!("[{name}, {options}]"),
                        None => name,
                    };
                    (p.name.clone(), text)
                };
                let first: Vec<(String, String)> = unique_plugins
                    .iter()
                    .filter(|p| p.first)
                    .map(render)
                    .collect();
                let rest: Vec<(String, String)> = unique_plugins
                    .iter()
                    .filter(|p| !p.first)
                    .map(render)
                    .collect();
                if let Some((output, insertion)) =
                    app_config::insert_plugins(file, &baseline, &first, &rest)?
                {
                    new_text = output;
                    if !insertion.texts.is_empty() {
                        record = Some(AppConfigRecord {
                            file: file.to_owned(),
                            insertion,
                        });
                    }
                } else {
                    manual_plugins = unique_plugins;
                }
            }
        }
        let (mut json_settings, mut manual_settings) = (Vec::new(), Vec::new());
        for setting in unique_settings {
            let passes = setting.path.first().is_some_and(|key| {
                shape
                    .static_keys
                    .as_ref()
                    .is_some_and(|keys| keys.passes(key))
            });
            if passes {
                json_settings.push(setting);
            } else {
                manual_settings.push(setting);
            }
        }
        if !json_plugins.is_empty() || !json_settings.is_empty() {
            let what: Vec<String> = json_plugins
                .iter()
                .map(|p| format!("plugin `{}`", p.name))
                .chain(
                    json_settings
                        .iter()
                        .map(|s| format!("`{}`", s.path.join("."))),
                )
                .collect();
            self.notes.push(format!(
                "{file} passes app.json's config on, so app.json was edited: {}",
                what.join(", ")
            ));
        }
        if !manual_plugins.is_empty() || !manual_settings.is_empty() {
            let mut parts = Vec::new();
            if !manual_plugins.is_empty() {
                let entries: Vec<String> = manual_plugins
                    .iter()
                    .map(|p| match &p.options {
                        Some(o) => format!("[\"{}\", {o}]", p.name),
                        None => format!("\"{}\"", p.name),
                    })
                    .collect();
                parts.push(format!(
                    "add these entries to the `plugins` array of the config it returns: {}",
                    entries.join(", ")
                ));
            }
            for s in &manual_settings {
                parts.push(format!(
                    "set `{}` to {} in the config it returns",
                    s.path.join("."),
                    s.value
                ));
            }
            self.manual_steps.push(format!(
                "{file} is a dynamic config that mobigen cannot edit safely: {}",
                parts.join("; ")
            ));
        }
        self.after.project.app_config_plugins = record;
        if new_text != text {
            self.set(file, Some(new_text));
        }
        Ok((json_plugins, json_settings))
    }

    /// .gitignore covers `.env*.local` while any connector has secrets in it.
    fn gitignore(&mut self) -> Result<(), PlanError> {
        let needs = self
            .after
            .connectors
            .values()
            .any(|e| !e.secret_env.is_empty());
        let text = self.current(".gitignore")?;
        let base = text.clone().unwrap_or_default();
        let baseline = match &self.before.project.gitignore {
            Some(change) => env::remove_gitignore(&base, change),
            None => base.clone(),
        };
        let (new, change) = if needs {
            let (new, change) = env::ensure_gitignore(&baseline);
            (new, Some(change))
        } else {
            (baseline, None)
        };
        self.after.project.gitignore = change;
        self.set_created(".gitignore", text.as_deref(), new);
        Ok(())
    }

    /// The root module and the root file's insertions.
    fn root(&mut self, warnings: &mut Vec<String>) -> Result<(), PlanError> {
        let enabled = self.enabled_after()?;
        match generate::root_module(&enabled)? {
            Some(module) => {
                let existing = self.snapshot.text(ROOT_MODULE)?;
                if existing != Some(module.contents.as_str()) {
                    if existing.is_some() {
                        if self.before.project.root_module_hash.is_some() {
                            self.check_owned(ROOT_MODULE, "overwritten", warnings)?;
                        } else if !self.options.force {
                            self.conflicts.push(Conflict {
                                path: ROOT_MODULE.into(),
                                reason: "a file that mobigen did not generate is in the way".into(),
                                manual_step:
                                    "rename or move it, or run again with --force to replace it"
                                        .into(),
                            });
                        }
                    }
                    self.set(ROOT_MODULE, Some(module.contents.clone()));
                }
                self.after.project.root_module_hash = Some(body_hash(&module.contents));
            }
            None => {
                if self.before.project.root_module_hash.is_some()
                    && self.snapshot.exists(ROOT_MODULE)
                {
                    self.check_owned(ROOT_MODULE, "deleted", warnings)?;
                    self.set(ROOT_MODULE, None);
                }
                self.after.project.root_module_hash = None;
            }
        }

        let was_on = !self.before.connectors.is_empty();
        let is_on = !self.after.connectors.is_empty();
        if was_on == is_on {
            self.after.project.root = self.before.project.root.clone();
            return Ok(());
        }
        if is_on {
            let location = self.snapshot.root()?;
            if location.kind == RootKind::CreatedLayout {
                return self.create_router_layout(location.file);
            }
            let source = self.current(&location.file)?.unwrap_or_default();
            let module = generate::root_module_specifier(&location.file);
            let spec = WrapSpec {
                module_specifier: &module,
                wrapper: WRAPPER,
            };
            let insertions = match root::plan_root_insert(&location.file, &source, &spec)? {
                RootInsert::Applied(edit) => {
                    self.set(&location.file, Some(edit.output));
                    edit.insertions
                }
                RootInsert::AlreadyPresent => Vec::new(),
                RootInsert::FollowReExport(re) => {
                    return Err(PlanError::ReExport {
                        file: location.file,
                        line: re.line,
                        column: re.column,
                        specifier: re.specifier,
                        module,
                    });
                }
            };
            self.after.project.root = Some(RootRecord {
                file: location.file,
                insertions,
                created: false,
            });
        } else if let Some(record) = &self.before.project.root
            && record.created
        {
            if self.snapshot.exists(&record.file) {
                let file = record.file.clone();
                self.check_owned(&file, "deleted", warnings)?;
                self.set(&file, None);
            }
            self.after.project.root = None;
        } else if let Some(record) = &self.before.project.root {
            let source = self.current(&record.file)?.unwrap_or_default();
            let module = generate::root_module_specifier(&record.file);
            let spec = WrapSpec {
                module_specifier: &module,
                wrapper: WRAPPER,
            };
            match root::plan_root_remove(&record.file, &source, &spec, Some(&record.insertions))? {
                RootRemove::Removed(edit) => self.set(&record.file, Some(edit.output)),
                RootRemove::NotPresent => {}
                RootRemove::Conflict(conflict) => {
                    if self.options.force {
                        warnings.push(format!("{conflict} (--force: left as it is)"));
                    } else {
                        self.conflicts.push(Conflict {
                            path: conflict.file,
                            reason: conflict.reason,
                            manual_step: conflict.manual_step,
                        });
                    }
                }
            }
            self.after.project.root = None;
        }
        Ok(())
    }

    /// An Expo Router app without a root layout: the owned layout is created (a file of the
    /// user's in the way is a conflict unless `force`).
    fn create_router_layout(&mut self, file: String) -> Result<(), PlanError> {
        let layout = generate::router_layout(&file);
        let existing = self.snapshot.text(&file)?;
        if existing.is_some_and(|text| text != layout.contents) && !self.options.force {
            self.conflicts.push(Conflict {
                path: file.clone(),
                reason: "a file that mobigen did not generate is in the way".into(),
                manual_step: "rename or move it, or run again with --force to replace it".into(),
            });
        }
        self.set(&file, Some(layout.contents));
        self.after.project.root = Some(RootRecord {
            file,
            insertions: Vec::new(),
            created: true,
        });
        Ok(())
    }

    fn finish(mut self, id: &str, kind: PlanKind) -> Result<Plan, PlanError> {
        let mut warnings = Vec::new();
        self.package_json()?;
        self.app_json()?;
        self.gitignore()?;
        self.root(&mut warnings)?;
        if !self.conflicts.is_empty() {
            return Err(PlanError::Conflicts {
                conflicts: self.conflicts,
            });
        }
        let lock_text = if self.after.connectors.is_empty() {
            None
        } else {
            Some(self.after.to_text())
        };
        self.set(LOCK_FILE, lock_text);
        let mut changes = Vec::new();
        for (path, after) in std::mem::take(&mut self.texts) {
            let before = self.snapshot.text(&path)?.map(str::to_string);
            if before != after {
                changes.push(FileChange {
                    path,
                    before,
                    after,
                });
            }
        }
        let kind = if kind == PlanKind::UpToDate && changes.iter().all(|c| c.path == LOCK_FILE) {
            changes.clear();
            PlanKind::UpToDate
        } else {
            kind
        };
        Ok(Plan {
            connector: id.to_string(),
            kind,
            changes,
            manual_steps: self.manual_steps,
            warnings: self.notes.into_iter().chain(warnings).collect(),
        })
    }
}

/// `text` with `quote` and backslashes escaped, for a string literal in `quote`s.
fn escape_quoted(text: &str, quote: char) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == quote || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Files whose values are secret: their diff shows keys, never values.
const SECRET_FILES: [&str; 1] = [".env.local"];

/// `KEY=value` lines with the value replaced by `[redacted]`.
fn redact_env(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // The quote of a value that continues on the next lines (`KEY="-----BEGIN ...`): those lines
    // belong to the value and are dropped with it.
    let mut open_quote: Option<char> = None;
    for line in text.split_inclusive('\n') {
        if let Some(quote) = open_quote {
            if closing_quote(line, quote).is_some() {
                open_quote = None;
            }
            continue;
        }
        match line.split_once('=') {
            Some((key, rest)) if !key.trim_start().starts_with('#') => {
                let eol = &rest[rest.trim_end_matches(['\r', '\n']).len()..];
                let value = rest.trim_start();
                if let Some(quote) = value
                    .chars()
                    .next()
                    .filter(|c| matches!(c, '"' | '\'' | '`'))
                    && closing_quote(&value[1..], quote).is_none()
                {
                    open_quote = Some(quote);
                }
                out.push_str(&format!("{key}={}{eol}", crate::secrets::secret::REDACTED));
            }
            _ => out.push_str(line),
        }
    }
    if open_quote.is_some() && !out.ends_with('\n') && text.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Where `quote` closes a value in `text` (a backslash escapes the next character inside
/// double quotes, as dotenv reads them).
fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote == '"' {
            escaped = true;
        } else if c == quote {
            return Some(at);
        }
    }
    None
}

impl Plan {
    /// The plan as a unified diff (`a/` and `b/` prefixes, `/dev/null` for created and deleted
    /// files), coloured with ANSI codes when `color`. Values in secret files are redacted.
    pub fn unified_diff(&self, color: bool) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let redact = SECRET_FILES.contains(&change.path.as_str());
            let text = |t: &Option<String>| {
                let t = t.clone().unwrap_or_default();
                if redact { redact_env(&t) } else { t }
            };
            let (before, after) = (text(&change.before), text(&change.after));
            let old = if change.before.is_some() {
                format!("a/{}", change.path)
            } else {
                "/dev/null".into()
            };
            let new = if change.after.is_some() {
                format!("b/{}", change.path)
            } else {
                "/dev/null".into()
            };
            let diff = similar::TextDiff::from_lines(&before, &after);
            let rendered = diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &new)
                .to_string();
            for line in rendered.split_inclusive('\n') {
                let paint = |code: &str| {
                    format!(
                        "\x1b[{code}m{}\x1b[0m{}",
                        line.trim_end_matches('\n'),
                        if line.ends_with('\n') { "\n" } else { "" }
                    )
                };
                let line = if !color {
                    line.to_string()
                } else if line.starts_with("+++") || line.starts_with("---") {
                    paint("1")
                } else if line.starts_with('+') {
                    paint("32")
                } else if line.starts_with('-') {
                    paint("31")
                } else if line.starts_with("@@") {
                    paint("36")
                } else {
                    line.to_string()
                };
                out.push_str(&line);
                if !line.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact_env;

    /// Issue 15 item 15: a multi-line quoted secret leaked its continuation lines.
    #[test]
    fn multi_line_quoted_values_are_redacted_whole() {
        let env = "A=1\nKEY=\"-----BEGIN PRIVATE KEY-----\nMIIEvSECRETLINE\n-----END PRIVATE KEY-----\"\nB='x\ny'\nC=\"a\\\"b\"\n# note=kept\n";
        let redacted = redact_env(env);
        assert_eq!(
            redacted,
            "A=[redacted]\nKEY=[redacted]\nB=[redacted]\nC=[redacted]\n# note=kept\n"
        );
        assert!(!redacted.contains("SECRETLINE"));
    }
}

#[cfg(test)]
mod check_rendered_tests {
    use super::{GeneratedFile, ParsedTexts, PlanError, check_rendered};

    fn file(path: &str, contents: &str) -> GeneratedFile {
        GeneratedFile {
            path: path.into(),
            contents: contents.into(),
        }
    }

    /// The first file that does not parse is named, also after its neighbours were remembered,
    /// and a text remembered for `.ts` is parsed again as `.tsx`.
    #[test]
    fn remembered_texts_never_hide_a_failure() {
        let good = file("src/a.ts", "export const a = 1;\n");
        let bad = file("src/b.ts", "export const b = ;\n");
        assert!(check_rendered("x", [&good].into_iter()).is_ok());
        for _ in 0..2 {
            let error = check_rendered("x", [&good, &bad, &good].into_iter());
            assert!(
                matches!(&error, Err(PlanError::Template { file, reason, .. })
                    if file == "src/b.ts" && reason.starts_with("1:")),
                "{error:?}"
            );
        }
        let generic = "const f = <T,>(x: T) => x;\n";
        assert!(check_rendered("x", [&file("src/g.ts", generic)].into_iter()).is_ok());
        assert!(ParsedTexts::shared().contains("src/g.ts", generic));
        assert!(!ParsedTexts::shared().contains("src/g.tsx", generic));
        let cast = "const y = <number>x;\n";
        assert!(check_rendered("x", [&file("src/c.ts", cast)].into_iter()).is_ok());
        assert!(check_rendered("x", [&file("src/c.tsx", cast)].into_iter()).is_err());
    }

    #[test]
    fn the_set_starts_over_when_full() {
        let mut texts = ParsedTexts::default();
        let big = "x".repeat(ParsedTexts::MAX_BYTES / 2 + 1);
        texts.insert("a.ts", &big);
        assert!(texts.contains("a.ts", &big));
        texts.insert("b.ts", &format!("{big}y"));
        assert!(
            !texts.contains("a.ts", &big),
            "over the limit: started over"
        );
        assert_eq!(texts.bytes, big.len() + 1);
    }
}
