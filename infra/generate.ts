import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCli } from './cli.js';
import { ConfigTableError, README, withConfigTable } from './config-table.js';
import { DEFAULT_CONFIG_FILE, readConfigFile } from './fc/config.js';
import { DEFAULT_S_YAML, generateSYaml } from './fc/s-yaml.js';
import { toYaml, type YamlData } from './fc/yaml-emit.js';
import { type FunctionManifest, readManifests, serverlessValue } from './manifest.js';

/**
 * Writes the deploy files from the function manifests (functions/<name>/function.json):
 *   infra/fc/config.json  its `functions` (service and shared environment stay as written there),
 *   s.yaml                from config.json, as `npm run build:s-yaml` does,
 *   serverless.yml        the provider block below, then one entry per function,
 *   README.md             its configuration table, from the option schema (infra/config-table.ts).
 * `--check` writes nothing and fails when a committed file differs from a fresh generation.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SERVERLESS_YML = join(ROOT, 'serverless.yml');

const USAGE = `Usage: npm run generate -- [--check]

Regenerates infra/fc/config.json (functions), s.yaml and serverless.yml from functions/*/function.json,
and README.md's configuration table from the option schema.
  --check     write nothing; exit 1 when a file is out of date
  -h, --help  this text

Exit codes: 0 written (or up to date); 1 out of date; 2 usage or an invalid manifest.`;

const SERVERLESS_PROVIDER = `# Generated from functions/*/function.json by \`npm run generate\`: edit those, then regenerate. The
# provider block is written by infra/generate.ts.
#
# AWS Lambda deployment (Serverless Framework v3 syntax; tested with osls). Code comes from \`npm run
# build\` (dist/aws/<function>.zip); the framework does no bundling of its own.
#
# Values: every \`\${env:NAME, ssm:...}\` takes the environment variable when it is set (CI, local shell) and
# otherwise reads SSM Parameter Store under /rocketmq-serverless/<stage>/ at deploy time. Secrets are never
# written here. Optional values fall back to '' (unset for the library).
service: rocketmq-serverless
frameworkVersion: "3"
configValidationMode: error

provider:
  name: aws
  runtime: nodejs20.x
  # Pure JavaScript bundles (the native CRC-32 addon is replaced at build time), so Graviton works.
  architecture: arm64
  stage: \${opt:stage, 'dev'}
  region: \${opt:region, env:AWS_REGION, 'us-east-1'}
  memorySize: 512
  logRetentionInDays: 14
  # The object spool's bucket (ROCKETMQ_SPOOL_URL=s3://<bucket>/<prefix>, set ROCKETMQ_SPOOL_BUCKET to the
  # same bucket): segments and claims are created, read, listed and deleted there (spool-redeliver, and
  # any function given the URL). Unset, the grant names a bucket the functions never use.
  iam:
    role:
      statements:
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]
          Resource: arn:aws:s3:::\${env:ROCKETMQ_SPOOL_BUCKET, 'rocketmq-serverless-spool'}/*
        - Effect: Allow
          Action: [s3:ListBucket]
          Resource: arn:aws:s3:::\${env:ROCKETMQ_SPOOL_BUCKET, 'rocketmq-serverless-spool'}
  environment:
    ROCKETMQ_ENDPOINTS: \${env:ROCKETMQ_ENDPOINTS, ssm:/rocketmq-serverless/\${sls:stage}/endpoints}
    # ApsaraMQ for RocketMQ 5.x: the instance id. Apache RocketMQ: leave empty.
    ROCKETMQ_NAMESPACE: \${env:ROCKETMQ_NAMESPACE, ssm:/rocketmq-serverless/\${sls:stage}/namespace, ''}
    # RocketMQ credentials (ApsaraMQ instance username / password, or an Apache RocketMQ ACL pair); the
    # library reads them under these names. Store the secret as a SecureString in SSM.
    ROCKETMQ_ACCESS_KEY: \${env:ROCKETMQ_ACCESS_KEY, ssm:/rocketmq-serverless/\${sls:stage}/access-key, ''}
    ROCKETMQ_SECRET_KEY: \${env:ROCKETMQ_SECRET_KEY, ssm:/rocketmq-serverless/\${sls:stage}/secret-key, ''}
    ROCKETMQ_SEND_TIMEOUT_MS: "3000"
    # Lambda's only writable folder; failed async sends are kept here for redelivery.
    ROCKETMQ_SPOOL_DIR: /tmp/rocketmq-spool
    POWERTOOLS_SERVICE_NAME: rocketmq-serverless
    POWERTOOLS_LOG_LEVEL: \${env:POWERTOOLS_LOG_LEVEL, 'INFO'}
    # Stack traces point into the sources through the .map zipped beside each bundle.
    NODE_OPTIONS: --enable-source-maps

package:
  individually: true

`;

function serverlessFunction(manifest: FunctionManifest): YamlData {
  const environment = { ...manifest.environment, ...manifest.aws.environment };
  return {
    handler: 'index.handler',
    description: manifest.aws.description ?? manifest.description,
    timeout: manifest.timeout,
    memorySize: manifest.memory,
    package: { artifact: `dist/aws/${manifest.name}.zip` },
    environment: Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [name, serverlessValue(value)]),
    ),
    events: manifest.aws.events as YamlData,
  };
}

export function generateServerlessYml(manifests: readonly FunctionManifest[]): string {
  const functions = Object.fromEntries(manifests.map((m) => [m.name, serverlessFunction(m)]));
  return `${SERVERLESS_PROVIDER}${toYaml({ functions })}`;
}

export async function generateFcConfig(manifests: readonly FunctionManifest[]): Promise<string> {
  const current = JSON.parse(await readFile(DEFAULT_CONFIG_FILE, 'utf8')) as Record<string, unknown>;
  const { toFcFunction } = await import('./manifest.js');
  const functions = Object.fromEntries(manifests.map((m) => [m.name, toFcFunction(m)]));
  return `${JSON.stringify({ ...current, functions }, null, 2)}\n`;
}

/** Formats as `biome check` expects, so the generated files pass the lint unchanged. */
function formatted(text: string, file: string): Promise<string> {
  const biome = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [biome, 'format', `--stdin-file-path=${file}`],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`biome: ${stderr || error.message}`)) : resolve(stdout),
    );
    child.stdin?.end(text);
  });
}

