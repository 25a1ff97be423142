//! Connector definitions: the data a connector folder's `manifest.json` holds.
//!
//! The JSON form uses the PRD's field names (camelCase). Every manifest is checked against the
//! meta-schema `connectors/schema.json` and then for the rules a
//! JSON Schema cannot say (every config field classified, pointers that resolve, env names that keep
//! secrets out of the client bundle).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A connector: what it is, what it needs from the user, and what it adds to an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectorDefinition {
    /// Path of the meta-schema, for editors (`../schema.json`); ignored by the library.
    #[serde(rename = "$schema", default, skip_serializing)]
    pub meta_schema: Option<String>,
    /// Stable identifier, lowercase (`stripe`).
    pub id: String,
    /// Display name (`Stripe`).
    pub name: String,
    /// One-sentence description.
    pub description: String,
    /// Marketplace category.
    pub category: Category,
    /// Logo URL.
    pub logo: String,
    /// How hard the setup is for a user.
    pub setup_difficulty: SetupDifficulty,
    /// Ways the user can authenticate; the first is the default.
    pub auth_types: Vec<AuthType>,
    /// JSON Schema (draft 2020-12) of the connector's config.
    pub config_schema: Value,
    /// Every config field, keyed by JSON pointer (`/secretKey`), with its sensitivity and env name.
    pub fields: BTreeMap<String, ConfigField>,
    /// What the connector can do (`payments`, `subscriptions`).
    pub capabilities: Vec<String>,
    /// Optional features, switched on by the config.
    #[serde(default)]
    pub features: Vec<Feature>,
    /// npm packages the app needs.
    pub dependencies: Vec<Dependency>,
    /// Entries for `expo.plugins` in app.json.
    #[serde(default)]
    pub plugins: Vec<PluginEntry>,
    /// Files generated into the app.
    #[serde(default)]
    pub templates: Vec<Template>,
    /// Files written verbatim from a config value (`google-services.json`), with the app.json
    /// setting that points at them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<ConfigFile>,
    /// Files whose contents the host supplies when it adds the connector, usually fetched from
    /// the live service (the Supabase `Database` types).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supplied_files: Vec<SuppliedFile>,
    /// What the connector adds to the generated root module (providers, start-up code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<RootContribution>,
    /// Cross-field config rules that a JSON Schema cannot express.
    #[serde(default)]
    pub rules: Vec<ConfigRule>,
    /// Live checks that the credentials work (executed by the network layer).
    #[serde(default)]
    pub validation: Vec<HttpCheck>,
    /// Test actions a user can run against the live service.
    #[serde(default)]
    pub test_actions: Vec<TestAction>,
    /// Base URL of the service's API (`{{apiBase}}`); overridable per host and by
    /// `MOBIGEN_<ID>_API_BASE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
    /// Config field holding the base URL instead of `apiBase` (Supabase: `/projectUrl`). The
    /// value is user input, so the network layer checks it (https, public address) and names
    /// this field when it is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base_field: Option<String>,
    /// Further named base URLs (`firestore` -> `{{apiBase.firestore}}`), each overridable by
    /// `MOBIGEN_<ID>_<NAME>_API_BASE`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_bases: BTreeMap<String, String>,
    /// Server-only environment variables the connector's server routes read that are not config
    /// fields (an admin token); the deployment step names them. Never `EXPO_PUBLIC_*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_env: Vec<String>,
    /// Connector documentation.
    pub docs_url: String,
    /// Setup guide at the service.
    pub setup_guide_url: String,
}

