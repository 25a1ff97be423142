//! Development tasks, run as `cargo xtask <task>`:
//!
//! - `test`: every check CI runs: formatting, clippy, rustdoc, every test of the workspace,
//!   `cargo package` of the library crate, the fuzz workspace's checks and a short run of every
//!   fuzz target, and the toolchain checks.
//! - `toolchain [FILTER]`: the generated code checked with Expo's real toolchain (see
//!   `toolchain.rs`); FILTER limits it to combinations whose name contains it.
//! - `sample`: the main job on the bundled sample app (`examples/sample-app`), in a temporary copy
//!   so the tracked tree stays clean.
//! - `header`: regenerates the C header; `node-types`: regenerates the connectors' TypeScript
//!   config types (`bindings/node/connectors.d.ts`); `expo-versions`: regenerates the Expo SDK
//!   version table `crates/mobigen-connectors/connectors/expo-sdk.json` from the npm registry
//!   (`expo_versions.rs`); `workspace-hack [--check]`: regenerates
//!   `crates/workspace-hack/Cargo.toml`, one feature set for every cargo run (`workspace_hack.rs`).
//! - `node`: only the Node checks of `test`.
//! - `install-c --prefix DIR [--debug]`: the C library (static and shared), its header and a
//!   pkg-config file (`mobigen_connectors.pc`) installed under DIR.
//! - `fuzz [TARGET...] [--seconds N] [--seed S]`: the fuzz targets under their stable driver
//!   (`fuzz.rs`), 30 s each by default; `fuzz --repro TARGET FILE` runs one saved input.
//! - `postgres -- CMD ARGS...`: CMD with `MOBIGEN_TEST_POSTGRES_URL` set to a throwaway
//!   PostgreSQL server (`postgres.rs`), stopped afterwards; `test` runs the workspace tests so.
//! - `kms -- CMD ARGS...`: CMD with `MOBIGEN_TEST_KMS_URL` set to moto's KMS-compatible server
//!   on 127.0.0.1 (`kms.rs`; installed into a virtual environment under the target folder) and
//!   fake AWS credentials, stopped afterwards; `test` runs the workspace tests so.
//! - `bench`: every benchmark of BENCHMARKS.md, with jscodeshift, ts-morph and Node's crypto
//!   (`bench.rs`); not part of `test`.

mod bench;
mod expo_versions;
mod fuzz;
mod kms;
mod postgres;
mod ts_types;
mod workspace_hack;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

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

/// The C header as cbindgen generates it from bindings/c.
fn generated_header() -> anyhow::Result<Vec<u8>> {
    let crate_dir = workspace_root().join("bindings/c");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .map_err(|e| anyhow::anyhow!("bindings/c/cbindgen.toml: {e}"))?;
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .context("cbindgen could not generate the header")?;
    let mut out = Vec::new();
    bindings.write(&mut out);
    Ok(out)
}

const HEADER: &str = "include/mobigen_connectors.h";

/// `cargo xtask header`: regenerates include/mobigen_connectors.h.
fn header() -> anyhow::Result<()> {
    let path = workspace_root().join(HEADER);
    std::fs::write(&path, generated_header()?).with_context(|| format!("cannot write {HEADER}"))?;
    println!("wrote {HEADER}");
    Ok(())
}

/// Fails when the committed header differs from what cbindgen generates now.
fn check_header() -> anyhow::Result<()> {
    println!("$ (check) {HEADER} is up to date");
    let committed = std::fs::read(workspace_root().join(HEADER)).unwrap_or_default();
    if committed != generated_header()? {
        bail!("{HEADER} is stale: run `cargo xtask header` and commit the result");
    }
    Ok(())
}

/// Cargo's target folder (honours CARGO_TARGET_DIR).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// Where cargo puts what it builds with `profile` (`debug`, `release`): `build.target` is the
/// host's triple (.cargo/config.toml), so `target/<triple>/<profile>/`.
fn built_dir(profile: &str) -> anyhow::Result<PathBuf> {
    Ok(target_dir().join(host_triple()?).join(profile))
}

/// This machine's target triple (`rustc -vV`).
fn host_triple() -> anyhow::Result<String> {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("cannot start `rustc -vV`")?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_string)
        .context("`rustc -vV` named no host")
}

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("non UTF-8 path {}", path.display()))
}

