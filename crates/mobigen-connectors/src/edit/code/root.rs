//! The root component file: one import of the generated connectors module and one wrap of the
//! root component, by insertion only, and the exact inverse.
//!
//! # Shapes and what is inserted
//!
//! | root shape | after the edit |
//! | --- | --- |
//! | `export default App;` (any identifier, call, member, arrow, function or class expression, `as`/`satisfies`) | `export default withConnectors(App);` |
//! | `export default Sentry.wrap(App);`, `memo(function App() {})`: higher-order components | `export default Sentry.wrap(withConnectors(App));` (inside them, so they see what the providers do) |
//! | `export default function App() {}`, `App` not used elsewhere; anonymous functions and classes | `export default withConnectors(function App() {});` (`})` in a file without semicolons) |
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

use swc_common::{BytePos, Span, Spanned};
use swc_ecma_ast::{
    Callee, Decl, Decorator, DefaultDecl, ExportDefaultDecl, ExportSpecifier, Expr, Ident,
    ImportDecl, ImportSpecifier, ModuleDecl, ModuleExportName, ModuleItem, NamedExport, Pat, Stmt,
    Str, VarDeclKind,
};

use super::InjectError;
use super::edit::{Edit, apply_edits};
use super::names;
use super::parse::{Outline, Parsed, check_edited, line_column, with_parsed};
use super::style::Style;

pub use super::parse::{SourceSyntax, check_syntax, check_syntax_each};

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
    /// What was looked for (`the import of withConnectors from './src/connectors'`), or the
    /// place of a use that stops the removal (`` `withConnectors` at line 12, column 5 ``).
    pub anchor: String,
    /// What is wrong there (`... was changed since it was inserted`, `... is still used ...`).
    pub reason: String,
    /// What to do by hand.
    pub manual_step: String,
}

impl std::fmt::Display for RootConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}; {}", self.file, self.reason, self.manual_step)
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
// AST queries.

/// An expression with parentheses and TypeScript type wrappers taken off.
pub(super) fn bare(mut expr: &Expr) -> &Expr {
    loop {
        expr = match expr {
            Expr::Paren(e) => &e.expr,
            Expr::TsAs(e) => &e.expr,
            Expr::TsSatisfies(e) => &e.expr,
            Expr::TsNonNull(e) => &e.expr,
            Expr::TsTypeAssertion(e) => &e.expr,
            _ => return expr,
        };
    }
}

/// The text of a string literal (None when it is not valid Unicode).
fn str_value(s: &Str) -> Option<&str> {
    s.value.as_atom().map(|atom| &**atom)
}

/// The name a module export name stands for.
fn export_name(name: &ModuleExportName) -> Option<&str> {
    match name {
        ModuleExportName::Ident(i) => Some(&i.sym),
        ModuleExportName::Str(s) => str_value(s),
    }
}

/// `wrapper(arg)` with exactly one plain argument: the call's span and the argument.
fn wrapper_call<'e>(expr: &'e Expr, wrapper: &str) -> Option<(Span, &'e Expr)> {
    let Expr::Call(call) = expr else { return None };
    let Callee::Expr(callee) = &call.callee else {
        return None;
    };
    let Expr::Ident(name) = &**callee else {
        return None;
    };
    if &*name.sym != wrapper || call.args.len() != 1 || call.type_args.is_some() {
        return None;
    }
    let arg = &call.args[0];
    if arg.spread.is_some() {
        return None;
    }
    Some((call.span, &arg.expr))
}

/// The expression the wrap goes around, inside the higher-order components at the anchor
/// (`Sentry.wrap(App)` -> `Sentry.wrap(withConnectors(App))`, likewise `memo(function App...)`,
/// `connect(m)(App)`), so that they still see what the connectors' providers do (an error
/// reporter catches errors thrown by them). Descends into a call's only argument while that is
/// an identifier, a function or class expression or another call; stops at the wrapper's own
/// call, so an older `withConnectors(Sentry.wrap(App))` is still found.
fn wrap_site<'e>(expr: &'e Expr, wrapper: &str) -> &'e Expr {
    let mut site = expr;
    loop {
        let Expr::Call(call) = bare(site) else {
            return site;
        };
        if wrapper_call(bare(site), wrapper).is_some() || !matches!(call.callee, Callee::Expr(_)) {
            return site;
        }
        let [arg] = call.args.as_slice() else {
            return site;
        };
        if arg.spread.is_some()
            || !matches!(
                bare(&arg.expr),
                Expr::Ident(_) | Expr::Fn(_) | Expr::Class(_) | Expr::Call(_)
            )
        {
            return site;
        }
        site = &arg.expr;
    }
}

/// A short description of an expression kind, for messages.
fn describe(expr: &Expr) -> &'static str {
    match expr {
        Expr::Object(_) => "an object literal",
        Expr::Array(_) => "an array literal",
        Expr::Lit(_) | Expr::Tpl(_) => "a literal",
        Expr::Unary(_) | Expr::Bin(_) | Expr::Update(_) => "an operator expression",
        Expr::Assign(_) => "an assignment",
        Expr::New(_) => "a `new` expression",
        Expr::Seq(_) => "a comma expression",
        Expr::JSXElement(_) | Expr::JSXFragment(_) => "a JSX element (not a component)",
        _ => "an expression that is not a component",
    }
}

