//! The network commands: `validate`, `test`, `oauth begin`, `oauth complete`.
//!
//! Base URLs come from `MOBIGEN_<SERVICE>_API_BASE` (see the library's `net` module). OAuth keeps
//! the pending authorization (state and PKCE verifier) in a file readable only by the user
//! (mode 0600, in a 0700 folder) under the state folder, and saves the tokens encrypted with the
//! local vault key; neither is ever printed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mobigen_connectors::clock::SystemClock;
use mobigen_connectors::net::oauth::{
    OAuthProvider, PendingAuthorization, begin_authorization, complete_authorization,
};
use mobigen_connectors::net::{BlockingNetEngine, CheckReport, NetOptions};
use mobigen_connectors::secrets::secret::SecretString;
use mobigen_connectors::secrets::vault::{Context as VaultContext, Vault};
use mobigen_connectors::{Connector, Registry, ValidConfig};
use serde_json::{Value, json};

use crate::CommandResult;
use crate::commands::credentials;
use crate::output::{emit, read_json};
use crate::store_access::{Access, ProjectArgs, Service, StoreLocation, actor};

/// Where the credentials of a live check come from: a config file, or the store.
#[derive(Debug, Args)]
pub(crate) struct CheckSource {
    /// JSON config file, or `-` for standard input.
    #[arg(long, value_name = "FILE", required_unless_present = "stored")]
    config: Option<PathBuf>,
    /// Check the credentials stored for the project (see --project, --project-id) instead of a
    /// config file, and record the outcome in the store: a validation moves the connector to
    /// `validated` (or `error`), and both count in its activity (`status` shows it).
    #[arg(long, conflicts_with = "config")]
    stored: bool,
    #[command(flatten)]
    project: ProjectArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Connector id (see `list`).
    id: String,
    #[command(flatten)]
    source: CheckSource,
    /// Print JSON: {"success", "duration", "requests", "steps": [{"name", "passed", "details",
    /// "field", "suggestion", "duration"}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TestArgs {
    /// Connector id (see `list`).
    id: String,
    #[command(flatten)]
    source: CheckSource,
    /// Test action id (`show ID --json` lists them under testActions).
    #[arg(long, value_name = "NAME")]
    action: String,
    /// A parameter of the action, as NAME=VALUE (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// Print JSON, as for `validate`.
    #[arg(long)]
    json: bool,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum OauthCommand {
    /// Start an authorization: print the URL to open; keep the state and PKCE verifier.
    Begin(OauthBeginArgs),
    /// Finish it with the URL the browser was sent back to; save the tokens encrypted.
    Complete(OauthCompleteArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StateDirArg {
    /// Folder for pending authorizations and tokens (default: $XDG_STATE_HOME/mobigen or
    /// ~/.local/state/mobigen).
    #[arg(long, value_name = "DIR", env = "MOBIGEN_STATE_DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct OauthBeginArgs {
    /// Connector id: stripe (Connect), firebase (Google) or supabase (Management API).
    id: String,
    /// The OAuth client id registered with the provider (Stripe: `ca_...`).
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The redirect URI registered with the provider.
    #[arg(long, value_name = "URI")]
    redirect_uri: String,
    #[command(flatten)]
    state_dir: StateDirArg,
    /// Print JSON: {"connector", "url", "state", "pendingFile"}.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct OauthCompleteArgs {
    /// Connector id, as given to `oauth begin`.
    id: String,
    /// The full URL the provider redirected the browser to.
    #[arg(long, value_name = "URL")]
    callback: String,
    #[command(flatten)]
    state_dir: StateDirArg,
    /// Print JSON: {"connector", "tokensFile", "scope", "expiresAt", "details"}.
    #[arg(long)]
    json: bool,
}

fn engine() -> anyhow::Result<BlockingNetEngine> {
    Ok(BlockingNetEngine::new(NetOptions::from_env()?)?)
}

/// Validates the config file; prints the problems and returns `None` when it is refused.
fn valid_config(connector: &Connector, path: &Path) -> anyhow::Result<Option<ValidConfig>> {
    let config = read_json(path)?;
    match connector.validate_config(&config) {
        Ok(valid) => Ok(Some(valid)),
        Err(error) => {
            eprintln!(
                "error: invalid config for connector `{}`; fix it before a live check:",
                error.connector
            );
            for issue in &error.issues {
                eprintln!("  {issue}");
            }
            Ok(None)
        }
    }
}

fn print_report(title: &str, report: &CheckReport, json: bool) -> CommandResult {
    if json {
        let mut text = serde_json::to_string_pretty(report)?;
        text.push('\n');
        emit(&text)?;
    } else {
        let mut out = String::new();
        let verdict = if report.success { "passed" } else { "FAILED" };
        let _ = writeln!(out, "{title}: {verdict} ({} ms)", report.duration);
        for step in &report.steps {
            let mark = if step.passed { "ok  " } else { "FAIL" };
            let _ = write!(out, "  [{mark}] {}", step.name);
            if let Some(details) = &step.details {
                let _ = write!(out, ": {details}");
            }
            let _ = writeln!(out, " ({} ms)", step.duration);
            if let Some(field) = &step.field {
                let _ = writeln!(out, "         field: {field}");
            }
            if let Some(suggestion) = &step.suggestion {
                let _ = writeln!(out, "         hint: {suggestion}");
            }
        }
        emit(&out)?;
    }
    Ok(if report.success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A config given to a live check, and the stored instance it came from (with `--stored`).
struct Checked {
    config: ValidConfig,
    stored: Option<(Service, String)>,
}

impl CheckSource {
    /// The config to check: the file's (`None` when it is refused: the problems are printed),
    /// or the stored credentials of the project (their decryption is audited with `purpose`).
    fn load(
        &self,
        location: &StoreLocation,
        connector: &Connector,
        purpose: &str,
    ) -> anyhow::Result<Option<Checked>> {
        if !self.stored {
            let path = self
                .config
                .as_deref()
                .context("--config FILE or --stored")?;
            return Ok(valid_config(connector, path)?.map(|config| Checked {
                config,
                stored: None,
            }));
        }
        let mut service = location.open_service(Access::Existing)?;
        let record = credentials::live_instance(service.store(), &self.project, connector.id())?;
        let opened = service.get(&record.id, purpose, &actor())?;
        let config = connector
            .validate_config(&opened.config.expose_full_config())
            .with_context(|| {
                format!(
                    "the credentials stored for `{}` no longer pass the connector's checks; rotate them",
                    connector.id()
                )
            })?;
        Ok(Some(Checked {
            config,
            stored: Some((service, record.id)),
        }))
    }
}

pub(crate) fn validate(
    registry: &Registry,
    location: &StoreLocation,
    args: &ValidateArgs,
) -> CommandResult {
    let connector = registry.lookup(&args.id)?;
    let Some(checked) = args
        .source
        .load(location, connector, "live validation (CLI)")?
    else {
        return Ok(ExitCode::FAILURE);
    };
    let report = engine()?.validate(connector, &checked.config);
    let title = format!("{} validation", connector.definition().name);
    let code = print_report(&title, &report, args.json)?;
    if let Some((mut service, id)) = checked.stored {
        let json = serde_json::to_value(&report)?;
        let record = service.record_validation(&id, report.success, &json, &actor())?;
        if !args.json {
            emit(&format!(
                "Recorded in the store: status {}\n",
                record.status
            ))?;
        }
    }
    Ok(code)
}

pub(crate) fn test(
    registry: &Registry,
    location: &StoreLocation,
    args: &TestArgs,
) -> CommandResult {
    let connector = registry.lookup(&args.id)?;
    let purpose = format!("test action `{}` (CLI)", args.action);
    let Some(checked) = args.source.load(location, connector, &purpose)? else {
        return Ok(ExitCode::FAILURE);
    };
    let params: BTreeMap<String, Value> = args
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let report = engine()?.run_test_action(connector, &checked.config, &args.action, &params)?;
    let title = format!("{} test `{}`", connector.definition().name, args.action);
    let code = print_report(&title, &report, args.json)?;
    if let Some((mut service, id)) = checked.stored {
        service.record_test(&id, &serde_json::to_value(&report)?)?;
    }
    Ok(code)
}

/// The body of `connector`'s supplied file `id`, fetched from the live service (`add --fetch`).
pub(crate) fn fetch_supplied(
    connector: &Connector,
    id: &str,
    config: &ValidConfig,
) -> anyhow::Result<String> {
    let engine = engine()?;
    engine
        .block_on(mobigen_connectors::net::fetch_supplied(
            engine.engine(),
            connector,
            id,
            config,
        ))
        .with_context(|| format!("cannot fetch `{id}`; nothing was changed"))
}

fn state_dir(arg: &StateDirArg) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &arg.state_dir {
        return Ok(dir.clone());
    }
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_STATE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".local").join("state")))
        .or_else(|| var("LOCALAPPDATA"))
        .map(|d| d.join("mobigen"))
        .context("no state folder: pass --state-dir or set MOBIGEN_STATE_DIR")
}

fn oauth_dir(arg: &StateDirArg) -> anyhow::Result<PathBuf> {
    let dir = state_dir(arg)?.join("oauth");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    restrict(&dir, 0o700)?;
    Ok(dir)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot restrict the permissions of {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> anyhow::Result<()> {
    Ok(())
}

/// Writes a private file: created with mode 0600 before any byte is written.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    restrict(path, 0o600)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn provider(
    id: &str,
    client_id: &str,
    redirect_uri: &str,
    secret: SecretString,
    options: &NetOptions,
) -> anyhow::Result<OAuthProvider> {
    let Some(provider) = OAuthProvider::for_connector(id, client_id, secret, redirect_uri) else {
        bail!(
            "connector `{id}` has no OAuth flow; paste its keys instead (OAuth: stripe, firebase, supabase)"
        );
    };
    Ok(provider.with_overrides(options))
}

pub(crate) fn oauth(
    registry: &Registry,
    location: &StoreLocation,
    command: &OauthCommand,
) -> CommandResult {
    match command {
        OauthCommand::Begin(args) => oauth_begin(registry, args),
        OauthCommand::Complete(args) => oauth_complete(registry, location, args),
    }
}

fn oauth_begin(registry: &Registry, args: &OauthBeginArgs) -> CommandResult {
    registry.lookup(&args.id)?;
    let options = NetOptions::from_env()?;
    let provider = provider(
        &args.id,
        &args.client_id,
        &args.redirect_uri,
        SecretString::default(),
        &options,
    )?;
    let request = begin_authorization(&provider)?;
    let pending = json!({
        "provider": args.id,
        "clientId": args.client_id,
        "redirectUri": args.redirect_uri,
        "state": request.pending.state.expose_secret(),
        "pkceVerifier": request.pending.pkce_verifier.as_ref().map(SecretString::expose_secret),
    });
    let path = oauth_dir(&args.state_dir)?.join(format!("{}.pending.json", args.id));
    write_private(&path, &serde_json::to_string_pretty(&pending)?)?;
    if args.json {
        let out = json!({
            "connector": args.id,
            "url": request.url,
            "state": request.pending.state.expose_secret(),
            "pendingFile": path,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else {
        let mut out = String::new();
        if args.id == "stripe" {
            let _ = writeln!(
                out,
                "note: Stripe advises against OAuth for new Connect platforms (use Connect \
                 Onboarding); pasting the API keys remains the default."
            );
        }
        let _ = writeln!(out, "Open this URL to authorize:\n{}", request.url);
        let _ = writeln!(out, "state: {}", request.pending.state.expose_secret());
        let _ = writeln!(
            out,
            "Then run: mobigen-connect oauth complete {} --callback '<the URL you were sent back to>'",
            args.id
        );
        emit(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn oauth_complete(
    registry: &Registry,
    location: &StoreLocation,
    args: &OauthCompleteArgs,
) -> CommandResult {
    registry.lookup(&args.id)?;
    let dir = oauth_dir(&args.state_dir)?;
    let pending_path = dir.join(format!("{}.pending.json", args.id));
    let text = std::fs::read_to_string(&pending_path).with_context(|| {
        format!(
            "no pending authorization for `{}` in {}; run `oauth begin {}` first",
            args.id,
            dir.display(),
            args.id
        )
    })?;
    let saved: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", pending_path.display()))?;
    let field = |name: &str| {
        saved
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .with_context(|| format!("{} has no `{name}`", pending_path.display()))
    };
    let pending = PendingAuthorization {
        provider: args.id.clone(),
        state: SecretString::new(field("state")?),
        pkce_verifier: saved
            .get("pkceVerifier")
            .and_then(Value::as_str)
            .map(|v| SecretString::new(v.to_string())),
    };
    let var = OAuthProvider::client_secret_var(&args.id);
    let secret = std::env::var(&var)
        .ok()
        .filter(|s| !s.is_empty())
        .with_context(|| {
            format!("set {var} to the OAuth client secret (Stripe: the platform's secret key)")
        })?;
    let options = NetOptions::from_env()?;
    let provider = provider(
        &args.id,
        &field("clientId")?,
        &field("redirectUri")?,
        SecretString::new(secret),
        &options,
    )?;
    let engine = BlockingNetEngine::new(options)?;
    let result = engine.block_on(complete_authorization(
        engine.engine(),
        &provider,
        &pending,
        &args.callback,
        &SystemClock,
    ));
    let tokens = match result {
        Ok(tokens) => tokens,
        Err(error) => {
            // A mismatched state may be a forged callback: keep the pending authorization for
            // the real one. Anything else used the code up.
            if !matches!(error, mobigen_connectors::net::NetError::StateMismatch) {
                let _ = std::fs::remove_file(&pending_path);
            }
            return Err(error.into());
        }
    };
    // The same keyring as every other command: --keyring, MOBIGEN_KEYRING, ... (store_access).
    let vault = Vault::new(location.open_keyring(Access::Create)?);
    let plaintext = tokens.to_secret_value().expose_json();
    let sealed = vault.encrypt_to_text(
        plaintext.to_string().as_bytes(),
        &VaultContext::new("oauth", &args.id),
    )?;
    let tokens_path = dir.join(format!("{}.tokens", args.id));
    write_private(&tokens_path, &sealed)?;
    let _ = std::fs::remove_file(&pending_path);
    if args.json {
        let out = json!({
            "connector": args.id,
            "tokensFile": tokens_path,
            "scope": tokens.scope,
            "expiresAt": tokens.expires_at.map(|t| t.unix_millis()),
            "details": tokens.extra,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else {
        emit(&format!(
            "Authorized {}: tokens saved encrypted to {}\n",
            args.id,
            tokens_path.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
