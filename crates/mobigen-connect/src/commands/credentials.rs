//! The stored side of a connector: the commands `credentials rotate`, `credentials show`,
//! `enable`, `disable`.
//!
//! Store and project are kept in step by the library's protocol
//! (`mobigen_connectors::host::protocol`): under the project lock it plans, writes the store,
//! applies, and undoes the store write when applying fails. The CLI only reads arguments and
//! prints.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mobigen_connectors::clock::{Clock as _, SystemClock};
use mobigen_connectors::host::protocol::{
    ConfigChange, ProtocolError, StoreWrite, StoredProject, instance_json,
};
use mobigen_connectors::project::ops::Mode;
use mobigen_connectors::project::plan::PlanOptions;
use mobigen_connectors::store::{InstanceRecord, Status, Store, StoreError};
use mobigen_connectors::{Registry, ValidConfig};
use serde_json::{Value, json};

use crate::CommandResult;
use crate::output::report_plan;
use crate::output::{emit, read_json};
use crate::store_access::{Access, ProjectArgs, StoreLocation, actor};

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
        _ => format!(
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
pub(crate) fn live_instance(
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
    let valid: ValidConfig = connector.validate_config(&config)?;
    let options = PlanOptions {
        write_secret_env: !args.no_secret_env,
        force: args.force,
    };
    let mut service = location.open_service(Access::Existing)?;
    let existing = live_instance(service.store(), &args.project, &args.id)?;
    let (project_id, actor) = (args.project.id()?, actor());
    let outcome = StoredProject::new(
        registry,
        &mut service,
        &args.project.project,
        &project_id,
        &actor,
    )
    .update(&args.id, ConfigChange::Replace(valid), options, Mode::Apply)
    .map_err(|e| match e {
        ProtocolError::NotInProject { .. } => anyhow::anyhow!(
            "connector `{}` is not in project {}: use `mobigen-connect add` to add it",
            args.id,
            args.project.project.display()
        ),
        other => other.into(),
    })?;
    let plan = &outcome.plan;
    let write = outcome
        .store
        .as_ref()
        .context("the update stored nothing")?;
    let record = write.record();
    let versions = service.store().credential_versions(&record.id)?;
    let previous = versions
        .iter()
        .find(|v| v.version == existing.credentials_version);
    if args.json {
        print_json(&json!({
            "instance": instance_json(service.store(), record, SystemClock.now())?,
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
        report_plan(plan, name, false, false)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn show(location: &StoreLocation, args: &ShowArgs) -> CommandResult {
    let store = location.open_store()?;
    let record = live_instance(&store, &args.project, &args.id)?;
    let versions = store.credential_versions(&record.id)?;
    if args.json {
        let instance = instance_json(&store, &record, SystemClock.now())?;
        print_json(&json!({ "instance": instance }))?;
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
pub(crate) fn switch(
    registry: &Registry,
    location: &StoreLocation,
    args: &SwitchArgs,
    on: bool,
) -> CommandResult {
    let mut service = location.open_service(Access::Existing)?;
    let record = live_instance(service.store(), &args.project, &args.id)?;
    let (verb, command) = if on {
        ("enabled", "enable")
    } else {
        ("disabled", "disable")
    };
    let (project_id, actor) = (args.project.id()?, actor());
    let result = StoredProject::new(
        registry,
        &mut service,
        &args.project.project,
        &project_id,
        &actor,
    )
    .set_enabled(&args.id, on);
    let updated = match result {
        Ok(switched) => switched.record,
        Err(ProtocolError::AlreadyInStatus { .. }) => {
            bail!("connector `{}` is already {verb}", args.id)
        }
        Err(ProtocolError::Store(StoreError::IllegalTransition(illegal))) => {
            let hint = match record.status {
                Status::Configured | Status::Error => format!(
                    "\nits credentials must be validated against the service first: `mobigen-connect validate {} --stored` checks the stored ones and records the result",
                    args.id
                ),
                _ => String::new(),
            };
            bail!("cannot {command} `{}`: {illegal}{hint}", args.id);
        }
        Err(other) => return Err(other.into()),
    };
    if args.json {
        print_json(&json!({
            "instance": instance_json(service.store(), &updated, SystemClock.now())?,
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
