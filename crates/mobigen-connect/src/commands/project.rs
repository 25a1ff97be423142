//! The project commands: `add`, `remove`, `status`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use mobigen_connectors::catalog::connector::Connector;
use mobigen_connectors::catalog::definition::Sensitivity;
use mobigen_connectors::clock::{Clock as _, SystemClock};
use mobigen_connectors::host::protocol::{
    AddRequest, IfStored, ProtocolError, StoredProject, instance_json,
};
use mobigen_connectors::project::ops::{self, FileState, Mode};
use mobigen_connectors::project::plan::{Plan, PlanOptions};
use mobigen_connectors::store::Store as _;
use mobigen_connectors::{Registry, ValidConfig};
use serde_json::{Value, json};

use crate::CommandResult;
use crate::commands::credentials;
use crate::output::{emit, read_json, report_plan};
use crate::store_access::{Access, ProjectArgs, StoreLocation, actor};

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Connector id (see `list`).
    id: String,
    #[command(flatten)]
    project: ProjectArgs,
    /// JSON config file, or `-` for standard input. Secrets belong here, never in --set.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one public config value (`currency=eur`, `features.auth.enabled=true`); the value is
    /// JSON when it parses as JSON, a string otherwise. Refused for secret fields.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print the changes as a unified diff and write nothing (neither the project nor the store).
    #[arg(long)]
    dry_run: bool,
    /// Write no secret value to disk at all (not even .env.local).
    #[arg(long)]
    no_secret_env: bool,
    /// Overwrite generated files you edited, and files in the way.
    #[arg(long)]
    force: bool,
    /// Use FILE as the body of the connector's supplied file ID (Supabase: `databaseTypes=
    /// database.types.ts`, the output of `supabase gen types typescript`). See `show ID`.
    #[arg(long = "supply", value_name = "ID=FILE")]
    supply: Vec<String>,
    /// Fetch the connector's supplied file ID from the live service (network; Supabase:
    /// `databaseTypes`, with managementToken or serviceRoleKey in the config).
    #[arg(long = "fetch", value_name = "ID")]
    fetch: Vec<String>,
    /// Print JSON: {"connector", "kind", "dryRun", "codeChanges", "files", "manualSteps",
    /// "warnings", "store": {action, instanceId, projectId, status, credentialsVersion, keyId} or
    /// null on a dry run}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveArgs {
    /// Connector id.
    id: String,
    #[command(flatten)]
    project: ProjectArgs,
    /// Print the changes as a unified diff and write nothing (neither the project nor the store).
    #[arg(long)]
    dry_run: bool,
    /// Delete generated files even when you edited them.
    #[arg(long)]
    force: bool,
    /// Print JSON, as for `add` ("store": {action: "removed", instanceId, ...} or null).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    project: ProjectArgs,
    /// Print JSON: {"connectors": [{id, name, features, files: [{path, state}], dependencies,
    /// env, store}], "rootFile", "problems"}; `store` is the stored instance as `credentials
    /// show --json` prints it (status, versions, activity), or null.
    #[arg(long)]
    json: bool,
}

/// Applies `--set key=value` to `config`. A key is a JSON pointer (`/apiKey/ios`) or a dotted
/// path (`apiKey.ios`).
fn apply_sets(
    registry: &Registry,
    id: &str,
    config: &mut Value,
    sets: &[String],
) -> anyhow::Result<()> {
    let def = registry.lookup(id)?.definition();
    for set in sets {
        let (key, raw) = set
            .split_once('=')
            .with_context(|| format!("--set `{set}`: expected KEY=VALUE"))?;
        let pointer = if key.starts_with('/') {
            key.to_string()
        } else {
            format!("/{}", key.replace('.', "/"))
        };
        if def
            .fields
            .get(&pointer)
            .is_some_and(|f| f.sensitivity == Sensitivity::Secret)
        {
            bail!(
                "--set {key}=...: `{pointer}` is a secret field, and secrets must not travel on the command line (process lists and shell history show them); put it in a file for --config FILE, or pipe it with --config -"
            );
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
        let mut node = &mut *config;
        let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
        for (i, token) in tokens.iter().enumerate() {
            let object = node
                .as_object_mut()
                .with_context(|| format!("--set {key}: a value on the way is not an object"))?;
            if i + 1 == tokens.len() {
                object.insert((*token).to_string(), value.clone());
                break;
            }
            node = object
                .entry((*token).to_string())
                .or_insert_with(|| json!({}));
        }
    }
    Ok(())
}

/// A progress line on stderr once a step is done ("Checking Stripe config... done"), for people
/// at a terminal.
fn done(quiet: bool, what: &str) {
    if !quiet {
        eprintln!("{what}... done");
    }
}

/// Prints the result of `add` or `remove`: the plan, and what happened in the store.
fn report_with_store(
    plan: &Plan,
    name: &str,
    dry_run: bool,
    json: bool,
    store: Option<(Value, String)>,
) -> anyhow::Result<()> {
    if json {
        let mut value = plan.summary_json(dry_run);
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "store".into(),
                store.as_ref().map_or(Value::Null, |(v, _)| v.clone()),
            );
        }
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        return emit(&text);
    }
    report_plan(plan, name, dry_run, false)?;
    match store {
        Some((_, line)) => emit(&line),
        None => Ok(()),
    }
}

