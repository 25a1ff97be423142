//! Registry: the built-in manifests, run-time loading, rejection of bad manifests, search.

use std::fs;
use std::path::Path;

use mobigen_connectors::catalog::definition::Category;
use mobigen_connectors::project::plan::{PlanError, PlanOptions, plan_add};
use mobigen_connectors::project::snapshot::ProjectSnapshot;
use mobigen_connectors::{Origin, Registry, RegistryError};
use serde_json::{Value, json};

const BUILTIN: [&str; 5] = ["firebase", "onesignal", "revenuecat", "stripe", "supabase"];

fn connectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../connectors"))
}

#[test]
fn every_builtin_manifest_satisfies_the_meta_schema() {
    let meta: Value = serde_json::from_str(mobigen_connectors::META_SCHEMA).expect("meta-schema");
    let validator = jsonschema::validator_for(&meta).expect("meta-schema compiles");
    for id in BUILTIN {
        let path = connectors_dir().join(id).join("manifest.json");
        let manifest: Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
        let errors: Vec<String> = validator
            .iter_errors(&manifest)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn builtin_registry_has_the_five_with_their_categories() {
    let registry = Registry::builtin().expect("built-in connectors load");
    let ids: Vec<&str> = registry.list(None).iter().map(|c| c.id()).collect();
    assert_eq!(ids, BUILTIN);
    let category = |id: &str| registry.get(id).expect(id).definition().category;
    assert_eq!(category("stripe"), Category::Payments);
    assert_eq!(category("firebase"), Category::Auth);
    assert_eq!(category("supabase"), Category::Database);
    assert_eq!(category("revenuecat"), Category::Iap);
    assert_eq!(category("onesignal"), Category::Push);
    let payments: Vec<&str> = registry
        .list(Some(Category::Payments))
        .iter()
        .map(|c| c.id())
        .collect();
    assert_eq!(payments, ["stripe"]);
    assert!(registry.list(Some(Category::Monitoring)).is_empty());
    for connector in registry.list(None) {
        assert_eq!(connector.origin(), &Origin::Builtin);
        for template in &connector.definition().templates {
            let body = connector
                .template(&template.source)
                .expect("template embedded");
            assert!(!body.trim().is_empty(), "{} is empty", template.source);
        }
    }
}

#[test]
fn builtin_folders_load_from_disk_the_same_as_embedded() {
    let embedded = Registry::builtin().expect("builtin");
    for id in BUILTIN {
        let from_disk =
            mobigen_connectors::Connector::from_dir(&connectors_dir().join(id)).expect(id);
        assert_eq!(
            from_disk.definition(),
            embedded.get(id).expect(id).definition()
        );
    }
}

/// A minimal valid connector folder, written to `dir/<id>/`.
fn write_connector(dir: &Path, id: &str, manifest: &Value) {
    let folder = dir.join(id);
    fs::create_dir_all(folder.join("templates")).expect("mkdir");
    fs::write(
        folder.join("manifest.json"),
        serde_json::to_string_pretty(manifest).expect("json"),
    )
    .expect("write manifest");
    fs::write(
        folder.join("templates/sentry.ts"),
        "import * as Sentry from '@sentry/react-native';\nexport { Sentry };\n",
    )
    .expect("write template");
}

fn sentry_manifest() -> Value {
    json!({
        "id": "sentry",
        "name": "Sentry",
        "description": "Error and performance monitoring.",
        "category": "monitoring",
        "logo": "https://assets.example.com/sentry.svg",
        "setupDifficulty": "easy",
        "authTypes": ["api-key"],
        "configSchema": {
            "type": "object",
            "required": ["dsn"],
            "properties": {
                "dsn": {"type": "string", "pattern": "^https://", "maxLength": 500},
                "authToken": {"type": "string", "maxLength": 200},
                "tracesSampleRate": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2}
            }
        },
        "fields": {
            "/dsn": {"sensitivity": "public", "env": "EXPO_PUBLIC_SENTRY_DSN"},
            "/authToken": {"sensitivity": "secret"},
            "/tracesSampleRate": {"sensitivity": "public"}
        },
        "capabilities": ["crash-reporting", "performance"],
        "dependencies": [{"package": "@sentry/react-native", "sdkVersions": {"56": "~7.2.0"}, "defaultRange": "^7.2.0"}],
        "plugins": [{"name": "@sentry/react-native/expo"}],
        "templates": [{"source": "templates/sentry.ts", "target": "src/services/sentry.ts", "kind": "service"}],
        "docsUrl": "https://docs.example.com/sentry",
        "setupGuideUrl": "https://docs.sentry.io/platforms/react-native/"
    })
}

#[test]
fn a_sixth_connector_loads_from_a_folder_without_rust_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_connector(tmp.path(), "sentry", &sentry_manifest());
    let registry = Registry::from_dir(tmp.path()).expect("loads");
    assert_eq!(registry.len(), 6);
    let sentry = registry.lookup("sentry").expect("registered");
    assert_eq!(sentry.origin(), &Origin::Dir(tmp.path().join("sentry")));
    assert!(sentry.template("templates/sentry.ts").is_some());
    assert_eq!(registry.search("sentry")[0].connector.id(), "sentry");
    assert_eq!(registry.list(Some(Category::Monitoring))[0].id(), "sentry");
    let valid = sentry
        .validate_config(&json!({"dsn": "https://abc@o1.ingest.sentry.io/1"}))
        .expect("valid");
    assert_eq!(valid.redacted()["tracesSampleRate"], json!(0.2));
    let err = sentry
        .validate_config(&json!({"dsn": "http://insecure"}))
        .expect_err("pattern");
    assert_eq!(err.issues[0].pointer, "/dsn");
}

