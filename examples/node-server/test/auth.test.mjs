// The server's authentication: the token as a bearer header, the dashboard's session cookie and
// its CSRF token; 401 without, 403 for a cookie request that cannot prove it came from the
// dashboard.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createConnectorServer } from '../server.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..', '..')
const stripe = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'sample-configs', 'stripe.json'), 'utf8'))
const TOKEN = 'auth-test-token-0123456789'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-auth-'))
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }))
fs.cpSync(path.join(repo, 'examples', 'sample-app'), path.join(root, 'shop'), { recursive: true, filter: (s) => path.basename(s) !== 'node_modules' })

let server
let base
test.before(async () => {
  server = createConnectorServer({ root, token: TOKEN })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
test.after(() => new Promise((resolve) => server.close(resolve)))

async function call(method, route, { headers = {}, body } = {}) {
  const init = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers['content-type'] = 'application/json'
  }
  const res = await fetch(base + route, init)
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined }
}

const ROUTES = [
  ['GET', '/api/v1/connectors'],
  ['GET', '/api/v1/connectors/stripe'],
  ['POST', '/api/v1/connectors/stripe/validate', { config: stripe }],
  ['GET', '/api/v1/projects/shop/connectors'],
  ['POST', '/api/v1/projects/shop/connectors', { connectorId: 'stripe', config: stripe }],
  ['POST', '/api/v1/projects/shop/connectors?dryRun=true', { connectorId: 'stripe', config: stripe }],
  ['PATCH', '/api/v1/projects/shop/connectors/stripe', { config: { currency: 'eur' } }],
  ['DELETE', '/api/v1/projects/shop/connectors/stripe'],
  ['POST', '/api/v1/projects/shop/connectors/stripe/test'],
  ['POST', '/api/v1/projects/shop/connectors/stripe/enable'],
  ['POST', '/api/v1/projects/shop/connectors/stripe/disable'],
  ['GET', '/api/v1/session'],
  ['POST', '/api/v1/session'],
  ['GET', '/api/v2/nothing'],
]

