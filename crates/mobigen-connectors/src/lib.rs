//! Mobigen connectors: add third-party services (Stripe, Firebase, Supabase, RevenueCat,
//! OneSignal, ...) to Expo / React Native apps, safely and reversibly.
//!
//! Connectors are data: each is a folder with a `manifest.json` ([`definition`]) and templates,
//! embedded at build time or loaded at run time into a [`Registry`]. A user's config is checked
//! with [`Connector::validate_config`].
//!
//! ```
//! use mobigen_connectors::Registry;
//!
//! let registry = Registry::builtin()?;
//! let stripe = registry.lookup("stripe")?;
//! let config = serde_json::json!({
//!     "publishableKey": "pk_test_51Hx",
//!     "secretKey": "sk_test_51Hx",
//! });
//! let valid = stripe.validate_config(&config)?;
//! assert_eq!(valid.values()["currency"], "usd");
//! // Secret values never show in Debug output.
//! assert!(!format!("{valid:?}").contains("sk_test_51Hx"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod apply;
pub mod clock;
pub mod config;
pub mod definition;
pub mod edit_env;
pub mod edit_json;
pub mod generate;
pub mod inject;
pub mod lockfile;
mod manifest_check;
#[cfg(feature = "net")]
pub mod net;
pub mod ops;
pub mod plan;
pub mod project;
pub mod registry;
pub mod search;
pub mod secret;
pub mod store;
pub mod template;
pub mod vault;

pub use config::{ConfigError, ConfigIssue, ValidConfig};
pub use definition::ConnectorDefinition;
pub use inject::InjectError;
pub use manifest_check::META_SCHEMA;
pub use registry::{Connector, ManifestProblem, Origin, Registry, RegistryError};
pub use search::SearchHit;
