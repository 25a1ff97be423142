use proptest::prelude::*;
use serde_json::json;

use super::*;

fn dep(package: &str, version: &str, dev: bool) -> DepRequest {
    DepRequest {
        package: package.to_owned(),
        version: version.to_owned(),
        dev,
    }
}

const PKG: &str = r#"{
  "name": "app",
  "main": "expo-router/entry",
  "dependencies": {
    "expo": "~56.0.23",
    "react": "19.1.0",
    "react-native": "0.81.4"
  }
}
"#;

#[test]
fn sdk_major_from_ranges() {
    for (range, major) in [
        ("~56.0.23", Some(56)),
        ("^56.0.0", Some(56)),
        ("56.0.0", Some(56)),
        (">=56", Some(56)),
        (">= 55.1 <57", Some(55)),
        ("55.x || 56.x", Some(55)),
        ("*", None),
        ("latest", None),
    ] {
        let text = format!(r#"{{"dependencies": {{"expo": "{range}"}}}}"#);
        assert_eq!(expo_sdk_major(&text), major, "{range}");
    }
    assert_eq!(expo_sdk_major("{"), None);
    assert_eq!(
        expo_sdk_major(r#"{"devDependencies":{"expo":"^54.0.1"}}"#),
        Some(54)
    );
}

#[test]
fn prerelease_numbers_compare_as_numbers() {
    use std::cmp::Ordering::{Greater, Less};
    // Issue 15: `rc.10` sorted before `rc.9` when pre-releases compared as text.
    assert_eq!(compare_ranges("1.0.0-rc.10", "1.0.0-rc.9"), Greater);
    assert_eq!(compare_ranges("^2.0.0-beta.2", "^2.0.0-beta.11"), Less);
    assert_eq!(compare_ranges("1.0.0-rc.1", "1.0.0"), Less);
    assert_eq!(compare_ranges("latest", "0.0.1"), Less);
    // The newer pre-release is an upgrade, the older one is not.
    let text = r#"{"dependencies":{"x":"1.0.0-rc.9"}}"#;
    let (out, _) = add_dependencies(text, &[dep("x", "1.0.0-rc.10", false)]).unwrap();
    assert_eq!(out, r#"{"dependencies":{"x":"1.0.0-rc.10"}}"#);
    let (out, _) = add_dependencies(&out, &[dep("x", "1.0.0-rc.9", false)]).unwrap();
    assert_eq!(out, r#"{"dependencies":{"x":"1.0.0-rc.10"}}"#);
}

#[test]
fn ranges_compatible_follows_npm_ranges() {
    for (a, b, ok) in [
        ("~18.0.13", "~18.0.14", true),
        ("~17.0.8", "~18.0.14", false),
        ("18.0.14", "~18.0.13", true),
        ("18.0.12", "~18.0.13", false),
        ("^0.50.0", "0.50.3", true),
        ("^0.49.0", "0.50.3", false),
        (">= 56.0.0 < 57", "~56.0.27", true),
        ("56.x", "~57.0.1", false),
        ("55.0.0 - 56.0.0", "~56.0.0", true),
        ("~55.0.1 || ~56.0.1", "~56.0.27", true),
        ("latest", "~56.0.27", true),
        ("github:user/repo", "1.0.0", true),
    ] {
        assert_eq!(ranges_compatible(a, b), ok, "{a} vs {b}");
        assert_eq!(ranges_compatible(b, a), ok, "{b} vs {a}");
    }
}

#[test]
fn dependency_range_reads_either_section() {
    assert_eq!(dependency_range(PKG, "react").as_deref(), Some("19.1.0"));
    assert_eq!(
        dependency_range(r#"{"devDependencies":{"x":"^1.0.0"}}"#, "x").as_deref(),
        Some("^1.0.0")
    );
    assert_eq!(dependency_range(PKG, "nope"), None);
    assert_eq!(dependency_range("{", "react"), None);
}

const APP_JSON5: &str = "{\n  // Expo reads app.json as JSON5\n  expo: {\n    name: 'my-app', /* the display name */\n    slug: \"my-app\",\n    version: '1.0.0',\n    ios: { supportsTablet: true, },\n    plugins: [\n      'expo-router', // routes\n    ],\n  },\n}\n";

#[test]
fn app_json_is_read_as_json5_and_edited_reversibly() {
    let (out, changes) = add_p(APP_JSON5, &stripe());
    assert!(out.contains("'expo-router', // routes"), "{out}");
    assert!(out.contains("\"@stripe/stripe-react-native\""), "{out}");
    assert!(
        out.contains("name: 'my-app', /* the display name */"),
        "{out}"
    );
    // The result is JSON5 that reads back with the plugin.
    let root = syntax::parse_document(APP_JSON, &out).unwrap();
    let plugins = root.value(&out)["expo"]["plugins"].clone();
    // In sorted place: `@stripe/...` before `expo-router`.
    assert_eq!(plugins[0][0], "@stripe/stripe-react-native");
    assert_eq!(plugins[1], "expo-router");
    assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), APP_JSON5);
    let (set, change) = set_expo_config(APP_JSON5, &["web", "output"], &json!("server")).unwrap();
    assert_eq!(unset_path(APP_JSON, &set, &change).unwrap(), APP_JSON5);
    let root = syntax::parse_document(APP_JSON, &set).unwrap();
    assert_eq!(root.value(&set)["expo"]["web"]["output"], "server");
    assert_eq!(root.value(&set)["expo"]["name"], "my-app");
}

#[test]
fn json5_append_after_trailing_comma_keeps_the_comment_on_its_line_in_any_order() {
    // Plugins that sort after the user's last entry are appended after its trailing comma.
    let zeta = || vec![plugin("zeta", "zeta-plugin", None, false)];
    let omega = || {
        vec![plugin(
            "omega",
            "omega-plugin",
            Some(json!({"a": 1})),
            false,
        )]
    };
    let text = "{\n  expo: {\n    plugins: [\n      'expo-router', // routes\n    ],\n  },\n}\n";
    let (with_zeta, zeta_changes) = add_p(text, &zeta());
    assert_eq!(
        with_zeta,
        "{\n  expo: {\n    plugins: [\n      'expo-router', // routes\n      \"zeta-plugin\",\n    ],\n  },\n}\n"
    );
    let (ab, _) = add_p(&with_zeta, &omega());
    let (ba, _) = add_p(&add_p(text, &omega()).0, &zeta());
    assert_eq!(ab, ba);
    assert!(
        ab.contains("'expo-router', // routes\n      [\n        \"omega-plugin\",\n"),
        "{ab}"
    );
    let (omega_alone, _) = add_p(text, &omega());
    assert_eq!(
        remove_plugins(&ab, &zeta_changes, &omega()).unwrap(),
        omega_alone
    );
    assert_eq!(
        remove_plugins(&with_zeta, &zeta_changes, &[]).unwrap(),
        text
    );
    // On one line: the new entry goes right after the comma and keeps a comma after it.
    let inline = "{expo: {plugins: ['expo-router',]}}";
    let (out, changes) = add_p(inline, &zeta());
    assert_eq!(out, "{expo: {plugins: ['expo-router', \"zeta-plugin\",]}}");
    assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), inline);
}

#[test]
fn json5_values_decode() {
    let text =
        "{a: 'it\\'s', b: +0x1F, c: .5, d: 5., e: [1, 2,], 'f': \"\\x41\\u00e9\", g: Infinity}";
    let root = syntax::parse_document(APP_JSON, text).unwrap();
    assert_eq!(
        root.value(text),
        json!({"a": "it's", "b": 31, "c": 0.5, "d": 5.0, "e": [1, 2], "f": "A\u{e9}", "g": null})
    );
}

#[test]
fn package_json_stays_strict_json() {
    for bad in [
        "{\"a\": 1,}",
        "{a: 1}",
        "{\"a\": 'x'}",
        "{\"a\": 1 // c\n}",
        "[1,]",
    ] {
        let err = add_dependencies(bad, &[dep("x", "1.0.0", false)]).unwrap_err();
        assert!(matches!(err, JsonEditError::Parse { .. }), "{bad}: {err}");
        assert!(syntax::parse_document(APP_JSON, bad).is_ok(), "{bad}");
    }
    let err = syntax::parse_document(APP_JSON, "{ /* open").unwrap_err();
    assert!(err.to_string().contains("unterminated comment"), "{err}");
}

#[test]
fn duplicate_keys_are_refused_with_file_and_line() {
    let pkg = "{\n  \"dependencies\": {\"a\": \"1.0.0\"},\n  \"name\": \"x\",\n  \"dependencies\": {}\n}\n";
    let err = add_dependencies(pkg, &[dep("b", "1.0.0", false)]).unwrap_err();
    assert_eq!(
        err,
        JsonEditError::DuplicateKey {
            file: PACKAGE_JSON.into(),
            line: 4,
            column: 3,
            key: "dependencies".into(),
            first_line: 2,
        }
    );
    assert!(
        err.to_string()
            .starts_with("package.json:4:3: duplicate key `dependencies` (first at line 2)"),
        "{err}"
    );
    // JSON5 spellings of one key are the same key.
    let app = "{\n  expo: {\n    name: 'a',\n    'name': \"b\",\n  },\n}\n";
    let err = add_p_err(app);
    assert!(
        err.to_string()
            .starts_with("app.json:4:5: duplicate key `name` (first at line 3)"),
        "{err}"
    );
}

fn add_p_err(text: &str) -> JsonEditError {
    let pinned: Vec<&str> = Vec::new();
    add_plugins(text, &stripe(), &pinned).unwrap_err()
}

#[test]
fn adds_in_sorted_position_and_removes_exactly() {
    let (out, changes) =
        add_dependencies(PKG, &[dep("@stripe/stripe-react-native", "0.64.0", false)]).unwrap();
    assert!(out.contains(
        "\"dependencies\": {\n    \"@stripe/stripe-react-native\": \"0.64.0\",\n    \"expo\""
    ));
    assert_eq!(remove_dependencies(&out, &changes).unwrap(), PKG);
    let (out, changes) =
        add_dependencies(PKG, &[dep("react-native-purchases", "10.10.2", false)]).unwrap();
    assert!(out.contains(
        "\"react-native\": \"0.81.4\",\n    \"react-native-purchases\": \"10.10.2\"\n  }"
    ));
    assert_eq!(remove_dependencies(&out, &changes).unwrap(), PKG);
}

#[test]
fn unsorted_deps_get_appended() {
    let text = "{\n\t\"dependencies\": {\n\t\t\"react\": \"19\",\n\t\t\"expo\": \"56\"\n\t}\n}";
    let (out, changes) = add_dependencies(text, &[dep("axios", "1.0.0", false)]).unwrap();
    assert_eq!(
        out,
        "{\n\t\"dependencies\": {\n\t\t\"react\": \"19\",\n\t\t\"axios\": \"1.0.0\",\n\t\t\"expo\": \"56\"\n\t}\n}"
    );
    assert_eq!(remove_dependencies(&out, &changes).unwrap(), text);
}

#[test]
fn creates_dev_dependencies_after_dependencies() {
    let (out, changes) = add_dependencies(PKG, &[dep("typescript", "~5.9.2", true)]).unwrap();
    assert!(
        out.ends_with("  },\n  \"devDependencies\": {\n    \"typescript\": \"~5.9.2\"\n  }\n}\n")
    );
    assert!(matches!(
        &changes[0],
        DepChange::Added {
            section: ContainerOrigin::Created { .. },
            ..
        }
    ));
    assert_eq!(remove_dependencies(&out, &changes).unwrap(), PKG);
}

#[test]
fn never_downgrades_and_restores_upgrades() {
    let (out, changes) = add_dependencies(PKG, &[dep("react", "18.0.0", false)]).unwrap();
    assert_eq!(out, PKG);
    assert_eq!(
        changes,
        vec![DepChange::AlreadyPresent {
            package: "react".into(),
            version: "19.1.0".into(),
            dev: false
        }]
    );
    let (out, changes) = add_dependencies(PKG, &[dep("react", "^19.2.0", false)]).unwrap();
    assert!(out.contains("\"react\": \"^19.2.0\""));
    assert!(matches!(&changes[0], DepChange::Upgraded { from, .. } if from == "19.1.0"));
    assert_eq!(remove_dependencies(&out, &changes).unwrap(), PKG);
    // Tags and URLs are never replaced.
    let text = r#"{"dependencies":{"react":"latest"}}"#;
    let (out, _) = add_dependencies(text, &[dep("react", "19.0.0", false)]).unwrap();
    assert_eq!(out, text);
}

/// Found by the libFuzzer campaign (json_edit): a raised version written with an escape got
/// the decoded character back on removal.
#[test]
fn restoring_an_upgraded_version_keeps_its_escapes() {
    // `\u007e1.0.0` is `~1.0.0` written with an escape.
    let text = "{\"devDependencies\": {\"@types/react\": \"\\u007e1.0.0\"}}\n";
    let (out, changes) = add_dependencies(text, &[dep("@types/react", "~19.2.2", true)]).unwrap();
    assert!(out.contains("\"~19.2.2\""), "{out}");
    assert!(
        matches!(&changes[0], DepChange::Upgraded { from, from_text: Some(raw), .. }
            if from == "~1.0.0" && raw == "\"\\u007e1.0.0\""),
        "{changes:?}"
    );
    assert!(
        serde_json::to_string(&changes[0])
            .unwrap()
            .contains("\"fromText\"")
    );
    assert_eq!(remove_dependencies(&out, &changes).unwrap(), text);
    // A plain value keeps the lock record as it was (no `fromText`).
    let (_, changes) = add_dependencies(PKG, &[dep("react", "^19.2.0", false)]).unwrap();
    assert!(matches!(
        &changes[0],
        DepChange::Upgraded {
            from_text: None,
            ..
        }
    ));
}

#[test]
fn empty_sections_and_inline_objects() {
    for text in [
        "{\"dependencies\": {}}",
        "{\"dependencies\": { }}\n",
        "{\r\n  \"dependencies\": {\r\n  }\r\n}",
        "{\"name\": \"a\", \"dependencies\": {\"b\": \"1\"}}",
        "{}",
        "\u{feff}{\"name\": \"x\"}",
    ] {
        let (out, changes) =
            add_dependencies(text, &[dep("a", "1.0.0", false), dep("c", "1", true)]).unwrap();
        parse_document("t", &out).unwrap();
        assert_eq!(remove_dependencies(&out, &changes).unwrap(), text, "{out}");
    }
}

#[test]
fn malformed_json_is_refused_with_position() {
    let err = add_dependencies("{\n  \"a\": 1,\n}", &[dep("x", "1", false)]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "package.json:3:1: not valid JSON: expected a string key; fix the file and try again (it was not changed)"
    );
    let err = add_dependencies(r#"{"dependencies": []}"#, &[dep("x", "1", false)]).unwrap_err();
    assert!(matches!(err, JsonEditError::UnexpectedType { .. }), "{err}");
    for bad in [
        "",
        "[",
        "{\"a\":}",
        "{\"a\" 1}",
        "01",
        "\"\\x\"",
        "{}}",
        "nul",
        "1.",
        "-",
    ] {
        assert!(add_dependencies(bad, &[]).is_err(), "{bad}");
    }
    let deep = "[".repeat(10_000);
    assert!(parse_document("x", &deep).is_err());
}

const APP: &str = r#"{
  "expo": {
    "name": "app",
    "slug": "app",
    "plugins": [
      "expo-router",
      [
        "expo-build-properties",
        {
          "android": {
            "minSdkVersion": 24
          }
        }
      ]
    ]
  }
}
"#;

fn plugin(connector: &str, name: &str, options: Option<Value>, first: bool) -> PluginRequest {
    PluginRequest {
        connector: connector.to_owned(),
        name: name.to_owned(),
        options,
        first,
    }
}

fn onesignal() -> Vec<PluginRequest> {
    vec![plugin(
        "onesignal",
        "onesignal-expo-plugin",
        Some(json!({"mode": "development"})),
        true,
    )]
}

fn stripe() -> Vec<PluginRequest> {
    vec![plugin(
        "stripe",
        "@stripe/stripe-react-native",
        Some(json!({"merchantIdentifier": "merchant.x", "enableGooglePay": true})),
        false,
    )]
}

fn firebase() -> Vec<PluginRequest> {
    vec![
        plugin("firebase", "@react-native-firebase/app", None, false),
        plugin(
            "firebase",
            "expo-build-properties",
            Some(json!({"ios": {"useFrameworks": "static"}})),
            false,
        ),
    ]
}

const PINNED: &[&str] = &["onesignal-expo-plugin"];

#[test]
fn first_plugin_goes_first_and_options_merge() {
    let (out, changes) = add_plugins(APP, &onesignal(), PINNED).unwrap();
    assert!(out.contains(
        "\"plugins\": [\n      [\n        \"onesignal-expo-plugin\",\n        {\n          \"mode\": \"development\"\n        }\n      ],\n      \"expo-router\""
    ), "{out}");
    assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), APP);

    let (out, changes) = add_plugins(APP, &firebase(), PINNED).unwrap();
    assert!(out.contains("\"android\": {\n            \"minSdkVersion\": 24\n          },\n          \"ios\": {\n            \"useFrameworks\": \"static\"\n          }"), "{out}");
    assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), APP);
}

