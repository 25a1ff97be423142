// CredentialStore's store + project calls (addConnector / updateConnector / removeConnector /
// enableConnector / disableConnector): the library's one protocol (issue 15 item 17) — plan,
// write the store, apply, undo the store write when applying fails, under the project lock.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { CredentialStore } from '@mobigen/connectors'
import fixtures from '../testlib/fixtures.cjs'
import throws from '../testlib/throws.cjs'

const { copySampleApp, sampleConfig, tempDir } = fixtures
const stripe = sampleConfig('stripe')

const { throwsCode, rejectsCode } = throws

/** Every entry below `dir`: relative path -> contents (a symbolic link: `-> target`). */
function tree(dir) {
  const out = {}
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      const rel = path.relative(dir, full)
      if (entry.isSymbolicLink()) out[rel] = `-> ${fs.readlinkSync(full)}`
      else if (entry.isDirectory()) walk(full)
      else out[rel] = fs.readFileSync(full, 'utf8')
    }
  }
  walk(dir)
  return out
}

/** A sample app with stripe added through the store, the store, and the instance. */
function addedStripe() {
  const work = tempDir()
  const app = copySampleApp(work)
  const store = CredentialStore.open(path.join(work, 'connectors.db'), path.join(work, 'keyring.json'), { actor: 'node-test' })
  const added = store.addConnector(app, 'prj-1', 'stripe', stripe)
  return { app, store, added, id: added.store.instanceId }
}

/** Makes every later write into `src/` fail: `src` becomes a link into `.mobigen/`, which
 * planning reads through (it stays inside the project) but applying refuses to write through. */
function breakSrc(app) {
  const moved = path.join(app, '.mobigen', 'moved-src')
  fs.renameSync(path.join(app, 'src'), moved)
  fs.symlinkSync(moved, path.join(app, 'src'))
  return () => {
    fs.rmSync(path.join(app, 'src'))
    fs.renameSync(moved, path.join(app, 'src'))
  }
}

test('addConnector stores the config and injects the code in one call; no secret in the result', () => {
  const { app, store, added, id } = addedStripe()
  assert.equal(added.kind, 'add')
  assert.equal(added.dryRun, false)
  assert.deepEqual(
    { action: added.store.action, projectId: added.store.projectId, status: added.store.status, version: added.store.credentialsVersion },
    { action: 'created', projectId: 'prj-1', status: 'configured', version: 1 },
  )
  assert.ok(!JSON.stringify(added).includes(stripe.secretKey))
  assert.ok(fs.existsSync(path.join(app, 'src', 'connectors.tsx')))
  assert.equal(store.findInstance('prj-1', 'stripe').id, id)
  // The same config again: nothing to do; with ifStored 'refuse': ALREADY_EXISTS.
  assert.equal(store.addConnector(app, 'prj-1', 'stripe', stripe).store.action, 'unchanged')
  throwsCode(() => store.addConnector(app, 'prj-1', 'stripe', stripe, { ifStored: 'refuse' }), 'ALREADY_EXISTS')
  // A dry run writes neither.
  const before = tree(app)
  const dry = store.addConnector(app, 'prj-1', 'stripe', { ...stripe, currency: 'eur' }, { dryRun: true })
  assert.equal(dry.store, null)
  assert.deepEqual(tree(app), before)
  assert.equal(store.getInstance(id).credentialsVersion, 1)
})

test('updateConnector with merge: a partial config (only currency) keeps the stored secrets', () => {
  const { app, store, id } = addedStripe()
  const stored = store.decryptCredentials(id, 'node test: before the merge')
  assert.equal(stored.secretKey, stripe.secretKey)
  const updated = store.updateConnector(app, 'prj-1', 'stripe', { currency: 'eur' }, { merge: true })
  assert.equal(updated.store.action, 'rotated')
  assert.equal(updated.store.credentialsVersion, 2)
  assert.ok(!JSON.stringify(updated).includes(stripe.secretKey))
  const current = store.decryptCredentials(id, 'node test: the merge kept the secrets')
  assert.deepEqual(current, { ...stored, currency: 'eur' })
  assert.match(fs.readFileSync(path.join(app, '.env'), 'utf8'), /EXPO_PUBLIC_STRIPE_CURRENCY=eur/)
  // `null` deletes a member (the schema's default applies again).
  store.updateConnector(app, 'prj-1', 'stripe', { merchantDisplayName: null }, { merge: true })
  assert.equal(store.decryptCredentials(id, 'node test').merchantDisplayName, 'My App')
  // Without merge, the config is the whole new one, validated as such.
  const bad = throwsCode(() => store.updateConnector(app, 'prj-1', 'stripe', { currency: 'gbp' }), 'INVALID_CONFIG')
  assert.ok(bad.issues.some((i) => i.pointer === '/secretKey'), JSON.stringify(bad.issues))
  // A merged config that is invalid names the field, never the secret.
  const merged = throwsCode(
    () => store.updateConnector(app, 'prj-1', 'stripe', { currency: 'EURO' }, { merge: true }),
    'INVALID_CONFIG',
  )
  assert.ok(merged.issues.some((i) => i.pointer === '/currency'), JSON.stringify(merged.issues))
  assert.ok(!JSON.stringify({ message: merged.message, issues: merged.issues }).includes(stripe.secretKey))
  assert.equal(store.decryptCredentials(id, 'node test').currency, 'eur')
})

