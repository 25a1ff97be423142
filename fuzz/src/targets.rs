//! The target bodies, one module per target.

pub mod config;
pub mod inject;
pub mod json_edit;
pub mod manifest;
pub mod vault;