#[test]
fn option_clash_is_a_conflict_naming_both() {
    let other = vec![plugin(
        "supabase",
        "expo-build-properties",
        Some(json!({"ios": {"useFrameworks": "dynamic"}})),
        false,
    )];
    let (out, _) = add_plugins(APP, &firebase(), PINNED).unwrap();
    let err = add_plugins(&out, &other, PINNED).unwrap_err();
    assert!(
        matches!(&err, JsonEditError::PluginOptionConflict { pointer, connector, .. }
        if pointer == "/ios/useFrameworks" && connector == "supabase")
    );
    let mut both = firebase();
    both.extend(other);
    let err = add_plugins(APP, &both, PINNED).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`firebase`") && message.contains("`supabase`"),
        "{message}"
    );
    assert!(!message.contains("dynamic") && !message.contains("static"));
}

#[test]
fn users_own_entry_survives_removal() {
    let text = "{\"expo\": {\"plugins\": [\"@stripe/stripe-react-native\"]}}";
    let (out, changes) = add_plugins(text, &stripe(), PINNED).unwrap();
    assert!(matches!(&changes[0], PluginChange::Merged { .. }));
    assert!(out.contains("merchant.x"));
    assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), text);
    let (again, changes2) = add_plugins(&out, &stripe(), PINNED).unwrap();
    assert_eq!(again, out);
    assert!(matches!(&changes2[0], PluginChange::AlreadyPresent { .. }));
}

