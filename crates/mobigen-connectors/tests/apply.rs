//! Transactional apply: all or nothing, under failure injected at every file-system call, and
//! after a crash at every point.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Duration;

use mobigen_connectors::project::apply::{
    self, ApplyError, FileSystem, FileWrite, ProjectLock, RealFs, Recovery,
};

/// A snapshot of every file under `dir` (relative path -> bytes), folders included as `None`.
fn snapshot(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(base)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            if rel == ".mobigen/project.lock" {
                continue;
            }
            if path.is_dir() {
                out.insert(rel, None);
                walk(base, &path, out);
            } else {
                out.insert(rel, Some(std::fs::read(&path).expect("read")));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("package.json"),
        b"{\n  \"name\": \"app\"\n}\n",
    )
    .expect("w");
    std::fs::write(
        dir.path().join("App.tsx"),
        b"export default function App() {}\n",
    )
    .expect("w");
    std::fs::create_dir_all(dir.path().join("src/old")).expect("mkdir");
    std::fs::write(dir.path().join("src/old/gone.ts"), b"export {};\n").expect("w");
    dir
}

fn changes() -> Vec<FileWrite> {
    vec![
        FileWrite {
            path: "package.json".into(),
            contents: Some(b"{\n  \"name\": \"app2\"\n}\n".to_vec()),
        },
        FileWrite {
            path: "src/services/stripe.ts".into(),
            contents: Some(b"export const x = 1;\n".to_vec()),
        },
        FileWrite {
            path: "src/old/gone.ts".into(),
            contents: None,
        },
        FileWrite {
            path: "App.tsx".into(),
            contents: Some(b"export default withConnectors(function App() {})\n".to_vec()),
        },
    ]
}

/// Fails the `fail_at`-th call (0-based) and, when `crash`, every call after it too.
struct FailingFs {
    calls: Cell<usize>,
    fail_at: usize,
    crash: bool,
}

impl FailingFs {
    fn tick(&self) -> io::Result<()> {
        let n = self.calls.get();
        self.calls.set(n + 1);
        if n == self.fail_at || (self.crash && n > self.fail_at) {
            Err(io::Error::other(format!("injected failure at call {n}")))
        } else {
            Ok(())
        }
    }
}

