// Project calls, loaded with import (ESM): plan without writing, add / remove / status, sync and
// async, error codes, and many async calls at once.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import defaultExport, {
  planAdd, planAddAsync, planRemove, planRemoveAsync, add, addAsync, remove, removeAsync, status, statusAsync,
} from '@mobigen/connectors'
import fixtures from '../testlib/fixtures.cjs'
import throws from '../testlib/throws.cjs'

const { copySampleApp, sampleApp, sampleConfig, readTree, tempDir } = fixtures
const stripe = sampleConfig('stripe')

const { throwsCode } = throws

async function rejectsCode(promise, code) {
  let caught
  await assert.rejects(promise, (e) => ((caught = e), true))
  assert.ok(caught instanceof Error)
  assert.equal(caught.code, code, caught.message)
  return caught
}

test('import gives named exports and the CommonJS object as default', () => {
  assert.equal(typeof planAdd, 'function')
  assert.equal(defaultExport.planAdd, planAdd)
})

test('planAdd returns summary, redacted diff and changes, and writes nothing', () => {
  const app = copySampleApp()
  const before = readTree(app)
  const plan = planAdd(app, 'stripe', stripe)
  assert.equal(plan.summary.connector, 'stripe')
  assert.equal(plan.summary.kind, 'add')
  assert.equal(plan.summary.dryRun, true)
  assert.deepEqual(plan.changes, plan.summary.files)
  assert.ok(plan.changes.some((c) => c.path === 'package.json' && c.action === 'update'))
  assert.ok(plan.changes.some((c) => c.action === 'create'))
  assert.match(plan.diff, /^--- a\/package\.json$/m)
  assert.ok(!plan.diff.includes(stripe.secretKey), 'the secret key is redacted in the diff')
  assert.ok(!JSON.stringify(plan.summary).includes(stripe.secretKey))
  assert.deepEqual(readTree(app), before)
})

test('add, status, update, remove round trip restores the project byte for byte', () => {
  const app = copySampleApp()
  const before = readTree(app)
  const added = add(app, 'stripe', stripe)
  assert.equal(added.kind, 'add')
  assert.equal(added.dryRun, false)
  assert.ok(added.codeChanges.filesAdded > 0)
  const again = add(app, 'stripe', stripe)
  assert.equal(again.kind, 'upToDate')
  const updated = add(app, 'stripe', { ...stripe, currency: 'eur' })
  assert.equal(updated.kind, 'update')

  const st = status(app)
  assert.deepEqual(st.connectors.map((c) => c.id), ['stripe'])
  assert.ok(st.connectors[0].files.every((f) => f.state === 'unchanged'))
  assert.equal(typeof st.rootFile, 'string')
  assert.deepEqual(st.problems, [])

  const planned = planRemove(app, 'stripe')
  assert.equal(planned.summary.kind, 'remove')
  assert.ok(planned.changes.some((c) => c.action === 'delete'))
  const removed = remove(app, 'stripe')
  assert.equal(removed.kind, 'remove')
  assert.deepEqual(readTree(app), before)
  assert.deepEqual(status(app).connectors, [])
})

test('dryRun and writeSecretEnv options', () => {
  const app = copySampleApp()
  const before = readTree(app)
  const dry = add(app, 'stripe', stripe, { dryRun: true })
  assert.equal(dry.dryRun, true)
  assert.deepEqual(readTree(app), before)
  add(app, 'stripe', stripe, { writeSecretEnv: false })
  const envLocal = path.join(app, '.env.local')
  assert.ok(!fs.existsSync(envLocal) || !fs.readFileSync(envLocal, 'utf8').includes(stripe.secretKey))
  assert.equal(remove(app, 'stripe', { dryRun: true }).dryRun, true)
  assert.deepEqual(status(app).connectors.map((c) => c.id), ['stripe'])
})

test('error codes: INVALID_CONFIG with issues, UNKNOWN_CONNECTOR, NOT_ENABLED, PROJECT_ERROR', () => {
  const app = copySampleApp()
  const e = throwsCode(() => planAdd(app, 'stripe', { publishableKey: 'pk_test_1' }), 'INVALID_CONFIG')
  assert.deepEqual(e.issues.map((i) => i.pointer), ['/secretKey'])
  throwsCode(() => add(app, 'strpe', stripe), 'UNKNOWN_CONNECTOR')
  throwsCode(() => planRemove(app, 'stripe'), 'NOT_ENABLED')
  throwsCode(() => remove(app, 'stripe'), 'NOT_ENABLED')
  const empty = tempDir()
  throwsCode(() => add(empty, 'stripe', stripe), 'PROJECT_ERROR')
  throwsCode(() => status(path.join(empty, 'missing')), 'PROJECT_ERROR')
})

