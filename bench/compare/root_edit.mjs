// The root-file edit of `cargo bench --bench root_edit` (add `import { withConnectors } from
// './src/connectors';` after the last import, wrap the default export: `export default
// withConnectors(function App() {...});`), done with jscodeshift (recast), with ts-morph and with
// @swc/core the fast way (`parseSync`, then the text spliced at the spans it gives: no printing)
// on the same generated App.tsx files. Prints one JSON object: {tool: {lines: msPerEdit}}.
//
// Usage: node root_edit.mjs DIR   (DIR holds app-100.tsx, app-1000.tsx, app-10000.tsx, written
// by the Rust bench when MOBIGEN_BENCH_FILES=DIR; `cargo xtask bench` does both.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jscodeshift = require('jscodeshift').withParser('tsx');
const { Project, QuoteKind, ts } = require('ts-morph');
const swc = require('@swc/core');

const SIZES = [100, 1000, 10000];
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node root_edit.mjs DIR');
  process.exit(2);
}

function withJscodeshift(source) {
  const j = jscodeshift;
  const root = j(source);
  const imports = root.find(j.ImportDeclaration);
  const decl = j.importDeclaration(
    [j.importSpecifier(j.identifier('withConnectors'))],
    j.stringLiteral('./src/connectors'),
  );
  imports.at(imports.length - 1).insertAfter(decl);
  root.find(j.ExportDefaultDeclaration).forEach((path) => {
    const fn = path.node.declaration;
    const expr = j.functionExpression(fn.id, fn.params, fn.body);
    path.node.declaration = j.callExpression(j.identifier('withConnectors'), [expr]);
  });
  return root.toSource({ quote: 'single' });
}

const project = new Project({
  useInMemoryFileSystem: true,
  compilerOptions: { jsx: ts.JsxEmit.Preserve },
  manipulationSettings: { quoteKind: QuoteKind.Single },
});

function withTsMorph(source) {
  const file = project.createSourceFile('App.tsx', source, { overwrite: true });
  file.insertImportDeclaration(file.getImportDeclarations().length, {
    namedImports: ['withConnectors'],
    moduleSpecifier: './src/connectors',
  });
  const fn = file.getFunctions().find((f) => f.isDefaultExport());
  const text = fn.getText().replace(/^export default /, '');
  fn.replaceWithText(`export default withConnectors(${text});`);
  const out = file.getFullText();
  project.removeSourceFile(file);
  return out;
}

/** Byte offset of the first token: @swc/core's spans count from a position that grows with
 * every parse (one source map for the process), so the file's start is found from the module's
 * first token. */
function firstTokenOffset(bytes) {
  let i = 0;
  for (;;) {
    while (i < bytes.length && /\s/.test(String.fromCharCode(bytes[i]))) i++;
    if (bytes[i] === 0x2f && bytes[i + 1] === 0x2f) {
      while (i < bytes.length && bytes[i] !== 0x0a) i++;
    } else if (bytes[i] === 0x2f && bytes[i + 1] === 0x2a) {
      i = bytes.indexOf('*/', i + 2) + 2;
    } else {
      return i;
    }
  }
}

function withSwcSplice(source) {
  const module = swc.parseSync(source, { syntax: 'typescript', tsx: true });
  const bytes = Buffer.from(source);
  const base = module.span.start - firstTokenOffset(bytes);
  let lastImport;
  let exported;
  for (const item of module.body) {
    if (item.type === 'ImportDeclaration') lastImport = item;
    else if (item.type === 'ExportDefaultDeclaration') exported = item;
  }
  const importEnd = lastImport.span.end - base;
  const declStart = exported.decl.span.start - base;
  const declEnd = exported.span.end - base;
  return Buffer.concat([
    bytes.subarray(0, importEnd),
    Buffer.from("\nimport { withConnectors } from './src/connectors';"),
    bytes.subarray(importEnd, declStart),
    Buffer.from('withConnectors('),
    bytes.subarray(declStart, declEnd),
    Buffer.from(');'),
    bytes.subarray(declEnd),
  ]).toString();
}

function check(tool, lines, out) {
  const ok =
    /import \{ withConnectors \} from '\.\/src\/connectors';/.test(out) &&
    /export default withConnectors\(function App\(\)/.test(out);
  if (!ok || out.split('\n').length < lines) {
    throw new Error(`${tool} did not make the edit on the ${lines}-line file`);
  }
}

/** Mean milliseconds per call: warm up, then repeat for at least `budgetMs` (and 5 calls). */
function measure(fn, source, budgetMs) {
  for (let i = 0; i < 3; i++) fn(source);
  let runs = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (runs < 5 || elapsed < budgetMs) {
    fn(source);
    runs++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return elapsed / runs;
}

const budget = Number(process.env.BENCH_BUDGET_MS ?? 3000);
const result = { jscodeshift: {}, 'ts-morph': {}, 'swc-splice': {} };
for (const lines of SIZES) {
  const source = readFileSync(join(dir, `app-${lines}.tsx`), 'utf8');
  for (const [tool, fn] of [
    ['jscodeshift', withJscodeshift],
    ['ts-morph', withTsMorph],
    ['swc-splice', withSwcSplice],
  ]) {
    check(tool, lines, fn(source));
    result[tool][lines] = measure(fn, source, budget);
  }
}
console.log(JSON.stringify(result));
