//! Issue 18's scale figures for the PostgreSQL store, against a real server:
//!
//! 1. 8 concurrent clients (threads, each with its own connection, one keyring): credential
//!    reads per second (decryption and the read's audit entry included), then rotations per
//!    second; the audit chain must verify afterwards.
//! 2. A store of 100,000 instances: listing one project's instances (what `status` and the
//!    Active Connectors view ask) and verifying the whole audit chain.
//!
//! `cargo xtask postgres -- cargo bench -p mobigen-connectors --features postgres --bench
//! pg_store` (a throwaway server; `MOBIGEN_TEST_POSTGRES_URL`). `PG_BENCH_INSTANCES` changes the
//! store size. Not criterion: these are throughput figures of several threads over seconds.

#[path = "../tests/pg_support/mod.rs"]
mod pg_support;

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use mobigen_connectors::Registry;
use pg_support::{Service, fresh_database, service, stripe};

const CLIENTS: usize = 8;
const WINDOW: Duration = Duration::from_secs(5);

/// Runs `work(client, service, round)` on CLIENTS threads for WINDOW; returns the operations
/// per second over all of them.
fn throughput(
    url: &str,
    keyring: &Path,
    work: impl Fn(usize, &mut Service, u64) + Send + Sync + 'static,
) -> f64 {
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (work, barrier) = (Arc::clone(&work), Arc::clone(&barrier));
            let (url, keyring) = (url.to_string(), keyring.to_path_buf());
            std::thread::spawn(move || {
                let mut service = service(&url, &keyring);
                barrier.wait();
                let started = Instant::now();
                let mut done = 0u64;
                while started.elapsed() < WINDOW {
                    work(client, &mut service, done);
                    done += 1;
                }
                (done, started.elapsed())
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| {
            let (done, took) = t.join().expect("client");
            done as f64 / took.as_secs_f64()
        })
        .sum()
}

/// Adds `count` instances (one per project, `fill-CLIENT-I`) from CLIENTS threads.
fn fill(url: &str, keyring: &Path, count: usize) {
    let per_client = count.div_ceil(CLIENTS);
    let threads: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (url, keyring) = (url.to_string(), keyring.to_path_buf());
            std::thread::spawn(move || {
                let registry = Registry::builtin().expect("registry");
                let mut service = service(&url, &keyring);
                for i in 0..per_client {
                    service
                        .put(
                            &format!("fill-{client}-{i}"),
                            stripe(&registry, "sk_test_FILL"),
                            "bench",
                        )
                        .expect("put");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("filler");
    }
}

fn main() {
    let instances: usize = std::env::var("PG_BENCH_INSTANCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let url = fresh_database(
        "bench",
        "`cargo xtask postgres -- cargo bench -p mobigen-connectors --features postgres --bench pg_store`",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let keyring = dir.path().join("keyring.json");
    let registry = Registry::builtin().expect("registry");
    let ids: Arc<Vec<String>> = {
        let mut setup = service(&url, &keyring);
        Arc::new(
            (0..CLIENTS)
                .map(|c| {
                    setup
                        .put(
                            &format!("client-{c}"),
                            stripe(&registry, "sk_test_0"),
                            "bench",
                        )
                        .expect("put")
                        .id
                })
                .collect(),
        )
    };

    let reads = throughput(&url, &keyring, {
        let ids = Arc::clone(&ids);
        move |client, service, _| {
            service
                .get(&ids[client], "bench read", "bench")
                .expect("read");
        }
    });
    println!("{CLIENTS} clients, credential reads (decrypt + audit entry): {reads:.0}/s");
    let rotations = throughput(&url, &keyring, {
        let ids = Arc::clone(&ids);
        let registry = Arc::new(registry);
        move |client, service, round| {
            service
                .rotate_credentials(
                    &ids[client],
                    stripe(&registry, &format!("sk_test_{round}")),
                    "bench",
                )
                .expect("rotate");
        }
    });
    println!("{CLIENTS} clients, credential rotations: {rotations:.0}/s");
    let check = service(&url, &keyring);
    let started = Instant::now();
    let report = check.verify_audit().expect("verify");
    assert!(report.is_intact(), "{:?}", report.first_problem);
    println!(
        "audit chain after the run: intact, {} entries, verified in {:.2} s",
        report.entries,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    fill(&url, &keyring, instances);
    let total = check.list(None).expect("list").len();
    println!(
        "filled to {total} instances in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut listed = 0;
    // One project per lookup, each filled with one instance (`fill-CLIENT-I`).
    let lookups = u32::try_from(instances.div_ceil(CLIENTS).min(200)).unwrap_or(200);
    for i in 0..lookups {
        listed += check
            .list(Some(&format!("fill-{}-{i}", i as usize % CLIENTS)))
            .expect("list one project")
            .len();
    }
    assert_eq!(listed, lookups as usize);
    println!(
        "one project's instances of {total}: {:.3} ms",
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(lookups)
    );
    let started = Instant::now();
    let report = check.verify_audit().expect("verify");
    assert!(report.is_intact(), "{:?}", report.first_problem);
    println!(
        "audit verification of {} entries: {:.2} s",
        report.entries,
        started.elapsed().as_secs_f64()
    );
}
