//! Issue 18: many processes on one PostgreSQL store. Eight processes (this test binary run again
//! as workers) each make 200 mixed operations — rotating four shared instances, adding,
//! rotating, reading and removing instances of their own — against one database and one
//! keyring file. Afterwards every count and version must add up (no lost update, no version
//! number taken twice, no gap), every instance must decrypt to the last secret written to it,
//! the reads of each shared instance must all be counted in its activity, and the audit chain
//! must verify.
//!
//! Runs with the `postgres` feature against `MOBIGEN_TEST_POSTGRES_URL` (`cargo xtask test`,
//! `cargo xtask postgres -- cargo test -p mobigen-connectors --features postgres --test
//! postgres_processes`).
#![cfg(feature = "postgres")]

mod pg_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use mobigen_connectors::Registry;
use mobigen_connectors::store::{Status, Store as _, StoreError};
use pg_support::{Service, fresh_database, service, stripe};
use serde_json::{Value, json};

const WORKERS: usize = 8;
const OPERATIONS: usize = 200;
const SHARED: usize = 4;
/// Set in a worker: `INDEX URL KEYRING SHARED_ID,...` (space separated).
const WORKER_VAR: &str = "MOBIGEN_PG_PROCESS_WORKER";
const TEST_NAME: &str = "eight_processes_share_one_postgres_store";
const RESULT_PREFIX: &str = "worker-result ";

fn secret_of(service: &mut Service, id: &str) -> (i64, String) {
    let opened = service.get(id, "process test", "worker").expect("decrypt");
    let secret = opened
        .config
        .secret("/secretKey")
        .and_then(|s| s.expose_str())
        .expect("secretKey")
        .to_string();
    (opened.record.credentials_version, secret)
}

/// A small deterministic generator (xorshift), one stream per worker.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).expect("small")
    }
}

/// What one worker did that the others could not have changed: its own instances (version and
/// last secret, or removed), and how many rotations of each shared instance succeeded.
fn worker(spec: &str) -> Value {
    let mut parts = spec.split(' ');
    let index: usize = parts.next().and_then(|i| i.parse().ok()).expect("index");
    let url = parts.next().expect("url");
    let keyring = Path::new(parts.next().expect("keyring"));
    let shared: Vec<&str> = parts.next().expect("shared").split(',').collect();
    let registry = Registry::builtin().expect("registry");
    let mut service = service(url, keyring);
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ ((index as u64 + 1) * 0x1000_0001));
    let mut rotations = vec![0u64; shared.len()];
    let mut reads = vec![0u64; shared.len()];
    // id -> (version, last secret), None once removed.
    let mut own: BTreeMap<String, Option<(i64, String)>> = BTreeMap::new();
    let actor = format!("worker {index}");
    for step in 0..OPERATIONS {
        let secret = format!("sk_test_w{index}s{step}");
        let live: Vec<String> = own
            .iter()
            .filter(|(_, state)| state.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        match dice.below(10) {
            0..=2 => {
                let j = dice.below(shared.len());
                service
                    .rotate_credentials(shared[j], stripe(&registry, &secret), &actor)
                    .expect("rotate a shared instance");
                rotations[j] += 1;
            }
            3 | 4 => {
                let project = format!("w{index}-p{step}");
                let record = service
                    .put(&project, stripe(&registry, &secret), &actor)
                    .expect("add");
                own.insert(record.id, Some((1, secret)));
            }
            5 | 6 if !live.is_empty() => {
                let id = &live[dice.below(live.len())];
                let record = service
                    .rotate_credentials(id, stripe(&registry, &secret), &actor)
                    .expect("rotate an own instance");
                own.insert(id.clone(), Some((record.credentials_version, secret)));
            }
            7 if !live.is_empty() => {
                let id = &live[dice.below(live.len())];
                service.remove(id, &actor).expect("remove");
                own.insert(id.clone(), None);
            }
            _ => {
                // Read: a shared instance decrypts to some worker's secret at its version; an
                // own one to exactly what this worker wrote last.
                let j = dice.below(shared.len());
                let (version, secret) = secret_of(&mut service, shared[j]);
                reads[j] += 1;
                assert!(version >= 1 && secret.starts_with("sk_test_"), "{version}");
                if let Some(id) = live.first() {
                    let expected = own[id].clone();
                    assert_eq!(Some(secret_of(&mut service, id)), expected);
                }
            }
        }
    }
    json!({"rotations": rotations, "reads": reads, "own": own})
}