/// Whether an expression can be a component and so be wrapped.
fn wrappable(expr: &Expr) -> bool {
    matches!(
        bare(expr),
        Expr::Ident(_)
            | Expr::Call(_)
            | Expr::Arrow(_)
            | Expr::Fn(_)
            | Expr::Class(_)
            | Expr::Member(_)
            | Expr::Cond(_)
            | Expr::OptChain(_)
    )
}

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

/// The import declarations of the module.
fn imports<'m>(parsed: &'m Parsed<'_>) -> impl Iterator<Item = &'m ImportDecl> {
    parsed.module.body.iter().filter_map(|item| match item {
        ModuleItem::ModuleDecl(ModuleDecl::Import(import)) => Some(import),
        _ => None,
    })
}

/// The import of the wrapper from the generated module, if any (under its own name or another:
/// `import { withConnectors as withConnectors2 }`).
struct WrapperImport {
    /// The declaration's range.
    range: Range<usize>,
    /// Whether it imports nothing else.
    sole: bool,
    /// The local name the wrapper is bound to.
    local: String,
}

fn wrapper_import(parsed: &Parsed<'_>, spec: &WrapSpec<'_>) -> Option<WrapperImport> {
    imports(parsed).find_map(|import| {
        if import.type_only || str_value(&import.src) != Some(spec.module_specifier) {
            return None;
        }
        let local = import.specifiers.iter().find_map(|s| match s {
            ImportSpecifier::Named(named)
                if !named.is_type_only
                    && named
                        .imported
                        .as_ref()
                        .map_or(Some(&*named.local.sym), export_name)
                        == Some(spec.wrapper) =>
            {
                Some(named.local.sym.to_string())
            }
            _ => None,
        })?;
        Some(WrapperImport {
            range: parsed.range(import.span),
            sole: import.specifiers.len() == 1,
            local,
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

/// What [`find_target`] needs to report a place.
struct Finder<'p, 's, 'w> {
    file: &'p str,
    parsed: &'p Parsed<'s>,
    spec: &'p WrapSpec<'w>,
}

impl Finder<'_, '_, '_> {
    fn unsupported(&self, offset: usize, anchor: String) -> InjectError {
        let (line, column) = line_column(self.parsed.source, offset);
        InjectError::UnsupportedRootShape {
            file: self.file.to_owned(),
            line,
            column,
            anchor,
            manual_step: manual_step(self.spec),
        }
    }

    /// An expression to wrap, unless it is already wrapped; `what` names it in messages.
    fn expr(&self, shape: RootShape, expr: &Expr, what: &str) -> Result<Target, InjectError> {
        let site = wrap_site(expr, self.spec.wrapper);
        let wrapped = wrapper_call(bare(site), self.spec.wrapper).is_some();
        if !wrapped && !wrappable(expr) {
            return Err(self.unsupported(
                self.parsed.offset(expr.span().lo),
                format!("{what} ({})", describe(bare(expr))),
            ));
        }
        Ok(Target::Expr {
            shape,
            range: self.parsed.range(site.span()),
            wrapped,
        })
    }

    /// `export default function|class ...` at `index` in the module's body.
    fn default_decl(
        &self,
        export: &ExportDefaultDecl,
        index: usize,
    ) -> Result<Target, InjectError> {
        let parsed = self.parsed;
        let (span, name, is_class, decorated) = match &export.decl {
            DefaultDecl::Fn(f) => (
                f.function.span,
                f.ident.as_ref().map(|i| i.sym.to_string()),
                false,
                !f.function.decorators.is_empty(),
            ),
            DefaultDecl::Class(c) => (
                c.class.span,
                c.ident.as_ref().map(|i| i.sym.to_string()),
                true,
                !c.class.decorators.is_empty(),
            ),
            DefaultDecl::TsInterfaceDecl(_) => {
                return Err(self.unsupported(
                    parsed.offset(export.span.lo),
                    "the default export (a TypeScript interface, not a component)".to_owned(),
                ));
            }
        };
        let range = parsed.range(span);
        let export_range = parsed.range(export.span);
        let keyword_ok = ["function", "async", "class"]
            .iter()
            .any(|k| parsed.source[range.start..].starts_with(k));
        if decorated
            || !keyword_ok
            || range.end != export_range.end
            || range.start <= export_range.start
        {
            // A decorator before `export` would stay there, apart from the wrapped class.
            return Err(self.unsupported(
                parsed.offset(earliest(export.span, default_decorators(&export.decl))),
                "the default-exported declaration (decorated or of an unexpected form)".to_owned(),
            ));
        }
        let next_item = parsed
            .module
            .body
            .get(index + 1)
            .map(|next| parsed.offset(next.span().lo));
        Ok(Target::Decl {
            range,
            name,
            is_class,
            next_item,
        })
    }

    /// `export { X as default }` or `export { default } from '...'`, if `named` is one.
    fn named_default(&self, named: &NamedExport) -> Option<Result<Target, InjectError>> {
        let parsed = self.parsed;
        let spec = self.spec;
        let s = named.specifiers.iter().find_map(|specifier| {
            let ExportSpecifier::Named(s) = specifier else {
                return None;
            };
            let exported = s.exported.as_ref().unwrap_or(&s.orig);
            (export_name(exported) == Some("default") && !s.is_type_only && !named.type_only)
                .then_some(s)
        })?;
        let (line, column) = line_column(parsed.source, parsed.offset(named.span.lo));
        if let Some(src) = &named.src {
            if export_name(&s.orig) == Some("default")
                && let Some(specifier) = str_value(src)
            {
                return Some(Ok(Target::ReExport(ReExport {
                    specifier: specifier.to_owned(),
                    line,
                    column,
                })));
            }
            return Some(Err(InjectError::UnsupportedRootShape {
                file: self.file.to_owned(),
                line,
                column,
                anchor: "a default export re-exported from a named export of another module"
                    .to_owned(),
                manual_step: format!(
                    "wrap the component where it is defined, or write `import {{ X }} from '...'; export default {}(X);` here and add `import {{ {} }} from '{}'`",
                    spec.wrapper, spec.wrapper, spec.module_specifier
                ),
            }));
        }
        let ModuleExportName::Ident(local) = &s.orig else {
            return Some(Err(InjectError::UnsupportedRootShape {
                file: self.file.to_owned(),
                line,
                column,
                anchor: "a default export named by a string".to_owned(),
                manual_step: manual_step(spec),
            }));
        };
        let local_name = local.sym.to_string();
        let wrapped = wrapped_binding(parsed, &local_name, spec).is_some();
        Some(Ok(Target::Specifier {
            local: local_name,
            range: parsed.range(local.span),
            wrapped,
        }))
    }
}

/// Finds the anchor of the wrap: the registering call of an entry file, else the default export.
fn find_target(
    file: &str,
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
) -> Result<Target, InjectError> {
    let finder = Finder { file, parsed, spec };
    let calls = names::register_calls(&parsed.module);
    if let [first, rest @ ..] = calls.as_slice() {
        if let Some(second) = rest.first() {
            let (line, column) = line_column(parsed.source, parsed.offset(first.call.lo));
            let (second_line, _) = line_column(parsed.source, parsed.offset(second.call.lo));
            return Err(InjectError::UnsupportedRootShape {
                file: file.to_owned(),
                line,
                column,
                anchor: format!(
                    "the root component, registered by more than one call (lines {line} and {second_line})"
                ),
                manual_step: format!(
                    "wrap the component of each call by hand, e.g. `registerRootComponent({w}(App))`, and add `import {{ {w} }} from '{m}';`",
                    w = spec.wrapper,
                    m = spec.module_specifier
                ),
            });
        }
        return finder.expr(first.shape, &first.component, "the root component argument");
    }
    for (index, item) in parsed.module.body.iter().enumerate() {
        match item {
            ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultExpr(export)) => {
                return finder.expr(
                    RootShape::DefaultExpression,
                    &export.expr,
                    "the default export",
                );
            }
            ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultDecl(export)) => {
                return finder.default_decl(export, index);
            }
            ModuleItem::ModuleDecl(ModuleDecl::ExportNamed(named)) => {
                if let Some(target) = finder.named_default(named) {
                    return target;
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

/// A top-level `const NAME = wrapper(ARG);`: the statement's range and `ARG`'s name.
fn wrapped_binding(
    parsed: &Parsed<'_>,
    name: &str,
    spec: &WrapSpec<'_>,
) -> Option<(Range<usize>, String)> {
    parsed.module.body.iter().find_map(|item| {
        let ModuleItem::Stmt(Stmt::Decl(Decl::Var(var))) = item else {
            return None;
        };
        if var.kind != VarDeclKind::Const || var.decls.len() != 1 {
            return None;
        }
        let declarator = &var.decls[0];
        let Pat::Ident(binding) = &declarator.name else {
            return None;
        };
        if &*binding.id.sym != name {
            return None;
        }
        let (_, arg) = wrapper_call(declarator.init.as_deref()?, spec.wrapper)?;
        let Expr::Ident(arg) = arg else { return None };
        Some((parsed.range(var.span), arg.sym.to_string()))
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

/// `import { withConnectors } from './src/connectors';` in the file's quotes and semicolons
/// (`import { withConnectors as withConnectors2 } ...` when `local` is another name).
fn render_import(spec: &WrapSpec<'_>, local: &str, style: &Style, force_semicolon: bool) -> String {
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
    let binding = if local == spec.wrapper {
        local.to_owned()
    } else {
        format!("{} as {local}", spec.wrapper)
    };
    format!("import {{ {binding} }} from {q}{specifier}{q}{semi}")
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
fn place_import(
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    local: &str,
    style: &Style,
) -> (usize, String) {
    let source = parsed.source;
    let eol = style.line_ending.as_str();
    let body = &parsed.module.body;
    let last_import = imports(parsed).last().map(|import| import.span);
    let last_directive = || parsed.directives().last().map(Spanned::span);
    if let Some(span) = last_import.or_else(last_directive) {
        let end = parsed.offset(span.hi);
        return match after_line(source, end) {
            AfterLine::NextLine(at) => (
                at,
                format!("{}{eol}", render_import(spec, local, style, false)),
            ),
            AfterLine::EndOfFile => (
                source.len(),
                format!("{eol}{}", render_import(spec, local, style, false)),
            ),
            AfterLine::SameLine => (end, format!(" {}", render_import(spec, local, style, true))),
        };
    }
    // No import: at the top, after a shebang and a header comment separated by a blank line.
    let first = body
        .first()
        .map_or(source.len(), |item| parsed.offset(item_start(item)));
    let mut start = parsed.body_start;
    if source[start..].starts_with("#!") {
        start = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i + 1);
    }
    let at = header_end(source, start, first);
    if at == source.len() && !source.is_empty() && !source.ends_with('\n') {
        return (
            at,
            format!("{eol}{}", render_import(spec, local, style, false)),
        );
    }
    let import = render_import(spec, local, style, false);
    if at != parsed.body_start && !source[..at].ends_with('\n') {
        // Not at a line start (after something header_end did not recognise): the import gets
        // a line of its own, which is also what its removal looks for.
        return (at, format!("{eol}{import}{eol}"));
    }
    (at, format!("{import}{eol}"))
}

/// Where a module item starts, its decorators included (`@dec export default class App {}`:
/// swc's span of the export starts at `export`).
fn item_start(item: &ModuleItem) -> BytePos {
    let decorators = match item {
        ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultDecl(export)) => {
            default_decorators(&export.decl)
        }
        ModuleItem::ModuleDecl(ModuleDecl::ExportDecl(export)) => decl_decorators(&export.decl),
        ModuleItem::Stmt(Stmt::Decl(decl)) => decl_decorators(decl),
        _ => &[],
    };
    earliest(item.span(), decorators)
}

fn default_decorators(decl: &DefaultDecl) -> &[Decorator] {
    match decl {
        DefaultDecl::Class(class) => &class.class.decorators,
        DefaultDecl::Fn(function) => &function.function.decorators,
        DefaultDecl::TsInterfaceDecl(_) => &[],
    }
}

fn decl_decorators(decl: &Decl) -> &[Decorator] {
    match decl {
        Decl::Class(class) => &class.class.decorators,
        Decl::Fn(function) => &function.function.decorators,
        _ => &[],
    }
}

/// The start of `span` or of the first decorator before it.
fn earliest(span: Span, decorators: &[Decorator]) -> BytePos {
    decorators
        .iter()
        .map(|decorator| decorator.span.lo)
        .fold(span.lo, std::cmp::min)
}

/// JavaScript's white space and line terminators (`U+FEFF` included, which Rust's
/// `char::is_whitespace` leaves out).
fn is_js_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

/// Where a new first line goes in the leading trivia `source[start..first]`: before the comment
/// group attached to the first statement, or at the start of the first statement's line.
fn header_end(source: &str, start: usize, first: usize) -> usize {
    if first < start {
        return start;
    }
    let line_start = |p: usize| {
        source[start..p]
            .rfind('\n')
            .map_or(start, |i| start + i + 1)
    };
    let mut pos = start;
    let mut group: Option<usize> = None;
    loop {
        let ws = pos;
        pos = source[pos..first]
            .find(|c| !is_js_space(c))
            .map_or(first, |i| pos + i);
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
            // Something unexpected: the statement start is always safe.
            return first;
        }
    }
    let at = group.unwrap_or_else(|| line_start(first));
    // The start of the first statement's line is safe only when nothing but spaces precede it
    // there; otherwise insert right at the statement.
    if group.is_none() && !source[at..first].chars().all(is_js_space) {
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

/// The edits of an insert and the snippets they insert, built together.
#[derive(Default)]
struct Insertions {
    edits: Vec<Edit>,
    insertions: Vec<Insertion>,
}

impl Insertions {
    fn push(&mut self, kind: InsertionKind, at: usize, text: String) {
        self.insertions.push(Insertion {
            kind,
            text: text.clone(),
        });
        self.edits.push(Edit::insertion(at, text));
    }

    /// `wrapper(` before `range` and `close` after it.
    fn wrap(&mut self, spec: &WrapSpec<'_>, range: &Range<usize>, close: String) {
        self.push(
            InsertionKind::WrapOpen,
            range.start,
            format!("{}(", spec.wrapper),
        );
        self.push(InsertionKind::WrapClose, range.end, close);
    }
}

fn insert_edits(
    file: &str,
    parsed: &Parsed<'_>,
    exported: &WrapSpec<'_>,
) -> Result<Planned<RootInsert>, InjectError> {
    let spec = exported;
    let source = parsed.source;
    let import = wrapper_import(parsed, spec);
    let (local, target) = wrapper_binding(file, parsed, spec, import.as_ref())?;
    let spec = &WrapSpec {
        module_specifier: spec.module_specifier,
        wrapper: &local,
    };
    let import_starts = imports(parsed).map(|import| parsed.offset(import.span.lo));
    let style = Style::detect_for_imports(source, import_starts);

    let mut planned = Insertions::default();
    let (shape, wrapped) = match target {
        Target::ReExport(re_export) => {
            return Ok(Planned::Done(RootInsert::FollowReExport(re_export)));
        }
        Target::Expr { shape, wrapped, .. } if wrapped => (shape, true),
        Target::Specifier { wrapped: true, .. } => (RootShape::DefaultSpecifier, true),
        Target::Expr { shape, range, .. } => {
            planned.wrap(spec, &range, ")".to_owned());
            (shape, false)
        }
        Target::Decl {
            range,
            name,
            is_class,
            next_item,
        } => {
            let decl = Declaration {
                range,
                name,
                is_class,
                next_item,
            };
            let shape = wrap_declaration(file, source, spec, &style, &mut planned, decl)?;
            (shape, false)
        }
        Target::Specifier { local, range, .. } => {
            wrap_specifier(file, source, spec, &style, &mut planned, &local, &range)?;
            (RootShape::DefaultSpecifier, false)
        }
    };

    if import.is_none() {
        let (at, text) = place_import(parsed, exported, &local, &style);
        planned.push(InsertionKind::Import, at, text);
        // First among edits at one offset: when the file ends with an import, the binding
        // appended for `export { App as default }` must stay after it, the last statement.
        planned.edits.rotate_right(1);
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
        edits: planned.edits,
        insertions: planned.insertions,
        outline: parsed.outline(),
    }))
}

/// The parts of [`Target::Decl`].
struct Declaration {
    range: Range<usize>,
    name: Option<String>,
    is_class: bool,
    next_item: Option<usize>,
}

/// Wraps `export default function|class ...` in place, or keeps a function declaration and
/// exports its wrap as a statement before it.
///
/// The declaration becomes an expression statement, so in a file that ends its statements
/// with `;` the wrap closes with `);` (unless a `;` already follows); without it, a next line
/// that would continue the expression keeps the declaration instead.
fn wrap_declaration(
    file: &str,
    source: &str,
    spec: &WrapSpec<'_>,
    style: &Style,
    planned: &mut Insertions,
    decl: Declaration,
) -> Result<RootShape, InjectError> {
    let Declaration {
        range,
        name,
        is_class,
        next_item,
    } = decl;
    let semicolon = style.semicolons && !source[range.end..].starts_with(';');
    let used_elsewhere = name.as_deref().is_some_and(|name| {
        mentions(&source[..range.start], name) || mentions(&source[range.end..], name)
    });
    let asi_hazard = !semicolon
        && next_item.is_some_and(|next| {
            matches!(
                source.as_bytes().get(next),
                Some(b'(' | b'[' | b'`' | b'+' | b'-' | b'/' | b'<')
            )
        });
    match (used_elsewhere || asi_hazard, name, is_class) {
        (false, _, _) => {
            let close = if semicolon { ");" } else { ")" };
            planned.wrap(spec, &range, close.to_owned());
            Ok(RootShape::DefaultDeclarationInline)
        }
        (true, Some(name), false) => {
            let text = format!("{}({name}); ", spec.wrapper);
            planned.push(InsertionKind::DefaultStatement, range.start, text);
            Ok(RootShape::DefaultDeclarationKept)
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
            Err(InjectError::UnsupportedRootShape {
                file: file.to_owned(),
                line,
                column,
                anchor,
                manual_step: format!(
                    "change `export default class {component}` to `class {component}`, add `export default {w}({component});` after it and `import {{ {w} }} from '{m}';` at the top",
                    w = spec.wrapper,
                    m = spec.module_specifier
                ),
            })
        }
    }
}

/// `export { App as default }` becomes `export { AppWithConnectors as default }` with
/// `const AppWithConnectors = withConnectors(App);` appended to the file.
fn wrap_specifier(
    file: &str,
    source: &str,
    spec: &WrapSpec<'_>,
    style: &Style,
    planned: &mut Insertions,
    local: &str,
    range: &Range<usize>,
) -> Result<(), InjectError> {
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
    planned.push(InsertionKind::RenameSuffix, range.end, suffix);
    let semi = if style.semicolons { ";" } else { "" };
    let statement = format!("const {binding} = {}({local}){semi}", spec.wrapper);
    let eol = style.line_ending.as_str();
    let text = if source.is_empty() || source.ends_with('\n') {
        format!("{statement}{eol}")
    } else {
        format!("{eol}{statement}")
    };
    planned.push(InsertionKind::WrappedBinding, source.len(), text);
    Ok(())
}

/// The local name of the wrapper and the wrap's anchor found with it.
///
/// With our import, the name it binds. Without it, the wrapper's own name when no identifier
/// in the file is called that (or when its one use is the wrap at the anchor: only the import
/// was missing), else the first free `withConnectors2`, `withConnectors3`, ... (the user's
/// binding keeps its name; ours is imported under the free one).
fn wrapper_binding(
    file: &str,
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    import: Option<&WrapperImport>,
) -> Result<(String, Target), InjectError> {
    if let Some(import) = import {
        let local_spec = WrapSpec {
            module_specifier: spec.module_specifier,
            wrapper: &import.local,
        };
        let target = find_target(file, parsed, &local_spec)?;
        return Ok((import.local.clone(), target));
    }
    let uses = names::identifier_spans(&parsed.module, spec.wrapper);
    let target = find_target(file, parsed, spec)?;
    let only_use_is_the_wrap = match (&target, uses.as_slice()) {
        (
            Target::Expr {
                range,
                wrapped: true,
                ..
            },
            [only],
        ) => parsed.offset(only.lo) == range.start,
        _ => false,
    };
    if uses.is_empty() || only_use_is_the_wrap {
        return Ok((spec.wrapper.to_owned(), target));
    }
    let local = names::free_name(&parsed.module, spec.wrapper);
    let local_spec = WrapSpec {
        module_specifier: spec.module_specifier,
        wrapper: &local,
    };
    let target = find_target(file, parsed, &local_spec)?;
    Ok((local, target))
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

/// The snippets the insert recorded (None: render them as the insert would for this file).
#[derive(Clone, Copy)]
struct Recorded<'r>(Option<&'r [Insertion]>);

impl Recorded<'_> {
    fn text(&self, kind: InsertionKind) -> Option<&str> {
        self.0
            .and_then(|r| r.iter().find(|i| i.kind == kind))
            .map(|i| i.text.as_str())
    }

    /// Whether the insert put a snippet of this kind there (always, when nothing was recorded).
    fn expects(&self, kind: InsertionKind) -> bool {
        self.0.is_none_or(|r| r.iter().any(|i| i.kind == kind))
    }

    fn is_some(&self) -> bool {
        self.0.is_some()
    }
}

fn removal_edits(
    file: &str,
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    recorded: Option<&[Insertion]>,
) -> Result<Planned<RootRemove>, InjectError> {
    let recorded = Recorded(recorded);
    let eol = Style::line_ending_of(parsed.source).as_str();
    let exported = spec;
    // The wrapper's local name: what our import binds, else what the recorded wrap calls.
    let local = wrapper_import(parsed, exported)
        .map(|import| import.local)
        .or_else(|| {
            recorded
                .text(InsertionKind::WrapOpen)
                .and_then(|open| open.strip_suffix('('))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| exported.wrapper.to_owned());
    let spec = &WrapSpec {
        module_specifier: exported.module_specifier,
        wrapper: &local,
    };
    let mut edits: Vec<Edit> = Vec::new();
    let mut found_any = false;
    let mut shape = RootShape::ImportOnly;
    let mut missing: Option<String> = None;

    if recorded.expects(InsertionKind::Import) {
        match import_removal(parsed, exported, eol, recorded) {
            WrapFound::Edits(import_edits, _) => {
                found_any = true;
                edits.extend(import_edits);
            }
            WrapFound::Changed(anchor) => {
                found_any = found_any || wrapper_import(parsed, exported).is_some();
                missing = Some(anchor);
            }
            WrapFound::Absent => {}
        }
    }

    let wrap_kinds = [
        InsertionKind::WrapOpen,
        InsertionKind::DefaultStatement,
        InsertionKind::RenameSuffix,
    ];
    if wrap_kinds.iter().any(|k| recorded.expects(*k)) {
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
        return Ok(Planned::Done(RootRemove::Conflict(RootConflict {
            file: file.to_owned(),
            reason: format!("{anchor} was changed since it was inserted"),
            anchor,
            manual_step: format!(
                "remove the import of `{w}` from '{m}' and the `{w}(...)` wrap by hand",
                w = spec.wrapper,
                m = spec.module_specifier
            ),
        })));
    }
    // Every use of the wrapper's name must go with the snippets: the user's own use elsewhere
    // would be left calling a name that is no longer imported (and a module that is deleted).
    let inside_deletion = |at: usize| edits.iter().any(|edit| edit.range.contains(&at));
    let our_import = wrapper_import(parsed, exported).map(|import| import.range);
    // An insert that found the wrap already there recorded the import alone: that wrap was in
    // the file before the insert and stays as it was (found by the fuzz target `inject`).
    let wrap_was_there = (recorded.is_some()
        && recorded.expects(InsertionKind::Import)
        && !wrap_kinds.iter().any(|k| recorded.expects(*k)))
    .then(|| find_target(file, parsed, spec).ok())
    .flatten()
    .and_then(|target| match target {
        Target::Expr {
            range,
            wrapped: true,
            ..
        } => Some(range.start),
        _ => None,
    });
    if let Some(span) = names::identifier_spans(&parsed.module, &local)
        .into_iter()
        .find(|span| {
            let at = parsed.offset(span.lo);
            // Our import's own binding is no use of the name: an import that was there before
            // the insert (which then added only the wrap) stays as it was.
            let in_our_import = our_import.as_ref().is_some_and(|r| r.contains(&at));
            !inside_deletion(at) && !in_our_import && Some(at) != wrap_was_there
        })
    {
        if !recorded.is_some() && wrapper_import(parsed, exported).is_none() {
            // Nothing recorded and no import of ours: a wrap of that name used elsewhere too
            // is the user's own (`import { withConnectors } from './legacy'`), not ours.
            return Ok(Planned::Done(RootRemove::NotPresent));
        }
        let (line, column) = line_column(parsed.source, parsed.offset(span.lo));
        return Ok(Planned::Done(RootRemove::Conflict(RootConflict {
            file: file.to_owned(),
            anchor: format!("`{local}` at line {line}, column {column}"),
            reason: format!(
                "`{local}` is still used at line {line}, column {column}, outside the import and the wrap mobigen inserted"
            ),
            manual_step: format!(
                "remove or replace that use of `{local}` (the module '{m}' goes away with the last connector), then run remove again",
                m = exported.module_specifier
            ),
        })));
    }
    Ok(Planned::Edits(PlannedEdits {
        shape,
        edits,
        insertions: Vec::new(),
        outline: parsed.outline(),
    }))
}

/// The deletion of the inserted import line. `Changed` when it is there but not as inserted
/// (or, with a record, not there at all).
fn import_removal(
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    eol: &str,
    recorded: Recorded<'_>,
) -> WrapFound {
    let source = parsed.source;
    let the_import = || {
        format!(
            "the import of `{}` from '{}'",
            spec.wrapper, spec.module_specifier
        )
    };
    let range = match wrapper_import(parsed, spec) {
        Some(WrapperImport {
            range, sole: true, ..
        }) => range,
        Some(_) => {
            return WrapFound::Changed(format!("{} (other names were added to it)", the_import()));
        }
        None if recorded.is_some() => return WrapFound::Changed(the_import()),
        None => return WrapFound::Absent,
    };
    let decl = &source[range.clone()];
    let candidates: Vec<String> = match recorded.text(InsertionKind::Import) {
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
        let line_ok = inner > 0 || start == parsed.body_start || source[..start].ends_with('\n');
        (end <= source.len() && source.get(start..end) == Some(text.as_str()) && line_ok)
            .then_some(start..end)
    });
    match hit {
        Some(range) => WrapFound::Edits(vec![Edit::deletion(range)], RootShape::ImportOnly),
        None => WrapFound::Changed(the_import()),
    }
}

enum WrapFound {
    Edits(Vec<Edit>, RootShape),
    /// Something that looks like the wrap is there, but not verbatim.
    Changed(String),
    Absent,
}

/// What the wrap's removal looks for: the texts the insert put there.
struct WrapTexts<'p, 's, 'r> {
    parsed: &'p Parsed<'s>,
    spec: &'p WrapSpec<'p>,
    recorded: Recorded<'r>,
    open: String,
    close: String,
}

impl WrapTexts<'_, '_, '_> {
    fn text_of(&self, kind: InsertionKind) -> Option<String> {
        self.recorded.text(kind).map(str::to_owned)
    }

    fn changed(&self) -> WrapFound {
        WrapFound::Changed(format!(
            "the `{}(...)` wrap of the root component",
            self.spec.wrapper
        ))
    }

    /// Around an expression: `open` + arg + `close` must be exactly the call (`close` may
    /// take the `;` after it: `});` of a wrapped declaration).
    fn unwrap_call(&self, call: Span, arg: &Expr, shape: RootShape) -> WrapFound {
        let source = self.parsed.source;
        let call = self.parsed.range(call);
        let arg = self.parsed.range(arg.span());
        let mut close = self.close.clone();
        if self.recorded.text(InsertionKind::WrapClose).is_none()
            && shape == RootShape::DefaultDeclarationInline
            && source[call.end..].starts_with(';')
        {
            // What the insert closes a declaration with in a file that uses semicolons.
            close.push(';');
        }
        let close_end = arg.end + close.len();
        if source.get(call.start..arg.start) == Some(self.open.as_str())
            && source.get(arg.end..close_end) == Some(close.as_str())
            && close_end >= call.end
            && source[call.end..close_end].bytes().all(|b| b == b';')
        {
            WrapFound::Edits(
                vec![
                    Edit::deletion(call.start..arg.start),
                    Edit::deletion(arg.end..close_end),
                ],
                shape,
            )
        } else {
            self.changed()
        }
    }

    /// `export default withConnectors(...)`, the expression or the kept-declaration form.
    fn default_export(&self, expr: &Expr, next: Option<&ModuleItem>) -> WrapFound {
        let parsed = self.parsed;
        let source = parsed.source;
        let site = wrap_site(expr, self.spec.wrapper);
        let Some((call, arg)) = wrapper_call(bare(site), self.spec.wrapper) else {
            return WrapFound::Absent;
        };
        // The kept-declaration form: `withConnectors(App); function App`.
        if let (Expr::Ident(name), Some(ModuleItem::Stmt(Stmt::Decl(Decl::Fn(function))))) =
            (arg, next)
            && function.ident.sym == name.sym
            && self.recorded.expects(InsertionKind::DefaultStatement)
        {
            let statement = self
                .text_of(InsertionKind::DefaultStatement)
                .unwrap_or_else(|| format!("{}({}); ", self.spec.wrapper, name.sym));
            let start = parsed.offset(call.lo);
            let end = parsed.offset(function.span().lo);
            if source.get(start..end) == Some(statement.as_str()) {
                return WrapFound::Edits(
                    vec![Edit::deletion(start..end)],
                    RootShape::DefaultDeclarationKept,
                );
            }
            if self.recorded.is_some() {
                return self.changed();
            }
        }
        if !self.recorded.expects(InsertionKind::WrapOpen) {
            return self.changed();
        }
        // Only a wrap that is the whole default export was a declaration.
        let whole = std::ptr::eq(bare(site), bare(expr));
        let shape = if whole && matches!(bare(arg), Expr::Fn(_) | Expr::Class(_)) {
            RootShape::DefaultDeclarationInline
        } else {
            RootShape::DefaultExpression
        };
        self.unwrap_call(call, arg, shape)
    }

    /// `export { AppWithConnectors as default }` with `const AppWithConnectors = ...` appended.
    fn specifier(&self, local: &Ident, eol: &str) -> WrapFound {
        let parsed = self.parsed;
        let source = parsed.source;
        let Some((statement, original)) = wrapped_binding(parsed, &local.sym, self.spec) else {
            return WrapFound::Absent;
        };
        let suffix = self
            .text_of(InsertionKind::RenameSuffix)
            .unwrap_or_else(|| self.spec.binding_suffix());
        let local_range = parsed.range(local.span);
        if source[local_range.clone()] != format!("{original}{suffix}") {
            return self.changed();
        }
        let statement_text = &source[statement.clone()];
        let candidates = match self.text_of(InsertionKind::WrappedBinding) {
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
        match hit {
            Some(range) => WrapFound::Edits(
                vec![
                    Edit::deletion(local_range.end - suffix.len()..local_range.end),
                    Edit::deletion(range),
                ],
                RootShape::DefaultSpecifier,
            ),
            None => self.changed(),
        }
    }
}

fn find_wrap_removal(
    parsed: &Parsed<'_>,
    spec: &WrapSpec<'_>,
    eol: &str,
    recorded: Recorded<'_>,
) -> WrapFound {
    let texts = WrapTexts {
        parsed,
        spec,
        recorded,
        open: recorded
            .text(InsertionKind::WrapOpen)
            .map_or_else(|| format!("{}(", spec.wrapper), str::to_owned),
        close: recorded
            .text(InsertionKind::WrapClose)
            .map_or_else(|| ")".to_owned(), str::to_owned),
    };
    if let Some(register) = names::register_calls(&parsed.module).first() {
        return match wrapper_call(
            bare(wrap_site(&register.component, spec.wrapper)),
            spec.wrapper,
        ) {
            Some((call, arg)) if recorded.expects(InsertionKind::WrapOpen) => {
                texts.unwrap_call(call, arg, register.shape)
            }
            _ => WrapFound::Absent,
        };
    }
    let body = &parsed.module.body;
    for (index, item) in body.iter().enumerate() {
        let ModuleItem::ModuleDecl(decl) = item else {
            continue;
        };
        match decl {
            ModuleDecl::ExportDefaultExpr(export) => {
                return texts.default_export(&export.expr, body.get(index + 1));
            }
            ModuleDecl::ExportDefaultDecl(_) => return WrapFound::Absent,
            ModuleDecl::ExportNamed(named) if named.src.is_none() => {
                let default_local = named.specifiers.iter().find_map(|s| match s {
                    ExportSpecifier::Named(s) => match (&s.orig, &s.exported) {
                        (ModuleExportName::Ident(local), Some(exported))
                            if export_name(exported) == Some("default") =>
                        {
                            Some(local)
                        }
                        _ => None,
                    },
                    _ => None,
                });
                if let Some(local) = default_local {
                    return texts.specifier(local, eol);
                }
            }
            _ => {}
        }
    }
    WrapFound::Absent
}

#[cfg(test)]
mod tests {
    use super::super::style::BOM;
    use super::*;

    #[test]
    fn swc_positions_become_byte_offsets_with_and_without_a_bom() -> Result<(), InjectError> {
        for source in ["export default App;\n", "\u{feff}export default App;\n"] {
            let range = with_parsed("App.ts", source, SourceSyntax::TypeScript, |parsed| {
                let Some(ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultExpr(export))) =
                    parsed.module.body.first()
                else {
                    panic!("expected a default export in {source:?}");
                };
                assert_eq!(parsed.outline().items, [parsed.range(export.span)]);
                Ok(parsed.range(export.expr.span()))
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
