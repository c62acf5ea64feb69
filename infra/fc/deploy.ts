import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import FC from '@alicloud/fc2';
import { runCli, UsageError } from '../cli.js';
import { applyPlan, DeployStepError, type FcApi } from './apply.js';
import { ConfigFileError, DEFAULT_CONFIG_FILE, readConfigFile, resolveConfig } from './config.js';
import { buildPlan, type FunctionStep } from './plan.js';
import { type CodeDescription, describePlan, formatPlan } from './plan-format.js';
import { describeTarget, resolveSettings, SettingsError } from './settings.js';

const USAGE = `Usage: npm run deploy:fc -- [options]

Creates or updates, on Alibaba Cloud Function Compute (FC 2.0 API, through @alicloud/fc2), the service,
one function per example and each function's trigger, from infra/fc/config.json and the code zips of
\`npm run build\`. Running it again updates what exists; it never deletes a function.

Options:
  --dry-run          print every call it would make, bodies without code or secrets; no network and
                     no credentials needed
  --json             with --dry-run: print the plan as JSON
  --config <file>    the deployment (default infra/fc/config.json)
  --code-dir <dir>   folder holding <function>.zip (default dist/fc)
  --endpoint <url>   FC API base URL (default https://<account>.<region>.fc.aliyuncs.com)
  -h, --help         this text

Environment:
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET   AccessKey pair that calls the FC API
  ALIBABA_CLOUD_SECURITY_TOKEN                                   STS token, with an STS AccessKey id
  ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_REGION                 where to deploy
  ROCKETMQ_ENDPOINTS, OSS_BUCKET, ...                            values config.json refers to as \${NAME}

Exit codes: 0 deployed (or planned); 1 an FC call failed; 2 usage error, invalid config or missing values.`;

interface Options {
  dryRun: boolean;
  json: boolean;
  configFile: string;
  codeDir: string;
  endpoint: string | undefined;
}

function parseOptions(argv: string[]): Options | undefined {
  // A parse error reaches runCli, which prints it with the usage text and exits 2.
  const { values } = parseArgs({
    args: argv,
    options: {
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      config: { type: 'string' },
      'code-dir': { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  if (values.json && !values['dry-run']) throw new UsageError('--json only goes with --dry-run');
  return {
    dryRun: values['dry-run'] === true,
    json: values.json === true,
    configFile: resolve((values.config as string | undefined) ?? DEFAULT_CONFIG_FILE),
    codeDir: resolve((values['code-dir'] as string | undefined) ?? 'dist/fc'),
    endpoint: values.endpoint as string | undefined,
  };
}

/** Secrets the dry run must never print, whatever field they were put in. */
function knownSecrets(env: NodeJS.ProcessEnv): string[] {
  return ['ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN', 'ROCKETMQ_SECRET_KEY']
    .map((name) => env[name])
    .filter((value): value is string => Boolean(value));
}

function describeCode(file: string): CodeDescription | undefined {
  const shown = relative(process.cwd(), file) || file;
  if (!existsSync(file)) return { file: shown };
  const bytes = readFileSync(file);
  return { file: shown, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function dryRun(options: Options, env: NodeJS.ProcessEnv): Promise<number> {
  const target = describeTarget(env, options.endpoint);
  const { config, missing } = resolveConfig(await readConfigFile(options.configFile), env);
  const plan = buildPlan(config, {
    accountId: target.accountId,
    region: target.region,
    codeDir: options.codeDir,
  });
  const steps = describePlan(plan, knownSecrets(env), describeCode);
  const needed = [...target.missing, ...missing.map((entry) => `${entry.name} (${entry.where})`)];
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ endpoint: target.endpoint, region: target.region, steps, missing: needed }, null, 2)}\n`,
    );
    return 0;
  }
  process.stdout.write(
    `FC deploy plan (dry run: nothing was sent, no credentials were used)\n` +
      `endpoint ${target.endpoint}, API 2016-08-15, region ${target.region}\n\n${formatPlan(steps)}\n`,
  );
  if (needed.length > 0) process.stdout.write(`\nA real deploy also needs:\n  ${needed.join('\n  ')}\n`);
  return 0;
}

function loadCode(plan: ReturnType<typeof buildPlan>): Map<string, string> {
  const code = new Map<string, string>();
  const problems: string[] = [];
  for (const step of plan) {
    if (step.kind !== 'function') continue;
    if (!existsSync(step.codeFile)) {
      problems.push(`${relative(process.cwd(), step.codeFile)} not found: run npm run build first`);
      continue;
    }
    const zip = readFileSync(step.codeFile);
    if (zip.readUInt32LE(0) !== 0x04034b50) problems.push(`${step.codeFile} is not a zip file`);
    code.set(step.codeFile, zip.toString('base64'));
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return code;
}

async function deploy(options: Options, env: NodeJS.ProcessEnv): Promise<number> {
  const problems: string[] = [];
  let settings: ReturnType<typeof resolveSettings> | undefined;
  try {
    settings = resolveSettings(env, options.endpoint);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    problems.push(...error.problems);
  }
  const { config, missing } = resolveConfig(await readConfigFile(options.configFile), env);
  problems.push(...missing.map((entry) => `missing ${entry.name}: config.json needs it for ${entry.where}`));
  if (problems.length > 0 || !settings) throw new UsageError(problems.join('\n'));

  const plan = buildPlan(config, {
    accountId: settings.accountId,
    region: settings.region,
    codeDir: options.codeDir,
  });
  const code = loadCode(plan);
  if (settings.securityToken && !settings.accessKeyId.startsWith('STS.')) {
    process.stderr.write(
      'warning: ALIBABA_CLOUD_SECURITY_TOKEN is ignored: the AccessKey id is not an STS one\n',
    );
  }
  const client: FcApi = new FC(settings.accountId, {
    accessKeyID: settings.accessKeyId,
    accessKeySecret: settings.accessKeySecret,
    ...(settings.securityToken && { securityToken: settings.securityToken }),
    region: settings.region,
    endpoint: settings.endpoint,
    timeout: 60_000,
  });
  process.stdout.write(`deploying service ${config.service.name} to ${settings.endpoint}\n`);
  const outcomes = await applyPlan(client, plan, {
    codeOf: (step: FunctionStep) => code.get(step.codeFile) ?? '',
    log: (line) => process.stdout.write(`  ${line}\n`),
  });
  process.stdout.write(`done: ${outcomes.length} resources\n`);
  return 0;
}

async function deployCommand(options: Options): Promise<number> {
  try {
    return options.dryRun ? await dryRun(options, process.env) : await deploy(options, process.env);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigFileError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    if (error instanceof DeployStepError) {
      process.stderr.write(`deploy failed at ${error.message}${error.code ? ` [${error.code}]` : ''}\n`);
      return 1;
    }
    throw error;
  }
}

await runCli(USAGE, parseOptions, deployCommand);
