//! `cargo xtask workspace-hack [--check]`: writes `crates/workspace-hack/Cargo.toml`, a crate that
//! depends on every third-party package of the workspace with the union of the features any
//! member enables, so that every cargo run compiles each dependency once.
//!
//! Why: cargo resolves features per run, over the packages that run selects. `cargo xtask`
//! (`-p xtask`), the C build (`-p mobigen-connectors-c`), napi's build (`-p
//! mobigen-connectors-node`), `cargo test --workspace` and the fuzz workspace each enabled a
//! slightly different feature set of a few shared crates (`syn`'s `full`, `tokio`'s
//! `rt-multi-thread`, `bitflags`' `std`, ...), and each difference recompiled everything above
//! that crate (SWC, jsonschema, reqwest, the library), once per run, in every clean CI run. With
//! the hack a dependency of xtask, the C and Node crates and the fuzz crate, every run resolves
//! the same features (the published library does not depend on it; see `crate_package`).
//!
//! The union is read from `cargo metadata` (which resolves the whole workspace, dev-dependencies
//! included, with the `postgres` and `kms` features of the library that `cargo xtask test` turns
//! on) for this machine's platform, with the hack's own dependencies emptied first, so the
//! result is exact and a feature no member uses any more disappears. Packages used by build
//! scripts and proc-macros (the host side, resolved apart by cargo) go in `[build-dependencies]`.
//! `--check` (run by `cargo xtask test`) regenerates into memory, puts the file back and fails
//! when the committed file differs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

const MANIFEST: &str = "crates/workspace-hack/Cargo.toml";
const MARKER: &str = "### Generated below by `cargo xtask workspace-hack`; do not edit. ###\n";

/// Runs the task; `check` compares instead of writing.
pub fn run(root: &Path, check: bool) -> anyhow::Result<()> {
    let path = root.join(MANIFEST);
    let committed =
        std::fs::read_to_string(&path).with_context(|| format!("cannot read {MANIFEST}"))?;
    let Some(at) = committed.find(MARKER) else {
        bail!("{MANIFEST} lacks the line {MARKER:?}");
    };
    let header = &committed[..at + MARKER.len()];
    let lock = root.join("Cargo.lock");
    let metadata = {
        // Put the manifest and the lock file (which `cargo metadata` updates to the emptied
        // manifest) back whatever happens below.
        let _restore = [Restore::new(path.clone())?, Restore::new(lock.clone())?];
        std::fs::write(&path, header).with_context(|| format!("cannot write {MANIFEST}"))?;
        metadata(root)?
    };
    let generated = format!("{header}{}", sections(&metadata)?);
    if check {
        if generated != committed {
            bail!("{MANIFEST} is stale: run `cargo xtask workspace-hack` and commit the result");
        }
        println!("{MANIFEST} is up to date");
    } else {
        std::fs::write(&path, &generated).with_context(|| format!("cannot write {MANIFEST}"))?;
        println!("wrote {MANIFEST}");
    }
    Ok(())
}

/// Writes the file's current text back when dropped.
struct Restore {
    path: PathBuf,
    text: String,
}

impl Restore {
    fn new(path: PathBuf) -> anyhow::Result<Restore> {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Restore { path, text })
    }
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Err(error) = std::fs::write(&self.path, &self.text) {
            eprintln!("error: cannot restore {}: {error}", self.path.display());
        }
    }
}

fn metadata(root: &Path) -> anyhow::Result<Value> {
    let host = crate::host_triple()?;
    let output = Command::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            // `cargo xtask test` builds the workspace with the PostgreSQL store and the KMS key
            // provider; their dependencies belong to the one feature set too.
            "--features",
            "mobigen-connectors/postgres,mobigen-connectors/kms",
            "--filter-platform",
            &host,
        ])
        .current_dir(root)
        .output()
        .context("cannot start `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).context("`cargo metadata` printed no JSON")
}

/// One third-party package: name, version, whether it is a proc-macro.
struct Package<'a> {
    name: &'a str,
    version: &'a str,
    third_party: bool,
    proc_macro: bool,
}

