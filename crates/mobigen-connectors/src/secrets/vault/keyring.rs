//! The default key provider: a local keyring of AES-256 key-encryption keys.
//!
//! Keys come from a key file (JSON, created on first use with permissions 0600, holding several
//! key ids, one active, with their creation dates) or from environment variables
//! ([`ENV_KEY`], base64 of 32 bytes; older keys in [`ENV_PREVIOUS_KEYS`]). Data keys are wrapped
//! with AES-256-GCM directly under the key (one AES-GCM call per record, no key derivation).
//!
//! The key file is shared by every process on the machine (the CLI, a long-lived Node service):
//! each change (create, rotate, retire) takes an exclusive lock on `<file>.lock`, re-reads the
//! file, merges its keys with the ones in memory (no key is ever dropped; a retirement made by
//! either side wins), writes a uniquely named private temporary file, fsyncs it, renames it over
//! the key file and fsyncs the folder. Readers never see a half-written file. A keyring that is
//! asked to unwrap under a key id it does not know re-reads the file once for that id (another
//! process may have rotated) and remembers what it found.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use super::audit_seal::{AuditSeal, ENV_AUDIT_KEY};
use super::provider::{DataKey, GeneratedDataKey, KeyId, KeyInfo, KeyProvider, RotateKeys};
use super::random::Rng;
use super::{NONCE_LEN, TAG_LEN, VaultError};
use crate::clock::Timestamp;

/// Environment variable holding the active key (base64 of 32 bytes).
pub const ENV_KEY: &str = "MOBIGEN_VAULT_KEY";
/// Environment variable naming the key in [`ENV_KEY`]; by default a fingerprint of the key.
pub const ENV_KEY_ID: &str = "MOBIGEN_VAULT_KEY_ID";
/// Environment variable with older keys (comma-separated base64) that still decrypt.
pub const ENV_PREVIOUS_KEYS: &str = "MOBIGEN_VAULT_PREVIOUS_KEYS";
/// Environment variable overriding the key file's location.
pub const ENV_KEYRING_PATH: &str = "MOBIGEN_VAULT_KEYRING";
/// Keys older than this are due for rotation (90 days).
pub const DEFAULT_KEY_MAX_AGE: Duration = Duration::from_secs(90 * 86_400);

const FILE_FORMAT: &str = "mobigen-vault-keyring";
const FILE_VERSION: u32 = 1;
/// What the audit key of an environment or in-memory keyring is derived from its active key with.
const AUDIT_KEY_DOMAIN: &[u8] = b"mobigen-audit-key-v1";
const WRAPPED_LEN: usize = NONCE_LEN + 32 + TAG_LEN;

/// Where the keys came from, which decides whether they can be rotated and saved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    File(PathBuf),
    Environment,
    Memory,
}

#[derive(Clone)]
struct Material {
    /// Kept so the key can be saved again; the cipher holds the expanded schedule.
    key: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
}

#[derive(Clone)]
struct LocalKey {
    created_at: Option<Timestamp>,
    retired_at: Option<Timestamp>,
    /// `None` once retired.
    material: Option<Material>,
}

impl LocalKey {
    fn new(key: Zeroizing<[u8; 32]>, created_at: Option<Timestamp>) -> LocalKey {
        let cipher = Aes256Gcm::new((&*key).into());
        LocalKey {
            created_at,
            retired_at: None,
            material: Some(Material { key, cipher }),
        }
    }
}

/// A local keyring: several key-encryption keys by id, one active.
///
/// `Debug` lists key ids only.
pub struct LocalKeyring {
    keys: BTreeMap<KeyId, LocalKey>,
    active: KeyId,
    source: Source,
    rng: Rng,
    /// Keys found by re-reading the key file on an unknown key id (another process rotated).
    learned: Mutex<BTreeMap<KeyId, Arc<Material>>>,
    /// The audit log's key and anchor (see [`AuditSeal`]).
    audit: AuditSeal,
}

impl fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyring")
            .field("active", &self.active)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .field("source", &self.source)
            .finish()
    }
}

impl LocalKeyring {
    /// A keyring with one fresh random key, kept in memory only (tests, benches, one-off use).
    ///
    /// # Errors
    /// [`VaultError::Random`].
    pub fn generate_in_memory(now: Timestamp) -> Result<LocalKeyring, VaultError> {
        LocalKeyring::generate(now, Source::Memory, Rng::Os)
    }