#[test]
fn eight_processes_share_one_postgres_store() {
    if let Ok(spec) = std::env::var(WORKER_VAR) {
        println!("{RESULT_PREFIX}{}", worker(&spec));
        return;
    }
    let url = fresh_database(
        "processes",
        "this test through `cargo xtask test` or `cargo xtask postgres -- cargo test -p \
         mobigen-connectors --features postgres --test postgres_processes`",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let keyring = dir.path().join("keyring.json");
    let registry = Registry::builtin().expect("registry");
    let mut setup = service(&url, &keyring);
    let shared: Vec<String> = (0..SHARED)
        .map(|j| {
            setup
                .put(
                    &format!("shared-{j}"),
                    stripe(&registry, "sk_test_initial"),
                    "setup",
                )
                .expect("shared instance")
                .id
        })
        .collect();

    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..WORKERS)
        .map(|index| {
            Command::new(&exe)
                .args([TEST_NAME, "--exact", "--nocapture", "--test-threads", "1"])
                .env(
                    WORKER_VAR,
                    format!("{index} {url} {} {}", keyring.display(), shared.join(",")),
                )
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn a worker")
        })
        .collect();
    let results: Vec<Value> = children
        .into_iter()
        .enumerate()
        .map(|(index, child)| {
            let out = child.wait_with_output().expect("worker output");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "worker {index} failed: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let line = stdout
                .lines()
                .find_map(|l| l.split_once(RESULT_PREFIX).map(|(_, json)| json))
                .unwrap_or_else(|| panic!("worker {index} reported nothing: {stdout}"));
            serde_json::from_str(line).expect("worker JSON")
        })
        .collect();

    let mut check = service(&url, &keyring);
    // Shared instances: one version per successful rotation, numbered without gaps.
    for (j, id) in shared.iter().enumerate() {
        let rotated: u64 = results
            .iter()
            .map(|r| r["rotations"][j].as_u64().expect("count"))
            .sum();
        let record = check.instance(id).expect("shared instance");
        assert_eq!(
            record.credentials_version,
            1 + i64::try_from(rotated).unwrap_or(0)
        );
        let mut kept: Vec<i64> = check
            .store()
            .credential_versions(id)
            .expect("versions")
            .iter()
            .map(|v| v.version)
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, (1..record.credentials_version).collect::<Vec<_>>());
        // Every read counted in the instance's activity, none lost to a concurrent one.
        let read: u64 = results
            .iter()
            .map(|r| r["reads"][j].as_u64().expect("count"))
            .sum();
        let activity = check.activity(id).expect("activity");
        let counted: u64 = activity.days.iter().map(|d| d.credential_reads).sum();
        assert_eq!(counted, read, "credential reads of shared instance {j}");
        assert_eq!(activity.days.iter().map(|d| d.errors).sum::<u64>(), 0);
        assert_eq!(read > 0, activity.last_used_at.is_some());
    }
    // Own instances: as their worker left them.
    let mut live = SHARED;
    for result in &results {
        for (id, state) in result["own"].as_object().expect("own") {
            let record = check.instance(id).expect("own instance");
            if state.is_null() {
                assert_eq!(record.status, Status::Removed);
                assert!(matches!(
                    check.get(id, "check", "test"),
                    Err(StoreError::WrongStatus { .. })
                ));
            } else {
                live += 1;
                let version = state[0].as_i64().expect("version");
                let secret = state[1].as_str().expect("secret");
                assert_eq!(secret_of(&mut check, id), (version, secret.to_string()));
            }
        }
    }
    let listed = check.list(None).expect("list");
    assert_eq!(
        listed
            .iter()
            .filter(|r| r.status != Status::Removed)
            .count(),
        live
    );
    let report = check.verify_audit().expect("verify");
    assert!(report.is_intact(), "{:?}", report.first_problem);
    assert!(
        report.entries >= (WORKERS * OPERATIONS) as u64,
        "{report:?}"
    );
}