#[test]
fn creates_expo_and_plugins() {
    for text in [
        "{}",
        "{\n  \"expo\": {}\n}\n",
        "{\"expo\": {\"name\": \"a\"}}",
        "{\"name\": \"bare\"}",
    ] {
        let (out, changes) = add_plugins(text, &stripe(), PINNED).unwrap();
        let value: Value = serde_json::from_str(&out).unwrap();
        let plugins = value
            .pointer("/expo/plugins")
            .or_else(|| value.pointer("/plugins"))
            .unwrap();
        assert_eq!(plugins[0][0], "@stripe/stripe-react-native");
        assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), text, "{out}");
    }
    let err = add_plugins("{\"expo\": {\"plugins\": {}}}", &stripe(), PINNED).unwrap_err();
    assert!(err.to_string().contains("expo.plugins"), "{err}");
}

#[test]
fn a_member_after_a_trailing_comma_and_blanks_is_removed_exactly() {
    // Found by libFuzzer (json_edit): app.json read as JSON5 with `"ne": "ccon", }`; the
    // plugins member went in after the comma and took the blanks before `}` with it on removal.
    for text in [
        "{\n  \"expo\": {  \n  \"ne\": \"ccon\", }\n}\n",
        "{\"expo\": {\"name\": \"a\",   }}",
        "{\"expo\": {\"name\": \"a\",\n\t}}",
        "{\"expo\": {\"name\": \"a\", /* c */ }}",
        "{\"name\": \"bare\",  }",
    ] {
        let (out, changes) = add_plugins(text, &stripe(), PINNED).unwrap();
        assert_eq!(
            remove_plugins(&out, &changes, &[]).unwrap(),
            text,
            "{out:?}"
        );
    }
}

