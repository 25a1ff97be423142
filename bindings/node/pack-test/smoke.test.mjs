// Smoke test of the packed package, loaded with import (ESM), in the fresh folder
// `cargo xtask node` installs the tarballs into (see smoke.test.cjs).
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

import connectors, { listConnectors, searchConnectors, validateConfig } from '@mobigen/connectors'

test('esm: named imports are the default export\'s functions', () => {
  assert.equal(listConnectors, connectors.listConnectors)
  assert.equal(connectors, createRequire(import.meta.url)('@mobigen/connectors'))
})

test('esm: listConnectors, searchConnectors and validateConfig work', () => {
  assert.deepEqual(
    listConnectors('payments').connectors.map((c) => c.id),
    ['stripe'],
  )
  assert.equal(searchConnectors('onesgnal').results[0].id, 'onesignal')
  const report = validateConfig('stripe', {
    publishableKey: 'pk_test_51Hx',
    secretKey: 'sk_test_51Hx',
  })
  assert.equal(report.valid, true)
  assert.equal(report.config.currency, 'usd')
  assert.ok(!JSON.stringify(report).includes('sk_test_51Hx'), 'secret value in the report')
})
