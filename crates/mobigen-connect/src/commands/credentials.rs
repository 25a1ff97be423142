//! The stored side of a connector: how `add` and `credentials rotate` keep the store and the
//! project in agreement, and the commands `credentials rotate`, `credentials show`, `enable`,
//! `disable`.
//!
//! Store and project are written in this order, so that they never disagree silently:
//! 1. plan the code change without writing (a refused plan touches nothing);
//! 2. write the store (one transaction: a failure leaves the project untouched);
//! 3. apply the code change (transactional: on failure the project is rolled back), and if that
//!    fails, undo step 2: a newly created instance is removed (its credentials deleted), replaced
//!    credentials are put back (the previous version becomes current again; the ones that failed
//!    to deploy stay `expiring` until purged). If the undo fails too, the error says what the
//!    store holds and how to reconcile it (running the command again does).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::{Plan, PlanKind, PlanOptions};
use mobigen_connectors::store::{CredentialVersion, InstanceRecord, Status, Store, StoreError};
use mobigen_connectors::{Registry, ValidConfig};
use serde_json::{Value, json};

use crate::CommandResult;
use crate::output::report_plan;
use crate::output::{emit, read_json};
use crate::store_access::{Access, ProjectArgs, Service, StoreLocation, actor};

/// What step 2 did to the store.
#[derive(Debug)]
pub(crate) enum StoreWrite {
    /// A new instance with credentials version 1.
    Created(InstanceRecord),
    /// The credentials of an existing instance were replaced; `previous` is kept `expiring`.
    Replaced {
        /// The instance after the change.
        record: InstanceRecord,
        /// The replaced version.
        previous: i64,
    },
    /// Nothing to store: the project is up to date and the store has the instance.
    Unchanged(InstanceRecord),
}

impl StoreWrite {
    pub(crate) fn record(&self) -> &InstanceRecord {
        match self {
            StoreWrite::Created(r) | StoreWrite::Unchanged(r) => r,
            StoreWrite::Replaced { record, .. } => record,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            StoreWrite::Created(_) => "created",
            StoreWrite::Replaced { .. } => "rotated",
            StoreWrite::Unchanged(_) => "unchanged",
        }
    }
}

/// Step 2 for `add`: stores `valid` for `project_id` given the planned change `kind`.
///
/// A project without a stored instance gets one (`configured`); an up-to-date project whose
/// instance exists keeps it as it is; otherwise the changed config replaces the stored
/// credentials, the old ones kept `expiring` as by `credentials rotate`.
pub(crate) fn store_for_add(
    service: &mut Service,
    project_id: &str,
    valid: &ValidConfig,
    kind: PlanKind,
) -> anyhow::Result<StoreWrite> {
    let actor = actor();
    purge(service, &actor);
    match service.find(project_id, valid.connector_id())? {
        None => Ok(StoreWrite::Created(service.put(
            project_id,
            valid.clone(),
            &actor,
        )?)),
        Some(existing) if existing.status == Status::Installed => Ok(StoreWrite::Replaced {
            previous: existing.credentials_version,
            record: service.put(project_id, valid.clone(), &actor)?,
        }),
        // An up-to-date plan says the files are; the store is unchanged only when the stored
        // values are the given ones (secrets included: the plan's hash covers redacted values,
        // and with --no-secret-env no file holds a secret at all).
        Some(existing)
            if kind == PlanKind::UpToDate
                && service
                    .get(&existing.id, "compare with the config given to add", &actor)?
                    .config
                    .expose_full_config()
                    == *valid.values() =>
        {
            Ok(StoreWrite::Unchanged(existing))
        }
        Some(existing) => Ok(StoreWrite::Replaced {
            previous: existing.credentials_version,
            record: service.rotate_credentials(&existing.id, valid.clone(), &actor)?,
        }),
    }
}

/// Deletes expired credentials versions; a failure only delays that to the next command.
fn purge(service: &mut Service, actor: &str) {
    if let Err(error) = service.purge_expired(actor) {
        eprintln!("warning: expired credentials versions were not purged: {error}");
    }
}

/// Step 3: applies the code change; on failure undoes `write` (see the module docs).
pub(crate) fn inject_or_undo(
    service: &mut Service,
    registry: &Registry,
    project: &std::path::Path,
    valid: &ValidConfig,
    supplied: &std::collections::BTreeMap<String, String>,
    options: PlanOptions,
    write: &StoreWrite,
) -> anyhow::Result<Plan> {
    let error = match ops::add_supplied(registry, project, valid, options, Mode::Apply, supplied) {
        Ok(plan) => return Ok(plan),
        Err(error) => error,
    };
    let actor = actor();
    let undo: anyhow::Result<String> = match write {
        StoreWrite::Unchanged(_) => Ok("the store was not changed".into()),
        StoreWrite::Created(record) => service
            .remove(&record.id, &actor)
            .map(|_| {
                format!(
                    "the stored instance {} was removed again (credentials deleted)",
                    record.id
                )
            })
            .map_err(Into::into),
        StoreWrite::Replaced { record, previous } => {
            restore_version(service, registry, record, *previous, &actor).map(|()| {
                format!(
                    "the stored credentials were put back to version {previous} (now current again)"
                )
            })
        }
    };
    let record = write.record();
    // The cause first (`error: <why the code change failed>`), then what became of the store.
    Err(match undo {
        Ok(undone) => anyhow::anyhow!("{error}\nthe project was left unchanged, and {undone}"),
        Err(undo_error) => anyhow::anyhow!(
            "{error}\nthe project was left unchanged, but undoing the store write failed ({undo_error:#}): the store holds credentials version {} for instance {} ({}); run the command again to reconcile them",
            record.credentials_version,
            record.id,
            record.status
        ),
    })
}

