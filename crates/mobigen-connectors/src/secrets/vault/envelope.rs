//! The record format.
//!
//! Binary form (all integers big-endian):
//!
//! | bytes | field |
//! | --- | --- |
//! | 4 | magic `MGVE` |
//! | 1 | format version (`1`) |
//! | 1 | algorithm (`1`: AES-256-GCM body, data key wrapped by the provider) |
//! | 1 + n | key id: length `n` (1..=255), then the id (`A-Z a-z 0-9 . _ - : /`) |
//! | 2 + m | wrapped data key: length `m` (1..=65535), then the provider's blob (the local keyring's is nonce, encrypted key, tag: 60 bytes) |
//! | 12 | nonce of the body |
//! | rest | encrypted body followed by its 16-byte tag |
//!
//! Text form, for a TEXT column: `mgv1:` then the binary form in base64url without padding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{KeyId, VaultError};

/// First bytes of every record.
pub const MAGIC: [u8; 4] = *b"MGVE";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Algorithm id: AES-256-GCM body under a per-record data key.
pub const ALGORITHM_AES256GCM: u8 = 1;
/// Length of a nonce.
pub const NONCE_LEN: usize = 12;
/// Length of an authentication tag.
pub const TAG_LEN: usize = 16;
/// Prefix of the text form.
pub const TEXT_PREFIX: &str = "mgv1:";

/// A parsed record: key id, wrapped data key, nonce and encrypted body (with its tag).
///
/// Parsing checks the structure only; authenticity is checked by [`super::Vault::decrypt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    key_id: KeyId,
    wrapped_key: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    body: Vec<u8>,
}

impl Envelope {
    pub(super) fn from_parts(
        key_id: KeyId,
        wrapped_key: Vec<u8>,
        nonce: [u8; NONCE_LEN],
        body: Vec<u8>,
    ) -> Envelope {
        Envelope {
            key_id,
            wrapped_key,
            nonce,
            body,
        }
    }

    pub(super) fn with_wrapped_key(self, key_id: KeyId, wrapped_key: Vec<u8>) -> Envelope {
        Envelope {
            key_id,
            wrapped_key,
            ..self
        }
    }

    /// The id of the key-encryption key that wrapped the data key.
    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    /// The wrapped data key, as the provider returned it.
    pub fn wrapped_key(&self) -> &[u8] {
        &self.wrapped_key
    }

    /// The nonce of the body.
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The encrypted body followed by its tag.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let id = self.key_id.as_str().as_bytes();
        let mut out = Vec::with_capacity(
            6 + 1 + id.len() + 2 + self.wrapped_key.len() + NONCE_LEN + self.body.len(),
        );
        out.extend_from_slice(&MAGIC);
        out.push(FORMAT_VERSION);
        out.push(ALGORITHM_AES256GCM);
        // Both lengths are bounded when the values are made (KeyId::new, wrap_data_key).
        out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(id);
        out.extend_from_slice(
            &u16::try_from(self.wrapped_key.len())
                .unwrap_or(u16::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(&self.wrapped_key);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.body);
        out
    }

    /// Parses the binary form.
    ///
    /// # Errors
    /// [`VaultError::NotARecord`], [`VaultError::UnknownVersion`], [`VaultError::UnknownAlgorithm`],
    /// [`VaultError::Malformed`] or [`VaultError::Truncated`]; never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, VaultError> {
        let mut reader = Reader(bytes);
        let magic = reader.take(MAGIC.len()).map_err(|_| {
            if MAGIC.starts_with(bytes) {
                VaultError::Truncated
            } else {
                VaultError::NotARecord
            }
        })?;
        if magic != MAGIC {
            return Err(VaultError::NotARecord);
        }
        let version = reader.byte()?;
        if version != FORMAT_VERSION {
            return Err(VaultError::UnknownVersion { found: version });
        }
        let algorithm = reader.byte()?;
        if algorithm != ALGORITHM_AES256GCM {
            return Err(VaultError::UnknownAlgorithm { found: algorithm });
        }
        let id_len = usize::from(reader.byte()?);
        let id = reader.take(id_len)?;
        let key_id = std::str::from_utf8(id)
            .ok()
            .and_then(|s| KeyId::new(s).ok())
            .ok_or(VaultError::Malformed { what: "key id" })?;
        let wrapped_len = reader.take(2)?;
        let wrapped_len = usize::from(u16::from_be_bytes([wrapped_len[0], wrapped_len[1]]));
        if wrapped_len == 0 {
            return Err(VaultError::Malformed {
                what: "wrapped key length",
            });
        }
        let wrapped_key = reader.take(wrapped_len)?.to_vec();
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(reader.take(NONCE_LEN)?);
        let body = reader.0;
        if body.len() < TAG_LEN {
            return Err(VaultError::Truncated);
        }
        Ok(Envelope {
            key_id,
            wrapped_key,
            nonce,
            body: body.to_vec(),
        })
    }

    /// The text form: `mgv1:` and base64url (no padding) of the binary form.
    pub fn to_text(&self) -> String {
        let bytes = self.to_bytes();
        let mut out = String::with_capacity(TEXT_PREFIX.len() + bytes.len().div_ceil(3) * 4);
        out.push_str(TEXT_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&bytes, &mut out);
        out
    }

    /// Parses the text form.
    ///
    /// # Errors
    /// [`VaultError::BadTextEncoding`] if the prefix or the base64url is wrong; then as
    /// [`Self::from_bytes`].
    pub fn from_text(text: &str) -> Result<Envelope, VaultError> {
        let Some(encoded) = text.strip_prefix(TEXT_PREFIX) else {
            return Err(VaultError::BadTextEncoding {
                reason: "it does not start with `mgv1:`",
            });
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| VaultError::BadTextEncoding {
                reason: "the part after `mgv1:` is not base64url without padding",
            })?;
        Envelope::from_bytes(&bytes)
    }
}

/// A cursor over the input that reports running out as [`VaultError::Truncated`].
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], VaultError> {
        if self.0.len() < n {
            return Err(VaultError::Truncated);
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, VaultError> {
        Ok(self.take(1)?[0])
    }
}
