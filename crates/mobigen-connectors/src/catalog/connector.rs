//! One loaded, checked connector: its definition, its templates and its compiled config schema.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::catalog::definition::ConnectorDefinition;
use crate::catalog::error::{ManifestProblem, RegistryError};
use crate::catalog::manifest_check;

/// File name of a connector's manifest inside its folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// A loaded, checked connector: its definition, its template files and its compiled config schema.
#[derive(Debug)]
pub struct Connector {
    definition: ConnectorDefinition,
    templates: BTreeMap<String, String>,
    config_validator: jsonschema::Validator,
    origin: Origin,
}

/// Where a connector was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the library at build time.
    Builtin,
    /// Loaded at run time from this folder.
    Dir(PathBuf),
}

impl Connector {
    /// Loads and checks one connector folder (`manifest.json` plus templates).
    ///
    /// # Errors
    /// [`RegistryError::Io`] when a file cannot be read, [`RegistryError::Json`] for malformed JSON
    /// and [`RegistryError::Invalid`] with every problem (JSON pointer and reason) otherwise.
    pub fn from_dir(dir: &Path) -> Result<Connector, RegistryError> {
        let manifest_path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&manifest_path).map_err(|source| RegistryError::Io {
            path: manifest_path.clone(),
            source,
        })?;
        let folder_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        Connector::from_parts(
            &manifest_path,
            &text,
            folder_name,
            |source| {
                let path = dir.join(source);
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
            },
            Origin::Dir(dir.to_path_buf()),
        )
    }

    pub(crate) fn from_parts(
        manifest_path: &Path,
        text: &str,
        folder_name: &str,
        mut read_template: impl FnMut(&str) -> Result<String, String>,
        origin: Origin,
    ) -> Result<Connector, RegistryError> {
        let raw: Value = serde_json::from_str(text).map_err(|e| RegistryError::Json {
            path: manifest_path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let invalid = |problems| RegistryError::Invalid {
            path: manifest_path.to_path_buf(),
            problems,
        };
        let problems = manifest_check::check_against_meta_schema(&raw);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
        let definition: ConnectorDefinition = serde_json::from_value(raw).map_err(|e| {
            invalid(vec![ManifestProblem {
                pointer: String::new(),
                reason: e.to_string(),
            }])
        })?;
        let mut problems = manifest_check::check_definition(&definition);
        if definition.id != folder_name {
            problems.push(ManifestProblem {
                pointer: "/id".into(),
                reason: format!(
                    "id `{}` differs from its folder name `{folder_name}`",
                    definition.id
                ),
            });
        }
        let mut templates = BTreeMap::new();
        for (index, template) in definition.templates.iter().enumerate() {
            if !manifest_check::is_safe_relative_path(&template.source) {
                continue; // reported by check_definition
            }
            match read_template(&template.source) {
                Ok(body) => {
                    templates.insert(template.source.clone(), body);
                }
                Err(reason) => problems.push(ManifestProblem {
                    pointer: format!("/templates/{index}/source"),
                    reason: format!("template cannot be read: {reason}"),
                }),
            }
        }
        problems.extend(manifest_check::check_client_code(&definition, &templates));
        problems.extend(manifest_check::check_secret_env_is_read(
            &definition,
            &templates,
        ));
        problems.extend(manifest_check::check_templates(&definition, &templates));
        problems.extend(manifest_check::check_root_contribution(&definition));
        let config_validator = match jsonschema::validator_for(&definition.config_schema) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.push(ManifestProblem {
                    pointer: "/configSchema".into(),
                    reason: format!("not a valid JSON Schema: {}", e.masked()),
                });
                None
            }
        };
        match config_validator {
            Some(config_validator) if problems.is_empty() => Ok(Connector {
                definition,
                templates,
                config_validator,
                origin,
            }),
            _ => Err(invalid(problems)),
        }
    }

    /// The connector's definition.
    pub fn definition(&self) -> &ConnectorDefinition {
        &self.definition
    }

    /// The connector's id.
    pub fn id(&self) -> &str {
        &self.definition.id
    }

    /// The text of a template named by its `source` path in the manifest.
    pub fn template(&self, source: &str) -> Option<&str> {
        self.templates.get(source).map(String::as_str)
    }

    /// Where the connector came from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub(crate) fn config_validator(&self) -> &jsonschema::Validator {
        &self.config_validator
    }
}
