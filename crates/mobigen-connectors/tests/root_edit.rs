//! The root-file edit over a corpus of root shapes: a snapshot of the diff per shape, and the
//! invariants (I1 parse, I2 idempotent, I3 reversible, insertion only) as properties over the
//! corpus and its mutations.

use std::path::{Path, PathBuf};

use mobigen_connectors::edit::code::{
    InjectError, Insertion, InsertionKind, RootInsert, RootRemove, WrapSpec, check_syntax,
    plan_root_insert, plan_root_remove,
};
use proptest::prelude::*;

const SPEC: WrapSpec<'static> = WrapSpec {
    module_specifier: "./src/connectors",
    wrapper: "withConnectors",
};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roots")
}

/// Every root fixture: (file name, text).
fn corpus() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir")
        .filter_map(|entry| {
            let path = entry.expect("dir entry").path();
            path.is_file().then(|| {
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path).expect("fixture is UTF-8");
                (name, text)
            })
        })
        .collect();
    files.sort();
    files
}

fn unified_diff(name: &str, before: &str, after: &str) -> String {
    // Show line endings and the BOM, which the diff would otherwise hide.
    let visible = |s: &str| s.replace('\u{feff}', "<BOM>").replace('\r', "\\r");
    let (before, after) = (visible(before), visible(after));
    similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

fn applied(name: &str, text: &str) -> (String, Vec<Insertion>) {
    match plan_root_insert(name, text, &SPEC) {
        Ok(RootInsert::Applied(edit)) => {
            assert!(
                edit.edits.iter().all(|e| e.is_insertion()),
                "{name}: insertions only"
            );
            (edit.output, edit.insertions)
        }
        other => panic!("{name}: expected Applied, got {other:?}"),
    }
}

/// Whether `needle` is a subsequence of `haystack` (bytes).
fn is_subsequence(needle: &str, haystack: &str) -> bool {
    let mut rest = haystack.bytes();
    needle.bytes().all(|b| rest.any(|h| h == b))
}

#[test]
fn corpus_has_at_least_25_shapes() {
    assert!(corpus().len() >= 25, "{} fixtures", corpus().len());
}

#[test]
fn snapshot_of_each_root_shape() {
    for (name, text) in corpus() {
        let shown = match plan_root_insert(&name, &text, &SPEC) {
            Ok(RootInsert::Applied(edit)) => {
                format!(
                    "shape: {:?}\n{}",
                    edit.shape,
                    unified_diff(&name, &text, &edit.output)
                )
            }
            other => format!("{other:?}"),
        };
        insta::assert_snapshot!(name.replace('.', "_"), shown);
    }
}

#[test]
fn every_corpus_shape_round_trips() {
    for (name, text) in corpus() {
        if let Ok(RootInsert::FollowReExport(re_export)) = plan_root_insert(&name, &text, &SPEC) {
            assert_eq!(re_export.specifier, "./src/pages/Root");
            continue;
        }
        let (output, insertions) = applied(&name, &text);
        let shape = match plan_root_insert(&name, &text, &SPEC) {
            Ok(RootInsert::Applied(edit)) => edit.shape,
            other => panic!("{name}: {other:?}"),
        };
        assert!(
            is_subsequence(&text, &output),
            "{name}: original is a subsequence"
        );
        assert_eq!(
            plan_root_insert(&name, &output, &SPEC),
            Ok(RootInsert::AlreadyPresent),
            "{name}"
        );
        for recorded in [Some(insertions.as_slice()), None] {
            match plan_root_remove(&name, &output, &SPEC, recorded) {
                Ok(RootRemove::Removed(edit)) => {
                    let recorded = recorded.is_some();
                    assert_eq!(edit.output, text, "{name}: remove (recorded: {recorded})");
                    assert_eq!(edit.shape, shape, "{name}");
                    assert!(
                        edit.edits.iter().all(|e| !e.is_insertion()),
                        "{name}: deletions only"
                    );
                }
                other => panic!("{name}: expected Removed, got {other:?}"),
            }
        }
        assert_eq!(
            plan_root_remove(&name, &text, &SPEC, None),
            Ok(RootRemove::NotPresent),
            "{name}"
        );
    }
}

#[test]
fn an_edited_wrap_is_a_conflict_not_a_guess() {
    let name = "02-default-function.tsx";
    let text = std::fs::read_to_string(fixtures_dir().join(name)).expect("fixture");
    let (output, insertions) = applied(name, &text);
    let edited = output.replace(
        "withConnectors(function App",
        "withConnectors(/* mine */ function App",
    );
    match plan_root_remove(name, &edited, &SPEC, Some(&insertions)) {
        Ok(RootRemove::Conflict(conflict)) => {
            assert!(
                conflict.to_string().contains("withConnectors"),
                "{conflict}"
            );
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let no_import = output.replace("import { withConnectors } from './src/connectors';\n", "");
    assert!(matches!(
        plan_root_remove(name, &no_import, &SPEC, Some(&insertions)),
        Ok(RootRemove::Conflict(_))
    ));
}

fn refused(name: &str) -> InjectError {
    let text = std::fs::read_to_string(fixtures_dir().join("refused").join(name)).expect("fixture");
    match plan_root_insert(name, &text, &SPEC) {
        Err(error) => error,
        Ok(other) => panic!("{name}: expected an error, got {other:?}"),
    }
}

#[test]
fn bad_inputs_are_typed_errors_with_a_place_and_a_manual_step() {
    // SWC reports the unclosed `<View>` where the input ends.
    let error = refused("unparsable.tsx");
    assert!(
        matches!(
            error,
            InjectError::Parse {
                line: 6,
                column: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("unparsable.tsx:6:1: does not parse"),
        "{error}"
    );

    let error = refused("no-default-export.tsx");
    assert!(
        matches!(error, InjectError::NoRootComponent { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("export default withConnectors(App)"),
        "{error}"
    );

    let error = refused("commonjs.js");
    assert!(
        matches!(error, InjectError::NoRootComponent { .. }),
        "{error:?}"
    );

    let error = refused("object-default-export.ts");
    assert!(
        matches!(
            error,
            InjectError::UnsupportedRootShape {
                line: 1,
                column: 16,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("object literal"), "{error}");

    let error = refused("class-referenced-elsewhere.jsx");
    assert!(
        matches!(error, InjectError::UnsupportedRootShape { line: 3, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("class App"), "{error}");

    let error = refused("two-register-calls.js");
    assert!(
        matches!(
            &error,
            InjectError::UnsupportedRootShape { line: 8, column: 3, anchor, .. }
                if anchor.contains("lines 8 and 10")
        ),
        "{error:?}"
    );

    let error = refused("named-re-export.ts");
    assert!(
        matches!(error, InjectError::UnsupportedRootShape { .. }),
        "{error:?}"
    );

    let error = plan_root_insert("App.vue", "<template/>", &SPEC);
    assert!(
        matches!(error, Err(InjectError::UnsupportedFileType { .. })),
        "{error:?}"
    );
}

/// `remove` on a root file where the user's own code still calls the wrapper: a conflict that
/// names the line, with or without the lock file's record, and nothing removed.
/// Found by the fuzz target `inject`: a root whose wrap was already there without its import
/// gets the import alone, and `remove` takes only that import out again (the wrap was the
/// file's before the insert), byte for byte, instead of refusing it as a use of the name.
#[test]
fn a_wrap_that_was_already_there_stays_when_its_import_goes() {
    let original = "import { other } from './legacy/connectors';\n\nfunction App() {\n  return null;\n}\n\nexport default withConnectors(App);\n";
    let (added, insertions) = applied("App.tsx", original);
    assert!(
        insertions.iter().all(|i| i.kind == InsertionKind::Import),
        "{insertions:?}"
    );
    match plan_root_remove("App.tsx", &added, &SPEC, Some(&insertions)) {
        Ok(RootRemove::Removed(edit)) => assert_eq!(edit.output, original),
        other => panic!("expected the import removed, got {other:?}"),
    }
}

/// Found by the fuzz target `inject`: an entry that already imported the wrapper (unused) gets
/// the wrap alone, and `remove` takes only the wrap out again, keeping that import.
#[test]
fn an_import_that_was_already_there_stays_when_the_wrap_goes() {
    let original = "import { registerRootComponent } from 'expo';\n\nimport App from './App';\n\nimport { withConnectors } from './src/connectors';\nregisterRootComponent(App);\n";
    let (added, insertions) = applied("index.ts", original);
    assert!(
        insertions.iter().all(|i| i.kind != InsertionKind::Import),
        "{insertions:?}"
    );
    match plan_root_remove("index.ts", &added, &SPEC, Some(&insertions)) {
        Ok(RootRemove::Removed(edit)) => assert_eq!(edit.output, original),
        other => panic!("expected the wrap removed, got {other:?}"),
    }
}

#[test]
fn a_second_use_of_the_wrapper_name_stops_remove_with_its_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wrapper-use");
    let name = "second-use-after-add.tsx";
    let text = std::fs::read_to_string(dir.join(name)).expect("fixture");
    let recorded = [
        Insertion {
            kind: InsertionKind::Import,
            text: "import { withConnectors } from './src/connectors';\n".to_owned(),
        },
        Insertion {
            kind: InsertionKind::WrapOpen,
            text: "withConnectors(".to_owned(),
        },
        Insertion {
            kind: InsertionKind::WrapClose,
            text: ");".to_owned(),
        },
    ];
    for record in [Some(&recorded[..]), None] {
        match plan_root_remove(name, &text, &SPEC, record) {
            Ok(RootRemove::Conflict(conflict)) => {
                let message = conflict.to_string();
                assert!(
                    message.contains("`withConnectors` is still used at line 5, column 18"),
                    "{message}"
                );
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    // The same after a real `add`: the user adds a use, `remove` refuses.
    let original =
        std::fs::read_to_string(fixtures_dir().join("02-default-function.tsx")).expect("fixture");
    let (added, insertions) = applied("02-default-function.tsx", &original);
    let edited = format!("{added}\nexport const Other = withConnectors(() => null);\n");
    let line = edited.lines().count();
    match plan_root_remove("02-default-function.tsx", &edited, &SPEC, Some(&insertions)) {
        Ok(RootRemove::Conflict(conflict)) => assert!(
            conflict.reason.contains(&format!("line {line}, column 22")),
            "{conflict}"
        ),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// `add` where the user's code binds `withConnectors` (an import from another module, a
/// `const`, a function): the wrapper is imported under the first free name.
#[test]
fn a_taken_wrapper_name_gets_the_first_free_one() {
    for (name, local) in [
        ("36-wrapper-name-taken.tsx", "withConnectors2"),
        ("37-wrapper-names-bound-by-the-user.tsx", "withConnectors3"),
    ] {
        let text = std::fs::read_to_string(fixtures_dir().join(name)).expect("fixture");
        let (output, insertions) = applied(name, &text);
        assert!(
            output.contains(&format!(
                "import {{ withConnectors as {local} }} from './src/connectors';"
            )),
            "{output}"
        );
        assert!(output.contains(&format!("{local}(")), "{output}");
        let removed = plan_root_remove(name, &output, &SPEC, Some(&insertions));
        assert!(
            matches!(&removed, Ok(RootRemove::Removed(edit)) if edit.output == text),
            "{removed:?}"
        );
    }
}

#[test]
fn register_root_component_is_found_inside_a_block() {
    let name = "38-register-root-component-in-a-block.js";
    let text = std::fs::read_to_string(fixtures_dir().join(name)).expect("fixture");
    let (output, _) = applied(name, &text);
    assert!(
        output.contains("  registerRootComponent(withConnectors(App));"),
        "{output}"
    );
}

#[test]
fn the_bom_stays_first_and_offsets_account_for_it() {
    let text = "\u{feff}export default App;\nfunction App() { return null; }\n";
    let (output, _) = applied("App.tsx", text);
    assert_eq!(
        output,
        "\u{feff}import { withConnectors } from './src/connectors';\nexport default withConnectors(App);\nfunction App() { return null; }\n"
    );
}

#[test]
fn a_file_that_ends_with_an_import_keeps_the_appended_binding_last() {
    // Found by the inject fuzz target: the import went after the binding appended for
    // `export { App as default }`, and the removal then refused the binding as changed.
    let source = "function App() {\n  return null;\n}\n\nexport { App as default };\nimport { a } from 'b';\n";
    let Ok(RootInsert::Applied(added)) = plan_root_insert("App.tsx", source, &SPEC) else {
        panic!("expected an edit");
    };
    assert!(
        added.output.ends_with(
            "import { a } from 'b';\nimport { withConnectors } from './src/connectors';\nconst AppWithConnectors = withConnectors(App);\n"
        ),
        "{}",
        added.output
    );
    let removed = plan_root_remove("App.tsx", &added.output, &SPEC, Some(&added.insertions));
    assert!(
        matches!(&removed, Ok(RootRemove::Removed(edit)) if edit.output == source),
        "{removed:?}"
    );
}

#[test]
fn the_import_goes_above_decorators_and_unusual_spaces_on_the_first_line() {
    // Found by the inject fuzz target: with no import in the file, the import went between
    // `@decorator` and `export`, or after a U+FEFF that is not the file's first character, and
    // the removal then refused it as changed.
    let import = "import { withConnectors } from './src/connectors';\n";
    for (first_line, rest) in [
        (
            "@a() @b ",
            "export class Screen {}\nexport default Screen;\n",
        ),
        ("@decorator\n", "class App {}\nexport default App;\n"),
        (
            "\u{feff}",
            "export default function App() {\n  return null;\n}\n",
        ),
        (
            "\u{a0}\u{2003}",
            "export default App;\nfunction App() { return null; }\n",
        ),
    ] {
        let source = format!("// A root without imports.\n\n{first_line}{rest}");
        let (output, insertions) = applied("App.tsx", &source);
        assert!(
            output.starts_with(&format!(
                "// A root without imports.\n\n{import}{first_line}"
            )),
            "{first_line:?}: {output}"
        );
        let removed = plan_root_remove("App.tsx", &output, &SPEC, Some(&insertions));
        assert!(
            matches!(&removed, Ok(RootRemove::Removed(edit)) if edit.output == source),
            "{first_line:?}: {removed:?}"
        );
    }
    // A decorator before `export default class|function` would stay before `export`, apart
    // from the class it decorates, if the declaration were wrapped in place: refused.
    for source in [
        "@decorator export default function App() {\n  return null;\n}\n",
        "// A root.\n\n@decorator\nexport default class App {}\n",
    ] {
        let error = plan_root_insert("App.tsx", source, &SPEC);
        let line = source.lines().position(|l| l.starts_with('@')).unwrap_or(0) + 1;
        assert!(
            matches!(&error, Err(InjectError::UnsupportedRootShape { line: l, column: 1, anchor, .. })
                if *l == line && anchor.contains("decorated")),
            "{source:?}: {error:?}"
        );
    }
}

#[test]
fn parse_errors_after_a_bom_count_columns_from_the_line_start() {
    let error = plan_root_insert("App.tsx", "\u{feff}export default (;\n", &SPEC);
    assert!(
        matches!(
            error,
            Err(InjectError::Parse {
                line: 1,
                column: 17,
                ..
            })
        ),
        "{error:?}"
    );
}

/// Nesting that the parser follows by recursion, `depth` levels deep, around a root that can
/// be wrapped: the shapes that take the most stack per byte.
fn deeply_nested(kind: &str, depth: usize) -> String {
    let (open, close) = match kind {
        "parentheses" => ("(", ")"),
        "arrays" => ("[", "]"),
        "tuple types" => ("[", "]"),
        "objects" => ("{a:", "}"),
        "jsx" => ("<a>", "</a>"),
        "prefix operators" => ("!", ""),
        "arrow functions" => ("()=>", ""),
        "blocks" => ("{", "}"),
        other => panic!("unknown nesting {other}"),
    };
    let nested = format!("{}1{}", open.repeat(depth), close.repeat(depth));
    match kind {
        "tuple types" => format!("type T = {nested};\nexport default App;\n"),
        "blocks" => format!("{nested}\nexport default App;\n").replace('1', ""),
        "jsx" => format!(
            "const x = {};\nexport default App;\n",
            nested.replace('1', "")
        ),
        _ => format!("const x = {nested};\nexport default App;\n"),
    }
}

#[test]
fn deep_nesting_is_parsed_or_refused_but_never_overflows_the_stack() {
    // On a thread with a small stack, like a caller's worker thread: the parse must find its
    // own room. 20,000 levels overflowed 2 MiB in the parser alone.
    let worker = std::thread::Builder::new().stack_size(256 << 10).spawn(|| {
        for kind in [
            "parentheses",
            "arrays",
            "tuple types",
            "objects",
            "jsx",
            "prefix operators",
            "arrow functions",
            "blocks",
        ] {
            let source = deeply_nested(kind, 20_000);
            match plan_root_insert("App.tsx", &source, &SPEC) {
                Ok(RootInsert::Applied(edit)) => {
                    assert!(
                        edit.output
                            .ends_with("export default withConnectors(App);\n"),
                        "{kind}"
                    );
                }
                other => panic!("{kind}: {other:?}"),
            }
            assert!(check_syntax("App.tsx", &source).is_ok(), "{kind}");
        }
    });
    assert!(
        worker
            .and_then(|w| w.join().map_err(|_| std::io::Error::other("panicked")))
            .is_ok()
    );
}

#[test]
fn files_over_the_size_limit_are_refused() {
    let source = format!("export default App;\n{}", "//\n".repeat(2 << 20));
    let error = plan_root_insert("App.tsx", &source, &SPEC);
    assert!(
        matches!(&error, Err(InjectError::TooLarge { len, limit, .. }) if len > limit),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 16: the wrap of a declaration ends its statement; the wrap goes inside the HOCs.

#[test]
fn a_wrapped_function_declaration_ends_with_the_files_semicolon() {
    let name = "02-default-function.tsx";
    let text = std::fs::read_to_string(fixtures_dir().join(name)).expect("fixture");
    let (output, insertions) = applied(name, &text);
    assert!(output.contains("\n});\n"), "{output}");
    assert!(!output.contains("\n})\n"), "{output}");
    for recorded in [Some(insertions.as_slice()), None] {
        match plan_root_remove(name, &output, &SPEC, recorded) {
            Ok(RootRemove::Removed(edit)) => assert_eq!(edit.output, text),
            other => panic!("{other:?}"),
        }
    }
    // Without semicolons in the file, none is added.
    let bare = "import { View } from 'react-native'\n\nexport default function App() {\n  return <View />\n}\n";
    let (output, _) = applied("App.tsx", bare);
    assert!(output.ends_with("\n})\n"), "{output}");
}

#[test]
fn the_wrap_goes_inside_the_hocs_at_the_default_export() {
    let name = "35-sentry-wrap-function.tsx";
    let text = std::fs::read_to_string(fixtures_dir().join(name)).expect("fixture");
    let (output, _) = applied(name, &text);
    assert!(
        output.contains("export default Sentry.wrap(withConnectors(function App() {"),
        "{output}"
    );
    assert!(output.contains("\n}));\n"), "{output}");
    let (output, _) = applied(
        "App.tsx",
        "import * as Sentry from '@sentry/react-native';\nfunction App() {\n  return null;\n}\nexport default Sentry.wrap(React.memo(App));\n",
    );
    assert!(
        output.ends_with("export default Sentry.wrap(React.memo(withConnectors(App)));\n"),
        "{output}"
    );
    // An older wrap outside the HOC is found again: already present, and removable.
    let outside = "import { withConnectors } from './src/connectors';\nexport default withConnectors(Sentry.wrap(App));\n";
    assert_eq!(
        plan_root_insert("App.tsx", outside, &SPEC),
        Ok(RootInsert::AlreadyPresent)
    );
    // A factory argument (`lazy(() => ...)`) is not a component: the wrap stays outside.
    let (output, _) = applied(
        "App.tsx",
        "import { lazy } from 'react';\nexport default lazy(() => import('./Main'));\n",
    );
    assert!(
        output.ends_with("export default withConnectors(lazy(() => import('./Main')));\n"),
        "{output}"
    );
}

// ---------------------------------------------------------------------------------------------
// Properties over the corpus and its mutations.

#[derive(Debug, Clone)]
struct Mutation {
    fixture: usize,
    crlf: Option<bool>,
    bom: Option<bool>,
    tabs: Option<bool>,
    /// (line index, text) pairs inserted as whole lines.
    extra_lines: Vec<(usize, &'static str)>,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let extra = prop::sample::select(vec![
        "",
        "// an extra comment",
        "/* extra */",
        "  ",
        "/** doc\n * more\n */",
    ]);
    (
        0..corpus().len(),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        prop::collection::vec((0usize..40, extra), 0..4),
    )
        .prop_map(|(fixture, crlf, bom, tabs, extra_lines)| Mutation {
            fixture,
            crlf,
            bom,
            tabs,
            extra_lines,
        })
}

fn mutate(text: &str, m: &Mutation) -> String {
    let had_bom = text.starts_with('\u{feff}');
    let body = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let ends_with_newline = body.ends_with('\n');
    let mut lines: Vec<String> = body.lines().map(str::to_owned).collect();
    if let Some(tabs) = m.tabs {
        for line in &mut lines {
            let trimmed = line.trim_start_matches([' ', '\t']);
            let depth = (line.len() - trimmed.len()) / 2;
            let indent = if tabs {
                "\t".repeat(depth)
            } else {
                "    ".repeat(depth)
            };
            *line = format!("{indent}{trimmed}");
        }
    }
    for (at, extra) in &m.extra_lines {
        let at = (*at).min(lines.len());
        lines.insert(at, (*extra).to_owned());
    }
    let eol = match m.crlf {
        Some(true) => "\r\n",
        Some(false) => "\n",
        None if text.contains("\r\n") => "\r\n",
        None => "\n",
    };
    let mut out = String::new();
    if m.bom.unwrap_or(had_bom) {
        out.push('\u{feff}');
    }
    out.push_str(&lines.join(eol));
    if ends_with_newline {
        out.push_str(eol);
    }
    out.replace('\n', eol).replace("\r\r\n", "\r\n")
}

/// The mutated fixture, when it still is an insertable root (a mutation may land inside a
/// template literal or JSX text: that still parses; anything else is skipped).
fn insertable(m: &Mutation) -> Option<(String, String, String, Vec<Insertion>)> {
    let (name, text) = corpus().swap_remove(m.fixture);
    let mutated = mutate(&text, m);
    match plan_root_insert(&name, &mutated, &SPEC) {
        Ok(RootInsert::Applied(edit)) => Some((name, mutated, edit.output, edit.insertions)),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn i1_output_parses(m in mutation()) {
        if let Some((name, _, output, _)) = insertable(&m) {
            // Re-planning parses the output again: an unparsable output would be an error here.
            let again = plan_root_insert(&name, &output, &SPEC);
            prop_assert_eq!(again, Ok(RootInsert::AlreadyPresent));
        }
    }

    #[test]
    fn i2_applying_twice_is_applying_once(m in mutation()) {
        if let Some((name, _, output, _)) = insertable(&m) {
            let second = plan_root_insert(&name, &output, &SPEC);
            prop_assert_eq!(second, Ok(RootInsert::AlreadyPresent));
        }
    }

    #[test]
    fn i3_remove_after_apply_restores_every_byte(m in mutation()) {
        if let Some((name, original, output, insertions)) = insertable(&m) {
            for recorded in [Some(insertions.as_slice()), None] {
                match plan_root_remove(&name, &output, &SPEC, recorded) {
                    Ok(RootRemove::Removed(edit)) => prop_assert_eq!(&edit.output, &original),
                    other => prop_assert!(false, "{}: {:?}", name, other),
                }
            }
        }
    }

    #[test]
    fn insertion_only_keeps_the_original_as_a_subsequence(m in mutation()) {
        if let Some((_, original, output, _)) = insertable(&m) {
            prop_assert!(is_subsequence(&original, &output));
            prop_assert_eq!(output.starts_with('\u{feff}'), original.starts_with('\u{feff}'));
            // The inserted text follows the file's line ending.
            if original.contains("\r\n") {
                prop_assert_eq!(output.matches('\n').count(), output.matches("\r\n").count());
            }
        }
    }

    #[test]
    fn i7_truncated_or_arbitrary_input_never_panics(m in mutation(), cut in 0usize..4000, noise in ".{0,64}") {
        let (name, text) = corpus().swap_remove(m.fixture);
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        for input in [format!("{}{noise}", &text[..cut]), noise.clone()] {
            if let Ok(RootInsert::Applied(edit)) = plan_root_insert(&name, &input, &SPEC) {
                prop_assert!(is_subsequence(&input, &edit.output));
            }
            let _ = plan_root_remove(&name, &input, &SPEC, None);
        }
    }
}
