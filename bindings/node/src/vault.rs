//! The `Vault` class: AES-256-GCM envelope encryption under a local keyring file, or under a
//! key in AWS KMS when `MOBIGEN_KMS_KEY_ID` is set (as for `CredentialStore`).

use std::path::PathBuf;

use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::secrets::secret::SecretBytes;
use mobigen_connectors::secrets::vault::{
    self as core, AnyKeys, Context, Envelope, KeyProvider, LocalKeyring, RotateKeys,
};
use mobigen_connectors::store::{AnyStore, AuditAction, AuditEvent, Store, StoreAddress};
use napi::Env;
use napi::bindgen_prelude::{Buffer, Unknown};
use napi_derive::napi;

use crate::errors::{self, Outcome};
use crate::{args, call};

/// Default actor named in audit entries written by the bindings.
pub(crate) const DEFAULT_ACTOR: &str = "@mobigen/connectors";

/// Encrypts and decrypts secrets for one (project, connector) pair at a time: a ciphertext
/// sealed for one pair does not open for another. Opened over a keyring file (created with a
/// first key, mode 0600, when missing). Old keys keep decrypting after `rotateKey()`.
#[napi]
pub struct Vault {
    inner: core::Vault<AnyKeys>,
    audit: Option<(AnyStore, String)>,
}

impl Vault {
    /// Seals `plaintext` for (project, connector): what the OAuth calls keep in JS.
    pub(crate) fn seal(&self, project: &str, connector: &str, plaintext: &[u8]) -> Outcome<String> {
        self.inner
            .encrypt_to_text(plaintext, &Context::new(project, connector))
            .map_err(errors::vault)
    }

    /// Opens what [`Vault::seal`] sealed, for the binding's own use (the plaintext does not
    /// cross into JS, so no audit entry).
    pub(crate) fn unseal(
        &self,
        project: &str,
        connector: &str,
        text: &str,
    ) -> Outcome<SecretBytes> {
        self.inner
            .decrypt_text(text, &Context::new(project, connector))
            .map_err(errors::vault)
    }

    fn audited_decrypt(
        &mut self,
        project: &str,
        connector: &str,
        text: &str,
        purpose: &str,
    ) -> Outcome<Vec<u8>> {
        let context = Context::new(project, connector);
        let result = self.inner.decrypt_text(text, &context);
        if let Some((store, actor)) = &mut self.audit {
            let event = AuditEvent {
                at: SystemClock.now(),
                actor: actor.clone(),
                action: if result.is_ok() {
                    AuditAction::Decrypt
                } else {
                    AuditAction::DecryptFailed
                },
                instance_id: None,
                key_id: Envelope::from_text(text).ok().map(|e| e.key_id().clone()),
                detail: format!("{project}/{connector}; purpose: {purpose}"),
            };
            let logged = store.append_audit(&[event]).map_err(errors::store);
            // No audit entry, no plaintext (a failed decryption reports its own error first).
            let plaintext = result.map_err(errors::vault)?;
            logged?;
            return Ok(plaintext.expose_secret().to_vec());
        }
        Ok(result.map_err(errors::vault)?.expose_secret().to_vec())
    }
}

