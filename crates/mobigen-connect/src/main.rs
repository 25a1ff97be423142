//! `mobigen-connect`: the command-line interface of Mobigen connectors.
//!
//! Exit status: 0 on success, 1 when the command ran but the answer is "no" (an invalid config, an
//! unknown connector, a file that cannot be read), 2 for a usage error.

mod commands;
mod output;
mod store_access;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mobigen_connectors::Registry;

/// Add third-party services (Stripe, Firebase, Supabase, RevenueCat, OneSignal) to Expo apps.
#[derive(Debug, Parser)]
#[command(name = "mobigen-connect", version, about, long_about = None)]
struct Cli {
    /// Also load the connector folders found in DIR (each a folder with a manifest.json).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "MOBIGEN_CONNECTORS_DIR"
    )]
    connectors: Option<PathBuf>,

    /// The connector store: an SQLite file, or a PostgreSQL URL (postgres://user@host/db;
    /// ?sslmode=require for TLS) that several services share. Default: `connectors.db` in the
    /// user's data directory ($XDG_DATA_HOME/mobigen, ~/.local/share/mobigen).
    #[arg(long, global = true, value_name = "PATH|URL", env = "MOBIGEN_STORE")]
    store: Option<PathBuf>,

    /// The vault keyring file: default `vault-keyring.json` next to the store file, or in the
    /// data directory for a PostgreSQL store (also MOBIGEN_VAULT_KEYRING; MOBIGEN_VAULT_KEY
    /// replaces the file with a key from the environment; MOBIGEN_KMS_KEY_ID=alias/NAME keeps
    /// the keys in AWS KMS instead, see the README).
    #[arg(long, global = true, value_name = "PATH", env = "MOBIGEN_KEYRING")]
    keyring: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the available connectors.
    List(commands::catalog::ListArgs),
    /// Search connectors by name, capability or description (typos are tolerated).
    Search(commands::catalog::SearchArgs),
    /// Show one connector: description, config fields and schema, features, what it adds.
    Show(commands::catalog::ShowArgs),
    /// Check a config file against a connector's schema and rules, without side effects.
    CheckConfig(commands::catalog::CheckConfigArgs),
    /// Add a connector to an Expo project (or update it when its config changed), and store its
    /// config in the connector store (secrets encrypted; status `configured`).
    Add(commands::project::AddArgs),
    /// Remove a connector from an Expo project, restoring what was there before, and delete its
    /// stored credentials.
    Remove(commands::project::RemoveArgs),
    /// Show the connectors enabled in a project and any drift from what was generated.
    Status(commands::project::StatusArgs),
    /// Stored credentials of a connector: rotate them, show their metadata.
    #[command(subcommand)]
    Credentials(commands::credentials::CredentialsCommand),
    /// The vault's key-encryption keys: list, rotate, rewrap stored records.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Show the audit log of credential access and changes, or verify its hash chain.
    Audit(commands::keys::AuditArgs),
    /// Switch an active connector off in the store; its credentials and code stay in place.
    Disable(commands::credentials::SwitchArgs),
    /// Switch a validated or disabled connector on (`active`) in the store.
    Enable(commands::credentials::SwitchArgs),
    /// Check a config's credentials against the live service (network).
    Validate(commands::net::ValidateArgs),
    /// Run a test action against the live service (network; Stripe: test keys only).
    Test(commands::net::TestArgs),
    /// Connect through OAuth instead of pasted keys (stripe, firebase, supabase).
    #[command(subcommand)]
    Oauth(commands::net::OauthCommand),
}

/// What a command reports when it fails: the message, printed as `error: <first line>` plus any
/// further lines of detail.
pub(crate) type CommandResult = anyhow::Result<ExitCode>;

fn run(cli: Cli) -> CommandResult {
    let registry = match &cli.connectors {
        Some(dir) => Registry::from_dir(dir)?,
        None => Registry::builtin()?,
    };
    let location = store_access::StoreLocation::resolve(cli.store, cli.keyring);
    match cli.command {
        Command::List(args) => commands::catalog::list(&registry, &args),
        Command::Search(args) => commands::catalog::search(&registry, &args),
        Command::Show(args) => commands::catalog::show(&registry, &args),
        Command::CheckConfig(args) => commands::catalog::check_config(&registry, &args),
        Command::Add(args) => commands::project::add(&registry, &location, &args),
        Command::Remove(args) => commands::project::remove(&registry, &location, &args),
        Command::Status(args) => commands::project::status(&registry, &location, &args),
        Command::Credentials(command) => {
            commands::credentials::credentials(&registry, &location, &command)
        }
        Command::Keys(command) => commands::keys::keys(&location, &command),
        Command::Audit(args) => commands::keys::audit(&location, &args),
        Command::Disable(args) => commands::credentials::switch(&registry, &location, &args, false),
        Command::Enable(args) => commands::credentials::switch(&registry, &location, &args, true),
        Command::Validate(args) => commands::net::validate(&registry, &location, &args),
        Command::Test(args) => commands::net::test(&registry, &location, &args),
        Command::Oauth(command) => commands::net::oauth(&registry, &location, &command),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

/// Prints an error as one line of cause, then its details and causes.
fn report(error: &anyhow::Error) {
    let text = error.to_string();
    let mut lines = text.lines();
    eprintln!("error: {}", lines.next().unwrap_or("unknown error"));
    for line in lines {
        eprintln!("{line}");
    }
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
