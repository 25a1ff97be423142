//! The repository's fixtures the targets start from, read once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mobigen_connectors::{Registry, ValidConfig};

/// The five built-in connectors, in a fixed order (input bytes pick from it).
pub const CONNECTORS: [&str; 5] = ["firebase", "onesignal", "revenuecat", "stripe", "supabase"];

/// A project as a map: relative path -> bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// The repository root (the parent of `fuzz/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// The built-in registry.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry::builtin().expect("the built-in connectors load"))
}

/// `examples/sample-configs/ID.json`, validated, per connector of [`CONNECTORS`].
pub fn sample_configs() -> &'static [ValidConfig] {
    static CONFIGS: OnceLock<Vec<ValidConfig>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        CONNECTORS
            .iter()
            .map(|id| {
                let value = read_json(&format!("examples/sample-configs/{id}.json"));
                registry()
                    .lookup(id)
                    .expect("built-in id")
                    .validate_config(&value)
                    .expect("the sample config is valid")
            })
            .collect()
    })
}

/// A file of the repository as JSON.
pub fn read_json(relative: &str) -> serde_json::Value {
    let bytes = read(relative);
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// A file of the repository.
pub fn read(relative: &str) -> Vec<u8> {
    std::fs::read(repo_root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Every file below `relative` (a folder of the repository), sorted by path, `node_modules`
/// skipped: (path relative to the repository, bytes).
pub fn read_tree(relative: &str) -> Vec<(String, Vec<u8>)> {
    let root = repo_root();
    let mut out = Vec::new();
    let mut pending = vec![root.join(relative)];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "node_modules" {
                    pending.push(path);
                }
            } else if let (Ok(bytes), Ok(rel)) = (std::fs::read(&path), path.strip_prefix(&root)) {
                out.push((rel.to_string_lossy().replace('\\', "/"), bytes));
            }
        }
    }
    out.sort();
    out
}

/// The sample app (`examples/sample-app`) as files, without its binary assets.
pub fn sample_app() -> &'static Files {
    static APP: OnceLock<Files> = OnceLock::new();
    APP.get_or_init(|| {
        read_tree("examples/sample-app")
            .into_iter()
            .filter(|(path, _)| !path.contains("/assets/"))
            .map(|(path, bytes)| {
                let rel = path
                    .strip_prefix("examples/sample-app/")
                    .unwrap_or(&path)
                    .to_string();
                (rel, bytes)
            })
            .collect()
    })
}

/// Applies a plan's writes to `files`.
pub fn apply(files: &Files, plan: &mobigen_connectors::project::plan::Plan) -> Files {
    let mut out = files.clone();
    for write in plan.writes() {
        match write.contents {
            Some(bytes) => {
                out.insert(write.path, bytes);
            }
            None => {
                out.remove(&write.path);
            }
        }
    }
    out
}

/// The snapshot planning sees of `files`.
pub fn snapshot(files: &Files) -> mobigen_connectors::project::snapshot::ProjectSnapshot {
    mobigen_connectors::project::snapshot::ProjectSnapshot::from_files(
        files.iter().map(|(p, b)| (p.clone(), b.clone())),
    )
}
