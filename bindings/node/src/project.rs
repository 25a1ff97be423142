//! Calls on an Expo project folder: plan (no writes), add, remove, status; each sync and async.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use mobigen_connectors::Registry;
use mobigen_connectors::project::ops::{self, Mode};
use mobigen_connectors::project::plan::{Plan, PlanOptions};
use napi::JsValue as _;
use napi::bindgen_prelude::{AsyncTask, JsObjectValue, Object, Unknown};
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::{Value, json};

use crate::errors::{self, Code, Failure, Outcome};
use crate::{args, call, guarded, json_to_js, registry};

/// What to do with the project.
enum Op {
    /// Plan adding (or updating) a connector; write nothing.
    PlanAdd {
        id: String,
        config: Value,
        supplied: Supplied,
    },
    /// Plan removing a connector; write nothing.
    PlanRemove { id: String },
    /// Add (or update) a connector.
    Add {
        id: String,
        config: Value,
        supplied: Supplied,
        mode: Mode,
    },
    /// Remove a connector.
    Remove { id: String, mode: Mode },
    /// Report the enabled connectors.
    Status,
}

/// One call, with its arguments read: runs on the JS thread (sync) or a worker (async).
pub(crate) struct Job {
    registry: Arc<Registry>,
    dir: PathBuf,
    options: PlanOptions,
    op: Op,
}

/// `{ summary, diff, changes }` of a plan that was not applied. `changes` is `summary.files`:
/// [`to_js`] sets it to that same array, so it is converted once.
fn plan_result(plan: &Plan) -> Value {
    json!({ "summary": plan.summary_json(true), "diff": plan.unified_diff(false), "changes": null })
}

/// A job's result as a JS value; for a plan, `changes` becomes the array `summary.files`.
fn to_js(env: &Env, value: &Value, plan: bool) -> napi::Result<Unknown<'static>> {
    let result = json_to_js(env, value)?;
    if plan {
        let mut object: Object<'_> = result.coerce_to_object()?;
        let summary: Object<'_> = object.get_named_property("summary")?;
        let files: Unknown<'_> = summary.get_named_property("files")?;
        object.set_named_property("changes", files)?;
    }
    Ok(result)
}

impl Job {
    /// Whether the result is a plan (`{ summary, diff, changes }`).
    fn is_plan(&self) -> bool {
        matches!(self.op, Op::PlanAdd { .. } | Op::PlanRemove { .. })
    }

    fn run(self) -> Outcome<Value> {
        let registry = &*self.registry;
        let dir = self.dir.as_path();
        let validate = |id: &str, config: &Value| {
            let connector = registry.lookup(id).map_err(errors::registry)?;
            connector.validate_config(config).map_err(errors::config)
        };
        match &self.op {
            Op::PlanAdd {
                id,
                config,
                supplied,
            } => {
                let valid = validate(id, config)?;
                ops::add_supplied(registry, dir, &valid, self.options, Mode::DryRun, supplied)
                    .map(|plan| plan_result(&plan))
                    .map_err(errors::op)
            }
            Op::PlanRemove { id } => ops::remove(registry, dir, id, self.options, Mode::DryRun)
                .map(|plan| plan_result(&plan))
                .map_err(errors::op),
            Op::Add {
                id,
                config,
                supplied,
                mode,
            } => {
                let valid = validate(id, config)?;
                ops::add_supplied(registry, dir, &valid, self.options, *mode, supplied)
                    .map(|plan| plan.summary_json(*mode == Mode::DryRun))
                    .map_err(errors::op)
            }
            Op::Remove { id, mode } => ops::remove(registry, dir, id, self.options, *mode)
                .map(|plan| plan.summary_json(*mode == Mode::DryRun))
                .map_err(errors::op),
            Op::Status => ops::status(registry, dir)
                .map_err(errors::op)
                .and_then(|status| {
                    serde_json::to_value(status)
                        .map_err(|e| Failure::new(Code::ProjectError, e.to_string()))
                }),
        }
    }
}

/// Bodies of supplied files, by id (`options.supplied`).
type Supplied = BTreeMap<String, String>;

