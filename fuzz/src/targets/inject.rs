//! Injection invariants on arbitrary and mutated root files, for every connector and pair.
//!
//! Input: one selector byte, then the root file's bytes. The selector picks connector A
//! (`s % 5`), connector B (`s / 5 % 5`) and where the root lives (`s / 25 % 3`: `App.tsx` under
//! `expo/AppEntry`, the `index.ts` entry calling `registerRootComponent`, or an Expo Router
//! `app/_layout.tsx`). The rest of the project is `examples/sample-app`.
//!
//! Checked, in memory through `plan_add` / `plan_remove` and the plans' writes:
//! - I1: every file written parses (the root file included), and the original root text is a
//!   subsequence of the edited one; an input that does not parse is refused.
//! - I2: adding A again plans nothing.
//! - I3: removing A right after adding it restores every byte.
//! - I4: add A, add B, remove A equals add B alone; I5: add A then B equals add B then A.

use std::sync::OnceLock;

use mobigen_connectors::project::plan::{self, PlanKind, PlanOptions};

use crate::check::{differences, is_subsequence, parses, written_files_parse};
use crate::fixtures::{
    CONNECTORS, Files, apply, read_tree, registry, sample_app, sample_configs, snapshot,
};

/// Where the fuzzed root lives: (package.json `main`, root path).
const PLACEMENTS: [(&str, &str); 3] = [
    ("node_modules/expo/AppEntry.js", "App.tsx"),
    ("index.ts", "index.ts"),
    ("expo-router/entry", "app/_layout.tsx"),
];

/// The sample app with package.json `main` set for each placement (root file not included).
fn bases() -> &'static [Files; 3] {
    static BASES: OnceLock<[Files; 3]> = OnceLock::new();
    BASES.get_or_init(|| {
        PLACEMENTS.map(|(main, root)| {
            let mut files = sample_app().clone();
            let package = String::from_utf8(files["package.json"].clone()).expect("UTF-8");
            let package =
                package.replace("\"main\": \"index.ts\"", &format!("\"main\": \"{main}\""));
            files.insert("package.json".into(), package.into_bytes());
            files.remove(root);
            files
        })
    })
}

/// Inputs that reached the invariant checks.
pub static ACCEPTED: crate::Accepted = crate::Accepted::new();

/// Runs one input; panics when an invariant breaks.
pub fn run(data: &[u8]) {
    let Some((&selector, root)) = data.split_first() else {
        return;
    };
    let selector = usize::from(selector);
    let (a, b, placement) = (selector % 5, selector / 5 % 5, selector / 25 % 3);
    let root_path = PLACEMENTS[placement].1;
    let mut start = bases()[placement].clone();
    start.insert(root_path.to_string(), root.to_vec());
    let context = |what: &str| {
        format!(
            "{what} ({} then {}, root {root_path})",
            CONNECTORS[a], CONNECTORS[b]
        )
    };

    let Some(with_a) = add(&start, a) else {
        return; // refused as a whole: nothing is written (planning is pure)
    };
    ACCEPTED.count();
    written_files_parse(&start, &with_a, &context("add A"));
    if with_a.get(root_path) != start.get(root_path) {
        let text = std::str::from_utf8(root).expect("an edited root was UTF-8");
        assert!(
            parses(root_path, text),
            "{}: I1 broken: a root file that does not parse was edited",
            context("add A")
        );
        assert!(
            is_subsequence(root, &with_a[root_path]),
            "{}: the original root text is not a subsequence of the edited one",
            context("add A")
        );
    }

    // I2
    let again = plan::plan_add(
        registry(),
        &snapshot(&with_a),
        &sample_configs()[a],
        PlanOptions::default(),
    )
    .unwrap_or_else(|e| {
        panic!(
            "{}: I2 broken: adding again fails: {e}",
            context("add A twice")
        )
    });
    assert!(
        again.kind == PlanKind::UpToDate && again.changes.is_empty(),
        "{}: I2 broken: adding again changes {:?}",
        context("add A twice"),
        again.changes.iter().map(|c| &c.path).collect::<Vec<_>>()
    );

    // I3
    let removed = remove(&with_a, a)
        .unwrap_or_else(|e| panic!("{}: I3 broken: remove fails: {e}", context("remove A")));
    assert!(
        removed == start,
        "{}: I3 broken: files differ after remove: {:?}",
        context("remove A"),
        differences(&start, &removed)
    );

    if a == b {
        return;
    }
    // I4 and I5
    let b_alone = add(&start, b);
    let a_then_b = add(&with_a, b);
    let (Some(b_alone), Some(a_then_b)) = (b_alone, a_then_b) else {
        // The same root and project: B is refused alone exactly when it is refused after A.
        assert!(
            add(&start, b).is_none() && add(&with_a, b).is_none(),
            "{}: I4 broken: B is refused in one order only",
            context("add B")
        );
        return;
    };
    written_files_parse(&with_a, &a_then_b, &context("add B after A"));
    let without_a = remove(&a_then_b, a)
        .unwrap_or_else(|e| panic!("{}: I4 broken: remove A fails: {e}", context("remove A")));
    assert!(
        without_a == b_alone,
        "{}: I4 broken: add A, add B, remove A differs from add B alone in {:?}",
        context("I4"),
        differences(&b_alone, &without_a)
    );
    let b_then_a = add(&b_alone, a).unwrap_or_else(|| {
        panic!(
            "{}: I5 broken: A is refused after B only",
            context("add A after B")
        )
    });
    assert!(
        b_then_a == a_then_b,
        "{}: I5 broken: the order of adding changes {:?}",
        context("I5"),
        differences(&a_then_b, &b_then_a)
    );
}

fn add(files: &Files, connector: usize) -> Option<Files> {
    plan::plan_add(
        registry(),
        &snapshot(files),
        &sample_configs()[connector],
        PlanOptions::default(),
    )
    .ok()
    .map(|p| apply(files, &p))
}

fn remove(files: &Files, connector: usize) -> Result<Files, plan::PlanError> {
    plan::plan_remove(
        registry(),
        &snapshot(files),
        CONNECTORS[connector],
        PlanOptions::default(),
    )
    .map(|p| apply(files, &p))
}

/// Seeds: every root-file fixture of the injector's corpus (placed by its shape), the sample
/// app's roots and the toolchain fixture's layout, with selectors that cycle through the pairs.
pub fn seeds() -> Vec<Vec<u8>> {
    let mut roots: Vec<(usize, Vec<u8>)> = Vec::new();
    for (path, bytes) in read_tree("crates/mobigen-connectors/tests/fixtures/roots") {
        let placement = if path.contains("register-root-component") || path.contains("app-registry")
        {
            1
        } else if path.contains("expo-router") {
            2
        } else {
            0
        };
        roots.push((placement, bytes));
    }
    roots.push((0, sample_app()["App.tsx"].clone()));
    roots.push((1, sample_app()["index.ts"].clone()));
    for (path, bytes) in read_tree("tests/fixtures/expo-app/app") {
        if path.ends_with("_layout.tsx") {
            roots.push((2, bytes));
        }
    }
    roots
        .into_iter()
        .enumerate()
        .map(|(i, (placement, bytes))| {
            let selector = u8::try_from(placement * 25 + (i * 7) % 25).unwrap_or(0);
            let mut input = vec![selector];
            input.extend(bytes);
            input
        })
        .collect()
}
