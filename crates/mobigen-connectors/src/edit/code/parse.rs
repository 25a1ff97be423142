//! Parsing JavaScript / TypeScript with SWC (`swc_ecma_parser`): the one place where SWC
//! positions become byte offsets, the stack every parse runs on, and the windowed I1 check of an
//! edited text.

use std::ops::Range;

use swc_common::{BytePos, Span, Spanned};
use swc_ecma_ast::{EsVersion, Expr, Lit, Module, ModuleItem, Stmt};
use swc_ecma_parser::{EsSyntax, Parser, StringInput, Syntax, TsSyntax, lexer::Lexer};

use super::InjectError;
use super::edit::Edit;
use super::style::BOM;

/// The language of a source file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceSyntax {
    /// `.js`, `.mjs`, `.cjs`: JavaScript with JSX (React Native allows JSX in `.js`).
    JavaScript,
    /// `.jsx`.
    Jsx,
    /// `.ts`, `.mts`, `.cts`: TypeScript without JSX.
    TypeScript,
    /// `.tsx`.
    Tsx,
}

impl SourceSyntax {
    /// The syntax of `path`, from its extension.
    ///
    /// # Errors
    /// [`InjectError::UnsupportedFileType`] for any other extension.
    pub fn from_path(path: &str) -> Result<SourceSyntax, InjectError> {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let extension = name.rsplit_once('.').map_or("", |(_, ext)| ext);
        match extension.to_ascii_lowercase().as_str() {
            "js" | "mjs" | "cjs" => Ok(SourceSyntax::JavaScript),
            "jsx" => Ok(SourceSyntax::Jsx),
            "ts" | "mts" | "cts" => Ok(SourceSyntax::TypeScript),
            "tsx" => Ok(SourceSyntax::Tsx),
            _ => Err(InjectError::UnsupportedFileType {
                file: path.to_owned(),
                extension: extension.to_owned(),
            }),
        }
    }

    fn swc(self) -> Syntax {
        match self {
            SourceSyntax::JavaScript | SourceSyntax::Jsx => Syntax::Es(EsSyntax {
                jsx: true,
                ..EsSyntax::default()
            }),
            SourceSyntax::TypeScript | SourceSyntax::Tsx => Syntax::Typescript(TsSyntax {
                tsx: self == SourceSyntax::Tsx,
                decorators: true,
                ..TsSyntax::default()
            }),
        }
    }
}

/// The largest file the injector parses (a root component or a supplied file is far smaller).
pub(super) const MAX_PARSE_LEN: usize = 4 << 20;

/// Stack reserved per byte of parsed text. SWC's parser, the tree's drop and the visitors
/// recurse once per nesting level, and the parser's own `stacker` feature is off, so the stack
/// is sized for the worst case: every byte one level deeper. The oxc parser this replaced needed
/// at most 0.7 KiB per byte optimised and 1.9 KiB unoptimised; for SWC the unoptimised figure is
/// raised to 6 KiB, with which every shape of
/// `deep_nesting_is_parsed_or_refused_but_never_overflows_the_stack` (20,000 levels) passes.
/// Only the pages a parse really reaches are ever touched.
const STACK_PER_BYTE: usize = if cfg!(debug_assertions) {
    6 << 10
} else {
    2 << 10
};

/// Stack for everything around the recursion.
const STACK_BASE: usize = 1 << 20;

/// Position SWC gives the first byte it is shown (`BytePos(0)` is reserved for dummy spans).
const START: BytePos = BytePos(1);

/// Byte offset of an SWC position in a text whose first byte shown to SWC is at `base`.
/// Every conversion from SWC positions goes through here.
fn byte_offset(pos: BytePos, base: usize) -> usize {
    pos.0.saturating_sub(START.0) as usize + base
}

/// A parsed module with its source.
pub(super) struct Parsed<'s> {
    pub(super) source: &'s str,
    /// Bytes before what SWC saw: the BOM, when there is one.
    pub(super) body_start: usize,
    pub(super) module: Module,
}

impl Parsed<'_> {
    /// Byte offset in the whole source of an SWC position.
    pub(super) fn offset(&self, pos: BytePos) -> usize {
        byte_offset(pos, self.body_start)
    }

    /// Byte range in the whole source of an SWC span.
    pub(super) fn range(&self, span: Span) -> Range<usize> {
        self.offset(span.lo)..self.offset(span.hi)
    }

    /// The top-level statements (directives included), as byte ranges.
    pub(super) fn outline(&self) -> Outline {
        Outline {
            body_start: self.body_start,
            items: self
                .module
                .body
                .iter()
                .map(|item| self.range(item.span()))
                .collect(),
        }
    }

    /// The directive prologue (`'use client';` ...): the leading string-literal statements.
    pub(super) fn directives(&self) -> impl Iterator<Item = &ModuleItem> {
        self.module.body.iter().take_while(|item| {
            matches!(item, ModuleItem::Stmt(Stmt::Expr(e)) if matches!(&*e.expr, Expr::Lit(Lit::Str(_))))
        })
    }
}

