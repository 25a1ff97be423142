//! Mobigen connectors: add third-party services (Stripe, Firebase, Supabase, RevenueCat,
//! OneSignal, ...) to Expo / React Native apps, safely and reversibly.
//!
//! Connectors are data: each is a folder with a `manifest.json` ([`catalog::definition`]) and templates,
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
//! assert_eq!(valid.redacted()["currency"], "usd");
//! // Secret values never show in Debug output.
//! assert!(!format!("{valid:?}").contains("sk_test_51Hx"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod catalog;
pub mod clock;
pub mod edit;
pub mod host;
#[cfg(feature = "net")]
pub mod net;
pub mod project;
pub mod secrets;
pub mod store;

pub use catalog::config::{ConfigError, ConfigIssue, ValidConfig};
pub use catalog::connector::{Connector, Origin};
pub use catalog::definition::ConnectorDefinition;
pub use catalog::error::{ManifestProblem, RegistryError};
pub use catalog::manifest_check::META_SCHEMA;
pub use catalog::registry::Registry;
pub use catalog::search::SearchHit;
pub use edit::code::InjectError;
