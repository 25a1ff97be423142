//! The credential vault: AES-256-GCM envelope encryption of connector secrets.
//!
//! Each record gets a fresh random 256-bit data key and a random 96-bit nonce. The data key is
//! wrapped (encrypted) by a key-encryption key (KEK) named by a [`KeyId`], held by a
//! [`KeyProvider`]: the [`LocalKeyring`] by default, or AWS KMS (`KmsKeyProvider`, feature
//! `kms`). The record carries the key
//! id and the wrapped key in a versioned header ([`Envelope`]), so records written under an old
//! KEK keep decrypting after a rotation until that key is retired, and [`Vault::rewrap`] moves a
//! record to the active KEK without touching its encrypted body.
//!
//! Authenticated data: the body is sealed with the fixed header (magic, version, algorithm), its
//! nonce and the caller's [`Context`] (project id, connector id and, for stored credentials, the
//! instance id and credentials version); the data key is sealed with the
//! fixed header, the key id and the same context. Every header byte is therefore authenticated by
//! one of the two tags, and a record moved to another project or connector fails to open.
//! Authentication failures all give the same [`VaultError::Decryption`], whichever tag failed.
//!
//! ```
//! use mobigen_connectors::secrets::vault::{Context, LocalKeyring, Vault};
//! use mobigen_connectors::clock::Timestamp;
//!
//! let vault = Vault::new(LocalKeyring::generate_in_memory(Timestamp::from_unix_millis(0))?);
//! let context = Context::new("project-1", "stripe");
//! let text = vault.encrypt_to_text(b"{\"/secretKey\":\"sk_test_1\"}", &context)?;
//! assert!(text.starts_with("mgv1:"));
//! let plaintext = vault.decrypt_text(&text, &context)?;
//! assert_eq!(plaintext.expose_secret(), b"{\"/secretKey\":\"sk_test_1\"}");
//! assert!(vault.decrypt_text(&text, &Context::new("project-2", "stripe")).is_err());
//! # Ok::<(), mobigen_connectors::secrets::vault::VaultError>(())
//! ```

#[cfg(feature = "kms")]
mod any_keys;
mod audit_seal;
mod envelope;
mod keyring;
#[cfg(feature = "kms")]
mod kms;
mod provider;
mod random;

use std::path::PathBuf;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};

#[cfg(feature = "kms")]
pub use any_keys::AnyKeys;
pub use audit_seal::{AuditHead, AuditSeal, ENV_AUDIT_KEY};
pub use envelope::{
    ALGORITHM_AES256GCM, Envelope, FORMAT_VERSION, MAGIC, NONCE_LEN, TAG_LEN, TEXT_PREFIX,
};
pub(crate) use keyring::hex as hex_lower;
pub use keyring::{
    DEFAULT_KEY_MAX_AGE, ENV_KEY, ENV_KEY_ID, ENV_KEYRING_PATH, ENV_PREVIOUS_KEYS, KeyAgeFinding,
    LocalKeyring, keys_due_for_rotation,
};
#[cfg(feature = "kms")]
pub use kms::{
    AUDIT_CONTEXT_KEY, CONTEXT_KEY, ENV_AUDIT_FILE as ENV_KMS_AUDIT_FILE,
    ENV_AUDIT_KEY as ENV_KMS_AUDIT_KEY, ENV_ENDPOINT as ENV_KMS_ENDPOINT,
    ENV_ENDPOINT_ANY as ENV_AWS_ENDPOINT, ENV_KMS_KEY_ID, KmsAudit, KmsConfig, KmsKeyProvider,
    TAG_ALIAS, TAG_RETIRED_AT,
};
pub use provider::{DataKey, GeneratedDataKey, KeyId, KeyInfo, KeyProvider, RotateKeys};
use random::Rng;

use crate::secrets::secret::SecretBytes;

