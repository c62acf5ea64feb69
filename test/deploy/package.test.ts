import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBroker, startLocalBroker } from '../../infra/local-broker/index.js';

/**
 * The package as a user gets it: packed with `npm pack` (which builds dist/ through `prepare`), installed
 * into an empty project from the npm cache alone, then imported from plain Node (ESM and CommonJS),
 * type-checked under strict settings, and bundled with esbuild and the exported plugins into functions
 * that send to the embedded broker.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);
const NODE = process.execPath;
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const FC_ONLY_ENTRIES = [
  '',
  '/advanced',
  '/spool',
  '/diagnostics',
  '/triggers',
  '/fc',
  '/consumer',
  '/testing',
  '/build',
  '/esbuild',
];
const OPTIONAL_PEER_ENTRIES = ['/lambda', '/otel'];

interface PackedFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackedFile[];
}

/** The code blocks README.md marks with `<!-- package-test: <file> -->`, by file. */
async function readmeSnippets(): Promise<Record<string, string>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const snippets: Record<string, string> = {};
  for (const match of readme.matchAll(/<!-- package-test: (\S+) -->\s*```\w*\n([\s\S]*?)```/g)) {
    snippets[match[1] as string] = match[2] as string;
  }
  return snippets;
}

let snippets: Record<string, string>;
let work: string;
let project: string;
let packed: PackResult;
let broker: LocalBroker;

async function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    return await run(file, args, {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 120_000,
    });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${file} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout}\n${failed.stderr}`,
    );
  }
}

/**
 * A lockfile for the empty project that pins the package's dependencies to the versions (and
 * integrity hashes) of this repository's lockfile, so `npm ci --offline` takes every tarball from the
 * npm cache and never asks the registry.
 */
async function projectLock(tarball: string) {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, Record<string, unknown>>;
  };
  const ours = lock.packages[''] as Record<string, unknown>;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'user-project', version: '1.0.0', dependencies: { 'rocketmq-serverless': spec } },
    'node_modules/rocketmq-serverless': {
      version: ours.version,
      resolved: spec,
      dependencies: ours.dependencies,
      peerDependencies: ours.peerDependencies,
      peerDependenciesMeta: ours.peerDependenciesMeta,
    },
  };
  // The dependency closure of the package, found the way Node resolves: nested first, then upwards.
  const locate = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const path = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (lock.packages[path]) return path;
      if (!dir) return undefined;
    }
  };
  const queue: [string, Record<string, string> | undefined][] = [
    ['', ours.dependencies as Record<string, string>],
  ];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [from, dependencies] = next;
    for (const name of Object.keys(dependencies ?? {})) {
      const path = locate(from, name);
      if (!path || path in packages) continue;
      const entry = lock.packages[path] as Record<string, unknown>;
      // This lockfile omits registry URLs; npm needs one to take a tarball from its cache by integrity.
      const resolved =
        entry.resolved ?? registryTarball(path.slice(path.lastIndexOf('node_modules/') + 13), entry);
      packages[path] = { ...entry, resolved, dev: undefined, devOptional: undefined };
      queue.push([path, { ...(entry.dependencies as object), ...(entry.optionalDependencies as object) }]);
    }
  }
  return { name: 'user-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}

/** Runs `task` holding an exclusive lock file; a lock older than 5 minutes is from a run that died. */
async function oneAtATime<T>(lock: string, task: () => Promise<T>): Promise<T> {
  await mkdir(resolve(lock, '..'), { recursive: true });
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      try {
        return await task();
      } finally {
        await handle.close();
        await rm(lock, { force: true });
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (age > 300_000) await rm(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function registryTarball(name: string, entry: Record<string, unknown>): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return `https://registry.npmjs.org/${name}/-/${base}-${String(entry.version)}.tgz`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rocketmq-package-'));
  // npm pack rebuilds dist/ (prepare): one pack at a time, also when several test projects run this file.
  const { stdout } = await oneAtATime(join(ROOT, 'dist', '.pack.lock'), () =>
    sh('npm', ['pack', '--json', '--pack-destination', work], ROOT),
  );
  // npm prints the prepare script's output before the JSON.
  packed = (JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as PackResult[])[0] as PackResult;
  const tarball = join(work, packed.filename);

  project = join(work, 'user-project');
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'user-project',
      version: '1.0.0',
      private: true,
      type: 'module',
      dependencies: { 'rocketmq-serverless': `file:${tarball}` },
    }),
  );
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(await projectLock(tarball)));
  // An unreachable registry: anything not in the cache fails the install instead of downloading.
  await sh('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], project, {
    npm_config_registry: 'http://127.0.0.1:9/',
  });
  broker = await startLocalBroker();
  snippets = await readmeSnippets();
}, 240_000);