/// The generated dependency tables (the text after the marker line).
fn sections(metadata: &Value) -> anyhow::Result<String> {
    let host = crate::host_triple()?;
    let packages: HashMap<&str, Package<'_>> = metadata["packages"]
        .as_array()
        .context("metadata has no packages")?
        .iter()
        .filter_map(|p| {
            let id = p["id"].as_str()?;
            let proc_macro = p["targets"].as_array().is_some_and(|targets| {
                targets.iter().any(|t| {
                    t["kind"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k == "proc-macro"))
                })
            });
            Some((
                id,
                Package {
                    name: p["name"].as_str()?,
                    version: p["version"].as_str()?,
                    third_party: p["source"].as_str().is_some(),
                    proc_macro,
                },
            ))
        })
        .collect();
    let resolve = &metadata["resolve"];
    let nodes: HashMap<&str, &Value> = resolve["nodes"]
        .as_array()
        .context("metadata has no resolve")?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let hack_id = packages
        .iter()
        .find(|(_, p)| p.name == "workspace-hack" && !p.third_party)
        .map(|(id, _)| *id);
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .context("metadata has no workspace members")?
        .iter()
        .filter_map(Value::as_str)
        .filter(|id| Some(*id) != hack_id)
        .collect();

    // Walk from the members: (package, on the host side?).
    let mut seen: BTreeSet<(&str, bool)> = BTreeSet::new();
    let mut stack: Vec<(&str, bool)> = members.iter().map(|id| (*id, false)).collect();
    while let Some((id, host_side)) = stack.pop() {
        if !seen.insert((id, host_side)) {
            continue;
        }
        let Some(node) = nodes.get(id) else { continue };
        let is_member = members.contains(&id);
        for dep in node["deps"].as_array().into_iter().flatten() {
            let Some(dep_id) = dep["pkg"].as_str() else {
                continue;
            };
            let dep_is_proc_macro = packages.get(dep_id).is_some_and(|p| p.proc_macro);
            for kind in dep["dep_kinds"].as_array().into_iter().flatten() {
                let side = match kind["kind"].as_str() {
                    Some("build") => true,
                    // Only the members' own dev-dependencies are ever built.
                    Some("dev") if !is_member => continue,
                    _ => host_side || dep_is_proc_macro,
                };
                stack.push((dep_id, side));
            }
        }
    }

    let mut target = BTreeMap::new();
    let mut build = BTreeMap::new();
    for (id, host_side) in &seen {
        let (Some(package), Some(node)) = (packages.get(id), nodes.get(id)) else {
            continue;
        };
        if !package.third_party {
            continue;
        }
        let features: Vec<&str> = node["features"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let table = if *host_side { &mut build } else { &mut target };
        table.insert((package.name, package.version), features);
    }
    // A package in several versions gets one key per version, the same in both tables.
    let mut versions: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (name, version) in target.keys().chain(build.keys()) {
        versions.entry(name).or_default().insert(version);
    }
    Ok(format!(
        "\n[target.{host}.dependencies]\n{}\n[target.{host}.build-dependencies]\n{}",
        table(&target, &versions),
        table(&build, &versions)
    ))
}

/// `name = { version = ..., default-features = false, features = [...] }` lines; a package
/// present in several `versions` is renamed to `name-MAJOR_MINOR_PATCH`.
fn table(
    entries: &BTreeMap<(&str, &str), Vec<&str>>,
    versions: &HashMap<&str, BTreeSet<&str>>,
) -> String {
    let mut text = String::new();
    for ((name, version), features) in entries {
        // Build metadata (`+spec-1.1.0`) means nothing in a requirement.
        let version = version.split('+').next().unwrap_or(version);
        let features = features
            .iter()
            .map(|f| format!("{f:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let spec =
            format!("version = \"{version}\", default-features = false, features = [{features}]");
        if versions[name].len() > 1 {
            let key = format!("{name}-{}", version.replace('.', "_"));
            text.push_str(&format!("{key} = {{ package = \"{name}\", {spec} }}\n"));
        } else {
            text.push_str(&format!("{name} = {{ {spec} }}\n"));
        }
    }
    text
}
