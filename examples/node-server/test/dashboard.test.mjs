// The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core. A
// user adds Stripe to a sample project through the modal (an inline error for a bad key, fixed,
// the diff, confirm), the project changes as the CLI's `add` would change it, the active view
// shows it, a test action runs against a Stripe mock on 127.0.0.1, the credentials are rotated,
// the connector is disabled, enabled and removed, and the project is byte-identical to the
// start. Every screen passes axe-core (no serious or critical violation), the path is walked
// with the keyboard alone, and screenshots of the four screens go to target/dashboard/.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { add, CredentialStore } from '@mobigen/connectors'
import { createConnectorServer } from '../server.mjs'
import { buildDashboard } from '../dashboard/build.mjs'
import mock from '../../../bindings/node/testlib/mock-service.cjs'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..', '..')
const sampleApp = path.join(repo, 'examples', 'sample-app')
const shots = path.join(repo, 'target', 'dashboard')
const TOKEN = 'dashboard-test-token-0123456789'
const PUBLISHABLE = 'pk_test_51DashboardSample000000'
const SECRET = 'sk_test_51DashboardSecret0000000'
const ROTATED = 'sk_test_51DashboardRotated000000'
/** Debian's chromium (`apt-get install chromium`), or `MOBIGEN_CHROMIUM`. */
const CHROMIUM = process.env.MOBIGEN_CHROMIUM ?? '/usr/bin/chromium'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-dashboard-'))
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }))
const project = path.join(root, 'sample')
fs.cpSync(sampleApp, project, { recursive: true, filter: (s) => path.basename(s) !== 'node_modules' })

function tree(dir) {
  const out = {}
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name)
      if (e.isDirectory()) walk(full)
      else out[path.relative(dir, full)] = fs.readFileSync(full).toString('base64')
    }
  }
  walk(dir)
  return out
}
const start = tree(project)

/** Fails naming the paths where two trees differ. */
function assertSameTree(actual, expected, what) {
  const paths = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort()
  const differing = paths.filter((p) => actual[p] !== expected[p]).map((p) => `${p}: ${p in actual ? (p in expected ? 'differs' : 'only here') : 'missing'}`)
  assert.deepEqual(differing, [], what)
}

const stripeRoutes = {
  'GET /v1/account': [200, { id: 'acct_dashboard', charges_enabled: true }],
  'POST /v1/payment_intents': [200, { id: 'pi_dashboard', status: 'requires_payment_method', livemode: false }],
  'POST /v1/payment_intents/pi_dashboard/cancel': [200, { id: 'pi_dashboard', status: 'canceled' }],
}
let stripeApi
let server
let base
let browser
let page
/** Every API answer the browser got, to check no secret ever reached it. */
const answers = []