/// Loads `manifest` from a temp folder and returns the error's problems as `pointer: reason`.
fn problems_of(manifest: &Value) -> (String, Vec<String>) {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_connector(tmp.path(), "sentry", manifest);
    let mut registry = Registry::empty();
    match registry.load_dir(tmp.path()) {
        Err(RegistryError::Invalid { path, problems }) => {
            assert!(registry.is_empty(), "nothing registered on failure");
            (
                path.display().to_string(),
                problems.iter().map(ToString::to_string).collect(),
            )
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn assert_problem(manifest: Value, pointer: &str, reason_part: &str) {
    let (path, problems) = problems_of(&manifest);
    assert!(path.ends_with("sentry/manifest.json"), "{path}");
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with(&format!("{pointer}: ")) && p.contains(reason_part)),
        "no `{pointer}: ...{reason_part}...` in {problems:#?}"
    );
}

#[test]
fn bad_manifests_are_rejected_with_file_pointer_and_reason() {
    let mut m = sentry_manifest();
    m["category"] = json!("games");
    assert_problem(m, "/category", "games");

    let mut m = sentry_manifest();
    m.as_object_mut().expect("object").remove("docsUrl");
    assert_problem(m, "(root)", "docsUrl");

    let mut m = sentry_manifest();
    m["fields"]["/authToken"]["env"] = json!("EXPO_PUBLIC_SENTRY_AUTH_TOKEN");
    assert_problem(m, "/fields/~1authToken/env", "must not use a EXPO_PUBLIC_");

    let mut m = sentry_manifest();
    m["fields"]
        .as_object_mut()
        .expect("object")
        .remove("/tracesSampleRate");
    assert_problem(m, "/fields", "`/tracesSampleRate` is not classified");

    let mut m = sentry_manifest();
    m["fields"]["/nope"] = json!({"sensitivity": "public"});
    assert_problem(m, "/fields/~1nope", "not a property of /configSchema");

    let mut m = sentry_manifest();
    m["dependencies"][0]["when"] = json!(["tracing"]);
    assert_problem(m, "/dependencies/0/when/0", "unknown feature `tracing`");

    let mut m = sentry_manifest();
    m["templates"][0]["source"] = json!("templates/missing.ts");
    assert_problem(m, "/templates/0/source", "cannot be read");

    let mut m = sentry_manifest();
    m["templates"][0]["target"] = json!("../outside.ts");
    assert_problem(m, "/templates/0/target", "");

    let mut m = sentry_manifest();
    m["plugins"][0]["options"] = json!({"token": "{{/authToken}}"});
    assert_problem(
        m,
        "/plugins/0/options",
        "secret field `/authToken` cannot go into app.json",
    );

    let mut m = sentry_manifest();
    m["configSchema"]["properties"]["dsn"]["pattern"] = json!("(unclosed");
    assert_problem(m, "/configSchema", "not a valid JSON Schema");

    let mut m = sentry_manifest();
    m["id"] = json!("sentry-io");
    assert_problem(m, "/id", "differs from its folder name");
}

#[test]
fn malformed_manifest_json_names_file_line_and_column() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let folder = tmp.path().join("broken");
    fs::create_dir_all(&folder).expect("mkdir");
    fs::write(
        folder.join("manifest.json"),
        "{\n  \"id\": \"broken\",\n  oops\n}",
    )
    .expect("write");
    let err = Registry::empty()
        .load_dir(tmp.path())
        .expect_err("malformed");
    match &err {
        RegistryError::Json { path, line, .. } => {
            assert!(path.ends_with("broken/manifest.json"));
            assert_eq!(*line, 3);
        }
        other => panic!("expected Json, got {other:?}"),
    }
    assert!(err.to_string().contains("broken/manifest.json:3:"));
}

