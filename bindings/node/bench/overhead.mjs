// The binding's overhead: the time of a call from JS minus the time of the same Rust work run
// inside the addon with no JS conversion (`__benchBaseline`, same build, same process), for
// `listConnectors()` and `planAdd()` of Stripe on a copy of examples/sample-app. A benchmark, not
// a test: it prints figures and asserts nothing. Run `npm run bench` (after `npm run build`, or
// `npm run build:release` for release figures).
//
// Samples are paired: each JS call goes with one baseline run of the same work (in alternating
// order, so neither side profits more from caches the other warmed), and the overhead is the
// median of the per-pair differences. planAdd's Rust work (about a millisecond of file reading
// and planning) is far longer than the overhead, so comparing two separately taken means would
// mostly measure noise from the machine; a median of pairs does not drift with it. Both sides do the same work: the baseline reads the same files, validates the same config
// and builds the same result (`summary`, `diff`, `changes`), it only skips the conversion to JS.
import { createRequire } from 'node:module'
import fixtures from '../testlib/fixtures.cjs'

const require = createRequire(import.meta.url)
const binding = require('../index.js')
const { copySampleApp, sampleConfig } = fixtures

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Per pair: [JS call ns, Rust baseline ns]; returns medians of JS, Rust and JS - Rust. */
function paired(js, rust, samples) {
  for (let i = 0; i < Math.min(samples, 50); i++) {
    js()
    rust()
  }
  const jsNs = []
  const rustNs = []
  const diff = []
  const timedJs = () => {
    const start = process.hrtime.bigint()
    js()
    return Number(process.hrtime.bigint() - start)
  }
  for (let i = 0; i < samples; i++) {
    let t, r
    if (i % 2 === 0) {
      t = timedJs()
      r = rust()
    } else {
      r = rust()
      t = timedJs()
    }
    jsNs.push(t)
    rustNs.push(r)
    diff.push(t - r)
  }
  return [median(jsNs), median(rustNs), median(diff)]
}

function report(name, samples, [jsNs, rustNs, overheadNs]) {
  const us = (ns) => (ns / 1000).toFixed(2).padStart(9)
  console.log(`${name.padEnd(15)} ${String(samples).padStart(6)} pairs   JS ${us(jsNs)} µs   Rust ${us(rustNs)} µs   overhead ${us(overheadNs)} µs (median of pairs)`)
}

const app = copySampleApp()
const stripe = sampleConfig('stripe')
const listSamples = Number(process.env.LIST_SAMPLES ?? 5000)
const planSamples = Number(process.env.PLAN_SAMPLES ?? 1000)
console.log(`node ${process.version}`)
report('listConnectors', listSamples, paired(
  () => binding.listConnectors(),
  () => binding.__benchBaseline('listConnectors', '1'),
  listSamples,
))
report('planAdd', planSamples, paired(
  () => binding.planAdd(app, 'stripe', stripe),
  () => binding.__benchBaseline('planAdd', '1', app, 'stripe', stripe),
  planSamples,
))
