//! Feature unification only: no code. See `crates/xtask/src/workspace_hack.rs`.
