//! The root component file: one import of the generated connectors module and one wrap of the
//! root component, by insertion only, and the exact inverse.
//!
//! # Shapes and what is inserted
//!
//! | root shape | after the edit |
//! | --- | --- |
//! | `export default App;` (any identifier, call such as `Sentry.wrap(App)` / `memo(App)`, member, arrow, function or class expression, `as`/`satisfies`) | `export default withConnectors(App);` |
//! | `export default function App() {}`, `App` not used elsewhere; anonymous functions and classes | `export default withConnectors(function App() {})` |
//! | `export default function App() {}`, `App` used elsewhere | `export default withConnectors(App); function App() {}` (the declaration stays a hoisted declaration) |
//! | `export { App as default };` | `export { AppWithConnectors as default };` + `const AppWithConnectors = withConnectors(App);` at the end |
//! | `registerRootComponent(App);` (entry file) | `registerRootComponent(withConnectors(App));` |
//! | `AppRegistry.registerComponent(name, () => App);` | `AppRegistry.registerComponent(name, () => withConnectors(App));` |
//! | `export { default } from './pages';` | [`RootInsert::FollowReExport`]: the caller edits that file instead |
//!
//! Refused with a manual step: a default-exported *class* declaration whose name is used
//! elsewhere (a class is not hoisted, so neither the expression form nor a statement before it
//! keeps the meaning), default exports that are not components (objects, literals, TS
//! interfaces), `export { X as default } from '...'` re-exports of a named export, and files
//! where the wrapper's name is already taken.
//!
//! "Used elsewhere" is decided on the text (the name as a whole word outside the declaration,
//! in code, strings or comments alike): a false "used" only picks the separate-statement form,
//! which is also correct, so the check errs on the safe side.

use std::ops::Range;

use oxc_allocator::Allocator;
use oxc_ast::ast::ExportDefaultDeclarationKind as DefaultKind;
use oxc_ast::ast::{
    BindingPatternKind, Expression, ImportDeclarationSpecifier, ModuleExportName, Program,
    Statement, VariableDeclarationKind,
};
use oxc_span::{GetSpan, SourceType, Span};

use super::InjectError;
use super::edit::{Edit, apply_edits};
use super::style::{BOM, Style};

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

    fn source_type(self) -> SourceType {
        match self {
            SourceSyntax::JavaScript | SourceSyntax::Jsx => SourceType::mjs().with_jsx(true),
            SourceSyntax::TypeScript => SourceType::ts(),
            SourceSyntax::Tsx => SourceType::tsx(),
        }
    }
}

/// What to insert: the generated module's import specifier and the wrapper it exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapSpec<'a> {
    /// Import specifier of the generated module, relative to the root file (`./src/connectors`).
    pub module_specifier: &'a str,
    /// Name of the higher-order component it exports (`withConnectors`).
    pub wrapper: &'a str,
}

impl WrapSpec<'_> {
    /// The suffix that names a wrapped binding: `withConnectors` -> `WithConnectors`.
    fn binding_suffix(&self) -> String {
        let mut chars = self.wrapper.chars();
        chars.next().map_or_else(String::new, |first| {
            first.to_uppercase().chain(chars).collect::<String>()
        })
    }
}

/// Which of the root shapes was edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootShape {
    /// `export default <expression>`.
    DefaultExpression,
    /// `export default function/class ...` turned into a wrapped expression.
    DefaultDeclarationInline,
    /// `export default function App` kept as a declaration, the wrap as its own statement.
    DefaultDeclarationKept,
    /// `export { App as default }`.
    DefaultSpecifier,
    /// `registerRootComponent(App)` in an entry file.
    RegisterRootComponent,
    /// `AppRegistry.registerComponent(name, () => App)`.
    AppRegistry,
    /// Only the import was missing; the wrap was already there.
    ImportOnly,
}

/// What one inserted snippet is, so it can be found and taken out again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InsertionKind {
    /// The import line, with the line break or space that separates it.
    Import,
    /// `withConnectors(` before the wrapped expression.
    WrapOpen,
    /// `)` after it.
    WrapClose,
    /// `withConnectors(App); ` between `export default ` and a kept function declaration.
    DefaultStatement,
    /// `WithConnectors` appended to the local name in `export { App as default }`.
    RenameSuffix,
    /// `const AppWithConnectors = withConnectors(App);` appended to the file.
    WrappedBinding,
}

/// One inserted snippet, as recorded in the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Insertion {
    /// What it is.
    pub kind: InsertionKind,
    /// Its exact text.
    pub text: String,
}

/// A planned edit of a root file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootEdit {
    /// Which shape was edited (for a removal: the shape the wrap was found in, or
    /// [`RootShape::ImportOnly`] when only the import was taken out).
    pub shape: RootShape,
    /// The edits, sorted, against the input text.
    pub edits: Vec<Edit>,
    /// The input with the edits applied (checked to parse).
    pub output: String,
    /// The inserted snippets, for the lock file (empty for a removal).
    pub insertions: Vec<Insertion>,
}

/// A default re-export that points at the real root file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReExport {
    /// The module specifier as written (`./pages`); the caller resolves it to a file.
    pub specifier: String,
    /// 1-based line of the re-export.
    pub line: usize,
    /// 1-based column of the re-export.
    pub column: usize,
}

/// The answer to "add the connectors root to this file".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootInsert {
    /// The edits to make.
    Applied(RootEdit),
    /// The import and the wrap are both there already: nothing to do.
    AlreadyPresent,
    /// The file re-exports its default export from another module: edit that one instead.
    FollowReExport(ReExport),
}

/// Why the insertions cannot be taken out automatically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootConflict {
    /// The file.
    pub file: String,
    /// What was looked for (`the import of withConnectors from './src/connectors'`).
    pub anchor: String,
    /// What to do by hand.
    pub manual_step: String,
}

impl std::fmt::Display for RootConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} was changed since it was inserted; {}",
            self.file, self.anchor, self.manual_step
        )
    }
}

/// The answer to "take the connectors root out of this file".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootRemove {
    /// The edits that restore the file (exactly, when it was not touched since).
    Removed(RootEdit),
    /// Neither the import nor the wrap is there.
    NotPresent,
    /// Something was inserted but is no longer there verbatim.
    Conflict(RootConflict),
}

// ---------------------------------------------------------------------------------------------
// Parsing: the only place where parser positions become byte offsets.