/// Where the top-level statements of a parsed text are: what [`check_edited`] needs to re-parse
/// only the statements around each edit.
pub(super) struct Outline {
    body_start: usize,
    pub(super) items: Vec<Range<usize>>,
}

/// Checks that `source` parses as a module of the syntax `file`'s extension names, with the
/// injector's own parser settings (for text the library writes without editing it: supplied
/// files, a connector's part of the root module).
///
/// Like every parse of the injector, it runs where the stack has room for any nesting the
/// text can hold (2 KiB per byte in release builds): on the calling thread when it has that
/// much left, else on a scoped thread of its own, so deeply nested input is parsed or refused
/// but never overflows the caller's stack.
///
/// # Errors
/// [`InjectError::UnsupportedFileType`], [`InjectError::Parse`], [`InjectError::TooLarge`] or
/// [`InjectError::ParserStack`].
pub fn check_syntax(file: &str, source: &str) -> Result<(), InjectError> {
    with_parsed(file, source, SourceSyntax::from_path(file)?, |_| Ok(()))
}

/// [`check_syntax`] for each `(file, source)` in turn, stopping at the first error. The parses
/// share one stack sized for the largest source, so many files do not cost a thread each.
///
/// # Errors
/// The index of the first file that fails, and its error as from [`check_syntax`].
pub fn check_syntax_each(files: &[(&str, &str)]) -> Result<(), (usize, InjectError)> {
    let Some((largest, source)) = files.iter().max_by_key(|(_, source)| source.len()) else {
        return Ok(());
    };
    let mut failed = 0;
    on_parser_stack(largest, source.len().min(MAX_PARSE_LEN), || {
        files
            .iter()
            .enumerate()
            .try_for_each(|(i, (file, source))| {
                failed = i;
                check_syntax(file, source)
            })
    })
    .map_err(|error| (failed, error))
}