#[test]
fn json5_white_space_before_a_comma_is_white_space() {
    // Found by libFuzzer (json_edit): a U+FEFF between a member and its comma hid the comma, so
    // the separator copied for a new member held it (`true,\u{feff},`), and the output did not
    // parse.
    for space in ["\u{feff}", "\u{a0}", "\u{2028}", "\u{b}"] {
        let text = format!("{{\n  \"name\": \"a\"{space},\n  \"slug\": true\n}}\n");
        let (out, change) = set_expo_config(&text, &["web", "output"], &json!("server"))
            .unwrap_or_else(|e| panic!("{space:?}: {e}"));
        assert!(
            syntax::parse_document(APP_JSON, &out).is_ok(),
            "{space:?}: {out}"
        );
        assert!(
            out.contains("\"slug\": true,\n  \"web\""),
            "{space:?}: {out}"
        );
        let (again, _) = set_expo_config(&out, &["web", "output"], &json!("server"))
            .unwrap_or_else(|e| panic!("{space:?}: {e}"));
        assert_eq!(again, out, "{space:?}");
        assert_eq!(
            unset_path(APP_JSON, &out, &change).unwrap(),
            text,
            "{space:?}"
        );
    }
}

#[test]
fn revenuecat_style_connector_without_plugins_changes_nothing() {
    let (out, changes) = add_plugins(APP, &[], PINNED).unwrap();
    assert_eq!(out, APP);
    assert!(changes.is_empty());
}

