//! Vault benchmarks (placeholder until the store lands).

fn main() {}
