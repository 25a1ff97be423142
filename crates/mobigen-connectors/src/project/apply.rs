//! Transactional, exclusive writes to a project: every file of one operation changes together or
//! not at all.
//!
//! [`apply_changes`] takes the project lock (an advisory lock on `.mobigen/project.lock`, deleted
//! again on release), resolves every target to its real path (a symbolic link that leads out of
//! the project or into `.mobigen/` is refused), then:
//! 1. writes every new content to a temporary file under `.mobigen/journal/` (a folder with a
//!    `.gitignore` of `*`; copies of env files are 0600) and syncs it;
//! 2. copies every file it will replace or delete to a 0600 backup there, with its mode, and syncs
//!    it;
//! 3. writes `journal.json` naming each target, its backup and its temporary file — from this point
//!    an interrupted apply is rolled back by the next call;
//! 4. gives each temporary file the mode of the file it replaces (a new env file stays 0600) and
//!    renames it over its target (or removes deleted files);
//! 5. removes the journal folder: the operation is complete.
//!
//! A failure in step 4 rolls back at once; a crash leaves the journal, and the next
//! [`apply_changes`] or [`recover`] puts every file back as it was before the interrupted call,
//! modes included. A failure leaves nothing behind, not even an empty `.mobigen/`.
//! Every file-system call goes through [`FileSystem`], so tests can make any single call fail.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Folder of the library's own state inside a project.
pub const STATE_DIR: &str = ".mobigen";
const JOURNAL_DIR: &str = ".mobigen/journal";
const JOURNAL_FILE: &str = ".mobigen/journal/journal.json";
const JOURNAL_IGNORE: &str = ".mobigen/journal/.gitignore";
/// The file the project lock is taken on (deleted when the lock is released).
pub const LOCK_FILE: &str = ".mobigen/project.lock";

/// Whether a file at `path` (relative) holds secret values: env files (`.env`, `.env.local`,
/// `.env.*`). New ones are created 0600, and their journal copies are always 0600.
pub fn holds_secrets(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == ".env" || name.starts_with(".env.")
}

/// One file to write or delete, by path relative to the project root (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// Relative path inside the project.
    pub path: String,
    /// New contents, or `None` to delete the file.
    pub contents: Option<Vec<u8>>,
}

/// Why an apply or a recovery failed. In every case the project's files are as they were before
/// the call (or, after a crash, will be on the next call).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A path is absolute, empty, or leaves the project.
    #[error("refusing to write `{path}`: not a relative path inside the project")]
    UnsafePath {
        /// The path given.
        path: String,
    },
    /// The same path appears twice in one operation.
    #[error("`{path}` is written twice in one operation")]
    DuplicatePath {
        /// The path.
        path: String,
    },
    /// Another add/remove holds the project lock.
    #[error(
        "project {} is busy: another add or remove is running on it; try again when it has finished",
        project.display()
    )]
    Busy {
        /// The project folder.
        project: PathBuf,
    },
    /// A file-system call failed; nothing was changed (the operation was rolled back).
    #[error("{action} {}: {source}; no file was changed", path.display())]
    Io {
        /// What was being done (`writing`, `renaming`...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A path inside the project goes through a symbolic link that leads out of the project, into
    /// `.mobigen/`, or nowhere.
    #[error(
        "refusing to write `{path}`: `{link}` is a symbolic link to {}, {why}; replace the link with a folder inside the project",
        target.display()
    )]
    Symlink {
        /// The path to write.
        path: String,
        /// The link on the way (relative to the project).
        link: String,
        /// Where it points.
        target: PathBuf,
        /// Why that is refused.
        why: &'static str,
    },
    /// A failure happened and the rollback failed too; the journal is kept and the next call
    /// finishes the rollback.
    #[error(
        "{first}; rolling back failed as well ({rollback}); the next run restores the files from {JOURNAL_DIR}"
    )]
    RollbackPending {
        /// The first failure.
        first: Box<ApplyError>,
        /// The rollback failure.
        rollback: Box<ApplyError>,
    },
    /// The journal left by an interrupted apply cannot be read.
    #[error(
        "{JOURNAL_FILE} is unreadable ({reason}); restore the project from version control and delete {JOURNAL_DIR}"
    )]
    CorruptJournal {
        /// Why.
        reason: String,
    },
}

