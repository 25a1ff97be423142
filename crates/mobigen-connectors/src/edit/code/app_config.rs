//! The dynamic Expo config, `app.config.(ts|js|mjs|cjs)`: what it returns (found with
//! `swc_ecma_visit`), and the reversible insertion of plugin entries into a `plugins` array
//! literal it returns.
//!
//! Three shapes matter ([`AppConfig`]):
//! - it passes the static config (app.json) through: `({ config }) => ({ ...config, ... })`,
//!   `plugins: [...config.plugins, 'x']`, or `config` itself: app.json is the place to edit;
//! - it returns an object literal (or a function returning one) with a `plugins` array literal
//!   that does not take app.json's plugins: the entries go into that array, by insertion only;
//! - anything else: the caller gives one manual step.

use std::ops::Range;

use swc_common::Spanned;
use swc_ecma_ast::{
    ArrowExpr, ArrowFunctionBody, Decl, DefaultDecl, Expr, Function, Lit, MemberProp, ModuleDecl,
    ModuleItem, ObjectLit, ObjectPatProp, Pat, Prop, PropName, PropOrSpread, ReturnStmt, Stmt,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::InjectError;
use super::edit::{Edit, apply_edits};
use super::parse::{Parsed, SourceSyntax, check_whole, with_parsed};
use super::root::bare;
use super::style::Style;

/// What a dynamic app config does with the parts the connectors need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Where plugin entries go.
    pub plugins: PluginsPlace,
    /// Top-level keys of the Expo config that app.json still supplies through the returned
    /// config (app.json settings under them take effect); `None`: the returned config does not
    /// pass app.json's config through at all.
    pub static_keys: Option<StaticKeys>,
}

/// The top-level keys of the returned config that do not come from app.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticKeys {
    overridden: Vec<String>,
}

impl StaticKeys {
    /// Whether app.json's value under the top-level key `key` reaches the returned config.
    pub fn passes(&self, key: &str) -> bool {
        !self.overridden.iter().any(|k| k == key)
    }
}

/// Where plugin entries go for a dynamic app config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginsPlace {
    /// app.json's `expo.plugins` reach the returned config.
    StaticConfig,
    /// Into the `plugins` array literal the config returns (see [`insert_plugins`]).
    ArrayLiteral,
    /// Nowhere safe: a manual step.
    Manual,
}

/// What the insertion into a `plugins` array literal inserted, for its exact removal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PluginsInsertion {
    /// The inserted texts, in source order.
    pub texts: Vec<String>,
}

/// What `file`'s dynamic config returns.
///
/// # Errors
/// [`InjectError::UnsupportedFileType`], [`InjectError::Parse`] (with line:column),
/// [`InjectError::TooLarge`], [`InjectError::ParserStack`].
pub fn analyze(file: &str, source: &str) -> Result<AppConfig, InjectError> {
    let syntax = SourceSyntax::from_path(file)?;
    with_parsed(file, source, syntax, |parsed| {
        Ok(match returned_config(parsed) {
            Some(found) => found.shape(),
            None => AppConfig {
                plugins: PluginsPlace::Manual,
                static_keys: None,
            },
        })
    })
}

