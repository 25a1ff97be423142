//! One module per group of commands; `main.rs` parses the command line and calls them.
//!
//! - [`catalog`]: `list`, `search`, `show`, `check-config`.
//! - [`project`]: `add`, `remove`, `status` (code injection and the store).
//! - [`credentials`]: `credentials rotate|show`, `enable`, `disable`.
//! - [`keys`]: `keys list|rotate|rewrap`, `audit`.
//! - [`net`]: `validate`, `test`, `oauth begin|complete`.

pub(crate) mod catalog;
pub(crate) mod credentials;
pub(crate) mod keys;
pub(crate) mod net;
pub(crate) mod project;
