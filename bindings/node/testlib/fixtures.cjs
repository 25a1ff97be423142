// Shared fixtures of the package's tests: temporary copies of the sample app, the sample
// configs, and a sixth connector folder for registerConnectorDir.
'use strict'

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const repo = path.resolve(__dirname, '..', '..', '..')
const sampleApp = path.join(repo, 'examples', 'sample-app')

/** A fresh temporary folder, removed when the process exits. */
function tempDir(prefix = 'mobigen-node-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A copy of examples/sample-app (without node_modules) in a new temporary folder. */
function copySampleApp(into = tempDir()) {
  const dest = path.join(into, 'app')
  fs.cpSync(sampleApp, dest, {
    recursive: true,
    filter: (src) => path.basename(src) !== 'node_modules',
  })
  return dest
}

/** The config of examples/sample-configs/<id>.json (fake test keys). */
function sampleConfig(id) {
  return JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'sample-configs', `${id}.json`), 'utf8'))
}

/** Every file below `dir`: relative path -> contents. */
function readTree(dir) {
  const out = new Map()
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (entry.isDirectory()) walk(full)
      else out.set(path.relative(dir, full), fs.readFileSync(full))
    }
  }
  walk(dir)
  return out
}

/** Writes a valid `sentry` connector folder into `dir` (a folder of connector folders). */
function writeSentryConnector(dir, id = 'sentry') {
  const folder = path.join(dir, id)
  fs.mkdirSync(path.join(folder, 'templates'), { recursive: true })
  const manifest = {
    id,
    name: 'Sentry',
    description: 'Error and performance monitoring.',
    category: 'monitoring',
    logo: 'https://assets.example.com/sentry.svg',
    setupDifficulty: 'easy',
    authTypes: ['api-key'],
    configSchema: {
      type: 'object',
      required: ['dsn'],
      properties: {
        dsn: { type: 'string', pattern: '^https://', maxLength: 500 },
        authToken: { type: 'string', maxLength: 200 },
        tracesSampleRate: { type: 'number', minimum: 0, maximum: 1, default: 0.2 },
      },
    },
    fields: {
      '/dsn': { sensitivity: 'public', env: 'EXPO_PUBLIC_SENTRY_DSN' },
      '/authToken': { sensitivity: 'secret' },
      '/tracesSampleRate': { sensitivity: 'public' },
    },
    capabilities: ['crash-reporting', 'performance'],
    dependencies: [{ package: '@sentry/react-native', sdkVersions: { 56: '~7.2.0' }, defaultRange: '^7.2.0' }],
    plugins: [{ name: '@sentry/react-native/expo' }],
    templates: [{ source: 'templates/sentry.ts', target: 'src/services/sentry.ts', kind: 'service' }],
    docsUrl: 'https://docs.example.com/sentry',
    setupGuideUrl: 'https://docs.sentry.io/platforms/react-native/',
  }
  fs.writeFileSync(path.join(folder, 'manifest.json'), JSON.stringify(manifest, null, 2))
  fs.writeFileSync(
    path.join(folder, 'templates', 'sentry.ts'),
    "import * as Sentry from '@sentry/react-native';\nexport { Sentry };\n",
  )
  return folder
}

module.exports = { repo, sampleApp, tempDir, copySampleApp, sampleConfig, readTree, writeSentryConnector }
