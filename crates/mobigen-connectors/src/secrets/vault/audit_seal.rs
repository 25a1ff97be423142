//! The audit log's key and anchor: what a store needs from the keyring to write and check its
//! audit chain, so that whoever can write the store's database alone can neither forge entries
//! nor cut entries off the end unnoticed.
//!
//! - **Key**: every entry is authenticated with HMAC-SHA256 under a 256-bit audit key that only
//!   the keyring side holds. For a key file at `K` it lives in `K.audit` (0600, created on first
//!   use under `K.audit.lock`, never rotated: entries from the first one on verify with it); for
//!   keys from the environment it is [`ENV_AUDIT_KEY`] if set, else derived from the active key
//!   (set [`ENV_AUDIT_KEY`] before rotating an environment key, or the older entries stop
//!   verifying); an in-memory keyring holds a random one. The AWS KMS provider keeps its audit
//!   key wrapped by KMS (see `kms.rs`): in its audit file (`mobigen-kms-audit-anchor`, the key
//!   wrapped, never in clear) or in a variable, and unwraps it when it connects.
//! - **Anchor**: the same `K.audit` file records, per store (by the random id each store keeps),
//!   the sequence number and MAC of the last entry appended. A store advances it under its own
//!   write lock before committing the entries (and puts it back if the commit fails); the anchor
//!   never moves backwards. Verification reports an anchored entry that is missing (the tail was
//!   dropped) or different (the chain was rewritten). Environment keyrings have no file, so their
//!   chains are keyed but not anchored; in-memory keyrings anchor in memory.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use super::VaultError;
use super::keyring::{hex, lock_key_file, replace_key_file};
use super::random::Rng;

/// Environment variable holding the audit key (base64 of 32 bytes) of a keyring from the
/// environment.
pub const ENV_AUDIT_KEY: &str = "MOBIGEN_VAULT_AUDIT_KEY";

const AUDIT_FILE_FORMAT: &str = "mobigen-audit-anchor";
/// The KMS provider's audit file: the audit key wrapped by KMS, and the heads.
const KMS_AUDIT_FILE_FORMAT: &str = "mobigen-kms-audit-anchor";
const AUDIT_FILE_VERSION: u32 = 1;

/// The last entry of a store's audit chain, as anchored on the keyring side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Its sequence number.
    pub seq: i64,
    /// Its MAC (hex).
    pub mac: String,
}

type Heads = BTreeMap<String, AuditHead>;

/// HMAC-SHA256 keyed with a 256-bit key.
fn hmac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC accepts keys of every length; the error case cannot happen.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

/// What an audit file holds besides the heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    /// The local keyring's: the audit key in clear (the file is as private as the key file).
    Local,
    /// The KMS provider's: the audit key wrapped by KMS; the key in clear only in memory.
    #[cfg_attr(not(feature = "kms"), allow(dead_code))]
    // For the KMS provider (feature `kms`).
    Kms,
}

impl FileKind {
    fn format(self) -> &'static str {
        match self {
            FileKind::Local => AUDIT_FILE_FORMAT,
            FileKind::Kms => KMS_AUDIT_FILE_FORMAT,
        }
    }
}

enum Place {
    /// An audit file: the key (or, for KMS, the key wrapped) and the heads, read and written
    /// under its lock.
    File {
        path: PathBuf,
        kind: FileKind,
        key: OnceLock<Zeroizing<[u8; 32]>>,
    },
    /// A key held in memory; heads in memory when `anchored`.
    Memory {
        key: Zeroizing<[u8; 32]>,
        heads: Mutex<Heads>,
        anchored: bool,
    },
}

/// The audit key and anchor of a keyring ([`super::KeyProvider::audit_seal`]). Cheap to clone
/// (clones share the key and the anchor). `Debug` shows neither the key nor a MAC.
#[derive(Clone)]
pub struct AuditSeal {
    place: Arc<Place>,
}

impl fmt::Debug for AuditSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.place {
            Place::File { path, .. } => f
                .debug_struct("AuditSeal")
                .field("file", path)
                .finish_non_exhaustive(),
            Place::Memory { anchored, .. } => f
                .debug_struct("AuditSeal")
                .field("in_memory", &true)
                .field("anchored", anchored)
                .finish_non_exhaustive(),
        }
    }
}

impl AuditSeal {
    /// The seal of the key file at `key_file`: key and anchor in `<key_file>.audit`.
    pub(crate) fn for_key_file(key_file: &Path) -> AuditSeal {
        let mut path = key_file.as_os_str().to_owned();
        path.push(".audit");
        AuditSeal {
            place: Arc::new(Place::File {
                path: PathBuf::from(path),
                kind: FileKind::Local,
                key: OnceLock::new(),
            }),
        }
    }

