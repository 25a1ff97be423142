//! `cargo xtask bench`: every benchmark of BENCHMARKS.md in one run, with the comparison.
//!
//! 1. `cargo bench --bench root_edit` (the injector's edit and a bare SWC parse at 100, 1,000
//!    and 10,000 lines), writing the generated files for step 3;
//! 2. `cargo bench --bench vault -- encrypt` (one envelope encrypt + decrypt of 1 KiB) and
//!    `cargo bench --bench plan -- plan/all_five` (planning the five connectors in turn);
//! 3. `npm ci` in bench/compare, then the same root-file edit with jscodeshift (recast),
//!    ts-morph and `@swc/core` (`parseSync` + splicing at its spans) on the same files, and the
//!    same envelope work with Node's crypto;
//! 4. peak memory (max RSS, via GNU time) of the release `mobigen-connect add` of each of the
//!    five connectors on a copy of the sample app (configs from tests/fixtures/configs);
//! 5. a table of the figures and ratios against the targets.

use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::{copy_dir, path_str, run, run_in, target_dir, workspace_root};

const SIZES: [u64; 3] = [100, 1_000, 10_000];
const CONNECTORS: [&str; 5] = ["stripe", "firebase", "supabase", "revenuecat", "onesignal"];

/// The mean of a criterion benchmark in nanoseconds (`target/criterion/DIR/new`: `GROUP/ID`
/// for a benchmark of a group, the name with `/` made `_` for a lone `bench_function`).
fn criterion_mean_ns(dir: &str) -> anyhow::Result<f64> {
    let path = target_dir()
        .join("criterion")
        .join(dir)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)?;
    value["mean"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no mean in {}", path.display()))
}

/// Runs `node SCRIPT ARGS` in bench/compare and parses its one line of JSON.
fn node_json(script: &str, args: &[&str]) -> anyhow::Result<Value> {
    println!("$ (cd bench/compare && node {script} {})", args.join(" "));
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(workspace_root().join("bench/compare"))
        .output()
        .context("cannot start `node`")?;
    if !output.status.success() {
        bail!(
            "`node {script}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).with_context(|| format!("`node {script}` output"))
}

/// Max RSS in KiB of `program args`, measured by GNU time (`/usr/bin/time -f %M`).
fn max_rss_kib(program: &str, args: &[&str]) -> anyhow::Result<u64> {
    let output = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kib=%M", program])
        .args(args)
        .current_dir(workspace_root())
        .output()
        .context("cannot start /usr/bin/time (GNU time; Debian package `time`)")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("`{program} {}` failed: {stderr}", args.join(" "));
    }
    stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("no max RSS in: {stderr}"))
}

fn peak_memory() -> anyhow::Result<Vec<(&'static str, u64)>> {
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--release",
            "--package",
            "mobigen-connect",
        ],
        &[],
    )?;
    let cli = crate::built_dir("release")?.join("mobigen-connect");
    let cli = path_str(&cli)?.to_string();
    let work = tempfile::Builder::new()
        .prefix("mobigen-bench-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let app = work.path().join("sample-app");
    copy_dir(&workspace_root().join("examples/sample-app"), &app)?;
    let (store, keyring) = (
        work.path().join("store.db"),
        work.path().join("keyring.json"),
    );
    let mut out = Vec::new();
    for id in CONNECTORS {
        let config = workspace_root().join(format!("tests/fixtures/configs/{id}-full.json"));
        let args = [
            "add",
            id,
            "--project",
            path_str(&app)?,
            "--config",
            path_str(&config)?,
            "--store",
            path_str(&store)?,
            "--keyring",
            path_str(&keyring)?,
            "--json",
        ];
        println!("$ /usr/bin/time -f %M {cli} {}", args.join(" "));
        out.push((id, max_rss_kib(&cli, &args)?));
    }
    Ok(out)
}

/// `cargo xtask bench`.
pub fn bench() -> anyhow::Result<()> {
    let files = tempfile::Builder::new()
        .prefix("mobigen-bench-files-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let files_dir = path_str(files.path())?.to_string();
    // The vault bench filtered to the pair (its 100,000-record rewrap takes minutes).
    for (bench, filter, env) in [
        (
            "root_edit",
            None,
            Some(("MOBIGEN_BENCH_FILES", files_dir.as_str())),
        ),
        ("vault", Some("encrypt"), None),
        ("plan", Some("plan/all_five"), None),
    ] {
        let mut args = vec!["bench", "--package", "mobigen-connectors", "--bench", bench];
        if let Some(filter) = filter {
            args.extend(["--", filter]);
        }
        run("cargo", &args, env.as_slice())?;
    }
    run_in("bench/compare", "npm", &["ci", "--no-audit", "--no-fund"])?;
    let js_edit = node_json("root_edit.mjs", &[&files_dir])?;
    let js_vault = node_json("vault.mjs", &[])?;
    let memory = peak_memory()?;

    println!(
        "\n## Root-file edit: injector vs jscodeshift, ts-morph and @swc/core parseSync + splice (same files, same run)\n"
    );
    println!(
        "| lines | injector | bare SWC parse | edit / parse (target ≤ 1.3x) | jscodeshift | ts-morph | @swc/core parseSync + splice | fastest Node route / injector (target ≥ 10x) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for lines in SIZES {
        let edit_ms = criterion_mean_ns(&format!("root_edit/edit/{lines}"))? / 1e6;
        let parse_ms = criterion_mean_ns(&format!("root_edit/bare_parse/{lines}"))? / 1e6;
        let key = lines.to_string();
        let js = |tool: &str| js_edit[tool][&key].as_f64().context(tool.to_owned());
        let (jscodeshift, ts_morph, swc_splice) =
            (js("jscodeshift")?, js("ts-morph")?, js("swc-splice")?);
        println!(
            "| {lines} | {edit_ms:.3} ms | {parse_ms:.3} ms | {:.2}x | {jscodeshift:.2} ms | {ts_morph:.2} ms | {swc_splice:.3} ms | {:.1}x |",
            edit_ms / parse_ms,
            jscodeshift.min(ts_morph).min(swc_splice) / edit_ms
        );
    }
    let plan_ms = criterion_mean_ns("plan_all_five")? / 1e6;
    println!(
        "\n## Planning the five connectors in turn on the sample app\n\nmean: {plan_ms:.3} ms (target < 2 ms)"
    );
    let vault_us = criterion_mean_ns("vault/encrypt+decrypt 1 KiB")? / 1e3;
    let node_pairs = js_vault["pairsPerSecond"]
        .as_f64()
        .context("pairsPerSecond")?;
    let rust_pairs = 1e6 / vault_us;
    println!("\n## Vault: encrypt + decrypt 1 KiB (envelope) vs Node's crypto\n");
    println!("| | µs / pair | pairs / s |\n|---|---:|---:|");
    println!("| Rust vault | {vault_us:.2} | {rust_pairs:.0} |");
    println!(
        "| Node crypto | {:.2} | {node_pairs:.0} |",
        1e6 / node_pairs
    );
    println!(
        "\nratio: {:.1}x Node's pairs/s (target ≥ 5x)",
        rust_pairs / node_pairs
    );
    println!("\n## Peak memory of `mobigen-connect add` (release), five connectors in turn\n");
    println!("| connector | max RSS |\n|---|---:|");
    for (id, kib) in &memory {
        println!("| {id} | {:.1} MiB |", *kib as f64 / 1024.0);
    }
    let max = memory.iter().map(|(_, k)| *k).max().unwrap_or(0);
    println!("\npeak: {:.1} MiB (target < 30 MB)", max as f64 / 1024.0);
    Ok(())
}
