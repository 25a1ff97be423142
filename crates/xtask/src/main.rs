//! Development tasks, run as `cargo xtask <task>`:
//!
//! - `test`: every check CI runs: formatting, clippy, rustdoc, every test of the workspace, the
//!   fuzz workspace's checks and a short run of every fuzz target, and the toolchain checks.
//! - `toolchain [FILTER]`: the generated code checked with Expo's real toolchain (see
//!   `toolchain.rs`); FILTER limits it to combinations whose name contains it.
//! - `sample`: the main job on the bundled sample app (`examples/sample-app`), in a temporary copy
//!   so the tracked tree stays clean.
//! - `header`: regenerates the C header; `node-types`: regenerates the connectors' TypeScript
//!   config types (`bindings/node/connectors.d.ts`).
//! - `node`: only the Node checks of `test`.
//! - `fuzz [TARGET...] [--seconds N] [--seed S]`: the fuzz targets under their stable driver
//!   (`fuzz.rs`), 30 s each by default; `fuzz --repro TARGET FILE` runs one saved input.
//! - `bench`: every benchmark of BENCHMARKS.md, with jscodeshift, ts-morph and Node's crypto
//!   (`bench.rs`); not part of `test`.

mod bench;
mod fuzz;
mod ts_types;

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

fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("non UTF-8 path {}", path.display()))
}

/// The C side: the header is fresh and compiles as C99 and C++ (from two translation units);
/// the ABI test program runs under AddressSanitizer and UndefinedBehaviorSanitizer; the C
/// example adds and removes a connector on a copy of the sample app; and the example runs clean
/// under valgrind too (installed with apt-get when missing and running as root; in CI a valgrind
/// that cannot be had fails the run).
fn c_tests() -> anyhow::Result<()> {
    check_header()?;
    let root = workspace_root();
    run(
        "cargo",
        &["build", "--quiet", "--package", "mobigen-connectors-c"],
        &[],
    )?;
    let lib = target_dir().join("debug/libmobigen_connectors_c.a");
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
    if valgrind_runs() {
        return Ok(true);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0");
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if root && Command::new("apt-get").arg("--version").output().is_ok() {
        println!("valgrind is missing: installing it with apt-get");
        // `update` may fail offline with a usable cache; the install decides.
        let _ = run("apt-get", &["update", "-q"], &[]);
        run(
            "apt-get",
            &["install", "-y", "-q", "--no-install-recommends", "valgrind"],
            &[("DEBIAN_FRONTEND", "noninteractive")],
        )?;
        if valgrind_runs() {
            return Ok(true);
        }
        bail!("apt-get installed valgrind but `valgrind --version` still fails");
    }
    if in_ci {
        bail!(
            "valgrind is not installed and cannot be installed here (not root, or no apt-get): install valgrind in the CI image"
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
fn node_test(dir: &str, args: &[&str]) -> anyhow::Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    println!("$ (cd {dir} && node {})", args.join(" "));
    let mut child = Command::new("node")
        .args(args)
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

/// The Node side: the config types are fresh; `npm ci` installs from the committed lock files;
/// the addon builds and `index.js` / `index.d.ts` come out byte for byte as committed; the
/// TypeScript check compiles (and its `@ts-expect-error` lines fail as they must); then the
/// package's and the example server's `node --test` suites. Returns (passed, failed).
fn node_tests() -> anyhow::Result<(u64, u64)> {
    check_node_types()?;
    let root = workspace_root();
    run_in("bindings/node", "npm", &["ci", "--no-audit", "--no-fund"])?;
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
    let (p1, f1) = node_test("bindings/node", &["--test", "--test-reporter=tap", "test/"])?;
    run_in(
        "examples/node-server",
        "npm",
        &["ci", "--no-audit", "--no-fund"],
    )?;
    let (p2, f2) = node_test(
        "examples/node-server",
        &["--test", "--test-reporter=tap", "test/"],
    )?;
    Ok((p1 + p2, f1 + f2))
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
    c_tests()?;
    // After the C checks: the fuzz workspace reuses the dependencies they built.
    fuzz::checks()?;
    fuzz::fuzz(&[])?;
    toolchain::run(&workspace_root(), None)?;
    let node = node_tests()?;
    // Last, so that its summary line closes the output.
    cargo_test(&["test", "--workspace"], node)
}

/// Runs `cargo test`, echoing its output, and ends with one summary line over every test binary
/// plus the `earlier` (passed, failed) counts of the Node suites (`tests: N passed, N failed`),
/// so a reader (or CI) sees the total at the end.
fn cargo_test(args: &[&str], earlier: (u64, u64)) -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    println!("$ cargo {}", args.join(" "));
    let mut child = Command::new("cargo")
        .args(args)
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
    run(
        "cargo",
        &["build", "--quiet", "--package", "mobigen-connect"],
        &[],
    )?;
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let cli = target.join("debug/mobigen-connect");
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
        "toolchain" => toolchain::run(&workspace_root(), std::env::args().nth(2).as_deref()),
        "node-types" => node_types(),
        "fuzz" => fuzz::fuzz(&std::env::args().skip(2).collect::<Vec<_>>()),
        "bench" => bench::bench(),
        "node" => node_tests().map(|(passed, failed)| {
            println!("node tests: {passed} passed, {failed} failed");
        }),
        _ => {
            eprintln!(
                "usage: cargo xtask <test|sample|header|node-types|c|node|toolchain [FILTER]|fuzz|bench>"
            );
            eprintln!(
                "  test        formatting, clippy, rustdoc, C, Node and toolchain checks and every test (what CI runs)"
            );
            eprintln!("  sample      the main job on a temporary copy of examples/sample-app");
            eprintln!("  header      regenerate include/mobigen_connectors.h from bindings/c");
            eprintln!("  node-types  regenerate bindings/node/connectors.d.ts (config types)");
            eprintln!("  c           only the C checks of `test` (header, sanitizers, example)");
            eprintln!(
                "  node        only the Node checks of `test` (npm ci, build, fresh files, tsc, node --test)"
            );
            eprintln!("  toolchain   generated code checked with tsc, expo config and expo export");
            eprintln!(
                "  fuzz        fuzz targets under the stable driver: [TARGET...] [--seconds N] [--seed S] | --repro TARGET FILE"
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
