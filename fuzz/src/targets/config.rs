//! Config validation on arbitrary and mutated configs, per connector: an error listing issues
//! or a `ValidConfig`, never a panic, no error message echoing a config value, secrets redacted.
//! A valid config is planned onto the sample app: written files parse (I1), adding again plans
//! nothing (I2), removing restores every byte (I3), and no secret value reaches any file but
//! `.env.local` (I6).
//!
//! Input: one selector byte (`s % 5`: the connector), then the config's JSON bytes.

use mobigen_connectors::project::plan::{self, PlanKind, PlanOptions};
use serde_json::Value;

use crate::fixtures::{CONNECTORS, apply, read_tree, registry, sample_app, snapshot};

/// Every string in `value` (keys excluded).
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// Every object key in `value`.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        _ => {}
    }
}

/// Inputs that reached the invariant checks.
pub static ACCEPTED: crate::Accepted = crate::Accepted::new();

/// Runs one input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let Ok(config) = serde_json::from_slice::<Value>(text) else {
        return;
    };
    let id = CONNECTORS[usize::from(selector) % CONNECTORS.len()];
    let registry = registry();
    let connector = registry.lookup(id).expect("built-in");
    let manifest = serde_json::to_string(connector.definition()).unwrap_or_default();
    let valid = match connector.validate_config(&config) {
        Ok(valid) => valid,
        Err(error) => {
            // No value of the config in the message (unless the manifest itself says it).
            let message = format!("{error}\n{error:?}");
            // Keys may be named (`unknown field ...`): values that are part of a key are skipped.
            let (mut values, mut names) = (Vec::new(), Vec::new());
            strings(&config, &mut values);
            keys(&config, &mut names);
            for value in values {
                // Compared without surrounding blanks: ` development` is the manifest's own
                // `development` after a space (found by libFuzzer).
                let core = value.trim();
                if core.len() >= 12
                    && !manifest.contains(core)
                    && !names.iter().any(|k| k.contains(core))
                {
                    assert!(
                        !message.contains(core),
                        "{id}: an error message shows a config value `{value}`:\n{message}"
                    );
                }
            }
            return;
        }
    };
    ACCEPTED.count();
    let redacted = valid.redacted();
    let debug = format!("{valid:?}");
    let mut secrets = Vec::new();
    for pointer in valid.secret_pointers() {
        if let Some(value) = valid.values().pointer(pointer) {
            assert!(
                redacted.pointer(pointer).is_none_or(|v| v == "[redacted]"),
                "{id}{pointer}: a secret is not redacted"
            );
            strings(value, &mut secrets);
        }
    }
    let mut public = Vec::new();
    strings(&redacted, &mut public);
    // Secrets long enough not to occur by chance, and not also a public value or manifest text.
    secrets.retain(|s| {
        s.len() >= 16
            && !manifest.contains(s.as_str())
            && !public.iter().any(|p| p.contains(s.as_str()))
    });
    for secret in &secrets {
        assert!(
            !debug.contains(secret.as_str()),
            "{id}: Debug shows a secret"
        );
    }

    let start = sample_app();
    let Ok(added) = plan::plan_add(registry, &snapshot(start), &valid, PlanOptions::default())
    else {
        return;
    };
    let with = apply(start, &added);
    crate::check::written_files_parse(start, &with, id);
    for (path, bytes) in &with {
        if path == ".env.local" || start.get(path) == Some(bytes) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{id}: I6 broken: a secret value in {path}"
            );
        }
    }
    let again = plan::plan_add(registry, &snapshot(&with), &valid, PlanOptions::default())
        .unwrap_or_else(|e| panic!("{id}: I2 broken: adding again fails: {e}"));
    assert!(
        again.kind == PlanKind::UpToDate && again.changes.is_empty(),
        "{id}: I2 broken: adding again changes {:?}",
        again.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
    );
    let removed = plan::plan_remove(registry, &snapshot(&with), id, PlanOptions::default())
        .unwrap_or_else(|e| panic!("{id}: I3 broken: remove fails: {e}"));
    let back = apply(&with, &removed);
    assert!(
        &back == start,
        "{id}: I3 broken: files differ after remove: {:?}",
        crate::check::differences(start, &back)
    );
}

/// Seeds: the fixture configs (full and minimal) and the sample configs, per connector.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (path, bytes) in read_tree("tests/fixtures/configs")
        .into_iter()
        .chain(read_tree("examples/sample-configs"))
    {
        let name = path.rsplit('/').next().unwrap_or(&path);
        if let Some(index) = CONNECTORS.iter().position(|id| name.starts_with(id)) {
            let mut input = vec![u8::try_from(index).unwrap_or(0)];
            input.extend(bytes);
            out.push(input);
        }
    }
    out
}