/// The largest file the injector parses (a root component or a supplied file is far smaller).
const MAX_PARSE_LEN: usize = 4 << 20;

/// Stack reserved per byte of parsed text. The parser (oxc) recurses once per nesting level and
/// has no depth limit of its own, so the stack is sized for the worst case: every byte one
/// level deeper. Measured worst cases (nested tuple types, brackets, parentheses): 0.7 KiB per
/// byte in release builds, 1.9 KiB unoptimised; the reservation is 3x and 2x that. Only the
/// pages a parse really reaches are ever touched.
const STACK_PER_BYTE: usize = if cfg!(debug_assertions) { 4096 } else { 2048 };

/// Stack for everything around the recursion.
const STACK_BASE: usize = 1 << 20;

struct Parsed<'a> {
    source: &'a str,
    /// Bytes before what the parser saw: the BOM, when there is one.
    body_start: usize,
    program: Program<'a>,
}

impl Parsed<'_> {
    /// Byte offset in the whole source of a parser position. Every conversion goes through here.
    fn offset(&self, pos: u32) -> usize {
        pos as usize + self.body_start
    }

    fn range(&self, span: Span) -> Range<usize> {
        self.offset(span.start)..self.offset(span.end)
    }

    /// The top-level statements (directives first), as byte ranges.
    fn outline(&self) -> Outline {
        let spans = self.program.directives.iter().map(GetSpan::span);
        let spans = spans.chain(self.program.body.iter().map(GetSpan::span));
        Outline {
            body_start: self.body_start,
            items: spans.map(|span| self.range(span)).collect(),
        }
    }
}

/// Where the top-level statements of a parsed text are: what [`check_edited`] needs to re-parse
/// only the statements around each edit.
struct Outline {
    body_start: usize,
    items: Vec<Range<usize>>,
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

/// Parses `source` as a module and hands the result to `work`, on a stack deep enough for any
/// nesting the text can hold. The BOM is not shown to the parser.
fn with_parsed<T: Send>(
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
        let allocator = Allocator::default();
        let program = parse_module(&allocator, &source[body_start..], syntax)
            .map_err(|(offset, message)| parse_error(file, source, body_start + offset, message))?;
        work(&Parsed {
            source,
            body_start,
            program,
        })
    })
}