test('CONFLICT lists the edited generated files; force overrides', () => {
  const app = copySampleApp()
  const added = add(app, 'stripe', stripe)
  const owned = added.files.find((f) => f.action === 'create' && f.path.startsWith('src/services/'))
  assert.ok(owned, JSON.stringify(added.files))
  fs.appendFileSync(path.join(app, owned.path), '\n// my edit\n')
  const e = throwsCode(() => remove(app, 'stripe'), 'CONFLICT')
  assert.equal(e.conflicts[0].path, owned.path)
  assert.equal(typeof e.conflicts[0].manualStep, 'string')
  assert.deepEqual(status(app).connectors[0].files.find((f) => f.path === owned.path).state, 'modified')
  assert.equal(remove(app, 'stripe', { force: true }).kind, 'remove')
})

test('bad argument types throw TypeError with code INVALID_ARGUMENT', () => {
  throwsCode(() => planAdd(1, 'stripe', stripe), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => planAdd('', 'stripe', stripe), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => planAdd(sampleApp, 'stripe', null), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => planAdd(sampleApp, 'stripe', stripe, { dryRun: true }), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => add(sampleApp, 'stripe', stripe, { force: 'yes' }), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => add(sampleApp, 'stripe', stripe, 'options'), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => remove(sampleApp, 7), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => status(), 'INVALID_ARGUMENT', TypeError)
  // Async variants read their arguments before any work starts: they throw synchronously.
  throwsCode(() => planAddAsync(sampleApp, 'stripe', 5), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => statusAsync(null), 'INVALID_ARGUMENT', TypeError)
})

test('async variants resolve with the sync shapes and reject with codes', async () => {
  const app = copySampleApp()
  const before = readTree(app)
  const plan = await planAddAsync(app, 'stripe', stripe)
  assert.deepEqual(plan, planAdd(app, 'stripe', stripe))
  const added = await addAsync(app, 'stripe', stripe)
  assert.equal(added.kind, 'add')
  assert.deepEqual(await statusAsync(app), status(app))
  assert.equal((await planRemoveAsync(app, 'stripe')).summary.kind, 'remove')
  assert.equal((await removeAsync(app, 'stripe')).kind, 'remove')
  assert.deepEqual(readTree(app), before)
  await rejectsCode(planRemoveAsync(app, 'stripe'), 'NOT_ENABLED')
  await rejectsCode(removeAsync(app, 'stripe'), 'NOT_ENABLED')
  const e = await rejectsCode(addAsync(app, 'stripe', { secretKey: 'x' }), 'INVALID_CONFIG')
  assert.ok(e.issues.length >= 2)
  await rejectsCode(planAddAsync(app, 'nope', {}), 'UNKNOWN_CONNECTOR')
  await rejectsCode(statusAsync(path.join(app, 'missing')), 'PROJECT_ERROR')
})

test('50 concurrent planAddAsync calls on 50 copies of the sample app all agree', async () => {
  const root = tempDir()
  const apps = Array.from({ length: 50 }, (_, i) => copySampleApp(fs.mkdtempSync(path.join(root, `c${i}-`))))
  const expected = planAdd(apps[0], 'stripe', stripe)
  const results = await Promise.all(apps.map((app) => planAddAsync(app, 'stripe', stripe)))
  assert.equal(results.length, 50)
  for (const r of results) assert.deepEqual(r, expected)
})

test('concurrent addAsync on one project: one adds, the other finds it up to date', async () => {
  const app = copySampleApp()
  const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => addAsync(app, 'stripe', stripe)))
  const kinds = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.kind : o.reason.code)).sort()
  assert.equal(kinds.filter((k) => k === 'add').length, 1, kinds.join(','))
  assert.ok(kinds.every((k) => k === 'add' || k === 'upToDate' || k === 'BUSY'), kinds.join(','))
  assert.deepEqual(status(app).problems, [])
})
