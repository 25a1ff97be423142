//! The AWS KMS key provider (feature `kms`): key-encryption keys that never leave KMS.
//!
//! [`KmsKeyProvider`] implements [`KeyProvider`] with the AWS SDK for Rust (`aws-sdk-kms`;
//! requests signed by the SDK, credentials from the standard AWS chain: environment, shared
//! profile, web identity, ECS and EC2 instance roles, `credential_process`; SSO is not compiled
//! in). TLS goes through rustls with the ring provider, like the rest of the library.
//!
//! - **Data keys**: `GenerateDataKey` (AES-256) under the configured key (an alias, key id or
//!   ARN) for each new record; `Encrypt` of an existing data key for a rewrap; `Decrypt` with
//!   `KeyId` set to the record's key to open one. A record's key id is the KMS key's ARN (what
//!   KMS answers), so a record names the exact key that wrapped it even after the alias moved.
//! - **Encryption context**: the vault's authenticated data ([`super::Context`] with the fixed
//!   header, binary) goes to KMS as one context pair, [`CONTEXT_KEY`] = standard base64 (with
//!   padding) of those bytes. The encoding is deterministic, so the same record always asks for
//!   the same context, and KMS refuses a wrapped key under any other (another project, connector,
//!   instance or version), which gives [`VaultError::Decryption`]. KMS binds the key itself.
//! - **Rotation** ([`RotateKeys`]) needs an alias: `CreateKey` (tagged [`TAG_ALIAS`] = the alias),
//!   an alias `<alias>/ring/<key uuid>` for the old and the new key (how [`KeyProvider::keys`]
//!   finds the ring again, from any process), then `UpdateAlias` moves the alias to the new key,
//!   so every process that names the alias wraps under the new key from its next record (KMS
//!   makes an alias change visible within seconds). Records under older keys keep decrypting;
//!   [`crate::store::CredentialService::rewrap_all`] moves them. Retiring a key tags it
//!   [`TAG_RETIRED_AT`] and disables it (`DisableKey`: KMS refuses to use it; the key is not
//!   scheduled for deletion, so an operator can still enable it again). A key given by id or
//!   ARN, without an alias, is used as it is and cannot be rotated from here.
//! - **Audit key** ([`KeyProvider::audit_seal`]): a 256-bit HMAC key made by KMS
//!   (`GenerateDataKeyWithoutPlaintext`, context [`AUDIT_CONTEXT_KEY`] = `audit-key`, so a data
//!   key's blob cannot pass for it nor it for one) that exists in clear only in the memory of
//!   the processes that unwrapped it; the store's database never sees it. It is kept wrapped:
//!   - in an audit file ([`KmsAudit::File`], [`ENV_AUDIT_FILE`]): a 0600 JSON file holding the
//!     wrapped key and, as the local keyring's audit file does, the anchored head of each store's
//!     chain (updated under `<file>.lock`, replaced atomically). Created on first use; processes
//!     that share the file (one machine, or a shared file system with working locks) share the
//!     key and the anchor. A rotation re-wraps the key under the new KMS key (`ReEncrypt`).
//!   - or in a variable ([`KmsAudit::WrappedKey`], [`ENV_AUDIT_KEY`]): base64 of the wrapped
//!     key, which every instance on every machine gets from its deployment (make one with
//!     [`KmsKeyProvider::new_wrapped_audit_key`]). Chains are keyed but not anchored, like the
//!     local keyring's environment keys. Retiring the key it is wrapped under is refused until
//!     the variable holds [`KmsKeyProvider::wrapped_audit_key_under_active`].
//!
//!   Without either, the provider has no audit key and the store refuses audited operations.
//!
//! The trait is synchronous. The provider owns a small tokio runtime (one worker thread) for the
//! SDK; a call blocks its thread until KMS answers. Called on a thread that is inside another
//! tokio runtime, it runs the request on a short-lived scoped thread instead of panicking
//! (it still blocks the caller: from async code, call it through `spawn_blocking`). Requests
//! time out (5 s to connect, 10 s per attempt, 30 s in all, 3 attempts); a KMS that cannot be
//! reached gives [`VaultError::Provider`] naming the endpoint or region, never key material.
//! The SDK's own response buffers are not wiped; the data keys this module takes out of them
//! are ([`DataKey`]).

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeyMetadata, KeyState, Tag};
use aws_smithy_http_client::tls;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::VaultError;
use super::audit_seal::{
    AuditSeal, WrappedAuditKey, change_kms_audit_key, load_or_create_kms_audit_file,
};
use super::provider::{DataKey, GeneratedDataKey, KeyId, KeyInfo, KeyProvider, RotateKeys};
use crate::clock::{Clock, SystemClock, Timestamp};

