// Network calls against scripted services on 127.0.0.1: validate, runTest, the OAuth round trip
// (PKCE, state, sealed secrets), error codes, and many calls at once.
import test from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {
  validate, runTest, oauthBegin, oauthComplete, fetchSupplied, planAdd, add, remove, Vault, CredentialStore,
} from '@mobigen/connectors'
import fixtures from '../testlib/fixtures.cjs'
import mock from '../testlib/mock-service.cjs'
import throws from '../testlib/throws.cjs'

const { copySampleApp, readTree, sampleConfig, tempDir } = fixtures
const { startMockService } = mock
const { rejectsCode } = throws
const stripe = sampleConfig('stripe')

/** Options pointing `service` at the mock (and allowing the loopback address for it). */
const at = (service, base) => ({ apiBases: { [service]: base }, allowLocalNetwork: [service] })

function throwsType(fn) {
  let caught
  assert.throws(fn, (e) => ((caught = e), true))
  assert.ok(caught instanceof TypeError, `expected TypeError, got ${caught?.constructor.name}: ${caught?.message}`)
  assert.equal(caught.code, 'INVALID_ARGUMENT')
  return caught
}

test('validate: a working key passes, with the account in the details', async (t) => {
  const service = await startMockService({ 'GET /v1/account': [200, { id: 'acct_123', charges_enabled: true }] })
  t.after(service.close)
  const report = await validate('stripe', stripe, at('stripe', service.base))
  assert.equal(report.success, true, JSON.stringify(report))
  assert.equal(typeof report.duration, 'number')
  assert.equal(report.steps.length, 1)
  assert.equal(report.steps[0].name, 'API key validation')
  assert.equal(report.steps[0].passed, true)
  assert.match(report.steps[0].details, /acct_123/)
  assert.equal(service.requests[0].headers.authorization, `Bearer ${stripe.secretKey}`)
})

test('validate: a rejected key is a failed step naming the config field, without the secret', async (t) => {
  const service = await startMockService({
    'GET /v1/account': [401, { error: { message: `Invalid API Key provided: ${stripe.secretKey}` } }],
  })
  t.after(service.close)
  const report = await validate('stripe', stripe, at('stripe', service.base))
  assert.equal(report.success, false)
  const [step] = report.steps
  assert.equal(step.passed, false)
  assert.equal(step.field, '/secretKey')
  assert.match(step.suggestion, /API keys/)
  assert.ok(!JSON.stringify(report).includes(stripe.secretKey), 'the key is masked')
})

test('validate reads MOBIGEN_<SERVICE>_API_BASE from the environment per call', async (t) => {
  const service = await startMockService({ 'GET /v1/account': [200, { id: 'acct_env', charges_enabled: true }] })
  t.after(service.close)
  process.env.MOBIGEN_STRIPE_API_BASE = service.base
  t.after(() => delete process.env.MOBIGEN_STRIPE_API_BASE)
  const report = await validate('stripe', stripe)
  assert.equal(report.success, true, JSON.stringify(report))
  assert.equal(service.requests.length, 1)
})

test('validate: a local address without allowLocalNetwork is refused, nothing is sent', async (t) => {
  const service = await startMockService({ 'GET /v1/account': [200, { id: 'acct_1' }] })
  t.after(service.close)
  const report = await validate('stripe', stripe, { apiBases: { stripe: service.base } })
  assert.equal(report.success, false)
  assert.match(report.steps[0].details, /endpoint refused/)
  assert.equal(service.requests.length, 0)
})

test('runTest: payment_intent creates with the params, then cleans up', async (t) => {
  const service = await startMockService({
    'POST /v1/payment_intents': [200, { id: 'pi_42', status: 'requires_payment_method', livemode: false }],
    'POST /v1/payment_intents/pi_42/cancel': [200, { id: 'pi_42', status: 'canceled' }],
  })
  t.after(service.close)
  const report = await runTest('stripe', stripe, 'payment_intent', { amount: 1000, currency: 'eur' }, at('stripe', service.base))
  assert.equal(report.success, true, JSON.stringify(report))
  assert.deepEqual(report.steps.map((s) => [s.name, s.passed]), [['Payment intent created', true], ['Payment intent cancelled', true]])
  const form = new URLSearchParams(service.requests[0].body)
  assert.equal(form.get('amount'), '1000')
  assert.equal(form.get('currency'), 'eur')
})

