//! Changing an app: a snapshot of its files, the files connectors generate, a pure plan of every
//! change, and an all-or-nothing apply with a journal and a lock.
//!
//! - [`snapshot`]: the project's files read once; where the root component is.
//! - [`generate`]: generated files with their ownership header.
//! - [`lockfile`]: `.mobigen/connectors.lock.json`, what `remove` and `status` work from.
//! - [`plan`]: `plan_add` / `plan_remove`, pure.
//! - [`apply`]: staging, backups, journal, renames, rollback, the project lock.
//! - [`ops`]: `add` / `remove` / `status` on a folder: lock, recover, read, plan, apply.

pub mod apply;
pub mod generate;
pub mod lockfile;
pub mod ops;
pub mod plan;
pub mod snapshot;
