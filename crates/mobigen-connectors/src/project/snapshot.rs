//! The project model: an Expo project's files, read once into a [`ProjectSnapshot`] that planning
//! works on without further IO, and where its root component lives.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::catalog::registry::Registry;
use crate::project::generate::{ProjectLayout, ROOT_MODULE};

/// The lock file recording what the library added to a project.
pub const LOCK_FILE: &str = ".mobigen/connectors.lock.json";

/// Why a project cannot be read or understood.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// The project folder or one of its files cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No package.json: not a JavaScript project.
    #[error("{}: no package.json; point --project at the root folder of the Expo app", dir.display())]
    NotAProject {
        /// The folder.
        dir: PathBuf,
    },
    /// A text file is not UTF-8.
    #[error("{path}: not UTF-8 text")]
    NotUtf8 {
        /// The file, relative to the project.
        path: String,
    },
    /// A JSON file does not parse.
    #[error("{path}:{line}:{column}: not valid JSON: {message}")]
    Json {
        /// The file, relative to the project.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The folder is the root of a monorepo (npm/yarn/pnpm workspaces), not an Expo app.
    #[error(
        "{}: this is the root of a monorepo (it has {marker}) with no `expo` dependency of its own, not an Expo app; {}",
        dir.display(),
        monorepo_advice(apps, patterns)
    )]
    MonorepoRoot {
        /// The folder.
        dir: PathBuf,
        /// What makes it a workspace root (`package.json "workspaces"`, `pnpm-workspace.yaml`).
        marker: String,
        /// The Expo apps found below it (folders whose package.json depends on `expo`),
        /// relative to it with `/`.
        apps: Vec<String>,
        /// The folder patterns that were searched.
        patterns: Vec<String>,
    },
    /// A path the library reads goes through a symbolic link that leads out of the project.
    #[error(
        "refusing to read `{path}`: `{link}` is a symbolic link to {}, outside the project; replace the link with the folder or file itself",
        target.display()
    )]
    SymlinkOutside {
        /// The file to read, relative to the project.
        path: String,
        /// The link on the way, relative to the project.
        link: String,
        /// Where it leads.
        target: PathBuf,
    },
    /// The root component cannot be found.
    #[error("{reason}")]
    RootNotFound {
        /// What was looked for, and what to do.
        reason: String,
    },
}

fn monorepo_advice(apps: &[String], patterns: &[String]) -> String {
    match apps {
        [] => format!(
            "no Expo app (a folder whose package.json depends on `expo`) was found in {}; point --project at the app's folder",
            patterns.join(", ")
        ),
        [one] => format!("point --project at the app's folder: {one}"),
        more => format!(
            "point --project at one of the app folders found below it: {}",
            more.join(", ")
        ),
    }
}

/// The files of a project that planning may look at, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectSnapshot {
    files: BTreeMap<String, Vec<u8>>,
    absent: BTreeSet<String>,
}

const SOURCE_EXTENSIONS: [&str; 4] = ["tsx", "ts", "jsx", "js"];

/// The index routes that mark an Expo Router app without a root layout, in Expo Router's order.
const ROUTER_INDEX_STEMS: [&str; 2] = ["src/app/index", "app/index"];

