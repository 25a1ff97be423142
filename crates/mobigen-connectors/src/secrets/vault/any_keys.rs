//! Keys chosen at run time (feature `kms`): AWS KMS when [`ENV_KMS_KEY_ID`] is set, else the
//! local keyring. What the CLI and the Node package open, so both follow one rule.

use std::path::Path;

use super::kms::{ENV_KMS_KEY_ID, KmsConfig, KmsKeyProvider};
use super::{
    AuditSeal, DataKey, ENV_KEY, GeneratedDataKey, KeyId, KeyInfo, KeyProvider, LocalKeyring,
    RotateKeys, VaultError,
};
use crate::clock::Timestamp;

/// The local keyring or AWS KMS.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyKeys {
    /// A key file, or keys from the environment ([`LocalKeyring`]).
    Local(LocalKeyring),
    /// AWS KMS ([`KmsConfig::from_env`]).
    Kms(Box<KmsKeyProvider>),
}

impl AnyKeys {
    /// AWS KMS as the environment configures it ([`KmsConfig::from_env`]) when
    /// [`ENV_KMS_KEY_ID`] is set; `None` when it is not (the caller opens its local keyring).
    ///
    /// # Errors
    /// The KMS configuration is incomplete or the key cannot be reached.
    pub fn kms_from_env() -> Result<Option<AnyKeys>, VaultError> {
        if std::env::var_os(ENV_KMS_KEY_ID).is_none_or(|v| v.is_empty()) {
            return Ok(None);
        }
        let config = KmsConfig::from_env()?;
        Ok(Some(AnyKeys::Kms(Box::new(KmsKeyProvider::connect(
            &config,
        )?))))
    }

    /// Where the keys live, for messages: the key file, the environment, or the KMS alias.
    pub fn source(&self) -> String {
        match self {
            AnyKeys::Local(keyring) => keyring.path().map_or_else(
                || format!("environment ({ENV_KEY})"),
                |path: &Path| path.display().to_string(),
            ),
            AnyKeys::Kms(kms) => format!(
                "AWS KMS ({ENV_KMS_KEY_ID}={})",
                kms.alias().unwrap_or("a key id")
            ),
        }
    }

    fn provider(&self) -> &dyn KeyProvider {
        match self {
            AnyKeys::Local(keyring) => keyring,
            AnyKeys::Kms(kms) => kms.as_ref(),
        }
    }

    fn rotator(&mut self) -> &mut dyn RotateKeys {
        match self {
            AnyKeys::Local(keyring) => keyring,
            AnyKeys::Kms(kms) => kms.as_mut(),
        }
    }
}

impl KeyProvider for AnyKeys {
    fn active_key_id(&self) -> Result<KeyId, VaultError> {
        self.provider().active_key_id()
    }
    fn generate_data_key(&self, aad: &[u8]) -> Result<GeneratedDataKey, VaultError> {
        self.provider().generate_data_key(aad)
    }
    fn wrap_data_key(
        &self,
        data_key: &DataKey,
        aad: &[u8],
    ) -> Result<(KeyId, Vec<u8>), VaultError> {
        self.provider().wrap_data_key(data_key, aad)
    }
    fn unwrap_data_key(
        &self,
        key_id: &KeyId,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, VaultError> {
        self.provider().unwrap_data_key(key_id, wrapped, aad)
    }
    fn keys(&self) -> Vec<KeyInfo> {
        self.provider().keys()
    }
    fn audit_seal(&self) -> Result<AuditSeal, VaultError> {
        self.provider().audit_seal()
    }
}

impl RotateKeys for AnyKeys {
    fn rotate_active_key(&mut self, now: Timestamp) -> Result<KeyId, VaultError> {
        self.rotator().rotate_active_key(now)
    }
    fn retire_key(&mut self, id: &KeyId, now: Timestamp) -> Result<(), VaultError> {
        self.rotator().retire_key(id, now)
    }
}