    /// The seal of a KMS audit file at `path` whose wrapped key unwrapped to `key`
    /// ([`load_or_create_kms_audit_file`]): heads anchored in that file.
    #[cfg_attr(not(feature = "kms"), allow(dead_code))] // For the KMS provider (feature `kms`).
    pub(crate) fn for_kms_file(path: &Path, key: Zeroizing<[u8; 32]>) -> AuditSeal {
        AuditSeal {
            place: Arc::new(Place::File {
                path: path.to_path_buf(),
                kind: FileKind::Kms,
                key: OnceLock::from(key),
            }),
        }
    }

    /// A seal with `key`, anchored in memory when `anchored` (else not anchored at all).
    pub(crate) fn in_memory(key: Zeroizing<[u8; 32]>, anchored: bool) -> AuditSeal {
        AuditSeal {
            place: Arc::new(Place::Memory {
                key,
                heads: Mutex::new(Heads::new()),
                anchored,
            }),
        }
    }

    /// A key derived from other key material (`domain` keeps derivations apart).
    pub(crate) fn derive_key(material: &[u8; 32], domain: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut mac = hmac(material);
        mac.update(domain);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&mac.finalize().into_bytes());
        key
    }

    /// Whether the chain head is anchored (false for keyrings from the environment).
    pub fn is_anchored(&self) -> bool {
        match &*self.place {
            Place::File { .. } => true,
            Place::Memory { anchored, .. } => *anchored,
        }
    }

    /// HMAC-SHA256 of `message` under the audit key, as lowercase hex.
    ///
    /// # Errors
    /// For a key file: [`VaultError::KeyFile`] / [`VaultError::KeyFileFormat`] if the audit file
    /// cannot be read or created.
    pub fn mac_hex(&self, message: &[u8]) -> Result<String, VaultError> {
        let key = self.key()?;
        let mut mac = hmac(key);
        mac.update(message);
        Ok(hex(&mac.finalize().into_bytes()))
    }

    /// Whether `mac_hex` is the MAC of `message` (compared in constant time).
    ///
    /// # Errors
    /// As [`Self::mac_hex`].
    pub fn verify_hex(&self, message: &[u8], mac_hex: &str) -> Result<bool, VaultError> {
        let key = self.key()?;
        let mut mac = hmac(key);
        mac.update(message);
        let Some(expected) = unhex32(mac_hex) else {
            return Ok(false);
        };
        Ok(mac.verify_slice(&expected).is_ok())
    }

    /// The anchored head of store `store_id` (`None`: not anchored, or nothing appended yet).
    ///
    /// # Errors
    /// As [`Self::mac_hex`].
    pub fn head(&self, store_id: &str) -> Result<Option<AuditHead>, VaultError> {
        match &*self.place {
            Place::File { path, kind, .. } => Ok(read_audit_file(path, *kind)?
                .and_then(|f| f.heads.get(store_id).cloned())
                .map(|h| AuditHead {
                    seq: h.seq,
                    mac: h.mac.clone(),
                })),
            Place::Memory {
                heads, anchored, ..
            } => Ok((*anchored)
                .then(|| {
                    heads
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get(store_id)
                        .cloned()
                })
                .flatten()),
        }
    }

    /// Moves store `store_id`'s anchor to `head` when it is newer than the anchored one; returns
    /// the head it replaced (for [`Self::restore_head`]). No-op when not anchored.
    ///
    /// # Errors
    /// As [`Self::mac_hex`]; [`VaultError::KeyFile`] if the audit file cannot be written.
    pub fn advance_head(
        &self,
        store_id: &str,
        head: &AuditHead,
    ) -> Result<Option<AuditHead>, VaultError> {
        self.change_head(store_id, |current| match current {
            Some(c) if c.seq >= head.seq => None,
            _ => Some(Some(head.clone())),
        })
    }

    /// Puts store `store_id`'s anchor back to `previous` if it still is `current` (a commit
    /// failed after [`Self::advance_head`]).
    ///
    /// # Errors
    /// As [`Self::advance_head`].
    pub fn restore_head(
        &self,
        store_id: &str,
        current: &AuditHead,
        previous: Option<AuditHead>,
    ) -> Result<(), VaultError> {
        self.change_head(store_id, |now| {
            (now == Some(current)).then(|| previous.clone())
        })
        .map(|_| ())
    }

    /// Applies `change` (`None`: leave as is; `Some(new)`: set) to the head of `store_id`.
    fn change_head(
        &self,
        store_id: &str,
        change: impl FnOnce(Option<&AuditHead>) -> Option<Option<AuditHead>>,
    ) -> Result<Option<AuditHead>, VaultError> {
        match &*self.place {
            Place::File { path, kind, .. } => {
                let _lock = lock_key_file(path)?;
                let mut file = match read_audit_file(path, *kind)? {
                    Some(file) => file,
                    None => {
                        let file = new_audit_file(*kind, path)?;
                        write_audit_file(path, &file)?;
                        file
                    }
                };
                let current = file.heads.get(store_id).map(|h| AuditHead {
                    seq: h.seq,
                    mac: h.mac.clone(),
                });
                if let Some(new) = change(current.as_ref()) {
                    match new {
                        Some(h) => {
                            file.heads.insert(
                                store_id.to_string(),
                                HeadEntry {
                                    seq: h.seq,
                                    mac: h.mac,
                                },
                            );
                        }
                        None => {
                            file.heads.remove(store_id);
                        }
                    }
                    write_audit_file(path, &file)?;
                }
                Ok(current)
            }
            Place::Memory {
                heads, anchored, ..
            } => {
                if !*anchored {
                    return Ok(None);
                }
                let mut heads = heads.lock().unwrap_or_else(PoisonError::into_inner);
                let current = heads.get(store_id).cloned();
                if let Some(new) = change(current.as_ref()) {
                    match new {
                        Some(h) => heads.insert(store_id.to_string(), h),
                        None => heads.remove(store_id),
                    };
                }
                Ok(current)
            }
        }
    }

    fn key(&self) -> Result<&Zeroizing<[u8; 32]>, VaultError> {
        match &*self.place {
            Place::Memory { key, .. } => Ok(key),
            Place::File { path, kind, key } => {
                if let Some(k) = key.get() {
                    return Ok(k);
                }
                let loaded = match read_audit_file(path, *kind)? {
                    Some(file) => file.key()?,
                    None => {
                        let _lock = lock_key_file(path)?;
                        // Another process may have created it while this one waited.
                        match read_audit_file(path, *kind)? {
                            Some(file) => file.key()?,
                            None => {
                                let file = new_audit_file(*kind, path)?;
                                write_audit_file(path, &file)?;
                                file.key()?
                            }
                        }
                    }
                };
                Ok(key.get_or_init(|| loaded))
            }
        }
    }
}