/// `cargo xtask install-c --prefix DIR [--debug]`: builds the C library (release unless
/// `--debug`) and installs it: DIR/lib/libmobigen_connectors_c.{a,so},
/// DIR/include/mobigen_connectors.h and DIR/lib/pkgconfig/mobigen_connectors.pc (from
/// bindings/c/mobigen_connectors.pc.in, version from Cargo). Returns the absolute prefix.
fn install_c(prefix: &Path, debug: bool) -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    let mut build = vec!["build", "--quiet", "--package", "mobigen-connectors-c"];
    if !debug {
        build.push("--release");
    }
    run("cargo", &build, &[])?;
    let built = built_dir(if debug { "debug" } else { "release" })?;
    let lib_dir = prefix.join("lib");
    let pc_dir = lib_dir.join("pkgconfig");
    let include_dir = prefix.join("include");
    for dir in [&pc_dir, &include_dir] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let prefix = prefix
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", prefix.display()))?;
    let prefix_str = path_str(&prefix)?;
    if prefix_str.contains(char::is_whitespace) {
        bail!("the prefix {prefix_str} contains white space, which pkg-config cannot quote");
    }
    let copy = |from: PathBuf, to: PathBuf| -> anyhow::Result<()> {
        std::fs::copy(&from, &to)
            .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
        println!("installed {}", to.display());
        Ok(())
    };
    for name in ["libmobigen_connectors_c.a", "libmobigen_connectors_c.so"] {
        copy(built.join(name), lib_dir.join(name))?;
    }
    copy(root.join(HEADER), include_dir.join("mobigen_connectors.h"))?;
    let template = std::fs::read_to_string(root.join(PC_TEMPLATE))
        .with_context(|| format!("cannot read {PC_TEMPLATE}"))?;
    let pc: String = template
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            line.replace("@PREFIX@", prefix_str)
                .replace("@VERSION@", env!("CARGO_PKG_VERSION"))
                + "\n"
        })
        .collect();
    let pc_path = pc_dir.join("mobigen_connectors.pc");
    std::fs::write(&pc_path, pc).with_context(|| format!("cannot write {}", pc_path.display()))?;
    println!("installed {}", pc_path.display());
    Ok(prefix)
}

const PC_TEMPLATE: &str = "bindings/c/mobigen_connectors.pc.in";

/// `install-c`'s command line: `--prefix DIR [--debug]`.
fn install_c_command(args: &[String]) -> anyhow::Result<()> {
    let (mut prefix, mut debug) = (None, false);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--prefix" => prefix = Some(args.next().context("--prefix needs a folder")?),
            "--debug" => debug = true,
            other => bail!(
                "install-c: unknown argument `{other}` (usage: install-c --prefix DIR [--debug])"
            ),
        }
    }
    let prefix = prefix.context("install-c needs --prefix DIR")?;
    let prefix = install_c(Path::new(prefix), debug)?;
    println!(
        "build with: PKG_CONFIG_PATH={}/lib/pkgconfig pkg-config --cflags --libs mobigen_connectors",
        prefix.display()
    );
    Ok(())
}

