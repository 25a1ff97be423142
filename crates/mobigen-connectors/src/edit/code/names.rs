//! Whole-file questions about names and calls, answered with `swc_ecma_visit`: every binding
//! and use of an identifier (the wrapper's name), and the calls that register the root
//! component wherever they are in the file.
//!
//! Scopes are not resolved: a name bound or used anywhere in the file counts, whatever scope it
//! is in. Both callers err on the safe side with that (`add` picks another name, `remove`
//! refuses and names the line), so a shadowing binding costs a renamed import or a manual step,
//! never a broken file.

use swc_common::Span;
use swc_ecma_ast::{
    CallExpr, Callee, ExportNamedSpecifier, Expr, ImportNamedSpecifier, Module, ModuleExportName,
};
use swc_ecma_visit::{Visit, VisitWith};

use super::root::RootShape;

/// Every occurrence of `name` as an identifier in `module`: bindings (declarations, parameters,
/// imports) and references (calls, JSX tags, shorthand properties, type names), in source order.
/// Property names (`x.name`, `{ name: 1 }`, JSX attributes) are not identifiers of the scope and
/// are left out, and so are the names a module imports or exports under another name
/// (`import { name as other }`, `export { other as name }`).
pub(super) fn identifier_spans(module: &Module, name: &str) -> Vec<Span> {
    let mut finder = Occurrences {
        name,
        spans: Vec::new(),
    };
    module.visit_with(&mut finder);
    finder.spans.sort_by_key(|span| span.lo);
    finder.spans
}

/// `base` if no identifier of `module` is called that, else the first of `base2`, `base3`, ...
/// that is free.
pub(super) fn free_name(module: &Module, base: &str) -> String {
    let mut names = Prefixed {
        prefix: base,
        names: Vec::new(),
    };
    module.visit_with(&mut names);
    let taken = |candidate: &str| names.names.iter().any(|n| n == candidate);
    if !taken(base) {
        return base.to_owned();
    }
    (2u32..)
        .map(|n| format!("{base}{n}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| base.to_owned())
}

struct Occurrences<'n> {
    name: &'n str,
    spans: Vec<Span>,
}

impl Visit for Occurrences<'_> {
    fn visit_ident(&mut self, ident: &swc_ecma_ast::Ident) {
        if &*ident.sym == self.name {
            self.spans.push(ident.span);
        }
    }

    fn visit_import_named_specifier(&mut self, specifier: &ImportNamedSpecifier) {
        // `imported` names the other module's export, not a binding of this one.
        specifier.local.visit_with(self);
    }

    fn visit_export_named_specifier(&mut self, specifier: &ExportNamedSpecifier) {
        // `exported` is the name other modules see; `orig` is the local binding used.
        if let ModuleExportName::Ident(orig) = &specifier.orig {
            orig.visit_with(self);
        }
    }
}

/// Collects the identifiers that start with a prefix (the candidates of [`free_name`]).
struct Prefixed<'p> {
    prefix: &'p str,
    names: Vec<String>,
}

impl Visit for Prefixed<'_> {
    fn visit_ident(&mut self, ident: &swc_ecma_ast::Ident) {
        if ident.sym.starts_with(self.prefix) && !self.names.iter().any(|n| *n == *ident.sym) {
            self.names.push(ident.sym.to_string());
        }
    }
}

/// A call that registers the root component: `registerRootComponent(X)` (also as a member,
/// `expo.registerRootComponent(X)`) or `AppRegistry.registerComponent(name, () => X)`.
pub(super) struct RegisterCall {
    /// Which of the two.
    pub(super) shape: RootShape,
    /// The call.
    pub(super) call: Span,
    /// `X`: the argument, or the arrow's body (a copy of that part of the tree; spans intact).
    pub(super) component: Box<Expr>,
}

/// Every call in `module` that registers the root component, wherever it is (a top-level
/// statement, an `if`, a function body), in source order.
pub(super) fn register_calls(module: &Module) -> Vec<RegisterCall> {
    let mut finder = RegisterCalls { calls: Vec::new() };
    module.visit_with(&mut finder);
    finder.calls.sort_by_key(|call| call.call.lo);
    finder.calls
}

struct RegisterCalls {
    calls: Vec<RegisterCall>,
}

impl Visit for RegisterCalls {
    fn visit_call_expr(&mut self, call: &CallExpr) {
        if let Some((shape, component)) = register_component(call) {
            self.calls.push(RegisterCall {
                shape,
                call: call.span,
                component: Box::new(component.clone()),
            });
        }
        call.visit_children_with(self);
    }
}

fn register_component(call: &CallExpr) -> Option<(RootShape, &Expr)> {
    let Callee::Expr(callee) = &call.callee else {
        return None;
    };
    let callee_name = match &**callee {
        Expr::Ident(i) => Some(&*i.sym),
        Expr::Member(m) => m.prop.as_ident().map(|p| &*p.sym),
        _ => None,
    }?;
    if call.args.iter().any(|a| a.spread.is_some()) {
        return None;
    }
    match (callee_name, call.args.as_slice()) {
        ("registerRootComponent", [arg]) => Some((RootShape::RegisterRootComponent, &*arg.expr)),
        ("registerComponent", [_, factory]) => {
            let Expr::Arrow(arrow) = super::root::bare(&factory.expr) else {
                return None;
            };
            arrow
                .body
                .as_expr()
                .map(|body| (RootShape::AppRegistry, &**body))
        }
        _ => None,
    }
}
