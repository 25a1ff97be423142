//! Format-preserving edits to `package.json` and `app.json`.
//!
//! Every function takes the file's text and returns new text; nothing is re-serialised. Only the
//! bytes of the inserted or removed entries change: key order, indentation (2 or 4 spaces, tabs),
//! CRLF, a byte-order mark, the final newline (or its absence) and all unrelated formatting survive
//! byte for byte.
//!
//! # Why a hand-written parser
//!
//! `package.json` is strict JSON (npm's reader); `app.json` is JSON5, as Expo reads it
//! (comments, trailing commas, unquoted keys, single-quoted strings); what we insert is plain
//! JSON, which both accept. A key that appears twice in an object is refused with its
//! `file:line:column` (npm and Expo take the last one). The invariants we
//! promise are byte-exact: removing what we added must give back the original bytes, and the
//! result must depend only on the *set* of enabled connectors. That needs full control of the
//! separator text around every inserted entry, so that removal is the exact inverse of insertion.
//! A CST library (`jsonc-parser`) chooses that text itself and may change between versions. A
//! JSON / JSON5 parser that records byte spans is a few hundred lines (the private `syntax` module), has no
//! dependencies, never panics on any input (it is depth-limited) and reports `line:column`.
//!
//! # Canonical placement
//!
//! A new key goes to its sorted place inside the longest ascending run of keys at the end of the
//! object (for a sorted object: its sorted place; otherwise after the user's own order, with our
//! keys sorted among themselves). The result therefore depends only on which keys were added,
//! not on the order (invariant I5), and removing one key leaves exactly what adding the others
//! alone gives (I4). Plugins use the same rule, after any plugins that must come first.
//!
//! # Records
//!
//! Each add returns change records ([`DepChange`], [`PluginChange`], [`SetChange`]) for the lock
//! file; removal takes them back and restores what was there (a user's own dependency or plugin
//! entry is kept, an upgraded version is restored, a created section is taken out again).

mod syntax;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use syntax::{
    Edit, Node, Style, canonical_position, child_indent, insert_child, lookup, parse_document,
    quote, remove_child, render,
};

/// File name used in `package.json` error messages.
pub const PACKAGE_JSON: &str = "package.json";
/// File name used in `app.json` error messages.
pub const APP_JSON: &str = "app.json";

/// Why a JSON edit was refused. The file is never half-edited: an error means no change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonEditError {
    /// The file is not valid JSON.
    #[error(
        "{file}:{line}:{column}: not valid JSON: {message}; fix the file and try again (it was not changed)"
    )]
    Parse {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// An object holds the same key twice. npm and Expo read only the last one, so editing
    /// either could be the wrong one.
    #[error(
        "{file}:{line}:{column}: duplicate key `{key}` (first at line {first_line}); npm and Expo read only the last one, so merge the two into one and try again (the file was not changed)"
    )]
    DuplicateKey {
        /// File name.
        file: String,
        /// 1-based line of the second occurrence.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The key.
        key: String,
        /// 1-based line of the first occurrence.
        first_line: usize,
    },
    /// A value the edit goes through has the wrong type (`"dependencies": []`).
    #[error(
        "{file}: `{path}` is {found} but must be {expected}; correct it by hand and try again (the file was not changed)"
    )]
    UnexpectedType {
        /// File name.
        file: String,
        /// Dotted path of the value (`expo.plugins`).
        path: String,
        /// What was found (`an array`).
        found: &'static str,
        /// What is needed (`an object`).
        expected: &'static str,
    },
    /// Two parties need different values for the same plugin option.
    #[error(
        "{file}: plugin `{plugin}` option `{pointer}`: connector `{connector}` needs a different value than {other} has; make them agree (change one connector's config or the entry in {file}) and try again"
    )]
    PluginOptionConflict {
        /// File name.
        file: String,
        /// Plugin name.
        plugin: String,
        /// JSON pointer of the option inside the plugin's options (`/ios/useFrameworks`).
        pointer: String,
        /// The connector whose request clashed.
        connector: String,
        /// Who set the existing value: ``connector `firebase` `` or `the existing entry`.
        other: String,
    },
    /// A request that cannot be expressed (an empty plugin name, an empty path).
    #[error("{file}: {message}")]
    InvalidRequest {
        /// File name.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// Checks that `text` reads as `file` is read (strict JSON for package.json, JSON5 for
/// app.json) and has no object with the same key twice.
///
/// # Errors
/// [`JsonEditError::Parse`] with line and column; [`JsonEditError::DuplicateKey`] naming the
/// key's `file:line:column` and the line of its first occurrence.
pub fn check_document(file: &str, text: &str) -> Result<(), JsonEditError> {
    parse_document(file, text).map(|_| ())
}

fn parse(file: &str, text: &str) -> Result<(Node, Style), JsonEditError> {
    let root = parse_document(file, text)?;
    let style = Style::detect(text, &root);
    Ok((root, style))
}

fn expect_object(file: &str, node: &Node, path: &[String]) -> Result<(), JsonEditError> {
    match node {
        Node::Object { .. } => Ok(()),
        other => Err(JsonEditError::UnexpectedType {
            file: file.to_owned(),
            path: display_path(path),
            found: other.kind(),
            expected: "an object",
        }),
    }
}

fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.join(".")
    }
}

/// What the object an entry went into looked like before: the lock file keeps this so that
/// removing the last entry restores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ContainerOrigin {
    /// The container existed and was not empty.
    Existing,
    /// The container existed and was empty; `inner` is the text between its brackets.
    WasEmpty {
        /// Whitespace that was between the brackets.
        inner: String,
    },
    /// The container did not exist; `path` is the outermost member that was created.
    Created {
        /// Keys from the top of the document to the created member.
        path: Vec<String>,
        /// When the object the member was created in was empty: the text between its braces.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent_was_empty: Option<String>,
    },
}

/// Of two records of the same container, the one describing the state before both.
fn strongest(current: ContainerOrigin, other: &ContainerOrigin) -> ContainerOrigin {
    match (&current, other) {
        (ContainerOrigin::Created { .. }, _) => current,
        (_, ContainerOrigin::Created { .. })
        | (ContainerOrigin::Existing, ContainerOrigin::WasEmpty { .. }) => other.clone(),
        _ => current,
    }
}