test('runTest: a live key is refused before sending anything (field /secretKey)', async (t) => {
  const service = await startMockService({})
  t.after(service.close)
  const live = { ...stripe, secretKey: 'sk_live_51SampleOnlyNotARealKey00000000', publishableKey: 'pk_live_51SampleOnlyNotARealKey00000000' }
  const report = await runTest('stripe', live, 'payment_intent', {}, at('stripe', service.base))
  assert.equal(report.success, false)
  assert.equal(report.steps[0].field, '/secretKey')
  assert.equal(service.requests.length, 0)
})

test('error codes: unknown action and param, invalid config, unknown connector reject', async () => {
  await rejectsCode(runTest('stripe', stripe, 'refund'), 'UNKNOWN_ACTION')
  await rejectsCode(runTest('stripe', stripe, 'payment_intent', { amonut: 5 }), 'UNKNOWN_PARAM')
  const invalid = await rejectsCode(validate('stripe', { ...stripe, secretKey: 'nope' }), 'INVALID_CONFIG')
  assert.ok(invalid.issues.some((i) => i.pointer === '/secretKey'))
  await rejectsCode(validate('strpe', stripe), 'UNKNOWN_CONNECTOR')
})

test('bad arguments throw TypeError synchronously', () => {
  throwsType(() => validate(42, stripe))
  throwsType(() => validate('stripe', 'config'))
  throwsType(() => validate('stripe', stripe, { apiBase: {} }))
  throwsType(() => validate('stripe', stripe, { apiBases: { stripe: 'ftp://example.com' } }))
  throwsType(() => validate('stripe', stripe, { timeoutMs: -1 }))
  throwsType(() => runTest('stripe', stripe, ''))
  throwsType(() => runTest('stripe', stripe, 'payment_intent', [1]))
  throwsType(() => oauthBegin('stripe', { clientId: 'ca_1', redirectUri: 'https://a.example/cb', projectId: 'p', vault: {} }))
})

test('many calls at once run concurrently and all resolve', async (t) => {
  const service = await startMockService({ 'GET /v1/account': [200, { id: 'acct_many', charges_enabled: true }, 100] })
  t.after(service.close)
  const reports = await Promise.all(Array.from({ length: 40 }, () => validate('stripe', stripe, at('stripe', service.base))))
  assert.equal(reports.length, 40)
  assert.ok(reports.every((r) => r.success), JSON.stringify(reports.find((r) => !r.success)))
  assert.equal(service.requests.length, 40)
  assert.ok(service.maxInFlight() > 4, `requests overlapped: at most ${service.maxInFlight()} at once`)
})

test('CredentialStore#recordValidation: configured -> validated on success, error on failure', async (t) => {
  const service = await startMockService({ 'GET /v1/account': [200, { id: 'acct_rec', charges_enabled: true }] })
  t.after(service.close)
  const dir = tempDir()
  const store = CredentialStore.open(path.join(dir, 'connectors.db'), path.join(dir, 'keyring.json'))
  const instance = store.storeCredentials('prj-rec', 'stripe', stripe)
  assert.equal(instance.status, 'configured')
  const report = await validate('stripe', store.decryptCredentials(instance.id, 'live check'), at('stripe', service.base))
  const validated = store.recordValidation(instance.id, report)
  assert.equal(validated.status, 'validated')
  assert.ok(validated.lastValidatedAt)
  const failed = store.recordValidation(instance.id, { ...report, success: false })
  assert.equal(failed.status, 'error')
  throwsType(() => store.recordValidation(instance.id, { duration: 1, steps: [] }))
})