test('updateConnector whose code change fails leaves the store and the project as they were', () => {
  const { app, store, id } = addedStripe()
  const restore = breakSrc(app)
  const projectBefore = tree(app)
  const storedBefore = store.decryptCredentials(id, 'node test: before the failing update')
  const error = throwsCode(
    () => store.updateConnector(app, 'prj-1', 'stripe', { currency: 'eur', secretKey: 'sk_test_51NewSecretNeverStored' }, { merge: true }),
    'IO',
  )
  assert.match(error.message, /symbolic link/)
  assert.match(error.message, /the stored credentials were put back to version 1/)
  assert.ok(!error.message.includes('sk_test_51NewSecretNeverStored'))
  assert.ok(!error.message.includes(stripe.secretKey))
  assert.deepEqual(tree(app), projectBefore)
  assert.deepEqual(store.decryptCredentials(id, 'node test: after the failing update'), storedBefore)
  assert.equal(store.listInstances('prj-1').length, 1)
  // The same update once the link is gone goes through.
  restore()
  store.updateConnector(app, 'prj-1', 'stripe', { currency: 'eur' }, { merge: true })
  assert.equal(store.decryptCredentials(id, 'node test').currency, 'eur')
})

test('addConnector whose code change fails stores nothing', () => {
  const work = tempDir()
  const app = copySampleApp(work)
  fs.mkdirSync(path.join(app, 'src'))
  fs.mkdirSync(path.join(app, '.mobigen'))
  const restore = breakSrc(app)
  const before = tree(app)
  const store = CredentialStore.open(path.join(work, 'connectors.db'), path.join(work, 'keyring.json'))
  const error = throwsCode(() => store.addConnector(app, 'prj-1', 'stripe', stripe), 'IO')
  assert.match(error.message, /removed again/)
  assert.deepEqual(tree(app), before)
  assert.equal(store.findInstance('prj-1', 'stripe'), null)
  restore()
})

test('updateConnector / enable / disable / remove need a stored connector; unknown ids are named', () => {
  const { app, store, id } = addedStripe()
  const before = tree(app)
  throwsCode(() => store.updateConnector(app, 'prj-2', 'stripe', { currency: 'eur' }, { merge: true }), 'NOT_ENABLED')
  throwsCode(() => store.enableConnector(app, 'prj-1', 'supabase'), 'NOT_ENABLED')
  const unknown = throwsCode(() => store.disableConnector(app, 'prj-1', 'strpe'), 'UNKNOWN_CONNECTOR')
  assert.match(unknown.message, /did you mean `stripe`/)
  throwsCode(() => store.removeConnector(app, 'prj-1', 'strpe'), 'UNKNOWN_CONNECTOR')
  // Not validated yet: enabling is an illegal transition.
  throwsCode(() => store.enableConnector(app, 'prj-1', 'stripe'), 'ILLEGAL_TRANSITION')
  assert.deepEqual(tree(app), before)
  store.recordValidation(id, { success: true, steps: [] })
  assert.equal(store.enableConnector(app, 'prj-1', 'stripe').status, 'active')
  throwsCode(() => store.enableConnector(app, 'prj-1', 'stripe'), 'ILLEGAL_TRANSITION')
  // An active connector is removed only with disableActive.
  throwsCode(() => store.removeConnector(app, 'prj-1', 'stripe'), 'ILLEGAL_TRANSITION')
  assert.deepEqual(tree(app), before)
  assert.equal(store.disableConnector(app, 'prj-1', 'stripe').status, 'disabled')
  const removed = store.removeConnector(app, 'prj-1', 'stripe')
  assert.equal(removed.kind, 'remove')
  assert.equal(removed.store.action, 'removed')
  assert.equal(store.findInstance('prj-1', 'stripe'), null)
  assert.ok(!fs.existsSync(path.join(app, 'src', 'connectors.tsx')))
  throwsCode(() => store.removeConnector(app, 'prj-1', 'stripe'), 'NOT_ENABLED')
})

