//! The engine: runs a connector's declarative checks and test actions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use serde_json::Value;

use super::custom::{CheckContext, CustomCheck};
use super::http::{Clients, Method, Outgoing, Reply, SendFailure};
use super::mask::{Masker, is_secret_name};
use super::template::{Encoding, Missing, Vars, step_names, value_text};
use super::{CheckReport, NetError, NetOptions, StepReport};
use crate::catalog::config::{ExposedConfig, ValidConfig};
use crate::catalog::connector::Connector;
use crate::catalog::definition::{
    ConnectorDefinition, ErrorMapping, HttpCheck, HttpMethod, Outcome, RequestBody, TestAction,
};

/// Runs validation checks and test actions against the live services (async, on tokio).
///
/// Cheap to share: wrap it in an `Arc`; every call is independent.
pub struct NetEngine {
    options: NetOptions,
    clients: Clients,
    custom: BTreeMap<String, Vec<Arc<dyn CustomCheck>>>,
}

impl std::fmt::Debug for NetEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetEngine")
            .field("options", &self.options)
            .field("custom_checks", &self.custom.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A base URL and where it came from.
#[derive(Debug, Clone)]
struct Base {
    url: String,
    allow_local: bool,
    /// The config field the URL came from (user input), if any.
    field: Option<String>,
}

/// The longest service text shown in a step's details.
const MAX_SERVICE_TEXT: usize = 300;

impl NetEngine {
    /// An engine with `options`.
    ///
    /// # Errors
    /// [`NetError::Setup`] when the TLS configuration or HTTP client cannot be built.
    pub fn new(options: NetOptions) -> Result<NetEngine, NetError> {
        let clients = Clients::new(&options)?;
        Ok(NetEngine {
            options,
            clients,
            custom: BTreeMap::new(),
        })
    }

    /// The engine's options.
    pub fn options(&self) -> &NetOptions {
        &self.options
    }

    /// Sends one request under the engine's rules (OAuth, type generation).
    pub(crate) async fn send(&self, outgoing: &Outgoing) -> Result<Reply, SendFailure> {
        self.clients.send(outgoing, &self.options).await
    }

    /// Registers a check written in Rust, run after the connector's declarative validation
    /// checks.
    pub fn register_check(&mut self, connector_id: &str, check: Arc<dyn CustomCheck>) {
        self.custom
            .entry(connector_id.to_string())
            .or_default()
            .push(check);
    }

    /// Checks the credentials of `config` against the live service: every declarative
    /// validation check whose `when` holds, then the custom checks. A check that cannot run for
    /// lack of a value is reported as a passed step saying what was not checked.
    pub async fn validate(&self, connector: &Connector, config: &ValidConfig) -> CheckReport {
        let started = Instant::now();
        let mut run = Run::new(self, connector.definition(), config, BTreeMap::new());
        let mut steps = Vec::new();
        let mut skipped: Option<&HttpCheck> = None;
        for check in &connector.definition().validation {
            match run.timed_check(check).await {
                Some(step) => steps.push(step),
                None => {
                    skipped.get_or_insert(check);
                }
            }
        }
        if let Some(checks) = self.custom.get(connector.id()) {
            for check in checks {
                let context = run.context();
                let started = Instant::now();
                let mut step = check.run(&context).await;
                step.duration = millis_since(started);
                step.details = step.details.map(|d| run.masker.mask(&d));
                steps.push(step);
            }
        }
        if steps.is_empty() {
            let field = skipped
                .and_then(|c| c.when.as_ref())
                .map(|w| w.pointer.clone());
            let suggestion = field
                .as_ref()
                .and_then(|f| connector.definition().fields.get(f))
                .and_then(|f| f.hint.clone())
                .unwrap_or_else(|| "add the credentials the connector can check".into());
            steps.push(StepReport {
                name: "Live check".into(),
                passed: true,
                details: Some(
                    "not checked: the config has no credential that can be checked online".into(),
                ),
                field,
                suggestion: Some(suggestion),
                duration: 0,
            });
        }
        report(started, &run, steps)
    }

    /// Runs the test action `action` with `params` (missing ones take the manifest's defaults).
    /// A live key for a test-only action, or a failing step, is a failed [`CheckReport`], not an
    /// error; clean-up steps run after a failure too.
    ///
    /// # Errors
    /// [`NetError::UnknownAction`] and [`NetError::UnknownParam`].
    pub async fn run_test_action(
        &self,
        connector: &Connector,
        config: &ValidConfig,
        action: &str,
        params: &BTreeMap<String, Value>,
    ) -> Result<CheckReport, NetError> {
        let started = Instant::now();
        let def = connector.definition();
        let test = find_action(def, action)?;
        let params = merge_params(test, params)?;
        let mut run = Run::new(self, def, config, params);
        let mut steps = Vec::new();
        if let Some(requires) = &test.requires
            && !requires.holds(&config.expose())
        {
            let (message, suggestion) = match &test.requires_reason {
                Some(r) => (r.message.clone(), r.suggestion.clone()),
                None => (
                    "the config does not allow this test action".into(),
                    "see the connector's documentation".into(),
                ),
            };
            steps.push(StepReport::fail(
                &test.name,
                format!("refused before sending anything: {message}"),
                Some(requires.pointer.clone()),
                suggestion,
            ));
            return Ok(report(started, &run, steps));
        }
        for step in &test.steps {
            if let Some(result) = run.timed_check(step).await {
                let failed = !result.passed;
                steps.push(result);
                if failed {
                    break;
                }
            }
        }
        if steps.is_empty() {
            steps.push(StepReport::fail(
                &test.name,
                "no step could run with this config",
                None,
                "add the credentials the test action needs",
            ));
        }
        for step in &test.cleanup {
            let needs_missing = [step.url.as_str()]
                .into_iter()
                .chain(step.headers.values().map(String::as_str))
                .chain(body_strings(step).iter().map(String::as_str))
                .flat_map(step_names)
                .any(|name| !run.steps.contains_key(name));
            if needs_missing {
                continue;
            }
            if let Some(result) = run.timed_check(step).await {
                steps.push(result);
            }
        }
        Ok(report(started, &run, steps))
    }
}

fn body_strings(check: &HttpCheck) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    match &check.body {
        Some(RequestBody::Json(v)) => walk(v, &mut out),
        Some(RequestBody::Form(pairs)) => out.extend(pairs.values().cloned()),
        None => {}
    }
    out
}