/// Builds nested objects for `path[from..]` around `leaf`.
fn nest(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |inner, key| {
        let mut map = Map::new();
        map.insert(key.clone(), inner);
        Value::Object(map)
    })
}

/// Ensures `path` exists (creating objects) with `leaf` as the value of its last key when it is
/// created. Returns the new text and the origin, or `None` when the path already existed.
fn create_path(
    file: &str,
    text: &str,
    path: &[String],
    leaf: Value,
) -> Result<Option<(String, ContainerOrigin)>, JsonEditError> {
    let (root, style) = parse(file, text)?;
    let mut node = &root;
    for (depth, key) in path.iter().enumerate() {
        expect_object(file, node, &path[..depth])?;
        match node.member(key) {
            Some((_, m)) => node = &m.value,
            None => {
                let value = nest(&path[depth + 1..], leaf);
                let indent = child_indent(text, node, &style);
                let child = format!(
                    "{}{}{}",
                    quote(key),
                    style.colon,
                    render(&value, &indent, &style)
                );
                let index = member_position(node, key, &path[..depth]);
                let (edit, parent_was_empty) = insert_child(text, node, index, &child, &style);
                return Ok(Some((
                    edit.apply(text),
                    ContainerOrigin::Created {
                        path: path[..=depth].to_vec(),
                        parent_was_empty,
                    },
                )));
            }
        }
    }
    Ok(None)
}

/// Where a new member `key` goes in `object` (found at `parent_path`).
fn member_position(object: &Node, key: &str, parent_path: &[String]) -> usize {
    let keys: Vec<&str> = object.members().iter().map(|m| m.key.as_str()).collect();
    if parent_path.is_empty() {
        // package.json sections: `dependencies` before `devDependencies`, `devDependencies`
        // after `dependencies`; anything else at the canonical place.
        let find = |k: &str| keys.iter().position(|x| *x == k);
        if key == "dependencies"
            && let Some(i) = find("devDependencies")
        {
            return i;
        }
        if key == "devDependencies"
            && let Some(i) = find("dependencies")
        {
            return i + 1;
        }
        if key == "dependencies" || key == "devDependencies" {
            return keys.len();
        }
    }
    canonical_position(&keys, 0, key)
}

/// Removes the member at `path` if its value is hollow (only empty containers) or `force`.
fn remove_member_at(
    file: &str,
    text: &str,
    path: &[String],
    empty_inner: &str,
    force: bool,
) -> Result<String, JsonEditError> {
    let (root, _) = parse(file, text)?;
    let Some((key, parent_path)) = path.split_last() else {
        return Ok(text.to_owned());
    };
    let Some(parent) = lookup(&root, parent_path) else {
        return Ok(text.to_owned());
    };
    let Some((index, member)) = parent.member(key) else {
        return Ok(text.to_owned());
    };
    if !force && !member.value.is_hollow() {
        return Ok(text.to_owned());
    }
    Ok(remove_child(text, parent, index, empty_inner).apply(text))
}

// ---------------------------------------------------------------------------------------------
// Versions

/// Compares two version ranges by their lowest version (`^0.64.0` < `0.65.1`,
/// `1.0.0-rc.9` < `1.0.0-rc.10`: semver precedence); a range that is not a plain version range
/// (a tag, a URL) counts as lowest.
pub fn compare_ranges(a: &str, b: &str) -> std::cmp::Ordering {
    lowest_version(a).cmp(&lowest_version(b))
}

/// Whether two npm ranges can agree: the lowest version of one is allowed by the other
/// (`~18.0.13` and `~18.0.14` can, `~17.0.0` and `~18.0.14` cannot). A range that is not a plain
/// version range (`*`, a tag, a URL) agrees with anything: it cannot be judged.
pub fn ranges_compatible(a: &str, b: &str) -> bool {
    match (lowest_version(a), lowest_version(b)) {
        (Some(low_a), Some(low_b)) => {
            satisfies(&low_a, b).unwrap_or(true) || satisfies(&low_b, a).unwrap_or(true)
        }
        _ => true,
    }
}

/// The words of one `||` alternative, with a lone operator glued to the version after it
/// (`>= 1.2` is `>=1.2`).
fn range_words(alternative: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut words = alternative.split_whitespace();
    while let Some(word) = words.next() {
        let mut word = word.to_owned();
        if word != "-" && word.chars().all(|c| "<>=~^".contains(c)) {
            word.push_str(words.next()?);
        }
        out.push(word);
    }
    Some(out)
}

/// Lowest version of an npm range (`~56.0.23`, `^0.64.0`, `>=56`, `1.x`, `1 - 2`, `a || b`).
/// `None` for anything that is not a plain version range (`*`, `latest`, URLs, `npm:` aliases).
fn lowest_version(range: &str) -> Option<semver::Version> {
    range
        .split("||")
        .map(|alternative| parse_bound(range_words(alternative)?.first()?))
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .min()
}

fn parse_bound(token: &str) -> Option<semver::Version> {
    if token.starts_with('<') {
        return Some(semver::Version::new(0, 0, 0));
    }
    let t = token.trim_start_matches(['^', '~', '>', '=']);
    let t = t.strip_prefix('v').unwrap_or(t);
    let (core, pre) = match t.split_once('-') {
        Some((c, p)) => (c, Some(p.split('+').next().unwrap_or(p))),
        None => (t.split('+').next().unwrap_or(t), None),
    };
    let mut parts = core.split('.');
    let major: u64 = parts.next()?.parse().ok()?;
    let mut part = || -> Option<u64> {
        match parts.next() {
            None | Some("x" | "X" | "*") => Some(0),
            Some(p) => p.parse().ok(),
        }
    };
    let minor = part()?;
    let patch = part()?;
    if parts.next().is_some() {
        return None;
    }
    let mut version = semver::Version::new(major, minor, patch);
    if let Some(pre) = pre {
        version.pre = semver::Prerelease::new(pre).ok()?;
    }
    Some(version)
}

