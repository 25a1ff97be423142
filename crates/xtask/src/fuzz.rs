//! `cargo xtask fuzz`: the fuzz targets (fuzz/, its own workspace) under their stable driver,
//! for a fixed time each. CI runs it as part of `cargo xtask test`.
//!
//! The fuzz workspace is built in the main target folder: its Cargo.lock pins the main
//! workspace's versions and it uses the same dev profile, so the dependencies (SWC, jsonschema,
//! SQLite, ...) already built for the main workspace are reused instead of built again.

use std::time::Instant;

use anyhow::Context;

use crate::{path_str, run, target_dir};

const MANIFEST: &str = "fuzz/Cargo.toml";

/// Builds the stable driver and returns its path.
fn build_driver() -> anyhow::Result<std::path::PathBuf> {
    let target = target_dir();
    let target_str = path_str(&target)?.to_string();
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--locked",
            "--manifest-path",
            MANIFEST,
            "--no-default-features",
            "--bin",
            "fuzz-stable",
        ],
        &[("CARGO_TARGET_DIR", &target_str)],
    )?;
    Ok(crate::built_dir("debug")?.join("fuzz-stable"))
}

/// `cargo xtask fuzz [TARGET...] [--seconds N] [--seed S]` (30 s per target by default), or
/// `cargo xtask fuzz --repro TARGET FILE`. Fails on any crash or broken invariant; the input is
/// printed and saved under fuzz/artifacts/TARGET/.
pub fn fuzz(args: &[String]) -> anyhow::Result<()> {
    let started = Instant::now();
    let driver = build_driver()?;
    let built = started.elapsed();
    let mut driver_args: Vec<&str> = args.iter().map(String::as_str).collect();
    let repro = driver_args.first() == Some(&"--repro");
    if !repro && !driver_args.contains(&"--seconds") {
        driver_args.extend(["--seconds", "30"]);
    }
    let driver = path_str(&driver)?.to_string();
    run(&driver, &driver_args, &[]).context("a fuzz target failed (its input is saved above)")?;
    println!(
        "fuzz: built in {:.0} s, ran in {:.0} s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
    Ok(())
}

/// The fuzz workspace's formatting, lints and unit tests (the mutator), for `cargo xtask test`.
/// libFuzzer (the `libfuzzer` feature) is left out: the entry points are one macro call each.
pub fn checks() -> anyhow::Result<()> {
    let target = path_str(&target_dir())?.to_string();
    let env = [("CARGO_TARGET_DIR", target.as_str())];
    run(
        "cargo",
        &["fmt", "--manifest-path", MANIFEST, "--check"],
        &[],
    )?;
    run(
        "cargo",
        &[
            "clippy",
            "--locked",
            "--manifest-path",
            MANIFEST,
            "--all-targets",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ],
        &env,
    )?;
    run(
        "cargo",
        &[
            "test",
            "--quiet",
            "--locked",
            "--manifest-path",
            MANIFEST,
            "--no-default-features",
            "--lib",
        ],
        &env,
    )?;
    Ok(())
}