test('CredentialStore activity: reads, validations, test runs and a host\'s own calls, per day', async (t) => {
  const service = await startMockService({
    'GET /v1/account': [401, { error: { message: `Invalid API Key provided: ${stripe.secretKey}` } }],
    'POST /v1/payment_intents': [200, { id: 'pi_act', status: 'requires_payment_method', livemode: false }],
    'POST /v1/payment_intents/pi_act/cancel': [200, { id: 'pi_act', status: 'canceled' }],
  })
  t.after(service.close)
  const dir = tempDir()
  const store = CredentialStore.open(path.join(dir, 'connectors.db'), path.join(dir, 'keyring.json'))
  const instance = store.storeCredentials('prj-act', 'stripe', stripe)
  assert.deepEqual(instance.activity, {
    lastUsedAt: null, apiCallsToday: 0, credentialReadsToday: 0, errorsToday: 0, lastError: null, days: [],
  })
  const config = store.decryptCredentials(instance.id, 'live check')
  const failed = await validate('stripe', config, at('stripe', service.base))
  assert.equal(failed.requests, 1)
  const afterValidation = store.recordValidation(instance.id, failed)
  assert.equal(afterValidation.status, 'error')
  const tested = await runTest('stripe', config, 'payment_intent', {}, at('stripe', service.base))
  assert.equal(tested.success, true, JSON.stringify(tested))
  assert.equal(tested.requests, 2)
  store.recordTest(instance.id, tested)
  const after = store.recordActivity(instance.id, { kind: 'credential_read' })
  const { activity } = after
  assert.equal(activity.apiCallsToday, 3)
  assert.equal(activity.credentialReadsToday, 2)
  assert.equal(activity.errorsToday, 1)
  assert.equal(activity.lastError.kind, 'validation')
  assert.match(activity.lastError.message, /^API key validation: /)
  assert.ok(!activity.lastError.message.includes(stripe.secretKey), 'the stored error is the masked report')
  assert.equal(activity.days.length, 1)
  assert.match(activity.days[0].day, /^\d{4}-\d{2}-\d{2}$/)
  assert.ok(Date.parse(activity.lastUsedAt) <= Date.now())
  assert.deepEqual(store.listInstances('prj-act')[0].activity, activity)
  // Hostile events are refused and change nothing.
  throwsType(() => store.recordActivity(instance.id, { kind: 'hack' }))
  throwsType(() => store.recordActivity(instance.id, { kind: 'test', apiCalls: -1 }))
  throwsType(() => store.recordActivity(instance.id, { kind: 'test', when: 1 }))
  throwsType(() => store.recordActivity(instance.id, { kind: 'test', error: 42 }))
  throwsType(() => store.recordTest(instance.id, { steps: [] }))
  assert.throws(() => store.recordTest('00000000-0000-4000-8000-000000000000', tested), { code: 'NOT_FOUND' })
  assert.deepEqual(store.getInstance(instance.id).activity, activity)
})

// OAuth ----------------------------------------------------------------------------------------

const keyring = path.join(tempDir(), 'keyring.json')
const vault = Vault.open(keyring)
const client = { clientId: 'client-123', redirectUri: 'https://app.example/oauth/callback', vault, projectId: 'prj-1' }
const tokenAnswer = { access_token: 'sbp_oauth_access_SECRET', refresh_token: 'refresh_SECRET', expires_in: 3600, token_type: 'bearer' }

test('oauthBegin + oauthComplete: PKCE round trip, tokens only sealed', async (t) => {
  const service = await startMockService({ 'POST /v1/oauth/token': [200, tokenAnswer] })
  t.after(service.close)
  const options = at('supabase.oauth', service.base)
  const begun = await oauthBegin('supabase', client, options)
  assert.equal(begun.connector, 'supabase')
  const url = new URL(begun.url)
  assert.equal(url.origin + url.pathname, `${service.base}/v1/oauth/authorize`)
  assert.equal(url.searchParams.get('state'), begun.state)
  assert.equal(url.searchParams.get('client_id'), 'client-123')
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256')
  assert.match(begun.pending, /^mgv1:/)

  const callback = `${client.redirectUri}?code=the-code&state=${encodeURIComponent(begun.state)}`
  const done = await oauthComplete('supabase', callback, { pending: begun.pending, clientSecret: 'client-secret', vault, projectId: 'prj-1' }, options)
  assert.equal(done.connector, 'supabase')
  assert.equal(done.tokenType, 'bearer')
  assert.ok(done.expiresAt > Date.now())
  assert.ok(!JSON.stringify(done).includes('SECRET'), 'no token in plain text')
  const form = new URLSearchParams(service.requests[0].body)
  assert.equal(form.get('code'), 'the-code')
  const verifier = form.get('code_verifier')
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url')
  assert.equal(challenge, url.searchParams.get('code_challenge'), 'the verifier kept in `pending` matches the challenge')
  assert.ok(!begun.pending.includes(verifier))
  const tokens = JSON.parse(vault.decryptSecret('prj-1', done.tokensConnectorId, done.tokens, 'test'))
  assert.equal(tokens.accessToken, tokenAnswer.access_token)
  assert.equal(tokens.refreshToken, tokenAnswer.refresh_token)
})