#[napi]
impl Vault {
    /// Opens the vault over the keyring file at `keyringPath`, creating it (mode 0600, one
    /// key) when it does not exist; with `MOBIGEN_KMS_KEY_ID` set, over that AWS KMS key
    /// instead (the file is not used; see the README). With `options.auditStorePath` (a connector store file or
    /// PostgreSQL URL, as `CredentialStore.open` takes), every `decryptSecret` appends an audit entry with its
    /// purpose there, and returns no plaintext if it cannot. Throws `KEY_ERROR` for an
    /// unreadable keyring.
    #[napi(
        factory,
        ts_args_type = "keyringPath: string, options?: VaultOptions",
        ts_return_type = "Vault"
    )]
    pub fn open(
        env: Env,
        keyring_path: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Vault> {
        call(&env, || {
            let path = PathBuf::from(args::non_empty(&env, keyring_path, "keyringPath")?);
            let options = args::optional_object(&env, options, "options")?;
            args::known_keys(options.as_ref(), &["auditStorePath", "actor"])?;
            let text = |key: &str| -> Outcome<Option<String>> {
                match options.as_ref().and_then(|o| o.get(key)) {
                    None | Some(serde_json::Value::Null) => Ok(None),
                    Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
                    Some(_) => Err(errors::Failure::argument(format!(
                        "options.{key} must be a non-empty string"
                    ))),
                }
            };
            let actor = text("actor")?.unwrap_or_else(|| DEFAULT_ACTOR.to_string());
            let keyring = match AnyKeys::kms_from_env().map_err(errors::vault)? {
                Some(kms) => kms,
                None => AnyKeys::Local(
                    LocalKeyring::open_or_create(&path, SystemClock.now())
                        .map_err(errors::vault)?,
                ),
            };
            let audit = text("auditStorePath")?
                .map(|p| -> Outcome<AnyStore> {
                    let mut store = crate::store::open_store(&StoreAddress::parse(p))?;
                    // Audit entries are MACed with the keyring's audit key (issue 15 item 13).
                    store.set_audit_seal(keyring.audit_seal().map_err(errors::vault)?);
                    Ok(store)
                })
                .transpose()?
                .map(|store| (store, actor));
            Ok(Vault {
                inner: core::Vault::new(keyring),
                audit,
            })
        })
    }

    /// The id of the key new ciphertexts are wrapped under.
    #[napi(getter)]
    pub fn active_key_id(&self, env: Env) -> napi::Result<String> {
        call(&env, || {
            self.inner
                .provider()
                .active_key_id()
                .map(|k| k.to_string())
                .map_err(errors::vault)
        })
    }

    /// Encrypts `plaintext` (a string, as UTF-8, or a Buffer) for (projectId, connectorId);
    /// returns the text form (`mgv1:...`), safe to store anywhere.
    #[napi(ts_args_type = "projectId: string, connectorId: string, plaintext: string | Buffer")]
    pub fn encrypt(
        &self,
        env: Env,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        plaintext: Unknown<'_>,
    ) -> napi::Result<String> {
        call(&env, || {
            let project = args::non_empty(&env, project_id, "projectId")?;
            let connector = args::non_empty(&env, connector_id, "connectorId")?;
            let plaintext = SecretBytes::new(args::bytes(&env, plaintext, "plaintext")?);
            self.inner
                .encrypt_to_text(
                    plaintext.expose_secret(),
                    &Context::new(&project, &connector),
                )
                .map_err(errors::vault)
        })
    }

    /// Decrypts a ciphertext sealed for (projectId, connectorId) and returns the SECRET
    /// plaintext as a Buffer. `purpose` says why (recorded in the audit log when the vault was
    /// opened with `auditStorePath`). Throws `DECRYPTION_FAILED` for a wrong project or
    /// connector, or an altered, truncated or foreign ciphertext (deliberately without saying
    /// which), `KEY_ERROR` for an unknown or retired key.
    #[napi(
        ts_args_type = "projectId: string, connectorId: string, ciphertext: string, purpose: string"
    )]
    pub fn decrypt_secret(
        &mut self,
        env: Env,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        ciphertext: Unknown<'_>,
        purpose: Unknown<'_>,
    ) -> napi::Result<Buffer> {
        call(&env, || {
            let project = args::non_empty(&env, project_id, "projectId")?;
            let connector = args::non_empty(&env, connector_id, "connectorId")?;
            let text = args::string(&env, ciphertext, "ciphertext")?;
            let purpose = args::non_empty(&env, purpose, "purpose")?;
            self.audited_decrypt(&project, &connector, &text, &purpose)
                .map(Buffer::from)
        })
    }

    /// Makes a new key the active one (saved to the keyring file; with KMS, a new KMS key under
    /// the alias) and returns its id. Older
    /// keys keep decrypting; `rewrap` moves a ciphertext to the new key.
    #[napi]
    pub fn rotate_key(&mut self, env: Env) -> napi::Result<String> {
        call(&env, || {
            self.inner
                .provider_mut()
                .rotate_active_key(SystemClock.now())
                .map(|k| k.to_string())
                .map_err(errors::vault)
        })
    }

    /// Re-wraps a ciphertext's data key under the active key without decrypting its body;
    /// returns the new text form (the same text when it is already under the active key).
    #[napi(ts_args_type = "projectId: string, connectorId: string, ciphertext: string")]
    pub fn rewrap(
        &self,
        env: Env,
        project_id: Unknown<'_>,
        connector_id: Unknown<'_>,
        ciphertext: Unknown<'_>,
    ) -> napi::Result<String> {
        call(&env, || {
            let project = args::non_empty(&env, project_id, "projectId")?;
            let connector = args::non_empty(&env, connector_id, "connectorId")?;
            let text = args::string(&env, ciphertext, "ciphertext")?;
            let envelope = Envelope::from_text(&text).map_err(errors::vault)?;
            self.inner
                .rewrap(envelope, &Context::new(&project, &connector))
                .map(|e| e.to_text())
                .map_err(errors::vault)
        })
    }
}