/// Follows `relative` from `root` (the project's real path) component by component: each
/// symbolic link on the way must lead to a place inside the project. A link that leads nowhere
/// is left to the read (the file is absent).
fn check_inside(root: &Path, relative: &str) -> Result<(), ProjectError> {
    let mut current = root.to_path_buf();
    let parts: Vec<&str> = relative.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let candidate = current.join(part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let Ok(real) = candidate.canonicalize() else {
                    return Ok(());
                };
                if !real.starts_with(root) {
                    return Err(ProjectError::SymlinkOutside {
                        path: relative.to_string(),
                        link: parts[..=i].join("/"),
                        target: real,
                    });
                }
                current = real;
            }
            Ok(_) => current = candidate,
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

impl ProjectSnapshot {
    /// A snapshot from in-memory files (tests, hosts that hold the project themselves).
    pub fn from_files(files: impl IntoIterator<Item = (String, Vec<u8>)>) -> ProjectSnapshot {
        ProjectSnapshot {
            files: files.into_iter().collect(),
            absent: BTreeSet::new(),
        }
    }

    /// Reads the files of `dir` that adding or removing `registry`'s connectors can involve:
    /// package.json, app.json, app.config.*, env files, .gitignore, the lock file, the entry and
    /// root candidates, the root module, and every template and config file target.
    ///
    /// A symbolic link is followed only while it stays inside the project.
    ///
    /// # Errors
    /// [`ProjectError::NotAProject`] without a package.json; [`ProjectError::Io`] when a file
    /// exists but cannot be read; [`ProjectError::SymlinkOutside`] when a path to read goes
    /// through a symbolic link that leads out of the project.
    pub fn read(dir: &Path, registry: &Registry) -> Result<ProjectSnapshot, ProjectError> {
        if !dir.join("package.json").is_file() {
            if !dir.is_dir() {
                return Err(ProjectError::Io {
                    path: dir.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
                });
            }
            return Err(ProjectError::NotAProject {
                dir: dir.to_path_buf(),
            });
        }
        let mut wanted: BTreeSet<String> = [
            "package.json",
            "app.json",
            "app.config.js",
            "app.config.ts",
            "app.config.mjs",
            "app.config.cjs",
            ".env",
            ".env.local",
            ".gitignore",
            LOCK_FILE,
            ROOT_MODULE,
        ]
        .into_iter()
        .map(String::from)
        .collect();
        for stem in [
            "App",
            "src/App",
            "index",
            "app/_layout",
            "src/app/_layout",
            "app/index",
            "src/app/index",
        ] {
            for ext in SOURCE_EXTENSIONS {
                wanted.insert(format!("{stem}.{ext}"));
            }
        }
        for connector in registry.list(None) {
            for template in &connector.definition().templates {
                wanted.insert(template.target.clone());
                for server_dir in ["app", "src/app", "server"] {
                    wanted.insert(format!("{server_dir}/{}", template.target));
                }
            }
            for file in &connector.definition().config_files {
                wanted.insert(file.target.clone());
            }
            for file in &connector.definition().supplied_files {
                wanted.insert(file.target.clone());
            }
        }
        let mut snapshot = ProjectSnapshot::default();
        let root = dir.canonicalize().map_err(|source| ProjectError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        snapshot.read_paths(dir, &root, wanted)?;
        snapshot.refuse_monorepo_root(dir)?;
        // The entry file named by package.json `main`, and files the lock file lists.
        let mut more = BTreeSet::new();
        if let Some(main) = snapshot.package_main()? {
            more.extend(entry_candidates(&main));
        }
        if let Some(lock) = snapshot.text(LOCK_FILE)? {
            more.extend(lock_file_paths(lock));
        }
        more.retain(|p| !snapshot.files.contains_key(p) && !snapshot.absent.contains(p));
        snapshot.read_paths(dir, &root, more)?;
        Ok(snapshot)
    }

    /// Refuses a monorepo root (package.json `workspaces` or a `pnpm-workspace.yaml`, and no
    /// `expo` dependency of its own), naming the Expo apps found below it.
    fn refuse_monorepo_root(&self, dir: &Path) -> Result<(), ProjectError> {
        let package = self.json("package.json")?.unwrap_or(Value::Null);
        if depends_on_expo(&package) {
            return Ok(());
        }
        let mut patterns: Vec<String> = Vec::new();
        let mut marker = None;
        let listed = match package.get("workspaces") {
            Some(Value::Array(items)) => Some(items),
            Some(Value::Object(map)) => map.get("packages").and_then(Value::as_array),
            _ => None,
        };
        if let Some(items) = listed {
            marker = Some("package.json \"workspaces\"".to_string());
            patterns.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("pnpm-workspace.yaml")) {
            marker.get_or_insert_with(|| "pnpm-workspace.yaml".to_string());
            patterns.extend(pnpm_workspace_patterns(&text));
        }
        let Some(marker) = marker else {
            return Ok(());
        };
        for default in ["apps/*", "packages/*"] {
            if !patterns.iter().any(|p| p == default) {
                patterns.push(default.to_string());
            }
        }
        let mut apps = BTreeSet::new();
        for pattern in &patterns {
            for folder in pattern_folders(dir, pattern) {
                let Ok(text) = std::fs::read_to_string(dir.join(&folder).join("package.json"))
                else {
                    continue;
                };
                if serde_json::from_str::<Value>(&text).is_ok_and(|p| depends_on_expo(&p)) {
                    apps.insert(folder);
                }
            }
        }
        Err(ProjectError::MonorepoRoot {
            dir: dir.to_path_buf(),
            marker,
            apps: apps.into_iter().collect(),
            patterns,
        })
    }

    /// Reads `paths` (relative to `dir`, whose real path is `root`); a path through a symbolic
    /// link that leads out of the project is refused.
    fn read_paths(
        &mut self,
        dir: &Path,
        root: &Path,
        paths: impl IntoIterator<Item = String>,
    ) -> Result<(), ProjectError> {
        for path in paths {
            if !crate::catalog::manifest_check::is_safe_relative_path(&path) {
                continue;
            }
            check_inside(root, &path)?;
            let full = dir.join(&path);
            match std::fs::read(&full) {
                Ok(bytes) => {
                    self.files.insert(path, bytes);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) || full.is_dir() =>
                {
                    self.absent.insert(path);
                }
                Err(source) => return Err(ProjectError::Io { path: full, source }),
            }
        }
        Ok(())
    }

    /// The bytes of a file, if it exists.
    pub fn bytes(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Whether a file exists.
    pub fn exists(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The text of a file, if it exists.
    ///
    /// # Errors
    /// [`ProjectError::NotUtf8`] when it is not UTF-8.
    pub fn text(&self, path: &str) -> Result<Option<&str>, ProjectError> {
        self.bytes(path)
            .map(|b| {
                std::str::from_utf8(b).map_err(|_| ProjectError::NotUtf8 {
                    path: path.to_string(),
                })
            })
            .transpose()
    }

    /// A JSON file parsed, if it exists.
    ///
    /// # Errors
    /// [`ProjectError::Json`] with line and column when it does not parse.
    pub fn json(&self, path: &str) -> Result<Option<Value>, ProjectError> {
        let Some(text) = self.text(path)? else {
            return Ok(None);
        };
        serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
            .map(Some)
            .map_err(|e| ProjectError::Json {
                path: path.to_string(),
                line: e.line(),
                column: e.column(),
                message: e
                    .to_string()
                    .rsplit_once(" at line ")
                    .map_or(e.to_string(), |(m, _)| m.to_string()),
            })
    }

    fn package_main(&self) -> Result<Option<String>, ProjectError> {
        Ok(self
            .json("package.json")?
            .and_then(|p| p.get("main").and_then(Value::as_str).map(str::to_string)))
    }

    /// The dynamic app config file (`app.config.js` / `.ts` ...), if the project has one.
    pub fn dynamic_app_config(&self) -> Option<&str> {
        [
            "app.config.ts",
            "app.config.js",
            "app.config.mjs",
            "app.config.cjs",
        ]
        .into_iter()
        .find(|p| self.exists(p))
    }

    /// Where the project's root component is, from package.json `main`.
    ///
    /// # Errors
    /// [`ProjectError::RootNotFound`] naming what was looked for; JSON errors of package.json.
    pub fn root(&self) -> Result<RootLocation, ProjectError> {
        let main = self.package_main()?;
        let main = main.as_deref().map(|m| m.trim_start_matches("./"));
        let pick = |stems: &[&str], kind: RootKind| -> Result<RootLocation, ProjectError> {
            stems
                .iter()
                .flat_map(|stem| {
                    SOURCE_EXTENSIONS
                        .iter()
                        .map(move |ext| format!("{stem}.{ext}"))
                })
                .find(|p| self.exists(p))
                .map(|file| RootLocation { file, kind })
                .ok_or_else(|| ProjectError::RootNotFound {
                    reason: format!(
                        "package.json `main` is {}, but none of {} exists; create the root \
                         component or fix `main`",
                        main.map_or("not set".to_string(), |m| format!("`{m}`")),
                        stems
                            .iter()
                            .chain(if kind == RootKind::RouterLayout {
                                ROUTER_INDEX_STEMS.as_slice()
                            } else {
                                <&[&str]>::default()
                            })
                            .flat_map(|stem| {
                                SOURCE_EXTENSIONS
                                    .iter()
                                    .map(move |ext| format!("{stem}.{ext}"))
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
        };
        match main {
            None | Some("expo/AppEntry.js" | "node_modules/expo/AppEntry.js" | "expo/AppEntry") => {
                pick(&["App"], RootKind::Component)
            }
            Some("expo-router/entry" | "expo-router/entry.js") => {
                pick(&["app/_layout", "src/app/_layout"], RootKind::RouterLayout).or_else(
                    |not_found| {
                        // The root layout is optional: an app with routes but no layout gets
                        // one (owned, created with the first connector).
                        match self.router_dir_without_layout() {
                            Some(dir) => Ok(RootLocation {
                                file: format!("{dir}/_layout.tsx"),
                                kind: RootKind::CreatedLayout,
                            }),
                            None => Err(not_found),
                        }
                    },
                )
            }
            Some(entry) => {
                let candidates = entry_candidates(entry);
                let found = candidates.iter().find(|p| self.exists(p)).cloned();
                found
                    .map(|file| RootLocation {
                        file,
                        kind: RootKind::Entry,
                    })
                    .ok_or_else(|| ProjectError::RootNotFound {
                        reason: format!(
                            "package.json `main` is `{entry}`, but none of {} exists in the \
                             project; create the entry file or fix `main`",
                            candidates.join(", ")
                        ),
                    })
            }
        }
    }

    /// The Expo Router folder of an app without a root layout: `src/app` or `app`, the first
    /// that holds an index route (Expo Router prefers `src/app`).
    fn router_dir_without_layout(&self) -> Option<&'static str> {
        ROUTER_INDEX_STEMS
            .iter()
            .find(|stem| {
                SOURCE_EXTENSIONS
                    .iter()
                    .any(|ext| self.exists(&format!("{stem}.{ext}")))
            })
            .and_then(|stem| stem.strip_suffix("/index"))
    }

    /// The project's layout: whether it uses Expo Router, and where.
    ///
    /// # Errors
    /// JSON errors of package.json.
    pub fn layout(&self) -> Result<ProjectLayout, ProjectError> {
        let uses_router = self
            .package_main()?
            .is_some_and(|m| m.starts_with("expo-router/entry"));
        let router_dir = uses_router.then(|| {
            let has = |stem: &str| {
                SOURCE_EXTENSIONS
                    .iter()
                    .any(|ext| self.exists(&format!("{stem}.{ext}")))
            };
            if has("src/app/_layout") {
                "src/app".to_string()
            } else if has("app/_layout") {
                "app".to_string()
            } else {
                self.router_dir_without_layout()
                    .unwrap_or("app")
                    .to_string()
            }
        });
        let nativewind = self.json("package.json")?.is_some_and(|package| {
            ["dependencies", "devDependencies"]
                .iter()
                .any(|key| package.get(key).and_then(|d| d.get("nativewind")).is_some())
        });
        Ok(ProjectLayout {
            router_dir,
            nativewind,
        })
    }

    /// Paths of every file in the snapshot (for tests and diagnostics).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

/// Whether a parsed package.json lists `expo` in `dependencies` or `devDependencies`.
fn depends_on_expo(package: &Value) -> bool {
    ["dependencies", "devDependencies"]
        .iter()
        .any(|key| package.get(key).and_then(|d| d.get("expo")).is_some())
}

/// The package folder patterns of a `pnpm-workspace.yaml` (its `packages:` list).
fn pnpm_workspace_patterns(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_packages = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if !line.starts_with([' ', '\t', '-']) {
            in_packages = trimmed.trim_end_matches(':') == "packages";
            continue;
        }
        if in_packages && let Some(item) = trimmed.strip_prefix('-') {
            let item = item.trim().trim_matches(|c| c == '\'' || c == '"');
            if !item.is_empty() {
                out.push(item.to_string());
            }
        }
    }
    out
}

/// The folders (relative, with `/`) a workspace pattern names: `apps/*` (and `apps/**`) is
/// every folder directly in `apps`, other patterns name one folder; `!` exclusions and
/// patterns leaving the project are skipped.
fn pattern_folders(dir: &Path, pattern: &str) -> Vec<String> {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    if pattern.starts_with('!') || pattern.split('/').any(|part| part == "..") {
        return Vec::new();
    }
    let base = pattern
        .strip_suffix("/**")
        .or_else(|| pattern.strip_suffix("/*"));
    let Some(base) = base else {
        return if pattern.contains('*') || !dir.join(pattern).is_dir() {
            Vec::new()
        } else {
            vec![pattern.to_string()]
        };
    };
    if base.contains('*') {
        return Vec::new();
    }
    let Ok(entries) = std::fs::read_dir(dir.join(base)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| name != "node_modules" && !name.starts_with('.'))
        .map(|name| format!("{base}/{name}"))
        .collect();
    out.sort();
    out
}

/// Where the root component is and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootLocation {
    /// The file to edit, relative to the project root.
    pub file: String,
    /// How the app reaches it.
    pub kind: RootKind,
}

/// How the app reaches its root component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    /// `App.*`, default-exported, loaded by `expo/AppEntry.js`.
    Component,
    /// Expo Router's root layout (`app/_layout.*`), default-exported.
    RouterLayout,
    /// An Expo Router app without a root layout (the layout is optional): the library creates
    /// `app/_layout.tsx` (or `src/app/_layout.tsx`) rendering `<Slot />` inside the connectors'
    /// wrap, and deletes it with the last connector.
    CreatedLayout,
    /// A custom entry file (package.json `main`), usually calling `registerRootComponent(App)`.
    Entry,
}

/// The files `main` may name: itself, or with a source extension added.
fn entry_candidates(main: &str) -> Vec<String> {
    let main = main.trim_start_matches("./").to_string();
    if SOURCE_EXTENSIONS
        .iter()
        .any(|ext| main.ends_with(&format!(".{ext}")))
    {
        vec![main]
    } else {
        SOURCE_EXTENSIONS
            .iter()
            .map(|ext| format!("{main}.{ext}"))
            .collect()
    }
}

/// Every string value in the lock file that looks like a project path (owned files, the root
/// file), so a snapshot includes them.
fn lock_file_paths(text: &str) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if crate::catalog::manifest_check::is_safe_relative_path(key)
                        && key.contains('.')
                    {
                        out.push(key.clone());
                    }
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::String(s)
                if crate::catalog::manifest_check::is_safe_relative_path(s) && s.contains('.') =>
            {
                out.push(s.clone());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        walk(&value, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(files: &[(&str, &str)]) -> ProjectSnapshot {
        ProjectSnapshot::from_files(
            files
                .iter()
                .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())),
        )
    }

    #[test]
    fn root_from_main() {
        let s = snap(&[
            ("package.json", r#"{"main": "index.ts"}"#),
            ("index.ts", ""),
            ("App.tsx", ""),
        ]);
        assert_eq!(
            s.root().expect("root"),
            RootLocation {
                file: "index.ts".into(),
                kind: RootKind::Entry
            }
        );
        let s = snap(&[
            ("package.json", r#"{"main": "./src/main"}"#),
            ("src/main.js", ""),
        ]);
        assert_eq!(s.root().expect("root").file, "src/main.js");
        let s = snap(&[("package.json", r#"{"name": "x"}"#), ("App.js", "")]);
        assert_eq!(
            s.root().expect("root"),
            RootLocation {
                file: "App.js".into(),
                kind: RootKind::Component
            }
        );
        let s = snap(&[
            ("package.json", r#"{"main": "expo-router/entry"}"#),
            ("src/app/_layout.tsx", ""),
        ]);
        assert_eq!(
            s.root().expect("root"),
            RootLocation {
                file: "src/app/_layout.tsx".into(),
                kind: RootKind::RouterLayout
            }
        );
        assert_eq!(
            s.layout().expect("layout").router_dir.as_deref(),
            Some("src/app")
        );
    }

    #[test]
    fn missing_root_is_a_clear_error() {
        let s = snap(&[("package.json", r#"{"main": "expo-router/entry"}"#)]);
        let err = s.root().expect_err("no layout").to_string();
        // Every file looked for is named, not only the .tsx ones (issue 16).
        assert!(
            err.contains("app/_layout.tsx, app/_layout.ts, app/_layout.jsx, app/_layout.js, src/app/_layout.tsx"),
            "{err}"
        );
        let s = snap(&[("package.json", r#"{"main": "index.js"}"#)]);
        assert!(
            s.root()
                .expect_err("no entry")
                .to_string()
                .contains("`index.js`")
        );
    }

    #[test]
    fn malformed_package_json_names_line_and_column() {
        let s = snap(&[("package.json", "{\n  \"main\": ,\n}")]);
        let err = s.root().expect_err("json").to_string();
        assert!(
            err.starts_with("package.json:2:11: not valid JSON"),
            "{err}"
        );
    }
}
