//! The vault's own commands: `keys list`, `keys rotate`, `keys rewrap`, and `audit`.

use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use mobigen_connectors::clock::{Clock, DAY, SystemClock};
use mobigen_connectors::secrets::vault::{DEFAULT_KEY_MAX_AGE, KeyProvider, keys_due_for_rotation};
use mobigen_connectors::store::{AuditEntry, ChainBreak, CiphertextSlot, Store};
use serde_json::{Value, json};

use crate::CommandResult;
use crate::output::emit;
use crate::store_access::{Access, StoreLocation, actor};

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// List the vault's key-encryption keys: id, active, created, retired, and whether the 90-day
    /// policy flags them for rotation.
    List(KeysListArgs),
    /// Make a fresh key the active one (new records are wrapped under it); older keys keep
    /// decrypting. Run `keys rewrap` next to move stored records to it.
    Rotate(JsonArg),
    /// Re-wrap every stored record's data key under the active key (the encrypted credentials
    /// themselves are not re-encrypted).
    Rewrap(JsonArg),
}

#[derive(Debug, Args)]
pub(crate) struct KeysListArgs {
    /// Print JSON: {"keyring", "maxAgeDays", "keys": [{id, active, createdAt, retiredAt, ageDays,
    /// dueForRotation}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct JsonArg {
    /// Print JSON. `keys rotate`: {"keyId", "previousKeyId"}. `keys rewrap`: {"keyId",
    /// "examined", "rewrapped", "failed": [{instanceId, version, error}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Check the keyed hash chain (HMAC under the keyring's audit key) and the head the keyring
    /// anchors; report the first edited, deleted or relinked entry, or entries cut off the end
    /// (exit 1 then). Needs the keyring.
    #[arg(long)]
    verify: bool,
    /// Show only the newest N entries.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Print JSON: {"entries": [{seq, at, actor, action, instanceId, keyId, detail, hash}]};
    /// with --verify: {"intact", "entries", "legacyEntries", "anchoredSeq", "head", "problem":
    /// {seq, kind, message} or null}.
    #[arg(long)]
    json: bool,
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    emit(&text)
}

pub(crate) fn keys(location: &StoreLocation, command: &KeysCommand) -> CommandResult {
    match command {
        KeysCommand::List(args) => list(location, args.json),
        KeysCommand::Rotate(args) => rotate(location, args.json),
        KeysCommand::Rewrap(args) => rewrap(location, args.json),
    }
}