/// Environment variable naming the active KMS key: an alias (`alias/mobigen-vault`), a key id or
/// a key ARN ([`KmsConfig::from_env`]). Rotation needs an alias.
pub const ENV_KMS_KEY_ID: &str = "MOBIGEN_KMS_KEY_ID";
/// Environment variable of the KMS endpoint (the AWS SDK's own name; tests point it at a local
/// server). [`ENV_ENDPOINT_ANY`] is read when it is not set.
pub const ENV_ENDPOINT: &str = "AWS_ENDPOINT_URL_KMS";
/// The AWS SDK's endpoint variable for every service, read after [`ENV_ENDPOINT`].
pub const ENV_ENDPOINT_ANY: &str = "AWS_ENDPOINT_URL";
/// Environment variable: the KMS audit file ([`KmsAudit::File`]).
pub const ENV_AUDIT_FILE: &str = "MOBIGEN_KMS_AUDIT_FILE";
/// Environment variable: the audit key wrapped by KMS, base64 ([`KmsAudit::WrappedKey`]).
pub const ENV_AUDIT_KEY: &str = "MOBIGEN_KMS_AUDIT_KEY";

/// The encryption-context key under which the vault's authenticated data (base64) goes to KMS.
pub const CONTEXT_KEY: &str = "mobigen:aad";
/// The encryption-context key of the audit key (value `audit-key`).
pub const AUDIT_CONTEXT_KEY: &str = "mobigen:purpose";
/// The tag every key made by a rotation carries: the alias it was made for.
pub const TAG_ALIAS: &str = "mobigen:vault-alias";
/// The tag a retired key carries: when it was retired (Unix milliseconds).
pub const TAG_RETIRED_AT: &str = "mobigen:retired-at";

const AUDIT_CONTEXT_VALUE: &str = "audit-key";

/// Where the KMS provider keeps its audit key, wrapped (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsAudit {
    /// No audit key: the store refuses audited operations.
    None,
    /// An audit file: the wrapped key and the anchored chain heads (created on first use).
    File(PathBuf),
    /// The key wrapped by KMS, base64 (not anchored).
    WrappedKey(String),
}

/// How to reach KMS and which key is active.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KmsConfig {
    /// The active key: an alias (`alias/NAME` or its ARN), a key id or a key ARN.
    pub key_id: String,
    /// The KMS endpoint, when not the region's (a local KMS-compatible server in tests).
    pub endpoint_url: Option<String>,
    /// The region; `None` takes it from the standard chain (`AWS_REGION`, the profile).
    pub region: Option<String>,
    /// Where the audit key is kept.
    pub audit: KmsAudit,
}

impl KmsConfig {
    /// The key `key_id` (alias, id or ARN), the region and endpoint from the standard chain, no
    /// audit key.
    pub fn new(key_id: impl Into<String>) -> KmsConfig {
        KmsConfig {
            key_id: key_id.into(),
            endpoint_url: None,
            region: None,
            audit: KmsAudit::None,
        }
    }

    /// The same, with the KMS endpoint `url`.
    #[must_use]
    pub fn with_endpoint_url(mut self, url: impl Into<String>) -> KmsConfig {
        self.endpoint_url = Some(url.into());
        self
    }

    /// The same, in region `region`.
    #[must_use]
    pub fn with_region(mut self, region: impl Into<String>) -> KmsConfig {
        self.region = Some(region.into());
        self
    }

