//! The registry of connectors: the built-in five, embedded at build time, plus any a host loads
//! from a folder at run time.
//!
//! A connector folder holds `manifest.json` and the template files it names. Loading checks the
//! manifest against the meta-schema (`connectors/schema.json`), then the rules a schema cannot say
//! ([`crate::catalog::definition`]), and compiles the connector's config schema once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::catalog::connector::{Connector, MANIFEST_FILE, Origin};
use crate::catalog::definition::Category;
pub use crate::catalog::error::{ManifestProblem, RegistryError};
use crate::catalog::search;

static BUILTIN_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/connectors");

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
            .filter(|c| category.is_none_or(|cat| c.definition().category == cat))
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