/// Marketplace category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Category {
    /// Payments and checkout.
    Payments,
    /// Sign-in and identity.
    Auth,
    /// Databases and backends.
    Database,
    /// In-app purchases and subscriptions.
    Iap,
    /// Push notifications.
    Push,
    /// Product analytics.
    Analytics,
    /// File storage.
    Storage,
    /// Email and SMS messaging.
    Messaging,
    /// Error and performance monitoring.
    Monitoring,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 9] = [
        Category::Payments,
        Category::Auth,
        Category::Database,
        Category::Iap,
        Category::Push,
        Category::Analytics,
        Category::Storage,
        Category::Messaging,
        Category::Monitoring,
    ];

    /// The JSON / command-line spelling (`payments`).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Payments => "payments",
            Category::Auth => "auth",
            Category::Database => "database",
            Category::Iap => "iap",
            Category::Push => "push",
            Category::Analytics => "analytics",
            Category::Storage => "storage",
            Category::Messaging => "messaging",
            Category::Monitoring => "monitoring",
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!("unknown category `{s}`; known: {}", known.join(", "))
            })
    }
}

/// How hard the setup is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetupDifficulty {
    /// Paste a key or two.
    Easy,
    /// Several values or a console visit.
    Medium,
    /// Native configuration, several consoles.
    Advanced,
}

/// A way to authenticate a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthType {
    /// OAuth 2.0 authorization code flow.
    Oauth,
    /// Pasted API keys.
    ApiKey,
    /// Pasted config JSON (Firebase console).
    ConfigJson,
    /// Manual setup outside the library.
    Manual,
}

/// Whether a config value may reach the client bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// May be bundled (publishable keys, app ids, feature flags).
    Public,
    /// Server-only; encrypted at rest, never in source code or `EXPO_PUBLIC_*`.
    Secret,
}

/// Classification of one config field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigField {
    /// Public or secret.
    pub sensitivity: Sensitivity,
    /// Environment variable the value is written to, if any. Public values use `EXPO_PUBLIC_*`;
    /// secret values must not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
    /// Where to find the value and what it looks like; shown when the value is missing or wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// How a string value is normalised before validation (`USD` -> `usd`), so that a value
    /// the service accepts in either case is not refused for its case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<Normalize>,
}

/// A normalisation of a string config value, applied before the schema is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Lower case (Stripe currencies: `usd`).
    Lowercase,
    /// Upper case (country codes: `US`).
    Uppercase,
    /// Leading and trailing white space removed.
    Trim,
}

impl Normalize {
    /// `text` normalised.
    pub fn apply(self, text: &str) -> String {
        match self {
            Self::Lowercase => text.trim().to_lowercase(),
            Self::Uppercase => text.trim().to_uppercase(),
            Self::Trim => text.trim().to_string(),
        }
    }
}

/// An optional feature, on when its condition holds for the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Feature {
    /// Identifier referenced by `when` lists (`auth`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What the feature adds.
    pub description: String,
    /// When the feature is on.
    pub enabled_when: Condition,
}

/// A condition on the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    /// JSON pointer into the config.
    pub pointer: String,
    /// Holds when the value equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    /// Holds when the value is an array containing this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<Value>,
    /// Holds when the value is present (`true`) or absent (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// Holds when the value is a string matching this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
}

impl Condition {
    /// Whether the condition holds for `config`. A missing value only satisfies `exists: false`.
    pub fn holds(&self, config: &Value) -> bool {
        let value = config.pointer(&self.pointer).filter(|v| !v.is_null());
        if let Some(exists) = self.exists
            && exists != value.is_some()
        {
            return false;
        }
        let Some(value) = value else {
            return self.exists == Some(false);
        };
        let equals_ok = self.equals.as_ref().is_none_or(|e| e == value);
        let contains_ok = self
            .contains
            .as_ref()
            .is_none_or(|c| value.as_array().is_some_and(|items| items.contains(c)));
        let matches_ok = self.matches.as_ref().is_none_or(|pattern| {
            // Patterns are compiled when the manifest is loaded, so this cannot fail for a
            // registered connector; an invalid one never holds.
            regex::Regex::new(pattern)
                .is_ok_and(|re| value.as_str().is_some_and(|s| re.is_match(s)))
        });
        equals_ok && contains_ok && matches_ok
    }
}

