// The binding's overhead: the time of a call from JS minus the time of the same Rust work run
// inside the addon with no JS conversion (`__benchBaseline`, same build, same process), for
// `listConnectors()` and `planAdd()` of Stripe on a copy of examples/sample-app. A benchmark, not
// a test: it prints figures and asserts nothing. Run `npm run bench` (after `npm run build`, or
// `npm run build:release` for release figures).
import { createRequire } from 'node:module'
import fixtures from '../testlib/fixtures.cjs'

const require = createRequire(import.meta.url)
const binding = require('../index.js')
const { copySampleApp, sampleConfig } = fixtures

function perCall(fn, iterations) {
  for (let i = 0; i < Math.min(iterations, 50); i++) fn() // warm up
  const start = process.hrtime.bigint()
  for (let i = 0; i < iterations; i++) fn()
  return Number(process.hrtime.bigint() - start) / iterations
}

function report(name, iterations, jsNs, rustNs) {
  const us = (ns) => (ns / 1000).toFixed(2).padStart(9)
  console.log(`${name.padEnd(15)} ${String(iterations).padStart(6)} calls   JS ${us(jsNs)} µs   Rust ${us(rustNs)} µs   overhead ${us(jsNs - rustNs)} µs`)
}

const app = copySampleApp()
const stripe = sampleConfig('stripe')
const rounds = Number(process.env.ROUNDS ?? 3)
console.log(`node ${process.version}; ${rounds} rounds, best of each`)
const best = { list: [Infinity, Infinity], plan: [Infinity, Infinity] }
for (let round = 0; round < rounds; round++) {
  const listJs = perCall(() => binding.listConnectors(), 2000)
  const listRust = binding.__benchBaseline('listConnectors', '2000')
  const planJs = perCall(() => binding.planAdd(app, 'stripe', stripe), 200)
  const planRust = binding.__benchBaseline('planAdd', '200', app, 'stripe', stripe)
  best.list = [Math.min(best.list[0], listJs), Math.min(best.list[1], listRust)]
  best.plan = [Math.min(best.plan[0], planJs), Math.min(best.plan[1], planRust)]
}
report('listConnectors', 2000, ...best.list)
report('planAdd', 200, ...best.plan)
