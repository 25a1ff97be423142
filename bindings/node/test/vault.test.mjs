// Vault and CredentialStore: encryption bound to (project, connector), rotation, rewrap,
// stored instances and their lifecycle, audited decryption.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { Vault, CredentialStore } from '@mobigen/connectors'
import fixtures from '../testlib/fixtures.cjs'
import throws from '../testlib/throws.cjs'

const { tempDir, sampleConfig } = fixtures
const stripe = sampleConfig('stripe')

const { throwsCode } = throws

test('Vault.open creates a private keyring; encrypt/decryptSecret round trip strings and Buffers', () => {
  const keyring = path.join(tempDir(), 'keyring.json')
  const vault = Vault.open(keyring)
  assert.ok(fs.existsSync(keyring))
  if (process.platform !== 'win32') assert.equal(fs.statSync(keyring).mode & 0o777, 0o600)
  assert.equal(typeof vault.activeKeyId, 'string')
  const text = vault.encrypt('p1', 'stripe', 'sk_test_secret')
  assert.match(text, /^mgv1:/)
  assert.ok(!text.includes('sk_test_secret'))
  const plain = vault.decryptSecret('p1', 'stripe', text, 'test round trip')
  assert.ok(Buffer.isBuffer(plain))
  assert.equal(plain.toString('utf8'), 'sk_test_secret')
  const bytes = Buffer.from([0, 1, 2, 255])
  assert.deepEqual(vault.decryptSecret('p1', 'stripe', vault.encrypt('p1', 'stripe', bytes), 'bytes'), bytes)
  // Another process opening the same keyring decrypts it too.
  assert.equal(Vault.open(keyring).decryptSecret('p1', 'stripe', text, 'reopen').toString(), 'sk_test_secret')
})

test('a ciphertext is bound to its project and connector; tampering is DECRYPTION_FAILED', () => {
  const vault = Vault.open(path.join(tempDir(), 'keyring.json'))
  const text = vault.encrypt('p1', 'stripe', 'secret')
  throwsCode(() => vault.decryptSecret('p2', 'stripe', text, 'swap'), 'DECRYPTION_FAILED')
  throwsCode(() => vault.decryptSecret('p1', 'supabase', text, 'swap'), 'DECRYPTION_FAILED')
  const flipped = text.slice(0, -3) + (text.at(-3) === 'A' ? 'B' : 'A') + text.slice(-2)
  throwsCode(() => vault.decryptSecret('p1', 'stripe', flipped, 'tamper'), 'DECRYPTION_FAILED')
  throwsCode(() => vault.decryptSecret('p1', 'stripe', 'not a record', 'garbage'), 'DECRYPTION_FAILED')
  throwsCode(() => vault.decryptSecret('p1', 'stripe', text, ''), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => vault.encrypt('p1', 'stripe', 42), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => vault.encrypt('', 'stripe', 'x'), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => Vault.open(123), 'INVALID_ARGUMENT', TypeError)
})

test('rotateKey keeps old ciphertexts readable; rewrap moves them to the new key', () => {
  const keyring = path.join(tempDir(), 'keyring.json')
  const vault = Vault.open(keyring)
  const first = vault.activeKeyId
  const old = vault.encrypt('p1', 'stripe', 'secret')
  const second = vault.rotateKey()
  assert.notEqual(second, first)
  assert.equal(vault.activeKeyId, second)
  assert.equal(vault.decryptSecret('p1', 'stripe', old, 'after rotation').toString(), 'secret')
  const moved = vault.rewrap('p1', 'stripe', old)
  assert.notEqual(moved, old)
  assert.equal(vault.rewrap('p1', 'stripe', moved), moved)
  assert.equal(Vault.open(keyring).decryptSecret('p1', 'stripe', moved, 'rewrapped').toString(), 'secret')
  throwsCode(() => vault.rewrap('p2', 'stripe', old), 'DECRYPTION_FAILED')
})

test('an unreadable keyring is KEY_ERROR', () => {
  const keyring = path.join(tempDir(), 'keyring.json')
  fs.writeFileSync(keyring, '{ broken', { mode: 0o600 })
  throwsCode(() => Vault.open(keyring), 'KEY_ERROR')
})