test('every API route is 401 without the token, or with a wrong one, and changes nothing', async () => {
  const before = fs.readFileSync(path.join(root, 'shop', 'package.json'), 'utf8')
  for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Basic ${TOKEN}` }, { cookie: 'mobigen_session=forged' }]) {
    for (const [method, route, body] of ROUTES) {
      const res = await call(method, route, { headers, body })
      assert.equal(res.status, 401, `${method} ${route} with ${JSON.stringify(headers)}: ${res.text}`)
      assert.equal(res.body.error.code, 'UNAUTHORIZED')
      assert.match(res.headers.get('www-authenticate'), /^Bearer /)
      assert.equal(res.headers.get('set-cookie'), null)
    }
  }
  assert.equal(fs.readFileSync(path.join(root, 'shop', 'package.json'), 'utf8'), before)
  assert.ok(!fs.existsSync(path.join(root, 'shop', '.mobigen')))
})

test('the bearer token works on every route, without a CSRF token', async () => {
  const res = await call('GET', '/api/v1/connectors', { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  const dry = await call('POST', '/api/v1/projects/shop/connectors?dryRun=true', { headers: { authorization: `bearer ${TOKEN}` }, body: { connectorId: 'stripe', config: stripe } })
  assert.equal(dry.status, 200, dry.text)
})

test('the session cookie: HttpOnly, SameSite=Strict; state changes need its CSRF token and our origin', async () => {
  const login = await call('POST', '/api/v1/session', { headers: { authorization: `Bearer ${TOKEN}` } })
  assert.equal(login.status, 200, login.text)
  const setCookie = login.headers.get('set-cookie')
  assert.match(setCookie, /^mobigen_session=[A-Za-z0-9_-]{40,}; /)
  assert.match(setCookie, /; HttpOnly/)
  assert.match(setCookie, /; SameSite=Strict/)
  assert.match(setCookie, /; Path=\//)
  assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token')
  const csrf = login.body.csrfToken
  assert.match(csrf, /^[A-Za-z0-9_-]{40,}$/)
  const cookie = setCookie.split(';')[0]

  // Reads need only the cookie; the session tells the CSRF token again (after a reload).
  const read = await call('GET', '/api/v1/projects/shop/connectors', { headers: { cookie } })
  assert.equal(read.status, 200, read.text)
  const session = await call('GET', '/api/v1/session', { headers: { cookie } })
  assert.deepEqual([session.body.via, session.body.csrfToken], ['cookie', csrf])

  // Changes without the CSRF token, with a wrong one, or from another origin: 403, nothing done.
  const add = { connectorId: 'stripe', config: stripe }
  for (const headers of [
    { cookie },
    { cookie, 'x-csrf-token': 'not-the-token' },
    { cookie, 'x-csrf-token': csrf, origin: 'http://evil.example' },
  ]) {
    const refused = await call('POST', '/api/v1/projects/shop/connectors', { headers, body: add })
    assert.equal(refused.status, 403, refused.text)
    assert.equal(refused.body.error.code, 'CSRF_REFUSED')
  }
  const del = await call('DELETE', '/api/v1/session', { headers: { cookie } })
  assert.equal(del.status, 403)
  const samplePackage = fs.readFileSync(path.join(repo, 'examples', 'sample-app', 'package.json'), 'utf8')
  assert.equal(fs.readFileSync(path.join(root, 'shop', 'package.json'), 'utf8'), samplePackage)
  const listed = await call('GET', '/api/v1/projects/shop/connectors', { headers: { cookie } })
  assert.deepEqual(listed.body.instances, [])

  // With it, from our own origin: done, and no response carries the secret key.
  const added = await call('POST', '/api/v1/projects/shop/connectors', { headers: { cookie, 'x-csrf-token': csrf, origin: base }, body: add })
  assert.equal(added.status, 201, added.text)
  assert.ok(!added.text.includes(stripe.secretKey))
  const removed = await call('DELETE', '/api/v1/projects/shop/connectors/stripe', { headers: { cookie, 'x-csrf-token': csrf } })
  assert.equal(removed.status, 200, removed.text)

  // Signing out ends the session: the cookie no longer works.
  const out = await call('DELETE', '/api/v1/session', { headers: { cookie, 'x-csrf-token': csrf } })
  assert.equal(out.status, 200)
  assert.match(out.headers.get('set-cookie'), /Max-Age=0/)
  const after = await call('GET', '/api/v1/connectors', { headers: { cookie } })
  assert.equal(after.status, 401)
})

test('a token shorter than 16 characters is refused at start', () => {
  assert.throws(() => createConnectorServer({ root, token: 'short' }), /at least 16 characters/)
})

test('without a token the server makes one, binds 127.0.0.1 and prints the dashboard URL once to stderr', async () => {
  const env = { ...process.env, MOBIGEN_PROJECTS_ROOT: root, PORT: '0' }
  delete env.MOBIGEN_DASHBOARD_TOKEN
  delete env.HOST
  const child = spawn(process.execPath, [path.join(here, '..', 'server.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    let stderr = ''
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no dashboard URL on stderr: ${stderr}`)), 10000)
      child.stderr.on('data', (chunk) => {
        stderr += chunk
        const match = /dashboard: (\S+)\n/.exec(stderr)
        if (match) {
          clearTimeout(timer)
          resolve(new URL(match[1]))
        }
      })
      child.on('exit', (code) => reject(new Error(`the server exited (${code}): ${stderr}`)))
    })
    assert.equal(url.hostname, '127.0.0.1')
    assert.equal(url.pathname, '/dashboard/')
    const token = /^#token=([A-Za-z0-9_-]{40,})$/.exec(url.hash)?.[1]
    assert.ok(token, url.hash)
    const origin = `http://${url.host}`
    assert.equal((await fetch(`${origin}/api/v1/connectors`)).status, 401)
    assert.equal((await fetch(`${origin}/api/v1/connectors`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
    assert.equal(stderr.split(token).length - 1, 1, 'the token is printed once')
  } finally {
    child.kill()
  }
})

test('the dashboard\'s static files need no token, carry a strict CSP, and nothing else is served', async () => {
  const files = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-static-'))
  fs.writeFileSync(path.join(files, 'index.html'), '<!doctype html><title>t</title>')
  fs.writeFileSync(path.join(files, 'app.js'), 'export {}')
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-static-empty-'))
  const servers = [createConnectorServer({ root, token: TOKEN, dashboardDir: files }), createConnectorServer({ root, token: TOKEN, dashboardDir: empty })]
  try {
    const [built, unbuilt] = await Promise.all(servers.map((s) => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${s.address().port}`)))))
    const index = await fetch(`${built}/dashboard/`)
    assert.equal(index.status, 200)
    assert.match(index.headers.get('content-type'), /^text\/html/)
    assert.match(index.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/)
    assert.equal(index.headers.get('x-frame-options'), 'DENY')
    const script = await fetch(`${built}/dashboard/app.js`)
    assert.match(script.headers.get('content-type'), /^text\/javascript/)
    const home = await fetch(`${built}/`, { redirect: 'manual' })
    assert.equal(home.status, 302)
    assert.equal(home.headers.get('location'), '/dashboard/')
    for (const route of ['/dashboard/missing.js', '/dashboard/%2e%2e%2fserver.mjs', '/dashboard/..%2Fpackage.json', '/server.mjs', '/dashboard/.hidden.js']) {
      const res = await fetch(built + route)
      assert.equal(res.status, 404, route)
    }
    assert.equal((await fetch(`${built}/dashboard/`, { method: 'POST' })).status, 405)
    const notBuilt = await fetch(`${unbuilt}/dashboard/`)
    assert.equal(notBuilt.status, 503)
    assert.match((await notBuilt.json()).error.message, /npm run build:dashboard/)
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    fs.rmSync(files, { recursive: true, force: true })
    fs.rmSync(empty, { recursive: true, force: true })
  }
})
