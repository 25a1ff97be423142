//! moto's KMS-compatible server for the KMS key provider's tests (`secrets::vault::kms`): a
//! Python virtual environment under the target folder (`<target>/moto-venv`, made with
//! `python3 -m venv` and filled from the pinned `crates/xtask/moto-requirements.txt`; reused
//! while that file is unchanged), `moto_server` on a free 127.0.0.1 port, and the server killed
//! when [`TestKms`] is dropped, also after a failure.
//!
//! `cargo xtask kms -- CMD ARGS...` runs one command with [`URL_VAR`] set to the server and fake
//! AWS credentials for the command only; `cargo xtask test` runs the workspace tests so.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The variable the KMS tests read the endpoint from.
pub const URL_VAR: &str = "MOBIGEN_TEST_KMS_URL";

/// The pinned packages, relative to the workspace root.
const REQUIREMENTS: &str = "crates/xtask/moto-requirements.txt";

/// How long the server may take to answer after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server; killed on drop.
pub struct TestKms {
    child: Child,
    url: String,
    // Holds the server's log; deleted after the server is killed.
    _dir: tempfile::TempDir,
}

impl TestKms {
    /// Installs moto when needed and starts its server on a free 127.0.0.1 port.
    ///
    /// # Errors
    /// No `python3` with `venv`, pip fails, or the server does not answer in time (its log is
    /// in the error).
    pub fn start() -> anyhow::Result<TestKms> {
        let venv = ensure_venv()?;
        let dir = tempfile::Builder::new()
            .prefix("mobigen-moto-")
            .tempdir()
            .context("cannot create a folder for the moto server's log")?;
        let log_path = dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let port = crate::free_loopback_port()?;
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start moto_server")?;
        // From here on the server may run: kill it on every way out.
        let mut running = TestKms {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        running.wait_until_answering(port).with_context(|| {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            format!("moto server log:\n{log}")
        })?;
        println!("moto KMS test server at {}", running.url);
        Ok(running)
    }

    /// The variables a test process gets: the endpoint, and fake credentials and a region so
    /// the AWS SDK's standard chain finds them first and asks nothing else (no instance
    /// metadata lookup).
    pub fn envs(&self) -> Vec<(&'static str, &str)> {
        vec![
            (URL_VAR, self.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
    }

    /// Waits until the server answers an HTTP request on `port`, or fails when it exits or
    /// [`START_TIMEOUT`] passes.
    fn wait_until_answering(&mut self, port: u16) -> anyhow::Result<()> {
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto_server exited ({status})");
            }
            if answers(address) {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "moto_server did not answer on {address} within {} s",
                    START_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestKms {
    fn drop(&mut self) {
        // moto keeps everything in memory: nothing to shut down cleanly.
        if let Err(error) = self.child.kill().and_then(|()| self.child.wait().map(drop)) {
            eprintln!("error: cannot stop the moto test server: {error}");
        }
    }
}

/// Whether an HTTP server answers a request at `address`.
fn answers(address: SocketAddr) -> bool {
    use std::io::Read as _;
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut start = [0u8; 5];
    stream.read_exact(&mut start).is_ok() && &start == b"HTTP/"
}

/// Installs moto's server ahead of [`TestKms::start`] (`cargo xtask test` does so beside the
/// first builds).
///
/// # Errors
/// As [`TestKms::start`].
pub fn install() -> anyhow::Result<()> {
    ensure_venv().map(drop)
}

/// `<target>/moto-venv` with the pinned packages, made or refreshed when the requirements
/// changed (a stamp file in the venv holds the requirements it was filled from).
fn ensure_venv() -> anyhow::Result<PathBuf> {
    let requirements_path = crate::workspace_root().join(REQUIREMENTS);
    let requirements = std::fs::read_to_string(&requirements_path)
        .with_context(|| format!("cannot read {REQUIREMENTS}"))?;
    let venv = crate::target_dir().join("moto-venv");
    let stamp = venv.join("mobigen-requirements.txt");
    let server = venv.join("bin/moto_server");
    if server.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&requirements) {
        return Ok(venv);
    }
    println!("installing moto's server into {}", venv.display());
    if !venv.join("bin/python").exists() {
        // Debian splits `venv` out of python3.
        crate::debian_package("python3-venv", python_has_venv)?;
        std::fs::create_dir_all(crate::target_dir())?;
        crate::run_captured(Command::new("python3").arg("-m").arg("venv").arg(&venv))
            .context("cannot create the virtual environment for moto (python3 -m venv)")?;
    }
    crate::run_captured(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("-r")
            .arg(&requirements_path),
    )
    .context("cannot install moto's server with pip")?;
    std::fs::write(&stamp, &requirements)
        .with_context(|| format!("cannot write {}", stamp.display()))?;
    Ok(venv)
}

fn python_has_venv() -> bool {
    Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `cargo xtask kms -- CMD ARGS...`: runs CMD with [`URL_VAR`] pointing at a fresh server.
///
/// # Errors
/// No command given, the server does not start, or the command fails.
pub fn run_with_server(args: &[String]) -> anyhow::Result<()> {
    let server = TestKms::start()?;
    crate::run_given_command("kms", args, &server.envs())
}
