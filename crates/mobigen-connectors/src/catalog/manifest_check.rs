//! Checks of a connector manifest: the meta-schema first, then the rules a JSON Schema cannot
//! say. Every problem carries the JSON pointer of the manifest part at fault.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};
use std::sync::OnceLock;

use serde_json::Value;

use crate::catalog::definition::{
    Condition, ConfigRule, ConnectorDefinition, HttpCheck, RequestBody, Sensitivity, TemplateKind,
};
use crate::catalog::error::ManifestProblem;
use crate::edit::code::root_module;
use crate::edit::env::PUBLIC_ENV_PREFIX;

/// The meta-schema every manifest must satisfy (`connectors/schema.json`).
pub const META_SCHEMA: &str = include_str!("../../connectors/schema.json");

fn meta_validator() -> Result<&'static jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let schema: Value = serde_json::from_str(META_SCHEMA)
                .map_err(|e| format!("connectors/schema.json is not valid JSON: {e}"))?;
            jsonschema::validator_for(&schema)
                .map_err(|e| format!("connectors/schema.json is not a valid JSON Schema: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Problems of `manifest` against the meta-schema.
pub(crate) fn check_against_meta_schema(manifest: &Value) -> Vec<ManifestProblem> {
    let validator = match meta_validator() {
        Ok(v) => v,
        Err(reason) => {
            return vec![ManifestProblem {
                pointer: String::new(),
                reason,
            }];
        }
    };
    validator
        .iter_errors(manifest)
        .map(|e| ManifestProblem {
            pointer: e.instance_path().to_string(),
            reason: e.to_string(),
        })
        .collect()
}

/// Whether `path` is relative, non-empty and stays inside its base folder.
pub(crate) fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// Escapes one JSON pointer token (`/` -> `~1`, `~` -> `~0`).
pub(crate) fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The pointers of the leaf properties of a config schema (`/apiKeys/ios`). Object properties
/// with their own `properties` are descended into; every other property is a leaf.
pub(crate) fn config_leaves(schema: &Value) -> Vec<String> {
    fn walk(schema: &Value, prefix: &str, out: &mut Vec<String>) {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return;
        };
        for (name, sub) in props {
            let pointer = format!("{prefix}/{}", escape_pointer_token(name));
            if sub.get("properties").is_some_and(Value::is_object) {
                walk(sub, &pointer, out);
            } else {
                out.push(pointer);
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out);
    out
}

/// The `{{...}}` placeholders in a template string.
pub(crate) fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
}

struct Checker<'a> {
    def: &'a ConnectorDefinition,
    leaves: BTreeSet<String>,
    features: BTreeSet<&'a str>,
    problems: Vec<ManifestProblem>,
}

impl Checker<'_> {
    fn problem(&mut self, pointer: impl Into<String>, reason: impl Into<String>) {
        self.problems.push(ManifestProblem {
            pointer: pointer.into(),
            reason: reason.into(),
        });
    }

    /// A file the connector writes must stay inside the project.
    fn project_path(&mut self, pointer: &str, path: &str) {
        if !is_safe_relative_path(path) {
            self.problem(
                pointer,
                format!("`{path}` must be a relative path inside the project"),
            );
        }
    }

    fn condition(&mut self, at: &str, condition: &Condition) {
        self.field_known(&format!("{at}/pointer"), &condition.pointer);
        if let Some(pattern) = &condition.matches
            && let Err(e) = regex::Regex::new(pattern)
        {
            self.problem(format!("{at}/matches"), e.to_string());
        }
    }

    fn field_known(&mut self, at: &str, pointer: &str) {
        if !self.def.fields.contains_key(pointer) {
            self.problem(
                at,
                format!("`{pointer}` is not a config field listed in /fields"),
            );
        }
    }

    fn when(&mut self, at: &str, when: &[String]) {
        for (i, feature) in when.iter().enumerate() {
            if !self.features.contains(feature.as_str()) {
                self.problem(
                    format!("{at}/when/{i}"),
                    format!("unknown feature `{feature}`; declare it in /features"),
                );
            }
        }
    }

    fn fields(&mut self) {
        let mut env_names: BTreeMap<&str, &str> = BTreeMap::new();
        let leaves = self.leaves.clone();
        for leaf in &leaves {
            if !self.def.fields.contains_key(leaf) {
                self.problem(
                    "/fields",
                    format!("config field `{leaf}` is not classified public or secret"),
                );
            }
        }
        for (pointer, field) in &self.def.fields {
            let at = format!("/fields/{}", escape_pointer_token(pointer));
            if !leaves.contains(pointer) {
                self.problem(
                    at.clone(),
                    format!("`{pointer}` is not a property of /configSchema"),
                );
            }
            let Some(env) = field.env.as_deref() else {
                continue;
            };
            if field.sensitivity == Sensitivity::Secret && env.starts_with(PUBLIC_ENV_PREFIX) {
                self.problem(
                    format!("{at}/env"),
                    format!(
                        "secret field `{pointer}` must not use a {PUBLIC_ENV_PREFIX}* name: Expo \
                         inlines those into the client bundle"
                    ),
                );
            }
            if let Some(other) = env_names.insert(env, pointer) {
                self.problem(
                    format!("{at}/env"),
                    format!("env variable `{env}` is also used by `{other}`"),
                );
            }
        }
    }

    fn http_check(
        &mut self,
        at: &str,
        check: &HttpCheck,
        params: Option<&BTreeSet<&str>>,
        steps: &BTreeSet<&str>,
    ) {
        let mut texts: Vec<&str> = vec![&check.url];
        texts.extend(check.headers.values().map(String::as_str));
        let mut json_strings = Vec::new();
        match &check.body {
            Some(RequestBody::Form(pairs)) => texts.extend(pairs.values().map(String::as_str)),
            Some(RequestBody::Json(value)) => collect_strings(value, &mut json_strings),
            None => {}
        }
        texts.extend(json_strings.iter().map(String::as_str));
        for text in texts {
            for name in placeholders(text) {
                self.placeholder(at, name, params, steps);
            }
        }
        for (i, name) in placeholders(&check.url).enumerate() {
            if i > 0 && name.starts_with("apiBase") {
                self.problem(format!("{at}/url"), "{{apiBase}} may only start the URL");
            }
        }
        for (i, mapping) in check.errors.iter().enumerate() {
            if let Some(field) = &mapping.field {
                self.field_known(&format!("{at}/errors/{i}/field"), field);
            }
            if let Some(pattern) = mapping.body.as_ref().and_then(|b| b.matches.as_ref())
                && let Err(e) = regex::Regex::new(pattern)
            {
                self.problem(format!("{at}/errors/{i}/body/matches"), e.to_string());
            }
        }
        for (i, expect) in check.expect_equal.iter().enumerate() {
            self.field_known(&format!("{at}/expectEqual/{i}/field"), &expect.field);
            if !check.extract.contains_key(&expect.extracted) {
                self.problem(
                    format!("{at}/expectEqual/{i}/extracted"),
                    format!("`{}` is not extracted by this check", expect.extracted),
                );
            }
        }
        if let Some(details) = &check.details {
            for name in placeholders(details) {
                let known = name
                    .strip_prefix("step.")
                    .is_some_and(|n| check.extract.contains_key(n) || steps.contains(n));
                if !known {
                    self.problem(
                        format!("{at}/details"),
                        format!(
                            "details may only show values extracted by the steps \
                             ({{{{step.NAME}}}}), not {{{{{name}}}}}"
                        ),
                    );
                }
            }
        }
        if let Some(when) = &check.when {
            self.condition(&format!("{at}/when"), when);
        }
    }

    fn placeholder(
        &mut self,
        at: &str,
        name: &str,
        params: Option<&BTreeSet<&str>>,
        steps: &BTreeSet<&str>,
    ) {
        if name == "apiBase" {
            if self.def.api_base.is_none() && self.def.api_base_field.is_none() {
                self.problem(
                    at,
                    "uses {{apiBase}} but neither /apiBase nor /apiBaseField is set",
                );
            }
        } else if let Some(base) = name.strip_prefix("apiBase.") {
            if !self.def.api_bases.contains_key(base) {
                self.problem(
                    at,
                    format!("uses {{{{{name}}}}} but /apiBases has no `{base}`"),
                );
            }
        } else if name == "runId" {
        } else if name.starts_with('/') {
            self.field_known(at, name);
        } else if let Some(param) = name.strip_prefix("param.") {
            if !params.is_some_and(|p| p.contains(param)) {
                self.problem(at, format!("unknown parameter `{param}` in {{{{{name}}}}}"));
            }
        } else if let Some(step) = name.strip_prefix("step.") {
            if !steps.contains(step) {
                self.problem(
                    at,
                    format!("{{{{{name}}}}} is not extracted by an earlier step"),
                );
            }
        } else {
            self.problem(at, format!("unknown placeholder {{{{{name}}}}}"));
        }
    }

    fn rules(&mut self) {
        for (i, rule) in self.def.rules.iter().enumerate() {
            let at = format!("/rules/{i}");
            match rule {
                ConfigRule::SameCapture {
                    fields,
                    pattern,
                    group,
                    ..
                } => {
                    for field in fields {
                        self.field_known(&format!("{at}/fields"), field);
                    }
                    match regex::Regex::new(pattern) {
                        Ok(re) if *group == 0 || *group >= re.captures_len() => self.problem(
                            format!("{at}/group"),
                            format!("pattern has no capture group {group}"),
                        ),
                        Ok(_) => {}
                        Err(e) => self.problem(format!("{at}/pattern"), e.to_string()),
                    }
                }
                ConfigRule::JwtClaimNot { field, .. } => {
                    self.field_known(&format!("{at}/field"), field);
                }
                ConfigRule::Requires { when, fields, .. } => {
                    self.condition(&format!("{at}/when"), when);
                    for field in fields {
                        self.field_known(&format!("{at}/fields"), field);
                    }
                }
                ConfigRule::Prefix { fields, .. } => {
                    for field in fields {
                        self.field_known(&format!("{at}/fields"), field);
                    }
                }
            }
        }
    }

    /// Every string the config schema accepts has a `maxLength` (or is one of an `enum` /
    /// `const`): a config value goes into env files, generated code and the store, so a 20 MB
    /// key must be refused at validation.
    fn string_lengths(&mut self, pointer: &str, schema: &Value) {
        let Some(object) = schema.as_object() else {
            return;
        };
        let is_string = match object.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
            _ => false,
        };
        let bounded = object.contains_key("maxLength")
            || object.contains_key("enum")
            || object.contains_key("const");
        if is_string && !bounded {
            self.problem(
                pointer,
                "a string config field needs a `maxLength` (values go into env files, generated code and the store)",
            );
        }
        for (key, sub) in object {
            let at = format!("{pointer}/{}", escape_pointer_token(key));
            match key.as_str() {
                "properties" | "patternProperties" | "$defs" | "definitions" => {
                    for (name, s) in sub.as_object().into_iter().flatten() {
                        self.string_lengths(&format!("{at}/{}", escape_pointer_token(name)), s);
                    }
                }
                "items"
                | "additionalProperties"
                | "propertyNames"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains" => self.string_lengths(&at, sub),
                "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                    for (i, s) in sub.as_array().into_iter().flatten().enumerate() {
                        self.string_lengths(&format!("{at}/{i}"), s);
                    }
                }
                _ => {}
            }
        }
    }

    fn run(mut self) -> Vec<ManifestProblem> {
        let def = self.def;
        self.fields();
        self.string_lengths("/configSchema", &def.config_schema);
        let mut seen = BTreeSet::new();
        for (i, feature) in def.features.iter().enumerate() {
            if !seen.insert(feature.id.as_str()) {
                self.problem(format!("/features/{i}/id"), "duplicate feature id");
            }
            self.condition(&format!("/features/{i}/enabledWhen"), &feature.enabled_when);
        }
        let mut packages = BTreeSet::new();
        for (i, dep) in def.dependencies.iter().enumerate() {
            self.when(&format!("/dependencies/{i}"), &dep.when);
            if !packages.insert(dep.package.as_str()) {
                self.problem(format!("/dependencies/{i}/package"), "duplicate package");
            }
        }
        for (i, plugin) in def.plugins.iter().enumerate() {
            let at = format!("/plugins/{i}");
            self.when(&at, &plugin.when);
            let mut strings = Vec::new();
            if let Some(options) = &plugin.options {
                collect_strings(options, &mut strings);
            }
            for name in strings.iter().flat_map(|s| placeholders(s)) {
                if let Some(feature) = name.strip_prefix("feature.") {
                    if !self.features.contains(feature) {
                        self.problem(
                            format!("{at}/options"),
                            format!("unknown feature `{feature}`"),
                        );
                    }
                    continue;
                }
                match def.fields.get(name) {
                    Some(f) if f.sensitivity == Sensitivity::Public => {}
                    Some(_) => self.problem(
                        format!("{at}/options"),
                        format!("secret field `{name}` cannot go into app.json"),
                    ),
                    None => self.problem(
                        format!("{at}/options"),
                        format!("`{name}` is not a config field listed in /fields"),
                    ),
                }
            }
        }
        let mut targets = BTreeSet::new();
        for (i, template) in def.templates.iter().enumerate() {
            let at = format!("/templates/{i}");
            self.when(&at, &template.when);
            for (key, path) in [("source", &template.source), ("target", &template.target)] {
                if !is_safe_relative_path(path) {
                    self.problem(
                        format!("{at}/{key}"),
                        format!("`{path}` must be a relative path inside its folder"),
                    );
                }
            }
            if !targets.insert((template.target.as_str(), template.when.clone())) {
                self.problem(format!("{at}/target"), "two templates write this file");
            }
        }
        for (i, file) in def.config_files.iter().enumerate() {
            let at = format!("/configFiles/{i}");
            match def.fields.get(&file.field) {
                Some(f) if f.sensitivity == Sensitivity::Public => {}
                Some(_) => self.problem(
                    format!("{at}/field"),
                    format!(
                        "secret field `{}` cannot be written into the app",
                        file.field
                    ),
                ),
                None => self.problem(
                    format!("{at}/field"),
                    format!("`{}` is not a config field listed in /fields", file.field),
                ),
            }
            self.project_path(&format!("{at}/target"), &file.target);
            if def.templates.iter().any(|t| t.target == file.target) {
                self.problem(format!("{at}/target"), "a template also writes this file");
            }
        }
        let mut supplied_ids = BTreeSet::new();
        for (i, file) in def.supplied_files.iter().enumerate() {
            let at = format!("/suppliedFiles/{i}");
            if !supplied_ids.insert(file.id.as_str()) {
                self.problem(format!("{at}/id"), "two supplied files have this id");
            }
            self.project_path(&format!("{at}/target"), &file.target);
            let taken = def.templates.iter().any(|t| t.target == file.target)
                || def.config_files.iter().any(|c| c.target == file.target)
                || def.supplied_files[..i]
                    .iter()
                    .any(|s| s.target == file.target);
            if taken {
                self.problem(
                    format!("{at}/target"),
                    "another file of the connector has this path",
                );
            }
        }
        self.rules();
        if let Some(field) = &def.api_base_field {
            self.field_known("/apiBaseField", field);
        }
        for (i, check) in def.validation.iter().enumerate() {
            self.http_check(&format!("/validation/{i}"), check, None, &BTreeSet::new());
        }
        let mut action_ids = BTreeSet::new();
        for (i, action) in def.test_actions.iter().enumerate() {
            let at = format!("/testActions/{i}");
            if !action_ids.insert(action.id.as_str()) {
                self.problem(format!("{at}/id"), "duplicate test action id");
            }
            if let Some(requires) = &action.requires {
                self.condition(&format!("{at}/requires"), requires);
            }
            if action.requires_reason.is_some() && action.requires.is_none() {
                self.problem(
                    format!("{at}/requiresReason"),
                    "requiresReason without requires",
                );
            }
            let params: BTreeSet<&str> = action.params.keys().map(String::as_str).collect();
            let mut extracted: BTreeSet<&str> = BTreeSet::new();
            for (j, step) in action.steps.iter().enumerate() {
                self.http_check(&format!("{at}/steps/{j}"), step, Some(&params), &extracted);
                extracted.extend(step.extract.keys().map(String::as_str));
            }
            for (j, step) in action.cleanup.iter().enumerate() {
                self.http_check(
                    &format!("{at}/cleanup/{j}"),
                    step,
                    Some(&params),
                    &extracted,
                );
                extracted.extend(step.extract.keys().map(String::as_str));
            }
        }
        self.problems
    }
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Client code (root contribution, non-server templates) naming a secret field's env variable:
/// that code would ship the secret, or try to, in the app bundle (invariant I6).
pub(crate) fn check_client_code(
    def: &ConnectorDefinition,
    templates: &BTreeMap<String, String>,
) -> Vec<ManifestProblem> {
    let secret_envs: Vec<&str> = def
        .fields
        .values()
        .filter(|f| f.sensitivity == Sensitivity::Secret)
        .filter_map(|f| f.env.as_deref())
        .collect();
    let mut problems = Vec::new();
    let mut check = |pointer: String, text: &str| {
        for env in &secret_envs {
            if text.contains(env) {
                problems.push(ManifestProblem {
                    pointer: pointer.clone(),
                    reason: format!(
                        "client code names the secret variable `{env}`; read secrets only in server templates"
                    ),
                });
            }
        }
    };
    if let Some(root) = &def.root {
        for (i, line) in root.imports.iter().enumerate() {
            check(format!("/root/imports/{i}"), line);
        }
        for (i, line) in root.startup.iter().enumerate() {
            check(format!("/root/startup/{i}"), line);
        }
        if let Some(provider) = &root.provider {
            check("/root/provider/open".into(), &provider.open);
        }
    }
    for (i, template) in def.templates.iter().enumerate() {
        if !template.kind.is_server()
            && let Some(body) = templates.get(&template.source)
        {
            check(format!("/templates/{i}/source"), body);
        }
    }
    problems
}

