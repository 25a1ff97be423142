//! Why a connector could not be loaded, registered or found, and one problem in a manifest.

use std::path::PathBuf;

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