afterAll(async () => {
  await broker?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Links a devDependency of this repository into the user's project, as if they had installed it. */
async function provide(name: string) {
  const target = join(project, 'node_modules', name);
  await mkdir(resolve(target, '..'), { recursive: true });
  await rm(target, { recursive: true, force: true });
  await symlink(join(ROOT, 'node_modules', name), target, 'dir');
}

describe('the packed tarball', () => {
  it('holds the built modules, declarations, README and package.json, nothing else', () => {
    const paths = packed.files.map((file) => file.path);
    const unexpected = paths.filter(
      (path) =>
        !/^dist\/(esm|cjs)\/(lib|infra\/local-broker|infra\/build)\/.+\.(js|d\.ts|json)$/.test(path) &&
        !['package.json', 'README.md', 'dist/cjs/package.json'].includes(path),
    );
    expect(unexpected).toEqual([]);
    expect(paths).toContain('dist/esm/lib/index.js');
    expect(paths).toContain('dist/cjs/lib/index.d.ts');
    expect(paths).toContain('dist/esm/lib/transport/lean/messages.js');
    expect(paths).toContain('dist/cjs/infra/local-broker/topics.json');
    // A regression guard with room: 341 files and 273 kB when this was written.
    expect(packed.size).toBeLessThan(400_000);
  });

  it('needs no middy, OpenTelemetry or aws-lambda devDependency for the platform-neutral entries', async () => {
    const manifest = JSON.parse(
      await readFile(join(project, 'node_modules', 'rocketmq-serverless', 'package.json'), 'utf8'),
    ) as {
      dependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional: boolean }>;
    };
    expect(manifest.dependencies['@middy/core']).toBeUndefined();
    expect(manifest.peerDependenciesMeta['@middy/core']?.optional).toBe(true);
    await expect(stat(join(project, 'node_modules', '@middy'))).rejects.toThrow();
  });
});

describe('package linters', () => {
  it('publint finds nothing, even in strict mode', async () => {
    const { stdout } = await sh(
      NODE,
      [join(ROOT, 'node_modules', 'publint', 'src', 'cli.js'), '--strict', '--pack', 'false'],
      ROOT,
    );
    expect(stdout).toContain('All good!');
  });

  it('are-the-types-wrong resolves every entry under node16 (ESM and CJS) and bundler resolution', async () => {
    // node10 resolution predates `exports`: only the root entry can work there, by design.
    const attw = join(ROOT, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    const { stdout } = await sh(
      NODE,
      [attw, join(work, packed.filename), '--profile', 'node16', '--format', 'json'],
      ROOT,
    );
    const report = JSON.parse(stdout) as {
      analysis: { problems: { kind: string; resolutionKind?: string }[] };
    };
    expect(report.analysis.problems.filter((problem) => problem.resolutionKind !== 'node10')).toEqual([]);
  });
});

describe('installed into an empty project', () => {
  const importAll = (entries: string[]) =>
    entries.map((entry) => `await import('rocketmq-serverless${entry}');`).join('\n');
  const requireAll = (entries: string[]) =>
    entries.map((entry) => `require('rocketmq-serverless${entry}');`).join('\n');

  it('loads every platform-neutral entry from plain Node, as ES module and as CommonJS', async () => {
    const esm = await sh(
      NODE,
      [
        '--input-type=module',
        '-e',
        `${importAll(FC_ONLY_ENTRIES)}\nconst m = await import('rocketmq-serverless/fc'); console.log(Object.keys(m).sort().join(','));`,
      ],
      project,
    );
    expect(esm.stdout.trim()).toBe('fcEventHandler,fcHttpHandler,fcInitializer,fcPreStop');
    const cjs = await sh(
      NODE,
      [
        '--input-type=commonjs',
        '-e',
        `${requireAll(FC_ONLY_ENTRIES)}\nconsole.log(typeof require('rocketmq-serverless').RocketMQError, typeof require('rocketmq-serverless/build').rocketmqPlugins);`,
      ],
      project,
    );
    expect(cjs.stdout.trim()).toBe('function function');
  });

  it('type-checks an FC function with strict and exactOptionalPropertyTypes, node16 and bundler resolution', async () => {
    await writeFile(join(project, 'src', 'fc-order.ts'), snippet('src/fc-order.ts'));
    await typeCheck(['src/fc-order.ts']);
  }, 120_000);

  it('with @middy/core and @opentelemetry/api installed, loads and type-checks the Lambda and OpenTelemetry entries', async () => {
    await provide('@middy/core');
    await provide('@opentelemetry/api');
    await sh(NODE, ['--input-type=module', '-e', importAll(OPTIONAL_PEER_ENTRIES)], project);
    await sh(NODE, ['--input-type=commonjs', '-e', requireAll(OPTIONAL_PEER_ENTRIES)], project);
    for (const file of ['src/aws-order.ts', 'src/aws-custom.ts']) {
      await writeFile(join(project, file), snippet(file));
    }
    await typeCheck(['src/aws-order.ts', 'src/aws-custom.ts']);
  }, 120_000);

  it('bundles functions with esbuild and the exported plugins; the bundles send to the embedded broker', async () => {
    await provide('esbuild');
    await provide('@middy/core');
    for (const file of ['src/fc-order.ts', 'src/aws-order.ts', 'src/aws-custom.ts', 'build.mjs']) {
      await writeFile(join(project, file), snippet(file));
    }
    await sh(NODE, ['build.mjs'], project);

    const env = { ROCKETMQ_ENDPOINTS: broker.endpoint, POWERTOOLS_LOG_LEVEL: 'ERROR' };
    const debug = { ...env, POWERTOOLS_LOG_LEVEL: 'DEBUG' };
    const before = broker.messages('orders').length;
    const fc = await sh(NODE, ['-e', RUN_FC], project, env);
    expect(JSON.parse(fc.stdout)).toMatchObject({ statusCode: 200 });
    const aws = await sh(NODE, ['--input-type=module', '-e', RUN_AWS], project, env);
    expect(JSON.parse(aws.stdout)).toMatchObject({ statusCode: 200 });
    const custom = await sh(NODE, ['--input-type=module', '-e', RUN_AWS_CUSTOM], project, debug);
    // Powertools writes its log lines to stdout too; the result is the line marked RESULT.
    const resultLine = custom.stdout.split('\n').find((line) => line.startsWith('RESULT '));
    expect(JSON.parse(resultLine?.slice(7) ?? 'null')).toMatchObject({ messageId: expect.any(String) });
    // The library's own log lines carry the Lambda context through injectLambdaContext(getLogger()).
    expect(custom.stdout).toContain('"function_request_id":"a2"');

    const stored = broker.messages('orders').slice(before);
    expect(stored.map((message) => JSON.parse(Buffer.from(message.body).toString()).orderId)).toEqual([
      'fc-1',
      'aws-1',
      'aws-2',
    ]);
    for (const file of ['out/fc/index.js', 'out/aws-order/index.mjs', 'out/aws-custom/index.mjs']) {
      const { size } = await stat(join(project, file));
      // Send-only bundles on the lean transport; the official client would add about 1 MB.
      expect(size).toBeLessThan(600_000);
    }
  }, 120_000);
});

async function typeCheck(files: string[]) {
  const base = {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2023'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
  };
  const variants = {
    node16: { module: 'node16', moduleResolution: 'node16' },
    bundler: { module: 'esnext', moduleResolution: 'bundler' },
  };
  for (const [name, options] of Object.entries(variants)) {
    const config = join(project, `tsconfig.${name}.json`);
    await writeFile(config, JSON.stringify({ compilerOptions: { ...base, ...options }, files }));
    const result = await run(NODE, [TSC, '-p', config], { cwd: project }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    // Errors inside third-party declarations are the user's skipLibCheck choice; ours and the user's
    // own file must be clean.
    const ours = result
      .split('\n')
      .filter((line) => /error TS/.test(line))
      .filter((line) => !/node_modules[\\/](?!rocketmq-serverless[\\/])/.test(line));
    expect({ variant: name, errors: ours }).toEqual({ variant: name, errors: [] });
  }
}

function snippet(file: string): string {
  const text = snippets[file];
  if (text === undefined)
    throw new Error(`README.md has no code block marked <!-- package-test: ${file} -->`);
  return text;
}

const RUN_FC = `const { handler } = require('./out/fc/index.js');
const event = { version: 'v1', rawPath: '/', headers: { 'Content-Type': 'application/json' }, queryParameters: {},
  body: JSON.stringify({ orderId: 'fc-1' }), isBase64Encoded: false,
  requestContext: { requestId: 'r1', http: { method: 'POST', path: '/' } } };
const context = { requestId: 'r1', function: { name: 'fc-order', timeout: 30 } };
handler(Buffer.from(JSON.stringify(event)), context).then((response) => {
  process.stdout.write(JSON.stringify(response));
  process.exit(0);
});`;

const RUN_AWS = `const { handler } = await import('./out/aws-order/index.mjs');
const event = { version: '2.0', rawPath: '/', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ orderId: 'aws-1' }), isBase64Encoded: false,
  requestContext: { http: { method: 'POST', path: '/' } } };
const deadline = Date.now() + 30_000;
const context = { functionName: 'aws-order', awsRequestId: 'a1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:aws-order',
  memoryLimitInMB: '128', functionVersion: '$LATEST', getRemainingTimeInMillis: () => deadline - Date.now() };
process.stdout.write(JSON.stringify(await handler(event, context)));
process.exit(0);`;

const RUN_AWS_CUSTOM = `const { handler } = await import('./out/aws-custom/index.mjs');
const deadline = Date.now() + 30_000;
const context = { functionName: 'aws-custom', awsRequestId: 'a2', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:aws-custom',
  memoryLimitInMB: '128', functionVersion: '$LATEST', getRemainingTimeInMillis: () => deadline - Date.now() };
process.stdout.write('\\nRESULT ' + JSON.stringify(await handler({ orderId: 'aws-2' }, context)) + '\\n');
process.exit(0);`;
