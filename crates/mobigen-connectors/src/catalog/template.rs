//! The template language of connector files: plain source text with two small additions, so
//! one template serves every feature set and both styling conventions. Rendering is pure and
//! deterministic; the registry checks every template when it loads a connector
//! ([`check`]), so rendering a registered connector's template cannot fail.
//!
//! - **Line conditions.** A line holding only `//#if COND`, `//#else` or `//#endif` (leading
//!   spaces allowed) keeps or drops the lines up to the matching `//#else` / `//#endif`; the
//!   directive lines themselves are dropped. Blocks nest. `COND` is `nativewind` (the project
//!   styles with NativeWind: use `className`; otherwise `StyleSheet`), `feature.ID` (a feature
//!   of the connector is on) or `supplied.ID` (the host supplied the connector's file `ID`, such
//!   as the Supabase types fetched from the live project; see `suppliedFiles` in the manifest),
//!   optionally negated with `!`.
//! - **Config values.** `{%json /pointer%}` becomes the config value at that JSON pointer as a
//!   JSON literal (a valid TypeScript expression), or `undefined` when it is absent. Only
//!   `public` fields may be named: secret values never reach generated code.
//! - **Imports of the connector's own modules.** `{%module PATH%}` becomes the relative import
//!   specifier from the rendered file to the connector's file at `PATH` (a template target at a
//!   fixed path, without its extension): `'{%module src/server/stripe-auth%}'` in
//!   `app/api/stripe/payment-intent+api.ts` is `'../../../src/server/stripe-auth'`, in
//!   `src/app/api/stripe/...` `'../../../server/stripe-auth'`. For files whose folder depends on
//!   the project (API routes).
//!
//! ```text
//! export const TABLES = {%json /features/database/tables%} as const;
//! //#if nativewind
//!       <Text className="text-lg font-semibold">Plans</Text>
//! //#else
//!       <Text style={styles.title}>Plans</Text>
//! //#endif
//! ```

use serde_json::Value;

use crate::edit::code::root_module::relative_specifier;

/// What a template is rendered for.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// Ids of the connector's features that are on.
    pub features: &'a [&'a str],
    /// The validated config (defaults filled in).
    pub values: &'a Value,
    /// Whether the project styles with NativeWind.
    pub nativewind: bool,
    /// Ids of the connector's supplied files present after the change.
    pub supplied: &'a [&'a str],
    /// Path of the rendered file in the project (`{%module%}` imports are relative to it).
    pub path: &'a str,
}

/// What a template may name: the connector's features, supplied files and importable modules
/// (template targets at fixed paths, without extension).
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// Feature ids.
    pub features: &'a [&'a str],
    /// Supplied file ids.
    pub supplied: &'a [&'a str],
    /// Module paths for `{%module%}`.
    pub modules: &'a [&'a str],
}

/// A template line: a directive or text.
enum Line<'a> {
    If { negated: bool, name: &'a str },
    Else,
    EndIf,
    Text,
}

fn classify(line: &str) -> Line<'_> {
    let trimmed = line.trim();
    if let Some(cond) = trimmed.strip_prefix("//#if ") {
        let cond = cond.trim();
        let (negated, name) = match cond.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, cond),
        };
        Line::If { negated, name }
    } else if trimmed == "//#else" {
        Line::Else
    } else if trimmed == "//#endif" {
        Line::EndIf
    } else {
        Line::Text
    }
}

const OPEN: &str = "{%";
const JSON: &str = "json ";
const MODULE: &str = "module ";
const CLOSE: &str = "%}";