impl FileSystem for FailingFs {
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

#[test]
fn apply_writes_creates_and_deletes_together() {
    let dir = project();
    apply::apply_changes(dir.path(), &changes()).expect("apply");
    let after = snapshot(dir.path());
    assert_eq!(
        after["package.json"].as_deref(),
        Some(&b"{\n  \"name\": \"app2\"\n}\n"[..])
    );
    assert_eq!(
        after["src/services/stripe.ts"].as_deref(),
        Some(&b"export const x = 1;\n"[..])
    );
    assert!(!after.contains_key("src/old/gone.ts"));
    assert!(
        !after.contains_key("src/old"),
        "emptied folder pruned: {:?}",
        after.keys()
    );
    assert!(!dir.path().join(".mobigen/journal").exists());
}

/// Number of file-system calls a successful apply makes.
fn calls_of_a_successful_apply() -> usize {
    let dir = project();
    let fs = FailingFs {
        calls: Cell::new(0),
        fail_at: usize::MAX,
        crash: false,
    };
    apply::apply_changes_locked(&fs, dir.path(), &changes()).expect("apply");
    fs.calls.get()
}

#[test]
fn a_failure_at_any_call_leaves_the_project_as_it_was() {
    let total = calls_of_a_successful_apply();
    assert!(total > 10, "{total}");
    for fail_at in 0..total {
        let dir = project();
        let before = snapshot(dir.path());
        let fs = FailingFs {
            calls: Cell::new(0),
            fail_at,
            crash: false,
        };
        let result = apply::apply_changes_locked(&fs, dir.path(), &changes());
        if result.is_ok() {
            // Only the best-effort clean-up of the journal folder may fail without consequence.
            assert_eq!(
                snapshot(dir.path())["package.json"].as_deref(),
                Some(&b"{\n  \"name\": \"app2\"\n}\n"[..])
            );
            continue;
        }
        let err = result.expect_err("failed");
        assert!(
            !matches!(err, ApplyError::RollbackPending { .. }),
            "call {fail_at}: {err}"
        );
        // Nothing left behind: not a journal, not an empty .mobigen/ (issue 15, item 8).
        assert_eq!(
            snapshot(dir.path()),
            before,
            "failure at call {fail_at}: {err}"
        );
    }
}

#[test]
fn a_crash_at_any_call_is_rolled_back_by_the_next_run() {
    let total = calls_of_a_successful_apply();
    for fail_at in 0..total {
        let dir = project();
        let before = snapshot(dir.path());
        let fs = FailingFs {
            calls: Cell::new(0),
            fail_at,
            crash: true,
        };
        let crashed = apply::apply_changes_locked(&fs, dir.path(), &changes());
        let recovery = apply::recover(dir.path()).expect("recover");
        let mut after = snapshot(dir.path());
        after.retain(|k, _| !k.starts_with(".mobigen"));
        if crashed.is_ok() {
            continue;
        }
        let mut expected = before.clone();
        expected.retain(|k, _| !k.starts_with(".mobigen"));
        assert_eq!(after, expected, "crash at call {fail_at} ({recovery:?})");
        assert!(!dir.path().join(".mobigen/journal").exists());
    }
}

#[test]
fn recover_on_a_clean_project_does_nothing() {
    let dir = project();
    let before = snapshot(dir.path());
    assert_eq!(
        apply::recover(dir.path()).expect("recover"),
        Recovery::Clean
    );
    let mut after = snapshot(dir.path());
    after.retain(|k, _| !k.starts_with(".mobigen"));
    assert_eq!(after, before);
}

#[test]
fn unsafe_and_duplicate_paths_are_refused_before_any_write() {
    let dir = project();
    let before = snapshot(dir.path());
    for path in [
        "../escape.ts",
        "/etc/passwd",
        "",
        "a/../../b",
        ".mobigen/journal/journal.json",
    ] {
        let err = apply::apply_changes(
            dir.path(),
            &[FileWrite {
                path: path.into(),
                contents: Some(b"x".to_vec()),
            }],
        )
        .expect_err(path);
        assert!(
            matches!(err, ApplyError::UnsafePath { .. }),
            "{path}: {err}"
        );
    }
    let twice = [
        FileWrite {
            path: "a.ts".into(),
            contents: Some(b"1".to_vec()),
        },
        FileWrite {
            path: "a.ts".into(),
            contents: None,
        },
    ];
    assert!(matches!(
        apply::apply_changes(dir.path(), &twice),
        Err(ApplyError::DuplicatePath { .. })
    ));
    let mut after = snapshot(dir.path());
    after.retain(|k, _| !k.starts_with(".mobigen"));
    assert_eq!(after, before);
}

#[test]
fn a_second_operation_on_a_busy_project_waits_then_reports_busy() {
    let dir = project();
    let held = ProjectLock::acquire(dir.path(), Duration::from_secs(1)).expect("first");
    let err = ProjectLock::acquire(dir.path(), Duration::from_millis(100)).expect_err("busy");
    assert!(matches!(err, ApplyError::Busy { .. }));
    assert!(err.to_string().contains("is busy"));
    drop(held);
    ProjectLock::acquire(dir.path(), Duration::from_millis(100)).expect("free again");
}

#[test]
fn a_corrupt_journal_is_reported_not_guessed() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join(".mobigen/journal")).expect("mkdir");
    std::fs::write(
        dir.path().join(".mobigen/journal/journal.json"),
        b"{not json",
    )
    .expect("w");
    let err = apply::recover(dir.path()).expect_err("corrupt");
    assert!(matches!(err, ApplyError::CorruptJournal { .. }), "{err}");
    std::fs::write(
        dir.path().join(".mobigen/journal/journal.json"),
        br#"{"entries":[{"path":"../../etc/passwd","backup":null}],"created_dirs":[]}"#,
    )
    .expect("w");
    assert!(matches!(
        apply::recover(dir.path()),
        Err(ApplyError::CorruptJournal { .. })
    ));
}

/// Issue 15, item 4: while an interrupted apply waits for the next run, the journal's copies of
/// env files (old and new `.env.local`) are readable by the owner only, and git ignores the
/// journal folder.
#[cfg(unix)]
#[test]
fn after_a_crash_journal_copies_of_env_files_are_private_and_git_ignored() {
    use std::os::unix::fs::PermissionsExt;
    let total = calls_of_a_successful_apply() + 4;
    let mut checked = 0;
    for fail_at in 0..total {
        let dir = project();
        std::fs::write(dir.path().join(".env.local"), b"OLD_SECRET=s1\n").expect("w");
        std::fs::set_permissions(
            dir.path().join(".env.local"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        let mut writes = changes();
        writes.push(FileWrite {
            path: ".env.local".into(),
            contents: Some(b"OLD_SECRET=s1\nNEW_SECRET=s2\n".to_vec()),
        });
        let fs = FailingFs {
            calls: Cell::new(0),
            fail_at,
            crash: true,
        };
        let _ = apply::apply_changes_locked(&fs, dir.path(), &writes);
        let journal = dir.path().join(".mobigen/journal");
        if journal.join("journal.json").is_file() {
            checked += 1;
            assert_eq!(
                std::fs::read(journal.join(".gitignore")).expect("ignored"),
                b"*\n"
            );
            for entry in std::fs::read_dir(&journal).expect("journal") {
                let path = entry.expect("entry").path();
                let bytes = std::fs::read(&path).expect("read");
                if bytes.windows(6).any(|w| w == b"SECRET") {
                    let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
                    assert_eq!(mode & 0o777, 0o600, "call {fail_at}: {}", path.display());
                }
            }
        }
        apply::recover(dir.path()).expect("recover");
        assert_eq!(
            std::fs::read(dir.path().join(".env.local")).expect("restored"),
            b"OLD_SECRET=s1\n"
        );
        let mode = std::fs::metadata(dir.path().join(".env.local"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o644,
            "call {fail_at}: the mode is restored too"
        );
    }
    assert!(checked > 3, "{checked} crash points left a journal");
}