test('bad arguments of the protocol calls are TypeErrors naming them; nothing is written', () => {
  const { app, store, id } = addedStripe()
  const before = tree(app)
  const cases = [
    [() => store.addConnector(app, 'prj-1', 'stripe', stripe, { ifStored: 'replace' }), /ifStored/],
    [() => store.addConnector(app, 'prj-1', 'stripe', stripe, { nope: true }), /nope/],
    [() => store.addConnector(app, 'prj-1', 'stripe', stripe, { supplied: { databaseTypes: 1 } }), /supplied\.databaseTypes/],
    [() => store.addConnector(app, '', 'stripe', stripe), /projectId/],
    [() => store.updateConnector(app, 'prj-1', 'stripe', 'currency=eur', { merge: true }), /config/],
    [() => store.updateConnector(app, 'prj-1', 'stripe', { currency: 'eur' }, { merge: 'yes' }), /merge/],
    [() => store.removeConnector(null, 'prj-1', 'stripe'), /projectDir/],
    [() => store.enableConnector(app, 'prj-1', 42), /connectorId/],
  ]
  for (const [fn, message] of cases) {
    const error = throwsCode(fn, 'INVALID_ARGUMENT', TypeError)
    assert.match(error.message, message)
  }
  assert.deepEqual(tree(app), before)
  assert.equal(store.getInstance(id).credentialsVersion, 1)
})

test('the async protocol calls run on the thread pool and agree with the sync ones', async () => {
  const work = tempDir()
  const app = copySampleApp(work)
  const store = CredentialStore.open(path.join(work, 'connectors.db'), path.join(work, 'keyring.json'), { actor: 'node-test' })
  const firebase = sampleConfig('firebase')
  // Two adds at once on one project: the project lock orders them; both land.
  const pending = [
    store.addConnectorAsync(app, 'prj-1', 'stripe', stripe),
    store.addConnectorAsync(app, 'prj-1', 'firebase', firebase),
  ]
  assert.ok(pending.every((p) => p instanceof Promise))
  const added = await Promise.all(pending)
  assert.deepEqual(added.map((a) => a.store.action), ['created', 'created'])
  assert.ok(!JSON.stringify(added).includes(stripe.secretKey))
  const connectors = fs.readFileSync(path.join(app, 'src', 'connectors.tsx'), 'utf8')
  assert.match(connectors, /stripe/i)
  assert.match(connectors, /firebase/i)
  // The sync store sees what the async calls wrote (they used connections of their own).
  const id = store.findInstance('prj-1', 'stripe').id
  assert.equal(id, added[0].store.instanceId)
  const updated = await store.updateConnectorAsync(app, 'prj-1', 'stripe', { currency: 'eur' }, { merge: true })
  assert.deepEqual([updated.store.action, updated.store.credentialsVersion], ['rotated', 2])
  assert.equal(store.decryptCredentials(id, 'node test: after the async merge').secretKey, stripe.secretKey)
  // Errors of the protocol reject the Promise with the same codes; bad arguments throw at once.
  await rejectsCode(store.addConnectorAsync(app, 'prj-1', 'stripe', stripe, { ifStored: 'refuse' }), 'ALREADY_EXISTS')
  throwsCode(() => store.removeConnectorAsync(app, 'prj-1', 'stripe', { nope: 1 }), 'INVALID_ARGUMENT', TypeError)
  const before = tree(app)
  const dry = await store.removeConnectorAsync(app, 'prj-1', 'stripe', { dryRun: true })
  assert.equal(dry.store, null)
  assert.deepEqual(tree(app), before)
  const removed = await Promise.all([
    store.removeConnectorAsync(app, 'prj-1', 'stripe'),
    store.removeConnectorAsync(app, 'prj-1', 'firebase'),
  ])
  assert.deepEqual(removed.map((r) => r.store.action), ['removed', 'removed'])
  assert.ok(!fs.existsSync(path.join(app, 'src', 'connectors.tsx')))
  assert.deepEqual(store.listInstances('prj-1').map((i) => i.status), ['removed', 'removed'])
})
