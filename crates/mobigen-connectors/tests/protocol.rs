//! The store + project protocol (`host::protocol`, issue 15 item 17): plan, write the store,
//! apply, undo the store write when applying fails — the one implementation every host uses.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use mobigen_connectors::Registry;
use mobigen_connectors::clock::{Clock, SystemClock};
use mobigen_connectors::host::codes::{Coded, ErrorCode};
use mobigen_connectors::host::protocol::{
    AddRequest, ConfigChange, IfStored, ProtocolError, StoreWrite, StoredProject,
};
use mobigen_connectors::project::apply::{FileSystem, RealFs};
use mobigen_connectors::project::ops::Mode;
use mobigen_connectors::project::plan::PlanOptions;
use mobigen_connectors::secrets::vault::{LocalKeyring, Vault};
use mobigen_connectors::store::{CredentialService, SqliteStore, Status, Store};
use serde_json::{Value, json};

type Service = CredentialService<SqliteStore, LocalKeyring, SystemClock>;

const SECRET_1: &str = "sk_test_51FirstSecretValue0001";
const SECRET_2: &str = "sk_test_51SecondSecretValue002";
const PUBLISHABLE: &str = "pk_test_51PublishableKey000001";
const PROJECT: &str = "prj-test";
const ACTOR: &str = "protocol test";

fn sample_app() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app");
    for name in [
        "App.tsx",
        "app.json",
        "index.ts",
        "package.json",
        "tsconfig.json",
    ] {
        std::fs::copy(from.join(name), dir.path().join(name)).expect("copy");
    }
    dir
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("prefix").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn service() -> Service {
    let keyring = LocalKeyring::generate_in_memory(SystemClock.now()).expect("keyring");
    let store = SqliteStore::open_in_memory().expect("store");
    CredentialService::new(store, Vault::new(keyring), SystemClock)
}

fn stripe(registry: &Registry, secret: &str) -> mobigen_connectors::ValidConfig {
    registry
        .lookup("stripe")
        .expect("stripe")
        .validate_config(&json!({"publishableKey": PUBLISHABLE, "secretKey": secret}))
        .expect("valid")
}

/// The real file system, except that switching a staged file into the project fails (the
/// rename out of `.mobigen/journal/`): applying fails after the store was written, and rolls
/// the project back.
struct FailingSwitch;

impl FileSystem for FailingSwitch {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        RealFs.read(path)
    }
    fn write_synced(&self, path: &Path, bytes: &[u8], private: bool) -> io::Result<()> {
        RealFs.write_synced(path, bytes, private)
    }
    fn mode(&self, path: &Path) -> io::Result<Option<u32>> {
        RealFs.mode(path)
    }
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        RealFs.set_mode(path, mode)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        if from.extension().is_some_and(|e| e == "new") {
            return Err(io::Error::other("injected failure"));
        }
        RealFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_file(path)
    }
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        RealFs.create_dir_all(path)
    }
    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_dir_all(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        RealFs.is_dir(path)
    }
    fn remove_empty_dir(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_empty_dir(path)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        RealFs.sync_dir(path)
    }
}

/// The current stored config of the project's Stripe instance, secrets included.
fn stored_config(service: &mut Service) -> Option<Value> {
    let record = service.find(PROJECT, "stripe").expect("find")?;
    Some(
        service
            .get(&record.id, "test", ACTOR)
            .expect("get")
            .config
            .expose_full_config(),
    )
}

#[test]
fn a_failed_apply_after_a_new_store_record_removes_it_again() {
    let registry = Registry::builtin().expect("registry");
    let mut service = service();
    let dir = sample_app();
    let before = files(dir.path());
    let error = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR)
        .with_file_system(&FailingSwitch)
        .add(&AddRequest::new(stripe(&registry, SECRET_1), Mode::Apply))
        .expect_err("the switch fails");
    assert!(
        matches!(error, ProtocolError::ApplyFailed { .. }),
        "{error:?}"
    );
    assert_eq!(error.code(), ErrorCode::Io);
    let text = error.to_string();
    assert!(
        text.contains("was removed again (credentials deleted)"),
        "{text}"
    );
    assert!(!text.contains(SECRET_1));
    assert_eq!(files(dir.path()), before, "the project is as before");
    assert!(service.find(PROJECT, "stripe").expect("find").is_none());
    assert!(service.verify_audit().expect("audit").is_intact());
}

#[test]
fn a_failed_apply_after_an_update_leaves_the_store_as_before() {
    let registry = Registry::builtin().expect("registry");
    let mut service = service();
    let dir = sample_app();
    let added = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR)
        .add(&AddRequest::new(stripe(&registry, SECRET_1), Mode::Apply))
        .expect("add");
    assert!(matches!(added.store, Some(StoreWrite::Created(_))));
    let before = files(dir.path());
    let stored_before = stored_config(&mut service).expect("stored");

    // A full replacement, then a merge, then an add of a changed config: each fails to apply
    // and leaves the store's current config and the project as they were.
    let changes = [
        ConfigChange::Replace(stripe(&registry, SECRET_2)),
        ConfigChange::Merge(json!({"secretKey": SECRET_2, "currency": "eur"})),
    ];
    for change in changes {
        let error = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR)
            .with_file_system(&FailingSwitch)
            .update("stripe", change, PlanOptions::default(), Mode::Apply)
            .expect_err("the switch fails");
        let text = error.to_string();
        assert!(
            text.contains("the stored credentials were put back to version"),
            "{text}"
        );
        assert_eq!(stored_config(&mut service).as_ref(), Some(&stored_before));
        assert_eq!(files(dir.path()), before);
    }
    let error = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR)
        .with_file_system(&FailingSwitch)
        .add(&AddRequest::new(stripe(&registry, SECRET_2), Mode::Apply))
        .expect_err("the switch fails");
    assert!(
        matches!(error, ProtocolError::ApplyFailed { .. }),
        "{error:?}"
    );
    assert_eq!(stored_config(&mut service).as_ref(), Some(&stored_before));
    assert_eq!(files(dir.path()), before);
    assert!(service.verify_audit().expect("audit").is_intact());
}