/// Whether `version` is in the npm range `range`; `None` when the range is not a plain version
/// range. npm's comparators map onto the `semver` crate's, except that a bare version is exact
/// in npm (`=`) and a hyphen range `a - b` is `>=a, <=b`.
fn satisfies(version: &semver::Version, range: &str) -> Option<bool> {
    let comparator = |word: &str| -> Option<semver::Comparator> {
        let word = word.strip_prefix('v').unwrap_or(word);
        let word = if word.starts_with(|c: char| c.is_ascii_digit()) {
            format!("={word}")
        } else {
            word.replace("=v", "=")
        };
        semver::Comparator::parse(&word).ok()
    };
    let mut any = false;
    for alternative in range.split("||") {
        let words = range_words(alternative)?;
        let mut comparators = Vec::new();
        let mut i = 0;
        while i < words.len() {
            if words.get(i + 1).map(String::as_str) == Some("-") {
                let high = words.get(i + 2)?;
                comparators.push(comparator(&format!(">={}", words[i]))?);
                comparators.push(comparator(&format!("<={high}"))?);
                i += 3;
            } else {
                comparators.push(comparator(&words[i])?);
                i += 1;
            }
        }
        if comparators.is_empty() {
            return None;
        }
        any |= semver::VersionReq { comparators }.matches(version);
    }
    Some(any)
}

/// The range `package` has in `dependencies` (or else `devDependencies`) of a `package.json`
/// text; `None` when it is not there, not a string, or the file is not valid JSON.
pub fn dependency_range(text: &str, package: &str) -> Option<String> {
    let root = parse_document(PACKAGE_JSON, text).ok()?;
    ["dependencies", "devDependencies"]
        .iter()
        .find_map(|section| {
            let node = lookup(&root, &[(*section).to_owned(), package.to_owned()])?;
            node.value(text).as_str().map(str::to_owned)
        })
}

/// The Expo SDK major version a `package.json` asks for, from the `expo` range in
/// `dependencies` (or `devDependencies`): `~56.0.23`, `^56.0.0`, `56.0.0` and `>=56` all give 56.
/// `None` when there is no `expo` dependency, the range is not a version (`*`, `latest`) or the
/// file is not valid JSON.
pub fn expo_sdk_major(text: &str) -> Option<u32> {
    let root = parse_document(PACKAGE_JSON, text).ok()?;
    ["dependencies", "devDependencies"]
        .iter()
        .find_map(|section| {
            let node = lookup(&root, &[(*section).to_owned(), "expo".to_owned()])?;
            let range = node.value(text);
            let low = lowest_version(range.as_str()?)?;
            u32::try_from(low.major).ok()
        })
}

// ---------------------------------------------------------------------------------------------
// package.json dependencies

/// A dependency a connector needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DepRequest {
    /// npm package name.
    pub package: String,
    /// Version range to write (`0.64.0`, `^2.119.0`).
    pub version: String,
    /// `devDependencies` instead of `dependencies`.
    pub dev: bool,
}

/// What [`add_dependencies`] did for one package; kept in the lock file and given back to
/// [`remove_dependencies`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum DepChange {
    /// The package was added.
    Added {
        /// Package name.
        package: String,
        /// Version written.
        version: String,
        /// In `devDependencies`.
        dev: bool,
        /// What the section looked like before. When another connector's record for the same
        /// section says `Created` or `WasEmpty`, the lock file should keep that one: it is the
        /// state before any connector.
        section: ContainerOrigin,
    },
    /// The user (or another connector) already had the package at this version or newer; it is
    /// left alone, and left in place on removal.
    AlreadyPresent {
        /// Package name.
        package: String,
        /// The version found.
        version: String,
        /// In `devDependencies`.
        dev: bool,
    },
    /// The package was there at a lower version and was raised; removal restores `from`.
    Upgraded {
        /// Package name.
        package: String,
        /// The version that was there.
        from: String,
        /// The exact JSON text of `from` when it is not what quoting `from` gives (escapes
        /// such as `\u00e9`), so that removal writes back the very bytes.
        #[serde(default, rename = "fromText", skip_serializing_if = "Option::is_none")]
        from_text: Option<String>,
        /// The version written.
        to: String,
        /// In `devDependencies`.
        dev: bool,
    },
}

impl DepChange {
    /// The package concerned.
    pub fn package(&self) -> &str {
        match self {
            DepChange::Added { package, .. }
            | DepChange::AlreadyPresent { package, .. }
            | DepChange::Upgraded { package, .. } => package,
        }
    }
}

fn section_name(dev: bool) -> &'static str {
    if dev {
        "devDependencies"
    } else {
        "dependencies"
    }
}

