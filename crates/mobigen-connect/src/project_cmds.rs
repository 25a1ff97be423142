//! The project commands: `add`, `remove`, `status`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use mobigen_connectors::Registry;
use mobigen_connectors::definition::Sensitivity;
use mobigen_connectors::ops::{self, FileState, Mode};
use mobigen_connectors::plan::{Plan, PlanKind, PlanOptions};
use serde_json::{Value, json};

use crate::CommandResult;
use crate::catalog::{emit, read_json};

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Connector id (see `list`).
    id: String,
    /// The Expo project folder (holds package.json).
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
    /// JSON config file, or `-` for standard input. Secrets belong here, never in --set.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Set one public config value (`currency=eur`, `features.auth.enabled=true`); the value is
    /// JSON when it parses as JSON, a string otherwise. Refused for secret fields.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Print the changes as a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write no secret value to disk at all (not even .env.local).
    #[arg(long)]
    no_secret_env: bool,
    /// Overwrite generated files you edited, and files in the way.
    #[arg(long)]
    force: bool,
    /// Print JSON: {"connector", "kind", "dryRun", "codeChanges", "files", "manualSteps", "warnings"}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveArgs {
    /// Connector id.
    id: String,
    /// The Expo project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
    /// Print the changes as a unified diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete generated files even when you edited them.
    #[arg(long)]
    force: bool,
    /// Print JSON, as for `add`.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// The Expo project folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    project: PathBuf,
    /// Print JSON: {"connectors": [{id, name, features, files: [{path, state}], dependencies, env}], "rootFile", "problems"}.
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

fn plan_json(plan: &Plan, dry_run: bool) -> Value {
    let (added, modified, deleted) = plan.counts();
    let files: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            let action = match (&c.before, &c.after) {
                (None, _) => "create",
                (_, None) => "delete",
                _ => "update",
            };
            json!({"path": c.path, "action": action})
        })
        .collect();
    json!({
        "connector": plan.connector,
        "kind": plan.kind,
        "dryRun": dry_run,
        "codeChanges": {"filesAdded": added, "filesModified": modified, "filesDeleted": deleted},
        "files": files,
        "manualSteps": plan.manual_steps,
        "warnings": plan.warnings,
    })
}

fn report_plan(plan: &Plan, name: &str, dry_run: bool, json: bool) -> anyhow::Result<()> {
    if json {
        let mut text = serde_json::to_string_pretty(&plan_json(plan, dry_run))?;
        text.push('\n');
        return emit(&text);
    }
    let mut out = String::new();
    if dry_run {
        out.push_str(&plan.unified_diff(std::io::stdout().is_terminal()));
    }
    let (added, modified, deleted) = plan.counts();
    let verb = match (plan.kind, dry_run) {
        (PlanKind::UpToDate, _) => format!("{name} is already up to date; nothing to change."),
        (PlanKind::Remove, false) => format!("Removed {name}."),
        (PlanKind::Remove, true) => format!("Would remove {name}."),
        (PlanKind::Update, false) => format!("Updated {name}."),
        (PlanKind::Update, true) => format!("Would update {name}."),
        (PlanKind::Add, false) => format!("Added {name}."),
        (PlanKind::Add, true) => format!("Would add {name}."),
    };
    out.push_str(&verb);
    if plan.kind != PlanKind::UpToDate {
        out.push_str(&format!(
            " Files: {added} added, {modified} modified, {deleted} deleted{}.",
            if dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            }
        ));
    }
    out.push('\n');
    for warning in &plan.warnings {
        out.push_str(&format!("warning: {warning}\n"));
    }
    for step in &plan.manual_steps {
        out.push_str(&format!("manual step: {step}\n"));
    }
    emit(&out)
}

/// A progress line on stderr once a step is done ("Checking Stripe config... done"), for people
/// at a terminal.
fn done(quiet: bool, what: &str) {
    if !quiet {
        eprintln!("{what}... done");
    }
}

pub(crate) fn add(registry: &Registry, args: &AddArgs) -> CommandResult {
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
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    let plan = ops::add(registry, &args.project, &valid, options, mode)?;
    let verb = if args.dry_run { "Planning" } else { "Adding" };
    done(
        quiet,
        &format!("{verb} {name} in {}", args.project.display()),
    );
    report_plan(&plan, &name, args.dry_run, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn remove(registry: &Registry, args: &RemoveArgs) -> CommandResult {
    let name = registry
        .get(&args.id)
        .map_or_else(|| args.id.clone(), |c| c.definition().name.clone());
    let quiet = args.json || !std::io::stderr().is_terminal();
    let options = PlanOptions {
        write_secret_env: true,
        force: args.force,
    };
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    let plan = ops::remove(registry, &args.project, &args.id, options, mode)?;
    let verb = if args.dry_run {
        "Planning the removal of"
    } else {
        "Removing"
    };
    done(
        quiet,
        &format!("{verb} {name} in {}", args.project.display()),
    );
    report_plan(&plan, &name, args.dry_run, args.json)?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn status(registry: &Registry, args: &StatusArgs) -> CommandResult {
    let status = ops::status(registry, &args.project)?;
    if args.json {
        let mut text = serde_json::to_string_pretty(&status)?;
        text.push('\n');
        emit(&text)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    if status.connectors.is_empty() {
        out.push_str("No connector is enabled in this project.\n");
    }
    for c in &status.connectors {
        out.push_str(&format!("{} ({})\n", c.name, c.id));
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
