//! The catalogue as hosts show it: a connector's summary (the PRD's `GET /api/v1/connectors`
//! item), the JSON documents of `list` and `search` (the same in the CLI, Node and C) and the
//! report of a config check (the CLI's `check-config --json`, Node's `validateConfig`).
//!
//! ```
//! use mobigen_connectors::Registry;
//! use mobigen_connectors::catalog::summary;
//!
//! let registry = Registry::builtin()?;
//! let list = summary::list_json(&registry, None);
//! assert_eq!(list["connectors"][0]["id"], "firebase");
//! assert_eq!(list["connectors"][0]["authType"], "config-json");
//! let found = summary::search_json(&registry, "strpe");
//! assert_eq!(found["results"][0]["id"], "stripe");
//! assert!(found["results"][0]["score"].as_u64().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::connector::Connector;
use crate::catalog::definition::{AuthType, Category, ConnectorDefinition, SetupDifficulty};
use crate::catalog::registry::Registry;

/// A connector's summary: who it is, what it does and how hard it is to set up.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary<'a> {
    /// The connector id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// One-line description.
    pub description: &'a str,
    /// The catalogue category.
    pub category: Category,
    /// Logo URL or path.
    pub logo: &'a str,
    /// The preferred way to authenticate (the first of `auth_types`).
    pub auth_type: Option<&'a AuthType>,
    /// Every supported way to authenticate.
    pub auth_types: &'a [AuthType],
    /// What the connector adds to an app.
    pub capabilities: &'a [String],
    /// How much work setting it up takes.
    pub setup_difficulty: SetupDifficulty,
}

impl<'a> Summary<'a> {
    /// The summary of `definition`.
    pub fn of(definition: &'a ConnectorDefinition) -> Summary<'a> {
        Summary {
            id: &definition.id,
            name: &definition.name,
            description: &definition.description,
            category: definition.category,
            logo: &definition.logo,
            auth_type: definition.auth_types.first(),
            auth_types: &definition.auth_types,
            capabilities: &definition.capabilities,
            setup_difficulty: definition.setup_difficulty,
        }
    }
}

/// `{"connectors": [Summary]}` for every connector of `category` (all when `None`), by id.
pub fn list_json(registry: &Registry, category: Option<Category>) -> Value {
    let list: Vec<Summary<'_>> = registry
        .list(category)
        .iter()
        .map(|c| Summary::of(c.definition()))
        .collect();
    json!({ "connectors": list })
}

/// `{"query", "results": [Summary + "score"]}`, best first (see [`Registry::search`]).
pub fn search_json(registry: &Registry, query: &str) -> Value {
    #[derive(Serialize)]
    struct Hit<'a> {
        #[serde(flatten)]
        summary: Summary<'a>,
        score: u32,
    }
    let results: Vec<Hit<'_>> = registry
        .search(query)
        .iter()
        .map(|hit| Hit {
            summary: Summary::of(hit.connector.definition()),
            score: hit.score,
        })
        .collect();
    json!({ "query": query, "results": results })
}

/// The report of checking `config` against `connector`: `{"valid": true, "connector", "config"
/// (defaults filled, secrets redacted), "features", "issues" (warnings)}`, or `{"valid": false,
/// "connector", "issues"}` with every problem.
pub fn config_report_json(connector: &Connector, config: &Value) -> Value {
    match connector.validate_config(config) {
        Ok(valid) => json!({
            "valid": true,
            "connector": connector.id(),
            "config": valid.redacted(),
            "features": connector.definition().enabled_features(valid.redacted()),
            "issues": valid.warnings(),
        }),
        Err(error) => json!({
            "valid": false,
            "connector": connector.id(),
            "issues": error.issues,
        }),
    }
}
