//! Present so that cargo builds the `[build-dependencies]` (the host side of the unification).
fn main() {}