test.before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: install Debian's (apt-get install chromium; cargo xtask test does) or set MOBIGEN_CHROMIUM`)
  await buildDashboard()
  fs.mkdirSync(shots, { recursive: true })
  stripeApi = await mock.startMockService(stripeRoutes)
  server = createConnectorServer({ root, token: TOKEN, net: { apiBases: { stripe: stripeApi.base }, allowLocalNetwork: ['stripe'] } })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${server.address().port}`
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true })
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } })
  page = await context.newPage()
  page.on('response', async (res) => {
    if (!res.url().includes('/api/')) return
    try {
      answers.push(`${res.url()} ${await res.text()}`)
    } catch {
      // A redirect or an aborted request has no body.
    }
  })
})
test.after(async () => {
  await browser?.close()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()))
  await stripeApi?.close()
})

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

/** axe-core on the page as it is now: no serious or critical violation. */
async function axeCheck(name) {
  await page.evaluate(axeSource)
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }))
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  assert.deepEqual(bad, [], `axe on ${name}`)
}

/** Presses Tab (Shift+Tab with `back`) until the focused element has this accessible label or text. */
async function tabTo(label, { back = false, limit = 80 } = {}) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab')
    const focused = await page.evaluate(() => {
      const el = document.activeElement
      if (!el) return ''
      const labelled = el.labels?.[0]?.textContent ?? ''
      return [el.getAttribute('aria-label') ?? '', el.textContent?.trim() ?? '', labelled.trim()]
    })
    if (focused.some((text) => text === label || text.startsWith(`${label} `))) return
  }
  throw new Error(`Tab never reached "${label}"`)
}

/** Tab to the modal's Next button, press Enter, and wait for the step named `title`. */
async function nextStep(title) {
  await tabTo('Next')
  await page.keyboard.press('Enter')
  await page.getByText(title).waitFor()
}

async function focusedLabel() {
  return page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim())
}

async function shot(name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
}

async function statusOf(name) {
  const card = page.locator('article', { has: page.getByRole('heading', { name }) })
  return card.locator('.status').textContent()
}

test('without the token the API answers 401 and the page asks to sign in', async () => {
  for (const route of ['/api/v1/connectors', '/api/v1/projects', '/api/v1/projects/sample/connectors']) {
    const res = await fetch(base + route)
    assert.equal(res.status, 401, route)
  }
  const del = await fetch(`${base}/api/v1/projects/sample/connectors/stripe`, { method: 'DELETE' })
  assert.equal(del.status, 401)
  await page.goto(`${base}/dashboard/`)
  await page.getByLabel('Dashboard token').waitFor()
  await axeCheck('sign-in')
  await page.getByLabel('Dashboard token').fill('not-the-token-0123456789')
  await page.keyboard.press('Enter')
  await page.getByText('That is not this server\'s token.').waitFor()
})

test('the link with the token signs in once: an HttpOnly cookie, and the token leaves the address bar', async () => {
  await page.goto(`${base}/dashboard/?project=sample#token=${TOKEN}`)
  await page.getByRole('heading', { name: 'Marketplace' }).waitFor()
  assert.ok(!page.url().includes(TOKEN), page.url())
  const cookies = await page.context().cookies()
  const session = cookies.find((c) => c.name === 'mobigen_session')
  assert.ok(session, JSON.stringify(cookies))
  assert.equal(session.httpOnly, true)
  assert.equal(session.sameSite, 'Strict')
  assert.notEqual(session.value, TOKEN)
  assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie is readable by scripts')
  // A reload keeps the session.
  await page.reload()
  await page.getByRole('heading', { name: 'Marketplace' }).waitFor()
})

test('marketplace: every connector, the library\'s typo-tolerant search, the category filter', async () => {
  await page.locator('.grid article').first().waitFor()
  assert.equal(await page.locator('.grid article').count(), 5)
  for (const name of ['Stripe', 'Firebase', 'Supabase', 'RevenueCat', 'OneSignal']) {
    await page.getByRole('heading', { name, exact: true }).waitFor()
  }
  await axeCheck('marketplace')
  await shot('marketplace')
  await page.getByLabel('Search connectors').fill('strpe')
  await page.getByText('1 connector', { exact: true }).waitFor()
  assert.equal(await page.locator('.grid h3').first().textContent(), 'Stripe')
  await page.getByLabel('Search connectors').fill('')
  await page.getByLabel('Category').selectOption('payments')
  await page.getByText('1 connector', { exact: true }).waitFor()
  assert.deepEqual(await page.locator('.grid h3').allTextContents(), ['Stripe'])
  await page.getByLabel('Category').selectOption('')
  await page.getByText('5 connectors', { exact: true }).waitFor()
})

