// Drives the example server over 127.0.0.1: every route, validation, path safety.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createConnectorServer } from '../server.mjs'
import mock from '../../../bindings/node/testlib/mock-service.cjs'
import { CredentialStore } from '@mobigen/connectors'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const sampleApp = path.join(repo, 'examples', 'sample-app')
const stripe = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'sample-configs', 'stripe.json'), 'utf8'))
const supabase = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'sample-configs', 'supabase.json'), 'utf8'))

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-server-'))
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }))
const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-outside-'))
process.on('exit', () => fs.rmSync(outside, { recursive: true, force: true }))

function newProject(id) {
  fs.cpSync(sampleApp, path.join(root, id), { recursive: true, filter: (s) => path.basename(s) !== 'node_modules' })
  return path.join(root, id)
}

function tree(dir) {
  const out = {}
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name)
      if (e.isSymbolicLink()) out[path.relative(dir, full)] = `-> ${fs.readlinkSync(full)}`
      else if (e.isDirectory()) walk(full)
      else out[path.relative(dir, full)] = fs.readFileSync(full, 'utf8')
    }
  }
  walk(dir)
  return out
}

let server
let base
const TOKEN = 'test-token-0123456789abcdef'
// The Stripe API the connection tests reach: a scripted service on 127.0.0.1 whose routes each
// test sets.
const stripeRoutes = {}
let stripeApi
test.before(async () => {
  stripeApi = await mock.startMockService(stripeRoutes)
  server = createConnectorServer({ root, token: TOKEN, net: { apiBases: { stripe: stripeApi.base }, allowLocalNetwork: ['stripe'] } })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
})
test.after(async () => {
  await new Promise((resolve) => server.close(resolve))
  await stripeApi.close()
})

async function call(method, route, body, { raw, headers = { authorization: `Bearer ${TOKEN}` } } = {}) {
  const init = { method, headers: { ...headers } }
  if (body !== undefined) {
    init.body = raw ? body : JSON.stringify(body)
    init.headers['content-type'] = 'application/json'
  }
  const res = await fetch(base + route, init)
  const json = await res.json()
  return { status: res.status, body: json, headers: res.headers }
}

test('GET /api/v1/connectors lists PRD summaries; ?category filters', async () => {
  const { status, body } = await call('GET', '/api/v1/connectors')
  assert.equal(status, 200)
  assert.deepEqual(body.connectors.map((c) => c.id), ['firebase', 'onesignal', 'revenuecat', 'stripe', 'supabase'])
  for (const key of ['id', 'name', 'description', 'category', 'logo', 'authType', 'capabilities', 'setupDifficulty']) {
    assert.ok(key in body.connectors[0], key)
  }
  const payments = await call('GET', '/api/v1/connectors?category=payments')
  assert.deepEqual(payments.body.connectors.map((c) => c.id), ['stripe'])
  const bad = await call('GET', '/api/v1/connectors?category=nope')
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error.code, 'UNKNOWN_CATEGORY')
})

test('GET /api/v1/connectors/:id gives the schema and docs; unknown is 404', async () => {
  const { status, body } = await call('GET', '/api/v1/connectors/stripe')
  assert.equal(status, 200)
  assert.equal(body.id, 'stripe')
  assert.equal(body.configSchema.type, 'object')
  assert.match(body.documentation, /^https:/)
  assert.match(body.setupGuide, /^https:/)
  const missing = await call('GET', '/api/v1/connectors/strpe')
  assert.equal(missing.status, 404)
  assert.equal(missing.body.success, false)
  assert.equal(missing.body.error.code, 'UNKNOWN_CONNECTOR')
  assert.match(missing.body.error.message, /did you mean `stripe`/)
})