#[test]
fn set_path_adds_replaces_and_undoes() {
    let (out, change) = set_expo_config(APP, &["web", "output"], &json!("server")).unwrap();
    assert!(
        out.contains("\"web\": {\n      \"output\": \"server\"\n    }"),
        "{out}"
    );
    assert_eq!(unset_path(APP_JSON, &out, &change).unwrap(), APP);
    let text = "{\"expo\": {\"web\": {\"output\": \"static\", \"bundler\": \"metro\"}}}";
    let (out, change) = set_expo_config(text, &["web", "output"], &json!("server")).unwrap();
    assert!(matches!(change, SetChange::Replaced { .. }));
    assert_eq!(unset_path(APP_JSON, &out, &change).unwrap(), text);
    let (out, change) = set_expo_config(
        text,
        &["android", "googleServicesFile"],
        &json!("./google-services.json"),
    )
    .unwrap();
    assert_eq!(unset_path(APP_JSON, &out, &change).unwrap(), text);
    let (same, change) = set_expo_config(
        &out,
        &["android", "googleServicesFile"],
        &json!("./google-services.json"),
    )
    .unwrap();
    assert_eq!(same, out);
    assert!(matches!(change, SetChange::AlreadyPresent { .. }));
}

// ---------------------------------------------------------------------------------------------
// Properties over generated formattings.

