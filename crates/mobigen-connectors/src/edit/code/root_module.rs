//! The generated root module `src/connectors.tsx`: imports, start-up code and a higher-order
//! component that nests every enabled connector's provider around the app's root component.

/// Path of the generated root module, relative to the project root.
pub const ROOT_MODULE: &str = "src/connectors.tsx";
/// Import path of the root module from `src/` files' point of view, without extension.
pub const ROOT_MODULE_STEM: &str = "src/connectors";
/// Name of the higher-order component the root module exports.
pub const WRAPPER: &str = "withConnectors";

use swc_common::{DUMMY_SP, SourceMap, Span, sync::Lrc};
use swc_ecma_ast::{Expr, ExprStmt, JSXElement, Module, ModuleItem, Stmt};
use swc_ecma_codegen::{Config, Emitter, Node, text_writer::JsWriter};
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
/// imports and start-up statements are parsed and placed in order, and each provider's tags are
/// parsed into a JSX element whose opening and closing tags are printed one per line, nested
/// around `<Root {...props} />` in the wrapper's `return (...)`. Only the comments and that
/// nesting's indentation are written as text (the printer puts nested JSX on one line).
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
    let mut wrapper = parse_items(SKELETON)?;
    let mut imports = vec![wrapper.remove(0)];
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

    let mut body = format!("// Connectors: {}.\n", ids.join(", "));
    body.push_str(&print(&module(imports))?);
    if !startup.is_empty() {
        body.push_str("\n// Start-up code of the connectors, run once when the app loads.\n");
        body.push_str(&print(&module(startup))?);
    }
    body.push_str(
        "\n/** Wraps the app's root component in the providers of the enabled connectors. */\n",
    );
    let wrapper = print(&module(wrapper))?;
    let Some((before, after)) = wrapper.split_once(PRINTED_RETURN) else {
        return Err(InjectError::Parse {
            file: ROOT_MODULE.to_owned(),
            line: 1,
            column: 1,
            message: format!("the printed wrapper has no `{}`", PRINTED_RETURN.trim()),
        });
    };
    body.push_str(before);
    body.push_str(&nested_return(&providers)?);
    body.push_str(after);
    Ok(body)
}

/// How the printer writes the skeleton's `return <Root {...props} />;` line.
const PRINTED_RETURN: &str = "    return <Root {...props}/>;\n";

/// The wrapper's `return`, one tag per line: each provider's opening tag (printed from its
/// syntax tree), one level deeper each, `<Root {...props} />` innermost, then the closing tags.
fn nested_return(providers: &[JSXElement]) -> Result<String, InjectError> {
    const BASE: &str = "      ";
    let mut text = String::from("    return (\n");
    for (depth, provider) in providers.iter().enumerate() {
        text.push_str(&format!(
            "{BASE}{}{}\n",
            "  ".repeat(depth),
            print(&provider.opening)?
        ));
    }
    text.push_str(&format!(
        "{BASE}{}<Root {{...props}} />\n",
        "  ".repeat(providers.len())
    ));
    for (depth, provider) in providers.iter().enumerate().rev() {
        let Some(closing) = &provider.closing else {
            return Err(not_one_element(&print(&provider.opening)?));
        };
        text.push_str(&format!(
            "{BASE}{}{}\n",
            "  ".repeat(depth),
            print(closing)?
        ));
    }
    text.push_str("    );\n");
    Ok(text)
}

fn module(items: Vec<ModuleItem>) -> Module {
    Module {
        span: DUMMY_SP,
        body: items,
        shebang: None,
    }
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

struct DummySpans;

impl VisitMut for DummySpans {
    fn visit_mut_span(&mut self, span: &mut Span) {
        *span = DUMMY_SP;
    }
}

/// `node` printed by `swc_ecma_codegen`: two-space indent, LF, semicolons.
fn print(node: &impl Node) -> Result<String, InjectError> {
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
        node.emit_with(&mut emitter)
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
    relative_specifier(from_file, ROOT_MODULE_STEM)
}

/// The import specifier of the module at `target` (a project path without extension) for the
/// file at `from_file` (`./x` or `../x`).
pub fn relative_specifier(from_file: &str, target: &str) -> String {
    let from_dir: Vec<&str> = {
        let mut parts: Vec<&str> = from_file.split('/').collect();
        parts.pop();
        parts
    };
    let target: Vec<&str> = target.split('/').collect();
    let folders = &target[..target.len().saturating_sub(1)];
    let common = from_dir
        .iter()
        .zip(folders)
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

#[cfg(test)]
mod tests {
    use super::{RootPart, root_module_body};
    use crate::edit::code::check_syntax;

    /// The printed module in the house layout (two-space indent, single quotes as written,
    /// semicolons, one provider per level), with two providers and start-up code.
    #[test]
    fn the_root_module_is_printed_from_its_syntax_tree() {
        let one_imports = ["import { OneRoot } from './components/one/OneRoot';".to_owned()];
        let two_imports = [
            "import { initializeTwo } from './services/two';".to_owned(),
            "import { TwoProvider } from './components/two/TwoProvider';".to_owned(),
        ];
        let two_startup = ["initializeTwo({ mode: 'release' });".to_owned()];
        let parts = [
            RootPart {
                imports: &one_imports,
                startup: &[],
                provider: Some(("<OneRoot>", "</OneRoot>")),
            },
            RootPart {
                imports: &two_imports,
                startup: &two_startup,
                provider: Some(("<TwoProvider client={twoClient}>", "</TwoProvider>")),
            },
        ];
        let body = root_module_body(&["one", "two"], parts).expect("the parts parse");
        check_syntax("src/connectors.tsx", &body).expect("the printed module parses");
        insta::assert_snapshot!(body);
    }
}
