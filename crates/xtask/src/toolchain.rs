//! `cargo xtask toolchain`: checks the code the connectors generate with Expo's real toolchain.
//!
//! The fixture app `tests/fixtures/expo-app` (Expo SDK 56, Expo Router, every connector's
//! packages, pinned by its committed package-lock.json) is installed once with `npm ci` into a
//! cache folder keyed by the lock file's hash (`target/toolchain-cache/<hash>`, or
//! `$MOBIGEN_TOOLCHAIN_CACHE`). Each combination of connectors and configs is injected into a
//! fresh copy of the fixture (its `node_modules` a link to the cache) through the library, then:
//!
//! - `tsc -p .` (Expo's tsconfig, strict) reports no error;
//! - `expo config --type prebuild --json` resolves every app.json plugin;
//! - no secret value of the configs is in any project file except `.env.local`;
//! - for the combination that exports: `expo export` for android, ios and web succeeds, every
//!   `EXPO_PUBLIC_*` value the generated client code reads is inlined in a bundle, and no secret
//!   value is in any bundle (server API routes included);
//!
//! and the same after removing each connector again, until the copy is byte for byte the
//! fixture once more.
//!
//! `tests/fixtures/expo-app-sdk52` (the oldest supported SDK, its own package-lock.json and
//! cache folder) runs the all-five combination with tsc and `expo config` only, on the state
//! with all five (then the removals must give the fixture's bytes back; `toolchain sdk52`
//! selects it): the SDK 52 version table proven, on an app.json written in JSON5 and an
//! app without a root layout. The newest SDK is proven by the SDK 56 fixture: the registry
//! this is checked against serves no release of several SDK 57 and 58 table versions. The fixture lists `nativewind` (so its types are installed); combinations
//! without NativeWind drop it from the copy's package.json, so the generated code uses
//! `StyleSheet` there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use mobigen_connectors::catalog::definition::Sensitivity;
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::PlanOptions;
use mobigen_connectors::{Registry, ValidConfig};
use serde_json::Value;

const CONNECTORS: [&str; 5] = ["firebase", "onesignal", "revenuecat", "stripe", "supabase"];
const PLATFORMS: [&str; 3] = ["android", "ios", "web"];
/// A route the check adds to the copy while exporting, importing every generated client module
/// so that Metro bundles all of them (an app bundles only what it imports).
const IMPORT_ALL_ROUTE: &str = "app/connectors-check.tsx";

/// The fixture app of every combination but the oldest-SDK one.
const FIXTURE: &str = "tests/fixtures/expo-app";
/// The fixture app on the oldest supported Expo SDK (52): app.json in JSON5, no root layout.
const OLDEST_SDK_FIXTURE: &str = "tests/fixtures/expo-app-sdk52";