/// The C side: the header is fresh and compiles as C99 and C++ (from two translation units);
/// the ABI test program runs under AddressSanitizer and UndefinedBehaviorSanitizer; the C
/// example adds and removes a connector on a copy of the sample app; the library installed into a
/// temporary prefix (`install_c`) builds the example through pkg-config and it runs against the
/// installed shared library; and the example runs clean under valgrind too (installed with
/// apt-get when missing and running as root; in CI a valgrind that cannot be had fails the run).
fn c_tests() -> anyhow::Result<()> {
    check_header()?;
    let root = workspace_root();
    run(
        "cargo",
        &["build", "--quiet", "--package", "mobigen-connectors-c"],
        &[],
    )?;
    let lib = built_dir("debug")?.join("libmobigen_connectors_c.a");
    let out = target_dir().join("c-tests");
    std::fs::create_dir_all(&out).context("cannot create the C build folder")?;
    let include = format!("-I{}", path_str(&root.join("include"))?);
    let lib = path_str(&lib)?.to_string();
    let src = |p: &str| -> anyhow::Result<String> { Ok(path_str(&root.join(p))?.to_string()) };
    let obj = |name: &str| -> anyhow::Result<String> { Ok(path_str(&out.join(name))?.to_string()) };
    let strict = ["-Wall", "-Wextra", "-Werror"];
    let link = ["-lpthread", "-ldl", "-lm"];
    let sanitize = [
        "-g",
        "-fsanitize=address,undefined",
        "-fno-omit-frame-pointer",
        "-fno-sanitize-recover=all",
    ];

    let header_c = src("bindings/c/tests/header_c99.c")?;
    let header_o = obj("header_c99.o")?;
    let mut args = vec!["-std=c99", "-pedantic"];
    args.extend(strict);
    args.extend([include.as_str(), "-c", &header_c, "-o", &header_o]);
    run("gcc", &args, &[])?;

    let (a, b, cpp) = (
        src("bindings/c/tests/header_a.cpp")?,
        src("bindings/c/tests/header_b.cpp")?,
        obj("header_cpp")?,
    );
    let mut args = vec!["-std=c++11", "-pedantic"];
    args.extend(strict);
    args.extend([include.as_str(), &a, &b, &lib]);
    args.extend(link);
    args.extend(["-o", &cpp]);
    run("g++", &args, &[])?;
    run(&cpp, &[], &[])?;

    let work = tempfile::Builder::new()
        .prefix("mobigen-c-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let abi_project = work.path().join("abi-app");
    copy_dir(&root.join("examples/sample-app"), &abi_project)?;
    let keyring = work.path().join("keyring.json");
    let (abi_src, abi_bin) = (src("bindings/c/tests/abi_test.c")?, obj("abi_test")?);
    let mut args = vec!["-std=c99"];
    args.extend(strict);
    args.extend(sanitize);
    args.extend([include.as_str(), &abi_src, &lib]);
    args.extend(link);
    args.extend(["-o", &abi_bin]);
    run("gcc", &args, &[])?;
    run(
        &abi_bin,
        &[path_str(&abi_project)?, path_str(&keyring)?],
        &[("ASAN_OPTIONS", "detect_leaks=1")],
    )?;

    let example_project = work.path().join("example-app");
    copy_dir(&root.join("examples/sample-app"), &example_project)?;
    let (example_src, example_bin) = (src("examples/c/main.c")?, obj("example")?);
    let config = src("examples/sample-configs/stripe.json")?;
    let mut args = vec!["-std=c99"];
    args.extend(strict);
    args.extend(sanitize);
    args.extend([include.as_str(), &example_src, &lib]);
    args.extend(link);
    args.extend(["-o", &example_bin]);
    run("gcc", &args, &[])?;
    run(
        &example_bin,
        &[path_str(&example_project)?, &config],
        &[("ASAN_OPTIONS", "detect_leaks=1")],
    )?;
    if read_tree(&example_project)? != read_tree(&root.join("examples/sample-app"))? {
        bail!("the C example left the project changed after removing the connector");
    }

    // Installed as a user installs it, and the example built through pkg-config against the
    // installed copy (the shared library, found at run time through LD_LIBRARY_PATH).
    let prefix = install_c(&work.path().join("prefix"), true)?;
    let pc_path = prefix.join("lib/pkgconfig");
    println!(
        "$ PKG_CONFIG_PATH={} pkg-config --cflags --libs mobigen_connectors",
        pc_path.display()
    );
    let flags = Command::new("pkg-config")
        .args(["--cflags", "--libs", "mobigen_connectors"])
        .env("PKG_CONFIG_PATH", &pc_path)
        .output()
        .context("cannot start `pkg-config` (Debian: apt-get install pkg-config)")?;
    if !flags.status.success() {
        bail!(
            "pkg-config does not find the installed mobigen_connectors.pc: {}",
            String::from_utf8_lossy(&flags.stderr)
        );
    }
    let flags = String::from_utf8(flags.stdout).context("pkg-config printed non UTF-8")?;
    let installed_bin = obj("example-pkg-config")?;
    let mut args = vec!["-std=c99"];
    args.extend(strict);
    args.push(example_src.as_str());
    args.extend(flags.split_whitespace());
    args.extend(["-o", &installed_bin]);
    run("gcc", &args, &[])?;
    let installed_project = work.path().join("installed-app");
    copy_dir(&root.join("examples/sample-app"), &installed_project)?;
    run(
        &installed_bin,
        &[path_str(&installed_project)?, &config],
        &[("LD_LIBRARY_PATH", path_str(&prefix.join("lib"))?)],
    )?;
    if read_tree(&installed_project)? != read_tree(&root.join("examples/sample-app"))? {
        bail!(
            "the C example built with pkg-config left the project changed after removing the connector"
        );
    }

    if valgrind_available()? {
        let plain_bin = obj("example-plain")?;
        let mut args = vec!["-std=c99", "-g"];
        args.extend(strict);
        args.extend([include.as_str(), &example_src, &lib]);
        args.extend(link);
        args.extend(["-o", &plain_bin]);
        run("gcc", &args, &[])?;
        run(
            "valgrind",
            &[
                "--quiet",
                "--error-exitcode=1",
                "--leak-check=full",
                "--show-leak-kinds=definite",
                "--errors-for-leak-kinds=definite",
                &plain_bin,
                path_str(&example_project)?,
                &config,
            ],
            &[],
        )?;
    } else {
        println!(
            "(valgrind not installed and not installable without root: skipping the valgrind run of the C example; `apt-get install valgrind` runs it)"
        );
    }
    Ok(())
}

fn valgrind_runs() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether valgrind can run, installing it with apt-get when it is missing and this runs as root
/// (CI containers). In CI (`CI` set) a valgrind that cannot be had fails the run instead of
/// skipping it.
fn valgrind_available() -> anyhow::Result<bool> {
    debian_package("valgrind", valgrind_runs)
}

/// Whether what Debian `package` provides is there (`present`), installing the package with
/// apt-get when it is missing and this runs as root (CI containers, a fresh machine). In CI
/// (`CI` set) a package that cannot be had is an error; elsewhere `Ok(false)`.
pub(crate) fn debian_package(package: &str, present: impl Fn() -> bool) -> anyhow::Result<bool> {
    if present() {
        return Ok(true);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0");
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if root && Command::new("apt-get").arg("--version").output().is_ok() {
        println!("{package} is missing: installing it with apt-get");
        // `update` may fail offline with a usable cache; the install decides.
        let _ = run("apt-get", &["update", "-q"], &[]);
        run(
            "apt-get",
            &["install", "-y", "-q", "--no-install-recommends", package],
            &[("DEBIAN_FRONTEND", "noninteractive")],
        )?;
        if present() {
            return Ok(true);
        }
        bail!("apt-get installed {package} but it still cannot be used");
    }
    if in_ci {
        bail!(
            "{package} is not installed and cannot be installed here (not root, or no apt-get): install {package} in the CI image"
        );
    }
    Ok(false)
}

const NODE_TYPES: &str = "bindings/node/connectors.d.ts";

/// The TypeScript config types as the generator makes them from the built-in manifests now.
fn generated_node_types() -> anyhow::Result<String> {
    let registry =
        mobigen_connectors::Registry::builtin().context("the built-in connectors do not load")?;
    let definitions: Vec<&mobigen_connectors::ConnectorDefinition> =
        registry.list(None).iter().map(|c| c.definition()).collect();
    Ok(ts_types::connectors_dts(&definitions))
}

/// `cargo xtask node-types`: regenerates bindings/node/connectors.d.ts.
fn node_types() -> anyhow::Result<()> {
    let path = workspace_root().join(NODE_TYPES);
    std::fs::write(&path, generated_node_types()?)
        .with_context(|| format!("cannot write {NODE_TYPES}"))?;
    println!("wrote {NODE_TYPES}");
    Ok(())
}

/// Fails when the committed config types differ from what the generator makes now.
fn check_node_types() -> anyhow::Result<()> {
    println!("$ (check) {NODE_TYPES} is up to date");
    let committed = std::fs::read_to_string(workspace_root().join(NODE_TYPES)).unwrap_or_default();
    if committed != generated_node_types()? {
        bail!("{NODE_TYPES} is stale: run `cargo xtask node-types` and commit the result");
    }
    Ok(())
}

/// Runs a command in `dir` (relative to the workspace root), echoing it; fails when it fails.
fn run_in(dir: &str, program: &str, args: &[&str]) -> anyhow::Result<()> {
    println!("$ (cd {dir} && {program} {})", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(workspace_root().join(dir))
        .status()
        .with_context(|| format!("cannot start `{program}`"))?;
    if !status.success() {
        bail!("`{program} {}` in {dir} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Runs `node --test` in `dir`, echoing its output, and returns (passed, failed) from the
/// runner's closing `# pass N` / `# fail N` lines.
fn node_test(dir: &str, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    println!("$ (cd {dir} && node {})", args.join(" "));
    let mut child = Command::new("node")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(workspace_root().join(dir))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start `node`")?;
    let (mut passed, mut failed) = (0u64, 0u64);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            println!("{line}");
            if let Some(n) = line.strip_prefix("# pass ") {
                passed = n.trim().parse().unwrap_or(0);
            } else if let Some(n) = line.strip_prefix("# fail ") {
                failed = n.trim().parse().unwrap_or(0);
            }
        }
    }
    let status = child.wait()?;
    if !status.success() || failed > 0 {
        bail!(
            "`node {}` in {dir} failed ({status}, {failed} failed)",
            args.join(" ")
        );
    }
    if passed == 0 {
        bail!("`node {}` in {dir} ran no test", args.join(" "));
    }
    Ok((passed, failed))
}

/// Files `npm run build` (napi build) regenerates in bindings/node, committed and diff-checked.
const NODE_GENERATED: [&str; 2] = ["bindings/node/index.js", "bindings/node/index.d.ts"];

/// The Node side (after `node_install`): the config types are fresh; the addon builds and `index.js` / `index.d.ts` come out byte for byte as committed; the
/// TypeScript check compiles (and its `@ts-expect-error` lines fail as they must); then the
/// package's and the example server's `node --test` suites, and the packed-tarball smoke tests
/// (`node_pack_smoke`). Returns (passed, failed).
fn node_tests(postgres: &postgres::TestPostgres, kms: &kms::TestKms) -> anyhow::Result<(u64, u64)> {
    let mut env = kms.envs();
    env.push((postgres::URL_VAR, postgres.url()));
    check_node_types()?;
    let root = workspace_root();
    let before: Vec<Vec<u8>> = NODE_GENERATED
        .iter()
        .map(|p| std::fs::read(root.join(p)).unwrap_or_default())
        .collect();
    run_in("bindings/node", "npm", &["run", "build"])?;
    for (path, committed) in NODE_GENERATED.iter().zip(&before) {
        let now = std::fs::read(root.join(path)).with_context(|| format!("cannot read {path}"))?;
        if &now != committed {
            bail!("{path} is stale: run `npm run build` in bindings/node and commit the result");
        }
    }
    println!("$ (check) {} are up to date", NODE_GENERATED.join(", "));
    run_in(
        "bindings/node",
        "npx",
        &["tsc", "--noEmit", "-p", "test/types"],
    )?;
    let (p1, f1) = node_test(
        "bindings/node",
        &["--test", "--test-reporter=tap", "test/"],
        &env,
    )?;
    let (p3, f3) = node_pack_smoke()?;
    let (p2, f2) = node_test(
        "examples/node-server",
        &["--test", "--test-reporter=tap", "test/"],
        &env,
    )?;
    Ok((p1 + p2 + p3, f1 + f2 + f3))
}

/// `npm ci` of the Node package and of the example server, from their committed lock files,
/// and Debian's chromium for the dashboard's browser tests (installed when missing).
fn node_install() -> anyhow::Result<()> {
    for dir in ["bindings/node", "examples/node-server"] {
        run_in(dir, "npm", &["ci", "--no-audit", "--no-fund"])?;
    }
    if !debian_package("chromium", chromium_runs)? {
        println!(
            "chromium is missing and cannot be installed here: the dashboard's browser tests will fail (apt-get install chromium)"
        );
    }
    Ok(())
}

/// Whether Debian's chromium (what the dashboard's browser tests drive) starts.
fn chromium_runs() -> bool {
    Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The platform package built here (napi's `npm/<platform>` folder for this machine).
const NODE_PLATFORM: &str = "linux-x64-gnu";

/// Runs `npm pack` on `dir`, writing the tarball into `into`; returns the tarball's path.
fn npm_pack(dir: &Path, into: &Path) -> anyhow::Result<PathBuf> {
    println!("$ (cd {} && npm pack --json)", dir.display());
    let output = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(into)
        .current_dir(dir)
        .output()
        .context("cannot start `npm pack`")?;
    if !output.status.success() {
        bail!(
            "`npm pack` in {} failed ({}): {}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("`npm pack --json` in {} printed no JSON", dir.display()))?;
    let packed = &report[0];
    let files: Vec<&str> = packed["files"]
        .as_array()
        .map(|files| files.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default();
    println!("  {}: {}", packed["filename"], files.join(", "));
    let name = packed["filename"]
        .as_str()
        .context("`npm pack --json` gave no filename")?;
    Ok(into.join(name))
}

/// Copies bindings/node's package (package.json and its `files`) to `to` as `napi pre-publish`
/// leaves it before `npm publish`: with `optionalDependencies` naming every platform package
/// of `npm/` at its version. (They are not in the committed package.json: `npm ci` would need
/// them in the lock file, which cannot hold packages not yet published.) Fails when a platform
/// folder is missing for a `napi.targets` entry or its version differs from the package's.
fn stage_node_main_package(node_dir: &Path, to: &Path) -> anyhow::Result<()> {
    let read_json = |path: &Path| -> anyhow::Result<serde_json::Value> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
    };
    let mut manifest = read_json(&node_dir.join("package.json"))?;
    let version = manifest["version"].clone();
    let targets = manifest["napi"]["targets"].as_array().map_or(0, Vec::len);
    let mut optional = serde_json::Map::new();
    for entry in std::fs::read_dir(node_dir.join("npm")).context("cannot read bindings/node/npm")? {
        let platform = read_json(&entry?.path().join("package.json"))?;
        let name = platform["name"]
            .as_str()
            .context("a bindings/node/npm package.json has no name")?;
        if platform["version"] != version {
            bail!(
                "{name} is at version {} but @mobigen/connectors at {version}: run `npx napi version` in bindings/node",
                platform["version"]
            );
        }
        optional.insert(name.to_string(), version.clone());
    }
    if optional.len() != targets {
        bail!(
            "bindings/node/npm has {} platform packages for {targets} napi.targets: run `npx napi create-npm-dirs` in bindings/node",
            optional.len()
        );
    }
    manifest["optionalDependencies"] = serde_json::Value::Object(optional);
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let files = manifest["files"]
        .as_array()
        .context("bindings/node/package.json has no `files` list")?;
    for file in files {
        let file = file.as_str().context("a `files` entry is not a string")?;
        std::fs::copy(node_dir.join(file), to.join(file))
            .with_context(|| format!("cannot copy bindings/node/{file}"))?;
    }
    std::fs::write(to.join("package.json"), format!("{manifest:#}\n"))
        .context("cannot write the staged package.json")?;
    Ok(())
}

/// The packed npm packages as a user gets them: `npm pack` of bindings/node (JS and types only,
/// staged as `napi pre-publish` leaves it) and of its `npm/linux-x64-gnu` platform package with the addon just built (what `napi
/// artifacts` + `napi pre-publish` do before publishing, done on a temporary copy), both
/// installed with `npm install --offline` into an empty temporary folder, where the CommonJS and
/// ESM smoke tests of `bindings/node/pack-test` run (`node --test`) and its TypeScript file
/// compiles (`tsc --noEmit`, strict). Returns (passed, failed).
fn node_pack_smoke() -> anyhow::Result<(u64, u64)> {
    let root = workspace_root();
    let node_dir = root.join("bindings/node");
    let work = tempfile::Builder::new()
        .prefix("mobigen-npm-pack-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let tarballs = work.path().join("tarballs");
    std::fs::create_dir_all(&tarballs).context("cannot create the tarball folder")?;
    let staged = work.path().join("connectors");
    stage_node_main_package(&node_dir, &staged)?;
    let main = npm_pack(&staged, &tarballs)?;

    let platform = work.path().join(NODE_PLATFORM);
    copy_dir(&node_dir.join("npm").join(NODE_PLATFORM), &platform)?;
    let addon = format!("mobigen-connectors.{NODE_PLATFORM}.node");
    std::fs::copy(node_dir.join(&addon), platform.join(&addon)).with_context(|| {
        format!(
            "cannot copy bindings/node/{addon} (did `npm run build` run?) into the platform package"
        )
    })?;
    let platform_tarball = npm_pack(&platform, &tarballs)?;

    let app = work.path().join("app");
    copy_dir(&node_dir.join("pack-test"), &app)?;
    let manifest = serde_json::json!({ "name": "mobigen-pack-smoke", "private": true });
    std::fs::write(app.join("package.json"), format!("{manifest:#}\n"))
        .context("cannot write the smoke folder's package.json")?;
    // @types/node comes from bindings/node's own install: the package's types use Buffer.
    let tsconfig = serde_json::json!({
        "compilerOptions": {
            "strict": true,
            "noEmit": true,
            "module": "nodenext",
            "moduleResolution": "nodenext",
            "target": "es2022",
            "typeRoots": [path_str(&node_dir.join("node_modules/@types"))?],
            "types": ["node"],
        },
        "files": ["smoke.ts"],
    });
    std::fs::write(app.join("tsconfig.json"), format!("{tsconfig:#}\n"))
        .context("cannot write the smoke folder's tsconfig.json")?;
    let app_dir = path_str(&app)?;
    run_in(
        app_dir,
        "npm",
        &[
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            path_str(&main)?,
            path_str(&platform_tarball)?,
        ],
    )?;
    run_in(
        app_dir,
        "node",
        &[
            path_str(&node_dir.join("node_modules/typescript/bin/tsc"))?,
            "-p",
            "tsconfig.json",
        ],
    )?;
    node_test(
        app_dir,
        &[
            "--test",
            "--test-reporter=tap",
            "smoke.test.cjs",
            "smoke.test.mjs",
        ],
        &[],
    )
}

/// The `[profile...]` tables of a manifest, with the lines up to the next other table.
fn profile_sections(manifest: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            inside = line.starts_with("[profile.");
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The library crate as crates.io would get it: `cargo package` packs it (the embedded
/// connectors included, see its `include` list), then the packed crate, unpacked under
/// `target/package-verify/`, is built on its own, reading nothing from outside the tarball.
/// That build stands in for `cargo package`'s own verification, which resolves the crate's
/// features alone and so recompiled every dependency with another feature set; here the packed
/// crate is built beside the workspace-hack (the same features as every other run, see
/// `workspace_hack.rs`) and the workspace's dependency opt-level, in the shared target folder, so
/// only the crate itself compiles. `--allow-dirty` lets it run on uncommitted work; what is
/// packed is the working tree.
fn crate_package() -> anyhow::Result<()> {
    let root = workspace_root();
    run(
        "cargo",
        &[
            "package",
            "--quiet",
            "--package",
            "mobigen-connectors",
            "--allow-dirty",
            "--no-verify",
        ],
        &[],
    )?;
    let name = format!("mobigen-connectors-{}", env!("CARGO_PKG_VERSION"));
    let target = target_dir();
    let tarball = target.join("package").join(format!("{name}.crate"));
    let verify = target.join("package-verify");
    if verify.exists() {
        std::fs::remove_dir_all(&verify)
            .with_context(|| format!("cannot remove {}", verify.display()))?;
    }
    std::fs::create_dir_all(&verify)
        .with_context(|| format!("cannot create {}", verify.display()))?;
    run(
        "tar",
        &["-xzf", path_str(&tarball)?, "-C", path_str(&verify)?],
        &[],
    )?;
    let hack = root.join("crates/workspace-hack");
    let root_manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let manifest = format!(
        "# Written by `cargo xtask test`: builds the packed crate {name} on its own.\n\
         [package]\nname = \"verify-packed-crate\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[lib]\npath = \"lib.rs\"\n\n[dependencies]\n\
         mobigen-connectors = {{ path = \"{name}\" }}\nworkspace-hack = {{ path = {hack:?} }}\n\n\
         [workspace]\n\n\
         # The root Cargo.toml's profiles, so the dependencies built there are reused.\n{profiles}",
        hack = path_str(&hack)?,
        profiles = profile_sections(&root_manifest),
    );
    std::fs::write(verify.join("Cargo.toml"), manifest)?;
    std::fs::write(verify.join("lib.rs"), "//! Builds the packed crate.\n")?;
    std::fs::copy(root.join("Cargo.lock"), verify.join("Cargo.lock"))?;
    let target_str = path_str(&target)?.to_string();
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--offline",
            "--manifest-path",
            path_str(&verify.join("Cargo.toml"))?,
        ],
        &[("CARGO_TARGET_DIR", &target_str)],
    )
}

/// `cargo xtask NAME -- CMD ARGS...` with a test server up: runs CMD in the workspace root
/// with `envs` set.
fn run_given_command(name: &str, args: &[String], envs: &[(&str, &str)]) -> anyhow::Result<()> {
    let args: Vec<&String> = args.iter().skip_while(|a| *a == "--").collect();
    let Some((program, rest)) = args.split_first() else {
        bail!("usage: cargo xtask {name} -- CMD [ARGS...]");
    };
    let status = Command::new(program)
        .args(rest)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("cannot start `{program}`"))?;
    if !status.success() {
        bail!("`{program}` failed ({status})");
    }
    Ok(())
}

/// Runs `command` with its output captured, failing with that output.
fn run_captured(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let output = command
        .output()
        .with_context(|| format!("cannot start {shown}"))?;
    if !output.status.success() {
        bail!(
            "{shown} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
fn free_loopback_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind a port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}

/// What `test` runs, stage by stage, each timed; the times are printed again as a table at
/// the end. Downloads (valgrind through apt-get, moto through pip, the toolchain fixture's and the Node packages'
/// `npm ci`, chromium through apt-get for the dashboard's browser tests) run in a thread from the start, beside the compiling stages, and are joined before
/// the first stage that needs them; the fuzz run (one core) runs beside the toolchain check.
fn test() -> anyhow::Result<()> {
    let started = Instant::now();
    let mut stages = Stages::default();
    let root = workspace_root();
    let downloads = std::thread::spawn({
        let root = root.clone();
        move || -> anyhow::Result<()> {
            valgrind_available()?;
            kms::install()?;
            toolchain::install_fixtures(&root)?;
            node_install()
        }
    });
    let result = (|| {
        stages.run("fmt", || run("cargo", &["fmt", "--all", "--check"], &[]))?;
        stages.run("workspace-hack", || workspace_hack::run(&root, true))?;
        stages.run("clippy", || {
            run(
                "cargo",
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--features",
                    "mobigen-connectors/postgres,mobigen-connectors/kms",
                    "--",
                    "-D",
                    "warnings",
                ],
                &[],
            )
        })?;
        stages.run("rustdoc", || {
            run(
                "cargo",
                &["doc", "--workspace", "--no-deps"],
                &[("RUSTDOCFLAGS", "-D warnings")],
            )
        })?;
        stages.run("downloads (joined)", || {
            downloads
                .join()
                .map_err(|_| anyhow::anyhow!("the download thread panicked"))?
        })?;
        stages.run("c", c_tests)?;
        stages.run("cargo package", crate_package)?;
        // After the C checks: the fuzz workspace reuses the dependencies they built.
        stages.run("fuzz checks", fuzz::checks)?;
        let fuzzing = std::thread::spawn(|| {
            let started = Instant::now();
            (fuzz::fuzz(&[]), started.elapsed())
        });
        let toolchain = stages.run("toolchain", || toolchain::run(&root, None));
        let (fuzzed, took) = fuzzing
            .join()
            .map_err(|_| anyhow::anyhow!("the fuzz thread panicked"))?;
        stages.record("fuzz (beside toolchain)", took);
        toolchain?;
        fuzzed?;
        // The Node and Rust tests of the PostgreSQL store and the KMS key provider run against
        // one throwaway PostgreSQL server and one moto KMS server (stopped when they drop, also
        // on failure).
        let server = postgres::TestPostgres::start()?;
        let kms = kms::TestKms::start()?;
        let node = stages.run("node", || node_tests(&server, &kms))?;
        // Last, so that its summary line closes the output.
        stages.run("cargo test", || {
            let mut envs = kms.envs();
            envs.push((postgres::URL_VAR, server.url()));
            cargo_test(
                &[
                    "test",
                    "--workspace",
                    "--features",
                    "mobigen-connectors/postgres,mobigen-connectors/kms",
                ],
                node,
                &envs,
            )
        })
    })();
    stages.print(started.elapsed());
    result
}

/// The stages `test` ran and how long each took.
#[derive(Default)]
struct Stages(Vec<(&'static str, std::time::Duration)>);

impl Stages {
    fn run<T>(
        &mut self,
        name: &'static str,
        stage: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        println!("=== {name}");
        let started = Instant::now();
        let result = stage().with_context(|| format!("stage `{name}` failed"));
        self.record(name, started.elapsed());
        result
    }

    fn record(&mut self, name: &'static str, took: std::time::Duration) {
        println!("=== {name}: {:.0} s", took.as_secs_f64());
        self.0.push((name, took));
    }

    fn print(&self, total: std::time::Duration) {
        println!("stage times:");
        for (name, took) in &self.0 {
            println!("  {name:<24} {:>6.0} s", took.as_secs_f64());
        }
        println!("  {:<24} {:>6.0} s", "total", total.as_secs_f64());
    }
}

/// Runs `cargo test`, echoing its output, and ends with one summary line over every test binary
/// plus the `earlier` (passed, failed) counts of the Node suites (`tests: N passed, N failed`),
/// so a reader (or CI) sees the total at the end.
fn cargo_test(args: &[&str], earlier: (u64, u64), envs: &[(&str, &str)]) -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    println!("$ cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start `cargo test`")?;
    let (mut passed, mut failed) = earlier;
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
    // With the workspace-hack selected too, the CLI's dependencies get the features every other
    // run uses and are not compiled again (the CLI does not depend on it: installing the CLI
    // should not build the test-only crates).
    run(
        "cargo",
        &[
            "build",
            "--quiet",
            "--package",
            "mobigen-connect",
            "--package",
            "workspace-hack",
        ],
        &[],
    )?;
    let cli = built_dir("debug")?.join("mobigen-connect");
    let cli = cli.to_str().context("non UTF-8 path")?;
    let work = tempfile::Builder::new()
        .prefix("mobigen-sample-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let app = work.path().join("sample-app");
    copy_dir(&root.join("examples/sample-app"), &app)?;
    let app_arg = app.to_str().context("non UTF-8 path")?;
    println!("Working on a copy of examples/sample-app in {app_arg}");
    let configs = root.join("examples/sample-configs");
    let config = |id: &str| -> anyhow::Result<String> {
        Ok(configs
            .join(format!("{id}.json"))
            .to_str()
            .context("non UTF-8 path")?
            .to_string())
    };
    // What adding Stripe would change, as a diff (secret values redacted), without writing.
    println!();
    let stripe = config("stripe")?;
    run(
        cli,
        &[
            "add",
            "stripe",
            "--project",
            app_arg,
            "--config",
            &stripe,
            "--dry-run",
        ],
        &[],
    )?;
    for id in ["stripe", "firebase", "supabase", "revenuecat", "onesignal"] {
        println!();
        let config = config(id)?;
        run(
            cli,
            &["add", id, "--project", app_arg, "--config", &config],
            &[],
        )?;
    }
    println!();
    run(cli, &["status", "--project", app_arg], &[])?;
    println!();
    // And out again: the copy is byte for byte the sample app once more.
    for id in ["onesignal", "stripe", "firebase", "revenuecat", "supabase"] {
        run(cli, &["remove", id, "--project", app_arg], &[])?;
    }
    println!();
    if read_tree(&app)? != read_tree(&root.join("examples/sample-app"))? {
        bail!("after removing every connector the copy differs from examples/sample-app");
    }
    println!("After removing them all, the copy is byte for byte the sample app again.");
    println!("The temporary copy is deleted; examples/sample-app was never touched.");
    Ok(())
}

/// Every file below `dir`: relative path -> bytes.
fn read_tree(dir: &Path) -> anyhow::Result<std::collections::BTreeMap<PathBuf, Vec<u8>>> {
    let mut out = std::collections::BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder)
            .with_context(|| format!("cannot read {}", folder.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path)?;
                out.insert(path.strip_prefix(dir)?.to_path_buf(), bytes);
            }
        }
    }
    Ok(out)
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
        "header" => header(),
        "c" => c_tests(),
        "package" => crate_package(),
        "install-c" => install_c_command(&std::env::args().skip(2).collect::<Vec<_>>()),
        "toolchain" => toolchain::run(&workspace_root(), std::env::args().nth(2).as_deref()),
        "node-types" => node_types(),
        "expo-versions" => expo_versions::run(&workspace_root()),
        "workspace-hack" => workspace_hack::run(
            &workspace_root(),
            std::env::args().nth(2).as_deref() == Some("--check"),
        ),
        "fuzz" => fuzz::fuzz(&std::env::args().skip(2).collect::<Vec<_>>()),
        "bench" => bench::bench(),
        "postgres" => postgres::run_with_server(&std::env::args().skip(2).collect::<Vec<_>>()),
        "kms" => kms::run_with_server(&std::env::args().skip(2).collect::<Vec<_>>()),
        "node" => node_install()
            .and_then(|()| node_tests(&postgres::TestPostgres::start()?, &kms::TestKms::start()?))
            .map(|(passed, failed)| {
                println!("node tests: {passed} passed, {failed} failed");
            }),
        _ => {
            eprintln!(
                "usage: cargo xtask <test|sample|header|node-types|expo-versions|workspace-hack [--check]|c|package|install-c|node|toolchain [FILTER]|fuzz|bench|postgres -- CMD|kms -- CMD>"
            );
            eprintln!(
                "  test        formatting, clippy, rustdoc, C, Node, cargo package and toolchain checks and every test (what CI runs)"
            );
            eprintln!("  sample      the main job on a temporary copy of examples/sample-app");
            eprintln!("  header      regenerate include/mobigen_connectors.h from bindings/c");
            eprintln!("  node-types  regenerate bindings/node/connectors.d.ts (config types)");
            eprintln!(
                "  expo-versions  regenerate connectors/expo-sdk.json from each SDK's bundledNativeModules.json (npm)"
            );
            eprintln!(
                "  workspace-hack  regenerate crates/workspace-hack/Cargo.toml (one feature set for every cargo run)"
            );
            eprintln!(
                "  c           only the C checks of `test` (header, sanitizers, example, pkg-config install)"
            );
            eprintln!(
                "  install-c   --prefix DIR [--debug]: the C library, header and pkg-config file into DIR"
            );
            eprintln!(
                "  node        only the Node checks of `test` (npm ci, build, fresh files, tsc, node --test)"
            );
            eprintln!(
                "  package     only `test`'s cargo package check (the packed library crate built alone)"
            );
            eprintln!("  toolchain   generated code checked with tsc, expo config and expo export");
            eprintln!(
                "  fuzz        fuzz targets under the stable driver: [TARGET...] [--seconds N] [--seed S] | --repro TARGET FILE"
            );
            eprintln!(
                "  postgres    -- CMD [ARGS...]: CMD with MOBIGEN_TEST_POSTGRES_URL set to a throwaway PostgreSQL server"
            );
            eprintln!(
                "  kms         -- CMD [ARGS...]: CMD with MOBIGEN_TEST_KMS_URL set to moto's KMS server on 127.0.0.1"
            );
            eprintln!(
                "  bench       the benchmarks of BENCHMARKS.md (with jscodeshift, ts-morph, Node crypto)"
            );
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