fn unhex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |c: u8| char::from(c).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuditFile {
    format: String,
    version: u32,
    /// Base64 of the audit key (local keyring files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    /// The audit key wrapped by KMS (KMS audit files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wrapped_key: Option<WrappedAuditKeyEntry>,
    /// Per store id, the anchored head.
    #[serde(default)]
    heads: BTreeMap<String, HeadEntry>,
}

impl Drop for AuditFile {
    fn drop(&mut self) {
        if let Some(key) = &mut self.key {
            key.zeroize();
        }
    }
}

/// The audit key as KMS wrapped it: the KMS key (ARN) and the ciphertext blob (base64).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WrappedAuditKeyEntry {
    key_id: String,
    blob: String,
}

/// The audit key of a KMS audit file, wrapped: the KMS key that wrapped it and the blob.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "kms"), allow(dead_code))] // For the KMS provider (feature `kms`).
pub(crate) struct WrappedAuditKey {
    /// The KMS key (ARN) it is wrapped under.
    pub(crate) key_id: String,
    /// The KMS ciphertext blob.
    pub(crate) blob: Vec<u8>,
}

impl AuditFile {
    fn key(&self) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        // Only local files hold the key; KMS files are read for their heads and wrapped key.
        let Some(text) = &self.key else {
            return Err(VaultError::BadKey {
                source_name: "the audit anchor file".into(),
                reason: "it holds no audit key",
            });
        };
        let decoded =
            Zeroizing::new(
                STANDARD
                    .decode(text.trim())
                    .map_err(|_| VaultError::BadKey {
                        source_name: "the audit anchor file".into(),
                        reason: "it is not base64",
                    })?,
            );
        let key: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::BadKey {
                source_name: "the audit anchor file".into(),
                reason: "it must decode to exactly 32 bytes",
            })?;
        Ok(Zeroizing::new(key))
    }
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadEntry {
    seq: i64,
    mac: String,
}