test('oauthComplete: a wrong state is STATE_MISMATCH and sends nothing; the pending stays usable', async (t) => {
  const service = await startMockService({ 'POST /v1/oauth/token': [200, tokenAnswer] })
  t.after(service.close)
  const options = at('supabase.oauth', service.base)
  const begun = await oauthBegin('supabase', client, options)
  const request = { pending: begun.pending, clientSecret: 'client-secret', vault, projectId: 'prj-1' }
  await rejectsCode(oauthComplete('supabase', `${client.redirectUri}?code=c&state=forged`, request, options), 'STATE_MISMATCH')
  assert.equal(service.requests.length, 0)
  const denied = await rejectsCode(oauthComplete('supabase', `${client.redirectUri}?error=access_denied&state=${begun.state}`, request, options), 'AUTHORIZATION_DENIED')
  assert.equal(denied.oauthError, 'access_denied')
  await rejectsCode(oauthComplete('supabase', 'not a url', request, options), 'BAD_CALLBACK')
  const ok = await oauthComplete('supabase', `${client.redirectUri}?code=c&state=${begun.state}`, request, options)
  assert.match(ok.tokens, /^mgv1:/)
})

test('oauthComplete error codes: invalid grant, service error, unreachable, wrong project, no OAuth', async (t) => {
  const service = await startMockService({
    'POST /v1/oauth/token': (req) => (new URLSearchParams(req.body).get('code') === 'used' ? [400, { error: 'invalid_grant' }] : [500, { error: 'server_error', error_description: 'boom' }]),
  })
  t.after(service.close)
  const options = at('supabase.oauth', service.base)
  const begun = await oauthBegin('supabase', client, options)
  const request = { pending: begun.pending, clientSecret: 'client-secret', vault, projectId: 'prj-1' }
  const cb = (code) => `${client.redirectUri}?code=${code}&state=${begun.state}`
  await rejectsCode(oauthComplete('supabase', cb('used'), request, options), 'INVALID_GRANT')
  const failed = await rejectsCode(oauthComplete('supabase', cb('other'), request, options), 'SERVICE_ERROR')
  assert.equal(failed.status, 500)
  await rejectsCode(oauthComplete('supabase', cb('x'), request, at('supabase.oauth', 'http://127.0.0.1:9')), 'NETWORK_ERROR')
  await rejectsCode(oauthComplete('supabase', cb('x'), request, { apiBases: { 'supabase.oauth': service.base } }), 'ENDPOINT_REFUSED')
  await rejectsCode(oauthComplete('supabase', cb('x'), { ...request, projectId: 'prj-2' }, options), 'DECRYPTION_FAILED')
  await rejectsCode(oauthComplete('firebase', cb('x'), request, options), 'DECRYPTION_FAILED')
  await rejectsCode(oauthBegin('onesignal', client), 'OAUTH_UNSUPPORTED')
  throwsType(() => oauthComplete('supabase', cb('x'), { pending: begun.pending, vault, projectId: 'prj-1' }))
})