    fn generate(now: Timestamp, source: Source, rng: Rng) -> Result<LocalKeyring, VaultError> {
        let (id, key) = new_key(&rng)?;
        let mut keys = BTreeMap::new();
        keys.insert(id.clone(), LocalKey::new(key, Some(now)));
        Ok(LocalKeyring::assemble(keys, id, source, rng))
    }

    /// A keyring holding exactly `key` under `id`, in memory (tests, known-answer vectors).
    pub fn from_key(id: KeyId, key: [u8; 32], created_at: Option<Timestamp>) -> LocalKeyring {
        let mut keys = BTreeMap::new();
        keys.insert(id.clone(), LocalKey::new(Zeroizing::new(key), created_at));
        LocalKeyring::assemble(keys, id, Source::Memory, Rng::Os)
    }

    fn assemble(
        keys: BTreeMap<KeyId, LocalKey>,
        active: KeyId,
        source: Source,
        rng: Rng,
    ) -> LocalKeyring {
        let derived = || {
            keys.get(&active)
                .and_then(|k| k.material.as_ref())
                .map_or_else(
                    || Zeroizing::new([0u8; 32]),
                    |m| AuditSeal::derive_key(&m.key, AUDIT_KEY_DOMAIN),
                )
        };
        let audit = match &source {
            Source::File(path) => AuditSeal::for_key_file(path),
            Source::Environment => AuditSeal::in_memory(derived(), false),
            Source::Memory => AuditSeal::in_memory(derived(), true),
        };
        LocalKeyring {
            keys,
            active,
            source,
            rng,
            learned: Mutex::new(BTreeMap::new()),
            audit,
        }
    }

    #[cfg(test)]
    pub(crate) fn set_rng(&mut self, rng: Rng) {
        self.rng = rng;
    }

    /// The keyring the CLI uses: from [`ENV_KEY`] (and [`ENV_PREVIOUS_KEYS`]) if set, else the key
    /// file at `path`, created with one fresh key on first use.
    ///
    /// # Errors
    /// As [`Self::from_env_values`] and [`Self::open_or_create`].
    pub fn from_environment_or_file(
        path: &Path,
        now: Timestamp,
    ) -> Result<LocalKeyring, VaultError> {
        match std::env::var(ENV_KEY) {
            Ok(key) => {
                let key = Zeroizing::new(key);
                let id = std::env::var(ENV_KEY_ID).ok();
                let previous = std::env::var(ENV_PREVIOUS_KEYS).ok().map(Zeroizing::new);
                let mut keyring = LocalKeyring::from_env_values(
                    &key,
                    id.as_deref(),
                    previous.as_deref().map(String::as_str),
                )?;
                if let Ok(audit_key) = std::env::var(ENV_AUDIT_KEY) {
                    let audit_key = decode_key(&Zeroizing::new(audit_key), ENV_AUDIT_KEY)?;
                    keyring.audit = AuditSeal::in_memory(audit_key, false);
                }
                Ok(keyring)
            }
            Err(_) => LocalKeyring::open_or_create(path, now),
        }
    }

