//! Format-preserving edits to `.env`, `.env.local` and `.gitignore`.
//!
//! Each connector's values live in one marked block:
//!
//! ```text
//! # >>> mobigen:stripe (generated; edit values in the connector config)
//! EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_51Hx
//! # <<< mobigen:stripe
//! ```
//!
//! Public values (`EXPO_PUBLIC_*`) go to `.env` ([`EnvTarget::Public`]), secret values to
//! `.env.local` without the public prefix ([`EnvTarget::Secret`]), which [`ensure_gitignore`]
//! keeps out of git. Blocks are kept in connector-id order, separated by one blank line, at the
//! end of the file, so the file depends only on the set of connectors (I5). Inserting a block and
//! removing it are exact inverses: the bytes before (line endings, final newline or its absence)
//! come back (I3). A key the user already has with another value is a conflict, never
//! overwritten; with the same value it is reused, not duplicated.
//!
//! Error messages name files and keys, never values (values may be secrets).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Prefix Expo inlines into the client bundle; secret values must never use it.
pub const PUBLIC_ENV_PREFIX: &str = "EXPO_PUBLIC_";

/// Why an env edit was refused. Nothing is changed on error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvEditError {
    /// The user's file already sets the key to another value.
    #[error(
        "{file}:{line}: `{key}` is already set to a different value; remove that line or make the connector config match it, then try again"
    )]
    Conflict {
        /// File name.
        file: String,
        /// Key name.
        key: String,
        /// 1-based line of the existing assignment.
        line: usize,
    },
    /// Another connector's block sets the same key.
    #[error(
        "{file}: `{key}` is set by connector `{other}` as well as `{connector}`; give one of them another variable name"
    )]
    ConnectorConflict {
        /// File name.
        file: String,
        /// Key name.
        key: String,
        /// The connector being added.
        connector: String,
        /// The connector whose block has the key.
        other: String,
    },
    /// A block start marker without its end marker (or the reverse, or a duplicated block).
    #[error(
        "{file}:{line}: the mobigen block for `{connector}` is damaged (missing or repeated marker); restore both `# >>> mobigen:{connector}` and `# <<< mobigen:{connector}` lines or delete the block, then try again"
    )]
    DamagedBlock {
        /// File name.
        file: String,
        /// 1-based line of the marker.
        line: usize,
        /// Connector id in the marker.
        connector: String,
    },
    /// The key is not a valid variable name, or has the wrong prefix for the file.
    #[error("{file}: `{key}` cannot be written here: {reason}")]
    InvalidKey {
        /// File name.
        file: String,
        /// Key name.
        key: String,
        /// Why.
        reason: &'static str,
    },
    /// The value contains every dotenv quote character and a newline, so it cannot be written.
    #[error(
        "{file}: the value for `{key}` cannot be written to a dotenv file (it mixes quotes, backticks and line breaks); set it in the environment instead"
    )]
    UnrepresentableValue {
        /// File name.
        file: String,
        /// Key name.
        key: String,
    },
    /// The connector id cannot be used in a marker.
    #[error("`{connector}` is not a valid connector id for an env block (use a-z, 0-9, `-`, `_`)")]
    InvalidConnector {
        /// The id.
        connector: String,
    },
}

/// Which env file a set of values goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EnvTarget {
    /// `.env`: public values, keys must start with `EXPO_PUBLIC_`.
    Public,
    /// `.env.local` (git-ignored): secret values, keys must not start with `EXPO_PUBLIC_`.
    Secret,
}

impl EnvTarget {
    /// The file name (`.env` or `.env.local`).
    pub fn file_name(self) -> &'static str {
        match self {
            EnvTarget::Public => ".env",
            EnvTarget::Secret => ".env.local",
        }
    }
}

/// One variable to write. `Debug` does not show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// Variable name.
    pub key: String,
    /// Value (possibly secret).
    pub value: String,
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVar")
            .field("key", &self.key)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// What [`set_env_block`] did; kept in the lock file (key names only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvChange {
    /// The connector.
    pub connector: String,
    /// What happened to its block.
    pub outcome: EnvOutcome,
    /// Keys written into the block.
    pub written: Vec<String>,
    /// Keys the user already had with the same value (not written again).
    pub reused: Vec<String>,
}

/// What happened to a connector's block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum EnvOutcome {
    /// A new block was inserted.
    Added,
    /// The block existed with other content and was rewritten in place.
    Updated,
    /// The block (or, when every key was reused, its absence) was already right.
    AlreadyPresent,
    /// Every key was reused, and an old block of this connector was removed.
    Removed,
}