/// Errors of the vault and its key providers. No variant ever carries secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The data does not start with the vault's magic bytes.
    #[error("not a vault record: the data does not start with the vault's magic bytes")]
    NotARecord,
    /// The record ends before its header or its authentication tag is complete.
    #[error(
        "vault record is truncated: it ends before its header or authentication tag is complete"
    )]
    Truncated,
    /// The record was written in a format version this build cannot read.
    #[error(
        "vault record has format version {found}; this build reads version {FORMAT_VERSION} only: upgrade mobigen-connectors"
    )]
    UnknownVersion {
        /// The version byte found.
        found: u8,
    },
    /// The record names an algorithm this build does not know.
    #[error(
        "vault record uses algorithm {found}; this build knows algorithm {ALGORITHM_AES256GCM} (AES-256-GCM) only"
    )]
    UnknownAlgorithm {
        /// The algorithm byte found.
        found: u8,
    },
    /// A header field holds an impossible value.
    #[error("vault record header is malformed: {what}")]
    Malformed {
        /// Which field.
        what: &'static str,
    },
    /// No key-encryption key with this id is known to the key provider.
    #[error(
        "unknown vault key id `{key_id}`: the key that wrapped this record is not in the keyring; restore the keyring or the key's environment variable"
    )]
    UnknownKeyId {
        /// The key id named by the record.
        key_id: String,
    },
    /// The key-encryption key was retired; records under it can no longer be opened.
    #[error(
        "vault key `{key_id}` was retired; records wrapped under it cannot be decrypted (rewrap records before retiring a key)"
    )]
    KeyRetired {
        /// The retired key id.
        key_id: String,
    },
    /// Authentication failed: the record was altered, belongs to another project or connector, or
    /// was wrapped by a different key with the same id. Deliberately says no more.
    #[error(
        "decryption failed: the record was altered, belongs to another project or connector, or the key does not match"
    )]
    Decryption,
    /// The text form is not `mgv1:` followed by base64url.
    #[error("vault text is not valid: {reason}")]
    BadTextEncoding {
        /// What is wrong.
        reason: &'static str,
    },
    /// A key id is empty, too long, or holds characters outside `A-Z a-z 0-9 . _ - : /`.
    #[error("invalid vault key id: {reason}")]
    InvalidKeyId {
        /// What is wrong.
        reason: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// Reading or writing the key file failed.
    #[error("vault key file {}: {source}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The key file can be read by other users.
    #[error("vault key file {} has permissions {mode:o}; other users could read it: run `chmod 600` on it", path.display())]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file is not a keyring this build understands.
    #[error("vault key file {} is not a valid keyring: {reason}", path.display())]
    KeyFileFormat {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never key material).
        reason: String,
    },
    /// A key given in an environment variable (or as text) is not base64 of 32 bytes.
    #[error("vault key in {source_name} is not valid: {reason}")]
    BadKey {
        /// Where the key came from (an environment variable name).
        source_name: String,
        /// What is wrong (never key material).
        reason: &'static str,
    },
    /// The keyring cannot do this (for instance rotate a key given by an environment variable).
    #[error("the vault keyring cannot do this: {reason}")]
    Unsupported {
        /// Why, and what to do instead.
        reason: &'static str,
    },
    /// An external key provider (a KMS) failed.
    #[error("key provider {provider} failed: {message}")]
    Provider {
        /// The provider's name.
        provider: String,
        /// Its message (never key material).
        message: String,
    },
}

/// What a record is bound to: a ciphertext opens only with the context it was sealed with.
///
/// Credentials in the store are bound to their instance and credentials version as well
/// ([`Context::for_instance`]), so an older version cannot be swapped into the newest row.
/// Records written before that binding existed (issue 15 item 13) name the project and the
/// connector only; [`Context::legacy`] opens them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context<'a> {
    /// The project the credentials belong to.
    pub project_id: &'a str,
    /// The connector they configure.
    pub connector_id: &'a str,
    /// The connector instance and credentials version, for stored credentials.
    pub instance: Option<InstanceBinding<'a>>,
}

/// The instance and credentials version a stored record is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceBinding<'a> {
    /// The connector instance's id.
    pub instance_id: &'a str,
    /// The credentials version, from 1.
    pub version: i64,
}

impl<'a> Context<'a> {
    /// A context for `connector_id` in `project_id`.
    pub fn new(project_id: &'a str, connector_id: &'a str) -> Context<'a> {
        Context {
            project_id,
            connector_id,
            instance: None,
        }
    }

    /// A context for credentials `version` of instance `instance_id` of `connector_id` in
    /// `project_id`.
    pub fn for_instance(
        project_id: &'a str,
        connector_id: &'a str,
        instance_id: &'a str,
        version: i64,
    ) -> Context<'a> {
        Context {
            project_id,
            connector_id,
            instance: Some(InstanceBinding {
                instance_id,
                version,
            }),
        }
    }

    /// The same context without the instance: what records written before the instance binding
    /// were sealed with.
    pub fn legacy(&self) -> Context<'a> {
        Context::new(self.project_id, self.connector_id)
    }

    /// Unambiguous encoding: each part length-prefixed (u32, big-endian); with an instance, its
    /// id likewise, then the version (i64, big-endian).
    fn encode_into(&self, out: &mut Vec<u8>) {
        let mut part = |text: &str| {
            let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        };
        part(self.project_id);
        part(self.connector_id);
        if let Some(instance) = self.instance {
            part(instance.instance_id);
            out.extend_from_slice(&instance.version.to_be_bytes());
        }
    }
}

/// Encrypts and decrypts records with envelope encryption under a [`KeyProvider`].
#[derive(Debug)]
pub struct Vault<P> {
    provider: P,
    rng: Rng,
}

impl<P: KeyProvider> Vault<P> {
    /// A vault whose key-encryption keys come from `provider`.
    pub fn new(provider: P) -> Vault<P> {
        Vault {
            provider,
            rng: Rng::Os,
        }
    }

    #[cfg(test)]
    pub(crate) fn with_rng(provider: P, rng: Rng) -> Vault<P> {
        Vault { provider, rng }
    }

    /// The key provider.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// The key provider, for key rotation.
    pub fn provider_mut(&mut self) -> &mut P {
        &mut self.provider
    }

