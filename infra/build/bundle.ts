import { relative } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import type { TransportChoice } from '../../lib/config.js';
import { ESM_REQUIRE_BANNER, rocketmqPlugins } from './esbuild-plugins.js';
import { NODE_TARGET, ROOT_DIR } from './targets.js';

/** One esbuild run: one entry, one minified bundle with a linked source map beside it. */

export { ESM_REQUIRE_BANNER };

export interface BundleRequest {
  entry: string;
  outFile: string;
  format: 'cjs' | 'esm';
  /**
   * The transport the bundle is for; only `official` bundles the official client.
   * @default the library's default, or `ROCKETMQ_TRANSPORT` at build time
   */
  transport?: TransportChoice;
}

export interface BundleResult {
  outFile: string;
  mapFile: string;
  metafile: Metafile;
}

export class BundleError extends Error {}

export function esbuildOptions(request: BundleRequest): BuildOptions {
  return {
    entryPoints: [request.entry],
    outfile: request.outFile,
    absWorkingDir: ROOT_DIR,
    bundle: true,
    platform: 'node',
    target: NODE_TARGET,
    format: request.format,
    minify: true,
    // Dependencies name errors after their constructors (egg-errors does); keep those names readable.
    keepNames: true,
    sourcemap: 'linked',
    // The map only has to point into our sources; embedding them would double the upload for nothing.
    sourcesContent: false,
    metafile: true,
    legalComments: 'none',
    logLevel: 'silent',
    plugins: rocketmqPlugins({ transport: request.transport }),
    ...(request.format === 'esm' && { banner: { js: ESM_REQUIRE_BANNER } }),
  };
}

/**
 * Bundles one entry. esbuild warnings fail the build: each one so far (a `require` it could not follow,
 * `import.meta` in CommonJS) has meant a bundle that breaks at run time.
 */
export async function bundle(request: BundleRequest): Promise<BundleResult> {
  const result = await build(esbuildOptions(request)).catch((error: { errors?: { text: string }[] }) => {
    const details = error.errors?.map((entry) => entry.text).join('; ') ?? String(error);
    throw new BundleError(`esbuild failed for ${relative(ROOT_DIR, request.entry)}: ${details}`);
  });
  if (result.warnings.length > 0) {
    const where = relative(ROOT_DIR, request.entry);
    const lines = result.warnings.map(
      (warning) => `${warning.location?.file ?? '?'}:${warning.location?.line ?? '?'} ${warning.text}`,
    );
    throw new BundleError(`esbuild warned while bundling ${where}:\n  ${lines.join('\n  ')}`);
  }
  if (!result.metafile) throw new BundleError('esbuild returned no metafile');
  return { outFile: request.outFile, mapFile: `${request.outFile}.map`, metafile: result.metafile };
}