test('configuration modal, by keyboard alone: a bad key shows an inline error, the review shows the diff, confirm adds Stripe', async () => {
  // Escape closes the modal and gives the focus back to its button.
  await page.getByLabel('Search connectors').focus()
  await tabTo('Add Stripe')
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog', { name: 'Add Stripe' })
  await dialog.waitFor()
  await page.keyboard.press('Escape')
  await dialog.waitFor({ state: 'detached' })
  assert.equal(await focusedLabel(), 'Add Stripe')

  await page.keyboard.press('Enter')
  await dialog.waitFor()
  await page.getByText('Step 1 of 5: Introduction').waitFor()
  assert.ok(await page.evaluate(() => document.querySelector('dialog').contains(document.activeElement)), 'the focus is in the modal')
  // Tab and Shift+Tab cycle inside the modal: the page behind it is inert.
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press(key)
      const inside = await page.evaluate(() => document.activeElement === document.body || document.querySelector('dialog').contains(document.activeElement))
      assert.ok(inside, `${key} ${i + 1}: the focus left the modal`)
    }
  }
  await nextStep('Step 2 of 5: Authentication')
  await tabTo('Publishable key')
  await page.keyboard.type(PUBLISHABLE)
  await tabTo('Secret key')
  assert.equal(await page.evaluate(() => document.activeElement.type), 'password', 'the secret input is masked')
  await page.keyboard.type('sk_wrong_key')
  const secretError = page.locator('#field-secretKey-error')
  await secretError.waitFor()
  assert.match(await secretError.textContent(), /secret key/i)
  assert.equal(await page.locator('#field-secretKey').getAttribute('aria-invalid'), 'true')
  assert.match(await page.locator('#field-secretKey').getAttribute('aria-describedby'), /field-secretKey-error/)
  await axeCheck('configuration modal (authentication, with an error)')
  await shot('configure-error')
  // Next stays on the step while the error is there, with the focus on the field.
  await tabTo('Next')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.activeElement?.id === 'field-secretKey')
  await page.keyboard.press('Control+A')
  await page.keyboard.type(SECRET)
  await secretError.waitFor({ state: 'detached' })
  await nextStep('Step 3 of 5: Configuration')
  await axeCheck('configuration modal (configuration)')
  await nextStep('Step 4 of 5: Features')
  await nextStep('Step 5 of 5: Review')
  const diff = page.locator('pre.diff')
  await diff.waitFor()
  const diffText = await diff.textContent()
  assert.match(diffText, /STRIPE_SECRET_KEY=/)
  assert.match(diffText, /EXPO_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_51DashboardSample/)
  assert.ok(!diffText.includes(SECRET), 'the diff redacts the secret')
  assert.ok(!(await page.content()).includes(SECRET))
  await axeCheck('configuration modal (review)')
  await shot('configure')
  await tabTo('Add Stripe')
  await page.keyboard.press('Enter')
  await dialog.waitFor({ state: 'detached' })
  await page.getByRole('heading', { name: 'Active connectors' }).waitFor()
  await page.getByText('Stripe was added to sample.').waitFor()
  await page.waitForFunction(() => document.activeElement?.id === 'active-title')
})

test('the project changed exactly as the CLI\'s add changes it', () => {
  const cli = fs.mkdtempSync(path.join(os.tmpdir(), 'mobigen-dashboard-cli-'))
  try {
    fs.cpSync(sampleApp, cli, { recursive: true, filter: (s) => path.basename(s) !== 'node_modules' })
    add(cli, 'stripe', { publishableKey: PUBLISHABLE, secretKey: SECRET })
    assertSameTree(tree(project), tree(cli), 'the dashboard\'s project against the CLI\'s')
    assert.notDeepEqual(tree(project), start)
  } finally {
    fs.rmSync(cli, { recursive: true, force: true })
  }
})