/// The options object of add/remove/plan calls: `{ force?, writeSecretEnv?, dryRun?,
/// supplied? }`.
fn read_options(
    env: &Env,
    options: Option<Unknown<'_>>,
    known: &[&str],
) -> Outcome<(PlanOptions, Mode, Supplied)> {
    let options = args::optional_object(env, options, "options")?;
    let options = options.as_ref();
    args::known_keys(options, known)?;
    let supplied = supplied_option(options)?;
    let (plan, mode) = plan_options(options)?;
    Ok((plan, mode, supplied))
}

/// `options.supplied`: supplied file id -> body (none when absent).
pub(crate) fn supplied_option(options: Option<&Value>) -> Outcome<Supplied> {
    match options.and_then(|o| o.get("supplied")) {
        None | Some(Value::Null) => Ok(Supplied::new()),
        Some(Value::Object(bodies)) => bodies
            .iter()
            .map(|(id, body)| match body {
                Value::String(body) => Ok((id.clone(), body.clone())),
                _ => Err(Failure::argument(format!(
                    "options.supplied.{id} must be a string (the file's body)"
                ))),
            })
            .collect(),
        Some(_) => Err(Failure::argument(
            "options.supplied must be an object: supplied file id -> body",
        )),
    }
}

/// `options.force`, `options.writeSecretEnv` and `options.dryRun`.
pub(crate) fn plan_options(options: Option<&Value>) -> Outcome<(PlanOptions, Mode)> {
    let plan = PlanOptions {
        write_secret_env: args::flag(options, "writeSecretEnv", true)?,
        force: args::flag(options, "force", false)?,
    };
    let mode = if args::flag(options, "dryRun", false)? {
        Mode::DryRun
    } else {
        Mode::Apply
    };
    Ok((plan, mode))
}

fn job(env: &Env, dir: Unknown<'_>, options: PlanOptions, op: Op) -> Outcome<Job> {
    Ok(Job {
        registry: registry::current()?,
        dir: PathBuf::from(args::non_empty(env, dir, "projectDir")?),
        options,
        op,
    })
}

const PLAN_OPTIONS: &[&str] = &["force", "writeSecretEnv"];
const PLAN_ADD_OPTIONS: &[&str] = &["force", "writeSecretEnv", "supplied"];
const ADD_OPTIONS: &[&str] = &["force", "writeSecretEnv", "dryRun", "supplied"];
const REMOVE_OPTIONS: &[&str] = &["force", "dryRun"];

