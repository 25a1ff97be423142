//! `cargo xtask expo-versions`: regenerates `crates/mobigen-connectors/connectors/expo-sdk.json`,
//! the versions `expo install` would pick for the packages the built-in connectors depend on,
//! per Expo SDK.
//!
//! For every stable major of `expo` on the npm registry from [`OLDEST_SDK`] on, the newest
//! stable release of that major is packed (`npm pack`, into a temporary folder) and its
//! `bundledNativeModules.json` (the map `expo install` uses) is read. The table keeps the
//! packages the built-in manifests name (plus `react` and `react-native`, for reference) that the
//! map lists; a package Expo does not list keeps its manifest's range. The output is sorted, so
//! running the command again on the same registry gives the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};
use mobigen_connectors::Registry;
use serde_json::Value;

/// The oldest Expo SDK the table covers.
const OLDEST_SDK: u64 = 52;
/// Where the table goes, relative to the workspace root.
pub const TABLE: &str = "crates/mobigen-connectors/connectors/expo-sdk.json";
/// Packages kept although no manifest names them.
const REFERENCE_PACKAGES: [&str; 2] = ["react", "react-native"];

fn npm(args: &[&str], dir: &Path) -> anyhow::Result<String> {
    println!("$ npm {}", args.join(" "));
    let output = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .output()
        .context("cannot start `npm`")?;
    if !output.status.success() {
        bail!(
            "`npm {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("npm printed non UTF-8 text")
}

/// `major.minor.patch` of a stable version (no pre-release, no build), else `None`.
fn stable(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.');
    let mut next = || parts.next()?.parse::<u64>().ok();
    let v = (next()?, next()?, next()?);
    (version.split('.').count() == 3).then_some(v)
}

/// The newest stable release of every major from [`OLDEST_SDK`] on.
fn newest_per_major(versions: &[String]) -> BTreeMap<u64, (u64, u64, u64)> {
    let mut newest: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new();
    for v in versions.iter().filter_map(|v| stable(v)) {
        if v.0 >= OLDEST_SDK {
            let slot = newest.entry(v.0).or_insert(v);
            *slot = (*slot).max(v);
        }
    }
    newest
}

/// The packages of every built-in manifest, plus [`REFERENCE_PACKAGES`].
fn wanted_packages() -> anyhow::Result<BTreeSet<String>> {
    let registry = Registry::builtin().context("the built-in connectors do not load")?;
    let mut wanted: BTreeSet<String> = REFERENCE_PACKAGES.iter().map(|p| p.to_string()).collect();
    for connector in registry.list(None) {
        for dep in &connector.definition().dependencies {
            wanted.insert(dep.package.clone());
        }
    }
    Ok(wanted)
}

/// `bundledNativeModules.json` of `expo@version`, read from the packed tarball.
fn bundled_native_modules(version: &str, dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let spec = format!("expo@{version}");
    let packed = npm(&["pack", &spec, "--json", "--silent"], dir)?;
    let packed: Value = serde_json::from_str(&packed).context("`npm pack --json` output")?;
    let file = packed
        .pointer("/0/filename")
        .and_then(Value::as_str)
        .context("`npm pack --json` named no file")?
        .to_string();
    let member = "package/bundledNativeModules.json";
    println!("$ tar -xzf {file} {member}");
    let status = Command::new("tar")
        .args(["-xzf", &file, member])
        .current_dir(dir)
        .status()
        .context("cannot start `tar`")?;
    if !status.success() {
        bail!("{spec} has no {member} ({status})");
    }
    let path = dir.join(member);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {member} of {spec}"))?;
    std::fs::remove_dir_all(dir.join("package")).ok();
    std::fs::remove_file(dir.join(&file)).ok();
    serde_json::from_str(&text).with_context(|| format!("{member} of {spec} is not a string map"))
}

/// The table as committed: `{ generatedBy, source, sdks: { "52": { expo, packages } } }`.
fn table(
    sdks: &BTreeMap<u64, (String, BTreeMap<String, String>)>,
    wanted: &BTreeSet<String>,
) -> Value {
    let mut out = serde_json::Map::new();
    for (major, (expo, modules)) in sdks {
        let packages: serde_json::Map<String, Value> = modules
            .iter()
            .filter(|(name, _)| wanted.contains(*name))
            .map(|(name, range)| (name.clone(), Value::String(range.clone())))
            .collect();
        out.insert(
            major.to_string(),
            serde_json::json!({ "expo": expo, "packages": packages }),
        );
    }
    serde_json::json!({
        "generatedBy": "cargo xtask expo-versions",
        "source": "expo/bundledNativeModules.json of the newest stable expo release of each SDK major on the npm registry; only the packages the built-in connectors use (and react, react-native)",
        "sdks": out,
    })
}

/// Runs the generator and writes [`TABLE`].
pub fn run(root: &Path) -> anyhow::Result<()> {
    let wanted = wanted_packages()?;
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    let versions = npm(&["view", "expo", "versions", "--json"], scratch.path())?;
    let versions: Vec<String> =
        serde_json::from_str(&versions).context("`npm view expo versions --json` output")?;
    let newest = newest_per_major(&versions);
    if newest.is_empty() {
        bail!("the registry serves no stable expo release from SDK {OLDEST_SDK} on");
    }
    let mut sdks = BTreeMap::new();
    for (major, (a, b, c)) in newest {
        let version = format!("{a}.{b}.{c}");
        let modules = bundled_native_modules(&version, scratch.path())?;
        sdks.insert(major, (version, modules));
    }
    let mut text = serde_json::to_string_pretty(&table(&sdks, &wanted))?;
    text.push('\n');
    std::fs::write(root.join(TABLE), text).with_context(|| format!("cannot write {TABLE}"))?;
    println!(
        "wrote {TABLE}: SDK {}",
        sdks.keys()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_per_major_skips_prereleases_and_old_majors() {
        let versions: Vec<String> = [
            "51.0.9",
            "52.0.9",
            "52.0.10",
            "53.0.0-preview.3",
            "53.0.1",
            "54.0.0-canary-1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let newest = newest_per_major(&versions);
        assert_eq!(
            newest.into_iter().collect::<Vec<_>>(),
            vec![(52, (52, 0, 10)), (53, (53, 0, 1))]
        );
    }
}