/// Inserts `entries` (JavaScript expressions: `'name'`, `['name', {...}]`) into the `plugins`
/// array literal the config returns: `first` ones at its start, the rest at its end, in the
/// file's line ending and the array's layout (one per line with the array's indent and
/// trailing commas, or inline). The output is parsed (I1).
///
/// Returns the new text and what to record for [`remove_plugins`]; `None` when `file` has no
/// such array.
///
/// # Errors
/// As [`analyze`], and [`InjectError::BrokenOutput`] if the result would not parse.
pub fn insert_plugins(
    file: &str,
    source: &str,
    first: &[(String, String)],
    rest: &[(String, String)],
) -> Result<Option<(String, PluginsInsertion)>, InjectError> {
    let syntax = SourceSyntax::from_path(file)?;
    let array = with_parsed(file, source, syntax, |parsed| {
        Ok(returned_config(parsed).and_then(|found| found.array(parsed)))
    })?;
    let Some(array) = array else {
        return Ok(None);
    };
    // A plugin the array already names stays as the user wrote it (and is not removed).
    let missing = |entries: &[(String, String)]| -> Vec<String> {
        entries
            .iter()
            .filter(|(name, _)| !array.present.contains(name))
            .map(|(_, text)| text.clone())
            .collect()
    };
    let (first, rest) = (missing(first), missing(rest));
    let (first, rest) = (first.as_slice(), rest.as_slice());
    let eol = Style::line_ending_of(source).as_str();
    let mut edits = Vec::new();
    let mut texts = Vec::new();
    let layout = |entries: &[String], lead: bool, trail: bool| -> String {
        let mut text = String::new();
        for (i, entry) in entries.iter().enumerate() {
            match &array.indent {
                Some(indent) => {
                    if lead || i > 0 {
                        text.push(',');
                    }
                    text.push_str(eol);
                    text.push_str(indent);
                    text.push_str(entry);
                }
                None => {
                    if lead || i > 0 {
                        text.push_str(", ");
                    }
                    text.push_str(entry);
                }
            }
        }
        if trail {
            text.push(',');
            if array.indent.is_none() {
                text.push(' ');
            }
        }
        text
    };
    match array.elements {
        None => {
            let all: Vec<String> = first.iter().chain(rest).cloned().collect();
            if !all.is_empty() {
                edits.push(Edit::insertion(array.open, all.join(", ")));
            }
        }
        Some((last_end, trailing_comma)) => {
            if !first.is_empty() {
                // `[` + `\n  'first',` (the line of the old first element follows) or `'first', `.
                let text = match &array.indent {
                    Some(_) => {
                        let mut text = layout(first, false, false);
                        text.push(',');
                        text
                    }
                    None => layout(first, false, true),
                };
                edits.push(Edit::insertion(array.open, text));
            }
            if !rest.is_empty() {
                let edit = match trailing_comma {
                    // After `last,`: `\n  'x',` keeps the trailing comma style.
                    Some(comma_end) if array.indent.is_some() => {
                        let mut text = layout(rest, false, false);
                        text.push(',');
                        Edit::insertion(comma_end, text)
                    }
                    _ => Edit::insertion(last_end, layout(rest, true, false)),
                };
                edits.push(edit);
            }
        }
    }
    if edits.is_empty() {
        return Ok(Some((source.to_owned(), PluginsInsertion { texts })));
    }
    let output = apply_edits(source, &edits)?;
    check_whole(file, syntax, &output)?;
    texts.extend(edits.into_iter().map(|edit| edit.text));
    Ok(Some((output, PluginsInsertion { texts })))
}

/// Takes out what [`insert_plugins`] inserted: each recorded text must be found verbatim, once,
/// inside the `plugins` array literal the config returns. `None` when it is not (the user
/// changed the array): a conflict for the caller.
///
/// # Errors
/// As [`analyze`], and [`InjectError::BrokenOutput`] if the result would not parse.
pub fn remove_plugins(
    file: &str,
    source: &str,
    recorded: &PluginsInsertion,
) -> Result<Option<String>, InjectError> {
    let syntax = SourceSyntax::from_path(file)?;
    let span = with_parsed(file, source, syntax, |parsed| {
        Ok(returned_config(parsed)
            .and_then(|found| found.array(parsed))
            .map(|array| array.span))
    })?;
    let Some(span) = span else {
        return Ok(None);
    };
    let inside = &source[span.clone()];
    let mut edits = Vec::new();
    for text in recorded.texts.iter().filter(|t| !t.is_empty()) {
        let mut hits = inside.match_indices(text.as_str());
        match (hits.next(), hits.next()) {
            (Some((at, _)), None) => {
                let start = span.start + at;
                edits.push(Edit::deletion(start..start + text.len()));
            }
            _ => return Ok(None),
        }
    }
    let Ok(output) = apply_edits(source, &edits) else {
        return Ok(None);
    };
    check_whole(file, syntax, &output)?;
    Ok(Some(output))
}

/// The `plugins` array literal: where its `[` ends, its elements, its layout.
struct PluginsArray {
    /// The array's whole range.
    span: Range<usize>,
    /// Offset just after `[`.
    open: usize,
    /// End of the last element and, when a `,` follows it, the offset after that comma.
    elements: Option<(usize, Option<usize>)>,
    /// The indent of the elements' lines when each element starts a line (else inline).
    indent: Option<String>,
    /// The plugin names it already has (`'name'` or `['name', ...]`).
    present: Vec<String>,
}

