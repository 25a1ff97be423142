//! Where the connector store and the vault keyring live, how a project folder is named in the
//! store, and opening them.
//!
//! The rule is the library's (`mobigen_connectors::host::location`): `--store PATH|URL` (a file
//! or a `postgres://` URL) and `--keyring PATH` come first, then the environment and the user's data folder. The project id
//! is `--project-id ID`, else derived from the folder's canonical path (moving the folder changes
//! it: pass `--project-id` to keep one).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::host::location::{Locations, create_private_file, project_id_for};
use mobigen_connectors::secrets::vault::{AnyKeys, ENV_KEY, LocalKeyring, Vault};
use mobigen_connectors::store::{AnyStore, CredentialService, StoreAddress};

/// The credential service as the CLI uses it.
pub(crate) type Service = CredentialService<AnyStore, AnyKeys, SystemClock>;

/// The store and keyring, resolved (`None` when no data directory is known and no store was
/// given: only commands that use the store report that).
#[derive(Debug, Clone)]
pub(crate) struct StoreLocation {
    at: Option<Locations>,
}

/// Whether opening may create the store and keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Create them on first use (commands that store credentials).
    Create,
    /// They must exist already (commands that read or change what is stored).
    Existing,
}

impl StoreLocation {
    /// Resolves the store and keyring from the global flags (clap has already applied
    /// `MOBIGEN_STORE` and `MOBIGEN_KEYRING`) and the defaults.
    pub(crate) fn resolve(store: Option<PathBuf>, keyring: Option<PathBuf>) -> StoreLocation {
        StoreLocation {
            at: Locations::resolve(store.map(StoreAddress::parse), keyring),
        }
    }

    fn at(&self) -> anyhow::Result<(&StoreAddress, &Path)> {
        let at = self.at.as_ref().context(
            "cannot find a data directory for the connector store and keyring (no XDG_DATA_HOME, HOME or APPDATA)\npass --store PATH|URL and --keyring PATH, or set MOBIGEN_STORE and MOBIGEN_KEYRING",
        )?;
        Ok((&at.store, &at.keyring))
    }

    /// Whether a store may hold something: a store file that exists, or a PostgreSQL store
    /// (whose database is asked when opened).
    pub(crate) fn may_hold_anything(&self) -> bool {
        self.at.as_ref().is_some_and(|at| match at.store.file() {
            Some(file) => file.is_file(),
            None => true,
        })
    }

    fn missing_store(store: &Path) -> anyhow::Error {
        anyhow::anyhow!(
            "no connector store at {}: nothing has been stored yet\n`add` creates it; --store PATH|URL or MOBIGEN_STORE choose another one",
            store.display()
        )
    }

    /// Opens the store at `address`: a file must exist unless `access` is [`Access::Create`]
    /// (it is created mode 0600 in a folder created mode 0700).
    fn open_at(address: &StoreAddress, access: Access) -> anyhow::Result<AnyStore> {
        if let Some(file) = address.file().filter(|f| !f.is_file()) {
            if access == Access::Existing {
                return Err(StoreLocation::missing_store(file));
            }
            if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dir(parent).with_context(|| {
                    format!("cannot create the store's folder {}", parent.display())
                })?;
            }
            create_private_file(file)
                .with_context(|| format!("cannot create the connector store {}", file.display()))?;
        }
        let store = AnyStore::open(address);
        match address {
            // PostgreSQL errors name the URL (without its password) already.
            StoreAddress::Postgres(_) => Ok(store?),
            StoreAddress::File(_) => {
                store.with_context(|| format!("cannot open the connector store {address}"))
            }
        }
    }

    /// Opens the store only (no keys): for commands that read metadata or the audit log.
    pub(crate) fn open_store(&self) -> anyhow::Result<AnyStore> {
        let (store, _) = self.at()?;
        StoreLocation::open_at(store, Access::Existing)
    }

    /// Opens the keys: AWS KMS when `MOBIGEN_KMS_KEY_ID` is set (`KmsConfig::from_env`), else
    /// the keyring from `MOBIGEN_VAULT_KEY` if set, else the key file (created on first use
    /// with [`Access::Create`]).
    pub(crate) fn open_keyring(&self, access: Access) -> anyhow::Result<AnyKeys> {
        if let Some(kms) = AnyKeys::kms_from_env().context("cannot open the AWS KMS key")? {
            return Ok(kms);
        }
        let (_, keyring) = self.at()?;
        if access == Access::Existing && std::env::var_os(ENV_KEY).is_none() && !keyring.is_file() {
            bail!(
                "no vault keyring at {}: nothing has been stored yet, or the keyring was moved\n--keyring PATH, MOBIGEN_KEYRING or MOBIGEN_VAULT_KEY point to it",
                keyring.display()
            );
        }
        if let Some(parent) = keyring
            .parent()
            .filter(|p| access == Access::Create && !p.as_os_str().is_empty() && !p.is_dir())
        {
            create_private_dir(parent).with_context(|| {
                format!("cannot create the keyring's folder {}", parent.display())
            })?;
        }
        LocalKeyring::from_environment_or_file(keyring, SystemClock.now())
            .map(AnyKeys::Local)
            .context("cannot open the vault keyring")
    }

    /// Opens the credential service (store and keyring).
    pub(crate) fn open_service(&self, access: Access) -> anyhow::Result<Service> {
        let (store, _) = self.at()?;
        // The store first: a database that cannot be reached leaves no new keyring behind.
        let store = StoreLocation::open_at(store, access)?;
        let keyring = self.open_keyring(access)?;
        Ok(CredentialService::new(
            store,
            Vault::new(keyring),
            SystemClock,
        ))
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The project a command works on: its folder, and how the store names it.
#[derive(Debug, Args)]
pub(crate) struct ProjectArgs {
    /// The Expo project folder (holds package.json).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) project: PathBuf,
    /// The project's id in the connector store; default: derived from the folder's canonical
    /// path (pass it to keep the stored credentials when the folder moves).
    #[arg(long, value_name = "ID")]
    pub(crate) project_id: Option<String>,
}

impl ProjectArgs {
    /// The store's id of the project.
    pub(crate) fn id(&self) -> anyhow::Result<String> {
        if let Some(id) = &self.project_id {
            if id.trim().is_empty() {
                bail!("--project-id must not be empty");
            }
            return Ok(id.clone());
        }
        let canonical = std::fs::canonicalize(&self.project)
            .with_context(|| format!("project folder {}", self.project.display()))?;
        Ok(project_id_for(&canonical))
    }
}

/// Who the audit log names: `mobigen-connect` and the OS user when known.
pub(crate) fn actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("USERNAME")) {
        Ok(user) if !user.is_empty() => format!("mobigen-connect ({user})"),
        _ => "mobigen-connect".to_string(),
    }
}