/// An npm dependency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Dependency {
    /// Package name.
    pub package: String,
    /// Version per Expo SDK major (`"56": "0.64.0"`), from Expo's bundled native modules list
    /// where the package is listed, otherwise the tested version.
    #[serde(default)]
    pub sdk_versions: BTreeMap<String, String>,
    /// Range used when the project's SDK is not in `sdkVersions`.
    pub default_range: String,
    /// `devDependencies` instead of `dependencies`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// Features that must all be on for this dependency (empty: always).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
}

impl Dependency {
    /// The version to install for an Expo SDK major, falling back to the default range.
    pub fn version_for_sdk(&self, sdk_major: Option<u32>) -> &str {
        sdk_major
            .and_then(|major| self.sdk_versions.get(&major.to_string()))
            .unwrap_or(&self.default_range)
    }
}

/// An `expo.plugins` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PluginEntry {
    /// Plugin name (`@stripe/stripe-react-native`).
    pub name: String,
    /// Plugin options. A string `{{/pointer}}` is replaced by that (public) config value, and the
    /// option is left out when the value is absent; `{{feature.ID}}` becomes `true` or `false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
    /// Must be the first plugin (OneSignal's requirement).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    /// Features that must all be on for this entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
}

/// Kind of generated file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateKind {
    /// Client service module (`src/services/`).
    Service,
    /// UI component or screen (`src/components/`).
    Component,
    /// Configuration module (`src/config/`).
    Config,
    /// TypeScript types.
    Types,
    /// Server-only code (API routes, request handlers).
    Server,
    /// A server-only module that the connector's API routes import (`{%module PATH%}`), at
    /// `target` relative to the project root: outside the router folder, where Expo Router would
    /// take it for a screen. Never imported by app code, so never bundled into the app.
    #[serde(rename = "serverModule")]
    ServerModule,
    /// A screen route of an Expo Router app, `target` relative to the router folder (`app/` or
    /// `src/app/`); not generated in an app without Expo Router. For the deep links the
    /// connector's code creates (`<scheme>://auth-callback`): the router opens them as routes.
    Route,
}

impl TemplateKind {
    /// Whether the file runs on the server only (it may read server-only variables).
    pub fn is_server(self) -> bool {
        matches!(self, Self::Server | Self::ServerModule)
    }
}

/// A file generated into the app from a template in the connector folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Template {
    /// Template path relative to the connector folder (`templates/services/stripe.ts`).
    pub source: String,
    /// Path in the app, relative to the project root (`src/services/stripe.ts`). For `server`
    /// templates it is relative to the project's server folder: `app/` under Expo Router (API
    /// routes), `server/` otherwise (`api/stripe/payment-intent+api.ts`).
    pub target: String,
    /// What the file is.
    pub kind: TemplateKind,
    /// Features that must all be on for this file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<String>,
}

/// A file the connector writes from a config value, such as the `google-services.json` a user
/// pasted, and the Expo config setting that points at it (`android.googleServicesFile`). The
/// file is owned like a generated one: recorded with its hash in the lock file, deleted on
/// removal unless the user changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    /// JSON pointer of the (public, string) config field holding the file's contents.
    pub field: String,
    /// Path in the app, relative to the project root (`google-services.json`).
    pub target: String,
    /// Keys inside the Expo config set to `./<target>` (`["android", "googleServicesFile"]`).
    pub app_json: Vec<String>,
}

/// A generated file whose body the host supplies, such as the `Database` types of a Supabase
/// project. The plan parses it as TypeScript, adds the generated-file header, and owns it like
/// a template's file; a later plan that does not supply it again keeps it while it is
/// unmodified. Templates test for it with `//#if supplied.ID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SuppliedFile {
    /// Id used by hosts and in template conditions (`databaseTypes`).
    pub id: String,
    /// Path in the app, relative to the project root (`src/types/supabase-database.ts`).
    pub target: String,
    /// What the file holds and how to produce it.
    pub description: String,
    /// The network layer's fetcher that produces it from the live service, if any:
    /// `supabaseTypes` (the project's `Database` types from the Management API or the REST
    /// API's OpenAPI document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetcher: Option<String>,
}