/// Adds npm dependencies to `package.json` text.
///
/// Each package goes into `dependencies` or `devDependencies` (created when missing, after
/// `dependencies` / before `devDependencies`), at its sorted place when the section is sorted,
/// otherwise after the user's entries. A package already there at the same or a newer version
/// (lowest version of each range compared) is kept ([`DepChange::AlreadyPresent`]); an older one
/// is raised ([`DepChange::Upgraded`]). A version that is not a plain range (`*`, a URL, a tag)
/// is never replaced. Requests are applied in package order, so the result does not depend on
/// their order.
///
/// # Errors
///
/// [`JsonEditError::Parse`] when the text is not valid JSON, [`JsonEditError::UnexpectedType`]
/// when the top level or a section is not an object or a version is not a string,
/// [`JsonEditError::InvalidRequest`] for an empty package name. Nothing is changed on error.
pub fn add_dependencies(
    text: &str,
    requests: &[DepRequest],
) -> Result<(String, Vec<DepChange>), JsonEditError> {
    let file = PACKAGE_JSON;
    let mut sorted: Vec<&DepRequest> = requests.iter().collect();
    sorted.sort_by(|a, b| (a.dev, &a.package).cmp(&(b.dev, &b.package)));
    sorted.dedup_by(|a, b| a.dev == b.dev && a.package == b.package);
    // Section origins are taken from the original text, before any insertion.
    let (root, _) = parse(file, text)?;
    expect_object(file, &root, &[])?;
    let origin_of = |dev: bool| -> Result<ContainerOrigin, JsonEditError> {
        let name = section_name(dev);
        match root.member(name) {
            None => Ok(ContainerOrigin::Created {
                path: vec![name.to_owned()],
                parent_was_empty: root
                    .members()
                    .is_empty()
                    .then(|| text[root.start() + 1..root.end() - 1].to_owned()),
            }),
            Some((_, m)) => {
                expect_object(file, &m.value, &[name.to_owned()])?;
                if m.value.members().is_empty() {
                    Ok(ContainerOrigin::WasEmpty {
                        inner: text[m.value.start() + 1..m.value.end() - 1].to_owned(),
                    })
                } else {
                    Ok(ContainerOrigin::Existing)
                }
            }
        }
    };
    let origins = [origin_of(false)?, origin_of(true)?];

    let mut out = text.to_owned();
    let mut changes = Vec::new();
    for request in sorted {
        if request.package.is_empty() {
            return Err(JsonEditError::InvalidRequest {
                file: file.to_owned(),
                message: "a dependency has an empty package name; fix the connector manifest"
                    .to_owned(),
            });
        }
        let section = section_name(request.dev);
        let path = vec![section.to_owned(), request.package.clone()];
        let (root, style) = parse(file, &out)?;
        let existing = root.member(section).map(|(_, m)| &m.value);
        match existing.and_then(|s| s.member(&request.package)) {
            Some((_, member)) => {
                let Node::Scalar { start, end } = member.value else {
                    return Err(unexpected(file, &path, &member.value, "a version string"));
                };
                let current = member.value.value(&out);
                let Some(current) = current.as_str() else {
                    return Err(unexpected(file, &path, &member.value, "a version string"));
                };
                let keep = match (lowest_version(current), lowest_version(&request.version)) {
                    (Some(theirs), Some(ours)) => theirs >= ours,
                    _ => true,
                };
                if keep {
                    changes.push(DepChange::AlreadyPresent {
                        package: request.package.clone(),
                        version: current.to_owned(),
                        dev: request.dev,
                    });
                } else {
                    let from = current.to_owned();
                    let written = &out[start..end];
                    let from_text = (written != quote(&from)).then(|| written.to_owned());
                    out = Edit {
                        start,
                        end,
                        text: quote(&request.version),
                    }
                    .apply(&out);
                    changes.push(DepChange::Upgraded {
                        package: request.package.clone(),
                        from,
                        from_text,
                        to: request.version.clone(),
                        dev: request.dev,
                    });
                }
            }
            None => {
                match existing {
                    Some(section_node) => {
                        let keys: Vec<&str> = section_node
                            .members()
                            .iter()
                            .map(|m| m.key.as_str())
                            .collect();
                        let index = canonical_position(&keys, 0, &request.package);
                        let child = format!(
                            "{}{}{}",
                            quote(&request.package),
                            style.colon,
                            quote(&request.version)
                        );
                        let (edit, _) = insert_child(&out, section_node, index, &child, &style);
                        out = edit.apply(&out);
                    }
                    None => {
                        if let Some((text, _)) =
                            create_path(file, &out, &path, Value::String(request.version.clone()))?
                        {
                            out = text;
                        }
                    }
                }
                changes.push(DepChange::Added {
                    package: request.package.clone(),
                    version: request.version.clone(),
                    dev: request.dev,
                    section: origins[usize::from(request.dev)].clone(),
                });
            }
        }
    }
    Ok((out, changes))
}

fn unexpected(file: &str, path: &[String], node: &Node, expected: &'static str) -> JsonEditError {
    JsonEditError::UnexpectedType {
        file: file.to_owned(),
        path: display_path(path),
        found: node.kind(),
        expected,
    }
}

