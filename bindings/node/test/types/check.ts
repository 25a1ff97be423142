// Compiled with `tsc --noEmit -p test/types` (part of `cargo xtask test`): the package's types
// as the Node service uses them. Each `@ts-expect-error` line must fail to compile, or tsc
// reports the directive as unused, so the negative checks cannot pass silently.
import {
  planAdd,
  planAddAsync,
  validateConfig,
  listConnectors,
  add,
  status,
  Vault,
  CredentialStore,
  validate,
  runTest,
  oauthBegin,
  oauthComplete,
  fetchSupplied,
  type CheckReport,
  type StripeConfig,
  type SupabaseConfig,
  type ConnectorConfig,
  type ConnectorsError,
  type ErrorCode,
  type PlanResult,
  type Instance,
  type StoredChange,
} from '@mobigen/connectors'

const stripe: StripeConfig = {
  publishableKey: 'pk_test_1',
  secretKey: 'sk_test_1',
  currency: 'usd',
  paymentMethods: ['card', 'apple_pay'],
}

// @ts-expect-error: `secretKey` is required.
const missing: StripeConfig = { publishableKey: 'pk_test_1' }

// @ts-expect-error: not a Stripe field (a typo of `currency`).
const typo: StripeConfig = { publishableKey: 'pk_test_1', secretKey: 'sk_test_1', curency: 'usd' }

// @ts-expect-error: not a payment method Stripe's schema allows.
const method: StripeConfig = { publishableKey: 'p', secretKey: 's', paymentMethods: ['paypal'] }

const plan: PlanResult = planAdd('/app', 'stripe', stripe)
const kind: 'add' | 'update' | 'upToDate' | 'remove' = plan.summary.kind
const diff: string = plan.diff

// The id picks the config type: a Stripe field on Supabase fails.
// @ts-expect-error: `publishableKey` is not a Supabase field.
planAdd('/app', 'supabase', { projectUrl: 'https://x.supabase.co', anonKey: 'k', publishableKey: 'pk' })

const supabase: ConnectorConfig<'supabase'> = { projectUrl: 'https://x.supabase.co', anonKey: 'sb_publishable_x' }
const sameType: SupabaseConfig = supabase

// A connector registered at run time takes any object.
validateConfig('sentry', { dsn: 'https://k@o1.ingest.sentry.io/1' })

async function service(): Promise<number> {
  const result = await planAddAsync('/app', 'stripe', stripe, { force: false })
  const { connectors } = listConnectors('payments')
  // @ts-expect-error: not a category.
  listConnectors('payment')
  // @ts-expect-error: `dryRun` is not an option of planAdd.
  planAdd('/app', 'stripe', stripe, { dryRun: true })
  add('/app', 'stripe', stripe, { dryRun: true, writeSecretEnv: false })
  const types: string = await fetchSupplied('supabase', supabase, 'databaseTypes')
  planAdd('/app', 'supabase', supabase, { supplied: { databaseTypes: types } })
  // @ts-expect-error: supplied bodies are strings.
  planAdd('/app', 'supabase', supabase, { supplied: { databaseTypes: 1 } })
  const st = status('/app')
  const vault = Vault.open('/keys/keyring.json')
  const text: string = vault.encrypt('p', 'stripe', Buffer.from('x'))
  const plain: Buffer = vault.decryptSecret('p', 'stripe', text, 'write env')
  const store = CredentialStore.open('/data/connectors.db', '/keys/keyring.json')
  const instance: Instance = store.storeCredentials('p', 'stripe', stripe)
  const found: Instance | null = store.findInstance('p', 'stripe')
  const added: StoredChange = store.addConnector('/app', 'p', 'stripe', stripe, { ifStored: 'refuse' })
  // @ts-expect-error: the config of addConnector is typed by the connector id.
  store.addConnector('/app', 'p', 'supabase', stripe)
  // @ts-expect-error: ifStored is 'update' or 'refuse'.
  store.addConnector('/app', 'p', 'stripe', stripe, { ifStored: 'replace' })
  const updated: StoredChange = store.updateConnector('/app', 'p', 'stripe', { currency: 'eur' }, { merge: true })
  const removed: StoredChange = store.removeConnector('/app', 'p', 'stripe', { disableActive: true })
  const enabled: Instance = store.enableConnector('/app', 'p', 'stripe')
  const later: Promise<StoredChange> = store.addConnectorAsync('/app', 'p', 'stripe', stripe)
  // @ts-expect-error: the async add is typed by the connector id as well.
  store.addConnectorAsync('/app', 'p', 'supabase', stripe)
  const pending: Promise<StoredChange>[] = [
    later,
    store.updateConnectorAsync('/app', 'p', 'stripe', { currency: 'eur' }, { merge: true }),
    store.removeConnectorAsync('/app', 'p', 'stripe', { dryRun: true }),
  ]
  if (pending.length === 0) return 0
  const version: number | undefined = added.store?.credentialsVersion ?? updated.store?.credentialsVersion
  if (removed.store?.action === 'removed' && enabled.status === 'active') return version ?? 0
  try {
    planAdd('/app', 'stripe', stripe)
  } catch (e) {
    const code: ErrorCode = (e as ConnectorsError).code
    if (code === 'INVALID_CONFIG') return (e as ConnectorsError).issues?.length ?? 0
  }
  return result.changes.length + connectors.length + st.problems.length + plain.length + (found ? 1 : 0) + instance.credentialsVersion
}

async function network(vault: Vault): Promise<string | undefined> {
  const report: CheckReport = await validate('stripe', stripe, { timeoutMs: 5000 })
  // @ts-expect-error: the id picks the config type for the live checks too.
  await validate('supabase', stripe)
  const tested = await runTest('stripe', stripe, 'payment_intent', { amount: 1000 })
  // @ts-expect-error: `apiBase` is not an option (it is `apiBases`).
  await validate('stripe', stripe, { apiBase: 'http://x' })
  const begun = await oauthBegin('supabase', { clientId: 'c', redirectUri: 'https://a/cb', vault, projectId: 'p' })
  // @ts-expect-error: OneSignal has no OAuth flow.
  await oauthBegin('onesignal', { clientId: 'c', redirectUri: 'https://a/cb', vault, projectId: 'p' })
  const done = await oauthComplete('supabase', 'https://a/cb?code=1', { pending: begun.pending, vault, projectId: 'p' })
  const sealed: string = done.tokens
  return report.steps.find((s) => !s.passed)?.field ?? tested.steps[0]?.suggestion ?? sealed
}

export { missing, typo, method, kind, diff, sameType, service, network }