/// A connector's part of the generated root module (`src/connectors.tsx`), which wraps the app's
/// root component in every enabled connector's provider and runs their start-up code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RootContribution {
    /// Provider nesting: a lower order wraps outside a higher one; ties go by connector id.
    #[serde(default)]
    pub order: i32,
    /// Import statements, with paths relative to the generated module's folder (`src/`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
    /// A provider wrapping the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderWrap>,
    /// Statements run once when the app loads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub startup: Vec<String>,
}

impl<'p> From<&'p RootContribution> for crate::edit::code::root_module::RootPart<'p> {
    fn from(root: &'p RootContribution) -> Self {
        Self {
            imports: &root.imports,
            startup: &root.startup,
            provider: root
                .provider
                .as_ref()
                .map(|p| (p.open.as_str(), p.close.as_str())),
        }
    }
}

/// The opening and closing JSX of a provider (`<StripeProvider ...>` / `</StripeProvider>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderWrap {
    /// Opening tag, with its props.
    pub open: String,
    /// Closing tag.
    pub close: String,
}

/// A cross-field config rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum ConfigRule {
    /// The values at `fields` must all match `pattern` with the same capture group `group`
    /// (Stripe: `pk_test_` and `sk_test_` are both in test mode).
    SameCapture {
        /// JSON pointers of the fields compared; absent fields are skipped.
        fields: Vec<String>,
        /// Regular expression with at least one capture group.
        pattern: String,
        /// Capture group compared (1-based).
        group: usize,
        /// Message when they differ.
        message: String,
        /// What to do about it.
        suggestion: String,
    },
    /// A JWT at `field` must not carry `claim` equal to any of `forbidden` (a legacy Supabase
    /// `service_role` key given as the public key). Values that are not JWTs are skipped.
    JwtClaimNot {
        /// JSON pointer of the field.
        field: String,
        /// Claim name (`role`).
        claim: String,
        /// Refused claim values.
        forbidden: Vec<String>,
        /// Message when refused.
        message: String,
        /// What to do about it.
        suggestion: String,
    },
    /// When `when` holds, every field of `fields` must be set (Apple Pay needs a merchant
    /// identifier).
    Requires {
        /// The condition that makes the fields required.
        when: Condition,
        /// JSON pointers of the fields then required; each missing one is reported.
        fields: Vec<String>,
        /// Error (the default) refuses the config; warning only reports.
        #[serde(default = "Severity::error")]
        severity: Severity,
        /// Message when one is missing.
        message: String,
        /// What to do about it.
        suggestion: String,
    },
    /// A value at any of `fields` starting with `prefix` is reported (RevenueCat `test_` keys).
    Prefix {
        /// JSON pointers of the fields checked.
        fields: Vec<String>,
        /// The prefix.
        prefix: String,
        /// Error refuses the config; warning only reports.
        severity: Severity,
        /// Message.
        message: String,
        /// What to do about it.
        suggestion: String,
    },
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The config is refused.
    Error,
    /// The config is accepted; the finding is reported.
    Warning,
}

impl Severity {
    fn error() -> Self {
        Self::Error
    }
}

/// A declarative HTTP check against the live service.
///
/// Strings may hold `{{apiBase}}` / `{{apiBase.NAME}}` (only at the start of the URL),
/// `{{/pointer}}` (a config value), `{{param.name}}` (a test action parameter), `{{step.name}}`
/// (a value extracted by an earlier step) and `{{runId}}` (a random UUID per run, for
/// idempotency keys) placeholders; the network layer fills them in, percent-encoding values in
/// the URL and form-encoding form bodies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpCheck {
    /// Step name shown to the user (`API key validation`).
    pub name: String,
    /// HTTP method.
    pub method: HttpMethod,
    /// URL template.
    pub url: String,
    /// Header templates.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<RequestBody>,
    /// Status codes that mean success.
    pub expect_status: Vec<u16>,
    /// Values to extract from a JSON response: name -> where the value is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extract: BTreeMap<String, ExtractFrom>,
    /// Only run when this condition holds for the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// How responses map to failures (and config fields). Checked against every response in
    /// order, the first match wins; see [`ErrorMapping`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorMapping>,
    /// Extracted values that must equal a config value (Firebase: the project id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_equal: Vec<ExpectEqual>,
    /// Text shown for a passed step; may use `{{step.name}}` values extracted by this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Whether sending the request twice is harmless, so it may be retried after a server error
    /// or a dropped connection. Default: true for GET and DELETE, false for POST (a POST is
    /// only retried after a 429, which means the service did not act on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
}

