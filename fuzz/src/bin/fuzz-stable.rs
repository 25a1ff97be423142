//! The stable driver of the fuzz targets: runs each target's seed corpus, then random
//! mutations of it (seeded, so a run can be repeated) for a fixed time. No nightly compiler, no
//! libFuzzer, no coverage feedback. Any panic (a crash or a broken invariant) saves the input to
//! `fuzz/artifacts/TARGET/` and fails the run.
//!
//! ```text
//! fuzz-stable [TARGET...] [--seconds N] [--seed S] [--max-len BYTES]
//! fuzz-stable --repro TARGET FILE       run one saved input (a panic shows its message)
//! fuzz-stable --write-corpus [DIR]      write the seeds to DIR/TARGET/ (default fuzz/corpus)
//! fuzz-stable --list
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mobigen_connectors_fuzz::mutate::{Rng, mutate};
use mobigen_connectors_fuzz::{TARGETS, Target, target};

/// The last panic's message and place, kept by the panic hook.
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

struct Options {
    targets: Vec<&'static Target>,
    seconds: f64,
    seed: u64,
    max_len: usize,
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: fuzz-stable [TARGET...] [--seconds N] [--seed S] [--max-len BYTES]\n       \
         fuzz-stable --repro TARGET FILE | --write-corpus [DIR] | --list"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            for t in &TARGETS {
                println!("{:<10} {}", t.name, t.about);
            }
            return ExitCode::SUCCESS;
        }
        Some("--repro") => {
            let (Some(t), Some(file)) = (args.get(1).and_then(|n| target(n)), args.get(2)) else {
                return usage();
            };
            let data = match std::fs::read(file) {
                Ok(data) => data,
                Err(e) => {
                    eprintln!("error: cannot read {file}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // No catch: the panic message and backtrace show as usual.
            (t.run)(&data);
            println!("{}: {file} runs clean", t.name);
            return ExitCode::SUCCESS;
        }
        Some("--write-corpus") => {
            let dir = args
                .get(1)
                .map_or_else(|| fuzz_dir().join("corpus"), PathBuf::from);
            return match write_corpus(&dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    let Some(options) = parse_options(&args) else {
        return usage();
    };
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = format!("panicked at {place}: {message}");
        }
    }));
    let mut failed = Vec::new();
    for t in &options.targets {
        if !fuzz_one(t, &options) {
            failed.push(t.name);
        }
    }
    if failed.is_empty() {
        println!("fuzz: {} targets clean", options.targets.len());
        ExitCode::SUCCESS
    } else {
        eprintln!("fuzz: failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

fn parse_options(args: &[String]) -> Option<Options> {
    let mut options = Options {
        targets: Vec::new(),
        seconds: 30.0,
        seed: 0x6d6f_6269_6765_6e00,
        max_len: 64 * 1024,
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--seconds" => options.seconds = rest.next()?.parse().ok()?,
            "--seed" => options.seed = rest.next()?.parse().ok()?,
            "--max-len" => options.max_len = rest.next()?.parse().ok()?,
            name => match target(name) {
                Some(t) => options.targets.push(t),
                None => {
                    eprintln!("unknown target `{name}`; targets: {}", names());
                    return None;
                }
            },
        }
    }
    if options.targets.is_empty() {
        options.targets = TARGETS.iter().collect();
    }
    Some(options)
}

fn names() -> String {
    TARGETS
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The seeds of `t` plus any files in `fuzz/corpus/TARGET/` (what `cargo fuzz` found).
fn corpus(t: &Target) -> Vec<Vec<u8>> {
    let mut inputs = (t.seeds)();
    if let Ok(entries) = std::fs::read_dir(fuzz_dir().join("corpus").join(t.name)) {
        let mut extra: Vec<Vec<u8>> = entries
            .flatten()
            .filter_map(|e| std::fs::read(e.path()).ok())
            .collect();
        extra.sort();
        inputs.extend(extra);
    }
    inputs.sort();
    inputs.dedup();
    inputs
}

/// Runs one input, catching a panic: `Err(message)` when it panicked.
fn run_caught(t: &Target, data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| (t.run)(data))).map_err(|_| {
        LAST_PANIC
            .lock()
            .map(|m| m.clone())
            .unwrap_or_else(|_| "(panic)".to_string())
    })
}

/// Fuzzes one target for the time budget; false when an input failed (reported and saved).
fn fuzz_one(t: &Target, options: &Options) -> bool {
    let start = Instant::now();
    let seeds = corpus(t);
    if seeds.is_empty() {
        eprintln!("{}: no seed input", t.name);
        return false;
    }
    for seed in &seeds {
        if let Err(message) = run_caught(t, seed) {
            report(t, seed, &message, "a seed input");
            return false;
        }
    }
    let accepted_seeds = (t.accepted)();
    let budget = Duration::from_secs_f64(options.seconds);
    let mut rng = Rng::new(options.seed ^ hash(t.name.as_bytes()));
    // Recent mutants, mutated again now and then (deeper chains than seed + a few edits).
    let mut recent: Vec<Vec<u8>> = Vec::new();
    let mut runs: u64 = 0;
    while start.elapsed() < budget {
        let base = if !recent.is_empty() && rng.one_in(3) {
            &recent[rng.below(recent.len())]
        } else {
            &seeds[rng.below(seeds.len())]
        };
        let input = mutate(&mut rng, base, &seeds, t.dictionary, options.max_len);
        runs += 1;
        if let Err(message) = run_caught(t, &input) {
            report(t, &input, &message, &format!("mutation #{runs}"));
            return false;
        }
        if recent.len() < 64 {
            recent.push(input);
        } else {
            let at = rng.below(recent.len());
            recent[at] = input;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let accepted_mutants = (t.accepted)() - accepted_seeds;
    println!(
        "{:<10} ok: {} seeds ({accepted_seeds} accepted), {runs} mutations in {elapsed:.1} s ({:.0}/s), {accepted_mutants} accepted and checked",
        t.name,
        seeds.len(),
        runs as f64 / elapsed.max(1e-9),
    );
    // A run whose inputs are all refused early checks nothing deep: the seeds or the mutator
    // are broken, and that is a failure, not a pass.
    if accepted_seeds == 0 || (runs > 0 && accepted_mutants == 0) {
        eprintln!(
            "{}: FAILED: {accepted_seeds} seeds and {accepted_mutants} of {runs} mutations were accepted; the invariant checks were never reached",
            t.name
        );
        return false;
    }
    true
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Prints the failure and saves the input to `fuzz/artifacts/TARGET/crash-HASH`.
fn report(t: &Target, input: &[u8], message: &str, which: &str) {
    let dir = fuzz_dir().join("artifacts").join(t.name);
    let file = dir.join(format!("crash-{:016x}", hash(input)));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, input));
    eprintln!("{}: FAILED on {which}: {message}", t.name);
    let shown = String::from_utf8_lossy(&input[..input.len().min(4096)]);
    eprintln!(
        "input ({} bytes{}): {shown:?}",
        input.len(),
        if input.len() > 4096 {
            ", first 4096 shown"
        } else {
            ""
        }
    );
    match saved {
        Ok(()) => eprintln!(
            "saved to {}\nreproduce: cargo xtask fuzz --repro {} {}",
            file.display(),
            t.name,
            file.display()
        ),
        Err(e) => eprintln!("(could not save the input to {}: {e})", file.display()),
    }
}

fn write_corpus(dir: &Path) -> Result<(), String> {
    for t in &TARGETS {
        let folder = dir.join(t.name);
        std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
        let seeds = (t.seeds)();
        for seed in &seeds {
            let path = folder.join(format!("seed-{:016x}", hash(seed)));
            std::fs::write(&path, seed).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        println!("{}: {} seeds in {}", t.name, seeds.len(), folder.display());
    }
    Ok(())
}
