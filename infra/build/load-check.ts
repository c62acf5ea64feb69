import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/**
 * Loads a bundle the way its platform does, from a copy in an empty folder (so nothing can come from a
 * `node_modules` above it), and returns the names it exports. Loading must not need the network: the
 * producer starts on first use, never at import.
 */
export async function loadedExports(file: string, format: 'cjs' | 'esm'): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'rocketmq-bundle-load-'));
  try {
    const copy = join(dir, basename(file));
    await copyFile(file, copy);
    const load =
      format === 'cjs'
        ? `require(${JSON.stringify(copy)})`
        : `await import(${JSON.stringify(pathToFileURL(copy).href)})`;
    const script = [
      "import { createRequire } from 'node:module';",
      `const require = createRequire(${JSON.stringify(pathToFileURL(join(dir, 'loader.mjs')).href)});`,
      `process.stdout.write(JSON.stringify(Object.keys(${load})));`,
      // A bundle may keep timers for the next invocation; loading is all this check needs.
      'process.exit(0);',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      // No inherited environment: a bundle must load without any of it (and never sees the builder's secrets).
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      timeout: 20_000,
    });
    return JSON.parse(stdout) as string[];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
