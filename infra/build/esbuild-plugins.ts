import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { resolveTransport, type TransportChoice } from '../../lib/config.js';

/**
 * esbuild plugins that make the RocketMQ client bundle into one self-sufficient file. Exported as
 * `rocketmq-serverless/build`: every bundle of a function that uses the library needs them.
 */

// Paths are taken relative to this file, so the plugins work from the sources (`.ts`) and from the
// published package (`.js`) alike.
const OWN_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const sibling = (path: string) => fileURLToPath(new URL(`${path}${OWN_EXTENSION}`, import.meta.url));

const CRC32_SHIM = sibling('./crc32-shim');
const EGG_LOGGER_SHIM = sibling('./egg-logger-shim');

// ESM output has no `require`; esbuild turns the `require()` calls of bundled CommonJS packages (grpc-js,
// google-protobuf, the client itself) into a shim that throws unless one exists. This gives them one.
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __rocketmqCreateRequire } from 'node:module';\n" +
  'const require = __rocketmqCreateRequire(import.meta.url);';

/** Resolves `@node-rs/crc32` (a native addon) to a pure JavaScript implementation. */
export function nativeCrc32Shim(): Plugin {
  return {
    name: 'native-crc32-shim',
    setup(build) {
      build.onResolve({ filter: /^@node-rs\/crc32$/ }, () => ({ path: CRC32_SHIM }));
    },
  };
}

/** Replaces the client's default file logger (see egg-logger-shim.ts); only for imports from the client. */
export function withoutClientFileLogger(): Plugin {
  return {
    name: 'without-client-file-logger',
    setup(build) {
      build.onResolve({ filter: /^egg-logger$/ }, (args) =>
        /[\\/]rocketmq-client-nodejs[\\/]/.test(args.importer) ? { path: EGG_LOGGER_SHIM } : undefined,
      );
    },
  };
}

// rocketmq-client-nodejs 1.0.x, dist/client/UserAgent.js: reads its own package.json next to itself at
// load time. Inside a bundle `__dirname` is the bundle's folder, where no such file exists.
const USER_AGENT_FILE = /[\\/]rocketmq-client-nodejs[\\/]dist[\\/]client[\\/]UserAgent\.js$/;
const VERSION_READ =
  /JSON\.parse\(\(0,\s*\w+\.readFileSync\)\(\w+\.default\.join\(__dirname,\s*'\.\.\/\.\.\/package\.json'\),\s*'utf-8'\)\)\.version/;

/** The client's version, read once at build time; the client puts it in its user agent. */
function clientVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest = require('rocketmq-client-nodejs/package.json') as { version: string };
  return manifest.version;
}

/**
 * Replaces the client's run-time read of its package.json with the version as a literal. Fails the build
 * when the code no longer has the expected shape, so a client upgrade cannot silently ship a bundle that
 * throws ENOENT on load.
 */
export function inlineClientVersion(): Plugin {
  return {
    name: 'inline-rocketmq-client-version',
    setup(build) {
      build.onLoad({ filter: USER_AGENT_FILE }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!VERSION_READ.test(source)) {
          return {
            errors: [
              {
                text:
                  'rocketmq-client-nodejs UserAgent.js no longer reads its version the way ' +
                  'infra/build/esbuild-plugins.ts expects; update the pattern',
              },
            ],
          };
        }
        return { contents: source.replace(VERSION_READ, JSON.stringify(clientVersion())), loader: 'js' };
      });
    },
  };
}

const OFFICIAL_LOADER = /[\\/]lib[\\/]transport[\\/]official[\\/]load\.[cm]?[jt]s$/;
const OFFICIAL_NOT_BUNDLED = sibling('../../lib/transport/official/not-bundled');

/**
 * Leaves the official client (and grpc-js, google-protobuf with it) out of a bundle built for the lean
 * transport: the one dynamic import of it resolves to a module that explains, on first use, how to
 * build with the client. Bundles for the official transport keep the import as it is.
 */
export function officialTransport(include: boolean): Plugin {
  return {
    name: 'official-transport',
    setup(build) {
      if (include) return;
      build.onResolve({ filter: /^\.\/client-transport\.js$/ }, (args) =>
        OFFICIAL_LOADER.test(args.importer) ? { path: OFFICIAL_NOT_BUNDLED } : undefined,
      );
    },
  };
}

export interface RocketMQPluginOptions {
  /**
   * The transport the bundle is for; only `official` bundles the official client (and grpc-js).
   * @default the library's default, or `ROCKETMQ_TRANSPORT` at build time
   */
  transport?: TransportChoice | undefined;
}

/**
 * Every plugin a bundle of the library needs, in order. For ES module output (`format: 'esm'`), also set
 * `banner: { js: ESM_REQUIRE_BANNER }`.
 */
export function rocketmqPlugins(options: RocketMQPluginOptions = {}): Plugin[] {
  return [
    nativeCrc32Shim(),
    withoutClientFileLogger(),
    inlineClientVersion(),
    officialTransport(resolveTransport(options.transport) === 'official'),
  ];
}
