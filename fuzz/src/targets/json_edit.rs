//! Format-preserving JSON edits of package.json and app.json on arbitrary and mutated text.
//!
//! Input: one selector byte, then the file's bytes. `s % 3` picks the edit (dependencies,
//! plugins, `expo.web.output`), `s / 3` the subset of requests. Checked: an edit either refuses
//! or gives JSON that parses whenever the input did; adding the same again changes nothing;
//! removing with the returned records gives back the input byte for byte.

use mobigen_connectors::edit::json as edit_json;
use mobigen_connectors::edit::json::{
    APP_JSON, DepRequest, PluginRequest, add_dependencies, add_plugins, remove_dependencies,
    remove_plugins,
};
use serde_json::{Value, json};

use crate::fixtures::read;

fn json_ok(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok()
}

fn dep_requests(bits: usize) -> Vec<DepRequest> {
    let all = [
        ("@stripe/stripe-react-native", "0.64.0", false),
        ("react-native-purchases", "^9.2.0", false),
        ("expo", "~56.0.0", false),
        ("typescript", "~5.9.2", true),
        ("@types/react", "~19.2.2", true),
    ];
    all.iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0 || bits.is_multiple_of(32) && *i == 0)
        .map(|(_, (package, version, dev))| DepRequest {
            package: (*package).to_string(),
            version: (*version).to_string(),
            dev: *dev,
        })
        .collect()
}

fn plugin_requests(bits: usize) -> Vec<PluginRequest> {
    let all = [
        (
            "stripe",
            "@stripe/stripe-react-native",
            Some(json!({"merchantIdentifier": "merchant.com.x", "enableGooglePay": true})),
            false,
        ),
        (
            "onesignal",
            "onesignal-expo-plugin",
            Some(json!({"mode": "development"})),
            true,
        ),
        ("firebase", "@react-native-firebase/app", None, false),
        (
            "firebase",
            "expo-build-properties",
            Some(json!({"ios": {"useFrameworks": "static"}})),
            false,
        ),
        (
            "revenuecat",
            "expo-build-properties",
            Some(json!({"android": {"minSdkVersion": 24}})),
            false,
        ),
    ];
    all.iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0 || bits.is_multiple_of(32) && *i == 0)
        .map(|(_, (connector, name, options, first))| PluginRequest {
            connector: (*connector).to_string(),
            name: (*name).to_string(),
            options: options.clone(),
            first: *first,
        })
        .collect()
}

/// Inputs that reached the invariant checks.
pub static ACCEPTED: crate::Accepted = crate::Accepted::new();

/// Runs one input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let selector = usize::from(selector);
    let bits = selector / 3;
    match selector % 3 {
        0 => dependencies(text, &dep_requests(bits)),
        1 => plugins(text, &plugin_requests(bits)),
        _ => web_output(text),
    }
}

fn dependencies(text: &str, requests: &[DepRequest]) {
    let Ok((out, changes)) = add_dependencies(text, requests) else {
        return;
    };
    ACCEPTED.count();
    assert!(
        !json_ok(text) || json_ok(&out),
        "add_dependencies made invalid JSON of valid JSON:\n{out}"
    );
    let (again, _) = add_dependencies(&out, requests)
        .unwrap_or_else(|e| panic!("re-adding to our own output fails: {e}\n{out}"));
    assert_eq!(again, out, "add_dependencies is not idempotent");
    let back = remove_dependencies(&out, &changes)
        .unwrap_or_else(|e| panic!("removing from our own output fails: {e}\n{out}"));
    assert_eq!(back, text, "remove_dependencies does not restore the input");
}

fn plugins(text: &str, requests: &[PluginRequest]) {
    let pinned = ["onesignal-expo-plugin"];
    let Ok((out, changes)) = add_plugins(text, requests, &pinned) else {
        return;
    };
    ACCEPTED.count();
    assert!(
        !json_ok(text) || json_ok(&out),
        "add_plugins made invalid JSON of valid JSON:\n{out}"
    );
    let (again, _) = add_plugins(&out, requests, &pinned)
        .unwrap_or_else(|e| panic!("re-adding to our own output fails: {e}\n{out}"));
    assert_eq!(again, out, "add_plugins is not idempotent");
    let back = remove_plugins(&out, &changes, &[])
        .unwrap_or_else(|e| panic!("removing from our own output fails: {e}\n{out}"));
    assert_eq!(back, text, "remove_plugins does not restore the input");
}

fn web_output(text: &str) {
    let value = json!("server");
    let Ok((out, change)) = edit_json::set_expo_config(text, &["web", "output"], &value) else {
        return;
    };
    ACCEPTED.count();
    assert!(
        !json_ok(text) || json_ok(&out),
        "set_expo_config made invalid JSON of valid JSON:\n{out}"
    );
    let (again, _) = edit_json::set_expo_config(&out, &["web", "output"], &value)
        .unwrap_or_else(|e| panic!("setting again fails: {e}\n{out}"));
    assert_eq!(again, out, "set_expo_config is not idempotent");
    let back = edit_json::unset_path(APP_JSON, &out, &change)
        .unwrap_or_else(|e| panic!("unsetting fails: {e}\n{out}"));
    assert_eq!(back, text, "unset_path does not restore the input");
}

/// Seeds: the repository's package.json and app.json files, each with several selectors.
pub fn seeds() -> Vec<Vec<u8>> {
    let packages = [
        "examples/sample-app/package.json",
        "tests/fixtures/expo-app/package.json",
        "examples/node-server/package.json",
        "bindings/node/package.json",
    ];
    let apps = [
        "examples/sample-app/app.json",
        "tests/fixtures/expo-app/app.json",
    ];
    let mut out = Vec::new();
    for (files, kinds) in [(&packages[..], &[0u8][..]), (&apps[..], &[1u8, 2][..])] {
        for file in files {
            let bytes = read(file);
            for kind in kinds {
                for subset in [0u8, 5, 11, 31, 62] {
                    let mut input = vec![kind + 3 * subset];
                    input.extend(&bytes);
                    out.push(input);
                }
            }
        }
    }
    out
}
