//! The connector catalogue: connectors defined as data, checked when they load, found by id or
//! by search, and the configs users give them.
//!
//! - [`definition`]: the serde types of a manifest.
//! - [`manifest_check`]: what the meta-schema cannot say (every field classified, safe paths,
//!   templates and root contributions that render to code that parses).
//! - [`connector`]: one loaded connector; [`registry`]: the built-in ones plus folders loaded at
//!   run time; [`search`]: ranked, typo-tolerant search; [`error`]: why loading failed.
//! - [`template`]: the template language of generated files.
//! - [`config`]: a user's config checked against a connector ([`config::ValidConfig`]);
//!   [`secret_config`]: a valid config split into public values and secret fields.
//! - [`summary`]: the summaries and the `list` / `search` documents every host shows.
//!
//! Depends on the code layer ([`crate::edit`]) only to check that what a connector contributes
//! parses, and on [`crate::secrets::secret`] for the secret types.

pub mod config;
pub mod connector;
pub mod definition;
pub mod error;
pub mod manifest_check;
pub mod registry;
pub mod search;
pub mod secret_config;
pub mod summary;
pub mod template;