/// `add`: validates the config, then (see [`credentials`] for the order) stores it and
/// injects the code. A dry run touches neither the project nor the store.
pub(crate) fn add(registry: &Registry, location: &StoreLocation, args: &AddArgs) -> CommandResult {
    let connector = registry.lookup(&args.id)?;
    let name = connector.definition().name.clone();
    let quiet = args.json || !std::io::stderr().is_terminal();
    let mut config = match &args.config {
        Some(path) => read_json(path)?,
        None => json!({}),
    };
    apply_sets(registry, &args.id, &mut config, &args.set)?;
    let valid = connector.validate_config(&config)?;
    done(quiet, &format!("Checking {name} config"));
    let options = PlanOptions {
        write_secret_env: !args.no_secret_env,
        force: args.force,
    };
    let supplied = supplied_bodies(connector, &valid, &args.supply, &args.fetch)?;
    if !args.fetch.is_empty() {
        done(quiet, &format!("Fetching {}", args.fetch.join(", ")));
    }
    let dir = &args.project.project;
    let planned = ops::add_supplied(registry, dir, &valid, options, Mode::DryRun, &supplied)?;
    if args.dry_run {
        done(quiet, &format!("Planning {name} in {}", dir.display()));
        report_with_store(&planned, &name, true, args.json, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let project_id = args.project.id()?;
    let mut service = location.open_service(Access::Create)?;
    let actor = actor();
    let request = AddRequest {
        config: valid,
        options,
        supplied,
        mode: Mode::Apply,
        if_stored: IfStored::Update,
    };
    let outcome =
        StoredProject::new(registry, &mut service, dir, &project_id, &actor).add(&request)?;
    done(quiet, &format!("Storing {name} config (secrets encrypted)"));
    done(quiet, &format!("Adding {name} in {}", dir.display()));
    let store = outcome
        .store
        .as_ref()
        .map(|write| (write.to_json(), credentials::store_line(write)));
    report_with_store(&outcome.plan, &name, false, args.json, store)?;
    Ok(ExitCode::SUCCESS)
}

/// The bodies of supplied files from `--supply ID=FILE` and `--fetch ID`.
fn supplied_bodies(
    connector: &Connector,
    valid: &ValidConfig,
    supply: &[String],
    fetch: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut bodies = BTreeMap::new();
    for item in supply {
        let (id, path) = item
            .split_once('=')
            .with_context(|| format!("--supply `{item}`: expected ID=FILE"))?;
        let body = std::fs::read_to_string(path)
            .with_context(|| format!("--supply {id}: cannot read `{path}`"))?;
        if bodies.insert(id.to_string(), body).is_some() {
            bail!("--supply {id} is given twice");
        }
    }
    for id in fetch {
        if bodies.contains_key(id) {
            bail!("{id} is given both with --supply and with --fetch");
        }
        let body = crate::commands::net::fetch_supplied(connector, id, valid)?;
        bodies.insert(id.clone(), body);
    }
    Ok(bodies)
}

/// `remove`: removes the code first (transactional), then deletes the stored credentials. A
/// connector the store does not allow to be removed (an `active` one) is refused before any file
/// is touched. If deleting the credentials fails after the code is gone, the error says so, and
/// running `remove` again finishes the job (the code step is skipped then).
pub(crate) fn remove(
    registry: &Registry,
    location: &StoreLocation,
    args: &RemoveArgs,
) -> CommandResult {
    let name = registry
        .get(&args.id)
        .map_or_else(|| args.id.clone(), |c| c.definition().name.clone());
    let quiet = args.json || !std::io::stderr().is_terminal();
    let options = PlanOptions {
        write_secret_env: true,
        force: args.force,
    };
    let dir = &args.project.project;
    if args.dry_run {
        let plan = ops::remove(registry, dir, &args.id, options, Mode::DryRun)?;
        done(
            quiet,
            &format!("Planning the removal of {name} in {}", dir.display()),
        );
        report_with_store(&plan, &name, true, args.json, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !location.may_hold_anything() {
        // Nothing was ever stored: only the code goes.
        let plan = ops::remove(registry, dir, &args.id, options, Mode::Apply)?;
        done(quiet, &format!("Removing {name} in {}", dir.display()));
        report_with_store(&plan, &name, false, args.json, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut service = location.open_service(Access::Existing)?;
    let (project_id, actor) = (args.project.id()?, actor());
    let outcome = StoredProject::new(registry, &mut service, dir, &project_id, &actor)
        .remove(&args.id, options, Mode::Apply, false)
        .map_err(|e| match e {
            ProtocolError::MustDisableFirst { .. } => anyhow::anyhow!(
                "{e}\nrun `mobigen-connect disable {} --project {}` first",
                args.id,
                dir.display()
            ),
            other => other.into(),
        })?;
    if outcome.plan.is_some() {
        done(quiet, &format!("Removing {name} in {}", dir.display()));
    }
    let line = outcome.removed.as_ref().map(|removed| {
        format!(
            "Deleted the stored credentials of instance {} (every version).\n",
            removed.id
        )
    });
    if args.json {
        let mut text = serde_json::to_string_pretty(&outcome.to_json(&args.id, false))?;
        text.push('\n');
        emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    match &outcome.plan {
        Some(plan) => {
            report_plan(plan, &name, false, false)?;
            if let Some(line) = line {
                emit(&line)?;
            }
        }
        // Only the store still had the connector (an earlier removal stopped half-way).
        None => emit(&format!(
            "{name} was no longer in the project's code. {}",
            line.unwrap_or_default()
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn status(
    registry: &Registry,
    location: &StoreLocation,
    args: &StatusArgs,
) -> CommandResult {
    let dir = &args.project.project;
    let status = ops::status(registry, dir)?;
    // The store's side of each connector: its lifecycle status and activity.
    let mut stored: Vec<Option<Value>> = vec![None; status.connectors.len()];
    if !status.connectors.is_empty() && location.may_hold_anything() {
        let store = location.open_store()?;
        let project_id = args.project.id()?;
        let now = SystemClock.now();
        for (slot, c) in stored.iter_mut().zip(&status.connectors) {
            if let Some(record) = store.find_instance(&project_id, &c.id)? {
                *slot = Some(instance_json(&store, &record, now)?);
            }
        }
    }
    if args.json {
        let mut value = serde_json::to_value(&status)?;
        if let Some(connectors) = value["connectors"].as_array_mut() {
            for (c, instance) in connectors.iter_mut().zip(&stored) {
                c["store"] = instance.clone().unwrap_or(Value::Null);
            }
        }
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    if status.connectors.is_empty() {
        out.push_str("No connector is enabled in this project.\n");
    }
    for (c, instance) in status.connectors.iter().zip(&stored) {
        out.push_str(&format!("{} ({})\n", c.name, c.id));
        match instance {
            Some(instance) => out.push_str(&store_lines(instance)),
            None => out.push_str("  store: no stored instance\n"),
        }
        if !c.features.is_empty() {
            out.push_str(&format!("  features: {}\n", c.features.join(", ")));
        }
        if !c.dependencies.is_empty() {
            out.push_str(&format!("  packages: {}\n", c.dependencies.join(", ")));
        }
        if !c.env.is_empty() {
            out.push_str(&format!("  env: {}\n", c.env.join(", ")));
        }
        for f in &c.files {
            let state = match f.state {
                FileState::Unchanged => "",
                FileState::Modified => "  (edited)",
                FileState::Missing => "  (missing)",
            };
            out.push_str(&format!("  {}{state}\n", f.path));
        }
    }
    if let Some(root) = &status.root_file {
        out.push_str(&format!("Root file: {root}\n"));
    }
    if status.problems.is_empty() {
        if !status.connectors.is_empty() {
            out.push_str("No drift: every file is as generated.\n");
        }
    } else {
        out.push_str("Problems:\n");
        for p in &status.problems {
            out.push_str(&format!("  {p}\n"));
        }
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The store lines of a connector in `status`: lifecycle, last use, today's figures, last error.
fn store_lines(instance: &Value) -> String {
    let activity = &instance["activity"];
    let text = |v: &Value| v.as_str().unwrap_or("never").to_string();
    let mut out = format!(
        "  store: {}, credentials version {}\n  last used: {}; today: {} API calls, {} credential reads, {} errors\n",
        text(&instance["status"]),
        instance["credentialsVersion"],
        text(&activity["lastUsedAt"]),
        activity["apiCallsToday"],
        activity["credentialReadsToday"],
        activity["errorsToday"],
    );
    if let Some(error) = activity["lastError"].as_object() {
        out.push_str(&format!(
            "  last error ({}, {}): {}\n",
            error.get("kind").and_then(Value::as_str).unwrap_or("?"),
            error.get("at").and_then(Value::as_str).unwrap_or("?"),
            error.get("message").and_then(Value::as_str).unwrap_or(""),
        ));
    }
    out
}