#[derive(Debug, Clone)]
struct Format {
    indent: &'static str,
    eol: &'static str,
    final_newline: bool,
    /// app.json only: JSON5 (a comment in every object, unquoted keys, trailing commas).
    json5: bool,
}

fn format_strategy() -> impl Strategy<Value = Format> {
    (
        prop_oneof![Just("  "), Just("    "), Just("\t")],
        prop_oneof![Just("\n"), Just("\r\n")],
        any::<bool>(),
    )
        .prop_map(|(indent, eol, final_newline)| Format {
            indent,
            eol,
            final_newline,
            json5: false,
        })
}

/// Renders like an editor would (keys in the given order).
fn write(value: &Value, f: &Format, depth: usize) -> String {
    let pad = f.indent.repeat(depth + 1);
    let end = f.indent.repeat(depth);
    match value {
        Value::Object(m) if !m.is_empty() => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    let key = if f.json5 && k.chars().all(|c| c.is_ascii_alphabetic()) {
                        k.clone()
                    } else {
                        quote(k)
                    };
                    format!("{pad}{key}: {}", write(v, f, depth + 1))
                })
                .collect();
            let (comment, trailing) = if f.json5 {
                (format!("{pad}// a comment{}", f.eol), ",")
            } else {
                (String::new(), "")
            };
            format!(
                "{{{eol}{comment}{}{trailing}{eol}{end}}}",
                parts.join(&format!(",{}", f.eol)),
                eol = f.eol
            )
        }
        Value::Array(a) if !a.is_empty() => {
            let parts: Vec<String> = a
                .iter()
                .map(|v| format!("{pad}{}", write(v, f, depth + 1)))
                .collect();
            format!(
                "[{eol}{}{}{eol}{end}]",
                parts.join(&format!(",{}", f.eol)),
                if f.json5 { ", // the last item" } else { "" },
                eol = f.eol
            )
        }
        other => other.to_string(),
    }
}

fn document(value: &Value, f: &Format) -> String {
    let mut text = write(value, f, 0);
    if f.final_newline {
        text.push_str(f.eol);
    }
    text
}