/// The object the config returns, with how it refers to the static config.
struct Found {
    object: Option<ObjectLit>,
    /// The whole returned expression is the static config.
    is_static: bool,
    statics: StaticRefs,
}

/// How the config function names the static config: `({ config })` / `({ config: c })` binds
/// a name, `(ctx)` reads `ctx.config`.
#[derive(Default)]
struct StaticRefs {
    names: Vec<String>,
    contexts: Vec<String>,
}

impl StaticRefs {
    /// Whether `expr` is the static config.
    fn is_config(&self, expr: &Expr) -> bool {
        match bare(expr) {
            Expr::Ident(i) => self.names.iter().any(|n| *n == *i.sym),
            Expr::Member(m) => {
                matches!(&*m.obj, Expr::Ident(o) if self.contexts.iter().any(|c| *c == *o.sym))
                    && prop_is(&m.prop, "config")
            }
            _ => false,
        }
    }

    /// Whether `expr` is `config.key` (with a `?? []` / `|| []` fallback).
    fn is_config_member(&self, expr: &Expr, key: &str) -> bool {
        match bare(expr) {
            Expr::Member(m) => prop_is(&m.prop, key) && self.is_config(&m.obj),
            Expr::OptChain(chain) => match &*chain.base {
                swc_ecma_ast::OptChainBase::Member(m) => {
                    prop_is(&m.prop, key) && self.is_config(&m.obj)
                }
                swc_ecma_ast::OptChainBase::Call(_) => false,
            },
            Expr::Bin(bin) => self.is_config_member(&bin.left, key),
            _ => false,
        }
    }

    /// Whether `value` (of the returned key `key`) passes app.json's value through:
    /// `config.key`, or an object or array that spreads it.
    fn passes_through(&self, value: &Expr, key: &str) -> bool {
        match bare(value) {
            Expr::Object(object) => object.props.iter().any(
                |p| matches!(p, PropOrSpread::Spread(s) if self.is_config_member(&s.expr, key)),
            ),
            Expr::Array(array) => array
                .elems
                .iter()
                .flatten()
                .any(|e| e.spread.is_some() && self.is_config_member(&e.expr, key)),
            other => self.is_config_member(other, key),
        }
    }
}

fn prop_is(prop: &MemberProp, key: &str) -> bool {
    match prop {
        MemberProp::Ident(i) => &*i.sym == key,
        MemberProp::Computed(c) => {
            matches!(&*c.expr, Expr::Lit(Lit::Str(s)) if s.value.as_atom().is_some_and(|a| &**a == key))
        }
        MemberProp::PrivateName(_) => false,
    }
}

fn key_name(key: &PropName) -> Option<String> {
    match key {
        PropName::Ident(i) => Some(i.sym.to_string()),
        PropName::Str(s) => s.value.as_atom().map(|a| a.to_string()),
        _ => None,
    }
}

/// The value of the object's own key `key` (the last one, as JavaScript takes it).
fn own_value<'o>(object: &'o ObjectLit, key: &str) -> Option<&'o Expr> {
    object.props.iter().rev().find_map(|p| match p {
        PropOrSpread::Prop(prop) => match &**prop {
            Prop::KeyValue(kv) if key_name(&kv.key).as_deref() == Some(key) => Some(&*kv.value),
            _ => None,
        },
        PropOrSpread::Spread(_) => None,
    })
}

impl Found {
    fn shape(&self) -> AppConfig {
        if self.is_static {
            return AppConfig {
                plugins: PluginsPlace::StaticConfig,
                static_keys: Some(StaticKeys {
                    overridden: Vec::new(),
                }),
            };
        }
        let Some(object) = &self.object else {
            return AppConfig {
                plugins: PluginsPlace::Manual,
                static_keys: None,
            };
        };
        let spreads = object
            .props
            .iter()
            .any(|p| matches!(p, PropOrSpread::Spread(s) if self.statics.is_config(&s.expr)));
        let plugins = match own_value(object, "plugins").map(bare) {
            None if spreads => PluginsPlace::StaticConfig,
            None => PluginsPlace::Manual,
            Some(value) if self.statics.passes_through(value, "plugins") => {
                PluginsPlace::StaticConfig
            }
            Some(Expr::Array(_)) => PluginsPlace::ArrayLiteral,
            Some(_) => PluginsPlace::Manual,
        };
        let static_keys = spreads.then(|| StaticKeys {
            overridden: object
                .props
                .iter()
                .filter_map(|p| match p {
                    PropOrSpread::Prop(prop) => match &**prop {
                        Prop::KeyValue(kv) => {
                            let key = key_name(&kv.key)?;
                            (!self.statics.passes_through(&kv.value, &key)).then_some(key)
                        }
                        Prop::Shorthand(i) => Some(i.sym.to_string()),
                        _ => None,
                    },
                    PropOrSpread::Spread(_) => None,
                })
                .collect(),
        });
        AppConfig {
            plugins,
            static_keys,
        }
    }

