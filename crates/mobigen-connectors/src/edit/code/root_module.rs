//! The generated root module `src/connectors.tsx`: imports, start-up code and a higher-order
//! component that nests every enabled connector's provider around the app's root component.

/// Path of the generated root module, relative to the project root.
pub const ROOT_MODULE: &str = "src/connectors.tsx";
/// Import path of the root module from `src/` files' point of view, without extension.
pub const ROOT_MODULE_STEM: &str = "src/connectors";
/// Name of the higher-order component the root module exports.
pub const WRAPPER: &str = "withConnectors";

use swc_common::{DUMMY_SP, SourceMap, Span, sync::Lrc};
use swc_ecma_ast::{
    Expr, ExprStmt, JSXElement, JSXElementChild, Module, ModuleItem, ReturnStmt, Stmt,
};
use swc_ecma_codegen::{Config, Emitter, text_writer::JsWriter};
use swc_ecma_visit::{VisitMut, VisitMutWith};

use super::InjectError;
use super::parse::{MAX_PARSE_LEN, SourceSyntax, line_column, on_parser_stack, parse_module};

/// One connector's part of the root module: import lines, start-up statements and the opening
/// and closing JSX of its provider, parsed and placed in the module's syntax tree.
#[derive(Debug, Clone, Copy)]
pub struct RootPart<'p> {
    /// Import statements.
    pub imports: &'p [String],
    /// Statements run once when the app loads.
    pub startup: &'p [String],
    /// The provider's opening and closing tags.
    pub provider: Option<(&'p str, &'p str)>,
}

/// The fixed part of the root module: the wrapper, with `<Root {...props} />` where the
/// providers go.
const SKELETON: &str = "import type { ComponentType } from 'react';
export function withConnectors<P extends object>(Root: ComponentType<P>): ComponentType<P> {
  function WithConnectors(props: P) {
    return <Root {...props} />;
  }
  WithConnectors.displayName = `withConnectors(${Root.displayName ?? Root.name ?? 'Root'})`;
  return WithConnectors;
}
";

/// The root module's text (without the generated-file header) for connectors `ids` with their
/// parts `parts`, already in nesting order (the first wraps outermost).
///
/// The module is built as a syntax tree and printed with `swc_ecma_codegen`: each part's
/// imports and start-up statements are parsed and placed in order, and the providers' tags are
/// parsed into JSX elements nested around `<Root {...props} />` inside the wrapper. Only the
/// comments are written as text.
///
/// # Errors
/// [`InjectError::Parse`] when a part does not parse (a manifest's `root` is checked with this
/// when it loads, so a loaded connector's part always does), [`InjectError::TooLarge`],
/// [`InjectError::ParserStack`].
pub fn root_module_body<'p>(
    ids: &[&str],
    parts: impl IntoIterator<Item = RootPart<'p>>,
) -> Result<String, InjectError> {
    let parts: Vec<RootPart<'p>> = parts.into_iter().collect();
    let len = SKELETON.len()
        + parts
            .iter()
            .map(|p| {
                p.imports
                    .iter()
                    .chain(p.startup)
                    .map(String::len)
                    .sum::<usize>()
                    + p.provider
                        .map_or(0, |(open, close)| open.len() + close.len())
            })
            .sum::<usize>();
    if len > MAX_PARSE_LEN {
        return Err(InjectError::TooLarge {
            file: ROOT_MODULE.to_owned(),
            len,
            limit: MAX_PARSE_LEN,
        });
    }
    // Parsing, building, printing and dropping the tree all recurse with the nesting.
    on_parser_stack(ROOT_MODULE, len, || build(ids, &parts))
}

