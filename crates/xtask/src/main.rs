//! Development tasks, run as `cargo xtask <task>`:
//!
//! - `test`: every check CI runs: formatting, clippy, rustdoc, every test of the workspace, and
//!   the toolchain checks.
//! - `toolchain [FILTER]`: the generated code checked with Expo's real toolchain (see
//!   `toolchain.rs`); FILTER limits it to combinations whose name contains it.
//! - `sample`: the main job on the bundled sample app (`examples/sample-app`), in a temporary copy
//!   so the tracked tree stays clean.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

mod toolchain;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs a command in the workspace root, echoing it, and fails when it fails.
fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<()> {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn test() -> anyhow::Result<()> {
    run("cargo", &["fmt", "--all", "--check"], &[])?;
    run(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    run(
        "cargo",
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    cargo_test(&["test", "--workspace"])?;
    toolchain::run(&workspace_root(), None)
}

/// Runs `cargo test`, echoing its output, and ends with one summary line over every test binary
/// (`tests: N passed, N failed`), so a reader (or CI) sees the total at the end.
fn cargo_test(args: &[&str]) -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    println!("$ cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(args)
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start `cargo test`")?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(rest) = line.strip_prefix("test result: ") {
                passed += count_before(rest, " passed");
                failed += count_before(rest, " failed");
            }
        }
    }
    let status = child.wait()?;
    println!("tests: {passed} passed, {failed} failed");
    if !status.success() || failed > 0 {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    if passed == 0 {
        bail!("`cargo {}` ran no test", args.join(" "));
    }
    Ok(())
}

/// The number just before `label` in a `test result:` line (`ok. 12 passed; 0 failed; ...`).
fn count_before(line: &str, label: &str) -> u64 {
    line.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(label.trim_start())
                .map(str::trim)
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn sample() -> anyhow::Result<()> {
    let root = workspace_root();
    run(
        "cargo",
        &["build", "--quiet", "--package", "mobigen-connect"],
        &[],
    )?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let cli = target.join("debug/mobigen-connect");
    let work = tempfile::Builder::new()
        .prefix("mobigen-sample-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let app = work.path().join("sample-app");
    copy_dir(&root.join("examples/sample-app"), &app)?;
    println!(
        "Working on a copy of examples/sample-app in {}",
        app.display()
    );
    let configs = root.join("examples/sample-configs");
    for id in ["stripe", "firebase", "supabase", "revenuecat", "onesignal"] {
        let config = configs.join(format!("{id}.json"));
        let config = config.to_str().context("non UTF-8 path")?;
        println!();
        let cli = cli.to_str().context("non UTF-8 path")?;
        run(cli, &["check-config", id, "--config", config], &[])?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            if entry.file_name() != "node_modules" {
                copy_dir(&entry.path(), &target)?;
            }
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "test" => test(),
        "sample" => sample(),
        "toolchain" => toolchain::run(&workspace_root(), std::env::args().nth(2).as_deref()),
        _ => {
            eprintln!("usage: cargo xtask <test|sample|toolchain [FILTER]>");
            eprintln!(
                "  test       formatting, clippy, rustdoc, every test and the toolchain checks (what CI runs)"
            );
            eprintln!("  toolchain  generated code checked with tsc, expo config and expo export");
            eprintln!("  sample  the main job on a temporary copy of examples/sample-app");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