fn plan_add_job(
    env: &Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Outcome<Job> {
    let id = args::string(env, id, "id")?;
    let config = args::object(env, config, "config")?;
    let (options, _, supplied) = read_options(env, options, PLAN_ADD_OPTIONS)?;
    job(
        env,
        dir,
        options,
        Op::PlanAdd {
            id,
            config,
            supplied,
        },
    )
}

fn plan_remove_job(
    env: &Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Outcome<Job> {
    let id = args::string(env, id, "id")?;
    let (options, ..) = read_options(env, options, PLAN_OPTIONS)?;
    job(env, dir, options, Op::PlanRemove { id })
}

fn add_job(
    env: &Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Outcome<Job> {
    let id = args::string(env, id, "id")?;
    let config = args::object(env, config, "config")?;
    let (options, mode, supplied) = read_options(env, options, ADD_OPTIONS)?;
    job(
        env,
        dir,
        options,
        Op::Add {
            id,
            config,
            supplied,
            mode,
        },
    )
}

fn remove_job(
    env: &Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Outcome<Job> {
    let id = args::string(env, id, "id")?;
    let (options, mode, _) = read_options(env, options, REMOVE_OPTIONS)?;
    job(env, dir, options, Op::Remove { id, mode })
}

fn status_job(env: &Env, dir: Unknown<'_>) -> Outcome<Job> {
    job(env, dir, PlanOptions::default(), Op::Status)
}

/// A [`Job`] on libuv's thread pool (and whether it is a plan). A failure travels back as data
/// and becomes the JS error on the main thread, where the error object can be built.
pub struct ProjectTask(Option<Job>, bool);

impl Task for ProjectTask {
    type Output = Outcome<Value>;
    type JsValue = Unknown<'static>;

    fn compute(&mut self) -> napi::Result<Outcome<Value>> {
        Ok(match self.0.take() {
            Some(job) => guarded(|| job.run()),
            None => Err(Failure::new(Code::Panic, "the task ran twice")),
        })
    }

    fn resolve(&mut self, env: Env, output: Outcome<Value>) -> napi::Result<Unknown<'static>> {
        match output {
            Ok(value) => to_js(&env, &value, self.1),
            Err(failure) => Err(failure.into_js(&env)),
        }
    }
}

/// Reads the arguments with `job`, runs it on the JS thread and converts its result.
fn run_sync(env: &Env, job: impl FnOnce() -> Outcome<Job>) -> napi::Result<Unknown<'static>> {
    let job = call(env, job)?;
    let plan = job.is_plan();
    let value = call(env, || job.run())?;
    to_js(env, &value, plan)
}

fn spawn(env: &Env, job: impl FnOnce() -> Outcome<Job>) -> napi::Result<AsyncTask<ProjectTask>> {
    call(env, job).map(|job| {
        let plan = job.is_plan();
        AsyncTask::new(ProjectTask(Some(job), plan))
    })
}

/// What adding connector `id` with `config` to the project in `projectDir` would change,
/// without writing anything: `{ summary, diff, changes }` (`diff` is a unified diff with
/// secret values redacted). Throws `INVALID_CONFIG` (with `error.issues`), `UNKNOWN_CONNECTOR`,
/// `PROJECT_ERROR`, `CONFLICT` (with `error.conflicts`).
#[napi(
    js_name = "planAdd",
    ts_generic_types = "K extends string",
    ts_args_type = "projectDir: string, id: K, config: ConnectorConfig<K>, options?: PlanAddOptions",
    ts_return_type = "PlanResult"
)]
pub fn plan_add(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Unknown<'static>> {
    run_sync(&env, || plan_add_job(&env, dir, id, config, options))
}

/// As `planAdd`, on the thread pool: returns a Promise.
#[napi(
    js_name = "planAddAsync",
    ts_generic_types = "K extends string",
    ts_args_type = "projectDir: string, id: K, config: ConnectorConfig<K>, options?: PlanAddOptions",
    ts_return_type = "Promise<PlanResult>"
)]
pub fn plan_add_async(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<AsyncTask<ProjectTask>> {
    spawn(&env, || plan_add_job(&env, dir, id, config, options))
}

/// What removing connector `id` from the project would change, without writing anything:
/// `{ summary, diff, changes }`. Throws `NOT_ENABLED` when it is not in the project.
#[napi(
    js_name = "planRemove",
    ts_args_type = "projectDir: string, id: string, options?: PlanOptions",
    ts_return_type = "PlanResult"
)]
pub fn plan_remove(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Unknown<'static>> {
    run_sync(&env, || plan_remove_job(&env, dir, id, options))
}

/// As `planRemove`, on the thread pool: returns a Promise.
#[napi(
    js_name = "planRemoveAsync",
    ts_args_type = "projectDir: string, id: string, options?: PlanOptions",
    ts_return_type = "Promise<PlanResult>"
)]
pub fn plan_remove_async(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<AsyncTask<ProjectTask>> {
    spawn(&env, || plan_remove_job(&env, dir, id, options))
}

/// Adds (or updates) connector `id` in the project, in one transaction under the project lock:
/// owned files, one import and wrap in the root file, package.json, app.json, `.env` /
/// `.env.local` and the lock file. Returns the CLI's `add --json` shape (without `store`).
/// Throws `BUSY` when another call holds the project past the lock timeout.
#[napi(
    ts_generic_types = "K extends string",
    ts_args_type = "projectDir: string, id: K, config: ConnectorConfig<K>, options?: AddOptions",
    ts_return_type = "ChangeSummary"
)]
pub fn add(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Unknown<'static>> {
    run_sync(&env, || add_job(&env, dir, id, config, options))
}