/// Takes out what [`add_dependencies`] did, given its records: added packages are removed with
/// exactly the separators that were inserted, upgraded ones get their old version back (only when
/// the version is still ours), packages that were already present stay. A section emptied this way
/// is removed when it was created, or gets its old inner text back.
///
/// Pass only the records of packages no other enabled connector needs (the lock file's reference
/// count decides).
///
/// # Errors
///
/// [`JsonEditError::Parse`] when the text is not valid JSON; [`JsonEditError::UnexpectedType`]
/// when the top level is not an object. Nothing is changed on error.
pub fn remove_dependencies(text: &str, changes: &[DepChange]) -> Result<String, JsonEditError> {
    let file = PACKAGE_JSON;
    let (root, _) = parse(file, text)?;
    expect_object(file, &root, &[])?;
    // The state of each section before any connector: Created wins over WasEmpty over Existing.
    let origin = |dev: bool| -> ContainerOrigin {
        let mut best = ContainerOrigin::Existing;
        for change in changes {
            if let DepChange::Added {
                dev: d, section, ..
            } = change
                && *d == dev
            {
                best = strongest(best, section);
            }
        }
        best
    };
    let mut out = text.to_owned();
    let mut ordered: Vec<&DepChange> = changes.iter().collect();
    ordered.sort_by(|a, b| a.package().cmp(b.package()));
    for change in ordered {
        let (root, _) = parse(file, &out)?;
        match change {
            DepChange::AlreadyPresent { .. } => {}
            DepChange::Upgraded {
                package,
                from,
                from_text,
                to,
                dev,
            } => {
                let path = [section_name(*dev).to_owned(), package.clone()];
                if let Some(node @ Node::Scalar { start, end }) = lookup(&root, &path)
                    && node.value(&out).as_str() == Some(to.as_str())
                {
                    out = Edit {
                        start: *start,
                        end: *end,
                        text: from_text.clone().unwrap_or_else(|| quote(from)),
                    }
                    .apply(&out);
                }
            }
            DepChange::Added { package, dev, .. } => {
                let section = section_name(*dev);
                let Some((_, section_member)) = root.member(section) else {
                    continue;
                };
                let section_node = &section_member.value;
                let Some((index, _)) = section_node.member(package) else {
                    continue;
                };
                let last = section_node.members().len() == 1;
                match (last, origin(*dev)) {
                    (
                        true,
                        ContainerOrigin::Created {
                            path,
                            parent_was_empty,
                        },
                    ) => {
                        let inner = parent_was_empty.unwrap_or_default();
                        out = remove_member_at(file, &out, &path, &inner, true)?;
                    }
                    (true, ContainerOrigin::WasEmpty { inner }) => {
                        out = remove_child(&out, section_node, index, &inner).apply(&out);
                    }
                    _ => out = remove_child(&out, section_node, index, "").apply(&out),
                }
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// app.json

/// Keys from the top of `app.json` to the Expo config object: `["expo"]` for the usual
/// `{ "expo": { ... } }` (also when the file is `{}`), `[]` for a bare config object.
fn config_path(file: &str, root: &Node) -> Result<Vec<String>, JsonEditError> {
    expect_object(file, root, &[])?;
    match root.member("expo") {
        Some((_, m)) => {
            expect_object(file, &m.value, &["expo".to_owned()])?;
            Ok(vec!["expo".to_owned()])
        }
        None if root.members().is_empty() => Ok(vec!["expo".to_owned()]),
        None => Ok(Vec::new()),
    }
}

/// An `expo.plugins` entry a connector needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginRequest {
    /// Connector asking for it (named in conflicts).
    pub connector: String,
    /// Plugin name.
    pub name: String,
    /// Options, already resolved from the config (`{{/pointer}}` filled in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
    /// Must be the first plugin (OneSignal).
    #[serde(default)]
    pub first: bool,
}

/// What [`add_plugins`] did for one plugin; kept in the lock file for [`remove_plugins`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum PluginChange {
    /// A new entry was added.
    Added {
        /// Plugin name.
        name: String,
        /// Options written with it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        options: Option<Value>,
        /// What `plugins` looked like before.
        plugins: ContainerOrigin,
    },
    /// An entry for the plugin was there; options were merged into it.
    Merged {
        /// Plugin name.
        name: String,
        /// The entry's text before the merge, restored on removal.
        original: String,
        /// JSON pointers (inside the options) of the values that were added.
        added: Vec<String>,
    },
    /// An entry with everything needed was there already.
    AlreadyPresent {
        /// Plugin name.
        name: String,
    },
}

impl PluginChange {
    /// The plugin concerned.
    pub fn name(&self) -> &str {
        match self {
            PluginChange::Added { name, .. }
            | PluginChange::Merged { name, .. }
            | PluginChange::AlreadyPresent { name } => name,
        }
    }
}

fn entry_name(node: &Node, text: &str) -> Option<String> {
    match node {
        Node::Scalar { .. } => node.value(text).as_str().map(str::to_owned),
        Node::Array { items, .. } => items
            .first()
            .and_then(|n| n.value(text).as_str().map(str::to_owned)),
        Node::Object { .. } => None,
    }
}

fn meaningful(options: Option<&Value>) -> Option<&Value> {
    options.filter(|v| !v.is_null() && v.as_object().is_none_or(|m| !m.is_empty()))
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn leaves(prefix: &str, value: &Value, out: &mut Vec<String>) {
    match value.as_object() {
        Some(map) if !map.is_empty() => {
            for (k, v) in map {
                leaves(&format!("{prefix}/{}", pointer_escape(k)), v, out);
            }
        }
        _ => out.push(prefix.to_owned()),
    }
}

/// Deep-merges the options two connectors give for the same plugin; a key both set to different
/// values is a conflict naming both connectors.
///
/// # Errors
///
/// [`JsonEditError::PluginOptionConflict`] naming the option's pointer and both connectors.
pub fn merge_plugin_options(
    plugin: &str,
    first: (&str, &Value),
    second: (&str, &Value),
) -> Result<Value, JsonEditError> {
    fn merge(a: &Value, b: &Value, pointer: &str) -> Result<Value, String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut out = x.clone();
                for (k, v) in y {
                    let p = format!("{pointer}/{}", pointer_escape(k));
                    let merged = match x.get(k) {
                        Some(existing) => merge(existing, v, &p)?,
                        None => v.clone(),
                    };
                    out.insert(k.clone(), merged);
                }
                Ok(Value::Object(out))
            }
            (x, y) if x == y => Ok(x.clone()),
            _ => Err(pointer.to_owned()),
        }
    }
    merge(first.1, second.1, "").map_err(|pointer| JsonEditError::PluginOptionConflict {
        file: APP_JSON.to_owned(),
        plugin: plugin.to_owned(),
        pointer: if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer
        },
        connector: second.0.to_owned(),
        other: format!("connector `{}`", first.0),
    })
}

/// Path of `plugins`, the array (when present) and the index of an entry.
type PluginSite<'n> = (Vec<String>, Option<&'n Node>, Option<usize>);

/// Plugin name, options with the connector that asked first, `first` flag.
type MergedRequest = (String, Option<(String, Value)>, bool);

/// Finds the plugins array and the index of the entry named `name`.
fn find_plugin<'n>(
    file: &str,
    root: &'n Node,
    text: &str,
    name: &str,
) -> Result<PluginSite<'n>, JsonEditError> {
    let mut path = config_path(file, root)?;
    path.push("plugins".to_owned());
    let plugins = lookup(root, &path);
    let index = match plugins {
        None => None,
        Some(node @ Node::Array { items, .. }) => {
            let _ = node;
            items
                .iter()
                .position(|item| entry_name(item, text).as_deref() == Some(name))
        }
        Some(other) => return Err(unexpected(file, &path, other, "an array")),
    };
    Ok((path, plugins, index))
}

