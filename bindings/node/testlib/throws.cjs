// The package's error contract as a test assertion: a call throws an instance of `type` whose
// `code` is `code`.
'use strict'

const assert = require('node:assert/strict')

/** Asserts that `fn()` throws a `type` (default Error) with `error.code === code`; returns it. */
function throwsCode(fn, code, type = Error) {
  let caught
  assert.throws(fn, (e) => ((caught = e), true))
  assert.ok(caught instanceof type, `expected ${type.name}, got ${caught?.constructor.name}: ${caught?.message}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

/** Awaits `promise`, which must reject with an Error whose `code` is `code`; returns it. */
async function rejectsCode(promise, code) {
  let caught
  await assert.rejects(promise, (e) => ((caught = e), true))
  assert.ok(caught instanceof Error, `not an Error: ${caught}`)
  assert.equal(caught.code, code, caught.message)
  return caught
}

module.exports = { throwsCode, rejectsCode }
