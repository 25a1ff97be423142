// A scripted HTTP service on 127.0.0.1 for the network tests (the package's and the example
// server's): routes answer with JSON, every request is recorded, and the most requests in
// flight at once is counted.
'use strict'

const http = require('node:http')

/**
 * Starts a service. `routes` maps `'METHOD /path'` (path without query) to
 * `(request) => [status, body]` or `[status, body]`; a route may also give `delayMs`.
 * Resolves to `{ base, requests, maxInFlight(), close() }`.
 */
function startMockService(routes) {
  const requests = []
  let inFlight = 0
  let maxInFlight = 0
  const server = http.createServer((req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url, 'http://127.0.0.1')
      const request = { method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
      requests.push(request)
      const route = routes[`${req.method} ${url.pathname}`]
      const answer = typeof route === 'function' ? route(request) : route ?? [404, { mock: 'no route for this request' }]
      const [status, body, delayMs = 0] = answer
      setTimeout(() => {
        const text = JSON.stringify(body)
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        res.end(text)
        inFlight--
      }, delayMs)
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        base: `http://127.0.0.1:${server.address().port}`,
        requests,
        maxInFlight: () => maxInFlight,
        close: () => new Promise((done) => server.close(done)),
      })
    })
  })
}

module.exports = { startMockService }
