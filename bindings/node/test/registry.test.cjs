// Registry calls and validateConfig, loaded with require() (CommonJS).
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const connectors = require('@mobigen/connectors')
const { tempDir, sampleApp, sampleConfig, writeSentryConnector } = require('../testlib/fixtures.cjs')
const { throwsCode } = require('../testlib/throws.cjs')

const {
  listConnectors,
  getConnector,
  searchConnectors,
  registerConnectorDir,
  validateConfig,
  planAdd,
} = connectors

test('require() gives every export, the same object as the package main', () => {
  assert.equal(require('../index.js'), connectors)
  for (const name of [
    'listConnectors', 'getConnector', 'searchConnectors', 'registerConnectorDir', 'validateConfig',
    'planAdd', 'planAddAsync', 'planRemove', 'planRemoveAsync', 'add', 'addAsync', 'remove',
    'removeAsync', 'status', 'statusAsync', 'Vault', 'CredentialStore',
  ]) {
    assert.equal(typeof connectors[name], 'function', name)
  }
})

test('listConnectors lists the five built-in connectors with PRD summary fields', () => {
  const { connectors: list } = listConnectors()
  assert.deepEqual(list.map((c) => c.id), ['firebase', 'onesignal', 'revenuecat', 'stripe', 'supabase'])
  const stripe = list.find((c) => c.id === 'stripe')
  assert.deepEqual(Object.keys(stripe).sort(), [
    'authType', 'authTypes', 'capabilities', 'category', 'description', 'id', 'logo', 'name', 'setupDifficulty',
  ])
  assert.equal(stripe.category, 'payments')
  assert.equal(stripe.authType, stripe.authTypes[0])
})

test('listConnectors filters by category; an unknown category is UNKNOWN_CATEGORY', () => {
  assert.deepEqual(listConnectors('payments').connectors.map((c) => c.id), ['stripe'])
  assert.deepEqual(listConnectors(undefined).connectors.length, 5)
  const e = throwsCode(() => listConnectors('payment'), 'UNKNOWN_CATEGORY')
  assert.match(e.message, /payments/)
  throwsCode(() => listConnectors(42), 'INVALID_ARGUMENT', TypeError)
})

test('getConnector returns the full definition with its config schema', () => {
  const stripe = getConnector('stripe')
  assert.equal(stripe.name, 'Stripe')
  assert.equal(stripe.configSchema.type, 'object')
  assert.equal(stripe.fields['/secretKey'].sensitivity, 'secret')
  const e = throwsCode(() => getConnector('strpe'), 'UNKNOWN_CONNECTOR')
  assert.match(e.message, /did you mean `stripe`/)
  throwsCode(() => getConnector(), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => getConnector({ id: 'stripe' }), 'INVALID_ARGUMENT', TypeError)
})

test('searchConnectors is typo tolerant and ranks best first', () => {
  const found = searchConnectors('strpe')
  assert.equal(found.query, 'strpe')
  assert.equal(found.results[0].id, 'stripe')
  assert.equal(typeof found.results[0].score, 'number')
  assert.deepEqual(searchConnectors('zzzzzzzz').results, [])
  throwsCode(() => searchConnectors(null), 'INVALID_ARGUMENT', TypeError)
})

test('validateConfig: a valid config is redacted and shows its features', () => {
  const report = validateConfig('stripe', sampleConfig('stripe'))
  assert.equal(report.valid, true)
  assert.equal(report.connector, 'stripe')
  assert.equal(report.config.secretKey, '[redacted]')
  assert.equal(report.config.publishableKey, sampleConfig('stripe').publishableKey)
  assert.ok(report.features.includes('subscriptions'))
  assert.ok(!JSON.stringify(report).includes(sampleConfig('stripe').secretKey))
})

test('validateConfig: an invalid config is data, with a pointer per issue', () => {
  const report = validateConfig('stripe', { publishableKey: 'nope' })
  assert.equal(report.valid, false)
  const pointers = report.issues.map((i) => i.pointer).sort()
  assert.deepEqual(pointers, ['/publishableKey', '/secretKey'])
  assert.ok(report.issues.every((i) => i.severity === 'error' && i.message))
  throwsCode(() => validateConfig('nope', {}), 'UNKNOWN_CONNECTOR')
  throwsCode(() => validateConfig('stripe', 'config'), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => validateConfig('stripe', ['a']), 'INVALID_ARGUMENT', TypeError)
})

test('registerConnectorDir adds a sixth connector from a folder, no Rust needed', () => {
  const dir = tempDir()
  writeSentryConnector(dir)
  assert.deepEqual(registerConnectorDir(dir), ['sentry'])
  assert.equal(getConnector('sentry').category, 'monitoring')
  assert.deepEqual(listConnectors('monitoring').connectors.map((c) => c.id), ['sentry'])
  assert.equal(searchConnectors('sentry').results[0].id, 'sentry')
  assert.equal(validateConfig('sentry', { dsn: 'https://k@o1.ingest.sentry.io/1' }).config.tracesSampleRate, 0.2)
  // The same folder again: its id is taken.
  throwsCode(() => registerConnectorDir(dir), 'INVALID_MANIFEST')
  assert.equal(listConnectors().connectors.length, 6)
})

test('a connector whose template renders code that does not parse is INVALID_MANIFEST when planned', () => {
  const dir = tempDir()
  const folder = writeSentryConnector(dir, 'badtemplate')
  require('node:fs').writeFileSync(
    require('node:path').join(folder, 'templates', 'sentry.ts'),
    'export const Badge = () => <Sentry />;\n',
  )
  assert.deepEqual(registerConnectorDir(dir), ['badtemplate'])
  const e = throwsCode(
    () => planAdd(sampleApp, 'badtemplate', { dsn: 'https://k@o1.ingest.sentry.io/1' }),
    'INVALID_MANIFEST',
  )
  assert.match(e.message, /src\/services\/sentry\.ts renders code that does not parse \(4:/)
})

test('registerConnectorDir refuses an invalid manifest and loads nothing', () => {
  const dir = tempDir()
  const folder = writeSentryConnector(dir, 'broken')
  require('node:fs').writeFileSync(require('node:path').join(folder, 'manifest.json'), '{ "id": "broken", oops }')
  const e = throwsCode(() => registerConnectorDir(dir), 'INVALID_MANIFEST')
  assert.match(e.message, /manifest\.json:1:/)
  throwsCode(() => getConnector('broken'), 'UNKNOWN_CONNECTOR')
  throwsCode(() => registerConnectorDir(require('node:path').join(dir, 'missing')), 'IO')
  throwsCode(() => registerConnectorDir(''), 'INVALID_ARGUMENT', TypeError)
})