export interface Generated {
  file: string;
  text: string;
}

/** The files as they would be generated now (s.yaml from the config.json about to be written). */
export async function generateAll(): Promise<Generated[]> {
  const manifests = await readManifests();
  const config = await formatted(await generateFcConfig(manifests), DEFAULT_CONFIG_FILE);
  const { tmpdir } = await import('node:os');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const scratch = await mkdtemp(join(tmpdir(), 'rocketmq-generate-'));
  try {
    const configFile = join(scratch, 'config.json');
    await writeFile(configFile, config);
    const sYaml = generateSYaml(await readConfigFile(configFile));
    return [
      { file: DEFAULT_CONFIG_FILE, text: config },
      { file: DEFAULT_S_YAML, text: sYaml },
      { file: SERVERLESS_YML, text: await formatted(generateServerlessYml(manifests), SERVERLESS_YML) },
      { file: README, text: await withConfigTable(await readFile(README, 'utf8')) },
    ];
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function generateCommand(options: { check: boolean }): Promise<number> {
  const files = await generateAll();
  let stale = 0;
  for (const { file, text } of files) {
    const current = await readFile(file, 'utf8').catch(() => '');
    const name = relative(process.cwd(), file) || file;
    if (current === text) continue;
    if (options.check) {
      process.stderr.write(`${name} is out of date: run npm run generate\n`);
      stale += 1;
    } else {
      await writeFile(file, text);
      process.stdout.write(`wrote ${name}\n`);
    }
  }
  return stale > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await runCli(
    USAGE,
    (argv) => {
      const { values } = parseArgs({
        args: argv,
        options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
        strict: true,
      });
      return values.help ? undefined : { check: values.check ?? false };
    },
    async (options) => {
      try {
        return await generateCommand(options);
      } catch (error) {
        const { ManifestError } = await import('./manifest.js');
        const { ConfigFileError } = await import('./fc/config.js');
        if (
          error instanceof ManifestError ||
          error instanceof ConfigFileError ||
          error instanceof ConfigTableError
        ) {
          process.stderr.write(`${error.message}\n`);
          return 2;
        }
        throw error;
      }
    },
  );
}