#[test]
fn duplicate_ids_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut stripe = sentry_manifest();
    stripe["id"] = json!("stripe");
    write_connector(tmp.path(), "stripe", &stripe);
    let err = Registry::from_dir(tmp.path()).expect_err("duplicate");
    assert!(matches!(err, RegistryError::Duplicate { ref id } if id == "stripe"));
    assert_eq!(err.to_string(), "connector `stripe` is already registered");
}

#[test]
fn unknown_ids_suggest_the_closest() {
    let registry = Registry::builtin().expect("builtin");
    let err = registry.lookup("strpe").expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown connector `strpe`; did you mean `stripe`?"
    );
    let err = registry.lookup("twilio").expect_err("unknown");
    assert_eq!(err.to_string(), "unknown connector `twilio`");
}

fn top(registry: &Registry, query: &str) -> Vec<String> {
    registry
        .search(query)
        .iter()
        .map(|h| h.connector.id().to_string())
        .collect()
}

#[test]
fn search_ranks_names_first_and_tolerates_typos() {
    let registry = Registry::builtin().expect("builtin");
    assert_eq!(top(&registry, "strpe")[0], "stripe");
    assert_eq!(top(&registry, "STRIPE")[0], "stripe");
    assert_eq!(top(&registry, "firebse")[0], "firebase");
    assert_eq!(top(&registry, "one signal")[0], "onesignal");
    assert_eq!(top(&registry, "revenue")[0], "revenuecat");
    // A capability: subscriptions are offered by stripe and revenuecat, not by the others.
    let subs = top(&registry, "subscriptions");
    assert_eq!(subs[..2], ["revenuecat", "stripe"]);
    // "push" is onesignal's category and capability.
    assert_eq!(top(&registry, "push")[0], "onesignal");
    // "postgres" is a capability of supabase only.
    assert_eq!(top(&registry, "postgres"), ["supabase"]);
    // Name beats capability: "firebase" also matches nothing else by name.
    assert_eq!(top(&registry, "firebase")[0], "firebase");
    assert!(top(&registry, "zzzz").is_empty());
    assert!(top(&registry, "  ").is_empty());
}

#[test]
fn name_matches_outrank_description_matches() {
    let registry = Registry::builtin().expect("builtin");
    let hits = registry.search("stripe payments");
    assert_eq!(hits[0].connector.id(), "stripe");
    let stripe_score = hits[0].score;
    assert!(hits.iter().skip(1).all(|h| h.score < stripe_score));
}

#[test]
fn a_string_config_field_without_max_length_is_refused() {
    let mut m = sentry_manifest();
    m["configSchema"]["properties"]["authToken"] = json!({"type": "string"});
    assert_problem(
        m,
        "/configSchema/properties/authToken",
        "needs a `maxLength`",
    );
    let mut m = sentry_manifest();
    m["configSchema"]["properties"]["tags"] = json!({"type": "array", "items": {"type": "string"}});
    m["fields"]["/tags"] = json!({"sensitivity": "public"});
    assert_problem(
        m,
        "/configSchema/properties/tags/items",
        "needs a `maxLength`",
    );
}