fn build(ids: &[&str], parts: &[RootPart<'_>]) -> Result<String, InjectError> {
    let mut skeleton = parse_items(SKELETON)?;
    let mut imports = vec![skeleton.remove(0)];
    let mut startup = Vec::new();
    let mut providers = Vec::new();
    for part in parts {
        for import in part.imports {
            imports.extend(parse_items(import)?);
        }
        for statement in part.startup {
            startup.extend(parse_items(statement)?);
        }
        if let Some((open, close)) = part.provider {
            providers.push(parse_provider(open, close)?);
        }
    }
    let mut wrapper = skeleton;
    nest_providers(&mut wrapper, providers);

    let mut body = format!("// Connectors: {}.\n", ids.join(", "));
    body.push_str(&print(imports)?);
    if !startup.is_empty() {
        body.push_str("\n// Start-up code of the connectors, run once when the app loads.\n");
        body.push_str(&print(startup)?);
    }
    body.push_str(
        "\n/** Wraps the app's root component in the providers of the enabled connectors. */\n",
    );
    body.push_str(&print(wrapper)?);
    Ok(body)
}

/// The module items of `text` (TSX), with every span made a dummy one: the printer then lays
/// them out itself instead of looking for the text they came from.
fn parse_items(text: &str) -> Result<Vec<ModuleItem>, InjectError> {
    let mut module = parse_module(text, SourceSyntax::Tsx).map_err(|(offset, message)| {
        let (line, column) = line_column(text, offset);
        InjectError::Parse {
            file: format!("{ROOT_MODULE} (a connector's `root` part `{text}`)"),
            line,
            column,
            message,
        }
    })?;
    module.visit_mut_with(&mut DummySpans);
    Ok(module.body)
}

/// `open` + `close` as one JSX element (its children are set by [`nest_providers`]).
fn parse_provider(open: &str, close: &str) -> Result<JSXElement, InjectError> {
    let text = format!("{open}{close};");
    let items = parse_items(&text)?;
    match <[ModuleItem; 1]>::try_from(items) {
        Ok([ModuleItem::Stmt(Stmt::Expr(ExprStmt { expr, .. }))]) => match *expr {
            Expr::JSXElement(element) => Ok(*element),
            _ => Err(not_one_element(&text)),
        },
        _ => Err(not_one_element(&text)),
    }
}

fn not_one_element(text: &str) -> InjectError {
    InjectError::Parse {
        file: format!("{ROOT_MODULE} (a connector's provider `{text}`)"),
        line: 1,
        column: 1,
        message: "the provider's opening and closing tags do not form one JSX element".to_owned(),
    }
}

/// Puts `<Root {...props} />` of the wrapper inside the providers (the first outermost).
fn nest_providers(wrapper: &mut [ModuleItem], providers: Vec<JSXElement>) {
    struct Nest(Option<Vec<JSXElement>>);
    impl VisitMut for Nest {
        fn visit_mut_return_stmt(&mut self, stmt: &mut ReturnStmt) {
            let (Some(providers), Some(arg)) = (self.0.take(), stmt.arg.as_mut()) else {
                return;
            };
            let Expr::JSXElement(root) = &mut **arg else {
                return;
            };
            let mut inner = (**root).clone();
            for mut provider in providers.into_iter().rev() {
                provider.children = vec![JSXElementChild::JSXElement(Box::new(inner))];
                inner = provider;
            }
            **root = inner;
        }
    }
    let mut nest = Nest(Some(providers));
    for item in wrapper {
        item.visit_mut_with(&mut nest);
    }
}

struct DummySpans;

impl VisitMut for DummySpans {
    fn visit_mut_span(&mut self, span: &mut Span) {
        *span = DUMMY_SP;
    }
}

/// `items` printed by `swc_ecma_codegen`: two-space indent, LF, semicolons.
fn print(items: Vec<ModuleItem>) -> Result<String, InjectError> {
    let module = Module {
        span: DUMMY_SP,
        body: items,
        shebang: None,
    };
    let cm: Lrc<SourceMap> = Lrc::default();
    let mut out = Vec::new();
    {
        let mut writer = JsWriter::new(cm.clone(), "\n", &mut out, None);
        writer.set_indent_str("  ");
        let mut emitter = Emitter {
            cfg: Config::default(),
            cm,
            comments: None,
            wr: writer,
        };
        emitter
            .emit_module(&module)
            .map_err(|error| InjectError::Parse {
                file: ROOT_MODULE.to_owned(),
                line: 1,
                column: 1,
                message: format!("cannot print the root module: {error}"),
            })?;
    }
    String::from_utf8(out).map_err(|error| InjectError::Parse {
        file: ROOT_MODULE.to_owned(),
        line: 1,
        column: 1,
        message: format!("the printed root module is not UTF-8: {error}"),
    })
}

/// The import specifier of the root module as seen from `from_file` (both relative to the
/// project root): `./src/connectors` from `App.tsx`, `../src/connectors` from `app/_layout.tsx`.
pub fn root_module_specifier(from_file: &str) -> String {
    let from_dir: Vec<&str> = {
        let mut parts: Vec<&str> = from_file.split('/').collect();
        parts.pop();
        parts
    };
    let target: Vec<&str> = ROOT_MODULE_STEM.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&target)
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from_dir.len() - common;
    let rest = target[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}