const USER_DEPS: &[(&str, &str)] = &[
    ("expo", "~56.0.23"),
    ("react", "19.1.0"),
    ("react-native", "0.81.4"),
    ("@react-native-async-storage/async-storage", "2.2.0"),
    ("zustand", "^5.0.0"),
    ("react-native-purchases", "^9.0.0"),
    ("@stripe/stripe-react-native", "0.70.0"),
];

fn package_strategy() -> impl Strategy<Value = String> {
    (
        format_strategy(),
        proptest::sample::subsequence(USER_DEPS.to_vec(), 0..USER_DEPS.len()),
        any::<bool>(),
        0u8..3,
        any::<bool>(),
    )
        .prop_map(|(f, mut deps, sorted, dev_shape, has_deps)| {
            if sorted {
                deps.sort();
            } else {
                deps.reverse();
            }
            let mut root = Map::new();
            root.insert("name".into(), json!("app"));
            root.insert("main".into(), json!("expo-router/entry"));
            if has_deps {
                let map: Map<String, Value> = deps
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), json!(v)))
                    .collect();
                root.insert("dependencies".into(), Value::Object(map));
            }
            match dev_shape {
                0 => {}
                1 => {
                    root.insert("devDependencies".into(), json!({}));
                }
                _ => {
                    root.insert("devDependencies".into(), json!({"typescript": "~5.9.2"}));
                }
            }
            root.insert("private".into(), json!(true));
            document(&Value::Object(root), &f)
        })
}

fn deps_a() -> Vec<DepRequest> {
    vec![
        dep("@stripe/stripe-react-native", "0.64.0", false),
        dep("stripe-mock", "1.0.0", true),
    ]
}

fn deps_b() -> Vec<DepRequest> {
    vec![
        dep("react-native-purchases", "10.10.2", false),
        dep("@types/jest", "29.5.0", true),
        dep("react-native-url-polyfill", "^2.0.0", false),
    ]
}

fn add_deps(text: &str, r: &[DepRequest]) -> (String, Vec<DepChange>) {
    add_dependencies(text, r).expect("add")
}

const APP_PLUGINS: &[&str] = &[
    "expo-router",
    "expo-font",
    "@stripe/stripe-react-native",
    "expo-build-properties",
    "expo-secure-store",
];

fn app_strategy() -> impl Strategy<Value = String> {
    (
        format_strategy(),
        proptest::sample::subsequence(APP_PLUGINS.to_vec(), 0..APP_PLUGINS.len()),
        any::<bool>(),
        0u8..3,
        any::<bool>(),
    )
        .prop_map(|(mut f, mut plugins, sorted, shape, json5)| {
            f.json5 = json5;
            if sorted {
                plugins.sort();
            } else {
                plugins.reverse();
            }
            let entries: Vec<Value> = plugins
                .into_iter()
                .map(|p| {
                    if p == "expo-build-properties" {
                        json!([p, {"android": {"minSdkVersion": 24}}])
                    } else {
                        json!(p)
                    }
                })
                .collect();
            let mut expo = Map::new();
            expo.insert("name".into(), json!("app"));
            expo.insert("slug".into(), json!("app"));
            match shape {
                0 => {}
                1 => {
                    expo.insert("plugins".into(), Value::Array(entries));
                }
                _ => {
                    expo.insert("ios".into(), json!({"bundleIdentifier": "com.x"}));
                    expo.insert("plugins".into(), Value::Array(entries));
                    expo.insert("android".into(), json!({"package": "com.x"}));
                }
            }
            document(&json!({ "expo": expo }), &f)
        })
}

fn plugins_of(i: usize) -> Vec<PluginRequest> {
    match i {
        0 => onesignal(),
        1 => stripe(),
        _ => firebase(),
    }
}

