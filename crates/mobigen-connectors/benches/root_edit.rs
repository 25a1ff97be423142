//! The root-file edit (parse, anchors, edits, splice, re-parse check around the edits) against a
//! bare parse (SWC's `swc_ecma_parser`, the injector's parser) of the same generated `App.tsx`, at 100, 1,000 and
//! 10,000 lines.
//!
//! Run: `cargo bench -p mobigen-connectors --bench root_edit`. With `MOBIGEN_BENCH_FILES=DIR`
//! it also writes the generated files to `DIR/app-LINES.tsx`, so that `cargo xtask bench` can
//! time jscodeshift and ts-morph (bench/compare) on the very same files.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use mobigen_connectors::edit::code::{RootInsert, WrapSpec, plan_root_insert};
use swc_common::BytePos;
use swc_ecma_ast::EsVersion;
use swc_ecma_parser::{Parser, StringInput, Syntax, TsSyntax, lexer::Lexer};

const SPEC: WrapSpec<'static> = WrapSpec {
    module_specifier: "./src/connectors",
    wrapper: "withConnectors",
};

/// A plausible `App.tsx` of about `lines` lines: imports, styled components, the root.
fn generated_app(lines: usize) -> String {
    let mut text = String::from(
        "import React, { useState } from 'react';\nimport { StyleSheet, Text, View } from 'react-native';\n\n",
    );
    let mut index = 0;
    while text.lines().count() + 12 < lines {
        text.push_str(&format!(
            "function Card{index}({{ title }}: {{ title: string }}) {{\n  const [open, setOpen] = useState(false);\n  if (!open) {{\n    return null;\n  }}\n  return (\n    <View style={{styles.card}}>\n      <Text onPress={{() => setOpen(!open)}}>{{`${{title}} #{index}`}}</Text>\n    </View>\n  );\n}}\n\n"
        ));
        index += 1;
    }
    text.push_str(
        "const styles = StyleSheet.create({ card: { padding: 8 } });\n\nexport default function App() {\n  return <Card0 title=\"root\" />;\n}\n",
    );
    text
}

/// What a caller of the parser alone would do: one TSX parse, the statements counted.
fn bare_parse(source: &str) -> usize {
    let end = BytePos(1 + u32::try_from(source.len()).unwrap_or(u32::MAX - 1));
    let syntax = Syntax::Typescript(TsSyntax {
        tsx: true,
        decorators: true,
        ..TsSyntax::default()
    });
    let lexer = Lexer::new(
        syntax,
        EsVersion::latest(),
        StringInput::new(source, BytePos(1), end),
        None,
    );
    let mut parser = Parser::new_from(lexer);
    match parser.parse_module() {
        Ok(module) if parser.take_errors().is_empty() => module.body.len(),
        other => panic!("the generated file does not parse: {other:?}"),
    }
}

fn root_edit(c: &mut Criterion) {
    let mut group = c.benchmark_group("root_edit");
    let files_dir = std::env::var_os("MOBIGEN_BENCH_FILES").map(std::path::PathBuf::from);
    for lines in [100usize, 1_000, 10_000] {
        let source = generated_app(lines);
        if let Some(dir) = &files_dir {
            let path = dir.join(format!("app-{lines}.tsx"));
            if let Err(error) = std::fs::write(&path, &source) {
                panic!("cannot write {}: {error}", path.display());
            }
        }
        assert!(matches!(
            plan_root_insert("App.tsx", &source, &SPEC),
            Ok(RootInsert::Applied(_))
        ));
        group.throughput(Throughput::Bytes(source.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("bare_parse", lines),
            &source,
            |b, source| {
                b.iter(|| bare_parse(black_box(source)));
            },
        );
        group.bench_with_input(BenchmarkId::new("edit", lines), &source, |b, source| {
            b.iter(|| plan_root_insert("App.tsx", black_box(source), &SPEC));
        });
    }
    group.finish();
}

// The macro generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::root_edit);
}
use group::benches;
criterion_main!(benches);