test('CredentialStore: store, list, get, find, rotate, lifecycle, remove; no secret in metadata', () => {
  const dir = tempDir()
  const store = CredentialStore.open(path.join(dir, 'connectors.db'), path.join(dir, 'keyring.json'), { actor: 'node-test' })
  const created = store.storeCredentials('project-1', 'stripe', stripe)
  assert.equal(created.status, 'configured')
  assert.equal(created.connector, 'stripe')
  assert.equal(created.projectId, 'project-1')
  assert.equal(created.credentialsVersion, 1)
  assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT/)
  assert.deepEqual(store.getInstance(created.id), created)
  assert.deepEqual(store.findInstance('project-1', 'stripe'), created)
  assert.equal(store.findInstance('project-1', 'supabase'), null)
  assert.deepEqual(store.listInstances('project-1').map((i) => i.id), [created.id])
  assert.deepEqual(store.listInstances('other'), [])
  assert.equal(store.listInstances().length, 1)
  const dbBytes = fs.readFileSync(path.join(dir, 'connectors.db'))
  assert.ok(!dbBytes.includes(Buffer.from(stripe.secretKey)), 'the database holds no plaintext secret')
  assert.ok(!JSON.stringify(store.listInstances()).includes(stripe.secretKey))

  throwsCode(() => store.storeCredentials('project-1', 'stripe', stripe), 'ALREADY_EXISTS')
  const bad = throwsCode(() => store.storeCredentials('project-2', 'stripe', { secretKey: 'x' }), 'INVALID_CONFIG')
  assert.ok(bad.issues.length > 0)
  throwsCode(() => store.getInstance('nope'), 'NOT_FOUND')
  throwsCode(() => store.enable(created.id), 'ILLEGAL_TRANSITION')

  const secret = store.decryptCredentials(created.id, 'write .env for the test')
  assert.equal(secret.secretKey, stripe.secretKey)
  const rotated = store.rotateCredentials(created.id, { ...stripe, secretKey: 'sk_test_rotated0001' })
  assert.equal(rotated.credentialsVersion, 2)
  assert.equal(rotated.expiringVersions.length, 1)
  assert.equal(store.decryptCredentials(created.id, 'check rotation').secretKey, 'sk_test_rotated0001')

  const removed = store.removeInstance(created.id)
  assert.equal(removed.status, 'removed')
  throwsCode(() => store.decryptCredentials(created.id, 'after removal'), 'ILLEGAL_TRANSITION')
  throwsCode(() => store.disable(created.id), 'ILLEGAL_TRANSITION')
  throwsCode(() => store.decryptCredentials(created.id, ''), 'INVALID_ARGUMENT', TypeError)
  throwsCode(() => CredentialStore.open(path.join(dir, 'x.db'), path.join(dir, 'k.json'), { actor: 1 }), 'INVALID_ARGUMENT', TypeError)
})

test('Vault with auditStorePath records each decryption with its purpose', async () => {
  const dir = tempDir()
  const db = path.join(dir, 'connectors.db')
  const keyring = path.join(dir, 'keyring.json')
  CredentialStore.open(db, keyring)
  const vault = Vault.open(keyring, { auditStorePath: db, actor: 'audit-test' })
  const text = vault.encrypt('p1', 'stripe', 'secret')
  vault.decryptSecret('p1', 'stripe', text, 'purpose-marker-123')
  throwsCode(() => vault.decryptSecret('p2', 'stripe', text, 'failed-marker-456'), 'DECRYPTION_FAILED')
  const contents = fs.readFileSync(db).toString('latin1')
  const wal = fs.existsSync(db + '-wal') ? fs.readFileSync(db + '-wal').toString('latin1') : ''
  assert.ok((contents + wal).includes('purpose-marker-123'))
  assert.ok((contents + wal).includes('failed-marker-456'))
  throwsCode(() => Vault.open(keyring, { unknown: true }), 'INVALID_ARGUMENT', TypeError)
})
