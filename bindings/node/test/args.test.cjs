// Object arguments go through JSON text: hostile shapes are a TypeError, never a crash.
'use strict'

const test = require('node:test')
const assert = require('node:assert/strict')
const { validateConfig } = require('@mobigen/connectors')

function throwsArgument(fn, pattern) {
  let caught
  assert.throws(fn, (e) => {
    caught = e
    return true
  })
  assert.ok(caught instanceof TypeError, `expected TypeError, got ${caught && caught.constructor.name}`)
  assert.equal(caught.code, 'INVALID_ARGUMENT', caught.message)
  assert.match(caught.message, pattern)
  return caught
}

const valid = {
  publishableKey: 'pk_test_PUBLISHABLE',
  secretKey: 'sk_test_SECRET',
  webhookSecret: 'whsec_SECRET',
}

test('a self-referencing config is refused with a clear error (issue 15 item 10)', () => {
  const config = { ...valid }
  config.self = config
  throwsArgument(() => validateConfig('stripe', config), /config must be a JSON-like object/)
})

for (const levels of [10000, 100000]) {
  test(`a config nested ${levels} levels deep is refused, the process survives (issue 15 item 10)`, () => {
    let deep = {}
    const config = { ...valid, extra: deep }
    for (let i = 0; i < levels; i++) {
      deep.next = {}
      deep = deep.next
    }
    throwsArgument(() => validateConfig('stripe', config), /config must be a JSON-like object/)
  })
}

test('a config nested 200 levels deep names the limit', () => {
  let deep = {}
  const config = { ...valid, extra: deep }
  for (let i = 0; i < 200; i++) {
    deep.next = {}
    deep = deep.next
  }
  throwsArgument(() => validateConfig('stripe', config), /128 levels/)
})

test('a BigInt member is refused, not clamped', () => {
  throwsArgument(() => validateConfig('stripe', { ...valid, big: 2n ** 70n }), /BigInt|JSON-like/)
})

test('an integer beyond Number.MAX_SAFE_INTEGER is refused naming its place, not clamped (issue 15 item 10)', () => {
  for (const big of [2 ** 53, 2 ** 63, 2 ** 64, -(2 ** 70), 1e300]) {
    const e = throwsArgument(() => validateConfig('stripe', { ...valid, nested: { amounts: [1, big] } }), /MAX_SAFE_INTEGER/)
    assert.match(e.message, /config\.nested\.amounts\[1\]/)
  }
  // The largest exact integer is kept as it is (the schema then judges the unknown member).
  const report = validateConfig('stripe', { ...valid, extra: Number.MAX_SAFE_INTEGER })
  assert.equal(typeof report.valid, 'boolean')
})

test('the process is alive and converts again after every refusal', () => {
  const config = { ...valid }
  config.self = config
  for (let i = 0; i < 3; i++) {
    assert.throws(() => validateConfig('stripe', config), TypeError)
  }
  assert.ok(validateConfig('stripe', valid).valid)
})

test('a valid config still converts', () => {
  const result = validateConfig('stripe', valid)
  assert.ok(result, 'a result')
})
