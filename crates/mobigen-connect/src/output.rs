//! What every command shares for input and output: standard output that tolerates a closed
//! pipe, JSON documents from a file or standard input, and the report of a planned change.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use anyhow::Context;
use mobigen_connectors::project::plan::{Plan, PlanKind};
use serde_json::Value;

/// Writes `text` to standard output. A closed pipe (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Reads a JSON document from a file or, for `-`, standard input.
pub(crate) fn read_json(path: &Path) -> anyhow::Result<Value> {
    let (name, text) = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the config from standard input")?;
        ("<stdin>".to_string(), text)
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        (path.display().to_string(), text)
    };
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{name}:{}:{}: not valid JSON: {}",
            e.line(),
            e.column(),
            // serde_json's message ends with " at line L column C"; the position is already given.
            e.to_string()
                .rsplit_once(" at line ")
                .map_or(e.to_string(), |(msg, _)| msg.to_string())
        )
    })
}

/// Prints a planned (or applied) change: JSON with `json`, else a summary, warnings and manual
/// steps (and with `dry_run` the diff first).
pub(crate) fn report_plan(
    plan: &Plan,
    name: &str,
    dry_run: bool,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        let mut text = serde_json::to_string_pretty(&plan.summary_json(dry_run))?;
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
