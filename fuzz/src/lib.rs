//! Fuzz target bodies of Mobigen connectors, shared by two drivers:
//!
//! - the libFuzzer binaries in `fuzz_targets/` (`cargo fuzz run TARGET`, nightly flags), and
//! - the stable driver `fuzz-stable` (`src/bin/fuzz-stable.rs`), which mutates the seed corpus
//!   with a seeded random generator for a fixed time (what `cargo xtask fuzz` and CI run).
//!
//! Each target is a function `run(&[u8])` that panics when an invariant breaks (I1-I4 and I7 of
//! DESIGN.md, and the vault's "decryption of anything but a sealed record is an error") and
//! returns normally otherwise; each module's `seeds()` gives its starting inputs, built from the
//! repository's fixtures.
#![forbid(unsafe_code)]

pub mod check;
pub mod fixtures;
pub mod mutate;
pub mod targets;

/// One fuzz target: its name, its body and its seed inputs.
#[derive(Clone, Copy)]
pub struct Target {
    /// The name (`cargo fuzz run NAME`, `fuzz-stable NAME`).
    pub name: &'static str,
    /// What it checks, one line.
    pub about: &'static str,
    /// The body: panics on a broken invariant.
    pub run: fn(&[u8]),
    /// The seed corpus.
    pub seeds: fn() -> Vec<Vec<u8>>,
    /// Words the stable mutator splices in (tokens of the input language).
    pub dictionary: &'static [&'static [u8]],
    /// How many inputs so far were accepted and went through the invariant checks (the rest
    /// were refused early, which is fine but checks less).
    pub accepted: fn() -> u64,
}

/// A counter of accepted inputs, one per target module.
#[derive(Debug, Default)]
pub struct Accepted(std::sync::atomic::AtomicU64);

impl Accepted {
    /// A counter at zero.
    pub const fn new() -> Accepted {
        Accepted(std::sync::atomic::AtomicU64::new(0))
    }

    /// Counts one accepted input.
    pub fn count(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The count so far.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Every target, in the order the stable driver runs them.
pub const TARGETS: [Target; 5] = [
    Target {
        name: "inject",
        about: "root file edits of every connector and pair: I1 parse, I2, I3, I4, I5",
        run: targets::inject::run,
        seeds: targets::inject::seeds,
        accepted: || targets::inject::ACCEPTED.get(),
        dictionary: mutate::JS_WORDS,
    },
    Target {
        name: "json_edit",
        about: "package.json / app.json edits: valid JSON out, idempotent, removal restores bytes",
        run: targets::json_edit::run,
        seeds: targets::json_edit::seeds,
        accepted: || targets::json_edit::ACCEPTED.get(),
        dictionary: mutate::JSON_WORDS,
    },
    Target {
        name: "vault",
        about: "decrypting arbitrary bytes and text: an error, never a panic or a forged plaintext",
        run: targets::vault::run,
        seeds: targets::vault::seeds,
        accepted: || targets::vault::ACCEPTED.get(),
        dictionary: mutate::VAULT_WORDS,
    },
    Target {
        name: "manifest",
        about: "loading connector manifests from a folder: checked, never a panic",
        run: targets::manifest::run,
        seeds: targets::manifest::seeds,
        accepted: || targets::manifest::ACCEPTED.get(),
        dictionary: mutate::JSON_WORDS,
    },
    Target {
        name: "config",
        about: "config validation; a valid config plans, its files parse, I2 and I3 hold",
        run: targets::config::run,
        seeds: targets::config::seeds,
        accepted: || targets::config::ACCEPTED.get(),
        dictionary: mutate::JSON_WORDS,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