/// Makes the kept `version` of `record` current again (through a rotation, so it is audited).
fn restore_version(
    service: &mut Service,
    registry: &Registry,
    record: &InstanceRecord,
    version: i64,
    actor: &str,
) -> anyhow::Result<()> {
    let old = service.get_version(
        &record.id,
        version,
        "restore after a failed code update",
        actor,
    )?;
    let valid = registry
        .lookup(&record.connector_id)?
        .validate_config(&old.expose_full_config())
        .context("the previous credentials no longer validate")?;
    service.rotate_credentials(&record.id, valid, actor)?;
    Ok(())
}

/// The metadata of an instance: never a config or credential value.
pub(crate) fn instance_json(record: &InstanceRecord, versions: &[CredentialVersion]) -> Value {
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
    json!({
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
    })
}

/// The `"store"` member of `add`'s JSON.
pub(crate) fn store_json(write: &StoreWrite) -> Value {
    let record = write.record();
    json!({
        "action": write.action(),
        "instanceId": record.id,
        "projectId": record.project_id,
        "status": record.status.as_str(),
        "credentialsVersion": record.credentials_version,
        "keyId": record.encryption_key_id,
    })
}

/// The human line about the store after `add`.
pub(crate) fn store_line(write: &StoreWrite) -> String {
    let r = write.record();
    match write {
        StoreWrite::Created(_) => format!(
            "Stored: instance {} ({}), credentials version {} encrypted under key {}.\n",
            r.id, r.status, r.credentials_version, r.encryption_key_id
        ),
        StoreWrite::Replaced { previous, .. } => format!(
            "Stored: instance {} ({}), credentials version {} encrypted under key {}; version {previous} kept as expiring.\n",
            r.id, r.status, r.credentials_version, r.encryption_key_id
        ),
        StoreWrite::Unchanged(_) => format!(
            "Stored: instance {} ({}) unchanged, credentials version {}.\n",
            r.id, r.status, r.credentials_version
        ),
    }
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

/// The live instance of `connector` in the project, or an error saying how to get one.
fn live_instance(
    store: &impl Store,
    project: &ProjectArgs,
    connector: &str,
) -> anyhow::Result<InstanceRecord> {
    let project_id = project.id()?;
    store.find_instance(&project_id, connector)?.with_context(|| {
        format!(
            "connector `{connector}` has no stored instance for project {} (project id {project_id})\nrun `mobigen-connect add {connector} --project {}` first; if the folder moved, pass its old --project-id",
            project.project.display(),
            project.project.display()
        )
    })
}

#[derive(Debug, Subcommand)]
pub(crate) enum CredentialsCommand {
    /// Replace a connector's credentials: the new config is validated, the old credentials are
    /// kept `expiring` for 7 days, and the project's code and .env.local are updated.
    Rotate(RotateArgs),
    /// Show what is stored for a connector: instance id, status, credentials version, key id,
    /// timestamps and expiring versions (never a value).
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    /// Connector id.
    id: String,
    #[command(flatten)]
    project: ProjectArgs,
    /// The complete new JSON config, or `-` for standard input (secrets are read only from here).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Write no secret value to disk (not even .env.local).
    #[arg(long)]
    no_secret_env: bool,
    /// Overwrite generated files you edited.
    #[arg(long)]
    force: bool,
    /// Print JSON: {"instance": Instance, "previousVersion": {version, expiresAt}, "code": as `add`}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Connector id.
    id: String,
    #[command(flatten)]
    project: ProjectArgs,
    /// Print JSON: Instance = {id, projectId, connector, status, credentialsVersion, keyId,
    /// createdAt, updatedAt, lastValidatedAt, expiringVersions: [{version, keyId, status,
    /// replacedAt, expiresAt}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SwitchArgs {
    /// Connector id.
    id: String,
    #[command(flatten)]
    project: ProjectArgs,
    /// Print JSON: {"instance": Instance, "previousStatus"}.
    #[arg(long)]
    json: bool,
}

pub(crate) fn credentials(
    registry: &Registry,
    location: &StoreLocation,
    command: &CredentialsCommand,
) -> CommandResult {
    match command {
        CredentialsCommand::Rotate(args) => rotate(registry, location, args),
        CredentialsCommand::Show(args) => show(location, args),
    }
}

fn rotate(registry: &Registry, location: &StoreLocation, args: &RotateArgs) -> CommandResult {
    let connector = registry.lookup(&args.id)?;
    let config = read_json(&args.config)?;
    let valid = connector.validate_config(&config)?;
    let options = PlanOptions {
        write_secret_env: !args.no_secret_env,
        force: args.force,
    };
    let mut service = location.open_service(Access::Existing)?;
    let existing = live_instance(service.store(), &args.project, &args.id)?;
    let planned = ops::add(
        registry,
        &args.project.project,
        &valid,
        options,
        Mode::DryRun,
    )?;
    if planned.kind == PlanKind::Add {
        bail!(
            "connector `{}` is not in project {}: use `mobigen-connect add` to add it",
            args.id,
            args.project.project.display()
        );
    }
    let actor = actor();
    purge(&mut service, &actor);
    let record = service.rotate_credentials(&existing.id, valid.clone(), &actor)?;
    let write = StoreWrite::Replaced {
        previous: existing.credentials_version,
        record,
    };
    let plan = inject_or_undo(
        &mut service,
        registry,
        &args.project.project,
        &valid,
        &std::collections::BTreeMap::new(),
        options,
        &write,
    )?;
    let record = write.record();
    let versions = service.store().credential_versions(&record.id)?;
    let previous = versions
        .iter()
        .find(|v| v.version == existing.credentials_version);
    if args.json {
        print_json(&json!({
            "instance": instance_json(record, &versions),
            "previousVersion": previous.map(|v| json!({
                "version": v.version,
                "expiresAt": v.expires_at.to_string(),
            })),
            "code": plan.summary_json(false),
        }))?;
    } else {
        let name = &connector.definition().name;
        let mut out = format!(
            "Rotated the credentials of {name}: version {} is current",
            record.credentials_version
        );
        match previous {
            Some(v) => out.push_str(&format!(
                "; version {} stays usable (expiring) until {}.\n",
                v.version, v.expires_at
            )),
            None => out.push_str(".\n"),
        }
        emit(&out)?;
        report_plan(&plan, name, false, false)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn show(location: &StoreLocation, args: &ShowArgs) -> CommandResult {
    let store = location.open_store()?;
    let record = live_instance(&store, &args.project, &args.id)?;
    let versions = store.credential_versions(&record.id)?;
    if args.json {
        print_json(&json!({"instance": instance_json(&record, &versions)}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = format!(
        "{} in project {}\n  instance: {}\n  status: {}\n  credentials version: {} (key {})\n  created: {}\n  updated: {}\n",
        record.connector_id,
        record.project_id,
        record.id,
        record.status,
        record.credentials_version,
        record.encryption_key_id,
        record.created_at,
        record.updated_at,
    );
    if let Some(at) = record.last_validated_at {
        out.push_str(&format!("  last validated: {at}\n"));
    }
    for v in &versions {
        out.push_str(&format!(
            "  version {}: expiring (key {}), replaced {}, purged after {}\n",
            v.version, v.encryption_key_id, v.created_at, v.expires_at
        ));
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// `enable` (`true`) or `disable` (`false`).
pub(crate) fn switch(location: &StoreLocation, args: &SwitchArgs, on: bool) -> CommandResult {
    let mut service = location.open_service(Access::Existing)?;
    let record = live_instance(service.store(), &args.project, &args.id)?;
    let (target, verb, command) = if on {
        (Status::Active, "enabled", "enable")
    } else {
        (Status::Disabled, "disabled", "disable")
    };
    if record.status == target {
        bail!("connector `{}` is already {verb}", args.id);
    }
    let actor = actor();
    let result = if on {
        service.enable(&record.id, &actor)
    } else {
        service.disable(&record.id, &actor)
    };
    let updated = match result {
        Ok(updated) => updated,
        Err(StoreError::IllegalTransition(illegal)) => {
            let hint = match record.status {
                Status::Configured | Status::Error => format!(
                    "\nits credentials must be validated against the service first: `mobigen-connect validate {} --config FILE` checks them, and a host records the result with the store's `record_validation`",
                    args.id
                ),
                _ => String::new(),
            };
            bail!("cannot {command} `{}`: {illegal}{hint}", args.id);
        }
        Err(other) => return Err(other.into()),
    };
    let versions = service.store().credential_versions(&updated.id)?;
    if args.json {
        print_json(&json!({
            "instance": instance_json(&updated, &versions),
            "previousStatus": record.status.as_str(),
        }))?;
    } else {
        let note = if on {
            ""
        } else {
            " Its credentials and code stay in place; `enable` switches it back on."
        };
        emit(&format!(
            "{} {verb} ({} -> {}).{note}\n",
            args.id, record.status, updated.status
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