const START: &str = "# >>> mobigen:";
const END: &str = "# <<< mobigen:";

fn start_marker(connector: &str) -> String {
    format!("{START}{connector} (generated; edit values in the connector config)")
}

fn end_marker(connector: &str) -> String {
    format!("{END}{connector}")
}

/// A line of the file: byte range without its line ending, and the range including it.
#[derive(Debug, Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
}

fn lines(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            out.push(Line { start, end });
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(Line {
            start,
            end: text.len(),
        });
    }
    out
}

/// A connector block: byte range from the start of its first line to the end of its last line
/// (without the final line ending).
#[derive(Debug, Clone)]
struct Block {
    connector: String,
    start: usize,
    end: usize,
    first_line: usize,
    last_line: usize,
}

fn find_blocks(file: &str, text: &str) -> Result<(Vec<Block>, Vec<Line>), EnvEditError> {
    let lines = lines(text);
    let mut blocks: Vec<Block> = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for (n, line) in lines.iter().enumerate() {
        let content = &text[line.start..line.end];
        if let Some(rest) = content.strip_prefix(START) {
            let id = rest.split_whitespace().next().unwrap_or("").to_owned();
            if let Some((other, at)) = open.take() {
                return Err(damaged(file, at, &other));
            }
            if blocks.iter().any(|b| b.connector == id) {
                return Err(damaged(file, n, &id));
            }
            open = Some((id, n));
        } else if let Some(rest) = content.strip_prefix(END) {
            let id = rest.trim().to_owned();
            match open.take() {
                Some((open_id, at)) if open_id == id => blocks.push(Block {
                    connector: id,
                    start: lines[at].start,
                    end: line.end,
                    first_line: at,
                    last_line: n,
                }),
                Some((open_id, at)) => return Err(damaged(file, at, &open_id)),
                None => return Err(damaged(file, n, &id)),
            }
        }
    }
    if let Some((id, at)) = open {
        return Err(damaged(file, at, &id));
    }
    Ok((blocks, lines))
}

fn damaged(file: &str, line: usize, connector: &str) -> EnvEditError {
    EnvEditError::DamagedBlock {
        file: file.to_owned(),
        line: line + 1,
        connector: connector.to_owned(),
    }
}

