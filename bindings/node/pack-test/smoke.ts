// Type check of the packed package (`tsc --noEmit`, strict), in the fresh folder
// `cargo xtask node` installs the tarballs into (see smoke.test.cjs). Not run, only compiled:
// the `@ts-expect-error` lines fail the check when the types stop rejecting what they must.
import {
  listConnectors,
  searchConnectors,
  validateConfig,
  type ConfigReport,
  type ConnectorSummary,
  type StripeConfig,
} from '@mobigen/connectors'

const all: ConnectorSummary[] = listConnectors().connectors
const best: string | undefined = searchConnectors('strpe').results[0]?.id
const config: StripeConfig = { publishableKey: 'pk_test_51Hx', secretKey: 'sk_test_51Hx' }
const report: ConfigReport = validateConfig('stripe', config)
if (report.valid) {
  const features: string[] = report.features
  void features
}

// @ts-expect-error a Stripe config needs its publishable key
validateConfig('stripe', { secretKey: 'sk_test_51Hx' })
// @ts-expect-error the category is one of the known ones
listConnectors('not-a-category')

export { all, best }
