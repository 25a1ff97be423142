//! The key-provider interface, shaped like a KMS: `GenerateDataKey` (a fresh data key, in clear
//! and wrapped under the active key), `Encrypt` of a given data key (for rewrapping) and
//! `Decrypt` of a wrapped key given its key id. A cloud KMS provider implements the same trait.

use std::fmt;

use zeroize::Zeroizing;

use super::VaultError;
use super::audit_seal::AuditSeal;
use crate::clock::Timestamp;

/// The name of a key-encryption key (`lk-3f9a0c21d4e5`, or a KMS key ARN).
///
/// 1 to 255 bytes of `A-Z a-z 0-9 . _ - : /`. Not secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Checks and wraps `id`.
    ///
    /// # Errors
    /// [`VaultError::InvalidKeyId`] if it is empty, longer than 255 bytes or has other characters.
    pub fn new(id: &str) -> Result<KeyId, VaultError> {
        if id.is_empty() {
            return Err(VaultError::InvalidKeyId {
                reason: "it is empty",
            });
        }
        if id.len() > 255 {
            return Err(VaultError::InvalidKeyId {
                reason: "it is longer than 255 bytes",
            });
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b))
        {
            return Err(VaultError::InvalidKeyId {
                reason: "it may hold only A-Z a-z 0-9 . _ - : /",
            });
        }
        Ok(KeyId(id.to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit data key in clear. Wiped on drop; `Debug` prints a redaction.
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// Wraps key material (from a KMS response, for instance).
    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(Zeroizing::new(bytes))
    }

    /// The key material. Never log it.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

/// The answer to `GenerateDataKey`: the data key in clear, and wrapped under `key_id`.
#[derive(Debug)]
pub struct GeneratedDataKey {
    /// The key-encryption key that wrapped it.
    pub key_id: KeyId,
    /// The data key in clear; use once, then drop.
    pub data_key: DataKey,
    /// The data key wrapped (at most 65,535 bytes).
    pub wrapped_key: Vec<u8>,
}

/// What a provider says about one of its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key's id.
    pub id: KeyId,
    /// When it was created, if known (keys from environment variables have no date).
    pub created_at: Option<Timestamp>,
    /// When it was retired; a retired key no longer unwraps.
    pub retired_at: Option<Timestamp>,
    /// Whether new records are wrapped under it.
    pub active: bool,
}

/// Holds key-encryption keys and wraps / unwraps data keys with them.
///
/// `aad` is authenticated data the wrapped key is bound to (the record's fixed header and
/// context); a provider must also bind the key id (a KMS does so by construction). It is the
/// KMS "encryption context".
pub trait KeyProvider: Send + Sync {
    /// The key new records are wrapped under.
    ///
    /// # Errors
    /// Provider errors (a KMS alias that cannot be resolved).
    fn active_key_id(&self) -> Result<KeyId, VaultError>;

    /// A fresh random data key, in clear and wrapped under the active key (KMS `GenerateDataKey`).
    ///
    /// # Errors
    /// [`VaultError::Random`]; provider errors.
    fn generate_data_key(&self, aad: &[u8]) -> Result<GeneratedDataKey, VaultError>;

    /// Wraps `data_key` under the active key (KMS `Encrypt`); returns that key's id and the blob.
    ///
    /// # Errors
    /// [`VaultError::Random`]; provider errors.
    fn wrap_data_key(&self, data_key: &DataKey, aad: &[u8])
    -> Result<(KeyId, Vec<u8>), VaultError>;

    /// Unwraps a data key wrapped under `key_id` (KMS `Decrypt`).
    ///
    /// # Errors
    /// [`VaultError::UnknownKeyId`], [`VaultError::KeyRetired`], or [`VaultError::Decryption`] if
    /// the blob or `aad` do not match.
    fn unwrap_data_key(
        &self,
        key_id: &KeyId,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, VaultError>;

    /// Every key the provider knows, for the rotation policy and `keys list`.
    fn keys(&self) -> Vec<KeyInfo>;

    /// The key that authenticates the audit log and the anchor of its head, both out of the
    /// store's reach ([`AuditSeal`]).
    ///
    /// # Errors
    /// Provider errors (a provider that keeps no audit key).
    fn audit_seal(&self) -> Result<AuditSeal, VaultError>;
}

/// A provider whose keys can be rotated and retired by this library (the local keyring's file,
/// a KMS alias); what [`crate::store::CredentialService::rotate_key`] and
/// [`crate::store::CredentialService::retire_key`] use.
pub trait RotateKeys: KeyProvider {
    /// Makes a fresh key the active one and returns its id. Records under older keys keep
    /// decrypting until those are retired.
    ///
    /// # Errors
    /// [`VaultError::Unsupported`] when this provider's keys cannot be rotated from here;
    /// provider errors.
    fn rotate_active_key(&mut self, now: Timestamp) -> Result<KeyId, VaultError>;

    /// Retires `id`: records still wrapped under it stop decrypting.
    ///
    /// # Errors
    /// [`VaultError::Unsupported`] for the active key; [`VaultError::UnknownKeyId`]; provider
    /// errors.
    fn retire_key(&mut self, id: &KeyId, now: Timestamp) -> Result<(), VaultError>;
}

impl<P: KeyProvider + ?Sized> KeyProvider for Box<P> {
    fn active_key_id(&self) -> Result<KeyId, VaultError> {
        (**self).active_key_id()
    }
    fn generate_data_key(&self, aad: &[u8]) -> Result<GeneratedDataKey, VaultError> {
        (**self).generate_data_key(aad)
    }
    fn wrap_data_key(
        &self,
        data_key: &DataKey,
        aad: &[u8],
    ) -> Result<(KeyId, Vec<u8>), VaultError> {
        (**self).wrap_data_key(data_key, aad)
    }
    fn unwrap_data_key(
        &self,
        key_id: &KeyId,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, VaultError> {
        (**self).unwrap_data_key(key_id, wrapped, aad)
    }
    fn keys(&self) -> Vec<KeyInfo> {
        (**self).keys()
    }
    fn audit_seal(&self) -> Result<AuditSeal, VaultError> {
        (**self).audit_seal()
    }
}
