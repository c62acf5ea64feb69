import { execFile } from 'node:child_process';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { NODE_TARGET, ROOT_DIR } from './targets.js';

/**
 * Builds what the npm package ships, from `lib/`, the embedded broker and the esbuild plugins:
 *   dist/esm  ES modules and `.d.ts` files, compiled by tsc (tsconfig.build.json), one file per source;
 *   dist/cjs  the same modules as CommonJS (esbuild, one file per module, nothing bundled) and the same
 *             declarations, under a package.json that makes Node and TypeScript read both as CommonJS.
 * One file per module (no bundling) keeps one copy of the shared producer and consumers per format.
 * Run by `npm pack`/`npm publish` (prepack) and by `npm install` in a clone (prepare).
 */

export const PACKAGE_DIRS = { esm: join(ROOT_DIR, 'dist', 'esm'), cjs: join(ROOT_DIR, 'dist', 'cjs') };

/** Files tsc does not emit that the modules load or the declarations import. */
const ASSETS = [
  'lib/transport/lean/messages.js',
  'lib/transport/lean/messages.d.ts',
  'infra/local-broker/topics.json',
];

const IMPORT_META_URL = '__rocketmqImportMetaUrl';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

export async function buildPackage(): Promise<{ esmFiles: number; cjsFiles: number }> {
  await rm(PACKAGE_DIRS.esm, { recursive: true, force: true });
  await rm(PACKAGE_DIRS.cjs, { recursive: true, force: true });
  const tsc = join(ROOT_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT_DIR, 'tsconfig.build.json')], {
    cwd: ROOT_DIR,
  }).catch((error: { stdout?: string; message: string }) => {
    throw new Error(`tsc failed:\n${error.stdout || error.message}`);
  });
  for (const asset of ASSETS) {
    await copyFile(join(ROOT_DIR, asset), join(PACKAGE_DIRS.esm, asset));
  }

  const esmFiles = await filesUnder(PACKAGE_DIRS.esm);
  await build({
    entryPoints: esmFiles.filter((file) => file.endsWith('.js')),
    outdir: PACKAGE_DIRS.cjs,
    outbase: PACKAGE_DIRS.esm,
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: NODE_TARGET,
    logLevel: 'error',
    // The broker and the build plugins find their own files through import.meta.url.
    define: { 'import.meta.url': IMPORT_META_URL },
    banner: { js: `const ${IMPORT_META_URL} = require('node:url').pathToFileURL(__filename).href;` },
  });
  for (const file of esmFiles) {
    if (!file.endsWith('.d.ts') && !file.endsWith('.json')) continue;
    const target = join(PACKAGE_DIRS.cjs, relative(PACKAGE_DIRS.esm, file));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(file, target);
  }
  await writeFile(join(PACKAGE_DIRS.cjs, 'package.json'), '{ "type": "commonjs" }\n');
  const cjsFiles = await filesUnder(PACKAGE_DIRS.cjs);
  return { esmFiles: esmFiles.length, cjsFiles: cjsFiles.length };
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const started = performance.now();
  const { esmFiles, cjsFiles } = await buildPackage();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `built dist/esm (${esmFiles} files) and dist/cjs (${cjsFiles} files) in ${seconds} s\n`,
  );
}