fn eol_of(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// Formats a value for a dotenv file (as read by Expo's `@expo/env`): bare when it is plain,
/// otherwise single quotes (literal, no `$` expansion), double quotes when it has a single quote
/// or a line break (`\n` escapes), backticks as a last resort.
///
/// # Errors
///
/// [`EnvEditError::UnrepresentableValue`] when no quoting can hold the value.
pub fn format_value(file: &str, key: &str, value: &str) -> Result<String, EnvEditError> {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.:/+=@,%~^*!?&()[]{}<>|;".contains(c));
    if plain {
        return Ok(value.to_owned());
    }
    let has_break = value.contains('\n') || value.contains('\r');
    if !value.contains('\'') && !has_break {
        return Ok(format!("'{value}'"));
    }
    if !value.contains('"') && !value.contains("\\n") && !value.contains("\\r") {
        let escaped = value.replace('\n', "\\n").replace('\r', "\\r");
        return Ok(format!("\"{escaped}\""));
    }
    if !value.contains('`') {
        return Ok(format!("`{value}`"));
    }
    Err(EnvEditError::UnrepresentableValue {
        file: file.to_owned(),
        key: key.to_owned(),
    })
}

/// The value of an assignment line as dotenv reads it (`KEY=value`, `export KEY="v" # note`).
fn parse_assignment(line: &str) -> Option<(&str, String)> {
    let line = line.trim_start();
    if line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, rest) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    let rest = rest.trim();
    for q in ['\'', '"', '`'] {
        if let Some(inner) = rest.strip_prefix(q)
            && let Some(close) = inner.rfind(q)
        {
            let inner = &inner[..close];
            return Some((
                key,
                if q == '"' {
                    inner.replace("\\n", "\n").replace("\\r", "\r")
                } else {
                    inner.to_owned()
                },
            ));
        }
    }
    let value = match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    };
    Some((key, value.trim().to_owned()))
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn valid_connector(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Writes (or rewrites) `connector`'s block in the text of an env file. Keys the file already
/// sets outside any block to the same value are reused and left out of the block; with another
/// value they are a conflict. The block goes at its place in connector-id order. When every key
/// is reused no block is written.
///
/// # Errors
///
/// [`EnvEditError::Conflict`] / [`EnvEditError::ConnectorConflict`] for a key set elsewhere,
/// [`EnvEditError::InvalidKey`] for a bad name or a public/secret prefix mismatch,
/// [`EnvEditError::DamagedBlock`] when markers are missing or repeated,
/// [`EnvEditError::UnrepresentableValue`], [`EnvEditError::InvalidConnector`].
pub fn set_env_block(
    target: EnvTarget,
    text: &str,
    connector: &str,
    vars: &[EnvVar],
) -> Result<(String, EnvChange), EnvEditError> {
    let file = target.file_name();
    if !valid_connector(connector) {
        return Err(EnvEditError::InvalidConnector {
            connector: connector.to_owned(),
        });
    }
    let mut vars: Vec<&EnvVar> = vars.iter().collect();
    vars.sort_by(|a, b| a.key.cmp(&b.key));
    vars.dedup_by(|a, b| a.key == b.key);
    for var in &vars {
        let reason = if !valid_key(&var.key) {
            Some("variable names use A-Z, 0-9 and `_` and do not start with a digit")
        } else if target == EnvTarget::Public && !var.key.starts_with(PUBLIC_ENV_PREFIX) {
            Some("public values in .env must use the EXPO_PUBLIC_ prefix")
        } else if target == EnvTarget::Secret && var.key.starts_with(PUBLIC_ENV_PREFIX) {
            Some(
                "secret values must not use the EXPO_PUBLIC_ prefix (it puts them in the app bundle)",
            )
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(EnvEditError::InvalidKey {
                file: file.to_owned(),
                key: var.key.clone(),
                reason,
            });
        }
    }
    let (blocks, lines) = find_blocks(file, text)?;
    let in_block = |n: usize| -> Option<&Block> {
        blocks
            .iter()
            .find(|b| b.first_line <= n && n <= b.last_line)
    };
    let mut written = Vec::new();
    let mut reused = Vec::new();
    let mut body = Vec::new();
    for var in &vars {
        let mut found = false;
        for (n, line) in lines.iter().enumerate() {
            let Some((key, value)) = parse_assignment(&text[line.start..line.end]) else {
                continue;
            };
            if key != var.key {
                continue;
            }
            match in_block(n) {
                Some(b) if b.connector == connector => {}
                Some(b) => {
                    return Err(EnvEditError::ConnectorConflict {
                        file: file.to_owned(),
                        key: var.key.clone(),
                        connector: connector.to_owned(),
                        other: b.connector.clone(),
                    });
                }
                None if value == var.value => found = true,
                None => {
                    return Err(EnvEditError::Conflict {
                        file: file.to_owned(),
                        key: var.key.clone(),
                        line: n + 1,
                    });
                }
            }
        }
        if found {
            reused.push(var.key.clone());
        } else {
            body.push(format!(
                "{}={}",
                var.key,
                format_value(file, &var.key, &var.value)?
            ));
            written.push(var.key.clone());
        }
    }
    let eol = eol_of(text);
    let existing = blocks.iter().find(|b| b.connector == connector);
    let change = |outcome| EnvChange {
        connector: connector.to_owned(),
        outcome,
        written: written.clone(),
        reused: reused.clone(),
    };
    if body.is_empty() {
        return match existing {
            Some(_) => Ok((
                remove_env_block(target, text, connector)?,
                change(EnvOutcome::Removed),
            )),
            None => Ok((text.to_owned(), change(EnvOutcome::AlreadyPresent))),
        };
    }
    let mut block_lines = vec![start_marker(connector)];
    block_lines.extend(body);
    block_lines.push(end_marker(connector));
    let block = block_lines.join(eol);
    if let Some(b) = existing {
        if text[b.start..b.end] == block {
            return Ok((text.to_owned(), change(EnvOutcome::AlreadyPresent)));
        }
        let out = format!("{}{block}{}", &text[..b.start], &text[b.end..]);
        return Ok((out, change(EnvOutcome::Updated)));
    }
    let out = insert_block(text, &blocks, connector, &block, eol);
    Ok((out, change(EnvOutcome::Added)))
}

fn insert_block(text: &str, blocks: &[Block], connector: &str, block: &str, eol: &str) -> String {
    let splice = |at: usize, insert: &str| format!("{}{insert}{}", &text[..at], &text[at..]);
    if let Some(prev) = blocks
        .iter()
        .filter(|b| b.connector.as_str() < connector)
        .max_by(|a, b| a.connector.cmp(&b.connector))
    {
        return splice(prev.end, &format!("{eol}{eol}{block}"));
    }
    if let Some(next) = blocks.iter().min_by(|a, b| a.connector.cmp(&b.connector)) {
        return splice(next.start, &format!("{block}{eol}{eol}"));
    }
    if text.is_empty() {
        format!("{block}{eol}")
    } else if text.ends_with('\n') {
        format!("{text}{eol}{block}{eol}")
    } else {
        format!("{text}{eol}{eol}{block}")
    }
}

/// Removes `connector`'s block with the separators [`set_env_block`] added, giving back the
/// bytes from before. No block: the text is returned unchanged.
///
/// # Errors
///
/// [`EnvEditError::DamagedBlock`] when markers are missing or repeated.
pub fn remove_env_block(
    target: EnvTarget,
    text: &str,
    connector: &str,
) -> Result<String, EnvEditError> {
    let file = target.file_name();
    let (blocks, _) = find_blocks(file, text)?;
    let Some(block) = blocks.iter().find(|b| b.connector == connector) else {
        return Ok(text.to_owned());
    };
    let eol = eol_of(text);
    let sep = format!("{eol}{eol}");
    let cut = |from: usize, to: usize| format!("{}{}", &text[..from], &text[to..]);
    // Neighbouring blocks, joined by exactly one blank line.
    if let Some(prev) = blocks
        .iter()
        .find(|b| b.end <= block.start && text[b.end..block.start] == sep)
    {
        return Ok(cut(prev.end, block.end));
    }
    if let Some(next) = blocks
        .iter()
        .find(|b| b.start >= block.end && text[block.end..b.start] == sep)
    {
        return Ok(cut(block.start, next.start));
    }
    let after = &text[block.end..];
    let before = &text[..block.start];
    if block.start == 0 {
        let to = block.end + if after.starts_with(eol) { eol.len() } else { 0 };
        return Ok(cut(0, to));
    }
    if before.ends_with(&sep) {
        if after.is_empty() {
            return Ok(cut(block.start - sep.len(), block.end));
        }
        if after.starts_with(eol) {
            return Ok(cut(block.start - eol.len(), block.end + eol.len()));
        }
    }
    let to = block.end + if after.starts_with(eol) { eol.len() } else { 0 };
    Ok(cut(block.start, to))
}

/// The pattern [`ensure_gitignore`] adds.
pub const GITIGNORE_PATTERN: &str = ".env*.local";

/// What [`ensure_gitignore`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum GitignoreChange {
    /// A line already ignores `.env.local`.
    AlreadyCovered {
        /// The pattern found.
        pattern: String,
    },
    /// [`GITIGNORE_PATTERN`] was appended.
    Added {
        /// Whether the file ended with a line break before (empty files count as ending so).
        had_final_newline: bool,
    },
}