/// The Sentry manifest with its secret written to `SENTRY_AUTH_TOKEN`.
fn sentry_manifest_with_secret_env() -> Value {
    let mut m = sentry_manifest();
    m["fields"]["/authToken"]["env"] = json!("SENTRY_AUTH_TOKEN");
    m
}

#[test]
fn a_secret_env_variable_no_server_template_reads_is_refused() {
    assert_problem(
        sentry_manifest_with_secret_env(),
        "/fields/~1authToken/env",
        "no server template reads `SENTRY_AUTH_TOKEN`",
    );
    // Read by a server template: accepted.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut m = sentry_manifest_with_secret_env();
    m["templates"]
        .as_array_mut()
        .expect("templates")
        .push(json!({"source": "templates/upload+api.ts", "target": "api/sentry/upload+api.ts", "kind": "server"}));
    write_connector(tmp.path(), "sentry", &m);
    fs::write(
        tmp.path().join("sentry/templates/upload+api.ts"),
        "export async function POST(): Promise<Response> {\n  return Response.json({ set: Boolean(process.env.SENTRY_AUTH_TOKEN) });\n}\n",
    )
    .expect("write");
    Registry::from_dir(tmp.path()).expect("a read secret is fine");
}

#[test]
fn the_builtin_connectors_write_only_secrets_their_code_reads() {
    let registry = Registry::builtin().expect("builtin");
    let envs = |id: &str| -> Vec<String> {
        registry
            .lookup(id)
            .expect("id")
            .definition()
            .fields
            .values()
            .filter(|f| {
                f.sensitivity == mobigen_connectors::catalog::definition::Sensitivity::Secret
            })
            .filter_map(|f| f.env.clone())
            .collect()
    };
    assert!(envs("supabase").is_empty(), "{:?}", envs("supabase"));
    assert!(envs("revenuecat").is_empty(), "{:?}", envs("revenuecat"));
    assert_eq!(
        envs("stripe"),
        ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]
    );
}

#[test]
fn client_code_naming_a_secret_variable_is_refused() {
    let mut m = sentry_manifest_with_secret_env();
    m["root"] = json!({"startup": ["console.log(process.env.SENTRY_AUTH_TOKEN);"]});
    assert_problem(m, "/root/startup/0", "secret variable `SENTRY_AUTH_TOKEN`");

    let tmp = tempfile::tempdir().expect("tempdir");
    write_connector(tmp.path(), "sentry", &sentry_manifest_with_secret_env());
    fs::write(
        tmp.path().join("sentry/templates/sentry.ts"),
        "export const token = process.env.SENTRY_AUTH_TOKEN;\n",
    )
    .expect("write");
    let err = Registry::empty()
        .load_dir(tmp.path())
        .expect_err("secret in client template");
    assert!(
        err.to_string()
            .contains("/templates/0/source: client code names the secret variable"),
        "{err}"
    );
}

