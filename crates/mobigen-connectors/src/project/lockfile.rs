//! The lock file `.mobigen/connectors.lock.json`: what the library added to a project, so that
//! removal and `status` work from a record instead of a guess.
//!
//! It holds no secret value, no timestamp, no random id and no absolute path: the same inputs
//! give the same bytes on any machine. Keys are sorted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::edit::code::app_config::PluginsInsertion;
use crate::edit::code::root::Insertion;
use crate::edit::env::GitignoreChange;
use crate::edit::json::{DepChange, DepRequest, PluginChange, PluginRequest, SetChange};

/// Format version written by this library.
pub const LOCK_VERSION: u32 = 1;

/// The whole lock file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockFile {
    /// Format version.
    pub version: u32,
    /// Enabled connectors by id.
    pub connectors: BTreeMap<String, ConnectorEntry>,
    /// Edits shared by all enabled connectors.
    pub project: ProjectEdits,
}

/// What one enabled connector needs and owns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorEntry {
    /// SHA-256 (16 hex digits) of the validated config with secret values redacted: tells "same
    /// public config" from "changed" (secret changes show in `.env.local`).
    pub config_hash: String,
    /// Features on.
    pub features: Vec<String>,
    /// Generated files it owns: path -> content hash of the body.
    pub files: BTreeMap<String, String>,
    /// Files it wrote from config values (`google-services.json`): path -> content hash of the
    /// whole file. A file that was already there with the same contents is not listed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config_files: BTreeMap<String, String>,
    /// npm packages it needs (resolved versions).
    pub dependencies: Vec<DepRequest>,
    /// app.json plugin entries it needs (options resolved).
    pub plugins: Vec<PluginRequest>,
    /// app.json settings it needs (path inside the Expo config, value).
    pub settings: Vec<Setting>,
    /// Env keys written to `.env` (public values).
    pub public_env: Vec<String>,
    /// Env keys written to `.env.local` (secret values); empty with `--no-secret-env`.
    pub secret_env: Vec<String>,
    /// Whether secret values were kept out of `.env.local` (`--no-secret-env`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secrets_not_written: bool,
}

/// A value a connector sets in the Expo config (`web.output = "server"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Setting {
    /// Keys inside the Expo config.
    pub path: Vec<String>,
    /// The value.
    pub value: serde_json::Value,
}

/// Edits made on behalf of the whole set of enabled connectors.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectEdits {
    /// The root file and what was inserted into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<RootRecord>,
    /// Content hash of the generated root module's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_module_hash: Option<String>,
    /// What was done to package.json.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub package_json: Vec<DepChange>,
    /// What was done to app.json plugins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_json_plugins: Vec<PluginChange>,
    /// What was done to other app.json settings, in the order applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_json_settings: Vec<SetChange>,
    /// Plugin entries inserted into the `plugins` array literal of the dynamic app config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_config_plugins: Option<AppConfigRecord>,
    /// What was done to .gitignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitignore: Option<GitignoreChange>,
    /// Shared files (env files, .gitignore) that did not exist before the first connector; they
    /// are deleted again when they end up empty.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub created_files: std::collections::BTreeSet<String>,
}

/// The insertion into the dynamic app config's `plugins` array literal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppConfigRecord {
    /// The edited file (`app.config.ts` ...).
    pub file: String,
    /// What was inserted.
    pub insertion: PluginsInsertion,
}

/// The root file edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RootRecord {
    /// The edited file, relative to the project.
    pub file: String,
    /// The snippets inserted.
    pub insertions: Vec<Insertion>,
    /// The file is an Expo Router root layout the library created (the app had none): it is
    /// owned (generated-file header) and deleted with the last connector.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub created: bool,
}

/// Why a lock file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockFileError {
    /// It does not parse, or has unknown fields.
    #[error(
        "{}:{line}:{column}: the lock file is damaged ({message}); restore it from version control",
        crate::project::snapshot::LOCK_FILE
    )]
    Damaged {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// It was written by a newer library.
    #[error(
        "{}: lock file version {found} is newer than this library understands ({LOCK_VERSION}); upgrade mobigen-connectors",
        crate::project::snapshot::LOCK_FILE
    )]
    NewerVersion {
        /// The version found.
        found: u32,
    },
}

impl LockFile {
    /// Parses a lock file.
    ///
    /// # Errors
    /// [`LockFileError`] for a damaged or newer file.
    pub fn parse(text: &str) -> Result<LockFile, LockFileError> {
        let lock: LockFile = serde_json::from_str(text).map_err(|e| LockFileError::Damaged {
            line: e.line(),
            column: e.column(),
            message: e
                .to_string()
                .rsplit_once(" at line ")
                .map_or(e.to_string(), |(m, _)| m.to_string()),
        })?;
        if lock.version > LOCK_VERSION {
            return Err(LockFileError::NewerVersion {
                found: lock.version,
            });
        }
        Ok(lock)
    }

    /// The lock file's text: pretty JSON with a final newline.
    pub fn to_text(&self) -> String {
        // Serialising plain data (strings, numbers, maps) cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
