//! Loading connector manifests from a folder (`Registry::load_dir`) on arbitrary and mutated
//! manifest text: checked against the meta-schema and the rules, a clear error or a connector,
//! never a panic. A manifest that loads is then used: its id searched, the sample config of the
//! same id (and `{}`) validated, and a valid config planned onto the sample app, whose written
//! files must parse (I1) and come out again on removal (I3).
//!
//! Input: one selector byte (`s % 5`: whose folder, and so whose templates, the manifest is
//! written into), then the manifest's bytes.

use std::cell::RefCell;
use std::path::PathBuf;

use mobigen_connectors::Registry;
use mobigen_connectors::project::plan::{self, PlanOptions};
use serde_json::{Value, json};

use crate::check::{differences, written_files_parse};
use crate::fixtures::{
    CONNECTORS, apply, read, read_json, read_tree, repo_root, sample_app, snapshot,
};

thread_local! {
    /// A temporary folder per thread: `set-N/ID/` holds connector ID's templates.
    static WORK: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

fn set_folder(index: usize) -> PathBuf {
    WORK.with(|work| {
        let mut work = work.borrow_mut();
        let dir = work.get_or_insert_with(|| {
            let dir = tempfile::Builder::new()
                .prefix("mobigen-fuzz-manifest-")
                .tempdir()
                .expect("a temporary folder");
            for (i, id) in CONNECTORS.iter().enumerate() {
                let prefix = format!("connectors/{id}/");
                for (path, bytes) in read_tree(&format!("connectors/{id}")) {
                    let rel = path.strip_prefix(&prefix).unwrap_or(&path);
                    let target = dir.path().join(format!("set-{i}/{id}/{rel}"));
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent).expect("mkdir");
                    }
                    std::fs::write(target, bytes).expect("write a template");
                }
            }
            dir
        });
        dir.path().join(format!("set-{index}"))
    })
}

/// Inputs that reached the invariant checks.
pub static ACCEPTED: crate::Accepted = crate::Accepted::new();

/// Runs one input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let Some((&selector, manifest)) = data.split_first() else {
        return;
    };
    let index = usize::from(selector) % CONNECTORS.len();
    let set = set_folder(index);
    std::fs::write(set.join(CONNECTORS[index]).join("manifest.json"), manifest)
        .expect("write the manifest");
    let mut registry = Registry::empty();
    let Ok(ids) = registry.load_dir(&set) else {
        return;
    };
    ACCEPTED.count();
    for id in ids {
        let connector = registry.lookup(&id).expect("a loaded id looks up");
        let _ = registry.search(&id);
        let _ = registry.search(&connector.definition().name);
        let sample = repo_root().join(format!("examples/sample-configs/{id}.json"));
        let mut configs = vec![json!({})];
        if sample.is_file() {
            configs.push(read_json(&format!("examples/sample-configs/{id}.json")));
        }
        for config in configs {
            let Ok(valid) = connector.validate_config(&config) else {
                continue;
            };
            plan_round_trip(&registry, &valid);
        }
    }
}

/// A valid config of a loaded connector on the sample app: I1 and I3.
pub(crate) fn plan_round_trip(registry: &Registry, valid: &mobigen_connectors::ValidConfig) {
    let start = sample_app();
    let Ok(added) = plan::plan_add(registry, &snapshot(start), valid, PlanOptions::default())
    else {
        return;
    };
    let with = apply(start, &added);
    let context = format!("connector {}", valid.connector_id());
    written_files_parse(start, &with, &context);
    let removed = plan::plan_remove(
        registry,
        &snapshot(&with),
        valid.connector_id(),
        PlanOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{context}: I3 broken: remove fails: {e}"));
    let back = apply(&with, &removed);
    assert!(
        &back == start,
        "{context}: I3 broken: files differ after remove: {:?}",
        differences(start, &back)
    );
}

/// Seeds: the built-in manifests (each in its own folder) and the meta-schema's shape.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, id) in CONNECTORS.iter().enumerate() {
        let mut input = vec![u8::try_from(i).unwrap_or(0)];
        input.extend(read(&format!("connectors/{id}/manifest.json")));
        out.push(input);
    }
    let schema: Value = read_json("connectors/schema.json");
    let mut input = vec![0];
    input.extend(schema.to_string().into_bytes());
    out.push(input);
    out
}
