// Builds the operator (and every `lokdarpan` command) into one tree-shaken, minified ESM bundle with
// esbuild: what the image runs. The sources run with Node's type stripping cost ~17 MB of RSS for the
// stripper alone, and each module loaded whole (the bundle keeps only what is reached); see
// docs/image.md for the figures.
//
//   node scripts/build-bundle.ts [--outdir dist/cli]
//
// Layout: dist/cli/main.mjs plus its chunks, all in one directory two levels under the repository root,
// like src/cli/main.ts: code that finds the repository from import.meta.url (`../../migrations`,
// `../../crds`) finds the same directories from the bundle. Dynamic imports stay lazy: each command,
// the AWS SDK (first S3 destination), @kubernetes/client-node (exec/auth-provider kubeconfigs) and
// yaml (kubeconfig files) become chunks loaded only when used.
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const repoRoot = resolve(import.meta.dirname, '..');

// umzug's main module requires its command-line interface (@rushstack/ts-command-line and what that
// needs: three quarters of umzug's chunk, ~3 MB of RSS once loaded) for Umzug.getCli/runAsCLI only,
// which the operator never calls: the bundle gets an empty module in its place.
const umzugWithoutCli: Plugin = {
  name: 'umzug-without-cli',
  setup(b) {
    b.onResolve({ filter: /^\.\/cli$/ }, (args) => (/[\\/]umzug[\\/]lib[\\/]/.test(args.importer) ? { path: 'umzug-cli', namespace: 'unused' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'unused' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/** A bundle's entry point: the image's is src/cli/main.ts; bench/backup.ts bundles its child with the same options. */
export interface BundleEntry {
  /** The output file's name without .mjs. */
  name: string;
  /** The source, relative to the repository root. */
  source: string;
}
const operatorEntry: BundleEntry = { name: 'main', source: 'src/cli/main.ts' };

export function bundleOptions(outdir: string, entry: BundleEntry = operatorEntry): BuildOptions {
  return {
    absWorkingDir: repoRoot,
    entryPoints: { [entry.name]: entry.source },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    // No keepNames: it wraps every named function and class in a call that redefines its `name`
    // (Object.defineProperty), paid again for each closure created at run time (~40 per reconcile: the
    // reconcile's callbacks, the log redaction's traversals) and in GC (docs/image.md). What it kept:
    // unminified names in stack traces. The project's errors set `name` themselves, as do those of the
    // dependencies the operator checks (AWS SDK, pg, DOMException's AbortError/TimeoutError).
    keepNames: false,
    sourcemap: false,
    legalComments: 'none',
    chunkNames: '[name]-[hash]',
    // .mjs: ESM whatever package.json says, so the image needs no package.json next to the bundle.
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
    // pg's optional native binding: `require('pg-native')` only when asked for, never installed.
    external: ['pg-native'],
    plugins: [umzugWithoutCli],
    // CommonJS dependencies call require() for Node's own modules; an ESM bundle has no require.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  };
}

/** Builds the bundle into outdir (emptied first); returns its entry point. */
export async function buildBundle(outdir = resolve(repoRoot, 'dist/cli'), entry: BundleEntry = operatorEntry): Promise<string> {
  await rm(outdir, { recursive: true, force: true });
  const result = await build(bundleOptions(outdir, entry));
  if (result.errors.length > 0) throw new Error(`esbuild: ${result.errors.map((e) => e.text).join('; ')}`);
  return resolve(outdir, `${entry.name}.mjs`);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist/cli' } } });
  const entry = await buildBundle(resolve(repoRoot, values.outdir));
  process.stdout.write(`${entry}\n`);
}
