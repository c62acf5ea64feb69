import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `npm run build` produces: one bundle per function and platform, and what each may not contain. */

export const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type BuildPlatform = 'fc' | 'aws';
export const BUILD_PLATFORMS: readonly BuildPlatform[] = ['fc', 'aws'];

export interface PlatformTarget {
  /** The entry file inside `functions/<name>/`. */
  entry: string;
  format: 'cjs' | 'esm';
  /** The bundle's file name inside `dist/<platform>/<name>/`; the handler string is `index.handler`. */
  outFile: string;
  /** Named exports the platform calls. */
  exports: readonly string[];
  /**
   * Input paths (as esbuild's metafile lists them) that must not end up in the bundle: the other
   * platform's wrapper and SDKs are dead weight at best and a second code path at worst.
   */
  forbiddenInputs: readonly { pattern: RegExp; reason: string }[];
}

export const PLATFORM_TARGETS: Record<BuildPlatform, PlatformTarget> = {
  fc: {
    entry: 'fc.ts',
    // FC's nodejs20 runtime loads `index.js` with require(); CommonJS needs no package.json beside it.
    format: 'cjs',
    outFile: 'index.js',
    exports: ['handler', 'initializer', 'preStop'],
    forbiddenInputs: [
      { pattern: /(^|\/)node_modules\/@middy\//, reason: 'middy is the Lambda wrapper' },
      { pattern: /(^|\/)lib\/platforms\/lambda\.ts$/, reason: 'the Lambda platform wrapper' },
    ],
  },
  aws: {
    entry: 'aws.ts',
    // `.mjs` makes Lambda load the bundle as an ES module without a package.json.
    format: 'esm',
    outFile: 'index.mjs',
    exports: ['handler'],
    forbiddenInputs: [
      { pattern: /(^|\/)node_modules\/@alicloud\//, reason: 'the Function Compute SDK' },
      { pattern: /(^|\/)lib\/platforms\/fc\.ts$/, reason: 'the FC platform wrapper' },
    ],
  },
};

/** Inputs no bundle may contain: a native addon cannot be inlined and would be missing at run time. */
export const FORBIDDEN_EVERYWHERE: readonly { pattern: RegExp; reason: string }[] = [
  { pattern: /\.node$/, reason: 'a native addon' },
  { pattern: /(^|\/)node_modules\/egg-logger\//, reason: "the client's file logger, replaced at build time" },
];

/** The baseline bundle: the official client alone sending one message, to compare our overhead with. */
export const RAW_CLIENT_ENTRY = join(ROOT_DIR, 'infra', 'build', 'raw-client-send.ts');
export const RAW_CLIENT_NAME = 'raw-client';

export const DEFAULT_OUT_DIR = join(ROOT_DIR, 'dist');
export const DEFAULT_BUDGET_FILE = join(ROOT_DIR, 'infra', 'build', 'budget.json');
/** Node version both clouds run (FC `nodejs20`, Lambda `nodejs20.x`). */
export const NODE_TARGET = 'node20';
