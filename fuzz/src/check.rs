//! Checks shared by the targets: does a written file parse (I1), is a text a subsequence.

use swc_common::BytePos;
use swc_ecma_ast::EsVersion;
use swc_ecma_parser::{EsSyntax, Parser, StringInput, Syntax, TsSyntax, lexer::Lexer};

use crate::fixtures::Files;

/// Whether `text` parses as the language of `path`'s extension, with the syntax the injector uses
/// (recovered errors count as failures). Non-source paths: JSON files must parse as JSON; any
/// other file (env files, .gitignore) is `true`.
pub fn parses(path: &str, text: &str) -> bool {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    let syntax = match extension {
        "js" | "jsx" | "mjs" | "cjs" => Syntax::Es(EsSyntax {
            jsx: true,
            ..EsSyntax::default()
        }),
        "ts" | "mts" | "cts" | "tsx" => Syntax::Typescript(TsSyntax {
            tsx: extension == "tsx",
            decorators: true,
            ..TsSyntax::default()
        }),
        "json" => return serde_json::from_str::<serde_json::Value>(text).is_ok(),
        _ => return true,
    };
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Ok(len) = u32::try_from(body.len()) else {
        return false;
    };
    let lexer = Lexer::new(
        syntax,
        EsVersion::latest(),
        StringInput::new(body, BytePos(1), BytePos(1 + len)),
        None,
    );
    let mut parser = Parser::new_from(lexer);
    parser.parse_module().is_ok() && parser.take_errors().is_empty()
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