fn millis_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn report(started: Instant, run: &Run<'_>, steps: Vec<StepReport>) -> CheckReport {
    CheckReport {
        success: !steps.is_empty() && steps.iter().all(|s| s.passed),
        duration: millis_since(started),
        requests: run.requests.load(Ordering::Relaxed),
        steps,
    }
}

fn find_action<'a>(def: &'a ConnectorDefinition, id: &str) -> Result<&'a TestAction, NetError> {
    def.test_actions
        .iter()
        .find(|a| a.id == id)
        .ok_or_else(|| NetError::UnknownAction {
            connector: def.id.clone(),
            action: id.to_string(),
            known: def
                .test_actions
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

fn merge_params(
    action: &TestAction,
    given: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, NetError> {
    let mut params = action.params.clone();
    for (name, value) in given {
        let Some(default) = action.params.get(name) else {
            return Err(NetError::UnknownParam {
                action: action.id.clone(),
                name: name.clone(),
                known: action
                    .params
                    .keys()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        // Command-line values arrive as strings; give them the default's type where they parse.
        let value = match (default, value) {
            (Value::Number(_), Value::String(s)) => s
                .parse::<i64>()
                .map(Value::from)
                .or_else(|_| s.parse::<f64>().map(Value::from))
                .unwrap_or_else(|_| value.clone()),
            (Value::Bool(_), Value::String(s)) => s
                .parse::<bool>()
                .map(Value::Bool)
                .unwrap_or_else(|_| value.clone()),
            _ => value.clone(),
        };
        params.insert(name.clone(), value);
    }
    Ok(params)
}

/// A random UUID (version 4), for idempotency keys.
pub(crate) fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to the clock; the value only needs to be unique per run.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The state of one run: values extracted so far and the secrets to mask.
pub(crate) struct Run<'a> {
    engine: &'a NetEngine,
    def: &'a ConnectorDefinition,
    config: ExposedConfig<'a>,
    params: BTreeMap<String, Value>,
    pub(crate) steps: BTreeMap<String, Value>,
    run_id: String,
    pub(crate) masker: Masker,
    bases: Result<BTreeMap<String, Base>, Missing>,
    /// Requests sent so far (declarative steps and custom checks).
    requests: AtomicU32,
}

impl<'a> Run<'a> {
    fn new(
        engine: &'a NetEngine,
        def: &'a ConnectorDefinition,
        config: &'a ValidConfig,
        params: BTreeMap<String, Value>,
    ) -> Run<'a> {
        let mut masker = Masker::default();
        for (_, secret) in config.secrets() {
            if let Some(secret) = secret.expose_str() {
                masker.add(secret);
            }
        }
        // Requests need the secrets themselves (auth headers); wiped when the run ends.
        let config = config.expose();
        let bases = resolve_bases(&engine.options, def, &config);
        Run {
            engine,
            def,
            config,
            params,
            steps: BTreeMap::new(),
            run_id: random_uuid(),
            masker,
            bases,
            requests: AtomicU32::new(0),
        }
    }

    pub(crate) fn context(&self) -> CheckContext<'_> {
        let bases = self.bases.as_ref().ok();
        CheckContext {
            engine_options: &self.engine.options,
            clients: &self.engine.clients,
            connector_id: &self.def.id,
            config: &self.config,
            api_base: bases.and_then(|b| b.get("")).map(|b| b.url.as_str()),
            allow_local: self.engine.options.allows_local_network(&self.def.id),
            masker: &self.masker,
            requests: &self.requests,
        }
    }

    fn missing_step(&self, name: &str, missing: Missing) -> StepReport {
        match missing {
            Missing::Config(field) => {
                let hint = self
                    .def
                    .fields
                    .get(&field)
                    .and_then(|f| f.hint.clone())
                    .unwrap_or_else(|| "add the value to the config".into());
                StepReport::fail(
                    name,
                    format!("the config has no value at {field}"),
                    Some(field),
                    hint,
                )
            }
            Missing::Step(value) => StepReport::fail(
                name,
                format!("an earlier step did not provide `{value}`"),
                None,
                "run the test again; report a bug if it keeps failing",
            ),
            Missing::Other(name_) => StepReport::fail(
                name,
                format!("the connector manifest uses an unknown placeholder {{{{{name_}}}}}"),
                None,
                "report this to the connector's author",
            ),
        }
    }

    /// [`Self::check`], with the step's wall time.
    async fn timed_check(&mut self, check: &HttpCheck) -> Option<StepReport> {
        let started = Instant::now();
        let mut step = self.check(check).await?;
        step.duration = millis_since(started);
        Some(step)
    }

    /// Runs one check; `None` when its `when` does not hold.
    async fn check(&mut self, check: &HttpCheck) -> Option<StepReport> {
        if let Some(when) = &check.when
            && !when.holds(&self.config)
        {
            return None;
        }
        let (outgoing, base_field) = match self.prepare(check) {
            Ok(prepared) => prepared,
            Err(missing) => return Some(self.missing_step(&check.name, missing)),
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let step = match self
            .engine
            .clients
            .send(&outgoing, &self.engine.options)
            .await
        {
            Err(SendFailure::Refused(reason)) => StepReport::fail(
                &check.name,
                format!("endpoint refused: {reason}"),
                base_field,
                "use the service's public https address; private, loopback and link-local \
                 addresses are refused",
            ),
            Err(SendFailure::Transport(reason)) => StepReport::fail(
                &check.name,
                reason,
                None,
                "check the network connection and try again",
            ),
            Err(failure @ SendFailure::TooLarge { .. }) => StepReport::fail(
                &check.name,
                NetError::from(failure).to_string(),
                base_field,
                "check that the base URL points at the service's API",
            ),
            Ok(reply) => self.judge(check, &reply),
        };
        Some(self.masked(step))
    }

    fn masked(&self, mut step: StepReport) -> StepReport {
        step.details = step.details.map(|d| self.masker.mask(&d));
        step.suggestion = step.suggestion.map(|s| self.masker.mask(&s));
        step
    }

    fn prepare(&mut self, check: &HttpCheck) -> Result<(Outgoing, Option<String>), Missing> {
        let bases = self.bases.clone()?;
        let base_name = crate::catalog::manifest_check::placeholders(&check.url)
            .next()
            .and_then(|p| p.strip_prefix("apiBase"))
            .map(|k| k.strip_prefix('.').unwrap_or(k).to_string());
        let base = base_name.as_ref().and_then(|n| bases.get(n));
        let base_urls: BTreeMap<String, String> = bases
            .iter()
            .map(|(k, b)| (k.clone(), b.url.clone()))
            .collect();
        let vars = Vars {
            config: &self.config,
            params: &self.params,
            steps: &self.steps,
            run_id: &self.run_id,
            bases: &base_urls,
        };
        let url_text = vars.fill(&check.url, Encoding::Url)?;
        let mut headers = Vec::new();
        for (name, template) in &check.headers {
            let value = vars.fill(template, Encoding::Raw)?;
            headers.push((name.clone(), value));
        }
        let body = match &check.body {
            None => None,
            Some(RequestBody::Json(template)) => {
                let value = vars.fill_json(template)?;
                Some(("application/json", value.to_string().into_bytes()))
            }
            Some(RequestBody::Form(pairs)) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (name, template) in pairs {
                    form.append_pair(name, &vars.fill(template, Encoding::Raw)?);
                }
                Some((
                    "application/x-www-form-urlencoded",
                    form.finish().into_bytes(),
                ))
            }
        };
        // Values of earlier steps sent in headers are credentials (an ID token).
        for template in check.headers.values() {
            for name in step_names(template) {
                if let Some(value) = self.steps.get(name) {
                    self.masker.add(&value_text(value));
                }
            }
        }
        let field = base.and_then(|b| b.field.clone());
        let url = match url::Url::parse(&url_text) {
            Ok(url) => url,
            Err(e) => {
                return Err(match &field {
                    Some(f) => Missing::Config(format!("{f} (not a URL: {e})")),
                    None => Missing::Other(format!("url ({e})")),
                });
            }
        };
        let idempotent = check
            .idempotent
            .unwrap_or(!matches!(check.method, HttpMethod::Post));
        Ok((
            Outgoing {
                method: Method::from(check.method),
                url,
                headers,
                body,
                allow_local: base.is_some_and(|b| b.allow_local),
                idempotent,
            },
            field,
        ))
    }

    fn judge(&mut self, check: &HttpCheck, reply: &Reply) -> StepReport {
        let json: Option<Value> = serde_json::from_str(&reply.body).ok();
        let expected = check.expect_status.contains(&reply.status);
        if (200..300).contains(&reply.status)
            && let Some(json) = &json
        {
            for (name, from) in &check.extract {
                if let Some(value) = from.find(json) {
                    if is_secret_name(name) {
                        self.masker.add(&value_text(value));
                    }
                    self.steps.insert(name.clone(), value.clone());
                }
            }
        }
        let service_text = service_message(json.as_ref(), &reply.body);
        if let Some(mapping) = check
            .errors
            .iter()
            .find(|m| mapping_matches(m, reply, json.as_ref(), expected))
        {
            let mut details = mapping.message.clone();
            if let Some(text) = &service_text {
                details.push_str(&format!(" (HTTP {}: {text})", reply.status));
            }
            return StepReport {
                name: check.name.clone(),
                passed: mapping.outcome == Outcome::Pass,
                details: Some(details),
                field: mapping.field.clone(),
                suggestion: Some(mapping.suggestion.clone()),
                duration: 0,
            };
        }
        if !expected {
            let suggestion = match reply.status {
                429 => match super::http::retry_after(&reply.headers, std::time::SystemTime::now())
                {
                    Some(wait) => format!(
                        "the service is rate limiting requests; try again in {} s",
                        wait.as_secs().max(1)
                    ),
                    None => "the service is rate limiting requests; try again in a minute".into(),
                },
                500..=599 => "the service had a problem; try again later".into(),
                300..=399 => "the service redirected the request; check the base URL".into(),
                _ => "check the config values against the service's dashboard".into(),
            };
            let details = match service_text {
                Some(text) => format!("unexpected answer HTTP {}: {text}", reply.status),
                None => format!("unexpected answer HTTP {}", reply.status),
            };
            return StepReport::fail(&check.name, details, None, suggestion);
        }
        if let Some((_, pointer)) = check
            .extract
            .iter()
            .find(|(name, _)| !self.steps.contains_key(name.as_str()))
        {
            return StepReport::fail(
                &check.name,
                format!(
                    "the answer (HTTP {}) has no value at {pointer}",
                    reply.status
                ),
                None,
                "the service's API may have changed; report this to the connector's author",
            );
        }
        for expect in &check.expect_equal {
            let got = self.steps.get(&expect.extracted);
            let want = self.config.pointer(&expect.field);
            if got != want {
                return StepReport::fail(
                    &check.name,
                    format!(
                        "{} (the service says `{}`)",
                        expect.message,
                        got.map(value_text).unwrap_or_default()
                    ),
                    Some(expect.field.clone()),
                    expect.suggestion.clone(),
                );
            }
        }
        let details = check.details.as_ref().map(|template| {
            let empty = BTreeMap::new();
            let vars = Vars {
                config: &Value::Null,
                params: &empty,
                steps: &self.steps,
                run_id: "",
                bases: &empty_bases(),
            };
            vars.fill(template, Encoding::Raw)
                .unwrap_or_else(|_| template.clone())
        });
        StepReport::pass(&check.name, details)
    }
}

fn empty_bases() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn mapping_matches(
    mapping: &ErrorMapping,
    reply: &Reply,
    json: Option<&Value>,
    expected: bool,
) -> bool {
    let status_ok = match mapping.status {
        Some(status) => status == reply.status,
        None => !expected,
    };
    status_ok
        && mapping
            .body_contains
            .as_ref()
            .is_none_or(|text| reply.body.contains(text.as_str()))
        && mapping
            .header_present
            .as_ref()
            .is_none_or(|name| reply.headers.contains_key(name.as_str()))
        && mapping
            .body
            .as_ref()
            .is_none_or(|condition| json.is_some_and(|j| condition.holds(j)))
}

/// What the service said, from the common error shapes, cut to a readable length.
fn service_message(json: Option<&Value>, body: &str) -> Option<String> {
    let text = match json {
        Some(json) => [
            "/error/message",
            "/message",
            "/error_description",
            "/error",
            "/errors/0",
            "/hint",
        ]
        .iter()
        .find_map(|p| json.pointer(p).and_then(Value::as_str))
        .map(str::to_string),
        None => {
            let trimmed = body.trim();
            (!trimmed.is_empty() && !trimmed.starts_with('<')).then(|| trimmed.to_string())
        }
    }?;
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_SERVICE_TEXT {
        let cut: String = text.chars().take(MAX_SERVICE_TEXT).collect();
        Some(format!("{cut}..."))
    } else {
        Some(text)
    }
}

fn resolve_bases(
    options: &NetOptions,
    def: &ConnectorDefinition,
    config: &Value,
) -> Result<BTreeMap<String, Base>, Missing> {
    let mut bases = BTreeMap::new();
    let main = if let Some(url) = options.api_base_override(&def.id) {
        Some(Base {
            url: url.to_string(),
            allow_local: options.allows_local_network(&def.id),
            field: None,
        })
    } else if let Some(field) = &def.api_base_field {
        match config.pointer(field).and_then(Value::as_str) {
            Some(url) => Some(Base {
                url: url.trim_end_matches('/').to_string(),
                allow_local: options.allows_local_network(&def.id),
                field: Some(field.clone()),
            }),
            None => return Err(Missing::Config(field.clone())),
        }
    } else {
        def.api_base.as_ref().map(|url| Base {
            url: url.trim_end_matches('/').to_string(),
            allow_local: options.allows_local_network(&def.id),
            field: None,
        })
    };
    if let Some(main) = main {
        bases.insert(String::new(), main);
    }
    for (name, url) in &def.api_bases {
        let service = format!("{}.{name}", def.id);
        let url = options.api_base_override(&service).unwrap_or(url);
        bases.insert(
            name.clone(),
            Base {
                url: url.trim_end_matches('/').to_string(),
                allow_local: options.allows_local_network(&service),
                field: None,
            },
        );
    }
    Ok(bases)
}

/// [`NetEngine`] for synchronous callers (the CLI): each call blocks on a private
/// current-thread tokio runtime. Do not call it from inside an async runtime.
#[derive(Debug)]
pub struct BlockingNetEngine {
    engine: NetEngine,
    runtime: tokio::runtime::Runtime,
}

impl BlockingNetEngine {
    /// A blocking engine with `options`.
    ///
    /// # Errors
    /// [`NetError::Setup`] when the runtime or the HTTP client cannot be built.
    pub fn new(options: NetOptions) -> Result<BlockingNetEngine, NetError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NetError::Setup(e.to_string()))?;
        // reqwest's client must be built inside a runtime context for its timers.
        let engine = {
            let _guard = runtime.enter();
            NetEngine::new(options)?
        };
        Ok(BlockingNetEngine { engine, runtime })
    }

    /// The async engine inside (to register custom checks).
    pub fn engine_mut(&mut self) -> &mut NetEngine {
        &mut self.engine
    }

    /// Runs a future on the engine's runtime (OAuth and type generation calls).
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The async engine inside.
    pub fn engine(&self) -> &NetEngine {
        &self.engine
    }

    /// Blocking [`NetEngine::validate`].
    pub fn validate(&self, connector: &Connector, config: &ValidConfig) -> CheckReport {
        self.runtime
            .block_on(self.engine.validate(connector, config))
    }

    /// Blocking [`NetEngine::run_test_action`].
    ///
    /// # Errors
    /// As [`NetEngine::run_test_action`].
    pub fn run_test_action(
        &self,
        connector: &Connector,
        config: &ValidConfig,
        action: &str,
        params: &BTreeMap<String, Value>,
    ) -> Result<CheckReport, NetError> {
        self.runtime.block_on(
            self.engine
                .run_test_action(connector, config, action, params),
        )
    }
}