    /// The same, with the audit key kept in `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: KmsAudit) -> KmsConfig {
        self.audit = audit;
        self
    }

    /// The configuration from the environment: [`ENV_KMS_KEY_ID`] (required), [`ENV_ENDPOINT`]
    /// or [`ENV_ENDPOINT_ANY`], [`ENV_AUDIT_FILE`] or [`ENV_AUDIT_KEY`]; the region and the
    /// credentials come from the standard AWS chain when connecting.
    ///
    /// # Errors
    /// [`VaultError::Provider`] when [`ENV_KMS_KEY_ID`] is missing or both audit variables are
    /// set.
    pub fn from_env() -> Result<KmsConfig, VaultError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let config_error = |message: String| VaultError::Provider {
            provider: "AWS KMS".into(),
            message,
        };
        let key_id = var(ENV_KMS_KEY_ID).ok_or_else(|| {
            config_error(format!(
                "{ENV_KMS_KEY_ID} is not set: name the active key (alias/NAME, a key id or ARN)"
            ))
        })?;
        let audit = match (var(ENV_AUDIT_FILE), var(ENV_AUDIT_KEY)) {
            (Some(_), Some(_)) => {
                return Err(config_error(format!(
                    "{ENV_AUDIT_FILE} and {ENV_AUDIT_KEY} are both set: keep one"
                )));
            }
            (Some(file), None) => KmsAudit::File(PathBuf::from(file)),
            (None, Some(key)) => KmsAudit::WrappedKey(key),
            (None, None) => KmsAudit::None,
        };
        Ok(KmsConfig {
            key_id: key_id.trim().to_string(),
            endpoint_url: var(ENV_ENDPOINT).or_else(|| var(ENV_ENDPOINT_ANY)),
            region: None,
            audit,
        })
    }
}

/// The runtime that drives the SDK: one worker thread, shut down in the background on drop
/// (which is allowed inside another runtime, unlike a blocking shutdown).
struct KmsRuntime(Option<tokio::runtime::Runtime>);

impl KmsRuntime {
    fn new() -> Result<KmsRuntime, VaultError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mobigen-kms")
            .enable_all()
            .build()
            .map(|rt| KmsRuntime(Some(rt)))
            .map_err(|e| VaultError::Provider {
                provider: "AWS KMS".into(),
                message: format!("cannot start the runtime that drives the AWS SDK: {e}"),
            })
    }

    /// Runs `future` to completion on this runtime, from any thread.
    fn block<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let Some(runtime) = &self.0 else {
            unreachable!("the runtime is only taken out on drop")
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Inside another runtime, `block_on` would panic; a scoped thread is outside it.
            std::thread::scope(|scope| {
                scope
                    .spawn(|| runtime.block_on(future))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            runtime.block_on(future)
        }
    }
}

impl Drop for KmsRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Where the audit key came from, for rotation and retirement.
enum AuditSource {
    None,
    File(PathBuf),
    /// The wrapped key from a variable, and the KMS key (ARN) it is wrapped under.
    Variable {
        blob: Vec<u8>,
        wrapped_under: String,
    },
}

/// Key-encryption keys in AWS KMS (see the module docs).
pub struct KmsKeyProvider {
    runtime: KmsRuntime,
    client: Client,
    /// The active key as configured (alias, id or ARN).
    key_id: String,
    /// The alias (`alias/NAME`), when the key is named by one.
    alias: Option<String>,
    /// "AWS KMS at ENDPOINT" / "AWS KMS in REGION", for errors.
    name: String,
    audit_source: AuditSource,
    seal: Option<AuditSeal>,
    /// Keys this provider retired (KMS refuses them too; this answers without asking).
    retired: Mutex<BTreeSet<KeyId>>,
}

impl fmt::Debug for KmsKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKeyProvider")
            .field("kms", &self.name)
            .field("key_id", &self.key_id)
            .field("audit", &self.seal)
            .finish_non_exhaustive()
    }
}

/// A KMS failure, before it becomes a [`VaultError`].
struct Failure {
    /// The KMS error code (`InvalidCiphertextException`), for service errors.
    code: Option<String>,
    /// What failed, without key material.
    message: String,
}