/// Parses `source` as a module and hands the result to `work`, on a stack deep enough for any
/// nesting the text can hold (the parse, `work`'s walks and the drop of the tree all run
/// there). The BOM is not shown to the parser.
pub(super) fn with_parsed<T: Send>(
    file: &str,
    source: &str,
    syntax: SourceSyntax,
    work: impl FnOnce(&Parsed<'_>) -> Result<T, InjectError> + Send,
) -> Result<T, InjectError> {
    if source.len() > MAX_PARSE_LEN {
        return Err(InjectError::TooLarge {
            file: file.to_owned(),
            len: source.len(),
            limit: MAX_PARSE_LEN,
        });
    }
    on_parser_stack(file, source.len(), || {
        let body_start = if source.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        let module = parse_module(&source[body_start..], syntax)
            .map_err(|(offset, message)| parse_error(file, source, body_start + offset, message))?;
        work(&Parsed {
            source,
            body_start,
            module,
        })
    })
}

/// Runs `work` (which parses at most `len` bytes) on this thread when its stack has room for
/// [`STACK_PER_BYTE`] per byte, else on a scoped thread with that much stack.
pub(super) fn on_parser_stack<T: Send>(
    file: &str,
    len: usize,
    work: impl FnOnce() -> Result<T, InjectError> + Send,
) -> Result<T, InjectError> {
    let need = len
        .saturating_mul(STACK_PER_BYTE)
        .saturating_add(STACK_BASE);
    if stacker::remaining_stack().is_some_and(|left| left >= need) {
        return work();
    }
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("mobigen-parse".to_owned())
            .stack_size(need)
            .spawn_scoped(scope, work)
            .map_err(|error| InjectError::ParserStack {
                file: file.to_owned(),
                mib: need.div_ceil(1 << 20),
                message: error.to_string(),
            })?;
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// One parse of `text` (at most [`MAX_PARSE_LEN`] bytes): the module, or the first error's
/// offset in `text` and message. Errors the parser recovered from count as errors.
pub(super) fn parse_module(text: &str, syntax: SourceSyntax) -> Result<Module, (usize, String)> {
    // `MAX_PARSE_LEN` keeps every offset far inside u32.
    let end = u32::try_from(text.len()).unwrap_or(u32::MAX - START.0) + START.0;
    let lexer = Lexer::new(
        syntax.swc(),
        EsVersion::latest(),
        StringInput::new(text, START, BytePos(end)),
        None,
    );
    let mut parser = Parser::new_from(lexer);
    let result = parser.parse_module();
    let recovered = parser.take_errors();
    let first = match result {
        Ok(module) => match recovered.into_iter().next() {
            None => return Ok(module),
            Some(error) => error,
        },
        Err(error) => error,
    };
    let offset = byte_offset(first.span().lo, 0).min(text.len());
    Err((offset, first.kind().msg().into_owned()))
}

fn parse_error(file: &str, source: &str, offset: usize, message: String) -> InjectError {
    let (line, column) = line_column(source, offset);
    InjectError::Parse {
        file: file.to_owned(),
        line,
        column,
        message,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or_else(
        || {
            if before.starts_with(BOM) {
                BOM.len()
            } else {
                0
            }
        },
        |i| i + 1,
    );
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// I1 for an edited text without parsing all of it: re-parses, for each group of nearby edits,
/// the statements the edits touch together with one untouched top-level statement on each side
/// (or the start / end of the file), and checks that those two neighbours come out as exactly
/// the statements they were.
///
/// Why that is enough: `source` parsed, and outside the windows the output is the same text.
/// At each window's edges the parser is at a top-level statement boundary with the same tokens
/// on both sides as in `source` (the neighbour statement is unchanged and was found again with
/// the same extent), so everything outside the windows parses exactly as before; inside, the
/// window parsed. An edit that would let a statement run on into the next (a missing `;`
/// before a line that starts with `(`) moves a neighbour's boundary and is refused, although
/// a whole-file parse would accept it with a different meaning.
///
/// `rejoins`: a deletion that ends where a statement starts joins that statement to the text
/// before it on purpose (`export default withConnectors(App); function App` becomes
/// `export default function App` again), so that statement is re-parsed, not held fixed.
pub(super) fn check_edited(
    file: &str,
    syntax: SourceSyntax,
    outline: &Outline,
    edits: &[Edit],
    output: &str,
    rejoins: bool,
) -> Result<(), InjectError> {
    // Offset in `output` of an offset in the source that no edit touches.
    let moved = |pos: usize| -> usize {
        edits
            .iter()
            .filter(|edit| edit.range.end <= pos)
            .fold(pos, |at, edit| at + edit.text.len() - edit.range.len())
    };
    for window in windows(&outline.items, edits, rejoins) {
        check_window(file, syntax, outline, output, window, &moved)?;
    }
    if cfg!(debug_assertions) {
        // The whole-file parse this check stands in for: every test run compares the two.
        if let Err(error) = with_parsed(file, output, syntax, |_| Ok(())) {
            panic!("check_edited passed an output that does not parse: {error}\n{output}");
        }
    }
    Ok(())
}

/// I1 for a small file edited as a whole (the dynamic app config): the whole output is parsed;
/// a failure is [`InjectError::BrokenOutput`].
pub(super) fn check_whole(
    file: &str,
    syntax: SourceSyntax,
    output: &str,
) -> Result<(), InjectError> {
    with_parsed(file, output, syntax, |_| Ok(())).map_err(|error| match error {
        InjectError::Parse {
            file,
            line,
            column,
            message,
        } => InjectError::BrokenOutput {
            file,
            line,
            column,
            message,
        },
        other => other,
    })
}

/// One re-parsed window: the index of the untouched statement before it (None: the start of
/// the file) and of the one after it (`items.len()`: the end of the file).
type Window = (Option<usize>, usize);

/// The windows of `edits` (sorted) over the statements `items`, merged when they share a
/// statement.
fn windows(items: &[Range<usize>], edits: &[Edit], rejoins: bool) -> Vec<Window> {
    let mut windows: Vec<Window> = Vec::new();
    for edit in edits {
        // A statement that ends where an edit starts, or starts where it ends, is untouched:
        // it is the neighbour whose extent the check holds fixed (unless `rejoins`).
        let before = items
            .partition_point(|item| item.end <= edit.range.start)
            .checked_sub(1);
        let after = if rejoins && !edit.range.is_empty() {
            items.partition_point(|item| item.start <= edit.range.end)
        } else {
            items.partition_point(|item| item.start < edit.range.end)
        };
        match windows.last_mut() {
            Some((_, last_after)) if before.is_none_or(|b| b <= *last_after) => {
                *last_after = (*last_after).max(after);
            }
            _ => windows.push((before, after)),
        }
    }
    windows
}

/// Parses one window of `output` and checks that its neighbours kept their extent.
fn check_window(
    file: &str,
    syntax: SourceSyntax,
    outline: &Outline,
    output: &str,
    (before, after): Window,
    moved: &(dyn Fn(usize) -> usize + Sync),
) -> Result<(), InjectError> {
    let items = &outline.items;
    let start = before.map_or(outline.body_start, |b| moved(items[b].start));
    let end = items
        .get(after)
        .map_or(output.len(), |item| moved(item.end));
    let text = &output[start..end];
    let broken = |offset: usize, message: String| {
        let (line, column) = line_column(output, start + offset);
        InjectError::BrokenOutput {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    };
    on_parser_stack(file, text.len(), || {
        let module =
            parse_module(text, syntax).map_err(|(offset, message)| broken(offset, message))?;
        let range = |item: &ModuleItem| {
            let span = item.span();
            byte_offset(span.lo, 0)..byte_offset(span.hi, 0)
        };
        if let Some(b) = before {
            let expected = 0..items[b].len();
            if module.body.first().map(range) != Some(expected.clone()) {
                return Err(broken(
                    expected.end,
                    "the statement before the edit would run on into it".to_owned(),
                ));
            }
        }
        if let Some(item) = items.get(after) {
            let expected = moved(item.start) - start..text.len();
            if module.body.last().map(range) != Some(expected.clone()) {
                return Err(broken(
                    expected.start,
                    "the edit would run on into the next statement".to_owned(),
                ));
            }
        }
        Ok(())
    })
}