/// Where an extracted value is read in a JSON answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExtractFrom {
    /// One JSON pointer (`/idToken`).
    Pointer(String),
    /// JSON pointers tried in order, the first present wins: for a service whose answer has
    /// two shapes (Supabase's sign-up returns the user itself, or a session holding it).
    FirstOf(Vec<String>),
}

impl ExtractFrom {
    /// The pointers, in the order they are tried.
    pub fn pointers(&self) -> &[String] {
        match self {
            Self::Pointer(pointer) => std::slice::from_ref(pointer),
            Self::FirstOf(pointers) => pointers,
        }
    }

    /// The first value found in `json`.
    pub fn find<'v>(&self, json: &'v Value) -> Option<&'v Value> {
        self.pointers().iter().find_map(|p| json.pointer(p))
    }
}

impl std::fmt::Display for ExtractFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.pointers().join(" or "))
    }
}

/// An extracted value that must equal a config value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpectEqual {
    /// Name of the value in the check's `extract`.
    pub extracted: String,
    /// The config field it must equal (JSON pointer); named as the field at fault.
    pub field: String,
    /// What went wrong when they differ.
    pub message: String,
    /// What to do about it.
    pub suggestion: String,
}
/// HTTP method of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// DELETE.
    Delete,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "camelCase")]
pub enum RequestBody {
    /// A JSON document (string leaves are templates).
    Json(Value),
    /// Form-encoded pairs (values are templates).
    Form(BTreeMap<String, String>),
}

/// Maps a response to a failure (or a passed step with a note), a config field and advice.
///
/// Every condition given must hold. A mapping with a `status` matches responses with exactly that
/// status, even one listed in `expectStatus` (a OneSignal 200 with an empty id is a failure); a
/// mapping without `status` matches only responses whose status is not expected, so a success
/// body that happens to contain the text does not fail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorMapping {
    /// Matches this status (any when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Matches when the response body contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    /// Matches when this response header is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_present: Option<String>,
    /// Matches when the response body is JSON and this condition holds for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Condition>,
    /// The config field at fault (JSON pointer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What went wrong, for the user.
    pub message: String,
    /// What to do about it.
    pub suggestion: String,
    /// `pass` turns the match into a passed step with a note (a restricted key missing a scope).
    #[serde(default)]
    pub outcome: Outcome,
}

/// What a matched error mapping means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The step failed.
    #[default]
    Fail,
    /// The step passed, with a note.
    Pass,
}

/// A test action the user can run (`payment_intent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestAction {
    /// Identifier (`payment_intent`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// What it does to the live service.
    pub description: String,
    /// Parameters with their defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Value>,
    /// Only allowed when this condition holds (Stripe: test keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires: Option<Condition>,
    /// Why the action is refused when `requires` does not hold, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_reason: Option<Reason>,
    /// Steps, run in order; later steps may use `{{step.name}}` values extracted earlier.
    pub steps: Vec<HttpCheck>,
    /// Clean-up steps, run even when a step failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleanup: Vec<HttpCheck>,
}

/// A message and a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Reason {
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub suggestion: String,
}

impl ConnectorDefinition {
    /// Ids of the features that are on for `config`.
    pub fn enabled_features(&self, config: &Value) -> Vec<&str> {
        self.features
            .iter()
            .filter(|f| f.enabled_when.holds(config))
            .map(|f| f.id.as_str())
            .collect()
    }

    /// The pointers of fields classified secret.
    pub fn secret_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(|(_, f)| f.sensitivity == Sensitivity::Secret)
            .map(|(p, _)| p.as_str())
    }
}