    /// Encrypts `plaintext` for `context` under a fresh data key wrapped by the active KEK.
    ///
    /// # Errors
    /// [`VaultError::Random`] if the OS RNG fails; provider errors.
    pub fn encrypt(&self, plaintext: &[u8], context: &Context<'_>) -> Result<Envelope, VaultError> {
        let aad = AadBuilder::new(context);
        let generated = self.provider.generate_data_key(aad.wrap())?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce)?;
        let cipher = Aes256Gcm::new(generated.data_key.expose_secret().into());
        let mut body = Vec::with_capacity(plaintext.len() + TAG_LEN);
        body.extend_from_slice(plaintext);
        let tag = cipher
            .encrypt_in_place_detached(&Nonce::from(nonce), &aad.body(&nonce), &mut body)
            .map_err(|_| VaultError::Decryption)?;
        body.extend_from_slice(&tag);
        Ok(Envelope::from_parts(
            generated.key_id,
            generated.wrapped_key,
            nonce,
            body,
        ))
    }

    /// Decrypts `envelope`, which must have been sealed for `context`.
    ///
    /// # Errors
    /// [`VaultError::UnknownKeyId`] / [`VaultError::KeyRetired`] if its KEK is not available;
    /// [`VaultError::Decryption`] if anything was altered or the context differs.
    pub fn decrypt(
        &self,
        envelope: &Envelope,
        context: &Context<'_>,
    ) -> Result<SecretBytes, VaultError> {
        let aad = AadBuilder::new(context);
        let data_key =
            self.provider
                .unwrap_data_key(envelope.key_id(), envelope.wrapped_key(), aad.wrap())?;
        let body = envelope.body();
        let split = body
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(VaultError::Truncated)?;
        let (ciphertext, tag) = body.split_at(split);
        let mut plaintext = SecretBytes::new(ciphertext.to_vec());
        let cipher = Aes256Gcm::new(data_key.expose_secret().into());
        cipher
            .decrypt_in_place_detached(
                &Nonce::from(*envelope.nonce()),
                &aad.body(envelope.nonce()),
                plaintext.expose_secret_mut(),
                Tag::from_slice(tag),
            )
            .map_err(|_| VaultError::Decryption)?;
        Ok(plaintext)
    }

    /// Re-wraps the data key of `envelope` under the provider's active KEK. The nonce and the
    /// encrypted body are kept byte for byte. A record already under the active key is returned
    /// as it is.
    ///
    /// # Errors
    /// As [`Self::decrypt`] for the unwrap step (only the wrapped key is authenticated here), and
    /// provider errors for the wrap step.
    pub fn rewrap(
        &self,
        envelope: Envelope,
        context: &Context<'_>,
    ) -> Result<Envelope, VaultError> {
        let active = self.provider.active_key_id()?;
        if envelope.key_id() == &active {
            return Ok(envelope);
        }
        let aad = AadBuilder::new(context);
        let data_key =
            self.provider
                .unwrap_data_key(envelope.key_id(), envelope.wrapped_key(), aad.wrap())?;
        let (key_id, wrapped) = self.provider.wrap_data_key(&data_key, aad.wrap())?;
        Ok(envelope.with_wrapped_key(key_id, wrapped))
    }

    /// [`Self::encrypt`], then the text form ([`Envelope::to_text`]).
    ///
    /// # Errors
    /// As [`Self::encrypt`].
    pub fn encrypt_to_text(
        &self,
        plaintext: &[u8],
        context: &Context<'_>,
    ) -> Result<String, VaultError> {
        Ok(self.encrypt(plaintext, context)?.to_text())
    }

    /// Parses the text form, then [`Self::decrypt`].
    ///
    /// # Errors
    /// [`VaultError::BadTextEncoding`] and the parse errors of [`Envelope::from_text`]; then as
    /// [`Self::decrypt`].
    pub fn decrypt_text(
        &self,
        text: &str,
        context: &Context<'_>,
    ) -> Result<SecretBytes, VaultError> {
        self.decrypt(&Envelope::from_text(text)?, context)
    }
}

/// The two authenticated-data strings of a record.
struct AadBuilder {
    /// magic, version, algorithm, then the encoded context.
    wrap: Vec<u8>,
}

impl AadBuilder {
    fn new(context: &Context<'_>) -> AadBuilder {
        let mut wrap =
            Vec::with_capacity(6 + 20 + context.project_id.len() + context.connector_id.len() + 40);
        wrap.extend_from_slice(&MAGIC);
        wrap.push(FORMAT_VERSION);
        wrap.push(ALGORITHM_AES256GCM);
        context.encode_into(&mut wrap);
        AadBuilder { wrap }
    }

    /// What the provider binds the wrapped data key to (it adds the key id itself).
    fn wrap(&self) -> &[u8] {
        &self.wrap
    }

    /// What the body is bound to: the fixed header, the nonce, the context.
    fn body(&self, nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.wrap.len() + NONCE_LEN);
        aad.extend_from_slice(&self.wrap[..6]);
        aad.extend_from_slice(nonce);
        aad.extend_from_slice(&self.wrap[6..]);
        aad
    }
}

#[cfg(all(test, feature = "kms"))]
mod kms_tests;
#[cfg(test)]
mod tests;
