//! Checks shared by the targets: does a written file parse (I1), is a text a subsequence.

use mobigen_connectors::edit::code::check_syntax;

use crate::fixtures::Files;

/// Whether `text` parses as the language of `path`'s extension: a whole-file parse with the
/// injector's own parser and settings (`inject::check_syntax`; the injector's own check of an
/// edit re-parses only the statements around it). JSON files must parse as JSON; any other file
/// (env files, .gitignore) is `true`.
pub fn parses(path: &str, text: &str) -> bool {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "js" | "jsx" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "tsx" => {
            check_syntax(path, text).is_ok()
        }
        "json" => serde_json::from_str::<serde_json::Value>(text).is_ok(),
        _ => true,
    }
}

/// I1 over a plan's result: every file that changed between `before` and `after` parses, unless
/// it did not parse before either (then the file is the user's problem, not ours).
///
/// # Panics
/// When a written file does not parse.
pub fn written_files_parse(before: &Files, after: &Files, context: &str) {
    for (path, bytes) in after {
        if before.get(path) == Some(bytes) {
            continue;
        }
        let text = std::str::from_utf8(bytes)
            .unwrap_or_else(|_| panic!("{context}: wrote {path}, which is not UTF-8"));
        let parsed_before = before
            .get(path)
            .is_none_or(|old| std::str::from_utf8(old).is_ok_and(|old| parses(path, old)));
        assert!(
            !parsed_before || parses(path, text),
            "{context}: I1 broken: the library wrote {path}, which does not parse:\n{text}"
        );
    }
}

/// Whether `needle` is a subsequence of `haystack` (bytes).
pub fn is_subsequence(needle: &[u8], haystack: &[u8]) -> bool {
    let mut rest = haystack.iter();
    needle.iter().all(|b| rest.any(|h| h == b))
}

/// The paths whose bytes differ between two projects (for failure messages).
pub fn differences(a: &Files, b: &Files) -> Vec<String> {
    let paths: std::collections::BTreeSet<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .collect();
    paths.into_iter().cloned().collect()
}