fn add_p(text: &str, r: &[PluginRequest]) -> (String, Vec<PluginChange>) {
    add_plugins(text, r, PINNED).expect("add plugins")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn i2_idempotent_dependencies(text in package_strategy()) {
        let (once, _) = add_deps(&text, &deps_a());
        let (twice, _) = add_deps(&once, &deps_a());
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn i3_reversible_dependencies(text in package_strategy()) {
        for requests in [deps_a(), deps_b()] {
            let (added, changes) = add_deps(&text, &requests);
            prop_assert!(parse_document("t", &added).is_ok());
            prop_assert_eq!(&remove_dependencies(&added, &changes).unwrap(), &text);
        }
    }

    #[test]
    fn i4_independent_dependencies(text in package_strategy()) {
        for (a, b) in [(deps_a(), deps_b()), (deps_b(), deps_a())] {
            let (with_a, changes_a) = add_deps(&text, &a);
            let (with_ab, _) = add_deps(&with_a, &b);
            let (b_alone, _) = add_deps(&text, &b);
            prop_assert_eq!(remove_dependencies(&with_ab, &changes_a).unwrap(), b_alone);
        }
    }

    #[test]
    fn i5_order_free_dependencies(text in package_strategy()) {
        let (ab, _) = add_deps(&add_deps(&text, &deps_a()).0, &deps_b());
        let (ba, _) = add_deps(&add_deps(&text, &deps_b()).0, &deps_a());
        prop_assert_eq!(ab, ba);
    }

    #[test]
    fn i2_idempotent_plugins(text in app_strategy(), i in 0usize..3) {
        let (once, _) = add_p(&text, &plugins_of(i));
        let (twice, _) = add_p(&once, &plugins_of(i));
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn i3_reversible_plugins(text in app_strategy(), i in 0usize..3) {
        let (added, changes) = add_p(&text, &plugins_of(i));
        prop_assert!(parse_document(APP_JSON, &added).is_ok());
        prop_assert_eq!(remove_plugins(&added, &changes, &[]).unwrap(), text);
    }

    #[test]
    fn i4_independent_plugins(text in app_strategy(), a in 0usize..3, b in 0usize..3) {
        prop_assume!(a != b);
        let (with_a, changes_a) = add_p(&text, &plugins_of(a));
        let (with_ab, _) = add_p(&with_a, &plugins_of(b));
        let (b_alone, _) = add_p(&text, &plugins_of(b));
        prop_assert_eq!(remove_plugins(&with_ab, &changes_a, &plugins_of(b)).unwrap(), b_alone);
    }

    #[test]
    fn i5_order_free_plugins(text in app_strategy(), a in 0usize..3, b in 0usize..3) {
        let (ab, _) = add_p(&add_p(&text, &plugins_of(a)).0, &plugins_of(b));
        let (ba, _) = add_p(&add_p(&text, &plugins_of(b)).0, &plugins_of(a));
        prop_assert_eq!(ab, ba);
    }

    #[test]
    fn i3_reversible_set_path(text in app_strategy()) {
        let (added, change) = set_expo_config(&text, &["web", "output"], &json!("server")).unwrap();
        prop_assert_eq!(unset_path(APP_JSON, &added, &change).unwrap(), text);
    }

    #[test]
    fn i7_bad_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = add_dependencies(&text, &deps_a());
        let _ = add_plugins(&text, &stripe(), PINNED);
        let _ = expo_sdk_major(&text);
    }

    #[test]
    fn i7_truncated_json_is_refused(text in app_strategy(), cut in 1usize..40) {
        let end = text.trim_end().len().saturating_sub(cut);
        let broken = &text[..end];
        prop_assert!(add_plugins(broken, &stripe(), PINNED).is_err());
    }
}

#[test]
fn comments_are_not_taken_for_the_indent_or_the_colon() {
    // Found by libFuzzer (json_edit): a block comment that ends on the first member's line was
    // taken for the indent unit and copied in front of every inserted line.
    let text = "{\n /* a\nb */\"name\": \"a\",  \n}\n";
    let (out, changes) = add_plugins(text, &stripe(), PINNED).unwrap();
    assert_eq!(out.matches("*/").count(), 1, "{out}");
    assert!(
        out.contains("\n  [\n    \"@stripe/stripe-react-native\","),
        "{out}"
    );
    let (again, _) = add_plugins(&out, &stripe(), PINNED).unwrap();
    assert_eq!(again, out);
    assert_eq!(remove_plugins(&out, &changes, &[]).unwrap(), text);
    // A comment between a key and its colon is not copied into new members.
    let text = "{\"expo\": {\"name\" /* c */ : \"a\"}}";
    let (out, _) = add_plugins(text, &stripe(), PINNED).unwrap();
    assert_eq!(out.matches("/* c */").count(), 1, "{out}");
}