/// Adds `expo.plugins` entries to `app.json` text.
///
/// An entry is `"name"` (no options) or `["name", {options}]`. Entries are de-duplicated by
/// name: when the plugin is there already, the requested options are deep-merged into its
/// options (a bare `"name"` becomes `["name", {options}]`); a key with a different value is a
/// conflict. A `first` plugin goes at the front; other new entries go to their canonical place
/// after the leading plugins named in `pinned_first` (every plugin any connector flags `first`,
/// so that later additions never push in front of them). `expo` and `expo.plugins` are created
/// when missing; a bare config object (no `expo` key) is edited in place.
///
/// # Errors
///
/// [`JsonEditError::Parse`] for invalid JSON, [`JsonEditError::UnexpectedType`] when `expo` is
/// not an object or `plugins` not an array, [`JsonEditError::PluginOptionConflict`] for clashing
/// options (two requests, or a request and the existing entry), [`JsonEditError::InvalidRequest`]
/// for an empty name. Nothing is changed on error.
pub fn add_plugins(
    text: &str,
    requests: &[PluginRequest],
    pinned_first: &[&str],
) -> Result<(String, Vec<PluginChange>), JsonEditError> {
    let file = APP_JSON;
    // One request per name, options merged (a clash between two requests is a conflict).
    let mut merged: Vec<MergedRequest> = Vec::new();
    for request in requests {
        if request.name.is_empty() {
            return Err(JsonEditError::InvalidRequest {
                file: file.to_owned(),
                message: format!(
                    "connector `{}` asks for a plugin with an empty name; fix its manifest",
                    request.connector
                ),
            });
        }
        let options = meaningful(request.options.as_ref()).cloned();
        match merged.iter_mut().find(|(n, _, _)| *n == request.name) {
            Some((_, existing, first)) => {
                *first |= request.first;
                *existing = match (existing.take(), options) {
                    (Some((who, a)), Some(b)) => Some((
                        who.clone(),
                        merge_plugin_options(&request.name, (&who, &a), (&request.connector, &b))?,
                    )),
                    (a, b) => a.or(b.map(|b| (request.connector.clone(), b))),
                };
            }
            None => merged.push((
                request.name.clone(),
                options.map(|o| (request.connector.clone(), o)),
                request.first,
            )),
        }
    }
    merged.sort_by(|a, b| (!a.2, &a.0).cmp(&(!b.2, &b.0)));

    let mut out = text.to_owned();
    let mut changes = Vec::new();
    for (name, options, first) in merged {
        let (connector, options) = match options {
            Some((c, o)) => (c, Some(o)),
            None => (String::new(), None),
        };
        let (root, style) = parse(file, &out)?;
        let (path, plugins, index) = find_plugin(file, &root, &out, &name)?;
        let entry_value = match &options {
            Some(o) => Value::Array(vec![Value::String(name.clone()), o.clone()]),
            None => Value::String(name.clone()),
        };
        let Some(plugins) = plugins else {
            let origin = create_path(file, &out, &path, Value::Array(vec![entry_value]))?;
            if let Some((text, origin)) = origin {
                out = text;
                changes.push(PluginChange::Added {
                    name,
                    options,
                    plugins: origin,
                });
            }
            continue;
        };
        let Some(index) = index else {
            let Node::Array { items, .. } = plugins else {
                continue;
            };
            let names: Vec<String> = items
                .iter()
                .map(|i| entry_name(i, &out).unwrap_or_default())
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let lo = names
                .iter()
                .take_while(|n| pinned_first.contains(n))
                .count();
            let position = if first {
                names[..lo].iter().filter(|n| **n < name.as_str()).count()
            } else {
                canonical_position(&names, lo, &name)
            };
            let indent = child_indent(&out, plugins, &style);
            let child = render(&entry_value, &indent, &style);
            let (edit, was_empty) = insert_child(&out, plugins, position, &child, &style);
            out = edit.apply(&out);
            changes.push(PluginChange::Added {
                name,
                options,
                plugins: match was_empty {
                    Some(inner) => ContainerOrigin::WasEmpty { inner },
                    None => ContainerOrigin::Existing,
                },
            });
            continue;
        };
        let Node::Array { items, .. } = plugins else {
            continue;
        };
        let entry = &items[index];
        let Some(ours) = options else {
            changes.push(PluginChange::AlreadyPresent { name });
            continue;
        };
        let original = out[entry.start()..entry.end()].to_owned();
        let existing_options = match entry {
            Node::Array { items, .. } => items.get(1),
            _ => None,
        };
        let conflict = |pointer: String| JsonEditError::PluginOptionConflict {
            file: file.to_owned(),
            plugin: name.clone(),
            pointer: if pointer.is_empty() {
                "/".to_owned()
            } else {
                pointer
            },
            connector: connector.clone(),
            other: "the existing entry".to_owned(),
        };
        match existing_options {
            None => {
                // `"name"` or `["name"]`: write the whole entry with our options.
                let indent = syntax::line_indent(&out, entry.start()).to_owned();
                let child = render(&entry_value, &indent, &style);
                out = Edit {
                    start: entry.start(),
                    end: entry.end(),
                    text: child,
                }
                .apply(&out);
                let mut added = Vec::new();
                leaves("", &ours, &mut added);
                changes.push(PluginChange::Merged {
                    name,
                    original,
                    added,
                });
            }
            Some(node) => {
                let theirs = node.value(&out);
                let mut additions = Vec::new();
                plan_merge(&theirs, &ours, &mut Vec::new(), &mut additions).map_err(conflict)?;
                if additions.is_empty() {
                    changes.push(PluginChange::AlreadyPresent { name });
                    continue;
                }
                let mut added = Vec::new();
                for (parent, key, value) in additions {
                    let (root, style) = parse(file, &out)?;
                    let Some(object) =
                        options_node(file, &root, &out, &name)?.and_then(|o| lookup(o, &parent))
                    else {
                        continue;
                    };
                    let keys: Vec<&str> = object.members().iter().map(|m| m.key.as_str()).collect();
                    let position = canonical_position(&keys, 0, &key);
                    let indent = child_indent(&out, object, &style);
                    let child = format!(
                        "{}{}{}",
                        quote(&key),
                        style.colon,
                        render(&value, &indent, &style)
                    );
                    let (edit, _) = insert_child(&out, object, position, &child, &style);
                    out = edit.apply(&out);
                    let prefix: String = parent
                        .iter()
                        .chain(std::iter::once(&key))
                        .map(|k| format!("/{}", pointer_escape(k)))
                        .collect();
                    leaves(&prefix, &value, &mut added);
                }
                added.sort();
                changes.push(PluginChange::Merged {
                    name,
                    original,
                    added,
                });
            }
        }
    }
    Ok((out, changes))
}

/// Members of `ours` missing from `theirs`, as (parent path, key, value); a clash is the pointer.
fn plan_merge(
    theirs: &Value,
    ours: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String, Value)>,
) -> Result<(), String> {
    let pointer = |path: &[String]| -> String {
        path.iter()
            .map(|k| format!("/{}", pointer_escape(k)))
            .collect()
    };
    match (theirs, ours) {
        (Value::Object(t), Value::Object(o)) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            for key in keys {
                match t.get(key) {
                    None => out.push((path.clone(), key.clone(), o[key].clone())),
                    Some(existing) => {
                        path.push(key.clone());
                        plan_merge(existing, &o[key], path, out)?;
                        path.pop();
                    }
                }
            }
            Ok(())
        }
        (t, o) if t == o => Ok(()),
        _ => Err(pointer(path)),
    }
}

