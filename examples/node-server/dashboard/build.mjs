// Builds the dashboard into dashboard/dist: src/main.js (Preact + htm) bundled and minified by
// esbuild into app.js, beside the static files (index.html, style.css, logos/). Offline: every
// module comes from node_modules. Run with `npm run build:dashboard`; the browser tests call
// `buildDashboard()` themselves, so they always test the current sources.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as esbuild from 'esbuild'

const here = path.dirname(fileURLToPath(import.meta.url))

/** Writes dashboard/dist (or `outDir`) anew; returns its path. */
export async function buildDashboard(outDir = path.join(here, 'dist')) {
  fs.rmSync(outDir, { recursive: true, force: true })
  fs.cpSync(path.join(here, 'static'), outDir, { recursive: true })
  await esbuild.build({
    entryPoints: [path.join(here, 'src', 'main.js')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    legalComments: 'none',
    logLevel: 'warning',
  })
  return outDir
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const out = await buildDashboard()
  console.log(`built the dashboard into ${path.relative(process.cwd(), out) || '.'}`)
}
