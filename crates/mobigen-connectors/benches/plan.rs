//! Planning and applying connectors on the bundled sample app.
//!
//! - `plan/all_five`: in process, plan adding stripe, firebase, supabase, revenuecat and
//!   onesignal one after the other, each plan seeing the files the previous ones produced (kept
//!   in memory, no IO). Target: median under 2 ms. After the first iteration the rendered
//!   files' syntax check finds every text among those that parsed (see `check_rendered`), so
//!   this is the figure of a process that plans again and again.
//! - `apply/add_remove_all_five`: the real thing through `ops` on a temporary copy, with fsync:
//!   add all five, then remove all five.
//!
//! Run: `cargo bench -p mobigen-connectors --bench plan`

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::{self, PlanOptions};
use mobigen_connectors::project::snapshot::ProjectSnapshot;
use mobigen_connectors::{Registry, ValidConfig};

const ALL: [&str; 5] = ["stripe", "firebase", "supabase", "revenuecat", "onesignal"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn configs(registry: &Registry) -> Vec<ValidConfig> {
    ALL.iter()
        .map(|id| {
            let path = workspace().join(format!("examples/sample-configs/{id}.json"));
            let value =
                serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
            registry
                .lookup(id)
                .expect("id")
                .validate_config(&value)
                .expect("valid")
        })
        .collect()
}

/// The snapshot after a plan's changes.
fn advance(snapshot: &ProjectSnapshot, plan: &plan::Plan) -> ProjectSnapshot {
    let mut files: std::collections::BTreeMap<String, Vec<u8>> = snapshot
        .paths()
        .map(|p| (p.to_string(), snapshot.bytes(p).expect("present").to_vec()))
        .collect();
    for change in &plan.changes {
        match &change.after {
            Some(text) => files.insert(change.path.clone(), text.as_bytes().to_vec()),
            None => files.remove(&change.path),
        };
    }
    ProjectSnapshot::from_files(files)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn bench(c: &mut Criterion) {
    let registry = Registry::builtin().expect("builtin");
    let configs = configs(&registry);
    let start = ProjectSnapshot::read(&workspace().join("examples/sample-app"), &registry)
        .expect("snapshot");
    let options = PlanOptions::default();

    c.bench_function("plan/all_five", |b| {
        b.iter(|| {
            let mut snapshot = start.clone();
            for config in &configs {
                let plan = plan::plan_add(&registry, &snapshot, config, options).expect("plan");
                snapshot = advance(&snapshot, &plan);
            }
            black_box(snapshot)
        });
    });

    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&workspace().join("examples/sample-app"), dir.path());
    let mut group = c.benchmark_group("apply");
    group.sample_size(10);
    group.bench_function("add_remove_all_five", |b| {
        b.iter(|| {
            for config in &configs {
                ops::add(&registry, dir.path(), config, options, Mode::Apply).expect("add");
            }
            for id in ALL {
                ops::remove(&registry, dir.path(), id, options, Mode::Apply).expect("remove");
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