/// One combination: the fixture it runs on, connectors with their config files, the styling,
/// whether to export, and
/// the supplied files given to `add` (the Supabase `databaseTypes` from a fixture shaped like
/// `supabase gen types typescript` output).
struct Combination {
    name: String,
    fixture: &'static str,
    connectors: Vec<(&'static str, PathBuf)>,
    nativewind: bool,
    export: bool,
    /// Check every state on the way back (after each removal), not only the full one; the
    /// final byte-for-byte comparison with the fixture is always made.
    every_state: bool,
    supplied: BTreeMap<String, String>,
}

fn combinations(root: &Path) -> anyhow::Result<Vec<Combination>> {
    let config = |id: &str, set: &str| root.join(format!("tests/fixtures/configs/{id}-{set}.json"));
    let types = root.join("tests/fixtures/supabase/database.types.ts");
    let live_types = BTreeMap::from([(
        "databaseTypes".to_string(),
        std::fs::read_to_string(&types).with_context(|| format!("reading {}", types.display()))?,
    )]);
    let mut out = Vec::new();
    for id in CONNECTORS {
        // The full Supabase config gets the live types; the minimal one keeps the placeholders.
        let full_supplied = if id == "supabase" {
            live_types.clone()
        } else {
            BTreeMap::new()
        };
        out.push(Combination {
            fixture: FIXTURE,
            name: format!("{id}-full-nativewind"),
            connectors: vec![(id, config(id, "full"))],
            nativewind: true,
            export: false,
            every_state: true,
            supplied: full_supplied,
        });
        out.push(Combination {
            fixture: FIXTURE,
            name: format!("{id}-minimal"),
            connectors: vec![(id, config(id, "minimal"))],
            nativewind: false,
            export: false,
            every_state: true,
            supplied: BTreeMap::new(),
        });
    }
    out.push(Combination {
        name: "all-five-full".into(),
        fixture: FIXTURE,
        connectors: CONNECTORS
            .iter()
            .map(|id| (*id, config(id, "full")))
            .collect(),
        nativewind: false,
        export: true,
        every_state: true,
        supplied: live_types.clone(),
    });
    // The version table of the oldest SDK, proven by tsc and `expo config` (no bundles: they
    // are the slow part, and the SDK 56 fixture exports). The newest SDK whose table versions
    // the npm registry serves here is 56, the fixture above (see ARCHITECTURE.md).
    out.push(Combination {
        name: "all-five-sdk52".into(),
        fixture: OLDEST_SDK_FIXTURE,
        connectors: CONNECTORS
            .iter()
            .map(|id| (*id, config(id, "full")))
            .collect(),
        nativewind: false,
        export: false,
        every_state: false,
        supplied: live_types,
    });
    Ok(out)
}

/// Runs the checks; `only` limits them to combinations whose name contains it.
pub fn run(root: &Path, only: Option<&str>) -> anyhow::Result<()> {
    let started = Instant::now();
    let registry = Registry::builtin().context("loading the built-in connectors")?;
    let work = root.join("target/toolchain-check");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    let mut checked = 0;
    let mut installed: BTreeMap<&str, PathBuf> = BTreeMap::new();
    for combination in combinations(root)?
        .into_iter()
        .filter(|c| only.is_none_or(|o| c.name.contains(o)))
    {
        let fixture = root.join(combination.fixture);
        let node_modules = match installed.get(combination.fixture) {
            Some(dir) => dir.clone(),
            None => {
                let dir = install(root, &fixture)?;
                installed.insert(combination.fixture, dir.clone());
                dir
            }
        };
        let step = Instant::now();
        check_combination(&registry, &fixture, &node_modules, &work, &combination)
            .with_context(|| format!("combination `{}`", combination.name))?;
        println!(
            "toolchain: {} passed ({:.0?})",
            combination.name,
            step.elapsed()
        );
        checked += 1;
    }
    println!(
        "toolchain: {checked} combinations checked (then removed again, byte for byte) in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

/// Installs the packages of every fixture the check uses (see `install`); `cargo xtask test`
/// calls it early, beside the compiling stages.
pub fn install_fixtures(root: &Path) -> anyhow::Result<()> {
    for fixture in [FIXTURE, OLDEST_SDK_FIXTURE] {
        install(root, &root.join(fixture))?;
    }
    Ok(())
}

/// Installs the fixture's packages with `npm ci` into the cache, unless already there; returns
/// the `node_modules` folder.
fn install(root: &Path, fixture: &Path) -> anyhow::Result<PathBuf> {
    let lock = std::fs::read_to_string(fixture.join("package-lock.json"))
        .context("reading the fixture's package-lock.json")?;
    let cache = std::env::var_os("MOBIGEN_TOOLCHAIN_CACHE")
        .map_or_else(|| root.join("target/toolchain-cache"), PathBuf::from);
    let dir = cache.join(mobigen_connectors::project::generate::content_hash(&lock));
    let marker = dir.join(".installed");
    if !marker.exists() {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(fixture.join(file), dir.join(file))?;
        }
        let started = Instant::now();
        run_in(
            &dir,
            "npm",
            &[
                "ci",
                "--ignore-scripts",
                "--legacy-peer-deps",
                "--no-audit",
                "--no-fund",
            ],
            &[],
        )?;
        std::fs::write(&marker, "")?;
        println!("toolchain: npm ci took {:.0?}", started.elapsed());
    }
    Ok(dir.join("node_modules"))
}

/// Runs a command in `dir`; fails with its output when it fails. Returns stdout.
fn run_in(
    dir: &Path,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> anyhow::Result<String> {
    let output = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(dir)
        .output()
        .with_context(|| format!("cannot start `{program}`"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed in {} ({}):\n{}\n{}",
            args.join(" "),
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Environment of every Expo CLI call: no prompt, no network, no telemetry.
const EXPO_ENV: [(&str, &str); 3] = [
    ("CI", "1"),
    ("EXPO_OFFLINE", "1"),
    ("EXPO_NO_TELEMETRY", "1"),
];

/// Folders of a project copy that are not the project's files.
fn skipped(name: &str) -> bool {
    matches!(name, "node_modules" | ".expo" | "dist")
}

/// Every file of `dir` (relative path -> bytes), without installed or cached folders.
fn files(dir: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if skipped(&name.to_string_lossy()) {
                continue;
            }
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(base, &path, out)?;
            } else {
                let rel = path
                    .strip_prefix(base)?
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out)?;
    Ok(out)
}

/// Every file under `dir`, bundles included (relative path -> bytes).
fn all_files(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            all_files(&entry.path(), out)?;
        } else {
            out.insert(entry.path(), std::fs::read(entry.path())?);
        }
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// A fresh copy of the fixture in `dir`, its node_modules a link to the installed one.
fn copy_fixture(
    fixture: &Path,
    node_modules: &Path,
    dir: &Path,
    nativewind: bool,
) -> anyhow::Result<()> {
    for (rel, bytes) in files(fixture)? {
        let target = dir.join(&rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, bytes)?;
    }
    link_dir(node_modules, &dir.join("node_modules"))?;
    let listed = |package: &Value| package["dependencies"].get("nativewind").is_some();
    let path = dir.join("package.json");
    if !nativewind && listed(&serde_json::from_str(&std::fs::read_to_string(&path)?)?) {
        let mut package: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        if let Some(deps) = package
            .get_mut("dependencies")
            .and_then(Value::as_object_mut)
        {
            deps.remove("nativewind");
        }
        std::fs::write(
            &path,
            format!("{}\n", serde_json::to_string_pretty(&package)?),
        )?;
        let types = dir.join("nativewind-env.d.ts");
        if types.exists() {
            std::fs::remove_file(types)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn link_dir(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::unix::fs::symlink(target, link).context("linking node_modules")
}

#[cfg(windows)]
fn link_dir(target: &Path, link: &Path) -> anyhow::Result<()> {
    std::os::windows::fs::symlink_dir(target, link).context("linking node_modules")
}

/// Values of a config's fields of one sensitivity: (env name if any, value).
fn field_values(
    registry: &Registry,
    config: &ValidConfig,
    sensitivity: Sensitivity,
) -> anyhow::Result<Vec<(Option<String>, String)>> {
    let def = registry.lookup(config.connector_id())?.definition();
    Ok(def
        .fields
        .iter()
        .filter(|(_, f)| f.sensitivity == sensitivity)
        .filter_map(|(pointer, field)| {
            let value = config.values().pointer(pointer)?.as_str()?;
            Some((field.env.clone(), value.to_string()))
        })
        .collect())
}

struct Enabled {
    id: &'static str,
    config: ValidConfig,
}

fn check_combination(
    registry: &Registry,
    fixture: &Path,
    node_modules: &Path,
    work: &Path,
    combination: &Combination,
) -> anyhow::Result<()> {
    let run_dir = work.join(&combination.name);
    let dir = run_dir.join("app");
    copy_fixture(fixture, node_modules, &dir, combination.nativewind)?;
    let baseline = files(&dir)?;
    let mut enabled = Vec::new();
    for (id, path) in &combination.connectors {
        let value: Value = serde_json::from_str(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?,
        )?;
        let config = registry
            .lookup(id)?
            .validate_config(&value)
            .with_context(|| format!("config {}", path.display()))?;
        let supplied = if registry.lookup(id)?.definition().supplied_files.is_empty() {
            BTreeMap::new()
        } else {
            combination.supplied.clone()
        };
        ops::add_supplied(
            registry,
            &dir,
            &config,
            PlanOptions::default(),
            Mode::Apply,
            &supplied,
        )
        .with_context(|| format!("adding {id}"))?;
        enabled.push(Enabled { id, config });
    }
    let secrets: Vec<String> = combination
        .connectors
        .iter()
        .zip(&enabled)
        .map(|(_, e)| field_values(registry, &e.config, Sensitivity::Secret))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .map(|(_, v)| v)
        .collect();
    let label = |enabled: &[Enabled]| enabled.iter().map(|e| e.id).collect::<Vec<_>>().join("+");
    check_state(
        registry,
        &run_dir,
        &dir,
        &enabled,
        &secrets,
        combination.export,
    )
    .with_context(|| format!("with {}", label(&enabled)))?;
    while !enabled.is_empty() {
        let removed = enabled.remove(0);
        ops::remove(
            registry,
            &dir,
            removed.id,
            PlanOptions::default(),
            Mode::Apply,
        )
        .with_context(|| format!("removing {}", removed.id))?;
        if !combination.every_state {
            continue;
        }
        check_state(
            registry,
            &run_dir,
            &dir,
            &enabled,
            &secrets,
            combination.export,
        )
        .with_context(|| format!("after removing {}", removed.id))?;
    }
    let after = files(&dir)?;
    if after != baseline {
        let changed: BTreeSet<&String> = baseline
            .keys()
            .chain(after.keys())
            .filter(|k| baseline.get(*k) != after.get(*k))
            .collect();
        bail!("removing every connector did not restore the fixture; differing files: {changed:?}");
    }
    std::fs::remove_dir_all(&run_dir)?;
    Ok(())
}

/// The checks of one state of a project copy.
fn check_state(
    registry: &Registry,
    run_dir: &Path,
    dir: &Path,
    enabled: &[Enabled],
    secrets: &[String],
    export: bool,
) -> anyhow::Result<()> {
    run_in(dir, "node_modules/.bin/tsc", &["-p", ".", "--noEmit"], &[])?;
    let config = run_in(
        dir,
        "node_modules/.bin/expo",
        &["config", "--type", "prebuild", "--json"],
        &EXPO_ENV,
    )?;
    serde_json::from_str::<Value>(&config).context("`expo config --json` printed no JSON")?;
    for (path, bytes) in files(dir)? {
        if path == ".env.local" {
            continue;
        }
        for secret in secrets {
            if contains(&bytes, secret) {
                bail!("a secret config value is in {path}");
            }
        }
    }
    if export && !enabled.is_empty() {
        check_exports(registry, run_dir, dir, enabled, secrets)?;
    }
    Ok(())
}

/// The generated client modules of the enabled connectors (platform files left to Metro), as
/// import specifiers from `app/`.
fn client_modules(dir: &Path) -> anyhow::Result<Vec<String>> {
    let lock: Value = serde_json::from_str(&std::fs::read_to_string(
        dir.join(".mobigen/connectors.lock.json"),
    )?)?;
    let mut modules = BTreeSet::new();
    for entry in lock["connectors"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        for path in entry["files"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if !path.starts_with("src/") || path.contains(".web.") {
                continue;
            }
            let stem = path.trim_end_matches(".tsx").trim_end_matches(".ts");
            modules.insert(format!("../{stem}"));
        }
    }
    Ok(modules.into_iter().collect())
}

fn check_exports(
    registry: &Registry,
    run_dir: &Path,
    dir: &Path,
    enabled: &[Enabled],
    secrets: &[String],
) -> anyhow::Result<()> {
    let modules = client_modules(dir)?;
    let mut route = String::from(
        "// Added by `cargo xtask toolchain` while exporting: imports every generated module.\n",
    );
    for (i, module) in modules.iter().enumerate() {
        route.push_str(&format!("import * as m{i} from '{module}';\n"));
    }
    let names: Vec<String> = (0..modules.len()).map(|i| format!("m{i}")).collect();
    route.push_str(&format!(
        "\nexport const generatedModules = [{}];\n\nexport default function ConnectorsCheck() {{\n  return null;\n}}\n",
        names.join(", ")
    ));
    std::fs::write(dir.join(IMPORT_ALL_ROUTE), route)?;
    // The public values the generated client code reads: each must be inlined somewhere.
    let client_code: String = files(dir)?
        .into_iter()
        .filter(|(p, _)| p.starts_with("src/"))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    let mut expected = Vec::new();
    for e in enabled {
        for (env, value) in field_values(registry, &e.config, Sensitivity::Public)? {
            if let Some(env) = env
                && client_code.contains(&format!("process.env.{env}"))
            {
                expected.push((env, value));
            }
        }
    }
    let mut bundles = BTreeMap::new();
    for platform in PLATFORMS {
        let out = run_dir.join(format!("dist-{platform}"));
        let out_arg = out.to_string_lossy().into_owned();
        let mut args = vec!["export", "--platform", platform, "--output-dir", &out_arg];
        if platform != "web" {
            args.push("--no-bytecode");
        }
        run_in(dir, "node_modules/.bin/expo", &args, &EXPO_ENV)
            .with_context(|| format!("exporting for {platform}"))?;
        all_files(&out, &mut bundles)?;
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::remove_file(dir.join(IMPORT_ALL_ROUTE))?;
    for (path, bytes) in &bundles {
        for secret in secrets {
            if contains(bytes, secret) {
                bail!("a secret config value is in the bundle {}", path.display());
            }
        }
    }
    for (env, value) in &expected {
        if !bundles.values().any(|b| contains(b, value)) {
            bail!("the value of {env} is not inlined in any bundle");
        }
    }
    println!(
        "toolchain:   exported {} for android, ios and web: {} public values inlined, no secret",
        enabled.iter().map(|e| e.id).collect::<Vec<_>>().join("+"),
        expected.len()
    );
    Ok(())
}
