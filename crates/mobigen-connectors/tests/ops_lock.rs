//! Every project operation takes the lock, recovers, then reads (issue 15, items 2 and 5).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use mobigen_connectors::Registry;
use mobigen_connectors::ValidConfig;
use mobigen_connectors::project::apply::{self, FileSystem, RealFs};
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::PlanOptions;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = workspace().join("examples/sample-app");
    for name in [
        "App.tsx",
        "app.json",
        "index.ts",
        "package.json",
        "tsconfig.json",
    ] {
        std::fs::copy(from.join(name), dir.path().join(name)).expect("copy");
    }
    dir
}

fn config(registry: &Registry, id: &str) -> ValidConfig {
    let path = workspace().join(format!("examples/sample-configs/{id}.json"));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    registry
        .lookup(id)
        .expect("id")
        .validate_config(&value)
        .expect("valid")
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("prefix");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read(&path).expect("read"),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Every call from `crash_at` on fails: the process died there.
struct CrashingFs {
    calls: Cell<usize>,
    crash_at: usize,
}

impl CrashingFs {
    fn tick(&self) -> io::Result<()> {
        let n = self.calls.get();
        self.calls.set(n + 1);
        if n >= self.crash_at {
            Err(io::Error::other("killed"))
        } else {
            Ok(())
        }
    }
}

impl FileSystem for CrashingFs {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        self.tick()?;
        RealFs.read(path)
    }
    fn write_synced(&self, path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
        self.tick()?;
        RealFs.write_synced(path, bytes, private)
    }
    fn mode(&self, path: &Path) -> io::Result<Option<u32>> {
        self.tick()?;
        RealFs.mode(path)
    }
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.tick()?;
        RealFs.set_mode(path, mode)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.tick()?;
        RealFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        RealFs.remove_file(path)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        RealFs.create_dir_all(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        RealFs.remove_dir_all(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        RealFs.is_dir(path)
    }
    fn remove_empty_dir(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        RealFs.remove_empty_dir(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        RealFs.sync_dir(path)
    }
}

/// A remove killed after some files changed but before its journal was finished: `status`
/// (what the CLI's `remove` asks before it deletes the stored credentials) must first roll the
/// project back, so it reports the connector still enabled and no journal is left pending.
#[test]
fn status_after_a_crash_during_remove_recovers_first() {
    let registry = Registry::builtin().expect("registry");
    let options = PlanOptions::default();
    let mut crashed_mid_way = 0;
    for crash_at in (4..200).step_by(3) {
        let dir = sample_app();
        ops::add(
            &registry,
            dir.path(),
            &config(&registry, "stripe"),
            options,
            Mode::Apply,
        )
        .expect("add");
        let added = files(dir.path());
        let plan =
            ops::remove(&registry, dir.path(), "stripe", options, Mode::DryRun).expect("plan");
        let fs = CrashingFs {
            calls: Cell::new(0),
            crash_at,
        };
        if apply::apply_changes_locked(&fs, dir.path(), &plan.writes()).is_ok() {
            break;
        }
        if !dir.path().join(".mobigen/journal/journal.json").is_file() {
            continue;
        }
        crashed_mid_way += 1;
        let status = ops::status(&registry, dir.path()).expect("status");
        assert!(
            status.connectors.iter().any(|c| c.id == "stripe"),
            "crash at {crash_at}: status must see the rolled-back project"
        );
        assert!(
            !dir.path().join(".mobigen/journal").exists(),
            "crash at {crash_at}: journal still pending after status"
        );
        assert_eq!(files(dir.path()), added, "crash at {crash_at}");
        // The remove that follows finishes the job.
        ops::remove(&registry, dir.path(), "stripe", options, Mode::Apply).expect("remove");
        assert!(
            ops::status(&registry, dir.path())
                .expect("s")
                .connectors
                .is_empty()
        );
    }
    assert!(crashed_mid_way > 3, "{crashed_mid_way}");
}

/// Five threads add five different connectors to one project, the way every host does it (plan
/// first, as a dry run, then apply), 50 rounds: each round ends byte-equal to adding the five
/// one after the other, and no add fails with a false conflict. About a minute in a debug build
/// on a busy two-core machine (250 adds plus 250 dry runs, serialised by the project lock).
#[test]
fn five_concurrent_adds_equal_sequential_adds_50_rounds() {
    let registry = Registry::builtin().expect("registry");
    let ids = ["stripe", "supabase", "revenuecat", "onesignal", "firebase"];
    let configs: Vec<ValidConfig> = ids.iter().map(|id| config(&registry, id)).collect();
    let options = PlanOptions::default();
    let sequential = sample_app();
    for c in &configs {
        ops::add(&registry, sequential.path(), c, options, Mode::Apply).expect("sequential");
    }
    let expected = files(sequential.path());
    for round in 0..50 {
        let dir = sample_app();
        std::thread::scope(|scope| {
            let handles: Vec<_> = configs
                .iter()
                .map(|c| {
                    let (registry, path) = (&registry, dir.path());
                    scope.spawn(move || {
                        ops::add(registry, path, c, options, Mode::DryRun)?;
                        ops::add(registry, path, c, options, Mode::Apply)
                    })
                })
                .collect();
            for (h, id) in handles.into_iter().zip(ids) {
                h.join()
                    .expect("thread")
                    .unwrap_or_else(|e| panic!("round {round}: add {id}: {e}"));
            }
        });
        assert_eq!(files(dir.path()), expected, "round {round}");
    }
}
