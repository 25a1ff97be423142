//! Vault benchmarks.
//!
//! - `encrypt+decrypt 1 KiB`: one record sealed and opened (target: 200,000 pairs/s on one core).
//! - `rewrap 100k records`: rotate the key, then re-wrap 100,000 stored records from a SQLite
//!   file (target: 5 s).
//!
//! Run: `cargo bench -p mobigen-connectors --bench vault`.

// A benchmark should stop at the first unexpected error; unwrap does that.
#![allow(clippy::unwrap_used)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::secrets::vault::{Context, LocalKeyring, Vault};
use mobigen_connectors::store::{CredentialService, SqliteStore};

const RECORDS: usize = 100_000;

fn encrypt_decrypt(c: &mut Criterion) {
    let vault = Vault::new(LocalKeyring::generate_in_memory(SystemClock.now()).unwrap());
    let context = Context::new("0b6f7c1e-5d1a-4f6e-9a43-3c1f2a7d9e10", "stripe");
    let plaintext = vec![b'x'; 1024];
    let mut group = c.benchmark_group("vault");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encrypt+decrypt 1 KiB", |b| {
        b.iter(|| {
            let envelope = vault.encrypt(black_box(&plaintext), &context).unwrap();
            vault.decrypt(&envelope, &context).unwrap()
        });
    });
    group.finish();
}

fn rewrap_store(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let keyring = LocalKeyring::generate_in_memory(SystemClock.now()).unwrap();
    let mut service = CredentialService::new(
        SqliteStore::open(&path).unwrap(),
        Vault::new(keyring),
        SystemClock,
    );
    // Bulk-load the records in one transaction (the service writes one per call).
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO connector_instances (id, project_id, connector_id, config,
                     credentials_encrypted, encryption_key_id, status, created_at, updated_at)
                     VALUES (?1, ?2, 'stripe', '{}', ?3, ?4, 'active', 0, 0)",
                )
                .unwrap();
            // A realistic credentials object: two secret keys, about 256 bytes.
            let secrets = format!(
                "{{\"/secretKey\":\"sk_live_{}\",\"/webhookSecret\":\"whsec_{}\"}}",
                "A".repeat(99),
                "B".repeat(120)
            );
            for i in 0..RECORDS {
                let project = format!("project-{i}");
                let envelope = service
                    .vault()
                    .encrypt(secrets.as_bytes(), &Context::new(&project, "stripe"))
                    .unwrap();
                insert
                    .execute(rusqlite::params![
                        format!("id-{i}"),
                        project,
                        envelope.to_text(),
                        envelope.key_id().as_str()
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let mut group = c.benchmark_group("store");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("rewrap 100k records", |b| {
        b.iter(|| {
            service.rotate_key("bench").unwrap();
            let report = service.rewrap_all("bench").unwrap();
            assert_eq!(report.rewrapped, RECORDS as u64);
        });
    });
    group.finish();
}

criterion_group!(benches, encrypt_decrypt, rewrap_store);
criterion_main!(benches);
