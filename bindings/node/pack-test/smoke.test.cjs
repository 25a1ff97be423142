// Smoke test of the packed package, loaded with require() (CommonJS). `cargo xtask node` copies
// this folder into a fresh temporary folder and installs the two tarballs there (the main
// package and the linux-x64-gnu platform package); it does not run inside the repository.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const connectors = require('@mobigen/connectors')

test('cjs: the main package holds no binary; the addon comes from the platform package', () => {
  const main = path.dirname(require.resolve('@mobigen/connectors/package.json'))
  assert.deepEqual(fs.readdirSync(main).filter((f) => f.endsWith('.node')), [])
  const platform = path.dirname(require.resolve('@mobigen/connectors-linux-x64-gnu/package.json'))
  assert.deepEqual(fs.readdirSync(platform).filter((f) => f.endsWith('.node')), [
    'mobigen-connectors.linux-x64-gnu.node',
  ])
})

test('cjs: listConnectors, searchConnectors and validateConfig work', () => {
  const ids = connectors.listConnectors().connectors.map((c) => c.id)
  for (const id of ['stripe', 'firebase', 'supabase', 'revenuecat', 'onesignal']) {
    assert.ok(ids.includes(id), `${id} in ${ids}`)
  }
  assert.equal(connectors.searchConnectors('strpe').results[0].id, 'stripe')
  const good = connectors.validateConfig('stripe', {
    publishableKey: 'pk_test_51Hx',
    secretKey: 'sk_test_51Hx',
  })
  assert.equal(good.valid, true)
  const bad = connectors.validateConfig('stripe', { publishableKey: 'nope' })
  assert.equal(bad.valid, false)
  assert.ok(bad.issues.some((i) => i.pointer === '/publishableKey'), JSON.stringify(bad.issues))
})
