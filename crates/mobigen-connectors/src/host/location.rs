//! Where the connector store and the vault keyring live, and how a project folder is named in
//! the store: one rule for every host.
//!
//! - Store: the address the host was given, else `$MOBIGEN_STORE`, else `connectors.db` in the
//!   user's data folder (`$XDG_DATA_HOME/mobigen`, `~/.local/share/mobigen`, `%APPDATA%\mobigen`).
//!   An address is a file path or a `postgres://` URL ([`StoreAddress::parse`]).
//! - Keyring: the path the host was given, else `$MOBIGEN_KEYRING`, else
//!   `$MOBIGEN_VAULT_KEYRING`, else `vault-keyring.json` next to the store file (in the data
//!   folder for a PostgreSQL store). (`$MOBIGEN_VAULT_KEY`,
//!   the environment keyring, replaces the file altogether:
//!   [`LocalKeyring::from_environment_or_file`](crate::secrets::vault::LocalKeyring::from_environment_or_file).)
//! - Project id: `prj-` and the first 128 bits (hex) of the SHA-256 of the project folder's
//!   canonical path ([`project_id_for`]).
//!
//! ```
//! use std::path::Path;
//! use mobigen_connectors::host::location::Locations;
//! use mobigen_connectors::store::StoreAddress;
//!
//! let at = Locations::resolve(Some(StoreAddress::parse("/data/c.db")), None).unwrap();
//! assert_eq!(at.store.file(), Some(Path::new("/data/c.db")));
//! # if std::env::var_os("MOBIGEN_KEYRING").is_none() && std::env::var_os("MOBIGEN_VAULT_KEYRING").is_none() {
//! assert_eq!(at.keyring, Path::new("/data/vault-keyring.json"));
//! # }
//! ```

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::secrets::vault::ENV_KEYRING_PATH;
use crate::store::StoreAddress;

/// Environment variable naming the store (a file path or a `postgres://` URL).
pub const ENV_STORE: &str = "MOBIGEN_STORE";
/// Environment variable naming the keyring file (before [`ENV_KEYRING_PATH`]).
pub const ENV_KEYRING: &str = "MOBIGEN_KEYRING";
/// File name of the store in the data folder.
pub const STORE_FILE: &str = "connectors.db";
/// File name of the keyring next to the store.
pub const KEYRING_FILE: &str = "vault-keyring.json";

/// The store and keyring a host uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locations {
    /// The store (an SQLite file or a PostgreSQL URL).
    pub store: StoreAddress,
    /// The keyring (a JSON key file, unless the keys come from the environment).
    pub keyring: PathBuf,
}

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The user's data folder for mobigen: `$XDG_DATA_HOME/mobigen`, `~/.local/share/mobigen` or
/// `%APPDATA%\mobigen`; `None` when none of those variables is set.
pub fn data_dir() -> Option<PathBuf> {
    let base = var("XDG_DATA_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".local").join("share")))
        .or_else(|| var("APPDATA"))?;
    Some(base.join("mobigen"))
}

/// The keyring next to `store`: `vault-keyring.json` in its folder.
pub fn keyring_next_to(store: &Path) -> PathBuf {
    store
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(KEYRING_FILE)
}

impl Locations {
    /// Applies the rule above to what the host was given; `None` when no store was given, none
    /// is in the environment and no data folder is known (nor, for a PostgreSQL store without a
    /// keyring path, a folder for the keyring).
    pub fn resolve(store: Option<StoreAddress>, keyring: Option<PathBuf>) -> Option<Locations> {
        let store = store
            .or_else(|| var(ENV_STORE).map(StoreAddress::parse))
            .or_else(|| data_dir().map(|d| StoreAddress::File(d.join(STORE_FILE))))?;
        let keyring = match keyring
            .or_else(|| var(ENV_KEYRING))
            .or_else(|| var(ENV_KEYRING_PATH))
        {
            Some(keyring) => keyring,
            None => match store.file() {
                Some(file) => keyring_next_to(file),
                None => data_dir()?.join(KEYRING_FILE),
            },
        };
        Some(Locations { store, keyring })
    }
}

/// `prj-` and the first 16 bytes, in hex, of the SHA-256 of `canonical` (the path's bytes).
/// Nothing is written into the project for it, so moving the folder changes the id.
pub fn project_id_for(canonical: &Path) -> String {
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("prj-{hex}")
}

/// Creates `path` empty with mode 0600 unless it exists: a store file before SQLite initialises
/// it (SQLite gives its -wal and -shm files the same mode), so no other user can read it.
///
/// # Errors
/// The file cannot be created (an existing file is not an error).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_id_is_stable_and_path_dependent() {
        let a = project_id_for(Path::new("/home/ann/app"));
        assert_eq!(a, project_id_for(Path::new("/home/ann/app")));
        assert_ne!(a, project_id_for(Path::new("/home/ann/app2")));
        assert!(a.starts_with("prj-") && a.len() == 4 + 32, "{a}");
    }

    #[test]
    fn keyring_defaults_next_to_the_store() {
        assert_eq!(
            keyring_next_to(Path::new("/x/y/c.db")),
            PathBuf::from("/x/y").join(KEYRING_FILE)
        );
        assert_eq!(
            keyring_next_to(Path::new("c.db")),
            PathBuf::from("").join(KEYRING_FILE)
        );
    }
}