impl KmsKeyProvider {
    /// Connects to KMS and checks that the active key exists and is enabled; unwraps (or, for a
    /// new audit file, creates) the audit key.
    ///
    /// # Errors
    /// [`VaultError::Provider`] naming the endpoint or region when KMS cannot be reached, no
    /// region is configured, or the key is missing or not enabled; audit file errors
    /// ([`VaultError::KeyFile`], [`VaultError::KeyFileFormat`]); [`VaultError::BadKey`] for a
    /// wrapped audit key that is not base64; [`VaultError::Decryption`] when KMS refuses to
    /// unwrap the audit key.
    pub fn connect(config: &KmsConfig) -> Result<KmsKeyProvider, VaultError> {
        let mut provider = KmsKeyProvider::client_only(config)?;
        let active = provider.describe(&provider.key_id)?;
        if active.key_state() != Some(&KeyState::Enabled) {
            return Err(provider.error(format!(
                "the active key {} is {}; it must be enabled",
                config.key_id,
                active
                    .key_state()
                    .map_or("in an unknown state", KeyState::as_str)
            )));
        }
        provider.open_audit(&config.audit)?;
        Ok(provider)
    }

    /// Creates a KMS key for `config`'s alias (which must not exist yet), points the alias at
    /// it, then [`Self::connect`]s: how a deployment gets its first key.
    ///
    /// # Errors
    /// [`VaultError::Unsupported`] when `config.key_id` is not an alias; KMS errors (the alias
    /// exists already); as [`Self::connect`].
    pub fn create(config: &KmsConfig) -> Result<KmsKeyProvider, VaultError> {
        let provider = KmsKeyProvider::client_only(config)?;
        let Some(alias) = &provider.alias else {
            return Err(VaultError::Unsupported {
                reason: "a KMS key is created for an alias: name it as alias/NAME",
            });
        };
        let created = provider.create_key(alias)?;
        provider.ensure_ring_alias(&created)?;
        provider.run("CreateAlias", |client| {
            client
                .create_alias()
                .alias_name(alias)
                .target_key_id(created.key_id())
                .send()
        })?;
        drop(provider);
        KmsKeyProvider::connect(config)
    }