/// A secret field's `env` variable must be read by one of the connector's server templates:
/// only secrets that generated code reads are written to `.env.local`; the rest stay in the
/// credential store.
pub(crate) fn check_secret_env_is_read(
    def: &ConnectorDefinition,
    templates: &BTreeMap<String, String>,
) -> Vec<ManifestProblem> {
    let server_code: Vec<&str> = def
        .templates
        .iter()
        .filter(|t| t.kind.is_server())
        .filter_map(|t| templates.get(&t.source).map(String::as_str))
        .collect();
    def.fields
        .iter()
        .filter(|(_, f)| f.sensitivity == Sensitivity::Secret)
        .filter_map(|(pointer, f)| Some((pointer, f.env.as_deref()?)))
        .filter(|(_, env)| !server_code.iter().any(|code| code.contains(env)))
        .map(|(pointer, env)| ManifestProblem {
            pointer: format!("/fields/{}/env", escape_pointer_token(pointer)),
            reason: format!(
                "no server template reads `{env}`: a secret goes to .env.local only when generated code reads it; remove `env` to keep the value in the credential store only"
            ),
        })
        .collect()
}

/// The connector's part of the generated root module (`root.imports`, `root.startup`,
/// `root.provider`) must give a module that parses: those lines are copied into
/// `src/connectors.tsx` as they are, and the library never writes a file that does not parse
/// (invariant I1). Found by the fuzz target `manifest`.
pub(crate) fn check_root_contribution(def: &ConnectorDefinition) -> Vec<ManifestProblem> {
    let Some(root) = &def.root else {
        return Vec::new();
    };
    let body = root_module::root_module_body(&[def.id.as_str()], [root.into()]);
    match body.and_then(|body| crate::edit::code::check_syntax(root_module::ROOT_MODULE, &body)) {
        Ok(()) => Vec::new(),
        Err(error) => vec![ManifestProblem {
            pointer: "/root".into(),
            reason: format!(
                "the root module made from `imports`, `startup` and `provider` does not parse: {error}"
            ),
        }],
    }
}

