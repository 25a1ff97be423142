//! The generated root module `src/connectors.tsx`: imports, start-up code and a higher-order
//! component that nests every enabled connector's provider around the app's root component.

/// Path of the generated root module, relative to the project root.
pub const ROOT_MODULE: &str = "src/connectors.tsx";
/// Import path of the root module from `src/` files' point of view, without extension.
pub const ROOT_MODULE_STEM: &str = "src/connectors";
/// Name of the higher-order component the root module exports.
pub const WRAPPER: &str = "withConnectors";

/// One connector's part of the root module: import lines, start-up statements and the opening
/// and closing JSX of its provider, all copied into the module as they are.
#[derive(Debug, Clone, Copy)]
pub struct RootPart<'p> {
    /// Import statements.
    pub imports: &'p [String],
    /// Statements run once when the app loads.
    pub startup: &'p [String],
    /// The provider's opening and closing tags.
    pub provider: Option<(&'p str, &'p str)>,
}

/// The root module's text (without the generated-file header) for connectors `ids` with their
/// parts `parts`, already in nesting order (the first wraps outermost).
pub fn root_module_body<'p>(ids: &[&str], parts: impl IntoIterator<Item = RootPart<'p>>) -> String {
    let parts: Vec<RootPart<'p>> = parts.into_iter().collect();
    let mut body = String::new();
    body.push_str(&format!("// Connectors: {}.\n", ids.join(", ")));
    body.push_str("import type { ComponentType } from 'react';\n");
    for part in &parts {
        for import in part.imports {
            body.push_str(import);
            body.push('\n');
        }
    }
    let startup: Vec<&String> = parts.iter().flat_map(|p| p.startup).collect();
    if !startup.is_empty() {
        body.push_str("\n// Start-up code of the connectors, run once when the app loads.\n");
        for line in startup {
            body.push_str(line);
            body.push('\n');
        }
    }
    let providers: Vec<(&str, &str)> = parts.iter().filter_map(|p| p.provider).collect();
    body.push_str(&format!(
        "\n/** Wraps the app's root component in the providers of the enabled connectors. */\n\
         export function {WRAPPER}<P extends object>(Root: ComponentType<P>): ComponentType<P> {{\n\
         \x20 function WithConnectors(props: P) {{\n\
         \x20   return (\n"
    ));
    let base = "      ";
    for (depth, provider) in providers.iter().enumerate() {
        body.push_str(&format!("{base}{}{}\n", "  ".repeat(depth), provider.0));
    }
    body.push_str(&format!(
        "{base}{}<Root {{...props}} />\n",
        "  ".repeat(providers.len())
    ));
    for (depth, provider) in providers.iter().enumerate().rev() {
        body.push_str(&format!("{base}{}{}\n", "  ".repeat(depth), provider.1));
    }
    body.push_str(
        "    );\n  }\n  WithConnectors.displayName = `withConnectors(${Root.displayName ?? Root.name ?? 'Root'})`;\n  return WithConnectors;\n}\n",
    );
    body
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
