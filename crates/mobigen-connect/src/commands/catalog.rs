//! The catalogue commands: `list`, `search`, `show`, `check-config`.
//!
//! Their `--json` output is documented in the crate README and covered by tests; fields are only
//! ever added, never renamed or removed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mobigen_connectors::catalog::definition::{Category, Sensitivity};
use mobigen_connectors::catalog::summary;
use mobigen_connectors::{Connector, Registry};
use serde::Serialize;
use serde_json::Value;

use crate::CommandResult;
use crate::output::{emit, read_json};

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only this category (payments, auth, database, iap, push, analytics, storage, messaging,
    /// monitoring).
    #[arg(long, value_name = "C")]
    category: Option<Category>,
    /// Print JSON: {"connectors": [summary...]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SearchArgs {
    /// Words to look for.
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    /// Print JSON: {"query": ..., "results": [summary + score...]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// Connector id (see `list`).
    id: String,
    /// Print the whole definition as JSON (the manifest, config schema included).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckConfigArgs {
    /// Connector id (see `list`).
    id: String,
    /// JSON config file, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Print JSON: {"valid", "connector", "config" (secrets redacted), "features", "issues"}.
    #[arg(long)]
    json: bool,
}

/// Appends one formatted line to a `String` buffer.
macro_rules! out {
    ($buf:expr) => { $buf.push('\n') };
    ($buf:expr, $($arg:tt)*) => {{ $buf.push_str(&format!($($arg)*)); $buf.push('\n'); }};
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

fn label<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn table(connectors: &[&Connector]) -> String {
    let rows: Vec<[String; 5]> = connectors
        .iter()
        .map(|c| {
            let d = c.definition();
            [
                d.id.clone(),
                d.name.clone(),
                d.category.to_string(),
                label(&d.setup_difficulty),
                d.auth_types
                    .iter()
                    .map(label)
                    .collect::<Vec<_>>()
                    .join(", "),
            ]
        })
        .collect();
    let header = ["ID", "NAME", "CATEGORY", "SETUP", "AUTH"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut buf = String::new();
    let mut line = |cells: [&str; 5]| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        out!(buf, "{}", text.trim_end());
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    buf
}

pub(crate) fn list(registry: &Registry, args: &ListArgs) -> CommandResult {
    let connectors = registry.list(args.category);
    if args.json {
        print_json(&summary::list_json(registry, args.category))?;
    } else if connectors.is_empty() {
        emit("No connectors in this category.\n")?;
    } else {
        emit(&table(&connectors))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn search(registry: &Registry, args: &SearchArgs) -> CommandResult {
    let query = args.query.join(" ");
    let hits = registry.search(&query);
    if args.json {
        print_json(&summary::search_json(registry, &query))?;
    } else if hits.is_empty() {
        emit(&format!("No connector matches `{query}`.\n"))?;
    } else {
        let found: Vec<&Connector> = hits.iter().map(|h| h.connector).collect();
        emit(&table(&found))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn show(registry: &Registry, args: &ShowArgs) -> CommandResult {
    let connector = registry.lookup(&args.id)?;
    let def = connector.definition();
    if args.json {
        print_json(def)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut buf = String::new();
    out!(buf, "{} ({})", def.name, def.id);
    out!(buf, "{}", def.description);
    out!(buf);
    out!(buf, "Category:      {}", def.category);
    out!(buf, "Setup:         {}", label(&def.setup_difficulty));
    let auth: Vec<String> = def.auth_types.iter().map(label).collect();
    out!(buf, "Auth:          {}", auth.join(", "));
    out!(buf, "Capabilities:  {}", def.capabilities.join(", "));
    out!(buf, "Docs:          {}", def.docs_url);
    out!(buf, "Setup guide:   {}", def.setup_guide_url);
    out!(buf);
    out!(buf, "Config fields:");
    let required = required_pointers(&def.config_schema);
    for (pointer, field) in &def.fields {
        let sensitivity = match field.sensitivity {
            Sensitivity::Public => "public",
            Sensitivity::Secret => "secret",
        };
        let needed = if required.contains(pointer) {
            "required"
        } else {
            "optional"
        };
        let env = field
            .env
            .as_deref()
            .map(|e| format!("  -> {e}"))
            .unwrap_or_default();
        out!(buf, "  {pointer:<32} {sensitivity:<6}  {needed}{env}");
        if let Some(hint) = &field.hint {
            out!(buf, "      {hint}");
        }
    }
    if !def.features.is_empty() {
        out!(buf);
        out!(buf, "Features:");
        for f in &def.features {
            out!(buf, "  {:<16} {}", f.id, f.description);
        }
    }
    out!(buf);
    out!(buf, "Adds npm packages:");
    for d in &def.dependencies {
        let when = if d.when.is_empty() {
            String::new()
        } else {
            format!("  (with {})", d.when.join(" + "))
        };
        out!(buf, "  {}@{}{when}", d.package, d.default_range);
    }
    if !def.plugins.is_empty() {
        out!(buf, "Adds app.json plugins:");
        for p in &def.plugins {
            out!(buf, "  {}", p.name);
        }
    }
    if !def.templates.is_empty() {
        out!(buf, "Generates files:");
        for t in &def.templates {
            out!(buf, "  {}", t.target);
        }
    }
    if !def.supplied_files.is_empty() {
        out!(
            buf,
            "Takes supplied files (`add --supply ID=FILE`, or `--fetch ID` where noted):"
        );
        for f in &def.supplied_files {
            let fetch = if f.fetcher.is_some() {
                ", fetchable"
            } else {
                ""
            };
            out!(buf, "  {} -> {}{fetch}: {}", f.id, f.target, f.description);
        }
    }
    out!(buf);
    out!(
        buf,
        "Config schema: `mobigen-connect show {} --json` prints it.",
        def.id
    );
    emit(&buf)?;
    Ok(ExitCode::SUCCESS)
}

/// Pointers of required properties, following nested `properties`.
fn required_pointers(schema: &Value) -> Vec<String> {
    fn walk(schema: &Value, prefix: &str, out: &mut Vec<String>) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                let pointer = format!("{prefix}/{name}");
                if required.contains(&name.as_str()) {
                    out.push(pointer.clone());
                }
                walk(sub, &pointer, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out);
    out
}

pub(crate) fn check_config(registry: &Registry, args: &CheckConfigArgs) -> CommandResult {
    let connector = registry.lookup(&args.id)?;
    let config = read_json(&args.config)?;
    if args.json {
        let report = summary::config_report_json(connector, &config);
        print_json(&report)?;
        return Ok(if report["valid"] == true {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    match connector.validate_config(&config) {
        Ok(valid) => {
            let mut buf = String::new();
            out!(buf, "{} config is valid.", connector.definition().name);
            let features = connector.definition().enabled_features(valid.redacted());
            if !features.is_empty() {
                out!(buf, "Features on: {}", features.join(", "));
            }
            for warning in valid.warnings() {
                out!(buf, "{warning}");
            }
            emit(&buf)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let errors = error
                .issues
                .iter()
                .filter(|i| i.severity == mobigen_connectors::catalog::definition::Severity::Error)
                .count();
            eprintln!(
                "error: invalid config for connector `{}` ({errors} problem{})",
                error.connector,
                if errors == 1 { "" } else { "s" }
            );
            for issue in &error.issues {
                eprintln!("  {issue}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