/// The file-system calls apply makes; the real one is [`RealFs`]. Tests wrap it to inject
/// failures.
pub trait FileSystem {
    /// Reads a whole file; `Ok(None)` when it does not exist.
    ///
    /// # Errors
    /// Any IO error other than "not found".
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>>;
    /// Creates or replaces a file with `bytes` and syncs it to disk. A `private` file is readable
    /// by its owner only (0600); otherwise the process's default mode applies.
    ///
    /// # Errors
    /// Any IO error.
    fn write_synced(&self, path: &Path, bytes: &[u8], private: bool) -> io::Result<()>;
    /// The permission bits of an existing file (`Ok(None)` when it does not exist, or where
    /// files have no Unix mode).
    ///
    /// # Errors
    /// Any IO error other than "not found".
    fn mode(&self, path: &Path) -> io::Result<Option<u32>>;
    /// Sets the permission bits of a file (nothing where files have no Unix mode).
    ///
    /// # Errors
    /// Any IO error.
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to`.
    ///
    /// # Errors
    /// Any IO error.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file; a missing file is not an error.
    ///
    /// # Errors
    /// Any other IO error.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates a folder and its parents.
    ///
    /// # Errors
    /// Any IO error.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Removes a folder and everything in it; a missing folder is not an error.
    ///
    /// # Errors
    /// Any other IO error.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Whether `path` is an existing folder.
    fn is_dir(&self, path: &Path) -> bool;
    /// Removes a folder if it is empty; a missing or non-empty folder is not an error.
    ///
    /// # Errors
    /// Any other IO error.
    fn remove_empty_dir(&self, path: &Path) -> io::Result<()>;
    /// Syncs a folder's entries (renames, creations) to disk.
    ///
    /// # Errors
    /// Any IO error.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

fn not_found_ok<T>(result: io::Result<T>, default: T) -> io::Result<T> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(default),
        other => other,
    }
}

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        not_found_ok(std::fs::read(path).map(Some), None)
    }

    fn write_synced(&self, path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        #[cfg(unix)]
        if private {
            // The file may have existed with a wider mode; narrow it before writing.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        #[cfg(not(unix))]
        let _ = private;
        file.write_all(bytes)?;
        file.sync_all()
    }

    fn mode(&self, path: &Path) -> io::Result<Option<u32>> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            not_found_ok(
                std::fs::metadata(path).map(|m| Some(m.permissions().mode() & 0o7777)),
                None,
            )
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            Ok(None)
        }
    }

    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        #[cfg(not(unix))]
        {
            let _ = (path, mode);
            Ok(())
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        not_found_ok(std::fs::remove_file(path), ())
    }

    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        not_found_ok(std::fs::remove_dir_all(path), ())
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn remove_empty_dir(&self, path: &Path) -> io::Result<()> {
        match std::fs::remove_dir(path) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::DirectoryNotEmpty
                ) =>
            {
                Ok(())
            }
            other => other,
        }
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        // Opening a folder read-only and syncing it persists its entries on Unix; elsewhere the
        // call is not supported and renames are already durable enough.
        match File::open(path).and_then(|dir| dir.sync_all()) {
            Err(e) if cfg!(unix) && e.kind() != io::ErrorKind::PermissionDenied => Err(e),
            _ => Ok(()),
        }
    }
}

/// The exclusive lock on one project, released on drop.
///
/// It is an advisory lock on [`LOCK_FILE`] (a file, since Windows refuses to open a folder as
/// one). On Unix the holder deletes the file, and `.mobigen/` when that leaves it empty, before
/// releasing the lock, so a finished command leaves nothing behind; a waiter that then gets the
/// lock on the deleted file sees that the path no longer names it and tries again.
#[derive(Debug)]
pub struct ProjectLock {
    file: Option<File>,
    path: PathBuf,
    state_dir: PathBuf,
}

/// Refuses a `.mobigen` (or `.mobigen/journal`) that is a symbolic link or not a folder: the
/// library's own state, the journal's copies of env files included, stays inside the project.
fn check_state_dirs(project: &Path) -> Result<(), ApplyError> {
    for dir in [STATE_DIR, JOURNAL_DIR] {
        let path = project.join(dir);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(ApplyError::Symlink {
                    path: dir.to_string(),
                    link: dir.to_string(),
                    target: std::fs::read_link(&path).unwrap_or_default(),
                    why: "and the library keeps its state (and copies of env files) only inside the project",
                });
            }
            Ok(m) if !m.is_dir() => {
                return Err(ApplyError::Io {
                    action: "using",
                    path,
                    source: io::Error::other("it is not a folder; move it away"),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `file` is still the file at `path` (not deleted or replaced by a releasing holder).
fn is_same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        // The lock file is never deleted there, so it cannot have been replaced.
        let _ = (file, path);
        true
    }
}

impl ProjectLock {
    /// Takes the project lock, waiting up to `timeout` for another holder to finish.
    ///
    /// # Errors
    /// [`ApplyError::Busy`] after `timeout`; [`ApplyError::Symlink`] when `.mobigen` is a
    /// symbolic link; [`ApplyError::Io`] when the lock file cannot be created.
    pub fn acquire(project: &Path, timeout: Duration) -> Result<ProjectLock, ApplyError> {
        let state_dir = project.join(STATE_DIR);
        let path = project.join(LOCK_FILE);
        let deadline = Instant::now() + timeout;
        loop {
            check_state_dirs(project)?;
            let opened = std::fs::create_dir_all(&state_dir)
                .map_err(|source| ApplyError::Io {
                    action: "creating",
                    path: state_dir.clone(),
                    source,
                })
                .and_then(|()| {
                    std::fs::OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .open(&path)
                        .map_err(|source| ApplyError::Io {
                            action: "opening",
                            path: path.clone(),
                            source,
                        })
                });
            let file = match opened {
                Ok(file) => file,
                // A releasing holder removed `.mobigen/` between our two calls: try again.
                Err(ApplyError::Io { source, .. })
                    if source.kind() == io::ErrorKind::NotFound && Instant::now() < deadline =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            match file.try_lock() {
                Ok(()) if is_same_file(&file, &path) => {
                    return Ok(ProjectLock {
                        file: Some(file),
                        path,
                        state_dir,
                    });
                }
                // The holder we waited for deleted the file as it released it: take a fresh one.
                Ok(()) => continue,
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(ApplyError::Busy {
                        project: project.to_path_buf(),
                    });
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(ApplyError::Io {
                        action: "locking",
                        path,
                        source,
                    });
                }
            }
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        if cfg!(unix) {
            // Still holding the lock: delete the file, then `.mobigen/` if nothing else is in it
            // (best effort: a leftover is harmless and reused).
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_dir(&self.state_dir);
        }
        drop(self.file.take());
    }
}

/// How long [`apply_changes`] waits for another operation on the same project.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    entries: Vec<JournalEntry>,
    /// Folders the operation creates (relative, parents first); removed again on rollback.
    created_dirs: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalEntry {
    /// Target, relative to the project.
    path: String,
    /// Backup of the previous contents (relative to the project), when the file existed.
    backup: Option<String>,
    /// The previous file's permission bits (Unix), restored with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mode: Option<u32>,
}

/// Whether `path` is a non-empty relative path of normal components (`/`-separated).
fn is_safe(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        && !path.starts_with(JOURNAL_DIR)
}

/// What [`recover`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// No interrupted operation was found.
    Clean,
    /// An interrupted operation was rolled back; the files are as before it.
    RolledBack,
}

/// Writes `changes` to `project` atomically: all or nothing. See the module docs.
///
/// # Errors
/// [`ApplyError`]; after any error the project's files are unchanged (or, for
/// [`ApplyError::RollbackPending`], restored by the next call).
pub fn apply_changes(project: &Path, changes: &[FileWrite]) -> Result<(), ApplyError> {
    let _lock = ProjectLock::acquire(project, DEFAULT_LOCK_TIMEOUT)?;
    apply_changes_locked(&RealFs, project, changes)
}

/// Rolls back an interrupted apply, if any, under the project lock.
///
/// # Errors
/// [`ApplyError`] when the journal cannot be read or a file cannot be restored.
pub fn recover(project: &Path) -> Result<Recovery, ApplyError> {
    let _lock = ProjectLock::acquire(project, DEFAULT_LOCK_TIMEOUT)?;
    recover_locked(&RealFs, project)
}

/// Resolves `relative` to the real path it writes to, relative to `root` (the project's real
/// path): each symbolic link on the way is followed only while it stays inside the project and out
/// of `.mobigen/`.
fn resolve_inside(root: &Path, relative: &str) -> Result<String, ApplyError> {
    let state = root.join(STATE_DIR);
    let mut current = root.to_path_buf();
    let parts: Vec<&str> = relative.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let candidate = current.join(part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = parts[..=i].join("/");
                let refuse = |target: PathBuf, why| ApplyError::Symlink {
                    path: relative.to_string(),
                    link: link.clone(),
                    target,
                    why,
                };
                let Ok(real) = candidate.canonicalize() else {
                    let target = std::fs::read_link(&candidate).unwrap_or_default();
                    return Err(refuse(target, "which does not exist"));
                };
                if !real.starts_with(root) {
                    return Err(refuse(real, "outside the project"));
                }
                if real.starts_with(&state) {
                    return Err(refuse(real, "inside the library's own .mobigen folder"));
                }
                current = real;
            }
            Ok(_) => current = candidate,
            Err(_) => {
                // Nothing exists from here on: the rest is created as plain folders.
                for rest in &parts[i..] {
                    current.push(rest);
                }
                break;
            }
        }
    }
    let inside = current.strip_prefix(root).unwrap_or(&current);
    let resolved = inside
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    if !is_safe(&resolved) {
        return Err(ApplyError::UnsafePath {
            path: relative.to_string(),
        });
    }
    Ok(resolved)
}

/// [`apply_changes`] for a caller that already holds the project lock, through any
/// [`FileSystem`].
///
/// # Errors
/// As [`apply_changes`].
pub fn apply_changes_locked(
    fs: &dyn FileSystem,
    project: &Path,
    changes: &[FileWrite],
) -> Result<(), ApplyError> {
    for change in changes {
        if !is_safe(&change.path) {
            return Err(ApplyError::UnsafePath {
                path: change.path.clone(),
            });
        }
    }
    check_state_dirs(project)?;
    let root = project.canonicalize().map_err(|source| ApplyError::Io {
        action: "resolving",
        path: project.to_path_buf(),
        source,
    })?;
    // Every write goes to the real path; two paths that resolve to one file are one path twice.
    let mut seen = std::collections::BTreeSet::new();
    let mut resolved = Vec::with_capacity(changes.len());
    for change in changes {
        let real = resolve_inside(&root, &change.path)?;
        if !seen.insert(real.clone()) {
            return Err(ApplyError::DuplicatePath {
                path: change.path.clone(),
            });
        }
        resolved.push(FileWrite {
            path: real,
            contents: change.contents.clone(),
        });
    }
    let changes = &resolved[..];
    recover_locked(fs, project)?;
    if changes.is_empty() {
        return Ok(());
    }
    let journal_dir = project.join(JOURNAL_DIR);
    let state_dir = project.join(STATE_DIR);
    let state_existed = fs.is_dir(&state_dir);
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| ApplyError::Io {
            action,
            path,
            source,
        }
    };

    // Steps 1-3: stage everything; the project itself is untouched until the journal exists.
    let staged = (|| -> Result<Journal, ApplyError> {
        fs.create_dir_all(&journal_dir)
            .map_err(io("creating", &journal_dir))?;
        // Git never sees the journal (it holds copies of env files while an apply runs).
        let ignore = project.join(JOURNAL_IGNORE);
        fs.write_synced(&ignore, b"*\n", false)
            .map_err(io("writing", &ignore))?;
        let mut entries = Vec::with_capacity(changes.len());
        let mut created_dirs: Vec<String> = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            let target = project.join(&change.path);
            let secret = holds_secrets(&change.path);
            if let Some(bytes) = &change.contents {
                let temp = journal_dir.join(format!("{index}.new"));
                fs.write_synced(&temp, bytes, secret)
                    .map_err(io("writing", &temp))?;
                let mut ancestor = String::new();
                let parents = change.path.split('/').collect::<Vec<_>>();
                for part in &parents[..parents.len().saturating_sub(1)] {
                    if !ancestor.is_empty() {
                        ancestor.push('/');
                    }
                    ancestor.push_str(part);
                    if !fs.is_dir(&project.join(&ancestor)) && !created_dirs.contains(&ancestor) {
                        created_dirs.push(ancestor.clone());
                    }
                }
            }
            let previous = fs.read(&target).map_err(io("reading", &target))?;
            let (backup, mode) = match previous {
                Some(bytes) => {
                    let mode = fs
                        .mode(&target)
                        .map_err(io("reading the mode of", &target))?;
                    let name = format!("{JOURNAL_DIR}/{index}.orig");
                    let path = project.join(&name);
                    fs.write_synced(&path, &bytes, true)
                        .map_err(io("writing", &path))?;
                    (Some(name), mode)
                }
                None => (None, None),
            };
            entries.push(JournalEntry {
                path: change.path.clone(),
                backup,
                mode,
            });
        }
        let journal = Journal {
            entries,
            created_dirs,
        };
        let text = serde_json::to_vec_pretty(&journal).map_err(|e| ApplyError::CorruptJournal {
            reason: e.to_string(),
        })?;
        let journal_path = project.join(JOURNAL_FILE);
        let temp = journal_dir.join("journal.json.tmp");
        fs.write_synced(&temp, &text, true)
            .map_err(io("writing", &temp))?;
        fs.rename(&temp, &journal_path)
            .map_err(io("renaming", &journal_path))?;
        fs.sync_dir(&journal_dir)
            .map_err(io("syncing", &journal_dir))?;
        Ok(journal)
    })();
    let journal = match staged {
        Ok(journal) => journal,
        Err(first) => {
            // Nothing in the project changed; drop the staging folder, and `.mobigen/` when this
            // call created it (best effort: a leftover folder without journal.json is ignored and
            // cleared by the next run).
            let _ = fs.remove_dir_all(&journal_dir);
            if !state_existed {
                let _ = fs.remove_empty_dir(&state_dir);
            }
            return Err(first);
        }
    };

    // Step 4: switch every file.
    let switched = (|| -> Result<(), ApplyError> {
        for (index, (change, entry)) in changes.iter().zip(&journal.entries).enumerate() {
            let target = project.join(&change.path);
            match &change.contents {
                Some(_) => {
                    if let Some(parent) = target.parent() {
                        fs.create_dir_all(parent).map_err(io("creating", parent))?;
                    }
                    let temp = journal_dir.join(format!("{index}.new"));
                    fs.rename(&temp, &target).map_err(io("renaming", &target))?;
                    // The file keeps its mode (a new env file stays 0600, others get the
                    // default). Set after the rename, so a copy in the journal is never wider
                    // than 0600.
                    if let Some(mode) = entry.mode {
                        fs.set_mode(&target, mode)
                            .map_err(io("setting the mode of", &target))?;
                    }
                }
                None => {
                    fs.remove_file(&target).map_err(io("deleting", &target))?;
                    prune_empty_parents(fs, project, &change.path)
                        .map_err(io("deleting folders of", &target))?;
                }
            }
            if let Some(parent) = target.parent().filter(|p| fs.is_dir(p)) {
                fs.sync_dir(parent).map_err(io("syncing", parent))?;
            }
        }
        Ok(())
    })();
    if let Err(first) = switched {
        return match roll_back(fs, project, &journal) {
            Ok(()) => Err(first),
            Err(rollback) => Err(ApplyError::RollbackPending {
                first: Box::new(first),
                rollback: Box::new(rollback),
            }),
        };
    }

    // Step 5: done. If removing the journal fails, the next run rolls this operation back, so
    // report the failure rather than claim success.
    let finished = fs
        .remove_file(&project.join(JOURNAL_FILE))
        .map_err(io("deleting", &project.join(JOURNAL_FILE)));
    if let Err(first) = finished {
        return match roll_back(fs, project, &journal) {
            Ok(()) => Err(first),
            Err(rollback) => Err(ApplyError::RollbackPending {
                first: Box::new(first),
                rollback: Box::new(rollback),
            }),
        };
    }
    let _ = fs.remove_dir_all(&journal_dir);
    let _ = fs.remove_empty_dir(&project.join(STATE_DIR));
    Ok(())
}

/// [`recover`] for a caller that already holds the project lock.
///
/// # Errors
/// As [`recover`].
pub fn recover_locked(fs: &dyn FileSystem, project: &Path) -> Result<Recovery, ApplyError> {
    let journal_path = project.join(JOURNAL_FILE);
    let journal_dir = project.join(JOURNAL_DIR);
    let Some(bytes) = fs.read(&journal_path).map_err(|source| ApplyError::Io {
        action: "reading",
        path: journal_path.clone(),
        source,
    })?
    else {
        // Leftover staging files without a journal never touched the project.
        fs.remove_dir_all(&journal_dir)
            .map_err(|source| ApplyError::Io {
                action: "deleting",
                path: journal_dir.clone(),
                source,
            })?;
        return Ok(Recovery::Clean);
    };
    let journal: Journal =
        serde_json::from_slice(&bytes).map_err(|e| ApplyError::CorruptJournal {
            reason: e.to_string(),
        })?;
    for entry in &journal.entries {
        let unsafe_backup = entry
            .backup
            .as_deref()
            .is_some_and(|b| !b.starts_with(JOURNAL_DIR) || b.contains(".."));
        if !is_safe(&entry.path)
            || unsafe_backup
            || journal.created_dirs.iter().any(|d| !is_safe(d))
        {
            return Err(ApplyError::CorruptJournal {
                reason: format!("unexpected path `{}`", entry.path),
            });
        }
    }
    roll_back(fs, project, &journal)?;
    Ok(Recovery::RolledBack)
}

/// Puts every journaled file back as it was, then removes the journal.
fn roll_back(fs: &dyn FileSystem, project: &Path, journal: &Journal) -> Result<(), ApplyError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| ApplyError::Io {
            action,
            path,
            source,
        }
    };
    for entry in &journal.entries {
        let target = project.join(&entry.path);
        match &entry.backup {
            Some(backup) => {
                let backup = project.join(backup);
                let bytes = fs
                    .read(&backup)
                    .map_err(io("reading", &backup))?
                    .ok_or_else(|| ApplyError::CorruptJournal {
                        reason: format!("backup {} is missing", backup.display()),
                    })?;
                if fs.read(&target).map_err(io("reading", &target))?.as_deref() != Some(&bytes) {
                    let temp = backup.with_extension("restore");
                    fs.write_synced(&temp, &bytes, true)
                        .map_err(io("writing", &temp))?;
                    if let Some(parent) = target.parent() {
                        fs.create_dir_all(parent).map_err(io("creating", parent))?;
                    }
                    fs.rename(&temp, &target)
                        .map_err(io("restoring", &target))?;
                }
                if let Some(mode) = entry.mode
                    && fs
                        .mode(&target)
                        .map_err(io("reading the mode of", &target))?
                        != Some(mode)
                {
                    fs.set_mode(&target, mode)
                        .map_err(io("setting the mode of", &target))?;
                }
            }
            None => fs.remove_file(&target).map_err(io("deleting", &target))?,
        }
    }
    for dir in journal.created_dirs.iter().rev() {
        let path = project.join(dir);
        fs.remove_empty_dir(&path).map_err(io("deleting", &path))?;
    }
    let journal_path = project.join(JOURNAL_FILE);
    fs.remove_file(&journal_path)
        .map_err(io("deleting", &journal_path))?;
    let journal_dir = project.join(JOURNAL_DIR);
    fs.remove_dir_all(&journal_dir)
        .map_err(io("deleting", &journal_dir))?;
    fs.remove_empty_dir(&project.join(STATE_DIR))
        .map_err(io("deleting", &project.join(STATE_DIR)))?;
    Ok(())
}

/// Removes the folders above a deleted file that are now empty, up to (not including) the project
/// root.
fn prune_empty_parents(fs: &dyn FileSystem, project: &Path, relative: &str) -> io::Result<()> {
    let mut parts: Vec<&str> = relative.split('/').collect();
    parts.pop();
    while !parts.is_empty() {
        fs.remove_empty_dir(&project.join(parts.join("/")))?;
        parts.pop();
    }
    Ok(())
}
