//! A throwaway PostgreSQL server for the store tests (`PgStore`): the Debian package's `initdb`
//! into a temporary folder, `pg_ctl start` on a free 127.0.0.1 port (socket in the same folder),
//! one database, and `pg_ctl stop -m fast` when [`TestPostgres`] is dropped, also after a
//! failure. As root, the server commands run as the `postgres` user (PostgreSQL refuses root).
//!
//! `cargo xtask postgres -- CMD ARGS...` runs one command with [`URL_VAR`] set to the server
//! (for one test by hand); `cargo xtask test` runs the workspace tests that way.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

/// The variable the store tests read the database URL from.
pub const URL_VAR: &str = "MOBIGEN_TEST_POSTGRES_URL";

/// Where the Debian packages install the server binaries, one folder per major version.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// A running server; stopped and deleted on drop.
pub struct TestPostgres {
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    url: String,
    // Dropped after the server is stopped (fields drop after `Drop::drop`).
    _dir: tempfile::TempDir,
}

impl TestPostgres {
    /// Starts a server with one database, `mobigen_test`, trusted on 127.0.0.1.
    ///
    /// # Errors
    /// No PostgreSQL found, or a step failed (its output is in the error).
    pub fn start() -> anyhow::Result<TestPostgres> {
        // Installed with apt-get when missing and this runs as root (a fresh machine, CI).
        crate::debian_package("postgresql", || server_bin().is_ok())?;
        let bin = server_bin()?;
        let as_postgres = running_as_root()?;
        let dir = tempfile::Builder::new()
            .prefix("mobigen-postgres-")
            .tempdir()
            .context("cannot create a folder for the test server")?;
        if as_postgres {
            step(Command::new("chown").arg("postgres:").arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let port = crate::free_loopback_port()?;
        let server = |program: &str| server_command(&bin, program, as_postgres);
        step(
            server("initdb")
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth=trust", "--no-sync", "--no-locale"])
                .args(["-E", "UTF8"]),
        )?;
        let options = format!(
            "-k {} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off -c max_connections=200",
            dir.path().display()
        );
        // From here on the server may run: stop it on every way out.
        let running = TestPostgres {
            bin,
            data,
            as_postgres,
            url: format!("postgres://postgres@127.0.0.1:{port}/mobigen_test"),
            _dir: dir,
        };
        step(
            server_command(&running.bin, "pg_ctl", as_postgres)
                .arg("-D")
                .arg(&running.data)
                .arg("-l")
                .arg(running.data.with_file_name("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]),
        )
        .with_context(|| {
            let log = std::fs::read_to_string(running.data.with_file_name("server.log"));
            format!("server log:\n{}", log.unwrap_or_default())
        })?;
        step(
            Command::new(running.bin.join("createdb"))
                .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
                .arg("mobigen_test"),
        )?;
        println!("PostgreSQL test server at {}", running.url);
        Ok(running)
    }

    /// The database URL (`postgres://postgres@127.0.0.1:PORT/mobigen_test`).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let stopped = step(
            server_command(&self.bin, "pg_ctl", self.as_postgres)
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "fast", "-w", "stop"]),
        );
        if let Err(error) = stopped {
            eprintln!("error: cannot stop the PostgreSQL test server: {error:#}");
        }
    }
}

/// `cargo xtask postgres -- CMD ARGS...`: runs CMD with [`URL_VAR`] pointing at a fresh server.
///
/// # Errors
/// No command given, the server does not start, or the command fails.
pub fn run_with_server(args: &[String]) -> anyhow::Result<()> {
    let server = TestPostgres::start()?;
    crate::run_given_command("postgres", args, &[(URL_VAR, server.url())])
}

/// The newest `/usr/lib/postgresql/N/bin` that has `initdb`.
fn server_bin() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_ROOT)
        .with_context(|| {
            format!("no PostgreSQL server in {DEBIAN_ROOT}: apt-get install postgresql")
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .with_context(|| format!("no initdb under {DEBIAN_ROOT}/*/bin: apt-get install postgresql"))
}

fn running_as_root() -> anyhow::Result<bool> {
    let output = Command::new("id")
        .arg("-u")
        .output()
        .context("cannot run `id -u`")?;
    Ok(String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// `program` of the server, run as `postgres` when `as_postgres`.
fn server_command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(bin.join(program));
        command
    } else {
        Command::new(bin.join(program))
    }
}

/// Runs `command` from `/` (readable by the `postgres` user), failing with its output.
fn step(command: &mut Command) -> anyhow::Result<()> {
    crate::run_captured(command.current_dir("/"))
}