test('POST, GET, PATCH, DELETE a connector: PRD shapes, and the project is restored', async () => {
  const dir = newProject('shop-1')
  const before = tree(dir)
  const added = await call('POST', '/api/v1/projects/shop-1/connectors', { connectorId: 'stripe', config: stripe })
  assert.equal(added.status, 201, JSON.stringify(added.body))
  assert.equal(added.body.success, true)
  const inst = added.body.connectorInstance
  assert.match(inst.id, /^[0-9a-f-]{36}$/)
  assert.equal(inst.connectorId, 'stripe')
  assert.equal(inst.status, 'configured')
  assert.match(inst.createdAt, /^\d{4}-\d\d-\d\dT.*Z$/)
  assert.ok(added.body.codeChanges.filesAdded > 0)
  assert.equal(typeof added.body.codeChanges.filesModified, 'number')
  assert.equal(added.body.codeChanges.summary, 'Added Stripe')
  assert.ok(!JSON.stringify(added.body).includes(stripe.secretKey))

  const again = await call('POST', '/api/v1/projects/shop-1/connectors', { connectorId: 'stripe', config: stripe })
  assert.equal(again.status, 409)
  assert.equal(again.body.error.code, 'ALREADY_EXISTS')

  const listed = await call('GET', '/api/v1/projects/shop-1/connectors')
  assert.equal(listed.status, 200)
  assert.deepEqual(listed.body.connectors.map((c) => c.id), ['stripe'])
  assert.deepEqual(listed.body.instances.map((i) => i.id), [inst.id])

  const patched = await call('PATCH', '/api/v1/projects/shop-1/connectors/stripe', { config: { ...stripe, currency: 'eur' } })
  assert.equal(patched.status, 200, JSON.stringify(patched.body))
  assert.equal(patched.body.success, true)
  assert.equal(patched.body.connectorInstance.credentialsVersion, 2)
  assert.equal(patched.body.codeChanges.summary, 'Updated Stripe')

  const deleted = await call('DELETE', '/api/v1/projects/shop-1/connectors/stripe')
  assert.equal(deleted.status, 200)
  assert.equal(deleted.body.success, true)
  assert.deepEqual(tree(dir), before)
  const gone = await call('DELETE', '/api/v1/projects/shop-1/connectors/stripe')
  assert.equal(gone.status, 404)
  assert.equal(gone.body.error.code, 'NOT_ENABLED')
  const patchGone = await call('PATCH', '/api/v1/projects/shop-1/connectors/stripe', { config: stripe })
  assert.equal(patchGone.status, 404)
})

test('request validation: bad JSON, missing fields, schema errors with field pointers', async () => {
  newProject('shop-2')
  const badJson = await call('POST', '/api/v1/projects/shop-2/connectors', '{"connectorId": "stripe",', { raw: true })
  assert.equal(badJson.status, 400)
  assert.equal(badJson.body.error.code, 'BAD_JSON')
  const notObject = await call('POST', '/api/v1/projects/shop-2/connectors', '[1]', { raw: true })
  assert.equal(notObject.status, 400)
  const missing = await call('POST', '/api/v1/projects/shop-2/connectors', { config: 'x' })
  assert.equal(missing.status, 400)
  assert.deepEqual(missing.body.error.fields.map((f) => f.field), ['/connectorId', '/config'])
  const schema = await call('POST', '/api/v1/projects/shop-2/connectors', {
    connectorId: 'stripe',
    config: { publishableKey: 'sk_live_wrong', currency: 'EURO' },
  })
  assert.equal(schema.status, 400)
  assert.equal(schema.body.error.code, 'INVALID_CONFIG')
  const fields = schema.body.error.fields.map((f) => f.field).sort()
  assert.deepEqual(fields, ['/config/currency', '/config/publishableKey', '/config/secretKey'])
  assert.ok(schema.body.error.fields.every((f) => f.message))
  const unknown = await call('POST', '/api/v1/projects/shop-2/connectors', { connectorId: 'paypal', config: {} })
  assert.equal(unknown.status, 404)
  assert.equal(unknown.body.error.code, 'UNKNOWN_CONNECTOR')
  const patchBad = await call('PATCH', '/api/v1/projects/shop-2/connectors/supabase', { config: { projectUrl: 'http://x' } })
  assert.equal(patchBad.status, 400)
  assert.ok(patchBad.body.error.fields.some((f) => f.field === '/config/projectUrl'))
})

