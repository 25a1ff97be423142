//! Secrets in memory and at rest: zeroizing secret types ([`secret`]) and the envelope-encryption
//! vault with its key providers ([`vault`]).
//!
//! The crypto layer: it depends on nothing but [`crate::clock`], never on the catalogue, the
//! project or the store.

pub mod secret;
pub mod vault;
