//! The crate's module graph has no cycles, and its layers depend only downwards.
//!
//! Reads `src/` as text: every `crate::…` and `super::…` path outside comments and test code is an
//! edge from the module of the file it appears in to the module it names. A module is a file's
//! first two path segments (`catalog::registry`, `project::plan`, `clock`); a parent's own
//! declarations and re-exports of its children are the module tree, not dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The layers, lowest first: a module may use modules of its own layer or a lower one.
const LAYERS: &[&[&str]] = &[
    &["clock"],
    &["edit", "secrets"],
    &["catalog"],
    &["store", "project"],
    &["net"],
    &["host"],
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file (`catalog/registry.rs` -> [catalog, registry]).
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The node of a module path: its first two segments.
fn node(path: &[String]) -> String {
    path.iter().take(2).cloned().collect::<Vec<_>>().join("::")
}

/// Whether `crate::{segments}` names a module file (so `crate::store::Store` names `store`).
fn module_prefix(segments: &[&str]) -> Vec<String> {
    let mut dir = PathBuf::from(SRC);
    let mut out = Vec::new();
    for segment in segments {
        let as_dir = dir.join(segment);
        let as_file = dir.join(format!("{segment}.rs"));
        if as_dir.join("mod.rs").is_file() || as_file.is_file() {
            out.push((*segment).to_string());
            dir = as_dir;
        } else {
            break;
        }
    }
    out
}

/// Source text without comments and without test code (a `#[cfg(test)]` item runs to the end
/// of the file in this crate's style).
fn code_of(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Every path that starts with `crate::` or `super::` in `code`, brace groups expanded one level
/// (`crate::{a::B, c}` -> `crate::a::B`, `crate::c`).
fn paths(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    for (keyword, is_super) in [("crate::", false), ("super::", true)] {
        let mut rest = code;
        while let Some(at) = rest.find(keyword) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + keyword.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let mut heads: Vec<String> = Vec::new();
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                heads.extend(group[..end].split(',').map(|s| s.trim().to_string()));
            } else {
                let end = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(rest.len());
                heads.push(rest[..end].to_string());
            }
            for head in heads {
                let segments: Vec<String> = head
                    .split("::")
                    .filter(|s| !s.is_empty() && *s != "{")
                    .map(str::to_string)
                    .collect();
                if !segments.is_empty() {
                    out.push((is_super, segments));
                }
            }
        }
    }
    out
}

/// node -> the nodes it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(SRC).expect("below src/").to_path_buf();
        let name = relative.file_name().expect("a name").to_string_lossy();
        if name == "lib.rs" || name == "tests.rs" || name.ends_with("_tests.rs") {
            continue;
        }
        let module = module_of(&relative);
        let from = node(&module);
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for (is_super, segments) in paths(&code_of(&text)) {
            let absolute: Vec<String> = if is_super {
                // `super` of a `mod.rs` file is its folder's parent; of `x.rs` it is its folder.
                let mut base = module.clone();
                base.pop();
                base.into_iter().chain(segments).collect()
            } else {
                segments
            };
            let refs: Vec<&str> = absolute.iter().map(String::as_str).collect();
            let target = module_prefix(&refs);
            if target.is_empty() {
                continue;
            }
            let to = node(&target);
            // A module's own children are its tree, not a dependency.
            let descendant = to.starts_with(&format!("{from}::"));
            if to != from && !descendant {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
        edges.entry(from).or_default();
    }
    edges
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(cycle) = visit(next, edges, state, stack) {
                        return Some(cycle);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for start in edges.keys() {
        if state.get(start.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(start, edges, &mut state, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

fn layer(node: &str) -> usize {
    let group = node.split("::").next().unwrap_or(node);
    LAYERS
        .iter()
        .position(|l| l.contains(&group))
        .unwrap_or_else(|| panic!("module group `{group}` is in no layer of tests/layout.rs"))
}

#[test]
fn the_graph_is_read() {
    let edges = graph();
    // The reader sees real edges (so the checks below cannot pass on an empty graph).
    assert!(edges["catalog::registry"].contains("catalog::search"));
    assert!(edges["catalog::manifest_check"].contains("edit::code"));
    assert!(edges["project::plan"].contains("catalog::connector"));
    assert!(edges.len() > 30, "{edges:?}");
}

#[test]
fn no_module_cycle() {
    let edges = graph();
    if let Some(cycle) = find_cycle(&edges) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn layers_depend_only_downwards() {
    let mut wrong = Vec::new();
    for (from, targets) in graph() {
        for to in targets {
            if layer(&to) > layer(&from) {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "upward dependencies: {wrong:#?}");
}

#[test]
fn the_crypto_layer_is_free_of_the_catalogue() {
    for (from, targets) in graph() {
        if from.starts_with("secrets") {
            let outside: Vec<&String> = targets
                .iter()
                .filter(|t| !t.starts_with("secrets") && *t != "clock")
                .collect();
            assert!(outside.is_empty(), "{from} uses {outside:?}");
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    edges.get_mut("c").map(|s| s.remove("a"));
    assert_eq!(find_cycle(&edges), None);
}
