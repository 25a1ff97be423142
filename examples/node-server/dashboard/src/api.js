// The REST API as the dashboard calls it: same origin, the HttpOnly session cookie, and the
// session's CSRF token on every request that changes something. The token itself is only
// used once, to sign in; it is never stored by the page.

let csrfToken = null

/** An error answer of the API: `status`, `code`, `fields` ({field, message}). */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `the server answered ${status}`)
    this.status = status
    this.code = error?.code ?? 'HTTP_ERROR'
    this.fields = error?.fields ?? []
  }
}

async function request(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    cache: 'no-store',
  })
  let json = null
  try {
    json = await res.json()
  } catch {
    json = null
  }
  if (!res.ok) throw new ApiError(res.status, json?.error)
  return json
}

/** Exchanges the server's token for a session cookie. */
export async function signIn(token) {
  const answer = await request('POST', '/api/v1/session', undefined, { authorization: `Bearer ${token}` })
  csrfToken = answer.csrfToken
}

/** Whether a session cookie is there already (after a reload); picks up its CSRF token. */
export async function resumeSession() {
  try {
    const answer = await request('GET', '/api/v1/session')
    csrfToken = answer.csrfToken ?? null
    return true
  } catch (e) {
    if (e.status === 401) return false
    throw e
  }
}

export async function signOut() {
  await request('DELETE', '/api/v1/session')
  csrfToken = null
}

const enc = encodeURIComponent

export const api = {
  connectors: (category, q) => {
    const params = new URLSearchParams()
    if (category) params.set('category', category)
    if (q) params.set('q', q)
    const query = params.toString()
    return request('GET', `/api/v1/connectors${query ? `?${query}` : ''}`)
  },
  connector: (id) => request('GET', `/api/v1/connectors/${enc(id)}`),
  validate: (id, config, partial = false) => request('POST', `/api/v1/connectors/${enc(id)}/validate`, { config, partial }),
  projects: () => request('GET', '/api/v1/projects'),
  project: (projectId) => request('GET', `/api/v1/projects/${enc(projectId)}/connectors`),
  storedConfig: (projectId, id) => request('GET', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}/config`),
  planAdd: (projectId, id, config) => request('POST', `/api/v1/projects/${enc(projectId)}/connectors?dryRun=true`, { connectorId: id, config }),
  add: (projectId, id, config) => request('POST', `/api/v1/projects/${enc(projectId)}/connectors`, { connectorId: id, config }),
  planUpdate: (projectId, id, patch) => request('PATCH', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}?dryRun=true`, { config: patch }),
  update: (projectId, id, patch) => request('PATCH', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}`, { config: patch }),
  planRemove: (projectId, id) => request('DELETE', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}?dryRun=true`),
  remove: (projectId, id) => request('DELETE', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}`),
  enable: (projectId, id) => request('POST', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}/enable`),
  disable: (projectId, id) => request('POST', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}/disable`),
  test: (projectId, id, testType, params) =>
    request('POST', `/api/v1/projects/${enc(projectId)}/connectors/${enc(id)}/test`, testType ? { testType, params } : {}),
}