    /// A client for `config`, nothing checked yet.
    fn client_only(config: &KmsConfig) -> Result<KmsKeyProvider, VaultError> {
        let runtime = KmsRuntime::new()?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(3));
        if let Some(region) = &config.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &config.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let sdk_config = runtime.block(loader.load());
        let region = sdk_config.region().map(ToString::to_string);
        let name = match (&config.endpoint_url, &region) {
            (Some(url), _) => format!("AWS KMS at {url}"),
            (None, Some(region)) => format!("AWS KMS in {region}"),
            (None, None) => {
                return Err(VaultError::Provider {
                    provider: "AWS KMS".into(),
                    message: "no AWS region is configured: set AWS_REGION (or the profile's \
                              region, or KmsConfig::with_region)"
                        .into(),
                });
            }
        };
        Ok(KmsKeyProvider {
            runtime,
            client: Client::new(&sdk_config),
            key_id: config.key_id.trim().to_string(),
            alias: alias_of(config.key_id.trim()),
            name,
            audit_source: AuditSource::None,
            seal: None,
            retired: Mutex::new(BTreeSet::new()),
        })
    }

    /// The alias this provider rotates, if the key was named by one (`alias/NAME`).
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// A new audit key wrapped by the active KMS key, base64: a value for [`ENV_AUDIT_KEY`]
    /// ([`KmsAudit::WrappedKey`]). Give every instance the same value.
    ///
    /// # Errors
    /// KMS errors.
    pub fn new_wrapped_audit_key(&self) -> Result<String, VaultError> {
        Ok(STANDARD.encode(self.generate_audit_key()?.blob))
    }

    /// The audit key this provider uses from [`ENV_AUDIT_KEY`], wrapped again under the active
    /// KMS key (`ReEncrypt`), base64: the variable's value before the old key is retired.
    ///
    /// # Errors
    /// [`VaultError::Unsupported`] when the audit key does not come from a variable; KMS errors.
    pub fn wrapped_audit_key_under_active(&self) -> Result<String, VaultError> {
        let AuditSource::Variable { blob, .. } = &self.audit_source else {
            return Err(VaultError::Unsupported {
                reason: "this provider's audit key does not come from MOBIGEN_KMS_AUDIT_KEY",
            });
        };
        Ok(STANDARD.encode(self.reencrypt_audit_key(blob)?.blob))
    }

    fn open_audit(&mut self, audit: &KmsAudit) -> Result<(), VaultError> {
        match audit {
            KmsAudit::None => {}
            KmsAudit::File(path) => {
                let wrapped = load_or_create_kms_audit_file(path, || self.generate_audit_key())?;
                let key = self.unwrap_audit_key(&wrapped.blob)?;
                self.seal = Some(AuditSeal::for_kms_file(path, key.1));
                self.audit_source = AuditSource::File(path.clone());
            }
            KmsAudit::WrappedKey(text) => {
                let blob = STANDARD
                    .decode(text.trim())
                    .map_err(|_| VaultError::BadKey {
                        source_name: ENV_AUDIT_KEY.into(),
                        reason: "it is not base64",
                    })?;
                let (wrapped_under, key) = self.unwrap_audit_key(&blob)?;
                self.seal = Some(AuditSeal::in_memory(key, false));
                self.audit_source = AuditSource::Variable {
                    blob,
                    wrapped_under,
                };
            }
        }
        Ok(())
    }

    fn generate_audit_key(&self) -> Result<WrappedAuditKey, VaultError> {
        let output = self.run("GenerateDataKeyWithoutPlaintext", |client| {
            client
                .generate_data_key_without_plaintext()
                .key_id(&self.key_id)
                .key_spec(DataKeySpec::Aes256)
                .encryption_context(AUDIT_CONTEXT_KEY, AUDIT_CONTEXT_VALUE)
                .send()
        })?;
        Ok(WrappedAuditKey {
            key_id: output
                .key_id()
                .ok_or_else(|| self.error("GenerateDataKeyWithoutPlaintext named no key".into()))?
                .to_string(),
            blob: output
                .ciphertext_blob
                .map(Blob::into_inner)
                .ok_or_else(|| {
                    self.error("GenerateDataKeyWithoutPlaintext returned no blob".into())
                })?,
        })
    }

    /// The audit key in clear, and the key (ARN) that wrapped it.
    fn unwrap_audit_key(&self, blob: &[u8]) -> Result<(String, Zeroizing<[u8; 32]>), VaultError> {
        let result = self.block(
            self.client
                .decrypt()
                .ciphertext_blob(Blob::new(blob))
                .encryption_context(AUDIT_CONTEXT_KEY, AUDIT_CONTEXT_VALUE)
                .send(),
        );
        let output = result.map_err(|e| self.decrypt_error("Decrypt (audit key)", None, &e))?;
        let wrapped_under = output
            .key_id()
            .ok_or_else(|| self.error("Decrypt (audit key) named no key".into()))?
            .to_string();
        let key = take_key(output.plaintext).ok_or(VaultError::Decryption)?;
        Ok((wrapped_under, key))
    }

    fn reencrypt_audit_key(&self, blob: &[u8]) -> Result<WrappedAuditKey, VaultError> {
        let output = self.run("ReEncrypt (audit key)", |client| {
            client
                .re_encrypt()
                .ciphertext_blob(Blob::new(blob))
                .source_encryption_context(AUDIT_CONTEXT_KEY, AUDIT_CONTEXT_VALUE)
                .destination_key_id(&self.key_id)
                .destination_encryption_context(AUDIT_CONTEXT_KEY, AUDIT_CONTEXT_VALUE)
                .send()
        })?;
        Ok(WrappedAuditKey {
            key_id: output
                .key_id()
                .ok_or_else(|| self.error("ReEncrypt named no key".into()))?
                .to_string(),
            blob: output
                .ciphertext_blob
                .map(Blob::into_inner)
                .ok_or_else(|| self.error("ReEncrypt returned no blob".into()))?,
        })
    }

    fn block<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        self.runtime.block(future)
    }

    /// Sends the request `request` builds; any failure becomes [`VaultError::Provider`].
    fn run<'a, T, E, F>(
        &'a self,
        operation: &str,
        request: impl FnOnce(&'a Client) -> F,
    ) -> Result<T, VaultError>
    where
        F: Future<Output = Result<T, SdkError<E, HttpResponse>>> + Send,
        T: Send,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.block(request(&self.client))
            .map_err(|e| self.error(self.failure(operation, &e).message))
    }

    fn failure<E>(&self, operation: &str, error: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match error {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("unknown error").to_string();
                Failure {
                    message: format!(
                        "{operation}: {code}: {}",
                        e.message().unwrap_or("no message")
                    ),
                    code: Some(code),
                }
            }
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => Failure {
                code: None,
                message: format!(
                    "{operation}: cannot reach {}: {}",
                    self.name,
                    DisplayErrorContext(error)
                ),
            },
            _ => Failure {
                code: None,
                message: format!("{operation}: {}", DisplayErrorContext(error)),
            },
        }
    }

    /// A `Decrypt` failure: a refused blob or context is [`VaultError::Decryption`], a missing
    /// key [`VaultError::UnknownKeyId`], a disabled one [`VaultError::KeyRetired`].
    fn decrypt_error<E>(
        &self,
        operation: &str,
        key_id: Option<&KeyId>,
        error: &SdkError<E, HttpResponse>,
    ) -> VaultError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let failure = self.failure(operation, error);
        let named = || key_id.map(ToString::to_string).unwrap_or_default();
        match failure.code.as_deref() {
            Some("InvalidCiphertextException" | "IncorrectKeyException") => VaultError::Decryption,
            Some("NotFoundException") if key_id.is_some() => {
                VaultError::UnknownKeyId { key_id: named() }
            }
            Some("DisabledException" | "KMSInvalidStateException") if key_id.is_some() => {
                VaultError::KeyRetired { key_id: named() }
            }
            _ => self.error(failure.message),
        }
    }

    fn error(&self, message: String) -> VaultError {
        VaultError::Provider {
            provider: self.name.clone(),
            message,
        }
    }

    fn describe(&self, key_id: &str) -> Result<KeyMetadata, VaultError> {
        let output = self.run("DescribeKey", |client| {
            client.describe_key().key_id(key_id).send()
        })?;
        output
            .key_metadata
            .ok_or_else(|| self.error(format!("DescribeKey {key_id}: no key metadata")))
    }

    /// A key's ARN as a [`KeyId`].
    fn arn_of(&self, metadata: &KeyMetadata) -> Result<KeyId, VaultError> {
        KeyId::new(metadata.arn().unwrap_or(metadata.key_id()))
    }

    /// The key id and wrapped data key of a `GenerateDataKey` or `Encrypt` answer; the blob
    /// must fit the envelope (at most 65,535 bytes).
    fn wrapped_by(
        &self,
        operation: &str,
        key_id: Option<&str>,
        blob: Option<Blob>,
    ) -> Result<(KeyId, Vec<u8>), VaultError> {
        let key_id =
            KeyId::new(key_id.ok_or_else(|| self.error(format!("{operation} named no key")))?)?;
        let blob = blob
            .map(Blob::into_inner)
            .filter(|blob| blob.len() <= usize::from(u16::MAX))
            .ok_or_else(|| self.error(format!("{operation} returned no usable blob")))?;
        Ok((key_id, blob))
    }

    fn create_key(&self, alias: &str) -> Result<KeyMetadata, VaultError> {
        let tag = Tag::builder()
            .tag_key(TAG_ALIAS)
            .tag_value(alias)
            .build()
            .map_err(|e| self.error(format!("CreateKey: {e}")))?;
        let output = self.run("CreateKey", |client| {
            client
                .create_key()
                .description(format!("Mobigen connectors vault key ({alias})"))
                .tags(tag)
                .send()
        })?;
        output
            .key_metadata
            .ok_or_else(|| self.error("CreateKey: no key metadata".into()))
    }

    /// `<alias>/ring/<key uuid>` pointing at `key` (kept when it exists already).
    fn ensure_ring_alias(&self, key: &KeyMetadata) -> Result<(), VaultError> {
        let Some(alias) = &self.alias else {
            return Ok(());
        };
        let name = format!("{alias}/ring/{}", key.key_id());
        let created = self.block(
            self.client
                .create_alias()
                .alias_name(&name)
                .target_key_id(key.key_id())
                .send(),
        );
        match created {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("AlreadyExistsException") => Ok(()),
            Err(e) => Err(self.error(self.failure("CreateAlias", &e).message)),
        }
    }

    /// The ARNs of the keys of this provider's ring: the alias's target and every
    /// `<alias>/ring/*` alias's (or the configured key alone).
    fn ring(&self) -> Result<Vec<KeyMetadata>, VaultError> {
        let Some(alias) = &self.alias else {
            return Ok(vec![self.describe(&self.key_id)?]);
        };
        let prefix = format!("{alias}/ring/");
        let mut targets = BTreeSet::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self.run("ListAliases", |client| {
                client.list_aliases().set_marker(marker.clone()).send()
            })?;
            for entry in page.aliases() {
                let name = entry.alias_name().unwrap_or_default();
                if (name == alias || name.starts_with(&prefix))
                    && let Some(target) = entry.target_key_id()
                {
                    targets.insert(target.to_string());
                }
            }
            match page.next_marker() {
                Some(next) if page.truncated() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        targets.iter().map(|id| self.describe(id)).collect()
    }

    /// When `key` was retired, from its [`TAG_RETIRED_AT`] tag (now, for a key disabled by
    /// other means).
    fn retired_at(&self, key: &KeyMetadata) -> Timestamp {
        let tags = self.run("ListResourceTags", |client| {
            client.list_resource_tags().key_id(key.key_id()).send()
        });
        tags.ok()
            .and_then(|output| {
                output
                    .tags()
                    .iter()
                    .find(|t| t.tag_key() == TAG_RETIRED_AT)
                    .and_then(|t| t.tag_value().parse::<i64>().ok())
            })
            .map_or_else(|| SystemClock.now(), Timestamp::from_unix_millis)
    }

    fn key_infos(&self) -> Result<Vec<KeyInfo>, VaultError> {
        let active = self.active_key_id()?;
        let mut infos = Vec::new();
        for key in self.ring()? {
            let id = self.arn_of(&key)?;
            let retired = key.key_state() != Some(&KeyState::Enabled)
                || self
                    .retired
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .contains(&id);
            infos.push(KeyInfo {
                active: id == active,
                created_at: key
                    .creation_date()
                    .and_then(|d| d.to_millis().ok())
                    .map(Timestamp::from_unix_millis),
                retired_at: retired.then(|| self.retired_at(&key)),
                id,
            });
        }
        Ok(infos)
    }
}