test('projects stay inside the root: bad ids are 400, missing and escaping ones 404', async () => {
  newProject('shop-3')
  for (const id of ['.mobigen', 'a%2F..%2F..', 'x'.repeat(65), 'a b']) {
    const res = await call('POST', `/api/v1/projects/${id}/connectors`, { connectorId: 'stripe', config: stripe })
    assert.ok(res.status === 400 || res.status === 404, `${id}: ${res.status}`)
    assert.equal(res.body.success, false)
  }
  // A raw `..` path (fetch would normalise it): the server normalises it too, so it matches no
  // project route.
  const raw = await new Promise((resolve, reject) => {
    const req = http.request(`${base}/api/v1/projects/../../etc/connectors`, { method: 'GET', path: '/api/v1/projects/../../etc/connectors', headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', reject)
    req.end()
  })
  assert.equal(raw, 404)
  const badId = await call('GET', '/api/v1/projects/a%20b/connectors')
  assert.equal(badId.status, 400)
  assert.equal(badId.body.error.code, 'BAD_PROJECT_ID')
  const missing = await call('GET', '/api/v1/projects/nobody/connectors')
  assert.equal(missing.status, 404)
  assert.equal(missing.body.error.code, 'PROJECT_NOT_FOUND')
  // A symlink in the root that points outside it is not a project.
  fs.cpSync(sampleApp, path.join(outside, 'app'), { recursive: true, filter: (s) => path.basename(s) !== 'node_modules' })
  fs.symlinkSync(path.join(outside, 'app'), path.join(root, 'escape'))
  const escaped = await call('POST', '/api/v1/projects/escape/connectors', { connectorId: 'stripe', config: stripe })
  assert.equal(escaped.status, 404)
  assert.ok(!fs.existsSync(path.join(outside, 'app', '.mobigen')))
})

test('a folder that is not an Expo project is 422 and leaves no stored credentials', async () => {
  fs.mkdirSync(path.join(root, 'empty'))
  const res = await call('POST', '/api/v1/projects/empty/connectors', { connectorId: 'supabase', config: supabase })
  assert.equal(res.status, 422)
  assert.equal(res.body.error.code, 'PROJECT_ERROR')
  const listed = await call('GET', '/api/v1/projects/shop-3/connectors')
  assert.equal(listed.status, 200)
  assert.deepEqual(listed.body.instances, [])
})

test('unknown routes are 404, wrong methods 405 with Allow', async () => {
  const nope = await call('GET', '/api/v2/connectors')
  assert.equal(nope.status, 404)
  const method = await call('PUT', '/api/v1/connectors')
  assert.equal(method.status, 405)
  assert.equal(method.headers.get('allow'), 'GET')
})

test('two projects at once: concurrent POSTs each succeed', async () => {
  newProject('multi-a')
  newProject('multi-b')
  const [a, b] = await Promise.all([
    call('POST', '/api/v1/projects/multi-a/connectors', { connectorId: 'stripe', config: stripe }),
    call('POST', '/api/v1/projects/multi-b/connectors', { connectorId: 'supabase', config: supabase }),
  ])
  assert.equal(a.status, 201, JSON.stringify(a.body))
  assert.equal(b.status, 201, JSON.stringify(b.body))
})

test('POST .../test: validation and test actions with the stored config, PRD shape', async () => {
  newProject('shop-test')
  const route = '/api/v1/projects/shop-test/connectors/stripe/test'
  const notYet = await call('POST', route)
  assert.equal(notYet.status, 404)
  assert.equal(notYet.body.error.code, 'NOT_ENABLED')
  const added = await call('POST', '/api/v1/projects/shop-test/connectors', { connectorId: 'stripe', config: stripe })
  assert.equal(added.status, 201, JSON.stringify(added.body))
  assert.equal(added.body.connectorInstance.status, 'configured')

  // No body: a live validation of the stored credentials; success moves the instance on.
  stripeRoutes['GET /v1/account'] = [200, { id: 'acct_shop', charges_enabled: true }]
  const valid = await call('POST', route)
  assert.equal(valid.status, 200, JSON.stringify(valid.body))
  assert.deepEqual(Object.keys(valid.body), ['success', 'duration', 'steps'])
  assert.equal(valid.body.success, true)
  assert.equal(typeof valid.body.duration, 'number')
  assert.deepEqual(valid.body.steps.map((s) => [s.name, s.passed]), [['API key validation', true]])
  const seen = stripeApi.requests.filter((r) => r.path === '/v1/account')
  assert.equal(seen.at(-1).headers.authorization, `Bearer ${stripe.secretKey}`, 'the stored secret was used')
  const listed = await call('GET', '/api/v1/projects/shop-test/connectors')
  assert.equal(listed.body.instances[0].status, 'validated')
  assert.ok(listed.body.instances[0].lastValidatedAt)

  // A test action with params.
  stripeRoutes['POST /v1/payment_intents'] = [200, { id: 'pi_shop', status: 'requires_payment_method', livemode: false }]
  stripeRoutes['POST /v1/payment_intents/pi_shop/cancel'] = [200, { id: 'pi_shop', status: 'canceled' }]
  const tested = await call('POST', route, { testType: 'payment_intent', params: { amount: 1000 } })
  assert.equal(tested.status, 200, JSON.stringify(tested.body))
  assert.equal(tested.body.success, true)
  assert.deepEqual(tested.body.steps.map((s) => s.name), ['Payment intent created', 'Payment intent cancelled'])
  const created = stripeApi.requests.find((r) => r.path === '/v1/payment_intents')
  assert.equal(new URLSearchParams(created.body).get('amount'), '1000')

  // The service refuses the key: still 200, a failed step naming the config field; no secret.
  stripeRoutes['GET /v1/account'] = [401, { error: { message: `Invalid API Key provided: ${stripe.secretKey}` } }]
  const refused = await call('POST', route, {})
  assert.equal(refused.status, 200)
  assert.equal(refused.body.success, false)
  assert.equal(refused.body.steps[0].field, '/secretKey')
  assert.ok(refused.body.steps[0].suggestion)
  assert.ok(!JSON.stringify(refused.body).includes(stripe.secretKey))
  const after = await call('GET', '/api/v1/projects/shop-test/connectors')
  assert.equal(after.body.instances[0].status, 'error')
  // Each run counts in the instance's activity: requests, credential reads, the last error.
  const { activity } = after.body.instances[0]
  assert.equal(activity.apiCallsToday, 4, JSON.stringify(activity))
  assert.equal(activity.credentialReadsToday, 3)
  assert.equal(activity.errorsToday, 1)
  assert.equal(activity.lastError.kind, 'validation')
  assert.ok(!JSON.stringify(activity).includes(stripe.secretKey))

  // Bad requests.
  const unknownAction = await call('POST', route, { testType: 'refund' })
  assert.equal(unknownAction.status, 400)
  assert.equal(unknownAction.body.error.code, 'UNKNOWN_ACTION')
  assert.deepEqual(unknownAction.body.error.fields.map((f) => f.field), ['/testType'])
  const unknownParam = await call('POST', route, { testType: 'payment_intent', params: { amonut: 1 } })
  assert.equal(unknownParam.status, 400)
  assert.equal(unknownParam.body.error.code, 'UNKNOWN_PARAM')
  const badType = await call('POST', route, { testType: 7 })
  assert.equal(badType.status, 400)
  assert.deepEqual(badType.body.error.fields.map((f) => f.field), ['/testType'])
  const badJson = await call('POST', route, '{', { raw: true })
  assert.equal(badJson.body.error.code, 'BAD_JSON')
  const unknownConnector = await call('POST', '/api/v1/projects/shop-test/connectors/paypal/test')
  assert.equal(unknownConnector.status, 404)
  assert.equal(unknownConnector.body.error.code, 'UNKNOWN_CONNECTOR')
})

test('POST .../test: concurrent tests of two projects each get their own report', async () => {
  newProject('conc-a')
  newProject('conc-b')
  for (const id of ['conc-a', 'conc-b']) {
    const added = await call('POST', `/api/v1/projects/${id}/connectors`, { connectorId: 'stripe', config: stripe })
    assert.equal(added.status, 201)
  }
  stripeRoutes['GET /v1/account'] = [200, { id: 'acct_conc', charges_enabled: true }, 50]
  const results = await Promise.all(['conc-a', 'conc-b', 'conc-a', 'conc-b'].map((id) => call('POST', `/api/v1/projects/${id}/connectors/stripe/test`)))
  assert.deepEqual(results.map((r) => [r.status, r.body.success]), [[200, true], [200, true], [200, true], [200, true]])
})

// Issue 15, item 17: PATCH goes through the library's protocol, so a code change that fails
// after the store was written puts the previous credentials back (it used to leave the new
// config stored and the code unchanged).
test('PATCH whose code change fails leaves the stored config and the project unchanged', async () => {
  const dir = newProject('shop-patch')
  const added = await call('POST', '/api/v1/projects/shop-patch/connectors', { connectorId: 'stripe', config: stripe })
  assert.equal(added.status, 201, JSON.stringify(added.body))
  // Applying refuses to write through a symbolic link into the library's own .mobigen folder;
  // planning reads through it (it stays inside the project). So the PATCH fails after the store
  // write.
  fs.renameSync(path.join(dir, 'src'), path.join(dir, '.mobigen', 'moved-src'))
  fs.symlinkSync(path.join(dir, '.mobigen', 'moved-src'), path.join(dir, 'src'))
  const before = tree(dir)
  const store = CredentialStore.open(path.join(root, '.mobigen', 'connectors.db'), path.join(root, '.mobigen', 'vault-keyring.json'), { actor: 'test' })
  const instance = store.findInstance('shop-patch', 'stripe')
  const storedBefore = store.decryptCredentials(instance.id, 'test: before the PATCH')
  const patched = await call('PATCH', '/api/v1/projects/shop-patch/connectors/stripe', { config: { currency: 'eur', secretKey: 'sk_test_51PatchedNeverStored' } })
  assert.equal(patched.body.success, false, JSON.stringify(patched.body))
  assert.match(patched.body.error.message, /symbolic link/)
  assert.match(patched.body.error.message, /the stored credentials were put back to version 1/)
  assert.ok(!JSON.stringify(patched.body).includes('sk_test_51PatchedNeverStored'))
  assert.ok(!JSON.stringify(patched.body).includes(stripe.secretKey))
  assert.deepEqual(tree(dir), before)
  assert.deepEqual(store.decryptCredentials(instance.id, 'test: the PATCH was undone'), storedBefore)
  assert.equal(storedBefore.currency, 'usd')

  // Once the link is gone, the same PATCH merges into the stored config (secrets kept).
  fs.rmSync(path.join(dir, 'src'))
  fs.renameSync(path.join(dir, '.mobigen', 'moved-src'), path.join(dir, 'src'))
  const ok = await call('PATCH', '/api/v1/projects/shop-patch/connectors/stripe', { config: { currency: 'eur' } })
  assert.equal(ok.status, 200, JSON.stringify(ok.body))
  const merged = store.decryptCredentials(instance.id, 'test: the PATCH was merged')
  assert.deepEqual(merged, { ...storedBefore, currency: 'eur' })
  assert.match(fs.readFileSync(path.join(dir, '.env'), 'utf8'), /EXPO_PUBLIC_STRIPE_CURRENCY=eur/)
  // A PATCH naming an invalid member is refused with its field.
  const bad = await call('PATCH', '/api/v1/projects/shop-patch/connectors/stripe', { config: { currency: 'EURO' } })
  assert.equal(bad.status, 400)
  assert.deepEqual(bad.body.error.fields.map((f) => f.field), ['/config/currency'])
})

test('the dashboard routes: search, live field errors, dry-run diffs, enable and disable', async () => {
  // The library's ranked, typo-tolerant search, within a category when given.
  const found = await call('GET', '/api/v1/connectors?q=strpe')
  assert.equal(found.status, 200)
  assert.equal(found.body.connectors[0].id, 'stripe')
  const none = await call('GET', '/api/v1/connectors?q=strpe&category=database')
  assert.ok(!none.body.connectors.some((c) => c.id === 'stripe'))
  const details = await call('GET', '/api/v1/connectors/stripe')
  assert.deepEqual(details.body.testActions.map((a) => a.id), ['payment_intent'])
  assert.ok(details.body.features.some((f) => f.id === 'subscriptions' && f.enabledWhen.pointer === '/subscriptionEnabled'))

  // Field errors as the user types: pointers into the config, no value echoed.
  const bad = await call('POST', '/api/v1/connectors/stripe/validate', { config: { ...stripe, secretKey: 'sk_nope_SECRET' } })
  assert.equal(bad.status, 200)
  assert.equal(bad.body.valid, false)
  assert.deepEqual(bad.body.issues.filter((i) => i.severity === 'error').map((i) => i.field), ['/secretKey'])
  assert.ok(!JSON.stringify(bad.body).includes('sk_nope_SECRET'))
  const good = await call('POST', '/api/v1/connectors/stripe/validate', { config: stripe })
  assert.equal(good.body.valid, true)
  assert.ok(good.body.features.includes('subscriptions'))
  const partial = await call('POST', '/api/v1/connectors/stripe/validate', { config: { currency: 'eur' }, partial: true })
  assert.equal(partial.body.valid, true, JSON.stringify(partial.body))
  const deleting = await call('POST', '/api/v1/connectors/stripe/validate', { config: { currency: 'eur', webhookSecret: null }, partial: true })
  assert.equal(deleting.body.valid, true, JSON.stringify(deleting.body))
  const badPartial = await call('POST', '/api/v1/connectors/stripe/validate', { config: { currency: 'EURO' }, partial: true })
  assert.deepEqual(badPartial.body.issues.map((i) => i.field), ['/currency'])

  // Dry runs: the diff, secrets redacted, nothing written.
  const dir = newProject('shop-dash')
  const before = tree(dir)
  const dry = await call('POST', '/api/v1/projects/shop-dash/connectors?dryRun=true', { connectorId: 'stripe', config: stripe })
  assert.equal(dry.status, 200, JSON.stringify(dry.body))
  assert.equal(dry.body.dryRun, true)
  assert.match(dry.body.diff, /^--- a\//m)
  assert.match(dry.body.diff, /STRIPE_SECRET_KEY/)
  assert.ok(!JSON.stringify(dry.body).includes(stripe.secretKey))
  assert.deepEqual(tree(dir), before)
  const added = await call('POST', '/api/v1/projects/shop-dash/connectors', { connectorId: 'stripe', config: stripe })
  assert.equal(added.status, 201)
  const dryRemove = await call('DELETE', '/api/v1/projects/shop-dash/connectors/stripe?dryRun=true')
  assert.equal(dryRemove.status, 200)
  assert.match(dryRemove.body.diff, /^\+\+\+ b\//m)
  assert.ok(!JSON.stringify(dryRemove.body).includes(stripe.secretKey))

  // The projects, the stored public config (secrets only named), a PATCH dry run.
  const projects = await call('GET', '/api/v1/projects')
  assert.ok(projects.body.projects.some((p) => p.id === 'shop-dash'))
  assert.ok(!projects.body.projects.some((p) => p.id === '.mobigen' || p.id === 'escape'))
  const stored = await call('GET', '/api/v1/projects/shop-dash/connectors/stripe/config')
  assert.equal(stored.status, 200, JSON.stringify(stored.body))
  assert.equal(stored.body.config.publishableKey, stripe.publishableKey)
  assert.equal(stored.body.config.currency, 'usd')
  assert.deepEqual(stored.body.secretsSet, ['/secretKey'])
  assert.ok(!JSON.stringify(stored.body).includes(stripe.secretKey))
  const afterAdd = tree(dir)
  const dryPatch = await call('PATCH', '/api/v1/projects/shop-dash/connectors/stripe?dryRun=true', { config: { currency: 'eur' } })
  assert.equal(dryPatch.status, 200, JSON.stringify(dryPatch.body))
  assert.equal(dryPatch.body.dryRun, true)
  assert.ok(dryPatch.body.codeChanges.files.some((f) => f.path === '.env'))
  assert.deepEqual(tree(dir), afterAdd)
  assert.equal((await call('GET', '/api/v1/projects/shop-dash/connectors')).body.instances[0].credentialsVersion, 1)

  // Enabling needs validated credentials; then disable and enable again.
  const early = await call('POST', '/api/v1/projects/shop-dash/connectors/stripe/enable')
  assert.equal(early.status, 409)
  assert.equal(early.body.error.code, 'ILLEGAL_TRANSITION')
  stripeRoutes['GET /v1/account'] = [200, { id: 'acct_dash', charges_enabled: true }]
  assert.equal((await call('POST', '/api/v1/projects/shop-dash/connectors/stripe/test')).body.success, true)
  for (const [action, status] of [['enable', 'active'], ['disable', 'disabled'], ['enable', 'active']]) {
    const res = await call('POST', `/api/v1/projects/shop-dash/connectors/stripe/${action}`)
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.connectorInstance.status, status)
  }
  const removed = await call('DELETE', '/api/v1/projects/shop-dash/connectors/stripe')
  assert.equal(removed.status, 200, JSON.stringify(removed.body))
  assert.deepEqual(tree(dir), before)
})