/// Runs `work` (which parses at most `len` bytes) on this thread when its stack has room for
/// [`STACK_PER_BYTE`] per byte, else on a scoped thread with that much stack.
fn on_parser_stack<T: Send>(
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

/// One parse of `text`: the module, or the first error's offset in `text` and message.
fn parse_module<'a>(
    allocator: &'a Allocator,
    text: &'a str,
    syntax: SourceSyntax,
) -> Result<Program<'a>, (usize, String)> {
    let parsed = oxc_parser::Parser::new(allocator, text, syntax.source_type()).parse();
    match parsed.errors.first() {
        None => Ok(parsed.program),
        Some(error) => {
            let offset = error
                .labels
                .as_ref()
                .and_then(|labels| labels.iter().map(|label| label.offset()).min())
                .unwrap_or(0);
            Err((offset, error.message.to_string()))
        }
    }
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
fn line_column(source: &str, offset: usize) -> (usize, usize) {
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
fn check_edited(
    file: &str,
    syntax: SourceSyntax,
    outline: &Outline,
    edits: &[Edit],
    output: &str,
    rejoins: bool,
) -> Result<(), InjectError> {
    let items = &outline.items;
    // Windows as (index of the neighbour before or None, index of the neighbour after or
    // items.len() for the end of the file), merged when they share a statement.
    let mut windows: Vec<(Option<usize>, usize)> = Vec::new();
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
    // Offset in `output` of an offset in the source that no edit touches.
    let moved = |pos: usize| -> usize {
        edits
            .iter()
            .filter(|edit| edit.range.end <= pos)
            .fold(pos, |at, edit| at + edit.text.len() - edit.range.len())
    };
    for (before, after) in windows {
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
            let allocator = Allocator::default();
            let program = parse_module(&allocator, text, syntax)
                .map_err(|(offset, message)| broken(offset, message))?;
            let spans = program.directives.iter().map(GetSpan::span);
            let mut spans = spans.chain(program.body.iter().map(GetSpan::span));
            let range = |span: Span| span.start as usize..span.end as usize;
            if let Some(b) = before {
                let expected = 0..items[b].len();
                if spans.next().map(range) != Some(expected.clone()) {
                    return Err(broken(
                        expected.end,
                        "the statement before the edit would run on into it".to_owned(),
                    ));
                }
            }
            if let Some(item) = items.get(after) {
                let expected = moved(item.start) - start..text.len();
                if spans.last().map(range) != Some(expected.clone()) {
                    return Err(broken(
                        expected.start,
                        "the edit would run on into the next statement".to_owned(),
                    ));
                }
            }
            Ok(())
        })?;
    }
    if cfg!(debug_assertions) {
        // The whole-file parse this check stands in for: every test run compares the two.
        if let Err(error) = with_parsed(file, output, syntax, |_| Ok(())) {
            panic!("check_edited passed an output that does not parse: {error}\n{output}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// AST queries.

/// An expression with parentheses and TypeScript type wrappers taken off.
fn bare<'b, 'a>(mut expr: &'b Expression<'a>) -> &'b Expression<'a> {
    loop {
        expr = match expr {
            Expression::ParenthesizedExpression(e) => &e.expression,
            Expression::TSAsExpression(e) => &e.expression,
            Expression::TSSatisfiesExpression(e) => &e.expression,
            Expression::TSNonNullExpression(e) => &e.expression,
            Expression::TSTypeAssertion(e) => &e.expression,
            _ => return expr,
        };
    }
}

/// `wrapper(arg)` with exactly one plain argument: the call's span and the argument.
fn wrapper_call<'b, 'a>(
    expr: &'b Expression<'a>,
    wrapper: &str,
) -> Option<(Span, &'b Expression<'a>)> {
    let Expression::CallExpression(call) = expr else {
        return None;
    };
    let Expression::Identifier(name) = &call.callee else {
        return None;
    };
    if name.name != wrapper
        || call.arguments.len() != 1
        || call.type_arguments.is_some()
        || call.optional
    {
        return None;
    }
    Some((call.span, call.arguments[0].as_expression()?))
}

/// A short description of an expression kind, for messages.
fn describe(expr: &Expression<'_>) -> &'static str {
    match expr {
        Expression::ObjectExpression(_) => "an object literal",
        Expression::ArrayExpression(_) => "an array literal",
        Expression::StringLiteral(_)
        | Expression::NumericLiteral(_)
        | Expression::BigIntLiteral(_)
        | Expression::BooleanLiteral(_)
        | Expression::NullLiteral(_)
        | Expression::RegExpLiteral(_)
        | Expression::TemplateLiteral(_) => "a literal",
        Expression::UnaryExpression(_)
        | Expression::BinaryExpression(_)
        | Expression::LogicalExpression(_)
        | Expression::UpdateExpression(_) => "an operator expression",
        Expression::AssignmentExpression(_) => "an assignment",
        Expression::NewExpression(_) => "a `new` expression",
        Expression::SequenceExpression(_) => "a comma expression",
        Expression::JSXElement(_) | Expression::JSXFragment(_) => "a JSX element (not a component)",
        _ => "an expression that is not a component",
    }
}

/// Whether an expression can be a component and so be wrapped.
fn wrappable(expr: &Expression<'_>) -> bool {
    let expr = bare(expr);
    expr.is_member_expression()
        || matches!(
            expr,
            Expression::Identifier(_)
                | Expression::CallExpression(_)
                | Expression::ArrowFunctionExpression(_)
                | Expression::FunctionExpression(_)
                | Expression::ClassExpression(_)
                | Expression::ConditionalExpression(_)
                | Expression::ChainExpression(_)
        )
}

/// Whether `name` occurs as a whole word in `text`. Only ASCII identifier characters count as
/// word characters, so any doubt answers "yes" (the safe side).
fn mentions(text: &str, name: &str) -> bool {
    first_mention(text, name).is_some()
}

fn first_mention(text: &str, name: &str) -> Option<usize> {
    word_positions(text, name).next()
}

/// Every offset where `name` occurs as a whole word (see [`mentions`]).
fn word_positions<'t>(text: &'t str, name: &'t str) -> impl Iterator<Item = usize> + 't {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    text.match_indices(name)
        .map(|(at, _)| at)
        .filter(move |&at| {
            let end = at + name.len();
            !name.is_empty()
                && (at == 0 || !is_word(bytes[at - 1]))
                && (end == bytes.len() || !is_word(bytes[end]))
        })
}

/// The import of the wrapper from the generated module, if any: the declaration's range and
/// whether it imports nothing else.
fn wrapper_import(parsed: &Parsed<'_>, spec: &WrapSpec<'_>) -> Option<(Range<usize>, bool)> {
    parsed.program.body.iter().find_map(|item| {
        let Statement::ImportDeclaration(import) = item else {
            return None;
        };
        if import.import_kind.is_type() || import.source.value != spec.module_specifier {
            return None;
        }
        let specifiers = import.specifiers.as_ref()?;
        let found = specifiers.iter().any(|s| match s {
            ImportDeclarationSpecifier::ImportSpecifier(named) => {
                !named.import_kind.is_type()
                    && named.local.name == spec.wrapper
                    && named.imported.name() == spec.wrapper
            }
            _ => false,
        });
        found.then(|| (parsed.range(import.span), specifiers.len() == 1))
    })
}

/// Whether another import binds the wrapper's name.
fn wrapper_name_imported_elsewhere(
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
) -> Option<Range<usize>> {
    parsed.program.body.iter().find_map(|item| {
        let Statement::ImportDeclaration(import) = item else {
            return None;
        };
        if import.source.value == spec.module_specifier {
            return None;
        }
        import.specifiers.as_ref()?.iter().find_map(|s| {
            let local = match s {
                ImportDeclarationSpecifier::ImportSpecifier(n) => &n.local,
                ImportDeclarationSpecifier::ImportDefaultSpecifier(d) => &d.local,
                ImportDeclarationSpecifier::ImportNamespaceSpecifier(n) => &n.local,
            };
            (local.name == spec.wrapper).then(|| parsed.range(local.span))
        })
    })
}

/// The anchor the wrap goes around.
enum Target {
    /// An expression (default export, `registerRootComponent` argument, `AppRegistry` arrow body).
    Expr {
        shape: RootShape,
        range: Range<usize>,
        wrapped: bool,
    },
    /// `export default function|class ...`.
    Decl {
        range: Range<usize>,
        name: Option<String>,
        is_class: bool,
        next_item: Option<usize>,
    },
    /// `export { X as default }`: the local name's range.
    Specifier {
        local: String,
        range: Range<usize>,
        wrapped: bool,
    },
    /// `export { default } from '...'`.
    ReExport(ReExport),
}

/// `registerRootComponent(X)` or `AppRegistry.registerComponent(name, () => X)` as a top-level
/// statement.
fn register_call<'m, 'a>(parsed: &'m Parsed<'a>) -> Option<(RootShape, &'m Expression<'a>)> {
    parsed.program.body.iter().find_map(|item| {
        let Statement::ExpressionStatement(stmt) = item else {
            return None;
        };
        let Expression::CallExpression(call) = bare(&stmt.expression) else {
            return None;
        };
        let callee_name = match &call.callee {
            Expression::Identifier(i) => i.name.as_str(),
            Expression::StaticMemberExpression(m) => m.property.name.as_str(),
            _ => return None,
        };
        if call.arguments.iter().any(|a| a.is_spread()) {
            return None;
        }
        match (callee_name, call.arguments.as_slice()) {
            ("registerRootComponent", [arg]) => {
                Some((RootShape::RegisterRootComponent, arg.as_expression()?))
            }
            ("registerComponent", [_, factory]) => {
                let Expression::ArrowFunctionExpression(arrow) = bare(factory.as_expression()?)
                else {
                    return None;
                };
                arrow
                    .get_expression()
                    .map(|body| (RootShape::AppRegistry, body))
            }
            _ => None,
        }
    })
}

/// Finds the anchor of the wrap.
fn find_target(
    file: &str,
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
) -> Result<Target, InjectError> {
    let at = |offset: usize| line_column(parsed.source, offset);
    let unsupported = |offset: usize, anchor: String| {
        let (line, column) = at(offset);
        InjectError::UnsupportedRootShape {
            file: file.to_owned(),
            line,
            column,
            anchor,
            manual_step: manual_step(spec),
        }
    };
    // An expression to wrap, unless it is already wrapped; `what` names it in messages.
    let expr_target = |shape: RootShape, expr: &Expression<'_>, what: &str| {
        let wrapped = wrapper_call(bare(expr), spec.wrapper).is_some();
        if !wrapped && !wrappable(expr) {
            return Err(unsupported(
                parsed.offset(expr.span().start),
                format!("{what} ({})", describe(bare(expr))),
            ));
        }
        Ok(Target::Expr {
            shape,
            range: parsed.range(expr.span()),
            wrapped,
        })
    };
    if let Some((shape, expr)) = register_call(parsed) {
        return expr_target(shape, expr, "the root component argument");
    }
    let body = &parsed.program.body;
    for (index, item) in body.iter().enumerate() {
        match item {
            Statement::ExportDefaultDeclaration(export) => {
                let (span, name, is_class) = match &export.declaration {
                    DefaultKind::FunctionDeclaration(f) => {
                        (f.span, f.id.as_ref().map(|i| i.name.to_string()), false)
                    }
                    DefaultKind::ClassDeclaration(c) => {
                        (c.span, c.id.as_ref().map(|i| i.name.to_string()), true)
                    }
                    DefaultKind::TSInterfaceDeclaration(_) => {
                        return Err(unsupported(
                            parsed.offset(export.span.start),
                            "the default export (a TypeScript interface, not a component)"
                                .to_owned(),
                        ));
                    }
                    kind => {
                        let Some(expr) = kind.as_expression() else {
                            return Err(unsupported(
                                parsed.offset(export.span.start),
                                "the default export (not a component)".to_owned(),
                            ));
                        };
                        return expr_target(
                            RootShape::DefaultExpression,
                            expr,
                            "the default export",
                        );
                    }
                };
                let range = parsed.range(span);
                let export_range = parsed.range(export.span);
                let keyword_ok = ["function", "async", "class"]
                    .iter()
                    .any(|k| parsed.source[range.start..].starts_with(k));
                if !keyword_ok || range.end != export_range.end || range.start <= export_range.start
                {
                    return Err(unsupported(
                        export_range.start,
                        "the default-exported declaration (decorated or of an unexpected form)"
                            .to_owned(),
                    ));
                }
                let next_item = body
                    .get(index + 1)
                    .map(|next| parsed.offset(next.span().start));
                return Ok(Target::Decl {
                    range,
                    name,
                    is_class,
                    next_item,
                });
            }
            Statement::ExportNamedDeclaration(named) => {
                for s in &named.specifiers {
                    let orig = s.local.name();
                    if s.exported.name() != "default"
                        || s.export_kind.is_type()
                        || named.export_kind.is_type()
                    {
                        continue;
                    }
                    let (line, column) = at(parsed.offset(named.span.start));
                    if let Some(src) = &named.source {
                        if orig == "default" {
                            return Ok(Target::ReExport(ReExport {
                                specifier: src.value.to_string(),
                                line,
                                column,
                            }));
                        }
                        return Err(InjectError::UnsupportedRootShape {
                            file: file.to_owned(),
                            line,
                            column,
                            anchor:
                                "a default export re-exported from a named export of another module"
                                    .to_owned(),
                            manual_step: format!(
                                "wrap the component where it is defined, or write `import {{ X }} from '...'; export default {}(X);` here and add `import {{ {} }} from '{}'`",
                                spec.wrapper, spec.wrapper, spec.module_specifier
                            ),
                        });
                    }
                    let ModuleExportName::IdentifierReference(local) = &s.local else {
                        return Err(InjectError::UnsupportedRootShape {
                            file: file.to_owned(),
                            line,
                            column,
                            anchor: "a default export named by a string".to_owned(),
                            manual_step: manual_step(spec),
                        });
                    };
                    let local_name = local.name.to_string();
                    let wrapped = wrapped_binding(parsed, &local_name, spec).is_some();
                    return Ok(Target::Specifier {
                        local: local_name,
                        range: parsed.range(local.span),
                        wrapped,
                    });
                }
            }
            _ => {}
        }
    }
    Err(InjectError::NoRootComponent {
        file: file.to_owned(),
        manual_step: manual_step(spec),
    })
}

/// A top-level `const NAME = wrapper(ARG);`: the statement's range and `ARG`'s name and range.
fn wrapped_binding(
    parsed: &Parsed<'_>,
    name: &str,
    spec: &WrapSpec<'_>,
) -> Option<(Range<usize>, String)> {
    parsed.program.body.iter().find_map(|item| {
        let Statement::VariableDeclaration(var) = item else {
            return None;
        };
        if var.kind != VariableDeclarationKind::Const || var.declarations.len() != 1 {
            return None;
        }
        let declarator = &var.declarations[0];
        let BindingPatternKind::BindingIdentifier(binding) = &declarator.id.kind else {
            return None;
        };
        if binding.name != name {
            return None;
        }
        let (_, arg) = wrapper_call(declarator.init.as_ref()?, spec.wrapper)?;
        let Expression::Identifier(arg) = arg else {
            return None;
        };
        Some((parsed.range(var.span), arg.name.to_string()))
    })
}

fn manual_step(spec: &WrapSpec<'_>) -> String {
    format!(
        "add `import {{ {w} }} from '{m}';` and wrap the root component by hand, e.g. `export default {w}(App);`",
        w = spec.wrapper,
        m = spec.module_specifier
    )
}

// ---------------------------------------------------------------------------------------------
// Rendering and placement.

fn render_import(spec: &WrapSpec<'_>, style: &Style, force_semicolon: bool) -> String {
    let q = style.quote.as_char();
    let mut specifier = String::with_capacity(spec.module_specifier.len());
    for c in spec.module_specifier.chars() {
        if c == q || c == '\\' {
            specifier.push('\\');
        }
        specifier.push(c);
    }
    let semi = if style.semicolons || force_semicolon {
        ";"
    } else {
        ""
    };
    format!("import {{ {} }} from {q}{specifier}{q}{semi}", spec.wrapper)
}

/// Where the text after a statement ending at `end` lets a new line go.
enum AfterLine {
    /// At this offset, the start of the next line.
    NextLine(usize),
    /// The statement's line is the last one and has no line break.
    EndOfFile,
    /// More code follows on the same line.
    SameLine,
}

fn after_line(source: &str, end: usize) -> AfterLine {
    let line_end = source[end..].find('\n').map_or(source.len(), |i| end + i);
    let rest = source[end..line_end].trim_end_matches('\r').trim();
    let only_trivia = rest.is_empty()
        || rest.starts_with("//")
        || (rest.starts_with("/*")
            && rest
                .find("*/")
                .is_some_and(|close| close + 2 == rest.len() && !rest[2..close].contains("*/")));
    match (only_trivia, line_end < source.len()) {
        (true, true) => AfterLine::NextLine(line_end + 1),
        (true, false) => AfterLine::EndOfFile,
        (false, _) => AfterLine::SameLine,
    }
}

/// The import insertion: offset and text.
fn place_import(parsed: &Parsed<'_>, spec: &WrapSpec<'_>, style: &Style) -> (usize, String) {
    let source = parsed.source;
    let eol = style.line_ending.as_str();
    let program = &parsed.program;
    let last_import = program.body.iter().rev().find_map(|item| match item {
        Statement::ImportDeclaration(import) => Some(import.span),
        _ => None,
    });
    let last_directive = || program.directives.last().map(|d| d.span);
    if let Some(span) = last_import.or_else(last_directive) {
        let end = parsed.offset(span.end);
        return match after_line(source, end) {
            AfterLine::NextLine(at) => (at, format!("{}{eol}", render_import(spec, style, false))),
            AfterLine::EndOfFile => (
                source.len(),
                format!("{eol}{}", render_import(spec, style, false)),
            ),
            AfterLine::SameLine => (end, format!(" {}", render_import(spec, style, true))),
        };
    }
    // No import: at the top, after a shebang and a header comment separated by a blank line.
    let first = program
        .body
        .first()
        .map_or(source.len(), |item| parsed.offset(item.span().start));
    let mut start = parsed.body_start;
    if source[start..].starts_with("#!") {
        start = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i + 1);
    }
    let at = header_end(source, start, first);
    if at == source.len() && !source.is_empty() && !source.ends_with('\n') {
        return (at, format!("{eol}{}", render_import(spec, style, false)));
    }
    (at, format!("{}{eol}", render_import(spec, style, false)))
}

/// Where a new first line goes in the leading trivia `source[start..first]`: before the comment
/// group attached to the first statement, or at the start of the first statement's line.
fn header_end(source: &str, start: usize, first: usize) -> usize {
    if first < start {
        return start;
    }
    let bytes = source.as_bytes();
    let line_start = |p: usize| {
        source[start..p]
            .rfind('\n')
            .map_or(start, |i| start + i + 1)
    };
    let mut pos = start;
    let mut group: Option<usize> = None;
    loop {
        let ws = pos;
        while pos < first && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
            pos += 1;
        }
        if source[ws..pos].matches('\n').count() >= 2 {
            group = None;
        }
        if pos >= first {
            break;
        }
        let rest = &source[pos..first];
        if rest.starts_with("//") {
            group.get_or_insert_with(|| line_start(pos));
            pos = rest.find('\n').map_or(first, |i| pos + i);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            group.get_or_insert_with(|| line_start(pos));
            match comment.find("*/") {
                Some(i) => pos += i + 4,
                None => return first,
            }
        } else {
            // Something unexpected (a non-ASCII space): the statement start is always safe.
            return first;
        }
    }
    let at = group.unwrap_or_else(|| line_start(first));
    // The start of the first statement's line is safe only when nothing but spaces precede it
    // there; otherwise insert right at the statement.
    if group.is_none() && !source[at..first].trim().is_empty() {
        return first;
    }
    at
}

// ---------------------------------------------------------------------------------------------
// Insert.

/// Plans the insertion of the connectors root into a root file: one import of
/// `spec.wrapper` from `spec.module_specifier` and one wrap of the root component.
///
/// `file` names the file in messages and gives the syntax (by extension); `source` is its
/// whole text. The result's `output` has been re-parsed.
///
/// # Errors
/// [`InjectError::UnsupportedFileType`], [`InjectError::Parse`] (with line:column) when the
/// input does not parse, [`InjectError::NoRootComponent`] / [`InjectError::UnsupportedRootShape`]
/// with a manual step when there is nothing safe to wrap, [`InjectError::NameClash`] when the
/// wrapper's name is taken, [`InjectError::BrokenOutput`] if the edited text would not parse.
pub fn plan_root_insert(
    file: &str,
    source: &str,
    spec: &WrapSpec<'_>,
) -> Result<RootInsert, InjectError> {
    let syntax = SourceSyntax::from_path(file)?;
    match with_parsed(file, source, syntax, |parsed| {
        insert_edits(file, parsed, spec)
    })? {
        Planned::Done(answer) => Ok(answer),
        Planned::Edits(planned) => Ok(RootInsert::Applied(planned.apply(file, source, syntax)?)),
    }
}

/// What a plan found out while the file was parsed: the answer, or the edits to make.
enum Planned<D> {
    Done(D),
    Edits(PlannedEdits),
}

struct PlannedEdits {
    shape: RootShape,
    edits: Vec<Edit>,
    insertions: Vec<Insertion>,
    outline: Outline,
}

impl PlannedEdits {
    /// Applies the edits to `source` and checks the result (I1).
    fn apply(
        mut self,
        file: &str,
        source: &str,
        syntax: SourceSyntax,
    ) -> Result<RootEdit, InjectError> {
        // Stable: insertions at one offset keep the order they were planned in.
        self.edits.sort_by_key(|e| (e.range.start, e.range.end));
        let output = apply_edits(source, &self.edits)?;
        check_edited(
            file,
            syntax,
            &self.outline,
            &self.edits,
            &output,
            // Only taking out the kept-declaration wrap deletes text up to a statement's
            // start on purpose (an insert's edits are all insertions, which `rejoins` ignores).
            self.shape == RootShape::DefaultDeclarationKept,
        )?;
        Ok(RootEdit {
            shape: self.shape,
            edits: self.edits,
            output,
            insertions: self.insertions,
        })
    }
}

fn insert_edits(
    file: &str,
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
) -> Result<Planned<RootInsert>, InjectError> {
    let source = parsed.source;
    let target = find_target(file, parsed, spec)?;
    let import = wrapper_import(parsed, spec);
    let import_starts = parsed.program.body.iter().filter_map(|item| match item {
        Statement::ImportDeclaration(import) => Some(parsed.offset(import.span.start)),
        _ => None,
    });
    let style = Style::detect_for_imports(source, import_starts);

    let mut edits: Vec<Edit> = Vec::with_capacity(4);
    let mut insertions: Vec<Insertion> = Vec::with_capacity(4);
    let mut push = |edits: &mut Vec<Edit>, kind: InsertionKind, at: usize, text: String| {
        insertions.push(Insertion {
            kind,
            text: text.clone(),
        });
        edits.push(Edit::insertion(at, text));
    };
    let open = format!("{}(", spec.wrapper);

    let (shape, wrapped) = match target {
        Target::ReExport(re_export) => {
            return Ok(Planned::Done(RootInsert::FollowReExport(re_export)));
        }
        Target::Expr { shape, wrapped, .. } if wrapped => (shape, true),
        Target::Specifier { wrapped: true, .. } => (RootShape::DefaultSpecifier, true),
        Target::Expr { shape, range, .. } => {
            push(&mut edits, InsertionKind::WrapOpen, range.start, open);
            push(
                &mut edits,
                InsertionKind::WrapClose,
                range.end,
                ")".to_owned(),
            );
            (shape, false)
        }
        Target::Decl {
            range,
            name,
            is_class,
            next_item,
        } => {
            let used_elsewhere = name.as_deref().is_some_and(|name| {
                mentions(&source[..range.start], name) || mentions(&source[range.end..], name)
            });
            let asi_hazard = next_item.is_some_and(|next| {
                matches!(
                    source.as_bytes().get(next),
                    Some(b'(' | b'[' | b'`' | b'+' | b'-' | b'/' | b'<')
                )
            });
            match (used_elsewhere || asi_hazard, name, is_class) {
                (false, _, _) => {
                    push(&mut edits, InsertionKind::WrapOpen, range.start, open);
                    push(
                        &mut edits,
                        InsertionKind::WrapClose,
                        range.end,
                        ")".to_owned(),
                    );
                    (RootShape::DefaultDeclarationInline, false)
                }
                (true, Some(name), false) => {
                    let text = format!("{}({name}); ", spec.wrapper);
                    push(
                        &mut edits,
                        InsertionKind::DefaultStatement,
                        range.start,
                        text,
                    );
                    (RootShape::DefaultDeclarationKept, false)
                }
                (true, name, is_class) => {
                    let (line, column) = line_column(source, range.start);
                    let component = name.unwrap_or_else(|| "App".to_owned());
                    let anchor = if is_class {
                        format!(
                            "the default-exported class `{component}`, which is used elsewhere in the module (a class is not hoisted, so it cannot be wrapped in place)"
                        )
                    } else {
                        "the anonymous default-exported function, followed by a line that would continue the wrapped expression".to_owned()
                    };
                    return Err(InjectError::UnsupportedRootShape {
                        file: file.to_owned(),
                        line,
                        column,
                        anchor,
                        manual_step: format!(
                            "change `export default class {component}` to `class {component}`, add `export default {w}({component});` after it and `import {{ {w} }} from '{m}';` at the top",
                            w = spec.wrapper,
                            m = spec.module_specifier
                        ),
                    });
                }
            }
        }
        Target::Specifier { local, range, .. } => {
            let suffix = spec.binding_suffix();
            let binding = format!("{local}{suffix}");
            if let Some(at) = first_mention(source, &binding) {
                let (line, column) = line_column(source, at);
                return Err(InjectError::NameClash {
                    file: file.to_owned(),
                    line,
                    column,
                    name: binding,
                    manual_step: manual_step(spec),
                });
            }
            push(&mut edits, InsertionKind::RenameSuffix, range.end, suffix);
            let semi = if style.semicolons { ";" } else { "" };
            let statement = format!("const {binding} = {}({local}){semi}", spec.wrapper);
            let eol = style.line_ending.as_str();
            let text = if source.is_empty() || source.ends_with('\n') {
                format!("{statement}{eol}")
            } else {
                format!("{eol}{statement}")
            };
            push(
                &mut edits,
                InsertionKind::WrappedBinding,
                source.len(),
                text,
            );
            (RootShape::DefaultSpecifier, false)
        }
    };

    if import.is_none() {
        if let Some(range) = wrapper_name_imported_elsewhere(parsed, spec) {
            let (line, column) = line_column(source, range.start);
            return Err(InjectError::NameClash {
                file: file.to_owned(),
                line,
                column,
                name: spec.wrapper.to_owned(),
                manual_step: format!(
                    "rename the other `{w}` in this file, then run again (or import `{w}` from '{m}' under another name and wrap the root by hand)",
                    w = spec.wrapper,
                    m = spec.module_specifier
                ),
            });
        }
        // Without our import the name must not be declared in the file at all; the wrap we
        // found (if any) is the only use allowed.
        let mut uses = word_positions(source, spec.wrapper);
        let allowed = usize::from(wrapped);
        if let Some(at) = uses.nth(allowed) {
            let (line, column) = line_column(source, at);
            return Err(InjectError::NameClash {
                file: file.to_owned(),
                line,
                column,
                name: spec.wrapper.to_owned(),
                manual_step: format!(
                    "rename the other `{w}` in this file, then run again",
                    w = spec.wrapper
                ),
            });
        }
        let (at, text) = place_import(parsed, spec, &style);
        push(&mut edits, InsertionKind::Import, at, text);
        // First among edits at one offset: when the file ends with an import, the binding
        // appended for `export { App as default }` must stay after it, the last statement.
        edits.rotate_right(1);
    } else if wrapped {
        return Ok(Planned::Done(RootInsert::AlreadyPresent));
    }
    let shape = if wrapped {
        RootShape::ImportOnly
    } else {
        shape
    };

    Ok(Planned::Edits(PlannedEdits {
        shape,
        edits,
        insertions,
        outline: parsed.outline(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Remove.

/// Plans taking the connectors root out of a root file again: the import and the wrap that
/// [`plan_root_insert`] put there.
///
/// With `recorded` (the [`Insertion`]s of the insert, from the lock file) each snippet must be
/// found verbatim where the AST says it belongs; without it the snippets are the ones the insert
/// would render for this file. Either way the result restores the original bytes exactly when
/// the file was not edited around the insertions since; anything else is a
/// [`RootRemove::Conflict`].
///
/// # Errors
/// [`InjectError::UnsupportedFileType`], [`InjectError::Parse`] when the current text does not
/// parse, [`InjectError::BrokenOutput`] if the result would not parse.
pub fn plan_root_remove(
    file: &str,
    source: &str,
    spec: &WrapSpec<'_>,
    recorded: Option<&[Insertion]>,
) -> Result<RootRemove, InjectError> {
    let syntax = SourceSyntax::from_path(file)?;
    match with_parsed(file, source, syntax, |parsed| {
        removal_edits(file, parsed, spec, recorded)
    })? {
        Planned::Done(answer) => Ok(answer),
        Planned::Edits(planned) => Ok(RootRemove::Removed(planned.apply(file, source, syntax)?)),
    }
}

fn removal_edits(
    file: &str,
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    recorded: Option<&[Insertion]>,
) -> Result<Planned<RootRemove>, InjectError> {
    let source = parsed.source;
    let eol = Style::line_ending_of(source).as_str();
    let recorded_text = |kind: InsertionKind| {
        recorded
            .and_then(|r| r.iter().find(|i| i.kind == kind))
            .map(|i| i.text.as_str())
    };
    let expects = |kind: InsertionKind| recorded.is_none_or(|r| r.iter().any(|i| i.kind == kind));
    let conflict = |anchor: String| {
        Ok(Planned::Done(RootRemove::Conflict(RootConflict {
            file: file.to_owned(),
            anchor,
            manual_step: format!(
                "remove the import of `{w}` from '{m}' and the `{w}(...)` wrap by hand",
                w = spec.wrapper,
                m = spec.module_specifier
            ),
        })))
    };

    let mut edits: Vec<Edit> = Vec::new();
    let mut found_any = false;
    let mut shape = RootShape::ImportOnly;
    let mut missing: Option<String> = None;

    // The import.
    if expects(InsertionKind::Import) {
        match wrapper_import(parsed, spec) {
            Some((range, true)) => {
                found_any = true;
                let decl = &source[range.clone()];
                let candidates: Vec<String> = match recorded_text(InsertionKind::Import) {
                    Some(text) => vec![text.to_owned()],
                    None => vec![
                        format!("{decl}{eol}"),
                        format!("{eol}{decl}"),
                        format!(" {decl}"),
                    ],
                };
                let hit = candidates.iter().find_map(|text| {
                    let inner = text.find(decl)?;
                    let start = range.start.checked_sub(inner)?;
                    let end = start + text.len();
                    let line_ok =
                        inner > 0 || start == parsed.body_start || source[..start].ends_with('\n');
                    (end <= source.len()
                        && source.get(start..end) == Some(text.as_str())
                        && line_ok)
                        .then_some(start..end)
                });
                match hit {
                    Some(range) => edits.push(Edit::deletion(range)),
                    None => {
                        missing = Some(format!(
                            "the import of `{}` from '{}'",
                            spec.wrapper, spec.module_specifier
                        ))
                    }
                }
            }
            Some((_, false)) => {
                found_any = true;
                missing = Some(format!(
                    "the import of `{}` from '{}' (other names were added to it)",
                    spec.wrapper, spec.module_specifier
                ));
            }
            None => {
                if recorded.is_some() {
                    missing = Some(format!(
                        "the import of `{}` from '{}'",
                        spec.wrapper, spec.module_specifier
                    ));
                }
            }
        }
    }

    // The wrap.
    let wrap_kinds = [
        InsertionKind::WrapOpen,
        InsertionKind::DefaultStatement,
        InsertionKind::RenameSuffix,
    ];
    if wrap_kinds.iter().any(|k| expects(*k)) {
        match find_wrap_removal(parsed, spec, eol, recorded) {
            WrapFound::Edits(wrap_edits, wrap_shape) => {
                shape = wrap_shape;
                found_any = true;
                edits.extend(wrap_edits);
            }
            WrapFound::Changed(anchor) => {
                found_any = true;
                missing.get_or_insert(anchor);
            }
            WrapFound::Absent => {
                if recorded.is_some() {
                    missing.get_or_insert_with(|| {
                        format!("the `{}(...)` wrap of the root component", spec.wrapper)
                    });
                }
            }
        }
    }

    if !found_any {
        return Ok(Planned::Done(RootRemove::NotPresent));
    }
    if let Some(anchor) = missing {
        return conflict(anchor);
    }
    Ok(Planned::Edits(PlannedEdits {
        shape,
        edits,
        insertions: Vec::new(),
        outline: parsed.outline(),
    }))
}

enum WrapFound {
    Edits(Vec<Edit>, RootShape),
    /// Something that looks like the wrap is there, but not verbatim.
    Changed(String),
    Absent,
}

fn find_wrap_removal(
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    eol: &str,
    recorded: Option<&[Insertion]>,
) -> WrapFound {
    let source = parsed.source;
    let text_of = |kind: InsertionKind| {
        recorded
            .and_then(|r| r.iter().find(|i| i.kind == kind))
            .map(|i| i.text.clone())
    };
    let open = text_of(InsertionKind::WrapOpen).unwrap_or_else(|| format!("{}(", spec.wrapper));
    let close = text_of(InsertionKind::WrapClose).unwrap_or_else(|| ")".to_owned());
    let wants = |kind: InsertionKind| recorded.is_none_or(|r| r.iter().any(|i| i.kind == kind));
    let changed = || {
        WrapFound::Changed(format!(
            "the `{}(...)` wrap of the root component",
            spec.wrapper
        ))
    };

    // Around an expression: verify `open` + arg + `close` is exactly the call.
    let unwrap_call = |call: Span, arg: &Expression<'_>, shape: RootShape| -> WrapFound {
        let call = parsed.range(call);
        let arg = parsed.range(arg.span());
        if source.get(call.start..arg.start) == Some(open.as_str())
            && source.get(arg.end..call.end) == Some(close.as_str())
        {
            WrapFound::Edits(
                vec![
                    Edit::deletion(call.start..arg.start),
                    Edit::deletion(arg.end..call.end),
                ],
                shape,
            )
        } else {
            changed()
        }
    };

    if let Some((shape, expr)) = register_call(parsed) {
        return match wrapper_call(bare(expr), spec.wrapper) {
            Some((call, arg)) if wants(InsertionKind::WrapOpen) => unwrap_call(call, arg, shape),
            _ => WrapFound::Absent,
        };
    }
    let body = &parsed.program.body;
    for (index, item) in body.iter().enumerate() {
        match item {
            Statement::ExportDefaultDeclaration(export) => {
                let Some(expr) = export.declaration.as_expression() else {
                    return WrapFound::Absent;
                };
                let Some((call, arg)) = wrapper_call(bare(expr), spec.wrapper) else {
                    return WrapFound::Absent;
                };
                // The kept-declaration form: `withConnectors(App); function App`.
                if let (
                    Expression::Identifier(name),
                    Some(Statement::FunctionDeclaration(function)),
                ) = (arg, body.get(index + 1))
                    && function.id.as_ref().is_some_and(|id| id.name == name.name)
                    && wants(InsertionKind::DefaultStatement)
                {
                    let statement = text_of(InsertionKind::DefaultStatement)
                        .unwrap_or_else(|| format!("{}({}); ", spec.wrapper, name.name));
                    let start = parsed.offset(call.start);
                    let end = parsed.offset(function.span.start);
                    if source.get(start..end) == Some(statement.as_str()) {
                        return WrapFound::Edits(
                            vec![Edit::deletion(start..end)],
                            RootShape::DefaultDeclarationKept,
                        );
                    }
                    if recorded.is_some() {
                        return changed();
                    }
                }
                if !wants(InsertionKind::WrapOpen) {
                    return changed();
                }
                let shape = if matches!(
                    bare(arg),
                    Expression::FunctionExpression(_) | Expression::ClassExpression(_)
                ) {
                    RootShape::DefaultDeclarationInline
                } else {
                    RootShape::DefaultExpression
                };
                return unwrap_call(call, arg, shape);
            }
            Statement::ExportNamedDeclaration(named) if named.source.is_none() => {
                for s in &named.specifiers {
                    let ModuleExportName::IdentifierReference(local) = &s.local else {
                        continue;
                    };
                    if s.exported.name() != "default" {
                        continue;
                    }
                    let Some((statement, original)) = wrapped_binding(parsed, &local.name, spec)
                    else {
                        return WrapFound::Absent;
                    };
                    let suffix = text_of(InsertionKind::RenameSuffix)
                        .unwrap_or_else(|| spec.binding_suffix());
                    let local_range = parsed.range(local.span);
                    let local_text = &source[local_range.clone()];
                    if local_text != format!("{original}{suffix}") {
                        return changed();
                    }
                    let statement_text = &source[statement.clone()];
                    let candidates = match text_of(InsertionKind::WrappedBinding) {
                        Some(text) => vec![text],
                        None => vec![
                            format!("{statement_text}{eol}"),
                            format!("{eol}{statement_text}"),
                        ],
                    };
                    let hit = candidates.iter().find_map(|text| {
                        let inner = text.find(statement_text)?;
                        let start = statement.start.checked_sub(inner)?;
                        let end = start + text.len();
                        (end == source.len() && source.get(start..end) == Some(text.as_str()))
                            .then_some(start..end)
                    });
                    return match hit {
                        Some(range) => WrapFound::Edits(
                            vec![
                                Edit::deletion(local_range.end - suffix.len()..local_range.end),
                                Edit::deletion(range),
                            ],
                            RootShape::DefaultSpecifier,
                        ),
                        None => changed(),
                    };
                }
            }
            _ => {}
        }
    }
    WrapFound::Absent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parser_positions_become_byte_offsets_with_and_without_a_bom() -> Result<(), InjectError> {
        for source in ["export default App;\n", "\u{feff}export default App;\n"] {
            let range = with_parsed("App.ts", source, SourceSyntax::TypeScript, |parsed| {
                let Some(Statement::ExportDefaultDeclaration(export)) = parsed.program.body.first()
                else {
                    panic!("expected a default export in {source:?}");
                };
                assert_eq!(parsed.outline().items, [parsed.range(export.span)]);
                Ok(parsed.range(export.declaration.span()))
            })?;
            assert_eq!(&source[range.clone()], "App", "{source:?}");
            let bom = if source.starts_with(BOM) {
                BOM.len()
            } else {
                0
            };
            assert_eq!(range.start, bom + "export default ".len());
        }
        Ok(())
    }

    /// The outline of `source` and the result of `check_edited` for `edits` applied to it.
    fn check(source: &str, edits: Vec<Edit>) -> Result<String, InjectError> {
        let outline = with_parsed("App.tsx", source, SourceSyntax::Tsx, |p| Ok(p.outline()))?;
        let output = apply_edits(source, &edits)?;
        check_edited(
            "App.tsx",
            SourceSyntax::Tsx,
            &outline,
            &edits,
            &output,
            false,
        )
        .map(|()| output)
    }

    #[test]
    fn an_edit_that_joins_two_statements_is_refused_although_the_file_would_parse() {
        let source = "import a from 'a';\n(a)();\nexport default App;\n";
        // `const b = a` without a semicolon before `(a)();` turns the call into `a(a)()`.
        let joined = vec![Edit::insertion(19, "const b = a\n".to_owned())];
        let error = check(source, joined);
        assert!(
            matches!(&error, Err(InjectError::BrokenOutput { line: 3, message, .. }) if message.contains("run on")),
            "{error:?}"
        );
        let separate = vec![Edit::insertion(19, "const b = a;\n".to_owned())];
        assert!(check(source, separate).is_ok());
    }

    #[test]
    fn windows_cover_the_start_the_end_and_edits_in_between() -> Result<(), InjectError> {
        let source =
            "'use client';\nimport a from 'a';\nconst x = 1;\nconst y = 2;\nexport default App;";
        let edits = vec![
            Edit::insertion(0, "// top\n".to_owned()),
            Edit::insertion(33, "import b from 'b';\n".to_owned()),
            Edit::deletion(46..58),
            Edit::insertion(source.len(), "\nconst z = b;".to_owned()),
        ];
        let output = check(source, edits)?;
        assert!(output.ends_with("const z = b;"), "{output}");
        let broken = vec![Edit::insertion(46, "const y = (;\n".to_owned())];
        assert!(matches!(
            check(source, broken),
            Err(InjectError::BrokenOutput { line: 4, .. })
        ));
        Ok(())
    }

    #[test]
    fn whole_word_mentions_only() {
        assert!(mentions("x = <App />", "App"));
        assert!(!mentions("AppRegistry.x; MyApp; App_2", "App"));
        assert!(
            mentions("ÄApp", "App"),
            "non-ASCII neighbours count as a mention (safe side)"
        );
    }

    #[test]
    fn the_header_comment_stays_above_the_first_import() {
        let source = "// header\n\n/** doc */\nexport default App;\n";
        let first = source.find("/** doc").unwrap_or(0);
        assert_eq!(header_end(source, 0, first + "/** doc */\n".len()), first);
    }
}