    /// A keyring from environment-variable values: `key` (base64 of 32 bytes) is active, named
    /// `key_id` or `env-` and a fingerprint of the key; `previous` holds older keys,
    /// comma-separated, named by fingerprint. Such a keyring cannot rotate or retire keys: change
    /// the variables instead.
    ///
    /// # Errors
    /// [`VaultError::BadKey`] if a key is not base64 of 32 bytes; [`VaultError::InvalidKeyId`].
    pub fn from_env_values(
        key: &str,
        key_id: Option<&str>,
        previous: Option<&str>,
    ) -> Result<LocalKeyring, VaultError> {
        let active_key = decode_key(key, ENV_KEY)?;
        let active = match key_id {
            Some(id) => KeyId::new(id)?,
            None => fingerprint_id(&active_key)?,
        };
        let mut keys = BTreeMap::new();
        for old in previous
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let old = decode_key(old, ENV_PREVIOUS_KEYS)?;
            keys.insert(fingerprint_id(&old)?, LocalKey::new(old, None));
        }
        keys.insert(active.clone(), LocalKey::new(active_key, None));
        Ok(LocalKeyring::assemble(
            keys,
            active,
            Source::Environment,
            Rng::Os,
        ))
    }

    /// Opens the key file at `path`, or creates it (permissions 0600, parent folders 0700) with
    /// one fresh key created at `now`.
    ///
    /// # Errors
    /// As [`Self::open`]; [`VaultError::KeyFile`] if it cannot be created.
    pub fn open_or_create(path: &Path, now: Timestamp) -> Result<LocalKeyring, VaultError> {
        match LocalKeyring::open(path) {
            Err(VaultError::KeyFile { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent).map_err(|source| VaultError::KeyFile {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let _lock = lock_key_file(path)?;
        // Another process may have created it while this one waited for the lock.
        match LocalKeyring::open(path) {
            Err(VaultError::KeyFile { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        let keyring = LocalKeyring::generate(now, Source::File(path.to_path_buf()), Rng::Os)?;
        replace_key_file(
            path,
            &file_bytes(&keyring.keys, &keyring.active),
            &keyring.rng,
        )?;
        Ok(keyring)
    }

    /// Opens an existing key file.
    ///
    /// # Errors
    /// [`VaultError::KeyFile`] if it cannot be read; [`VaultError::KeyFilePermissions`] if other
    /// users can read it (Unix); [`VaultError::KeyFileFormat`] if it is not a keyring.
    pub fn open(path: &Path) -> Result<LocalKeyring, VaultError> {
        let io_err = |source| VaultError::KeyFile {
            path: path.to_path_buf(),
            source,
        };
        check_private(path)?;
        let bytes = Zeroizing::new(std::fs::read(path).map_err(io_err)?);
        let format_err = |reason: String| VaultError::KeyFileFormat {
            path: path.to_path_buf(),
            reason,
        };
        // serde_json messages can quote input; report the position only.
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
            format_err(format!(
                "not the expected JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        if file.format != FILE_FORMAT || file.version != FILE_VERSION {
            return Err(format_err(format!(
                "format `{}` version {}; expected `{FILE_FORMAT}` version {FILE_VERSION}",
                file.format, file.version
            )));
        }
        let mut keys = BTreeMap::new();
        for entry in &file.keys {
            let id = KeyId::new(&entry.id).map_err(|e| format_err(e.to_string()))?;
            let key = match (&entry.key, entry.retired_at) {
                (Some(text), None) => {
                    Some(decode_key(text, "the key file").map_err(|e| format_err(e.to_string()))?)
                }
                (None, Some(_)) => None,
                _ => {
                    return Err(format_err(format!(
                        "key `{id}` must have either key material or a retirement date"
                    )));
                }
            };
            let created_at = entry.created_at.map(Timestamp::from_unix_millis);
            let local = match key {
                Some(key) => LocalKey::new(key, created_at),
                None => LocalKey {
                    created_at,
                    retired_at: entry.retired_at.map(Timestamp::from_unix_millis),
                    material: None,
                },
            };
            if keys.insert(id.clone(), local).is_some() {
                return Err(format_err(format!("key `{id}` appears twice")));
            }
        }
        let active = KeyId::new(&file.active).map_err(|e| format_err(e.to_string()))?;
        if keys.get(&active).is_none_or(|k| k.material.is_none()) {
            return Err(format_err(format!(
                "the active key `{active}` is missing or retired"
            )));
        }
        Ok(LocalKeyring::assemble(
            keys,
            active,
            Source::File(path.to_path_buf()),
            Rng::Os,
        ))
    }

    /// Adds a fresh key created at `now` and makes it active; saves the key file. Records under
    /// older keys keep decrypting; [`super::Vault::rewrap`] moves them to the new key.
    ///
    /// # Errors
    /// [`VaultError::Unsupported`] for a keyring from environment variables; [`VaultError::Random`];
    /// [`VaultError::KeyFile`] if saving fails (the keyring is then left unchanged).
    pub fn rotate(&mut self, now: Timestamp) -> Result<KeyId, VaultError> {
        if self.source == Source::Environment {
            return Err(VaultError::Unsupported {
                reason: "keys from environment variables are rotated by setting a new MOBIGEN_VAULT_KEY and moving the old one to MOBIGEN_VAULT_PREVIOUS_KEYS",
            });
        }
        let (id, key) = new_key(&self.rng)?;
        let new_id = id.clone();
        self.update(move |keys, active| {
            keys.insert(id.clone(), LocalKey::new(key, Some(now)));
            *active = id;
            Ok(())
        })?;
        Ok(new_id)
    }

    /// Retires `id`: its material is wiped and records still wrapped under it stop decrypting.
    /// Rewrap every record first (the credential service checks this).
    ///
    /// # Errors
    /// [`VaultError::Unsupported`] for the active key or an environment keyring;
    /// [`VaultError::UnknownKeyId`]; [`VaultError::KeyFile`] if saving fails.
    pub fn retire(&mut self, id: &KeyId, now: Timestamp) -> Result<(), VaultError> {
        if self.source == Source::Environment {
            return Err(VaultError::Unsupported {
                reason: "keys from environment variables are retired by removing them from MOBIGEN_VAULT_PREVIOUS_KEYS",
            });
        }
        self.update(|keys, active| {
            if id == active {
                return Err(VaultError::Unsupported {
                    reason: "the active key cannot be retired: rotate first, rewrap, then retire the old key",
                });
            }
            let key = keys.get_mut(id).ok_or_else(|| VaultError::UnknownKeyId {
                key_id: id.to_string(),
            })?;
            key.material = None;
            key.retired_at.get_or_insert(now);
            Ok(())
        })?;
        self.learned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        Ok(())
    }

    /// The active key's id.
    pub fn active(&self) -> &KeyId {
        &self.active
    }

    /// The key file, if the keyring has one.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File(path) => Some(path),
            Source::Environment | Source::Memory => None,
        }
    }

    /// Applies `change` to the keys and the active id, and saves the result; the keyring is left
    /// unchanged if `change` or saving fails. For a key file: under the file's exclusive lock,
    /// `change` sees the keys on disk merged with the ones in memory, so a change made by another
    /// process since this keyring was read is kept, never overwritten from memory.
    fn update(
        &mut self,
        change: impl FnOnce(&mut BTreeMap<KeyId, LocalKey>, &mut KeyId) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let Source::File(path) = &self.source else {
            let mut keys = self.keys.clone();
            let mut active = self.active.clone();
            change(&mut keys, &mut active)?;
            self.keys = keys;
            self.active = active;
            return Ok(());
        };
        let path = path.clone();
        let _lock = lock_key_file(&path)?;
        let (mut keys, mut active) = match LocalKeyring::open(&path) {
            Ok(on_disk) => (merge_keys(on_disk.keys, &self.keys), on_disk.active),
            Err(VaultError::KeyFile { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                (self.keys.clone(), self.active.clone())
            }
            Err(e) => return Err(e),
        };
        change(&mut keys, &mut active)?;
        replace_key_file(&path, &file_bytes(&keys, &active), &self.rng)?;
        self.keys = keys;
        self.active = active;
        Ok(())
    }

    fn key_for_unwrap(&self, id: &KeyId) -> Result<&Material, VaultError> {
        let key = self.keys.get(id).ok_or_else(|| VaultError::UnknownKeyId {
            key_id: id.to_string(),
        })?;
        key.material.as_ref().ok_or_else(|| VaultError::KeyRetired {
            key_id: id.to_string(),
        })
    }

    /// A key this keyring did not have when it was read: another process may have added it to
    /// the key file since. Re-reads the file (once per unknown id that turns up there).
    fn learn_key(&self, id: &KeyId) -> Result<Arc<Material>, VaultError> {
        let unknown = || VaultError::UnknownKeyId {
            key_id: id.to_string(),
        };
        let Source::File(path) = &self.source else {
            return Err(unknown());
        };
        let mut learned = self.learned.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(material) = learned.get(id) {
            return Ok(Arc::clone(material));
        }
        let mut on_disk = LocalKeyring::open(path)?;
        let key = on_disk.keys.remove(id).ok_or_else(unknown)?;
        let material = Arc::new(key.material.ok_or_else(|| VaultError::KeyRetired {
            key_id: id.to_string(),
        })?);
        learned.insert(id.clone(), Arc::clone(&material));
        Ok(material)
    }

    fn wrap_with_active(
        &self,
        data_key: &[u8; 32],
        aad: &[u8],
    ) -> Result<(KeyId, Vec<u8>), VaultError> {
        let material = self.key_for_unwrap(&self.active)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce)?;
        let mut out = Vec::with_capacity(WRAPPED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(data_key);
        let tag = material
            .cipher
            .encrypt_in_place_detached(
                &Nonce::from(nonce),
                &kek_aad(&self.active, aad),
                &mut out[NONCE_LEN..],
            )
            .map_err(|_| VaultError::Decryption)?;
        out.extend_from_slice(&tag);
        Ok((self.active.clone(), out))
    }
}

impl KeyProvider for LocalKeyring {
    fn active_key_id(&self) -> Result<KeyId, VaultError> {
        Ok(self.active.clone())
    }

    fn generate_data_key(&self, aad: &[u8]) -> Result<GeneratedDataKey, VaultError> {
        let mut key = Zeroizing::new([0u8; 32]);
        self.rng.fill(&mut *key)?;
        let (key_id, wrapped_key) = self.wrap_with_active(&key, aad)?;
        Ok(GeneratedDataKey {
            key_id,
            data_key: DataKey::from_bytes(*key),
            wrapped_key,
        })
    }

    fn wrap_data_key(
        &self,
        data_key: &DataKey,
        aad: &[u8],
    ) -> Result<(KeyId, Vec<u8>), VaultError> {
        self.wrap_with_active(data_key.expose_secret(), aad)
    }

    fn unwrap_data_key(
        &self,
        key_id: &KeyId,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, VaultError> {
        let learned;
        let material = match self.key_for_unwrap(key_id) {
            Err(VaultError::UnknownKeyId { .. }) => {
                learned = self.learn_key(key_id)?;
                &*learned
            }
            other => other?,
        };
        if wrapped.len() != WRAPPED_LEN {
            return Err(VaultError::Decryption);
        }
        let (nonce, rest) = wrapped.split_at(NONCE_LEN);
        let (encrypted, tag) = rest.split_at(32);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(encrypted);
        let mut nonce_bytes = [0u8; NONCE_LEN];
        nonce_bytes.copy_from_slice(nonce);
        material
            .cipher
            .decrypt_in_place_detached(
                &Nonce::from(nonce_bytes),
                &kek_aad(key_id, aad),
                &mut *key,
                Tag::from_slice(tag),
            )
            .map_err(|_| VaultError::Decryption)?;
        Ok(DataKey::from_bytes(*key))
    }

    fn audit_seal(&self) -> Result<AuditSeal, VaultError> {
        Ok(self.audit.clone())
    }

    fn keys(&self) -> Vec<KeyInfo> {
        self.keys
            .iter()
            .map(|(id, k)| KeyInfo {
                id: id.clone(),
                created_at: k.created_at,
                retired_at: k.retired_at,
                active: id == &self.active,
            })
            .collect()
    }
}

impl RotateKeys for LocalKeyring {
    fn rotate_active_key(&mut self, now: Timestamp) -> Result<KeyId, VaultError> {
        self.rotate(now)
    }

    fn retire_key(&mut self, id: &KeyId, now: Timestamp) -> Result<(), VaultError> {
        self.retire(id, now)
    }
}

fn file_bytes(keys: &BTreeMap<KeyId, LocalKey>, active: &KeyId) -> Zeroizing<Vec<u8>> {
    let file = KeyFile {
        format: FILE_FORMAT.into(),
        version: FILE_VERSION,
        active: active.to_string(),
        keys: keys
            .iter()
            .map(|(id, k)| KeyFileEntry {
                id: id.to_string(),
                created_at: k.created_at.map(Timestamp::unix_millis),
                retired_at: k.retired_at.map(Timestamp::unix_millis),
                key: k.material.as_ref().map(|m| STANDARD.encode(*m.key)),
            })
            .collect(),
    };
    let mut out = Vec::with_capacity(256 + 200 * keys.len());
    // Serializing plain strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer_pretty(&mut out, &file);
    out.push(b'\n');
    Zeroizing::new(out)
}

/// The keys on disk plus the ones only in memory. Keys are never removed, only retired, so the
/// union loses nothing; a key retired on either side stays retired.
fn merge_keys(
    mut on_disk: BTreeMap<KeyId, LocalKey>,
    in_memory: &BTreeMap<KeyId, LocalKey>,
) -> BTreeMap<KeyId, LocalKey> {
    for (id, mine) in in_memory {
        match on_disk.get_mut(id) {
            None => {
                on_disk.insert(id.clone(), mine.clone());
            }
            Some(theirs) => {
                if let Some(retired_at) = mine.retired_at {
                    theirs.material = None;
                    theirs.retired_at.get_or_insert(retired_at);
                }
            }
        }
    }
    on_disk
}

/// The key file's lock: an exclusive advisory lock on `<file>.lock` (created 0600, kept), held
/// until the returned file is dropped.
pub(super) fn lock_key_file(path: &Path) -> Result<std::fs::File, VaultError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let io_err = |source| VaultError::KeyFile {
        path: lock_path.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let file = options.open(&lock_path).map_err(io_err)?;
    file.lock().map_err(io_err)?;
    Ok(file)
}

/// Replaces the key file atomically: a new private temporary file with a unique name next to
/// it, fsynced, renamed over it, then the folder fsynced. The temporary file is removed on error.
pub(super) fn replace_key_file(path: &Path, bytes: &[u8], rng: &Rng) -> Result<(), VaultError> {
    let io_err = |source| VaultError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    let mut suffix = [0u8; 8];
    rng.fill(&mut suffix)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{}.tmp", std::process::id(), hex(&suffix)));
    let tmp = PathBuf::from(tmp);
    let written =
        write_new_private_file(&tmp, bytes, true).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    #[cfg(unix)]
    if let Some(parent) = path.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io_err)?;
    }
    Ok(())
}

/// The data key's authenticated data: the key id (length-prefixed), then the vault's `aad`.
fn kek_aad(id: &KeyId, aad: &[u8]) -> Vec<u8> {
    let id = id.as_str().as_bytes();
    let mut out = Vec::with_capacity(1 + id.len() + aad.len());
    out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(id);
    out.extend_from_slice(aad);
    out
}

fn new_key(rng: &Rng) -> Result<(KeyId, Zeroizing<[u8; 32]>), VaultError> {
    let mut key = Zeroizing::new([0u8; 32]);
    rng.fill(&mut *key)?;
    let mut id = [0u8; 6];
    rng.fill(&mut id)?;
    Ok((KeyId::new(&format!("lk-{}", hex(&id)))?, key))
}

fn fingerprint_id(key: &[u8; 32]) -> Result<KeyId, VaultError> {
    let digest = Sha256::new()
        .chain_update(b"mobigen-vault key id\0")
        .chain_update(key)
        .finalize();
    KeyId::new(&format!("env-{}", hex(&digest[..8])))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn decode_key(text: &str, source_name: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let text = text.trim();
    let decoded = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(text).ok())
        .map(Zeroizing::new)
        .ok_or_else(|| VaultError::BadKey {
            source_name: source_name.into(),
            reason: "it is not base64",
        })?;
    if decoded.len() != 32 {
        return Err(VaultError::BadKey {
            source_name: source_name.into(),
            reason: "it must decode to exactly 32 bytes (for instance `openssl rand -base64 32`)",
        });
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&decoded);
    Ok(key)
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyFile {
    format: String,
    version: u32,
    active: String,
    keys: Vec<KeyFileEntry>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyFileEntry {
    id: String,
    created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<i64>,
    /// Base64 of the key; absent once retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl Drop for KeyFileEntry {
    fn drop(&mut self) {
        if let Some(key) = &mut self.key {
            key.zeroize();
        }
    }
}

#[cfg(unix)]
pub(super) fn check_private(path: &Path) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path).map_err(|source| VaultError::KeyFile {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(VaultError::KeyFilePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn check_private(_path: &Path) -> Result<(), VaultError> {
    Ok(())
}

fn write_new_private_file(path: &Path, bytes: &[u8], create_new: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(create_new);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
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

/// A key flagged by the rotation policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAgeFinding {
    /// The key.
    pub key_id: KeyId,
    /// How old it is.
    pub age: Duration,
    /// Whether it is the active key (rotate) or an older one (rewrap, then retire).
    pub active: bool,
}

/// The keys (not retired, with a known creation date) older than `max_age` at `now`; use
/// [`DEFAULT_KEY_MAX_AGE`] for the 90-day policy. Oldest first.
pub fn keys_due_for_rotation(
    keys: &[KeyInfo],
    now: Timestamp,
    max_age: Duration,
) -> Vec<KeyAgeFinding> {
    let mut found: Vec<KeyAgeFinding> = keys
        .iter()
        .filter(|k| k.retired_at.is_none())
        .filter_map(|k| {
            let age = now.since(k.created_at?);
            (age > max_age).then(|| KeyAgeFinding {
                key_id: k.id.clone(),
                age,
                active: k.active,
            })
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.age));
    found
}