test('active connectors: status, figures, validate and enable by keyboard', async () => {
  const card = page.locator('article', { has: page.getByRole('heading', { name: 'Stripe' }) })
  await card.waitFor()
  assert.equal(await statusOf('Stripe'), 'Configured, not validated')
  await card.getByText('API calls today').waitFor()
  // The store's activity figures where it has them (the instance's `activity`), "—" where not.
  const listed = await (await fetch(`${base}/api/v1/projects/sample/connectors`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()
  const activity = listed.instances[0].activity
  const figure = async (label) => card.locator('.stats div', { has: page.getByText(label, { exact: true }) }).locator('dd').textContent()
  assert.equal(await figure('API calls today'), typeof activity?.apiCallsToday === 'number' ? String(activity.apiCallsToday) : '—')
  assert.equal(await figure('Errors today'), typeof activity?.errorsToday === 'number' ? String(activity.errorsToday) : '—')
  await axeCheck('active connectors')
  await tabTo('Validate Stripe')
  await page.keyboard.press('Enter')
  await page.getByText('Stripe: the credentials are valid.').waitFor()
  await page.waitForFunction(() => document.querySelector('.status')?.textContent === 'Validated, not enabled')
  const seen = stripeApi.requests.filter((r) => r.path === '/v1/account')
  assert.equal(seen.at(-1).headers.authorization, `Bearer ${SECRET}`, 'the stored key reached the (mock) service')
  assert.equal(await focusedLabel(), 'Enable Stripe', 'the focus stays on the lifecycle button')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.querySelector('.status')?.textContent === 'Connected')
  assert.equal(await focusedLabel(), 'Disable Stripe')
  await shot('active')
})

test('testing interface: a test action against the Stripe mock, step by step', async () => {
  await tabTo('Test Stripe', { back: true })
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.activeElement?.id === 'testing-title')
  await tabTo('Test')
  await page.keyboard.press('ArrowDown')
  assert.equal(await page.getByLabel('Test', { exact: true }).inputValue(), 'payment_intent')
  const amount = page.getByLabel('Amount')
  await amount.waitFor()
  await tabTo('Amount')
  await page.keyboard.press('Control+A')
  await page.keyboard.type('1500')
  await tabTo('Run test')
  await page.keyboard.press('Enter')
  const result = page.locator('.result')
  await result.waitFor()
  assert.match(await result.locator('h3').textContent(), /^Passed in \d+ ms$/)
  assert.deepEqual(await result.locator('li strong').allTextContents(), ['Payment intent created', 'Payment intent cancelled'])
  // Each step shows its own time.
  const timings = await result.locator('li .timing').allTextContents()
  assert.equal(timings.length, 2)
  assert.ok(timings.every((t) => /^\(\d+ ms\)$/.test(t)), JSON.stringify(timings))
  assert.match(await result.textContent(), /pi_dashboard/)
  const created = stripeApi.requests.find((r) => r.path === '/v1/payment_intents')
  assert.equal(new URLSearchParams(created.body).get('amount'), '1500')
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('result')), true, 'the focus moves to the result')
  await axeCheck('testing')
  await shot('testing')
})