    /// The `plugins` array literal, when that is where entries go.
    fn array(&self, parsed: &Parsed<'_>) -> Option<PluginsArray> {
        if self.shape().plugins != PluginsPlace::ArrayLiteral {
            return None;
        }
        let Expr::Array(array) = bare(own_value(self.object.as_ref()?, "plugins")?) else {
            return None;
        };
        let source = parsed.source;
        let span = parsed.range(array.span);
        let open = span.start + 1;
        let elems: Vec<Range<usize>> = array
            .elems
            .iter()
            .flatten()
            .map(|e| {
                let start = e.spread.map_or_else(
                    || parsed.range(e.expr.span()).start,
                    |s| parsed.offset(s.lo),
                );
                start..parsed.range(e.expr.span()).end
            })
            .collect();
        if elems.len() != array.elems.len() {
            // Holes (`[a, , b]`): leave such an array alone.
            return None;
        }
        let elements = elems.last().map(|last| {
            let after = &source[last.end..span.end - 1];
            let comma = after
                .trim_start()
                .starts_with(',')
                .then(|| last.end + after.find(',').map_or(0, |i| i + 1));
            (last.end, comma)
        });
        // One element per line: every element starts its own line, with one indent.
        let line_indent = |at: usize| {
            let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
            let indent = &source[line_start..at];
            indent
                .chars()
                .all(|c| c == ' ' || c == '\t')
                .then(|| indent.to_owned())
        };
        let indents: Vec<Option<String>> = elems.iter().map(|e| line_indent(e.start)).collect();
        let indent = match indents.first() {
            Some(Some(first)) if indents.iter().all(|i| i.as_ref() == Some(first)) => {
                Some(first.clone())
            }
            _ => None,
        };
        let present = array
            .elems
            .iter()
            .flatten()
            .filter_map(|e| match bare(&e.expr) {
                Expr::Lit(Lit::Str(name)) => name.value.as_atom().map(|a| a.to_string()),
                Expr::Array(pair) => match pair.elems.first() {
                    Some(Some(first)) => match bare(&first.expr) {
                        Expr::Lit(Lit::Str(name)) => name.value.as_atom().map(|a| a.to_string()),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            })
            .collect();
        Some(PluginsArray {
            span,
            open,
            elements,
            indent,
            present,
        })
    }
}

/// What the module's default export (or `module.exports = ...`) gives Expo: an object literal,
/// or a function's returned object literal, with the names the function gives the static
/// config. `None` when it cannot be told from the syntax.
fn returned_config<'m>(parsed: &'m Parsed<'_>) -> Option<Found> {
    let body = &parsed.module.body;
    let exported: Exported<'m> = body.iter().find_map(|item| match item {
        ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultExpr(e)) => Some(Exported::Expr(&e.expr)),
        ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultDecl(d)) => match &d.decl {
            DefaultDecl::Fn(f) => Some(Exported::Function(&f.function)),
            _ => None,
        },
        ModuleItem::Stmt(Stmt::Expr(stmt)) => match bare(&stmt.expr) {
            Expr::Assign(assign) => {
                let target = assign.left.as_simple()?.as_member()?;
                let is_module_exports = matches!(&*target.obj, Expr::Ident(m) if &*m.sym == "module")
                    && prop_is(&target.prop, "exports");
                is_module_exports.then_some(Exported::Expr(&assign.right))
            }
            _ => None,
        },
        _ => None,
    })?;
    let exported = match exported {
        Exported::Expr(expr) => match bare(expr) {
            // `export default config;` with `const config = ...` or `function config` above.
            Expr::Ident(name) => top_level_value(parsed, &name.sym)?,
            _ => Exported::Expr(expr),
        },
        other => other,
    };
    match exported {
        Exported::Expr(expr) => match bare(expr) {
            Expr::Object(object) => Some(found_in(object, StaticRefs::default())),
            Expr::Arrow(arrow) => from_arrow(arrow),
            Expr::Fn(f) => from_function(&f.function),
            _ => None,
        },
        Exported::Function(function) => from_function(function),
    }
}

