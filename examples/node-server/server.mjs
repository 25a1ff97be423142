// The PRD's connector REST API (Appendix B and S3-07) on node:http, built on @mobigen/connectors.
//
//   GET    /api/v1/connectors[?category=C]                          list (PRD summary items)
//   GET    /api/v1/connectors/:id                                   details (configSchema, docs)
//   GET    /api/v1/projects/:projectId/connectors                   what the project has (status)
//   POST   /api/v1/projects/:projectId/connectors                   add {connectorId, config}
//   PATCH  /api/v1/projects/:projectId/connectors/:connectorId      update {config} (merged into the stored one)
//   DELETE /api/v1/projects/:projectId/connectors/:connectorId      remove
//   POST   /api/v1/projects/:projectId/connectors/:connectorId/test live check {testType?, params?}
//   POST   /api/v1/projects/:projectId/connectors/:connectorId/enable|disable  lifecycle
//   POST   /api/v1/connectors/:id/validate                          field errors of a config {config}
//   POST   /api/v1/session, GET, DELETE                             the dashboard's cookie session
//   GET    /dashboard/                                              the dashboard (static files)
//
// Every /api route needs the server's token: `Authorization: Bearer <token>`, or the HttpOnly
// session cookie that POST /api/v1/session sets (then state-changing requests also need the
// session's CSRF token in `x-csrf-token`). 401 without.
//
// A project is the folder `<root>/<projectId>` (an Expo app); `projectId` must match
// PROJECT_ID and the folder must resolve inside the root, so no path escapes it. Credentials are
// stored encrypted in a connector store (SQLite + keyring) and the code is injected into the
// project; both stay in step: every change goes through the library's store + project protocol
// (`CredentialStore#addConnectorAsync`, `updateConnectorAsync`, `removeConnectorAsync`), which
// plans, writes the store, applies, and undoes the store write when applying fails, under the
// project lock, on the thread pool (the server keeps answering while one runs).
//
// Run: MOBIGEN_PROJECTS_ROOT=/srv/apps PORT=8080 node server.mjs

import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  listConnectors,
  getConnector,
  validateConfig,
  statusAsync,
  validate,
  runTest,
  searchConnectors,
  planAddAsync,
  planRemoveAsync,
  CredentialStore,
} from '@mobigen/connectors'
import { AuthError, createAuth } from './auth.mjs'

/** Project ids: letters, digits, `_` and `-`, starting with a letter or digit, at most 64. */
export const PROJECT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

/** Largest request body accepted (1 MiB). */
const MAX_BODY = 1 << 20

/** HTTP status of each error code of the package. */
const HTTP_STATUS = {
  INVALID_ARGUMENT: 400,
  INVALID_CONFIG: 400,
  UNKNOWN_CATEGORY: 400,
  UNKNOWN_CONNECTOR: 404,
  NOT_FOUND: 404,
  NOT_ENABLED: 404,
  UNKNOWN_ACTION: 400,
  UNKNOWN_PARAM: 400,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  ILLEGAL_TRANSITION: 409,
  PROJECT_ERROR: 422,
  BUSY: 503,
}

/** An error answered as `{ success: false, error: { code, message, fields? } }`. */
class HttpError extends Error {
  constructor(status, code, message, fields) {
    super(message)
    this.status = status
    this.code = code
    this.fields = fields
  }
}

/** Field errors of a config, as the 400 answer lists them. */
function fieldErrors(issues, prefix = '/config') {
  return issues
    .filter((i) => i.severity === 'error')
    .map((i) => ({ field: prefix + i.pointer, message: i.message, ...(i.suggestion ? { suggestion: i.suggestion } : {}) }))
}