fn list(location: &StoreLocation, json: bool) -> CommandResult {
    let keyring = location.open_keyring(Access::Existing)?;
    let now = SystemClock.now();
    let due = keys_due_for_rotation(&keyring.keys(), now, DEFAULT_KEY_MAX_AGE);
    let max_age_days = DEFAULT_KEY_MAX_AGE.as_secs() / DAY.as_secs();
    let source = keyring.source();
    let rows: Vec<Value> = keyring
        .keys()
        .iter()
        .map(|k| {
            json!({
                "id": k.id.as_str(),
                "active": k.active,
                "createdAt": k.created_at.map(|t| t.to_string()),
                "retiredAt": k.retired_at.map(|t| t.to_string()),
                "ageDays": k.created_at.map(|t| now.since(t).as_secs() / DAY.as_secs()),
                "dueForRotation": due.iter().any(|d| d.key_id == k.id),
            })
        })
        .collect();
    if json {
        print_json(&json!({"keyring": source, "maxAgeDays": max_age_days, "keys": rows}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = format!("Keyring: {source}\n");
    for row in &rows {
        let mut flags = Vec::new();
        if row["active"] == true {
            flags.push("active".to_string());
        }
        if let Some(retired) = row["retiredAt"].as_str() {
            flags.push(format!("retired {retired}"));
        }
        if row["dueForRotation"] == true {
            flags.push(format!("older than {max_age_days} days: rotate"));
        }
        out.push_str(&format!(
            "  {}  created {}{}\n",
            row["id"].as_str().unwrap_or_default(),
            row["createdAt"].as_str().unwrap_or("unknown"),
            if flags.is_empty() {
                String::new()
            } else {
                format!("  ({})", flags.join(", "))
            }
        ));
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn rotate(location: &StoreLocation, json: bool) -> CommandResult {
    let mut service = location.open_service(Access::Create)?;
    let previous = service.vault().provider().active_key_id()?;
    let key_id = service.rotate_key(&actor())?;
    if json {
        print_json(&json!({"keyId": key_id.as_str(), "previousKeyId": previous.as_str()}))?;
    } else {
        emit(&format!(
            "Key {key_id} is now active (replacing {previous}); records under older keys keep decrypting.\nRun `mobigen-connect keys rewrap` to move them to the new key.\n"
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn rewrap(location: &StoreLocation, json: bool) -> CommandResult {
    let mut service = location.open_service(Access::Existing)?;
    let report = service.rewrap_all(&actor())?;
    let failed: Vec<Value> = report
        .failed
        .iter()
        .map(|f| {
            let version = match &f.slot {
                CiphertextSlot::Current { .. } => None,
                CiphertextSlot::Version { version, .. } => Some(*version),
            };
            json!({"instanceId": f.slot.instance_id(), "version": version, "error": f.error})
        })
        .collect();
    if json {
        print_json(&json!({
            "keyId": report.key_id.as_str(),
            "examined": report.examined,
            "rewrapped": report.rewrapped,
            "failed": failed,
        }))?;
    } else {
        let mut out = format!(
            "Re-wrapped {} of {} record(s) under key {}.\n",
            report.rewrapped, report.examined, report.key_id
        );
        for f in &report.failed {
            out.push_str(&format!(
                "  failed: instance {}: {}\n",
                f.slot.instance_id(),
                f.error
            ));
        }
        emit(&out)?;
    }
    if report.failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "error: {} record(s) could not be re-wrapped; they stay under their old key",
            report.failed.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

fn entry_json(entry: &AuditEntry) -> Value {
    let e = &entry.event;
    json!({
        "seq": entry.seq,
        "at": e.at.to_string(),
        "actor": e.actor,
        "action": e.action.as_str(),
        "instanceId": e.instance_id,
        "keyId": e.key_id.as_ref().map(|k| k.as_str()),
        "detail": e.detail,
        "hash": entry.hash,
    })
}

pub(crate) fn audit(location: &StoreLocation, args: &AuditArgs) -> CommandResult {
    let mut store = location.open_store()?;
    if args.verify {
        // The chain is keyed: its MACs and its anchored head live with the keyring.
        let keyring = location.open_keyring(Access::Existing)?;
        store.set_audit_seal(
            keyring
                .audit_seal()
                .context("cannot read the audit key from the vault keyring")?,
        );
        let report = store.verify_audit()?;
        let problem = report.first_problem.map(|p| {
            let kind = match p.kind {
                ChainBreak::Missing => "missing",
                ChainBreak::Edited => "edited",
                ChainBreak::BrokenLink => "broken-link",
                ChainBreak::Truncated => "truncated",
                ChainBreak::HeadMismatch => "head-mismatch",
                ChainBreak::NotAnchored => "not-anchored",
                _ => "other",
            };
            json!({"seq": p.seq, "kind": kind, "message": p.to_string()})
        });
        if args.json {
            print_json(&json!({
                "intact": report.is_intact(),
                "entries": report.entries,
                "legacyEntries": report.legacy_entries,
                "anchoredSeq": report.anchored_seq,
                "head": report.head,
                "problem": problem,
            }))?;
        }
        return match report.first_problem {
            None => {
                if !args.json {
                    let mut out = format!(
                        "Audit log intact: {} entries; head {}.\n",
                        report.entries,
                        report.head.as_deref().unwrap_or("(empty)")
                    );
                    match report.anchored_seq {
                        Some(seq) => out.push_str(&format!(
                            "The keyring anchors entry {seq} as the last one appended: nothing was cut off the end.\n"
                        )),
                        None if report.entries > 0 => out.push_str(
                            "The head is not anchored (keys from the environment): entries cut off the end cannot be detected.\n",
                        ),
                        None => {}
                    }
                    if report.legacy_entries > 0 {
                        out.push_str(&format!(
                            "{} entries predate the keyed chain (verified with their unkeyed hash).\n",
                            report.legacy_entries
                        ));
                    }
                    emit(&out)?;
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(p) if args.json => {
                eprintln!("error: the audit log was tampered with: {p}");
                Ok(ExitCode::FAILURE)
            }
            Some(p) => bail!(
                "the audit log was tampered with: {p}\nentries before {} are intact; keep a copy of the store for investigation",
                p.seq
            ),
        };
    }
    let entries = store.audit_entries(None, args.limit)?;
    if args.json {
        let rows: Vec<Value> = entries.iter().map(entry_json).collect();
        print_json(&json!({"entries": rows}))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    if entries.is_empty() {
        out.push_str("The audit log is empty.\n");
    }
    for entry in &entries {
        let e = &entry.event;
        out.push_str(&format!(
            "{:>5}  {}  {:<18}  {}{}{}  {}\n",
            entry.seq,
            e.at,
            e.action.as_str(),
            e.actor,
            e.instance_id
                .as_deref()
                .map(|i| format!("  instance {i}"))
                .unwrap_or_default(),
            e.key_id
                .as_ref()
                .map(|k| format!("  key {k}"))
                .unwrap_or_default(),
            e.detail
        ));
    }
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}