#[test]
fn template_syntax_and_secret_placeholders_are_refused() {
    for (body, expected) in [
        (
            "export const token = {%json /authToken%};\n",
            "templates/sentry.ts:1: `/authToken` is a secret field",
        ),
        (
            "//#if feature.nope\nexport const a = 1;\n//#endif\n",
            "templates/sentry.ts:1: unknown condition `feature.nope`",
        ),
        (
            "//#if nativewind\nexport const a = 1;\n",
            "templates/sentry.ts:1: `//#if` without `//#endif`",
        ),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        write_connector(tmp.path(), "sentry", &sentry_manifest());
        fs::write(tmp.path().join("sentry/templates/sentry.ts"), body).expect("write");
        let err = Registry::empty()
            .load_dir(tmp.path())
            .expect_err("bad template");
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn config_files_must_name_a_public_field_and_a_safe_path() {
    let mut m = sentry_manifest();
    m["configFiles"] =
        json!([{"field": "/authToken", "target": "token.txt", "appJson": ["extra", "token"]}]);
    assert_problem(m, "/configFiles/0/field", "secret field `/authToken`");
    let mut m = sentry_manifest();
    m["configFiles"] =
        json!([{"field": "/dsn", "target": "../dsn.txt", "appJson": ["extra", "dsn"]}]);
    assert_problem(m, "/configFiles/0/target", "");
}

#[test]
fn supplied_files_need_unique_ids_free_paths_and_known_fetchers() {
    let file = |id: &str, target: &str| json!({"id": id, "target": target, "description": "d"});
    let mut m = sentry_manifest();
    m["suppliedFiles"] = json!([file("types", "src/a.ts"), file("types", "src/b.ts")]);
    assert_problem(m, "/suppliedFiles/1/id", "two supplied files have this id");
    let mut m = sentry_manifest();
    m["suppliedFiles"] = json!([file("types", "src/services/sentry.ts")]);
    assert_problem(
        m,
        "/suppliedFiles/0/target",
        "another file of the connector",
    );
    let mut m = sentry_manifest();
    m["suppliedFiles"] = json!([file("types", "/etc/passwd")]);
    assert_problem(m, "/suppliedFiles/0/target", "");
    let mut m = sentry_manifest();
    m["suppliedFiles"] =
        json!([{"id": "types", "target": "src/t.ts", "description": "d", "fetcher": "guess"}]);
    assert_problem(m, "/suppliedFiles/0/fetcher", "");

    // A template may only test for declared supplied files.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut m = sentry_manifest();
    m["suppliedFiles"] = json!([file("types", "src/types.ts")]);
    write_connector(tmp.path(), "sentry", &m);
    let template = tmp.path().join("sentry/templates/sentry.ts");
    fs::write(&template, "//#if supplied.types\nexport {};\n//#endif\n").expect("write");
    Registry::empty().load_dir(tmp.path()).expect("declared");
    fs::write(&template, "//#if supplied.schema\nexport {};\n//#endif\n").expect("write");
    let err = Registry::empty()
        .load_dir(tmp.path())
        .expect_err("undeclared");
    assert!(
        err.to_string()
            .contains("unknown condition `supplied.schema`"),
        "{err}"
    );
}

/// Found by the fuzz target `manifest`: a root import line that is not code gave a
/// `src/connectors.tsx` that does not parse (I1). Now the manifest is refused when it loads.
#[test]
fn a_root_contribution_that_does_not_parse_is_refused() {
    for root in [
        json!({"imports": ["import { init } fromcheck that './services/sentry';"]}),
        json!({"startup": ["init(;"]}),
        json!({"provider": {"open": "<SentryRoot>", "close": "</Other>"}}),
    ] {
        let mut m = sentry_manifest();
        m["root"] = root.clone();
        assert_problem(m, "/root", "does not parse");
    }
    let mut m = sentry_manifest();
    m["root"] = json!({
        "imports": ["import { init } from './services/sentry';"],
        "startup": ["init();"],
        "provider": {"open": "<SentryRoot>", "close": "</SentryRoot>"}
    });
    let tmp = tempfile::tempdir().expect("tempdir");
    write_connector(tmp.path(), "sentry", &m);
    Registry::empty()
        .load_dir(tmp.path())
        .expect("a root contribution that parses loads");
}

/// Found by fuzzing the manifest (a `.tsx` template moved to a `.ts` target): a template that
/// renders code which does not parse is refused when planned (I1), naming the connector and file.
#[test]
fn a_template_that_renders_unparsable_code_is_refused_when_planned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write_connector(tmp.path(), "sentry", &sentry_manifest());
    fs::write(
        tmp.path().join("sentry/templates/sentry.ts"),
        "export const Badge = () => <Sentry />;\n",
    )
    .expect("write template");
    let registry = Registry::from_dir(tmp.path()).expect("loads");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sample-app");
    let snapshot = ProjectSnapshot::read(&sample, &registry).expect("sample app");
    let config = registry
        .lookup("sentry")
        .expect("registered")
        .validate_config(&json!({"dsn": "https://abc@o1.ingest.sentry.io/1"}))
        .expect("valid");
    let error =
        plan_add(&registry, &snapshot, &config, PlanOptions::default()).expect_err("refused");
    assert!(
        matches!(&error, PlanError::Template { connector, file, .. } if connector == "sentry" && file == "src/services/sentry.ts"),
        "{error:?}"
    );
    // The place is in the generated file, after its three header lines.
    assert!(error.to_string().contains("(4:38: "), "{error}");
}