/// A placeholder of a template line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder<'a> {
    /// `{%json /pointer%}`.
    Json(&'a str),
    /// `{%module path%}`.
    Module(&'a str),
    /// Anything else between `{%` and `%}`.
    Unknown(&'a str),
}

/// The placeholders of one line, with the byte range of each whole placeholder.
fn placeholders(line: &str) -> Vec<(Placeholder<'_>, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = line[from..].find(OPEN).map(|i| i + from) {
        let Some(end) = line[start..].find(CLOSE).map(|i| i + start) else {
            break;
        };
        let inner = &line[start + OPEN.len()..end];
        let placeholder = if let Some(pointer) = inner.strip_prefix(JSON) {
            Placeholder::Json(pointer.trim())
        } else if let Some(path) = inner.strip_prefix(MODULE) {
            Placeholder::Module(path.trim())
        } else {
            Placeholder::Unknown(inner.trim())
        };
        out.push((placeholder, start..end + CLOSE.len()));
        from = end + CLOSE.len();
    }
    out
}

fn holds(name: &str, context: &RenderContext<'_>) -> bool {
    if let Some(feature) = name.strip_prefix("feature.") {
        context.features.contains(&feature)
    } else if let Some(id) = name.strip_prefix("supplied.") {
        context.supplied.contains(&id)
    } else {
        name == "nativewind" && context.nativewind
    }
}

/// Renders `template` for `context`.
pub fn render(template: &str, context: &RenderContext<'_>) -> String {
    let mut out = String::with_capacity(template.len());
    // One entry per open block: whether its current branch is kept.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let kept = |stack: &[(bool, bool)]| stack.iter().all(|(parent, own)| *parent && *own);
    for line in template.split_inclusive('\n') {
        match classify(line) {
            Line::If { negated, name } => {
                let parent = kept(&stack);
                stack.push((parent, holds(name, context) != negated));
            }
            Line::Else => {
                if let Some(top) = stack.last_mut() {
                    top.1 = !top.1;
                }
            }
            Line::EndIf => {
                stack.pop();
            }
            Line::Text if kept(&stack) => {
                let mut rest = 0;
                for (placeholder, range) in placeholders(line) {
                    out.push_str(&line[rest..range.start]);
                    match placeholder {
                        Placeholder::Json(pointer) => {
                            match context.values.pointer(pointer).filter(|v| !v.is_null()) {
                                Some(value) => out.push_str(&value.to_string()),
                                None => out.push_str("undefined"),
                            }
                        }
                        Placeholder::Module(path) => {
                            out.push_str(&relative_specifier(context.path, path));
                        }
                        // `check` refuses these when the connector is registered.
                        Placeholder::Unknown(_) => out.push_str(&line[range.clone()]),
                    }
                    rest = range.end;
                }
                out.push_str(&line[rest..]);
            }
            Line::Text => {}
        }
    }
    out
}

/// A problem of a template: 1-based line and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Problems of `template`: unbalanced or unknown directives, conditions on unknown features or
/// supplied files, placeholders naming a field that is not listed or is secret (`is_public` answers `None` for
/// an unknown field, `Some(false)` for a secret one) or a module that is not in `known`.
pub fn check(
    template: &str,
    known: &Known<'_>,
    is_public: impl Fn(&str) -> Option<bool>,
) -> Vec<TemplateProblem> {
    let Known {
        features, supplied, ..
    } = *known;
    let mut problems = Vec::new();
    let mut open: Vec<(usize, bool)> = Vec::new();
    for (index, line) in template.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let mut problem = |reason: String| {
            problems.push(TemplateProblem {
                line: number,
                reason,
            });
        };
        match classify(line) {
            Line::If { name, .. } => {
                let known = if let Some(feature) = name.strip_prefix("feature.") {
                    features.contains(&feature)
                } else if let Some(id) = name.strip_prefix("supplied.") {
                    supplied.contains(&id)
                } else {
                    name == "nativewind"
                };
                if !known {
                    problem(format!(
                        "unknown condition `{name}`: use `nativewind`, `feature.ID` with a declared \
                         feature or `supplied.ID` with a declared supplied file"
                    ));
                }
                open.push((number, false));
            }
            Line::Else => match open.last_mut() {
                Some((_, seen_else)) if !*seen_else => *seen_else = true,
                Some(_) => problem("a second `//#else` in one block".into()),
                None => problem("`//#else` without `//#if`".into()),
            },
            Line::EndIf => {
                if open.pop().is_none() {
                    problem("`//#endif` without `//#if`".into());
                }
            }
            Line::Text => {
                let trimmed = line.trim();
                if trimmed.starts_with("//#") {
                    problem(format!(
                        "unknown directive `{trimmed}`: use //#if, //#else, //#endif"
                    ));
                }
                for (placeholder, _) in placeholders(line) {
                    match placeholder {
                        Placeholder::Json(pointer) => match is_public(pointer) {
                            Some(true) => {}
                            Some(false) => problem(format!(
                                "`{pointer}` is a secret field: secret values never go into generated code"
                            )),
                            None => problem(format!(
                                "`{pointer}` is not a config field listed in /fields"
                            )),
                        },
                        Placeholder::Module(path) if known.modules.contains(&path) => {}
                        Placeholder::Module(path) => problem(format!(
                            "`{path}` is not a file of this connector at a fixed path (a template \
                             target other than a server route or a screen route, without its extension)"
                        )),
                        Placeholder::Unknown(text) => problem(format!(
                            "unknown placeholder `{{%{text}%}}`: use {{%json /pointer%}} or {{%module path%}}"
                        )),
                    }
                }
                if let Some(start) = line.find(OPEN)
                    && !line[start..].contains(CLOSE)
                {
                    problem(format!("unclosed `{OPEN}`: end it with `{CLOSE}`"));
                }
            }
        }
    }
    for (line, _) in open {
        problems.push(TemplateProblem {
            line,
            reason: "`//#if` without `//#endif`".into(),
        });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx<'a>(features: &'a [&'a str], values: &'a Value, nativewind: bool) -> RenderContext<'a> {
        RenderContext {
            features,
            values,
            nativewind,
            supplied: &[],
            path: "src/file.ts",
        }
    }

    fn known<'a>(features: &'a [&'a str], supplied: &'a [&'a str]) -> Known<'a> {
        Known {
            features,
            supplied,
            modules: &["src/server/auth"],
        }
    }

    #[test]
    fn conditions_keep_one_branch_and_drop_directive_lines() {
        let template = "a\n//#if nativewind\nnw\n//#else\nplain\n//#endif\nb\n";
        let values = json!({});
        assert_eq!(render(template, &ctx(&[], &values, true)), "a\nnw\nb\n");
        assert_eq!(render(template, &ctx(&[], &values, false)), "a\nplain\nb\n");
    }

    #[test]
    fn blocks_nest_and_negate() {
        let template = "  //#if feature.x\nx\n  //#if !nativewind\nx-plain\n  //#endif\n  //#else\nnot-x\n  //#endif\n";
        let values = json!({});
        assert_eq!(
            render(template, &ctx(&["x"], &values, false)),
            "x\nx-plain\n"
        );
        assert_eq!(render(template, &ctx(&["x"], &values, true)), "x\n");
        assert_eq!(render(template, &ctx(&[], &values, false)), "not-x\n");
    }

    #[test]
    fn placeholders_become_json_literals_or_undefined() {
        let values = json!({"tables": ["profiles", "orders"], "name": "Shop \"A\""});
        let template = "const t = {%json /tables%} as const;\nconst n = {%json /name%}; const m = {%json /missing%};\n";
        assert_eq!(
            render(template, &ctx(&[], &values, false)),
            "const t = [\"profiles\",\"orders\"] as const;\nconst n = \"Shop \\\"A\\\"\"; const m = undefined;\n"
        );
    }

    #[test]
    fn jsx_double_braces_are_left_alone() {
        let values = json!({});
        let template = "<View style={{ flex: 1 }} />\n";
        assert_eq!(render(template, &ctx(&[], &values, false)), template);
    }

    #[test]
    fn check_finds_unbalanced_unknown_and_secret() {
        let is_public = |p: &str| match p {
            "/public" => Some(true),
            "/secret" => Some(false),
            _ => None,
        };
        let problems = check(
            "//#if feature.nope\n//#else\n//#else\n{%json /secret%} {%json /other%}\n//#elif x\n",
            &known(&["yes"], &[]),
            is_public,
        );
        let reasons: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.line, p.reason))
            .collect();
        assert_eq!(reasons.len(), 6, "{reasons:#?}");
        assert!(reasons[0].starts_with("1: unknown condition `feature.nope`"));
        assert!(reasons[1].starts_with("3: a second"));
        assert!(reasons[2].contains("secret field"));
        assert!(reasons[3].contains("not a config field"));
        assert!(reasons[4].starts_with("5: unknown directive"));
        assert!(reasons[5].starts_with("1: `//#if` without"));
        assert!(
            check(
                "//#if nativewind\n{%json /public%}\n//#endif\n",
                &known(&[], &[]),
                is_public
            )
            .is_empty()
        );
        assert_eq!(
            check("//#endif\n{%json /public\n", &known(&[], &[]), is_public).len(),
            2
        );
    }

    #[test]
    fn supplied_conditions_follow_the_supplied_files() {
        let template = "//#if supplied.types\nlive\n//#else\nplaceholder\n//#endif\n";
        let values = json!({});
        let with = RenderContext {
            supplied: &["types"],
            ..ctx(&[], &values, false)
        };
        assert_eq!(render(template, &with), "live\n");
        assert_eq!(render(template, &ctx(&[], &values, false)), "placeholder\n");
        assert!(check(template, &known(&[], &["types"]), |_| None).is_empty());
        let problems = check(template, &known(&[], &["other"]), |_| None);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].reason.contains("`supplied.types`"));
    }

    #[test]
    fn module_placeholders_become_imports_relative_to_the_rendered_file() {
        let values = json!({});
        let template = "import { caller } from '{%module src/server/auth%}';\n";
        for (path, specifier) in [
            ("app/api/stripe/pay+api.ts", "../../../src/server/auth"),
            ("src/app/api/stripe/pay+api.ts", "../../../server/auth"),
            ("server/api/stripe/pay+api.ts", "../../../src/server/auth"),
            ("src/server/other.ts", "./auth"),
        ] {
            let context = RenderContext {
                path,
                ..ctx(&[], &values, false)
            };
            assert_eq!(
                render(template, &context),
                format!("import {{ caller }} from '{specifier}';\n"),
                "{path}"
            );
        }
        assert!(check(template, &known(&[], &[]), |_| None).is_empty());
        let problems = check(
            "import a from '{%module src/nope%}';\nconst x = {%jsn /a%};\n",
            &known(&[], &[]),
            |_| None,
        );
        let reasons: Vec<&str> = problems.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].contains("`src/nope` is not a file of this connector"));
        assert!(reasons[1].contains("unknown placeholder `{%jsn /a%}`"));
    }
}
