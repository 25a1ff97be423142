// The PRD's connector REST API (Appendix B and S3-07) on node:http, built on @mobigen/connectors.
//
//   GET    /api/v1/connectors[?category=C]                          list (PRD summary items)
//   GET    /api/v1/connectors/:id                                   details (configSchema, docs)
//   GET    /api/v1/projects/:projectId/connectors                   what the project has (status)
//   POST   /api/v1/projects/:projectId/connectors                   add {connectorId, config}
//   PATCH  /api/v1/projects/:projectId/connectors/:connectorId      update {config} (merged into the stored one)
//   DELETE /api/v1/projects/:projectId/connectors/:connectorId      remove
//   POST   /api/v1/projects/:projectId/connectors/:connectorId/test live check {testType?, params?}
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

import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  listConnectors,
  getConnector,
  validateConfig,
  statusAsync,
  validate,
  runTest,
  CredentialStore,
} from '@mobigen/connectors'

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
 * @param {{ root: string, store?: string, keyringPath?: string, actor?: string, net?: import('@mobigen/connectors').NetCallOptions }} options
 *   `root`: the folder holding one folder per project. `store`: an SQLite file or a
 *   PostgreSQL URL (`postgres://user@host/db`) that several server instances share. The store and
 *   keyring default to `<root>/.mobigen/connectors.db` and `<root>/.mobigen/vault-keyring.json`. `net`: options
 *   of the connection tests (base URLs, timeouts), on top of `MOBIGEN_<SERVICE>_API_BASE`.
 */
export function createConnectorServer(options) {
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
      try {
        return [200, listConnectors(category)]
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
      }]
    }],
    ['GET', /^\/api\/v1\/projects\/([^/]+)\/connectors$/, async ({ params: [projectId] }) => {
      const dir = projectDir(projectId)
      const st = await statusAsync(dir)
      const instances = store.listInstances(projectId).filter((i) => i.status !== 'removed')
      return [200, { success: true, ...st, instances }]
    }],
    ['POST', /^\/api\/v1\/projects\/([^/]+)\/connectors$/, async ({ params: [projectId], req }) => {
      const dir = projectDir(projectId)
      const body = await readJson(req)
      requireFields(body, { connectorId: 'string', config: 'object' })
      const def = connectorOr404(body.connectorId)
      validOr400(def.id, body.config)
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
    ['PATCH', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)$/, async ({ params: [projectId, connectorId], req }) => {
      const dir = projectDir(projectId)
      const body = await readJson(req)
      requireFields(body, { config: 'object' })
      const def = connectorOr404(connectorId)
      patchOr400(def.id, body.config)
      // The patch is merged into the stored config (secrets it does not name are kept); if the
      // code change fails, the previous credentials become current again.
      let result
      try {
        result = await store.updateConnectorAsync(dir, projectId, def.id, body.config, { merge: true })
      } catch (e) {
        if (e.code === 'NOT_ENABLED') {
          throw new HttpError(404, 'NOT_ENABLED', `project \`${projectId}\` has no ${def.name}; POST .../connectors adds it`)
        }
        throw e
      }
      const instance = store.getInstance(result.store.instanceId)
      return [200, {
        success: true,
        connectorInstance: { id: instance.id, connectorId: def.id, status: instance.status, credentialsVersion: instance.credentialsVersion, updatedAt: instance.updatedAt },
        codeChanges: codeChanges(result, def.name, 'Updated'),
      }]
    }],
    ['DELETE', /^\/api\/v1\/projects\/([^/]+)\/connectors\/([^/]+)$/, async ({ params: [projectId, connectorId] }) => {
      const dir = projectDir(projectId)
      const def = connectorOr404(connectorId)
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
  ]

  async function handle(req, res) {
    const url = new URL(req.url, 'http://localhost')
    let pathname
    try {
      pathname = decodeURIComponent(url.pathname)
    } catch {
      throw new HttpError(400, 'BAD_REQUEST', 'the path is not valid percent-encoding')
    }
    const matching = routes.filter(([, pattern]) => pattern.test(pathname))
    if (matching.length === 0) throw new HttpError(404, 'NOT_FOUND', `no route for ${pathname}`)
    const route = matching.find(([method]) => method === req.method)
    if (!route) {
      const allow = matching.map(([m]) => m).join(', ')
      throw Object.assign(new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here (allowed: ${allow})`), { allow })
    }
    const params = route[1].exec(pathname).slice(1)
    const [status, body] = await route[2]({ req, url, params })
    send(res, status, body)
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      const error = fromLibrary(e)
      const headers = {}
      if (error.allow) headers.allow = error.allow
      if (error.status === 503) headers['retry-after'] = '1'
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
  }).listen(port, host, () => console.log(`connector API on http://${host}:${port}/api/v1/connectors`))
}