test('rotate the credentials, disable, enable, remove (diff first): the project is byte-identical to the start', async () => {
  await tabTo('Active connectors', { back: true })
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Active connectors' }).waitFor()
  await tabTo('Rotate credentials of Stripe')
  await page.keyboard.press('Enter')
  const rotate = page.getByRole('dialog', { name: 'Rotate credentials of Stripe' })
  await rotate.waitFor()
  await tabTo('Secret key')
  assert.equal(await page.locator('#field-secretKey').inputValue(), '', 'the stored secret is not sent to the page')
  await page.keyboard.type(ROTATED)
  await nextStep('Step 2 of 2: Review')
  await rotate.getByRole('button', { name: 'Save' }).waitFor()
  await axeCheck('rotate credentials')
  await tabTo('Save')
  await page.keyboard.press('Enter')
  await rotate.waitFor({ state: 'detached' })
  await page.getByText('The previous credentials (version 1) expire in 7 days.').waitFor()
  const store = CredentialStore.open(path.join(root, '.mobigen', 'connectors.db'), path.join(root, '.mobigen', 'vault-keyring.json'), { actor: 'dashboard test' })
  const instance = store.findInstance('sample', 'stripe')
  assert.equal(instance.credentialsVersion, 2)
  assert.equal(store.decryptCredentials(instance.id, 'test: the rotated key').secretKey, ROTATED)

  await page.waitForFunction(() => document.activeElement?.id === 'active-title')

  // Configure: the stored public values, the secret only as "stored"; the change is a merge patch.
  await tabTo('Configure Stripe')
  await page.keyboard.press('Enter')
  const configure = page.getByRole('dialog', { name: 'Configure Stripe' })
  await configure.waitFor()
  await page.getByText('Step 1 of 4: Authentication').waitFor()
  assert.equal(await page.locator('#field-publishableKey').inputValue(), PUBLISHABLE)
  assert.equal(await page.locator('#field-secretKey').inputValue(), '')
  assert.match(await page.locator('#field-secretKey').getAttribute('placeholder'), /stored on the server/)
  await nextStep('Step 2 of 4: Configuration')
  await tabTo('Currency')
  await page.keyboard.press('Control+A')
  await page.keyboard.type('EURO')
  await page.locator('#field-currency-error').waitFor()
  await page.keyboard.press('Control+A')
  await page.keyboard.type('eur')
  await page.locator('#field-currency-error').waitFor({ state: 'detached' })
  await nextStep('Step 3 of 4: Features')
  await nextStep('Step 4 of 4: Review')
  await configure.getByText('.env (update)').waitFor()
  await tabTo('Save')
  await page.keyboard.press('Enter')
  await configure.waitFor({ state: 'detached' })
  await page.getByText('Stripe was updated.').waitFor()
  assert.match(fs.readFileSync(path.join(project, '.env'), 'utf8'), /EXPO_PUBLIC_STRIPE_CURRENCY=eur/)
  const configured = store.decryptCredentials(instance.id, 'test: the configured config')
  assert.equal(configured.secretKey, ROTATED, 'the secret was kept')
  assert.equal(configured.currency, 'eur')
  await page.waitForFunction(() => document.activeElement?.id === 'active-title')

  await tabTo('Disable Stripe')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.querySelector('.status')?.textContent === 'Disabled')
  assert.equal(await focusedLabel(), 'Enable Stripe')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.querySelector('.status')?.textContent === 'Connected')

  await tabTo('Remove Stripe')
  await page.keyboard.press('Enter')
  const remove = page.getByRole('dialog', { name: 'Remove Stripe' })
  await remove.waitFor()
  await remove.locator('pre.diff').waitFor()
  assert.ok(!(await remove.locator('pre.diff').textContent()).includes(ROTATED))
  await axeCheck('remove')
  await tabTo('Remove Stripe')
  await page.keyboard.press('Enter')
  await remove.waitFor({ state: 'detached' })
  await page.getByText('This project has no connectors yet.').waitFor()
  assertSameTree(tree(project), start, 'the project after removing Stripe')
  assert.equal(store.findInstance('sample', 'stripe'), null)
})

test('no API answer the browser got held a secret value', () => {
  assert.ok(answers.length > 10, `${answers.length} answers`)
  for (const answer of answers) {
    for (const secret of [SECRET, ROTATED, TOKEN]) assert.ok(!answer.includes(secret), answer.slice(0, 200))
  }
})

test('signing out ends the session: the page asks for the token again and the old cookie gets 401', async () => {
  const cookie = (await page.context().cookies()).find((c) => c.name === 'mobigen_session')
  await tabTo('Sign out', { back: true, limit: 120 })
  await page.keyboard.press('Enter')
  await page.getByLabel('Dashboard token').waitFor()
  assert.equal((await page.context().cookies()).some((c) => c.name === 'mobigen_session'), false)
  const res = await fetch(`${base}/api/v1/projects`, { headers: { cookie: `mobigen_session=${cookie.value}` } })
  assert.equal(res.status, 401)
})