/// The alias named by `key_id` (`alias/NAME`, or the `alias/NAME` of an alias ARN).
fn alias_of(key_id: &str) -> Option<String> {
    if key_id.starts_with("alias/") {
        return Some(key_id.to_string());
    }
    key_id
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":alias/"))
        .map(|(_, name)| format!("alias/{name}"))
}

/// The 32-byte data key of a KMS answer, wiped from the answer's buffer as it is taken.
fn take_key(plaintext: Option<Blob>) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(plaintext?.into_inner());
    let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(key))
}

fn context_value(aad: &[u8]) -> String {
    STANDARD.encode(aad)
}

use aws_sdk_kms::config::http::HttpResponse;

impl KeyProvider for KmsKeyProvider {
    fn active_key_id(&self) -> Result<KeyId, VaultError> {
        let metadata = self.describe(&self.key_id)?;
        self.arn_of(&metadata)
    }

    fn generate_data_key(&self, aad: &[u8]) -> Result<GeneratedDataKey, VaultError> {
        let mut output = self.run("GenerateDataKey", |client| {
            client
                .generate_data_key()
                .key_id(&self.key_id)
                .key_spec(DataKeySpec::Aes256)
                .encryption_context(CONTEXT_KEY, context_value(aad))
                .send()
        })?;
        let blob = output.ciphertext_blob.take();
        let (key_id, wrapped_key) = self.wrapped_by("GenerateDataKey", output.key_id(), blob)?;
        let data_key = take_key(output.plaintext)
            .ok_or_else(|| self.error("GenerateDataKey returned no 32-byte key".into()))?;
        Ok(GeneratedDataKey {
            key_id,
            data_key: DataKey::from_bytes(*data_key),
            wrapped_key,
        })
    }

