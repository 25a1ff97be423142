// CredentialStore on a PostgreSQL URL (issue 18): two stores opened on one database, as two
// service instances would, share every instance, version and change; with MOBIGEN_KMS_KEY_ID the
// keys are in AWS KMS. The servers come from `cargo xtask node` / `cargo xtask test`
// (MOBIGEN_TEST_POSTGRES_URL, MOBIGEN_TEST_KMS_URL: PostgreSQL and moto); each test works in a
// fresh schema (`options=-csearch_path=...`), made with the server's own psql.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import path from 'node:path'
import { CredentialStore, Vault } from '@mobigen/connectors'
import fixtures from '../testlib/fixtures.cjs'
import throws from '../testlib/throws.cjs'

const { copySampleApp, readTree, sampleConfig, tempDir } = fixtures
const { throwsCode } = throws

const URL_VAR = 'MOBIGEN_TEST_POSTGRES_URL'

/** A URL whose tables live in a new, empty schema of the test server. */
function freshSchemaUrl() {
  const base = process.env[URL_VAR]
  if (!base) {
    throw new Error(`${URL_VAR} is not set: run the Node tests through \`cargo xtask node\` or \`cargo xtask test\`, which start a PostgreSQL server`)
  }
  const schema = `node_${crypto.randomBytes(8).toString('hex')}`
  execFileSync('psql', [base, '-qc', `CREATE SCHEMA ${schema}`])
  return `${base}${base.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`
}

test('two stores on one PostgreSQL URL share instances, versions and removals', async () => {
  const url = freshSchemaUrl()
  const work = tempDir()
  const keyring = path.join(work, 'keyring.json')
  const first = CredentialStore.open(url, keyring, { actor: 'instance-a' })
  const second = CredentialStore.open(url, keyring, { actor: 'instance-b' })
  const app = copySampleApp(work)
  const before = readTree(app)

  const added = await first.addConnectorAsync(app, 'prj-pg', 'stripe', sampleConfig('stripe'))
  assert.equal(added.store.action, 'created')
  const id = added.store.instanceId
  assert.deepEqual(second.listInstances('prj-pg').map((i) => i.id), [id])

  const rotated = second.rotateCredentials(id, { ...sampleConfig('stripe'), secretKey: 'sk_test_51RotatedOnTheOtherInstance' })
  assert.equal(rotated.credentialsVersion, 2)
  assert.equal(first.getInstance(id).credentialsVersion, 2)
  assert.equal(first.decryptCredentials(id, 'test').secretKey, 'sk_test_51RotatedOnTheOtherInstance')
  // The store itself never holds the value in clear.
  const dump = execFileSync('psql', [url, '-Atc', 'SELECT t::text FROM connector_instances t']).toString()
  assert.ok(dump.includes(id) && !dump.includes('sk_test_51RotatedOnTheOtherInstance'))

  const removed = await second.removeConnectorAsync(app, 'prj-pg', 'stripe')
  assert.equal(removed.store.action, 'removed')
  assert.equal(first.findInstance('prj-pg', 'stripe'), null)
  assert.deepEqual(readTree(app), before)
})

test('a PostgreSQL store that cannot be reached: STORE_ERROR naming it without the password', async () => {
  const work = tempDir()
  const url = 'postgres://svc:Node-Pg-Secret@127.0.0.1:1/mobigen'
  const error = throwsCode(() => CredentialStore.open(url, path.join(work, 'keyring.json')), 'STORE_ERROR')
  assert.ok(error.message.includes('postgres://svc:***@127.0.0.1:1/mobigen'), error.message)
  assert.ok(!error.message.includes('Node-Pg-Secret'), error.message)
  // The store is opened first: no keyring was created for it.
  assert.equal(readTree(work).size, 0)
})

/** One call of moto's KMS API (JSON 1.1; moto routes on the credential scope, checks no signature). */
async function kmsCall(endpoint, action, body) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `TrentService.${action}`,
      Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20261203/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  assert.ok(response.ok, `${action}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : {}
}

test('with MOBIGEN_KMS_KEY_ID the store keeps its keys in AWS KMS (moto), not in a keyring file', async () => {
  const endpoint = process.env.MOBIGEN_TEST_KMS_URL
  if (!endpoint) {
    throw new Error('MOBIGEN_TEST_KMS_URL is not set: run the Node tests through `cargo xtask node` or `cargo xtask test`, which start moto')
  }
  const alias = `alias/node-${crypto.randomBytes(8).toString('hex')}`
  const key = await kmsCall(endpoint, 'CreateKey', {})
  await kmsCall(endpoint, 'CreateAlias', { AliasName: alias, TargetKeyId: key.KeyMetadata.KeyId })
  const work = tempDir()
  const variables = {
    MOBIGEN_KMS_KEY_ID: alias,
    AWS_ENDPOINT_URL_KMS: endpoint,
    MOBIGEN_KMS_AUDIT_FILE: path.join(work, 'kms-audit.json'),
  }
  Object.assign(process.env, variables)
  try {
    const store = CredentialStore.open(freshSchemaUrl(), path.join(work, 'keyring.json'))
    const app = copySampleApp(work)
    const added = store.addConnector(app, 'prj-kms', 'stripe', sampleConfig('stripe'))
    assert.equal(added.store.keyId, key.KeyMetadata.Arn)
    const id = added.store.instanceId
    assert.equal(store.decryptCredentials(id, 'test').secretKey, sampleConfig('stripe').secretKey)
    // The async calls open their own store connection and KMS client.
    const removed = await store.removeConnectorAsync(app, 'prj-kms', 'stripe')
    assert.equal(removed.store.action, 'removed')
    assert.ok(!readTree(work).has('keyring.json'), 'no local keyring')

    // The Vault class takes its keys from KMS the same way: encrypt, decrypt, rotate, rewrap.
    const vault = Vault.open(path.join(work, 'vault-keyring.json'))
    assert.equal(vault.activeKeyId, key.KeyMetadata.Arn)
    const sealed = vault.encrypt('prj-kms', 'stripe', 'sk_test_kms_vault')
    assert.equal(vault.decryptSecret('prj-kms', 'stripe', sealed, 'test').toString(), 'sk_test_kms_vault')
    assert.throws(() => vault.decryptSecret('prj-other', 'stripe', sealed, 'test'), { code: 'DECRYPTION_FAILED' })
    const rotated = vault.rotateKey()
    assert.notEqual(rotated, key.KeyMetadata.Arn)
    assert.equal(vault.decryptSecret('prj-kms', 'stripe', sealed, 'test').toString(), 'sk_test_kms_vault', 'old key still decrypts')
    const moved = vault.rewrap('prj-kms', 'stripe', sealed)
    assert.notEqual(moved, sealed)
    assert.equal(vault.decryptSecret('prj-kms', 'stripe', moved, 'test').toString(), 'sk_test_kms_vault')
    assert.ok(!readTree(work).has('vault-keyring.json'), 'no local keyring for the vault either')
  } finally {
    for (const name of Object.keys(variables)) delete process.env[name]
  }
})