/// Problems of the templates' own syntax (see [`crate::catalog::template`]): balanced `//#if` blocks on
/// known conditions, `{%json /pointer%}` placeholders naming public fields only.
pub(crate) fn check_templates(
    def: &ConnectorDefinition,
    templates: &BTreeMap<String, String>,
) -> Vec<ManifestProblem> {
    let features: Vec<&str> = def.features.iter().map(|f| f.id.as_str()).collect();
    let supplied: Vec<&str> = def.supplied_files.iter().map(|f| f.id.as_str()).collect();
    let is_public = |pointer: &str| {
        def.fields
            .get(pointer)
            .map(|f| f.sensitivity == Sensitivity::Public)
    };
    // Modules other templates may import: those at a fixed path from the project root.
    let modules: Vec<&str> = def
        .templates
        .iter()
        .filter(|t| !matches!(t.kind, TemplateKind::Server | TemplateKind::Route))
        .map(|t| module_stem(&t.target))
        .collect();
    let mut problems = Vec::new();
    for (i, template) in def.templates.iter().enumerate() {
        if let Some(body) = templates.get(&template.source) {
            let known = crate::catalog::template::Known {
                features: &features,
                supplied: &supplied,
                modules: &modules,
            };
            for problem in crate::catalog::template::check(body, &known, is_public) {
                problems.push(ManifestProblem {
                    pointer: format!("/templates/{i}/source"),
                    reason: format!("{}:{}: {}", template.source, problem.line, problem.reason),
                });
            }
        }
    }
    problems
}

/// A file's path without its script extension: what an import names (`src/server/auth`).
pub(crate) fn module_stem(path: &str) -> &str {
    [".tsx", ".ts", ".jsx", ".js"]
        .iter()
        .find_map(|ext| path.strip_suffix(ext))
        .unwrap_or(path)
}

/// Problems of a parsed definition that the meta-schema cannot find.
pub(crate) fn check_definition(def: &ConnectorDefinition) -> Vec<ManifestProblem> {
    Checker {
        def,
        leaves: config_leaves(&def.config_schema).into_iter().collect(),
        features: def.features.iter().map(|f| f.id.as_str()).collect(),
        problems: Vec::new(),
    }
    .run()
}