    fn wrap_data_key(
        &self,
        data_key: &DataKey,
        aad: &[u8],
    ) -> Result<(KeyId, Vec<u8>), VaultError> {
        let mut output = self.run("Encrypt", |client| {
            client
                .encrypt()
                .key_id(&self.key_id)
                .plaintext(Blob::new(data_key.expose_secret().as_slice()))
                .encryption_context(CONTEXT_KEY, context_value(aad))
                .send()
        })?;
        let blob = output.ciphertext_blob.take();
        self.wrapped_by("Encrypt", output.key_id(), blob)
    }

    fn unwrap_data_key(
        &self,
        key_id: &KeyId,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<DataKey, VaultError> {
        if self
            .retired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key_id)
        {
            return Err(VaultError::KeyRetired {
                key_id: key_id.to_string(),
            });
        }
        let result = self.block(
            self.client
                .decrypt()
                .key_id(key_id.as_str())
                .ciphertext_blob(Blob::new(wrapped))
                .encryption_context(CONTEXT_KEY, context_value(aad))
                .send(),
        );
        let output = result.map_err(|e| self.decrypt_error("Decrypt", Some(key_id), &e))?;
        // KMS decrypts with the key the blob names; it must be the one the record names.
        if output.key_id() != Some(key_id.as_str()) {
            return Err(VaultError::Decryption);
        }
        let key = take_key(output.plaintext).ok_or(VaultError::Decryption)?;
        Ok(DataKey::from_bytes(*key))
    }