/// As `add`, on the thread pool: returns a Promise.
#[napi(
    js_name = "addAsync",
    ts_generic_types = "K extends string",
    ts_args_type = "projectDir: string, id: K, config: ConnectorConfig<K>, options?: AddOptions",
    ts_return_type = "Promise<ChangeSummary>"
)]
pub fn add_async(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    config: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<AsyncTask<ProjectTask>> {
    spawn(&env, || add_job(&env, dir, id, config, options))
}

/// Removes connector `id` from the project, restoring every file it touched byte for byte.
/// Returns the CLI's `remove --json` shape (without `store`).
#[napi(
    ts_args_type = "projectDir: string, id: string, options?: RemoveOptions",
    ts_return_type = "ChangeSummary"
)]
pub fn remove(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<Unknown<'static>> {
    run_sync(&env, || remove_job(&env, dir, id, options))
}

/// As `remove`, on the thread pool: returns a Promise.
#[napi(
    js_name = "removeAsync",
    ts_args_type = "projectDir: string, id: string, options?: RemoveOptions",
    ts_return_type = "Promise<ChangeSummary>"
)]
pub fn remove_async(
    env: Env,
    dir: Unknown<'_>,
    id: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> napi::Result<AsyncTask<ProjectTask>> {
    spawn(&env, || remove_job(&env, dir, id, options))
}

/// The connectors enabled in the project and any drift from its lock file: the CLI's
/// `status --json` shape.
#[napi(ts_args_type = "projectDir: string", ts_return_type = "ProjectStatus")]
pub fn status(env: Env, dir: Unknown<'_>) -> napi::Result<Unknown<'static>> {
    run_sync(&env, || status_job(&env, dir))
}

/// As `status`, on the thread pool: returns a Promise.
#[napi(
    js_name = "statusAsync",
    ts_args_type = "projectDir: string",
    ts_return_type = "Promise<ProjectStatus>"
)]
pub fn status_async(env: Env, dir: Unknown<'_>) -> napi::Result<AsyncTask<ProjectTask>> {
    spawn(&env, || status_job(&env, dir))
}

/// Internal, for `bench/overhead.mjs` (not in the typings): runs the Rust work behind
/// `listConnectors()` (`op` = "listConnectors") or `planAdd(projectDir, id, config)`
/// (`op` = "planAdd") `iterations` times inside Rust, with no JS conversion per iteration, and
/// returns the mean nanoseconds per run: the baseline the binding's overhead is measured
/// against.
#[napi(js_name = "__benchBaseline", skip_typescript)]
pub fn bench_baseline(
    env: Env,
    op: Unknown<'_>,
    iterations: Unknown<'_>,
    dir: Option<Unknown<'_>>,
    id: Option<Unknown<'_>>,
    config: Option<Unknown<'_>>,
) -> napi::Result<f64> {
    call(&env, || {
        let op = args::string(&env, op, "op")?;
        let count = args::string(&env, iterations, "iterations")?
            .parse::<u32>()
            .map_err(|e| Failure::argument(format!("iterations: {e}")))?
            .max(1);
        let plan = match op.as_str() {
            "listConnectors" => None,
            "planAdd" => {
                let (dir, id, config) = match (dir, id, config) {
                    (Some(d), Some(i), Some(c)) => (d, i, c),
                    _ => return Err(Failure::argument("planAdd needs projectDir, id, config")),
                };
                let id = args::string(&env, id, "id")?;
                let config = args::object(&env, config, "config")?;
                let dir = PathBuf::from(args::non_empty(&env, dir, "projectDir")?);
                Some((dir, id, config))
            }
            other => return Err(Failure::argument(format!("unknown op `{other}`"))),
        };
        let start = std::time::Instant::now();
        for _ in 0..count {
            let value = match &plan {
                None => registry::list_json(None)?,
                Some((dir, id, config)) => Job {
                    registry: registry::current()?,
                    dir: dir.clone(),
                    options: PlanOptions::default(),
                    op: Op::PlanAdd {
                        id: id.clone(),
                        config: config.clone(),
                        supplied: Supplied::new(),
                    },
                }
                .run()?,
            };
            std::hint::black_box(value);
        }
        Ok(start.elapsed().as_nanos() as f64 / f64::from(count))
    })
}