/// Makes `.gitignore` ignore `.env.local` (and `.env.*.local`): an existing `.env*.local`,
/// `*.local`, `.env.local`, `.env*` or `.env.*` line is enough; otherwise `.env*.local` is
/// appended.
pub fn ensure_gitignore(text: &str) -> (String, GitignoreChange) {
    const COVERING: [&str; 5] = [".env*.local", "*.local", ".env.local", ".env*", ".env.*"];
    for line in lines(text) {
        let pattern = text[line.start..line.end].trim();
        let bare = pattern.strip_prefix('/').unwrap_or(pattern);
        if COVERING.contains(&bare) {
            return (
                text.to_owned(),
                GitignoreChange::AlreadyCovered {
                    pattern: pattern.to_owned(),
                },
            );
        }
    }
    let eol = eol_of(text);
    let had_final_newline = text.is_empty() || text.ends_with('\n');
    let out = if had_final_newline {
        format!("{text}{GITIGNORE_PATTERN}{eol}")
    } else {
        format!("{text}{eol}{GITIGNORE_PATTERN}")
    };
    (out, GitignoreChange::Added { had_final_newline })
}

/// Undoes [`ensure_gitignore`]: removes the appended line (the last line that is exactly the
/// pattern) with the line break that was added.
pub fn remove_gitignore(text: &str, change: &GitignoreChange) -> String {
    let GitignoreChange::Added { had_final_newline } = change else {
        return text.to_owned();
    };
    let all = lines(text);
    let Some(line) = all
        .iter()
        .rev()
        .find(|l| &text[l.start..l.end] == GITIGNORE_PATTERN)
    else {
        return text.to_owned();
    };
    let eol = eol_of(text);
    let after = &text[line.end..];
    if *had_final_newline {
        let to = line.end + if after.starts_with(eol) { eol.len() } else { 0 };
        format!("{}{}", &text[..line.start], &text[to..])
    } else if text[..line.start].ends_with(eol) {
        format!("{}{}", &text[..line.start - eol.len()], after)
    } else {
        format!("{}{}", &text[..line.start], after)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn var(key: &str, value: &str) -> EnvVar {
        EnvVar {
            key: key.to_owned(),
            value: value.to_owned(),
        }
    }

    fn stripe() -> Vec<EnvVar> {
        vec![var("EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_test_51Hx")]
    }

    fn supabase() -> Vec<EnvVar> {
        vec![
            var("EXPO_PUBLIC_SUPABASE_URL", "https://abc.supabase.co"),
            var("EXPO_PUBLIC_SUPABASE_KEY", "sb_publishable_x"),
        ]
    }

    fn onesignal() -> Vec<EnvVar> {
        vec![var("EXPO_PUBLIC_ONESIGNAL_APP_ID", "a b#c")]
    }

    fn set(text: &str, id: &str, vars: &[EnvVar]) -> String {
        set_env_block(EnvTarget::Public, text, id, vars)
            .expect("set")
            .0
    }

    fn remove(text: &str, id: &str) -> String {
        remove_env_block(EnvTarget::Public, text, id).expect("remove")
    }

    fn vars_of(i: usize) -> (&'static str, Vec<EnvVar>) {
        match i {
            0 => ("stripe", stripe()),
            1 => ("supabase", supabase()),
            _ => ("onesignal", onesignal()),
        }
    }

    #[test]
    fn block_layout() {
        let out = set("API_URL=x\n", "stripe", &stripe());
        assert_eq!(
            out,
            "API_URL=x\n\n# >>> mobigen:stripe (generated; edit values in the connector config)\nEXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_51Hx\n# <<< mobigen:stripe\n"
        );
        let both = set(&out, "onesignal", &onesignal());
        assert!(both.contains("# <<< mobigen:onesignal\n\n# >>> mobigen:stripe"));
        assert!(both.contains("EXPO_PUBLIC_ONESIGNAL_APP_ID='a b#c'"));
    }

    #[test]
    fn conflicts_name_file_and_key_not_value() {
        let text = "EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_live_other\n";
        let err = set_env_block(EnvTarget::Public, text, "stripe", &stripe()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with(".env:1: `EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY`"),
            "{message}"
        );
        assert!(!message.contains("pk_"));
        let same = "export EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY=\"pk_test_51Hx\" # mine\n";
        let (out, change) = set_env_block(EnvTarget::Public, same, "stripe", &stripe()).unwrap();
        assert_eq!(out, same);
        assert_eq!(
            change.reused,
            vec!["EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY".to_owned()]
        );
    }

    #[test]
    fn secrets_only_in_env_local_without_public_prefix() {
        let err = set_env_block(EnvTarget::Secret, "", "stripe", &stripe()).unwrap_err();
        assert!(matches!(err, EnvEditError::InvalidKey { .. }));
        let err = set_env_block(
            EnvTarget::Public,
            "",
            "stripe",
            &[var("STRIPE_SECRET_KEY", "sk")],
        )
        .unwrap_err();
        assert!(err.to_string().starts_with(".env: `STRIPE_SECRET_KEY`"));
        let (out, _) = set_env_block(
            EnvTarget::Secret,
            "",
            "stripe",
            &[var("STRIPE_SECRET_KEY", "sk_test_1")],
        )
        .unwrap();
        assert!(out.contains("\nSTRIPE_SECRET_KEY=sk_test_1\n"));
        assert!(!format!("{:?}", var("K", "sk_test_1")).contains("sk_test_1"));
    }

    #[test]
    fn update_in_place_and_damaged_markers() {
        let out = set("", "stripe", &stripe());
        let updated = set(
            &out,
            "stripe",
            &[var("EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY", "pk_test_2")],
        );
        assert!(updated.contains("=pk_test_2\n") && !updated.contains("51Hx"));
        let damaged = out.replace("# <<< mobigen:stripe\n", "");
        let err = set_env_block(EnvTarget::Public, &damaged, "supabase", &supabase()).unwrap_err();
        assert_eq!(
            err,
            EnvEditError::DamagedBlock {
                file: ".env".into(),
                line: 1,
                connector: "stripe".into()
            }
        );
    }

    #[test]
    fn value_quoting() {
        let f = |v: &str| format_value(".env", "K", v).unwrap();
        assert_eq!(f("pk_test_1"), "pk_test_1");
        assert_eq!(f("https://a.co/x?y=1"), "https://a.co/x?y=1");
        assert_eq!(f("a b"), "'a b'");
        assert_eq!(f("a$b"), "'a$b'");
        assert_eq!(f("it's"), "\"it's\"");
        assert_eq!(f("l1\nl2"), "\"l1\\nl2\"");
        assert_eq!(f("q\"'\n"), "`q\"'\n`");
        assert!(format_value(".env", "K", "`\"'\n").is_err());
        for v in ["a b", "a$b", "it's", "l1\nl2", "x # y", ""] {
            let line = format!("K={}", f(v));
            assert_eq!(
                parse_assignment(&line).map(|(_, v)| v).as_deref(),
                Some(v),
                "{line}"
            );
        }
    }

    #[test]
    fn gitignore_coverage() {
        for covered in [
            "node_modules\n.env*.local\n",
            "*.local\n",
            "/.env.local",
            ".env*\n",
        ] {
            let (out, change) = ensure_gitignore(covered);
            assert_eq!(out, covered);
            assert!(matches!(change, GitignoreChange::AlreadyCovered { .. }));
        }
        for text in ["", "node_modules\n", "node_modules", "a\r\nb\r\n", "a\r\nb"] {
            let (out, change) = ensure_gitignore(text);
            assert!(out.lines().any(|l| l == GITIGNORE_PATTERN));
            assert_eq!(ensure_gitignore(&out).0, out);
            assert_eq!(remove_gitignore(&out, &change), text);
        }
    }

    fn env_strategy() -> impl Strategy<Value = String> {
        let lines = proptest::collection::vec(
            prop_oneof![
                Just("API_URL=https://example.com".to_owned()),
                Just("# my settings".to_owned()),
                Just(String::new()),
                Just("EXPO_PUBLIC_SUPABASE_URL=https://abc.supabase.co".to_owned()),
                Just("export DEBUG=\"1\"".to_owned()),
            ],
            0..6,
        );
        (lines, prop_oneof![Just("\n"), Just("\r\n")], any::<bool>()).prop_map(
            |(lines, eol, final_newline)| {
                let mut text = lines.join(eol);
                if final_newline && !text.is_empty() {
                    text.push_str(eol);
                }
                text
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn i2_idempotent_env_blocks(text in env_strategy(), i in 0usize..3) {
            let (id, vars) = vars_of(i);
            let once = set(&text, id, &vars);
            prop_assert_eq!(set(&once, id, &vars), once);
        }

        #[test]
        fn i3_reversible_env_blocks(text in env_strategy(), i in 0usize..3) {
            let (id, vars) = vars_of(i);
            prop_assert_eq!(remove(&set(&text, id, &vars), id), text);
        }

        #[test]
        fn i4_independent_env_blocks(text in env_strategy(), a in 0usize..3, b in 0usize..3) {
            prop_assume!(a != b);
            let (ida, va) = vars_of(a);
            let (idb, vb) = vars_of(b);
            let both = set(&set(&text, ida, &va), idb, &vb);
            prop_assert_eq!(remove(&both, ida), set(&text, idb, &vb));
        }

        #[test]
        fn i5_order_free_env_blocks(text in env_strategy(), a in 0usize..3, b in 0usize..3, c in 0usize..3) {
            let apply = |order: [usize; 3]| {
                order.iter().fold(text.clone(), |t, i| {
                    let (id, vars) = vars_of(*i);
                    set(&t, id, &vars)
                })
            };
            prop_assert_eq!(apply([a, b, c]), apply([c, b, a]));
        }

        #[test]
        fn i3_reversible_gitignore(text in env_strategy()) {
            let (out, change) = ensure_gitignore(&text);
            prop_assert_eq!(remove_gitignore(&out, &change), text);
        }

        #[test]
        fn i7_bad_input_never_panics(text in "(.|\n|# >>> mobigen:stripe|# <<< mobigen:stripe){0,20}") {
            let _ = set_env_block(EnvTarget::Public, &text, "stripe", &stripe());
            let _ = remove_env_block(EnvTarget::Public, &text, "stripe");
        }
    }
}