function fromLibrary(e) {
  if (e instanceof HttpError) return e
  const status = HTTP_STATUS[e.code] ?? 500
  const fields = e.code === 'INVALID_CONFIG' && Array.isArray(e.issues) ? fieldErrors(e.issues) : undefined
  const error = new HttpError(status, e.code ?? 'INTERNAL', status === 500 ? `internal error: ${e.message}` : e.message, fields)
  if (e.code === 'CONFLICT') error.conflicts = e.conflicts
  return error
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/**
 * Reads a JSON object body; 400 for bad JSON or a non-object, 413 when too large. With
 * `optional`, an empty body is `{}`.
 */
async function readJson(req, { optional = false } = {}) {
  const chunks = []
  let size = 0
  for await (const chunk of req) {
    size += chunk.length
    if (size > MAX_BODY) throw new HttpError(413, 'BODY_TOO_LARGE', `request body is larger than ${MAX_BODY} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (optional && text.trim() === '') return {}
  let body
  try {
    body = JSON.parse(text)
  } catch (e) {
    throw new HttpError(400, 'BAD_JSON', `request body is not valid JSON: ${e.message}`)
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'BAD_REQUEST', 'request body must be a JSON object', [{ field: '', message: 'must be an object' }])
  }
  return body
}

/**
 * Checks the members a body must have: `{ name: 'string' | 'object' }`; with `optional`, only
 * the types of those present.
 */
function requireFields(body, spec, { optional = false } = {}) {
  const fields = []
  for (const [name, type] of Object.entries(spec)) {
    const value = body[name]
    if (value === undefined) {
      if (!optional) fields.push({ field: `/${name}`, message: 'is required' })
    } else if (type === 'object' ? value === null || typeof value !== 'object' || Array.isArray(value) : typeof value !== type) {
      fields.push({ field: `/${name}`, message: `must be ${type === 'object' ? 'an object' : `a ${type}`}` })
    }
  }
  if (fields.length > 0) throw new HttpError(400, 'BAD_REQUEST', 'request body is invalid', fields)
}

/** A connector's PRD summary, 404 when unknown. */
function connectorOr404(id) {
  try {
    return getConnector(id)
  } catch (e) {
    throw fromLibrary(e)
  }
}

/**
 * Checks the members a PATCH names (a merge patch on the stored config): 400 with field errors
 * for those that are invalid. Required members it leaves out come from the stored config; the
 * library validates the merged whole.
 */
function patchOr400(connectorId, patch) {
  const named = new Set(Object.keys(patch).filter((k) => patch[k] !== null))
  const member = (pointer) => (pointer.split('/')[1] ?? '').replaceAll('~1', '/').replaceAll('~0', '~')
  const issues = validateConfig(connectorId, patch).issues.filter((i) => named.has(member(i.pointer)))
  const fields = fieldErrors(issues)
  if (fields.length > 0) {
    throw new HttpError(400, 'INVALID_CONFIG', `the ${connectorId} config is invalid`, fields)
  }
}

/** Validates `config` for `connectorId`: 400 with field errors when invalid. */
function validOr400(connectorId, config) {
  const report = validateConfig(connectorId, config)
  if (!report.valid) {
    throw new HttpError(400, 'INVALID_CONFIG', `the ${connectorId} config is invalid`, fieldErrors(report.issues))
  }
  return report
}

/**
 * Creates the API server (not listening yet).
 *
 * @param {{ root: string, store?: string, keyringPath?: string, actor?: string, net?: import('@mobigen/connectors').NetCallOptions, token?: string, dashboardDir?: string }} options
 *   `root`: the folder holding one folder per project. `store`: an SQLite file or a
 *   PostgreSQL URL (`postgres://user@host/db`) that several server instances share. The store and
 *   keyring default to `<root>/.mobigen/connectors.db` and `<root>/.mobigen/vault-keyring.json`. `net`: options
 *   of the connection tests (base URLs, timeouts), on top of `MOBIGEN_<SERVICE>_API_BASE`.
 *   `token`: what every /api request must authenticate with (default
 *   `MOBIGEN_DASHBOARD_TOKEN`; without either a random one, and the dashboard's URL with it is
 *   printed once to stderr when the server starts listening). `dashboardDir`: the built
 *   dashboard (default `dashboard/dist` beside this file).
 *   The returned server has `token` (the token in force).
 */
export function createConnectorServer(options) {
  const auth = createAuth(options.token ?? process.env.MOBIGEN_DASHBOARD_TOKEN)
  const dashboardDir = options.dashboardDir ?? path.join(path.dirname(fileURLToPath(import.meta.url)), 'dashboard', 'dist')
  const root = fs.realpathSync(options.root)
  const stateDir = path.join(root, '.mobigen')
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  const store = CredentialStore.open(
    options.store ?? path.join(stateDir, 'connectors.db'),
    options.keyringPath ?? path.join(stateDir, 'vault-keyring.json'),
    { actor: options.actor ?? 'node-server' },
  )
  const netOptions = options.net ?? {}

  /** The folder of `projectId`, inside the root: 400 for a bad id, 404 when it is missing. */
  function projectDir(projectId) {
    if (!PROJECT_ID.test(projectId)) {
      throw new HttpError(400, 'BAD_PROJECT_ID', 'projectId must be 1-64 letters, digits, "_" or "-", starting with a letter or digit')
    }
    const dir = path.resolve(root, projectId)
    let real
    try {
      real = fs.realpathSync(dir)
    } catch {
      throw new HttpError(404, 'PROJECT_NOT_FOUND', `no project \`${projectId}\``)
    }
    // The id pattern keeps `..` and separators out; the real path also catches symlinks.
    if (path.dirname(real) !== root || !fs.statSync(real).isDirectory()) {
      throw new HttpError(404, 'PROJECT_NOT_FOUND', `no project \`${projectId}\``)
    }
    return real
  }

  function codeChanges(summary, name, verb) {
    const { filesAdded, filesModified, filesDeleted } = summary.codeChanges
    return {
      filesModified,
      filesAdded,
      filesDeleted,
      summary: summary.kind === 'upToDate' ? `${name} was already up to date` : `${verb} ${name}`,
      files: summary.files,
      manualSteps: summary.manualSteps,
      warnings: summary.warnings,
    }
  }

  const routes = [
    ['GET', /^\/api\/v1\/connectors$/, async ({ url }) => {
      const category = url.searchParams.get('category') ?? undefined
      const query = url.searchParams.get('q')?.trim()
      try {
        const listed = listConnectors(category)
        if (!query) return [200, listed]
        // The library's ranked, typo-tolerant search, best first, within the category.
        const inCategory = new Set(listed.connectors.map((c) => c.id))
        return [200, { query, connectors: searchConnectors(query).results.filter((c) => inCategory.has(c.id)) }]
      } catch (e) {
        throw fromLibrary(e)
      }
    }],
    ['GET', /^\/api\/v1\/connectors\/([^/]+)$/, async ({ params: [id] }) => {
      const def = connectorOr404(id)
      const summary = listConnectors().connectors.find((c) => c.id === def.id)
      return [200, {
        ...summary,
        configSchema: def.configSchema,
        fields: def.fields,
        documentation: def.docsUrl,
        setupGuide: def.setupGuideUrl,
        features: (def.features ?? []).map(({ id: featureId, name, description, enabledWhen }) => ({ id: featureId, name, description, enabledWhen })),
        testActions: (def.testActions ?? []).map(({ id: actionId, name, description, params }) => ({ id: actionId, name, description, params: params ?? {} })),
      }]
    }],
    ['POST', /^\/api\/v1\/connectors\/([^/]+)\/validate$/, async ({ params: [id], req }) => {
      const def = connectorOr404(id)
      const body = await readJson(req)
      requireFields(body, { config: 'object', partial: 'boolean' }, { optional: true })
      // With `partial` the config is a merge patch: `null` members delete, so only the others
      // are checked.
      const config = Object.fromEntries(Object.entries(body.config ?? {}).filter(([, v]) => !body.partial || v !== null))
      // The library's field-level findings (never a value); with `partial`, only about the
      // members the config names (a PATCH).
      const report = validateConfig(def.id, config)
      const named = new Set(Object.keys(config))
      const member = (pointer) => (pointer.split('/')[1] ?? '').replaceAll('~1', '/').replaceAll('~0', '~')
      const issues = report.issues
        .filter((i) => !body.partial || named.has(member(i.pointer)))
        .map((i) => ({ field: i.pointer, message: i.message, severity: i.severity, ...(i.suggestion ? { suggestion: i.suggestion } : {}) }))
      const valid = !issues.some((i) => i.severity === 'error')
      return [200, { success: true, valid, issues, features: report.valid ? report.features : [] }]
    }],
    ['GET', /^\/api\/v1\/projects$/, async () => {
      // The folders directly under the root whose names are project ids (the dashboard's picker).
      const projects = fs.readdirSync(root, { withFileTypes: true })
        .filter((e) => PROJECT_ID.test(e.name) && (e.isDirectory() || e.isSymbolicLink()))
        .map((e) => e.name)
        .filter((id) => {
          try {
            return projectDir(id) !== undefined
          } catch {
            return false
          }
        })
        .sort()
      return [200, { success: true, projects: projects.map((id) => ({ id })) }]
    }],
    ['GET', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)\/config$/, async ({ params: [projectId, connectorId] }) => {
      projectDir(projectId)
      const def = connectorOr404(connectorId)
      const instance = store.findInstance(projectId, def.id)
      if (!instance) throw new HttpError(404, 'NOT_ENABLED', `project \`${projectId}\` has no ${def.name}; POST .../connectors adds it`)
      // The stored config for the "configure" form: public members only. Secret members are
      // named (set or not), never sent.
      const stored = store.decryptCredentials(instance.id, 'dashboard: show the public config')
      const config = {}
      const secretsSet = []
      for (const [name, value] of Object.entries(stored)) {
        if (def.fields[`/${name}`]?.sensitivity === 'public') config[name] = value
        else secretsSet.push(`/${name}`)
      }
      return [200, { success: true, config, secretsSet }]
    }],
    ['GET', /^\/api\/v1\/projects\/([^/]+)\/connectors$/, async ({ params: [projectId] }) => {
      const dir = projectDir(projectId)
      const st = await statusAsync(dir)
      const instances = store.listInstances(projectId).filter((i) => i.status !== 'removed')
      return [200, { success: true, ...st, instances }]
    }],
    ['POST', /^\/api\/v1\/projects\/([^/]+)\/connectors$/, async ({ params: [projectId], req, url }) => {
      const dir = projectDir(projectId)
      const body = await readJson(req)
      requireFields(body, { connectorId: 'string', config: 'object' })
      const def = connectorOr404(body.connectorId)
      validOr400(def.id, body.config)
      if (url.searchParams.get('dryRun') === 'true') {
        // What adding would change, writing nothing: the diff has secret values redacted.
        const plan = await planAddAsync(dir, def.id, body.config)
        return [200, { success: true, dryRun: true, diff: plan.diff, codeChanges: codeChanges(plan.summary, def.name, 'Would add') }]
      }
      // Plan, store, inject, and remove the stored instance again if injecting fails: one call.
      let result
      try {
        result = await store.addConnectorAsync(dir, projectId, def.id, body.config, { ifStored: 'refuse' })
      } catch (e) {
        if (e.code === 'ALREADY_EXISTS') {
          throw new HttpError(409, 'ALREADY_EXISTS', `project \`${projectId}\` already has ${def.name}; PATCH .../connectors/${def.id} updates its config`)
        }
        throw e
      }
      const instance = store.getInstance(result.store.instanceId)
      return [201, {
        success: true,
        connectorInstance: { id: instance.id, connectorId: def.id, status: instance.status, createdAt: instance.createdAt },
        codeChanges: codeChanges(result, def.name, 'Added'),
      }]
    }],
    ['PATCH', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)$/, async ({ params: [projectId, connectorId], req, url }) => {
      const dir = projectDir(projectId)
      const body = await readJson(req)
      requireFields(body, { config: 'object' })
      const def = connectorOr404(connectorId)
      patchOr400(def.id, body.config)
      const dryRun = url.searchParams.get('dryRun') === 'true'
      // The patch is merged into the stored config (secrets it does not name are kept); if the
      // code change fails, the previous credentials become current again.
      let result
      try {
        result = await store.updateConnectorAsync(dir, projectId, def.id, body.config, { merge: true, dryRun })
      } catch (e) {
        if (e.code === 'NOT_ENABLED') {
          throw new HttpError(404, 'NOT_ENABLED', `project \`${projectId}\` has no ${def.name}; POST .../connectors adds it`)
        }
        throw e
      }
      if (dryRun) return [200, { success: true, dryRun: true, codeChanges: codeChanges(result, def.name, 'Would update') }]
      const instance = store.getInstance(result.store.instanceId)
      return [200, {
        success: true,
        connectorInstance: { id: instance.id, connectorId: def.id, status: instance.status, credentialsVersion: instance.credentialsVersion, updatedAt: instance.updatedAt },
        codeChanges: codeChanges(result, def.name, 'Updated'),
      }]
    }],
    ['DELETE', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)$/, async ({ params: [projectId, connectorId], url }) => {
      const dir = projectDir(projectId)
      const def = connectorOr404(connectorId)
      if (url.searchParams.get('dryRun') === 'true') {
        const plan = await planRemoveAsync(dir, def.id)
        return [200, { success: true, dryRun: true, diff: plan.diff, codeChanges: codeChanges(plan.summary, def.name, 'Would remove') }]
      }
      // Code first, then credentials (an active instance is disabled first): if the second
      // step fails, DELETE again finishes it.
      const result = await store.removeConnectorAsync(dir, projectId, def.id, { disableActive: true })
      return [200, { success: true, codeChanges: codeChanges(result, def.name, 'Removed') }]
    }],
    ['POST', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)\/test$/, async ({ params: [projectId, connectorId], req }) => {
      projectDir(projectId)
      const body = await readJson(req, { optional: true })
      requireFields(body, { testType: 'string', params: 'object' }, { optional: true })
      const def = connectorOr404(connectorId)
      const instance = store.findInstance(projectId, def.id)
      if (!instance) throw new HttpError(404, 'NOT_ENABLED', `project \`${projectId}\` has no ${def.name}; POST .../connectors adds it`)
      // The stored config, secrets included: the live check needs them. It never leaves the
      // server: the report is masked by the library.
      const what = body.testType ?? 'validation'
      const config = store.decryptCredentials(instance.id, `connection test (${what}) via the REST API`)
      let report
      try {
        if (body.testType === undefined) {
          report = await validate(def.id, config, netOptions)
        } else {
          report = await runTest(def.id, config, body.testType, body.params ?? {}, netOptions)
        }
      } catch (e) {
        const error = fromLibrary(e)
        if (e.code === 'UNKNOWN_ACTION') error.fields = [{ field: '/testType', message: e.message }]
        if (e.code === 'UNKNOWN_PARAM') error.fields = [{ field: '/params', message: e.message }]
        throw error
      }
      // A validation run moves the instance to `validated` (or `error`); a test action does not.
      // Both count in the instance's activity.
      if (body.testType === undefined) store.recordValidation(instance.id, report)
      else store.recordTest(instance.id, report)
      return [200, { success: report.success, duration: report.duration, steps: report.steps }]
    }],
    ['POST', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)\/(enable|disable)$/, async ({ params: [projectId, connectorId, action] }) => {
      const dir = projectDir(projectId)
      const def = connectorOr404(connectorId)
      // `active` needs validated credentials; `disabled` keeps code and credentials.
      const instance = action === 'enable' ? store.enableConnector(dir, projectId, def.id) : store.disableConnector(dir, projectId, def.id)
      return [200, { success: true, connectorInstance: instance }]
    }],
    ['POST', /^\/api\/v1\/session$/, async ({ who, req }) => {
      if (who.via !== 'bearer') throw new HttpError(400, 'BAD_REQUEST', 'sign in with `Authorization: Bearer <token>`')
      const session = auth.startSession()
      return [200, { success: true, csrfToken: session.csrf, expiresAt: new Date(session.expires).toISOString() }, { 'set-cookie': auth.cookie(session.id, { secure: req.socket.encrypted === true }) }]
    }],
    ['GET', /^\/api\/v1\/session$/, async ({ who }) => {
      if (who.via === 'bearer') return [200, { success: true, via: 'bearer' }]
      return [200, { success: true, via: 'cookie', csrfToken: who.session.csrf, expiresAt: new Date(who.session.expires).toISOString() }]
    }],
    ['DELETE', /^\/api\/v1\/session$/, async ({ who }) => {
      if (who.via === 'cookie') auth.endSession(who.id)
      return [200, { success: true }, { 'set-cookie': auth.cookie(undefined) }]
    }],
  ]

  async function handle(req, res) {
    const url = new URL(req.url, 'http://localhost')
    let pathname
    try {
      pathname = decodeURIComponent(url.pathname)
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', 'the path is not valid percent-encoding')
    }
    if (!pathname.startsWith('/api/')) return serveDashboard(req, res, pathname)
    // Every API route needs the token (or a session and, to change anything, its CSRF token).
    let who
    try {
      who = auth.check(req)
    } catch (e) {
      if (e instanceof AuthError) throw Object.assign(new HttpError(e.status, e.code, e.message), { authenticate: e.status === 401 })
      throw e
    }
    const matching = routes.filter(([, pattern]) => pattern.test(pathname))
    if (matching.length === 0) throw new HttpError(404, 'NOT_FOUND', `no route for ${pathname}`)
    const route = matching.find(([method]) => method === req.method)
    if (!route) {
      const allow = matching.map(([m]) => m).join(', ')
      throw Object.assign(new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here (allowed: ${allow})`), { allow })
    }
    const params = route[1].exec(pathname).slice(1)
    const [status, body, headers] = await route[2]({ req, url, params, who })
    send(res, status, body, { 'cache-control': 'no-store', ...headers })
  }

  /**
   * The dashboard's static files (no authentication: they hold no data; the data comes from
   * the API). `/` redirects to `/dashboard/`.
   */
  function serveDashboard(req, res, pathname) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw Object.assign(new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here (allowed: GET, HEAD)`), { allow: 'GET, HEAD' })
    }
    if (pathname === '/' || pathname === '/dashboard') {
      res.writeHead(302, { location: '/dashboard/' })
      res.end()
      return
    }
    const name = pathname === '/dashboard/' ? 'index.html' : pathname.slice('/dashboard/'.length)
    if (!pathname.startsWith('/dashboard/') || !/^([a-z0-9_-]+\/)?[a-z0-9_-]+\.(html|js|css|svg|map)$/.test(name)) {
      throw new HttpError(404, 'NOT_FOUND', `no route for ${pathname}`)
    }
    if (!fs.existsSync(path.join(dashboardDir, 'index.html'))) {
      throw new HttpError(503, 'DASHBOARD_NOT_BUILT', `the dashboard is not built: run \`npm run build:dashboard\` in examples/node-server`)
    }
    let data
    try {
      data = fs.readFileSync(path.join(dashboardDir, name))
    } catch {
      throw new HttpError(404, 'NOT_FOUND', `no route for ${pathname}`)
    }
    const types = { html: 'text/html', js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml', map: 'application/json' }
    res.writeHead(200, {
      'content-type': `${types[name.split('.').pop()]}; charset=utf-8`,
      'content-length': data.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    })
    res.end(req.method === 'HEAD' ? undefined : data)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      const error = fromLibrary(e)
      const headers = {}
      if (error.allow) headers.allow = error.allow
      if (error.authenticate) headers['www-authenticate'] = 'Bearer realm="mobigen-connectors"'
      if (error.status === 503 && error.code === 'BUSY') headers['retry-after'] = '1'
      send(res, error.status, {
        success: false,
        error: {
          code: error.code,
          message: error.message,
          ...(error.fields ? { fields: error.fields } : {}),
          ...(error.conflicts ? { conflicts: error.conflicts } : {}),
        },
      }, headers)
    })
  })
  server.token = auth.token
  if (auth.generated) {
    // Printed once: the only place the generated token appears. The fragment is not sent to
    // the server, nor in a Referer; the dashboard signs in with it and drops it from the URL.
    server.once('listening', () => {
      const address = server.address()
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
      console.error(`dashboard: http://${host}:${address.port}/dashboard/#token=${auth.token}`)
    })
  }
  return server
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = process.env.MOBIGEN_PROJECTS_ROOT
  if (!root) {
    console.error('error: set MOBIGEN_PROJECTS_ROOT to the folder holding one folder per project')
    process.exit(2)
  }
  const port = Number(process.env.PORT ?? 8080)
  const host = process.env.HOST ?? '127.0.0.1'
  createConnectorServer({
    root,
    store: process.env.MOBIGEN_STORE,
    keyringPath: process.env.MOBIGEN_KEYRING,
  }).listen(port, host, () => console.log(`connector API on http://${host}:${port}/api/v1/connectors, dashboard on http://${host}:${port}/dashboard/`))
}