/// The options node (second item) of the entry named `name`, if any.
fn options_node<'n>(
    file: &str,
    root: &'n Node,
    text: &str,
    name: &str,
) -> Result<Option<&'n Node>, JsonEditError> {
    let (_, plugins, index) = find_plugin(file, root, text, name)?;
    Ok(match (plugins, index) {
        (Some(Node::Array { items, .. }), Some(i)) => match &items[i] {
            Node::Array { items, .. } => items.get(1),
            _ => None,
        },
        _ => None,
    })
}

/// Takes out what [`add_plugins`] did, given its records. `keep` holds the plugin requests of the
/// connectors that stay enabled: options (and entries) they need are kept. An added entry is
/// removed; merged options are removed and, when the entry is back to what it was, its original
/// text is restored byte for byte (the user's own entry stays). `plugins` (and `expo`) are
/// removed again when they were created and are now empty.
///
/// # Errors
///
/// [`JsonEditError::Parse`] for invalid JSON, [`JsonEditError::UnexpectedType`] when `expo` or
/// `plugins` has the wrong type. Nothing is changed on error.
pub fn remove_plugins(
    text: &str,
    changes: &[PluginChange],
    keep: &[PluginRequest],
) -> Result<String, JsonEditError> {
    let file = APP_JSON;
    parse(file, text)?;
    let mut out = text.to_owned();
    // The state of `plugins` before any connector: Created wins over WasEmpty over Existing.
    let mut origin = ContainerOrigin::Existing;
    for change in changes {
        if let PluginChange::Added { plugins, .. } = change {
            origin = strongest(origin, plugins);
        }
    }
    let mut ordered: Vec<&PluginChange> = changes.iter().collect();
    ordered.sort_by(|a, b| a.name().cmp(b.name()));
    for change in ordered {
        let name = change.name();
        let kept: Vec<&PluginRequest> = keep.iter().filter(|r| r.name == name).collect();
        let keep_options = if kept.is_empty() {
            None
        } else {
            let mut acc: Option<(String, Value)> = None;
            for r in &kept {
                if let Some(o) = meaningful(r.options.as_ref()) {
                    acc = Some(match acc {
                        None => (r.connector.clone(), o.clone()),
                        Some((who, a)) => (
                            who.clone(),
                            merge_plugin_options(name, (&who, &a), (&r.connector, o))?,
                        ),
                    });
                }
            }
            Some(acc.map_or(Value::Object(Map::new()), |(_, v)| v))
        };
        match change {
            PluginChange::AlreadyPresent { .. } => {}
            PluginChange::Added { options, .. } => match &keep_options {
                None => out = remove_entry(file, &out, name, &origin)?,
                Some(keep_options) => {
                    let mut ours = Vec::new();
                    if let Some(o) = options {
                        leaves("", o, &mut ours);
                    }
                    out =
                        remove_option_leaves(file, &out, name, &ours, keep_options, &Value::Null)?;
                    let (root, _) = parse(file, &out)?;
                    if let Some(Node::Object { members, .. }) =
                        options_node(file, &root, &out, name)?
                        && members.is_empty()
                    {
                        out = replace_entry(file, &out, name, &quote(name))?;
                    }
                }
            },
            PluginChange::Merged {
                original, added, ..
            } => {
                let original_value: Value =
                    parse_document(file, original).map_or(Value::Null, |node| node.value(original));
                let original_options = match &original_value {
                    Value::Array(items) => items.get(1).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                let keep_options = keep_options.clone().unwrap_or(Value::Null);
                out = remove_option_leaves(
                    file,
                    &out,
                    name,
                    added,
                    &keep_options,
                    &original_options,
                )?;
                let (root, _) = parse(file, &out)?;
                let (_, plugins, index) = find_plugin(file, &root, &out, name)?;
                if let (Some(Node::Array { items, .. }), Some(i)) = (plugins, index)
                    && without_empty_options(items[i].value(&out))
                        == without_empty_options(original_value)
                {
                    let entry = &items[i];
                    out = Edit {
                        start: entry.start(),
                        end: entry.end(),
                        text: original.clone(),
                    }
                    .apply(&out);
                }
            }
        }
    }
    Ok(out)
}

/// `["name"]` and `["name", {}]` mean the same as `"name"`.
fn without_empty_options(entry: Value) -> Value {
    match entry {
        Value::Array(items)
            if items.len() <= 2 && items.get(1).is_none_or(|o| meaningful(Some(o)).is_none()) =>
        {
            items.into_iter().next().unwrap_or(Value::Null)
        }
        other => other,
    }
}

fn replace_entry(file: &str, text: &str, name: &str, with: &str) -> Result<String, JsonEditError> {
    let (root, _) = parse(file, text)?;
    let (_, plugins, index) = find_plugin(file, &root, text, name)?;
    Ok(match (plugins, index) {
        (Some(Node::Array { items, .. }), Some(i)) => Edit {
            start: items[i].start(),
            end: items[i].end(),
            text: with.to_owned(),
        }
        .apply(text),
        _ => text.to_owned(),
    })
}

fn remove_entry(
    file: &str,
    text: &str,
    name: &str,
    origin: &ContainerOrigin,
) -> Result<String, JsonEditError> {
    let (root, _) = parse(file, text)?;
    let (_, plugins, index) = find_plugin(file, &root, text, name)?;
    let (Some(plugins @ Node::Array { items, .. }), Some(index)) = (plugins, index) else {
        return Ok(text.to_owned());
    };
    if items.len() == 1 {
        match origin {
            ContainerOrigin::Created {
                path,
                parent_was_empty,
            } => {
                let inner = parent_was_empty.clone().unwrap_or_default();
                let emptied = remove_child(text, plugins, index, "").apply(text);
                let result = remove_member_at(file, &emptied, path, &inner, false)?;
                return Ok(result);
            }
            ContainerOrigin::WasEmpty { inner } => {
                return Ok(remove_child(text, plugins, index, inner).apply(text));
            }
            ContainerOrigin::Existing => {}
        }
    }
    Ok(remove_child(text, plugins, index, "").apply(text))
}

fn has_pointer(value: &Value, pointer: &str) -> bool {
    !pointer.is_empty() && value.pointer(pointer).is_some()
}

/// Removes option leaves (and parents emptied by that which neither `keep` nor `original` has).
fn remove_option_leaves(
    file: &str,
    text: &str,
    name: &str,
    pointers: &[String],
    keep: &Value,
    original: &Value,
) -> Result<String, JsonEditError> {
    let mut out = text.to_owned();
    let mut sorted: Vec<&String> = pointers.iter().collect();
    sorted.sort();
    sorted.reverse();
    for pointer in sorted {
        if has_pointer(keep, pointer) || pointer.is_empty() {
            continue;
        }
        let mut segments = pointer_segments(pointer);
        while let Some((key, parent)) = segments.split_last() {
            let (root, _) = parse(file, &out)?;
            let Some(object) =
                options_node(file, &root, &out, name)?.and_then(|o| lookup(o, parent))
            else {
                break;
            };
            let Some((index, _)) = object.member(key) else {
                break;
            };
            out = remove_child(&out, object, index, "").apply(&out);
            // Walk up while the parent is now empty and was ours alone.
            let parent_pointer: String = parent
                .iter()
                .map(|k| format!("/{}", pointer_escape(k)))
                .collect();
            let (root, _) = parse(file, &out)?;
            let emptied = options_node(file, &root, &out, name)?
                .and_then(|o| lookup(o, parent))
                .is_some_and(|n| n.members().is_empty());
            if parent.is_empty()
                || !emptied
                || has_pointer(keep, &parent_pointer)
                || has_pointer(original, &parent_pointer)
            {
                break;
            }
            segments.pop();
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Single values (`expo.web.output`, `expo.android.googleServicesFile`)

/// What [`set_path`] did; kept in the lock file for [`unset_path`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[non_exhaustive]
pub enum SetChange {
    /// The value was absent and was added (with any missing parent objects).
    Added {
        /// Keys from the top of the document.
        path: Vec<String>,
        /// The value written.
        value: Value,
        /// The outermost member created, and the old inner text of its parent if it was empty.
        created: ContainerOrigin,
    },
    /// Another value was there and was replaced; it is restored on removal.
    Replaced {
        /// Keys from the top of the document.
        path: Vec<String>,
        /// The value written.
        value: Value,
        /// The previous value's exact text.
        previous: String,
    },
    /// The value was there already.
    AlreadyPresent {
        /// Keys from the top of the document.
        path: Vec<String>,
    },
}

/// Sets the value at `path` (object keys from the top of the document) in the JSON text of
/// `file`, creating missing objects. A different existing value is replaced and reported as
/// [`SetChange::Replaced`] (so the plan can show it).
///
/// # Errors
///
/// [`JsonEditError::Parse`] for invalid JSON, [`JsonEditError::UnexpectedType`] when a value on
/// the way is not an object, [`JsonEditError::InvalidRequest`] for an empty path.
pub fn set_path(
    file: &str,
    text: &str,
    path: &[&str],
    value: &Value,
) -> Result<(String, SetChange), JsonEditError> {
    let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
    if path.is_empty() {
        return Err(JsonEditError::InvalidRequest {
            file: file.to_owned(),
            message: "cannot set the whole document; give a key path".to_owned(),
        });
    }
    let (root, style) = parse(file, text)?;
    if let Some(node) = lookup(&root, &path) {
        if node.value(text) == *value {
            return Ok((text.to_owned(), SetChange::AlreadyPresent { path }));
        }
        let previous = text[node.start()..node.end()].to_owned();
        let indent = syntax::line_indent(text, node.start()).to_owned();
        let edit = Edit {
            start: node.start(),
            end: node.end(),
            text: render(value, &indent, &style),
        };
        return Ok((
            edit.apply(text),
            SetChange::Replaced {
                path,
                value: value.clone(),
                previous,
            },
        ));
    }
    match create_path(file, text, &path, value.clone())? {
        Some((out, created)) => Ok((
            out,
            SetChange::Added {
                path,
                value: value.clone(),
                created,
            },
        )),
        None => Ok((text.to_owned(), SetChange::AlreadyPresent { path })),
    }
}

/// Undoes [`set_path`]: an added value is removed with the objects created for it (those that
/// hold nothing else), a replaced value gets its previous text back, both only while the value is
/// still the one written.
///
/// # Errors
///
/// [`JsonEditError::Parse`] for invalid JSON.
pub fn unset_path(file: &str, text: &str, change: &SetChange) -> Result<String, JsonEditError> {
    let (root, _) = parse(file, text)?;
    match change {
        SetChange::AlreadyPresent { .. } => Ok(text.to_owned()),
        SetChange::Replaced {
            path,
            value,
            previous,
        } => match lookup(&root, path) {
            Some(node) if node.value(text) == *value => Ok(Edit {
                start: node.start(),
                end: node.end(),
                text: previous.clone(),
            }
            .apply(text)),
            _ => Ok(text.to_owned()),
        },
        SetChange::Added {
            path,
            value,
            created,
        } => {
            if lookup(&root, path).map(|n| n.value(text)) != Some(value.clone()) {
                return Ok(text.to_owned());
            }
            let ContainerOrigin::Created {
                path: created_path,
                parent_was_empty,
            } = created
            else {
                return Ok(text.to_owned());
            };
            let inner = parent_was_empty.clone().unwrap_or_default();
            let created_value = lookup(&root, created_path).map(|n| n.value(text));
            let expected = nest(&path[created_path.len()..], value.clone());
            if created_value == Some(expected) {
                remove_member_at(file, text, created_path, &inner, true)
            } else {
                // Others added to the objects we created: take out only our value.
                remove_member_at(file, text, path, "", true)
            }
        }
    }
}

/// [`set_path`] for `app.json`, with `path` inside the Expo config (`["web", "output"]`): under
/// `expo` normally, at the top for a bare config object.
///
/// # Errors
///
/// As [`set_path`]; also [`JsonEditError::UnexpectedType`] when `expo` is not an object.
pub fn set_expo_config(
    text: &str,
    path: &[&str],
    value: &Value,
) -> Result<(String, SetChange), JsonEditError> {
    let root = parse_document(APP_JSON, text)?;
    let mut full = config_path(APP_JSON, &root)?;
    full.extend(path.iter().map(|s| (*s).to_owned()));
    let full: Vec<&str> = full.iter().map(String::as_str).collect();
    set_path(APP_JSON, text, &full, value)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // In tests a panic is the failure report.
mod tests;
