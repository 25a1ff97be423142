//! Transactional, exclusive writes to a project: every file of one operation changes together or
//! not at all.
//!
//! [`apply_changes`] takes the project lock (an advisory lock on the project folder itself, so no
//! lock file is left behind), then:
//! 1. writes every new content to a temporary file under `.mobigen/journal/` and syncs it;
//! 2. copies every file it will replace or delete to a backup there, and syncs it;
//! 3. writes `journal.json` naming each target, its backup and its temporary file — from this point
//!    an interrupted apply is rolled back by the next call;
//! 4. renames the temporary files over their targets (or removes deleted files);
//! 5. removes the journal folder: the operation is complete.
//!
//! A failure in step 4 rolls back at once; a crash leaves the journal, and the next
//! [`apply_changes`] or [`recover`] puts every file back as it was before the interrupted call.
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
    /// Creates or replaces a file with `bytes` and syncs it to disk.
    ///
    /// # Errors
    /// Any IO error.
    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
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

    fn write_synced(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let mut file = File::create(path)?;
        file.write_all(bytes)?;
        file.sync_all()
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
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Takes the project lock, waiting up to `timeout` for another holder to finish.
    ///
    /// # Errors
    /// [`ApplyError::Busy`] after `timeout`; [`ApplyError::Io`] when the lock file cannot be
    /// created.
    pub fn acquire(project: &Path, timeout: Duration) -> Result<ProjectLock, ApplyError> {
        let io_err = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| ApplyError::Io {
                action,
                path,
                source,
            }
        };
        // An advisory lock on the project folder itself: nothing is created in the project, and
        // the lock goes away with the process.
        let path = project.to_path_buf();
        let file = File::open(&path).map_err(io_err("opening", &path))?;
        let deadline = Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(ProjectLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
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
    let mut seen = std::collections::BTreeSet::new();
    for change in changes {
        if !is_safe(&change.path) {
            return Err(ApplyError::UnsafePath {
                path: change.path.clone(),
            });
        }
        if !seen.insert(change.path.as_str()) {
            return Err(ApplyError::DuplicatePath {
                path: change.path.clone(),
            });
        }
    }
    recover_locked(fs, project)?;
    if changes.is_empty() {
        return Ok(());
    }
    let journal_dir = project.join(JOURNAL_DIR);
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
        let mut entries = Vec::with_capacity(changes.len());
        let mut created_dirs: Vec<String> = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            let target = project.join(&change.path);
            if let Some(bytes) = &change.contents {
                let temp = journal_dir.join(format!("{index}.new"));
                fs.write_synced(&temp, bytes)
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
            let backup = match previous {
                Some(bytes) => {
                    let name = format!("{JOURNAL_DIR}/{index}.orig");
                    let path = project.join(&name);
                    fs.write_synced(&path, &bytes)
                        .map_err(io("writing", &path))?;
                    Some(name)
                }
                None => None,
            };
            entries.push(JournalEntry {
                path: change.path.clone(),
                backup,
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
        fs.write_synced(&temp, &text)
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
            // Nothing in the project changed; drop the staging folder (best effort: a leftover
            // folder without journal.json is ignored and cleared by the next run).
            let _ = fs.remove_dir_all(&journal_dir);
            return Err(first);
        }
    };

    // Step 4: switch every file.
    let switched = (|| -> Result<(), ApplyError> {
        for (index, change) in changes.iter().enumerate() {
            let target = project.join(&change.path);
            match &change.contents {
                Some(_) => {
                    if let Some(parent) = target.parent() {
                        fs.create_dir_all(parent).map_err(io("creating", parent))?;
                    }
                    let temp = journal_dir.join(format!("{index}.new"));
                    fs.rename(&temp, &target).map_err(io("renaming", &target))?;
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
                    fs.write_synced(&temp, &bytes)
                        .map_err(io("writing", &temp))?;
                    if let Some(parent) = target.parent() {
                        fs.create_dir_all(parent).map_err(io("creating", parent))?;
                    }
                    fs.rename(&temp, &target)
                        .map_err(io("restoring", &target))?;
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