fn new_audit_file(kind: FileKind, path: &Path) -> Result<AuditFile, VaultError> {
    if kind == FileKind::Kms {
        // Created by the KMS provider when it connects; gone since.
        return Err(missing_kms_audit_file(path));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    Rng::Os.fill(&mut *key)?;
    Ok(AuditFile {
        format: AUDIT_FILE_FORMAT.into(),
        version: AUDIT_FILE_VERSION,
        key: Some(STANDARD.encode(*key)),
        wrapped_key: None,
        heads: BTreeMap::new(),
    })
}

/// The wrapped audit key of the KMS audit file at `path`, created with `create` (under the
/// file's lock, so processes starting together agree on one key) when the file does not exist.
///
/// # Errors
/// The file cannot be read, written or parsed; `create`'s errors.
#[cfg_attr(not(feature = "kms"), allow(dead_code))] // For the KMS provider (feature `kms`).
pub(crate) fn load_or_create_kms_audit_file(
    path: &Path,
    create: impl FnOnce() -> Result<WrappedAuditKey, VaultError>,
) -> Result<WrappedAuditKey, VaultError> {
    if let Some(file) = read_audit_file(path, FileKind::Kms)? {
        return kms_wrapped_key(path, &file);
    }
    let _lock = lock_key_file(path)?;
    if let Some(file) = read_audit_file(path, FileKind::Kms)? {
        return kms_wrapped_key(path, &file);
    }
    let wrapped = create()?;
    let file = AuditFile {
        format: KMS_AUDIT_FILE_FORMAT.into(),
        version: AUDIT_FILE_VERSION,
        key: None,
        wrapped_key: Some(WrappedAuditKeyEntry {
            key_id: wrapped.key_id.clone(),
            blob: STANDARD.encode(&wrapped.blob),
        }),
        heads: BTreeMap::new(),
    };
    write_audit_file(path, &file)?;
    Ok(wrapped)
}

/// Replaces the wrapped audit key of the KMS audit file at `path` with what `change` returns
/// for the current one (`None`: keep it), under the file's lock; the heads are kept.
///
/// # Errors
/// The file is missing or cannot be read or written; `change`'s errors.
#[cfg_attr(not(feature = "kms"), allow(dead_code))] // For the KMS provider (feature `kms`).
pub(crate) fn change_kms_audit_key(
    path: &Path,
    change: impl FnOnce(&WrappedAuditKey) -> Result<Option<WrappedAuditKey>, VaultError>,
) -> Result<(), VaultError> {
    let _lock = lock_key_file(path)?;
    let Some(mut file) = read_audit_file(path, FileKind::Kms)? else {
        return Err(missing_kms_audit_file(path));
    };
    let current = kms_wrapped_key(path, &file)?;
    if let Some(new) = change(&current)? {
        file.wrapped_key = Some(WrappedAuditKeyEntry {
            key_id: new.key_id,
            blob: STANDARD.encode(&new.blob),
        });
        write_audit_file(path, &file)?;
    }
    Ok(())
}

fn missing_kms_audit_file(path: &Path) -> VaultError {
    VaultError::KeyFileFormat {
        path: path.to_path_buf(),
        reason: "the KMS audit file is missing: it holds the wrapped audit key and the anchored \
                 chain heads; restore it from a backup"
            .into(),
    }
}

#[cfg_attr(not(feature = "kms"), allow(dead_code))] // For the KMS provider (feature `kms`).
fn kms_wrapped_key(path: &Path, file: &AuditFile) -> Result<WrappedAuditKey, VaultError> {
    let format_err = |reason: &str| VaultError::KeyFileFormat {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    let entry = file
        .wrapped_key
        .as_ref()
        .ok_or_else(|| format_err("it has no `wrappedKey`"))?;
    let blob = STANDARD
        .decode(entry.blob.trim())
        .map_err(|_| format_err("its `wrappedKey.blob` is not base64"))?;
    Ok(WrappedAuditKey {
        key_id: entry.key_id.clone(),
        blob,
    })
}

/// The audit file, or `None` when it does not exist yet.
fn read_audit_file(path: &Path, kind: FileKind) -> Result<Option<AuditFile>, VaultError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(VaultError::KeyFile {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    super::keyring::check_private(path)?;
    let format_err = |reason: String| VaultError::KeyFileFormat {
        path: path.to_path_buf(),
        reason,
    };
    let file: AuditFile = serde_json::from_slice(&bytes).map_err(|e| {
        format_err(format!(
            "not the expected JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let expected = kind.format();
    if file.format != expected || file.version != AUDIT_FILE_VERSION {
        return Err(format_err(format!(
            "format `{}` version {}; expected `{expected}` version {AUDIT_FILE_VERSION}",
            file.format, file.version
        )));
    }
    Ok(Some(file))
}

fn write_audit_file(path: &Path, file: &AuditFile) -> Result<(), VaultError> {
    let mut out = Zeroizing::new(Vec::with_capacity(256 + 100 * file.heads.len()));
    // Serializing plain strings and numbers into a Vec cannot fail.
    let _ = serde_json::to_writer_pretty(&mut *out, file);
    out.push(b'\n');
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| VaultError::KeyFile {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    replace_key_file(path, &out, &Rng::Os)
}