test('Stripe Connect OAuth: no PKCE, the platform key authenticates, account details are kept', async (t) => {
  const service = await startMockService({
    'POST /oauth/token': [200, { access_token: 'sk_test_connected_SECRET', token_type: 'bearer', scope: 'read_write', stripe_user_id: 'acct_connected', livemode: false }],
  })
  t.after(service.close)
  const options = at('stripe.oauth', service.base)
  const begun = await oauthBegin('stripe', { ...client, clientId: 'ca_123' }, options)
  const url = new URL(begun.url)
  assert.equal(url.pathname, '/oauth/authorize')
  assert.equal(url.searchParams.get('scope'), 'read_write')
  assert.equal(url.searchParams.get('code_challenge'), null)
  const callback = `${client.redirectUri}?code=ac_1&state=${begun.state}`
  const done = await oauthComplete('stripe', callback, { pending: begun.pending, clientSecret: 'sk_test_platform_SECRET', vault, projectId: 'prj-1' }, options)
  assert.equal(service.requests[0].headers.authorization, 'Bearer sk_test_platform_SECRET')
  assert.equal(new URLSearchParams(service.requests[0].body).get('code_verifier'), null)
  assert.equal(done.details.stripe_user_id, 'acct_connected')
  assert.equal(done.scope, 'read_write')
  assert.equal(done.expiresAt, null)
  assert.ok(!JSON.stringify(done).includes('SECRET'))
  assert.equal(JSON.parse(vault.decryptSecret('prj-1', 'stripe.oauth-tokens', done.tokens, 'test')).accessToken, 'sk_test_connected_SECRET')
})

test('fetchSupplied: the Supabase types from the live schema feed planAdd and add', async (t) => {
  const swagger = {
    swagger: '2.0',
    definitions: {
      profiles: {
        required: ['id', 'username'],
        properties: {
          id: { format: 'uuid', type: 'string', description: 'Note:\nThis is a Primary Key.<pk/>' },
          username: { format: 'text', type: 'string' },
        },
      },
    },
  }
  const service = await startMockService({ 'GET /rest/v1/': [200, swagger] })
  t.after(service.close)
  const supabase = sampleConfig('supabase')
  const types = await fetchSupplied('supabase', supabase, 'databaseTypes', at('supabase', service.base))
  assert.match(types, /username: string/)
  assert.equal(service.requests[0].headers.apikey, supabase.serviceRoleKey)

  const app = copySampleApp()
  const before = readTree(app)
  const plan = planAdd(app, 'supabase', supabase, { supplied: { databaseTypes: types } })
  assert.ok(plan.changes.some((c) => c.path === 'src/types/supabase-database.ts'))
  assert.deepEqual(readTree(app), before, 'planAdd writes nothing')
  add(app, 'supabase', supabase, { supplied: { databaseTypes: types } })
  assert.match(fs.readFileSync(path.join(app, 'src/types/supabase-database.ts'), 'utf8'), /username: string/)
  // Added again without the types: kept.
  assert.equal(add(app, 'supabase', supabase).kind, 'upToDate')
  remove(app, 'supabase')
  assert.deepEqual(readTree(app), before, 'remove restores the project')

  // Bad supplied bodies and ids.
  assert.throws(() => planAdd(app, 'supabase', supabase, { supplied: { databaseTypes: '<html>' } }),
    (e) => e.code === 'INVALID_SUPPLIED' && /supabase-database\.ts:\d+:\d+: does not parse/.test(e.message))
  assert.throws(() => planAdd(app, 'supabase', supabase, { supplied: { schema: 'export {}' } }),
    (e) => e.code === 'INVALID_SUPPLIED' && /it declares databaseTypes/.test(e.message))
  throwsType(() => planAdd(app, 'supabase', supabase, { supplied: { databaseTypes: 42 } }))
  throwsType(() => planAdd(app, 'supabase', supabase, { supplied: 'types' }))
  await rejectsCode(fetchSupplied('stripe', stripe, 'databaseTypes'), 'INVALID_SUPPLIED')
  throwsType(() => fetchSupplied('supabase', supabase, ''))

  // The service refusing the key rejects with its status, without the key.
  const refused = await startMockService({ 'GET /rest/v1/': [401, { message: `Invalid API key ${supabase.serviceRoleKey}` }] })
  t.after(refused.close)
  const error = await rejectsCode(
    fetchSupplied('supabase', supabase, 'databaseTypes', at('supabase', refused.base)),
    'SERVICE_ERROR',
  )
  assert.equal(error.status, 401)
  assert.ok(!error.message.includes(supabase.serviceRoleKey))
})
