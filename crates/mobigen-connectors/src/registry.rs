//! The registry of connectors: the built-in five, embedded at build time, plus any a host loads
//! from a folder at run time.
//!
//! A connector folder holds `manifest.json` and the template files it names. Loading checks the
//! manifest against the meta-schema (`connectors/schema.json`), then the rules a schema cannot say
//! ([`crate::definition`]), and compiles the connector's config schema once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde_json::Value;

use crate::definition::{Category, ConnectorDefinition};
use crate::manifest_check;
use crate::search;

static BUILTIN_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../connectors");

/// File name of a connector's manifest inside its folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Why a connector could not be loaded, registered or found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The manifest is not valid JSON.
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    Json {
        /// The manifest.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The manifest breaks the meta-schema or a definition rule.
    #[error("{path}: invalid connector manifest:{}", format_problems(problems))]
    Invalid {
        /// The manifest.
        path: PathBuf,
        /// Every problem found, each with its JSON pointer.
        problems: Vec<ManifestProblem>,
    },
    /// A connector with this id is already registered.
    #[error("connector `{id}` is already registered")]
    Duplicate {
        /// The id.
        id: String,
    },
    /// No connector has this id.
    #[error("unknown connector `{id}`{}", did_you_mean(suggestion.as_deref()))]
    Unknown {
        /// The id asked for.
        id: String,
        /// The closest known id, if any is close.
        suggestion: Option<String>,
    },
}

/// One problem in a manifest: where (JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestProblem {
    /// JSON pointer into the manifest (`/fields/~1secretKey/env`); empty for the whole document.
    pub pointer: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ManifestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.reason)
    }
}

fn format_problems(problems: &[ManifestProblem]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

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

    fn from_parts(
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

/// The set of known connectors, keyed by id.
#[derive(Debug, Default)]
pub struct Registry {
    connectors: BTreeMap<String, Connector>,
}

impl Registry {
    /// An empty registry.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// A registry holding the built-in connectors (stripe, firebase, supabase, revenuecat,
    /// onesignal).
    ///
    /// # Errors
    /// Only if an embedded manifest is broken, which the test suite rules out for every release.
    pub fn builtin() -> Result<Registry, RegistryError> {
        let mut registry = Registry::empty();
        for connector in builtin_connectors()? {
            registry.register(connector)?;
        }
        Ok(registry)
    }

    /// The built-in connectors plus every connector folder found directly under `dir`.
    ///
    /// # Errors
    /// As [`Registry::load_dir`].
    pub fn from_dir(dir: &Path) -> Result<Registry, RegistryError> {
        let mut registry = Registry::builtin()?;
        registry.load_dir(dir)?;
        Ok(registry)
    }

    /// Loads every sub-folder of `dir` that holds a `manifest.json` and registers it. Nothing is
    /// registered unless every folder loads.
    ///
    /// Returns the ids loaded, sorted.
    ///
    /// # Errors
    /// The first folder that fails to load ([`Connector::from_dir`]) or whose id is taken
    /// ([`RegistryError::Duplicate`]).
    pub fn load_dir(&mut self, dir: &Path) -> Result<Vec<String>, RegistryError> {
        let io = |source| RegistryError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut folders = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.join(MANIFEST_FILE).is_file() {
                folders.push(path);
            }
        }
        folders.sort();
        let mut loaded = Vec::with_capacity(folders.len());
        for folder in &folders {
            let connector = Connector::from_dir(folder)?;
            if self.connectors.contains_key(connector.id())
                || loaded.iter().any(|c: &Connector| c.id() == connector.id())
            {
                return Err(RegistryError::Duplicate {
                    id: connector.id().to_string(),
                });
            }
            loaded.push(connector);
        }
        let ids = loaded.iter().map(|c| c.id().to_string()).collect();
        for connector in loaded {
            self.connectors
                .insert(connector.id().to_string(), connector);
        }
        Ok(ids)
    }

    /// Adds a connector.
    ///
    /// # Errors
    /// [`RegistryError::Duplicate`] when its id is already registered.
    pub fn register(&mut self, connector: Connector) -> Result<(), RegistryError> {
        if self.connectors.contains_key(connector.id()) {
            return Err(RegistryError::Duplicate {
                id: connector.id().to_string(),
            });
        }
        self.connectors
            .insert(connector.id().to_string(), connector);
        Ok(())
    }

    /// The connector with this id, if any.
    pub fn get(&self, id: &str) -> Option<&Connector> {
        self.connectors.get(id)
    }

    /// The connector with this id.
    ///
    /// # Errors
    /// [`RegistryError::Unknown`] with the closest known id as a suggestion.
    pub fn lookup(&self, id: &str) -> Result<&Connector, RegistryError> {
        self.get(id).ok_or_else(|| RegistryError::Unknown {
            id: id.to_string(),
            suggestion: search::closest_id(self.connectors.keys().map(String::as_str), id)
                .map(str::to_string),
        })
    }

    /// All connectors, or those of one category, sorted by id.
    pub fn list(&self, category: Option<Category>) -> Vec<&Connector> {
        self.connectors
            .values()
            .filter(|c| category.is_none_or(|cat| c.definition.category == cat))
            .collect()
    }

    /// Connectors matching `query`, best first: id and name matches rank before capabilities,
    /// which rank before the description. Case-insensitive and typo tolerant.
    pub fn search(&self, query: &str) -> Vec<search::SearchHit<'_>> {
        search::search(self.connectors.values(), query)
    }

    /// Number of registered connectors.
    pub fn len(&self) -> usize {
        self.connectors.len()
    }

    /// Whether no connector is registered.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty()
    }
}

/// The built-in connectors, loaded from the embedded `connectors/` folder.
fn builtin_connectors() -> Result<Vec<Connector>, RegistryError> {
    let mut out = Vec::new();
    for folder in BUILTIN_DIR.dirs() {
        let Some(manifest) = folder.get_file(folder.path().join(MANIFEST_FILE)) else {
            continue;
        };
        let folder_name = folder
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = manifest
            .contents_utf8()
            .ok_or_else(|| RegistryError::Json {
                path: builtin_path(manifest.path()),
                line: 1,
                column: 1,
                message: "not UTF-8".into(),
            })?;
        let connector = Connector::from_parts(
            &builtin_path(manifest.path()),
            text,
            folder_name,
            |source| {
                folder
                    .get_file(folder.path().join(source))
                    .and_then(|f| f.contents_utf8())
                    .map(str::to_string)
                    .ok_or_else(|| format!("{source}: missing or not UTF-8"))
            },
            Origin::Builtin,
        )?;
        out.push(connector);
    }
    Ok(out)
}

fn builtin_path(relative: &Path) -> PathBuf {
    Path::new("connectors").join(relative)
}