#[test]
fn a_merge_update_keeps_the_stored_secrets_and_changes_the_code() {
    let registry = Registry::builtin().expect("registry");
    let mut service = service();
    let dir = sample_app();
    let mut project = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR);
    project
        .add(&AddRequest::new(stripe(&registry, SECRET_1), Mode::Apply))
        .expect("add");
    let updated = project
        .update(
            "stripe",
            ConfigChange::Merge(json!({"currency": "eur"})),
            PlanOptions::default(),
            Mode::Apply,
        )
        .expect("merge");
    let Some(StoreWrite::Replaced { record, previous }) = &updated.store else {
        panic!("{:?}", updated.store);
    };
    assert_eq!((*previous, record.credentials_version), (1, 2));
    let stored = stored_config(&mut service).expect("stored");
    assert_eq!(stored["currency"], "eur");
    assert_eq!(stored["secretKey"], SECRET_1);
    // An invalid merge result is refused before anything is written.
    let mut project = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR);
    let error = project
        .update(
            "stripe",
            ConfigChange::Merge(json!({"secretKey": null})),
            PlanOptions::default(),
            Mode::Apply,
        )
        .expect_err("secretKey is required");
    assert_eq!(error.code(), ErrorCode::InvalidConfig);
    assert_eq!(
        stored_config(&mut service).expect("stored")["secretKey"],
        SECRET_1
    );
}

#[test]
fn create_refuses_a_stored_connector_and_update_needs_one() {
    let registry = Registry::builtin().expect("registry");
    let mut service = service();
    let dir = sample_app();
    let mut project = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR);
    let error = project
        .update(
            "stripe",
            ConfigChange::Replace(stripe(&registry, SECRET_1)),
            PlanOptions::default(),
            Mode::Apply,
        )
        .expect_err("not stored");
    assert_eq!(error.code(), ErrorCode::NotEnabled);
    let mut request = AddRequest::new(stripe(&registry, SECRET_1), Mode::Apply);
    request.if_stored = IfStored::Refuse;
    project.add(&request).expect("first create");
    let error = project.add(&request).expect_err("second create");
    assert_eq!(error.code(), ErrorCode::AlreadyExists);
}

/// `--no-secret-env` semantics: no file holds the secret, so a changed secret gives an
/// up-to-date plan, and the store must still take it.
#[test]
fn without_secret_env_a_changed_secret_is_still_stored() {
    let registry = Registry::builtin().expect("registry");
    let mut service = service();
    let dir = sample_app();
    let mut project = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR);
    let request = |secret| {
        let mut r = AddRequest::new(stripe(&registry, secret), Mode::Apply);
        r.options.write_secret_env = false;
        r
    };
    project.add(&request(SECRET_1)).expect("add");
    let same = project.add(&request(SECRET_1)).expect("same");
    assert_eq!(
        same.store.as_ref().map(StoreWrite::action),
        Some("unchanged")
    );
    let changed = project.add(&request(SECRET_2)).expect("changed");
    assert_eq!(changed.to_json(false)["kind"], "upToDate");
    assert_eq!(
        changed.store.as_ref().map(StoreWrite::action),
        Some("rotated")
    );
    assert_eq!(
        stored_config(&mut service).expect("stored")["secretKey"],
        SECRET_2
    );
    assert!(!files(dir.path()).values().any(|bytes| {
        bytes
            .windows(SECRET_2.len())
            .any(|w| w == SECRET_2.as_bytes())
    }));
}

#[test]
fn remove_refuses_an_active_instance_then_deletes_code_and_credentials() {
    let registry = Registry::builtin().expect("registry");
    let mut service = service();
    let dir = sample_app();
    let before = files(dir.path());
    let mut project = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR);
    let added = project
        .add(&AddRequest::new(stripe(&registry, SECRET_1), Mode::Apply))
        .expect("add");
    let id = added.store.expect("stored").record().id.clone();
    let error = project
        .set_enabled("stripe", true)
        .expect_err("not validated");
    assert_eq!(error.code(), ErrorCode::IllegalTransition);
    service
        .record_validation(&id, true, &json!({"success": true}), ACTOR)
        .expect("validated");
    let mut project = StoredProject::new(&registry, &mut service, dir.path(), PROJECT, ACTOR);
    let switched = project.set_enabled("stripe", true).expect("enable");
    assert_eq!(
        (switched.previous, switched.record.status),
        (Status::Validated, Status::Active)
    );
    let error = project
        .remove("stripe", PlanOptions::default(), Mode::Apply, false)
        .expect_err("active");
    assert!(
        matches!(error, ProtocolError::MustDisableFirst { .. }),
        "{error:?}"
    );
    let removed = project
        .remove("stripe", PlanOptions::default(), Mode::Apply, true)
        .expect("remove");
    assert_eq!(
        removed.removed.as_ref().map(|r| r.status),
        Some(Status::Removed)
    );
    assert_eq!(
        removed.to_json("stripe", false)["store"]["action"],
        "removed"
    );
    assert_eq!(files(dir.path()), before);
    assert!(service.find(PROJECT, "stripe").expect("find").is_none());
    assert_eq!(
        service
            .store()
            .credential_versions(&id)
            .expect("versions")
            .len(),
        0
    );
}