enum Exported<'m> {
    Expr(&'m Expr),
    Function(&'m Function),
}

fn top_level_value<'m>(parsed: &'m Parsed<'_>, name: &str) -> Option<Exported<'m>> {
    parsed.module.body.iter().find_map(|item| match item {
        ModuleItem::Stmt(Stmt::Decl(Decl::Fn(f))) if &*f.ident.sym == name => {
            Some(Exported::Function(&f.function))
        }
        ModuleItem::Stmt(Stmt::Decl(Decl::Var(var))) => var.decls.iter().find_map(|d| {
            let Pat::Ident(binding) = &d.name else {
                return None;
            };
            (&*binding.id.sym == name)
                .then(|| d.init.as_deref().map(Exported::Expr))
                .flatten()
        }),
        _ => None,
    })
}

/// The static config's names from the function's first parameter.
fn static_refs(param: Option<&Pat>) -> StaticRefs {
    let mut refs = StaticRefs::default();
    match param {
        Some(Pat::Ident(i)) => refs.contexts.push(i.id.sym.to_string()),
        Some(Pat::Object(object)) => {
            for prop in &object.props {
                match prop {
                    ObjectPatProp::Assign(a) if &*a.key.sym == "config" => {
                        refs.names.push(a.key.sym.to_string());
                    }
                    ObjectPatProp::KeyValue(kv)
                        if key_name(&kv.key).as_deref() == Some("config") =>
                    {
                        if let Pat::Ident(i) = &*kv.value {
                            refs.names.push(i.id.sym.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    refs
}

fn from_arrow(arrow: &ArrowExpr) -> Option<Found> {
    let refs = static_refs(arrow.params.first());
    match &*arrow.body {
        ArrowFunctionBody::Expr(expr) => found_expr(expr, refs),
        ArrowFunctionBody::FunctionBody(block) => {
            let returned = single_return(|v| block.visit_children_with(v))?;
            found_expr(&returned, refs)
        }
    }
}

fn from_function(function: &Function) -> Option<Found> {
    let refs = static_refs(function.params.first().map(|p| &p.pat));
    let body = function.body.as_ref()?;
    let returned = single_return(|v| body.visit_children_with(v))?;
    found_expr(&returned, refs)
}

fn found_expr(expr: &Expr, statics: StaticRefs) -> Option<Found> {
    if statics.is_config(expr) {
        return Some(Found {
            object: None,
            is_static: true,
            statics,
        });
    }
    match bare(expr) {
        Expr::Object(object) => Some(found_in(object, statics)),
        _ => None,
    }
}

/// The config inside `object`: `{ expo: {...} }` is the same as `{...}`.
fn found_in(object: &ObjectLit, statics: StaticRefs) -> Found {
    let inner = own_value(object, "expo").and_then(|v| match bare(v) {
        Expr::Object(inner) => Some(inner),
        _ => None,
    });
    Found {
        object: Some(inner.unwrap_or(object).clone()),
        is_static: false,
        statics,
    }
}

/// The argument of the one `return` of a function body (not counting nested functions), copied
/// out of the tree (spans intact).
fn single_return(walk: impl FnOnce(&mut Returns)) -> Option<Expr> {
    let mut returns = Returns { found: Vec::new() };
    walk(&mut returns);
    match returns.found.as_mut_slice() {
        [only] => only.take().map(|expr| *expr),
        _ => None,
    }
}

/// Collects the `return` statements of one function body.
struct Returns {
    found: Vec<Option<Box<Expr>>>,
}

impl Visit for Returns {
    fn visit_return_stmt(&mut self, stmt: &ReturnStmt) {
        self.found.push(stmt.arg.clone());
    }

    // A nested function's `return` is not the config function's.
    fn visit_function(&mut self, _: &Function) {}

    fn visit_arrow_expr(&mut self, _: &ArrowExpr) {}

    fn visit_class(&mut self, _: &swc_ecma_ast::Class) {}
}
