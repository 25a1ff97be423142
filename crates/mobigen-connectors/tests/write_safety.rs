//! What every write to a project must respect (issue 15): symbolic links never lead a write out
//! of the project, files keep their modes, env files are private, a failure leaves nothing
//! behind, and the project lock is a file (Windows cannot lock a folder).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mobigen_connectors::project::apply::{self, ApplyError, FileWrite, ProjectLock};

/// Every file and folder under `dir` (relative path -> bytes; folders as `None`).
fn tree(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(base)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                out.insert(rel, None);
                walk(base, &path, out);
            } else if meta.file_type().is_symlink() {
                out.insert(rel, Some(b"<link>".to_vec()));
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
    std::fs::write(dir.path().join("package.json"), b"{\"name\": \"app\"}\n").expect("w");
    std::fs::write(dir.path().join("App.tsx"), b"export default App;\n").expect("w");
    dir
}

fn write(path: &str, contents: &str) -> FileWrite {
    FileWrite {
        path: path.into(),
        contents: Some(contents.as_bytes().to_vec()),
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_never_leads_a_write_out_of_the_project() {
    let outside = tempfile::tempdir().expect("outside");
    for link in ["src/services", ".mobigen"] {
        let dir = project();
        std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        std::os::unix::fs::symlink(outside.path(), dir.path().join(link)).expect("symlink");
        let before = tree(dir.path());
        let err = apply::apply_changes(
            dir.path(),
            &[
                write("package.json", "{\"name\": \"app2\"}\n"),
                write("src/services/stripe.ts", "export const x = 1;\n"),
            ],
        )
        .expect_err(link);
        assert!(matches!(err, ApplyError::Symlink { .. }), "{link}: {err}");
        let text = err.to_string();
        assert!(
            text.contains(link) && text.contains("symbolic link"),
            "{text}"
        );
        assert_eq!(tree(dir.path()), before, "{link}: the project changed");
        assert!(
            tree(outside.path()).is_empty(),
            "{link}: wrote outside the project: {:?}",
            tree(outside.path()).keys()
        );
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_that_stays_inside_the_project_is_written_through() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join("real/services")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
    std::os::unix::fs::symlink("../real/services", dir.path().join("src/services"))
        .expect("symlink");
    apply::apply_changes(dir.path(), &[write("src/services/a.ts", "export {};\n")]).expect("apply");
    assert_eq!(
        std::fs::read(dir.path().join("real/services/a.ts")).expect("written"),
        b"export {};\n"
    );
    assert!(
        std::fs::symlink_metadata(dir.path().join("src/services"))
            .expect("link")
            .file_type()
            .is_symlink()
    );
    // Two names for one file in one operation are one file written twice.
    let err = apply::apply_changes(
        dir.path(),
        &[
            write("src/services/a.ts", "1\n"),
            write("real/services/a.ts", "2\n"),
        ],
    )
    .expect_err("duplicate");
    assert!(matches!(err, ApplyError::DuplicatePath { .. }), "{err}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("meta").permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(unix)]
#[test]
fn edited_files_keep_their_mode_and_new_env_files_are_private() {
    let dir = project();
    let p = dir.path();
    std::fs::write(p.join(".env.local"), b"A=1\n").expect("w");
    std::fs::write(p.join("run.sh"), b"#!/bin/sh\n").expect("w");
    set_mode(&p.join(".env.local"), 0o600);
    set_mode(&p.join("App.tsx"), 0o444);
    set_mode(&p.join("run.sh"), 0o755);
    set_mode(&p.join("package.json"), 0o640);
    apply::apply_changes(
        p,
        &[
            write(".env.local", "A=1\nB=2\n"),
            write("App.tsx", "export default withConnectors(App);\n"),
            write("run.sh", "#!/bin/sh\necho\n"),
            write("package.json", "{\"name\": \"app2\"}\n"),
            write(".env.production.local", "C=3\n"),
        ],
    )
    .expect("apply");
    assert_eq!(mode(&p.join(".env.local")), 0o600);
    assert_eq!(mode(&p.join("App.tsx")), 0o444);
    assert_eq!(mode(&p.join("run.sh")), 0o755);
    assert_eq!(mode(&p.join("package.json")), 0o640);
    assert_eq!(mode(&p.join(".env.production.local")), 0o600);

    let fresh = project();
    apply::apply_changes(fresh.path(), &[write(".env.local", "S=secret\n")]).expect("apply");
    assert_eq!(mode(&fresh.path().join(".env.local")), 0o600);
}

#[test]
fn a_failed_apply_leaves_no_empty_state_folder() {
    let dir = project();
    let before = tree(dir.path());
    // Staging fails on the second file (its parent is a file), after the journal folder exists.
    let err = apply::apply_changes(
        dir.path(),
        &[
            write("src/a.ts", "export {};\n"),
            write("package.json/inner.ts", "export {};\n"),
        ],
    )
    .expect_err("cannot write under a file");
    assert!(err.to_string().contains("no file was changed"), "{err}");
    assert_eq!(tree(dir.path()), before, "left behind after: {err}");
}

#[test]
fn the_project_lock_is_a_file_in_the_state_folder_and_goes_away_on_release() {
    let dir = project();
    let before = tree(dir.path());
    let held = ProjectLock::acquire(dir.path(), Duration::from_secs(1)).expect("lock");
    assert!(dir.path().join(apply::LOCK_FILE).is_file());
    assert!(matches!(
        ProjectLock::acquire(dir.path(), Duration::from_millis(50)),
        Err(ApplyError::Busy { .. })
    ));
    drop(held);
    if cfg!(unix) {
        assert_eq!(tree(dir.path()), before);
    }
    // A waiter that gets the lock after the holder deleted the file still excludes the others.
    let held = ProjectLock::acquire(dir.path(), Duration::from_secs(1)).expect("again");
    let waiter = {
        let path = dir.path().to_path_buf();
        std::thread::spawn(move || ProjectLock::acquire(&path, Duration::from_secs(5)))
    };
    std::thread::sleep(Duration::from_millis(50));
    drop(held);
    let second = waiter.join().expect("thread").expect("waiter locks");
    assert!(matches!(
        ProjectLock::acquire(dir.path(), Duration::from_millis(50)),
        Err(ApplyError::Busy { .. })
    ));
    drop(second);
}

/// Reading follows a symbolic link only while it stays inside the project: a linked `.env.local`
/// or `src` folder outside it is refused with an error naming the path and the link, before
/// anything is written (issue 15, item 1, the reading side).
#[cfg(unix)]
#[test]
fn reading_refuses_a_symlink_that_leads_out_of_the_project() {
    use mobigen_connectors::Registry;
    use mobigen_connectors::project::snapshot::{ProjectError, ProjectSnapshot};

    let registry = Registry::builtin().expect("registry");
    let outside = tempfile::tempdir().expect("outside");
    std::fs::write(outside.path().join("env.local"), b"SECRET=outside\n").expect("w");
    std::fs::create_dir_all(outside.path().join("src")).expect("mkdir");
    std::fs::write(outside.path().join("src/App.tsx"), b"export default App;\n").expect("w");
    // `read`: the refused path is this file, or (a folder) a file under it.
    for (link, target, read) in [
        (".env.local", "env.local", ".env.local"),
        ("src", "src", "src/"),
    ] {
        let dir = project();
        std::os::unix::fs::symlink(outside.path().join(target), dir.path().join(link))
            .expect("symlink");
        let before = tree(dir.path());
        let err = ProjectSnapshot::read(dir.path(), &registry).expect_err(link);
        let ProjectError::SymlinkOutside { path, link: l, .. } = &err else {
            panic!("{link}: {err:?}");
        };
        assert!(path.starts_with(read) && l == link, "{link}: {err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "refusing to read `{path}`: `{link}` is a symbolic link"
            )) && text.contains("symbolic link")
                && text.contains("outside the project"),
            "{text}"
        );
        assert!(!text.contains("SECRET=outside"), "{text}");
        assert_eq!(tree(dir.path()), before, "{link}: the project changed");
    }
    // A link that stays inside the project is read through.
    let dir = project();
    std::fs::create_dir_all(dir.path().join("real")).expect("mkdir");
    std::fs::write(dir.path().join("real/env"), b"A=1\n").expect("w");
    std::os::unix::fs::symlink("real/env", dir.path().join(".env.local")).expect("symlink");
    let snapshot = ProjectSnapshot::read(dir.path(), &registry).expect("inside");
    assert_eq!(snapshot.bytes(".env.local"), Some(&b"A=1\n"[..]));
}