    /// The ring's keys (see the module docs); on a KMS error, none (the trait has no error
    /// here: [`KmsKeyProvider::connect`] and every other call report it).
    fn keys(&self) -> Vec<KeyInfo> {
        self.key_infos().unwrap_or_default()
    }

    fn audit_seal(&self) -> Result<AuditSeal, VaultError> {
        self.seal.clone().ok_or(VaultError::Unsupported {
            reason: "this AWS KMS key provider has no audit key: set MOBIGEN_KMS_AUDIT_FILE (a \
                     wrapped key and the chain anchor in a file) or MOBIGEN_KMS_AUDIT_KEY (a \
                     wrapped key, not anchored)",
        })
    }
}

impl RotateKeys for KmsKeyProvider {
    fn rotate_active_key(&mut self, _now: Timestamp) -> Result<KeyId, VaultError> {
        let Some(alias) = self.alias.clone() else {
            return Err(VaultError::Unsupported {
                reason: "a KMS key named by id or ARN cannot be rotated from here: name the \
                         active key by an alias (alias/NAME), or rotate with KMS itself",
            });
        };
        let previous = self.describe(&alias)?;
        let created = self.create_key(&alias)?;
        self.ensure_ring_alias(&previous)?;
        self.ensure_ring_alias(&created)?;
        self.run("UpdateAlias", |client| {
            client
                .update_alias()
                .alias_name(&alias)
                .target_key_id(created.key_id())
                .send()
        })?;
        if let AuditSource::File(path) = &self.audit_source {
            change_kms_audit_key(path, |current| {
                self.reencrypt_audit_key(&current.blob).map(Some)
            })?;
        }
        self.arn_of(&created)
    }

    fn retire_key(&mut self, id: &KeyId, now: Timestamp) -> Result<(), VaultError> {
        if id == &self.active_key_id()? {
            return Err(VaultError::Unsupported {
                reason: "the active key cannot be retired: rotate first, rewrap, then retire the old key",
            });
        }
        let Some(key) = self
            .ring()?
            .into_iter()
            .find(|k| self.arn_of(k).is_ok_and(|arn| &arn == id))
        else {
            return Err(VaultError::UnknownKeyId {
                key_id: id.to_string(),
            });
        };
        match &self.audit_source {
            AuditSource::Variable { wrapped_under, .. } if wrapped_under == id.as_str() => {
                return Err(VaultError::Unsupported {
                    reason: "the audit key in MOBIGEN_KMS_AUDIT_KEY is wrapped under this key: \
                             set the variable to KmsKeyProvider::wrapped_audit_key_under_active \
                             everywhere first",
                });
            }
            AuditSource::File(path) => change_kms_audit_key(path, |current| {
                if current.key_id == id.as_str() {
                    self.reencrypt_audit_key(&current.blob).map(Some)
                } else {
                    Ok(None)
                }
            })?,
            AuditSource::Variable { .. } | AuditSource::None => {}
        }
        let tag = Tag::builder()
            .tag_key(TAG_RETIRED_AT)
            .tag_value(now.unix_millis().to_string())
            .build()
            .map_err(|e| self.error(format!("TagResource: {e}")))?;
        self.run("TagResource", |client| {
            client.tag_resource().key_id(key.key_id()).tags(tag).send()
        })?;
        self.run("DisableKey", |client| {
            client.disable_key().key_id(key.key_id()).send()
        })?;
        self.retired
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone());
        Ok(())
    }
}
