import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ConfigFileError,
  DEFAULT_CONFIG_FILE,
  type DeployConfig,
  parsePlaceholder,
  readConfigFile,
  type TriggerConfig,
  triggersOf,
} from './config.js';
import { HANDLER, INITIALIZER, PRE_STOP, RUNTIME, rocketmqTriggerConfig } from './plan.js';
import { toYaml, type YamlData } from './yaml-emit.js';

/**
 * Generates `s.yaml` (Serverless Devs, `fc3` component, FC 3.0 API) from `infra/fc/config.json`, so the
 * two deploy paths describe the same functions. `--check` fails when the committed file is stale.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_S_YAML = join(ROOT, 's.yaml');

const HEADER = `# Generated from infra/fc/config.json by \`npm run build:s-yaml\`: edit that file, then regenerate.
#
# Serverless Devs (\`s deploy\`) with the fc3 component, which uses the FC 3.0 API. FC 3.0 has no services:
# each function is named <service>-<function>. Its HTTP trigger calls the handler with an HTTP event,
# whereas \`npm run deploy:fc\` (FC 2.0 API) makes an HTTP function called as (request, response,
# context); the order-confirmation entry handles both. Code comes from \`npm run build\` (dist/fc/*.zip).
# Values come from the environment (\${env('NAME')}) and the account of the \`s config\` access. A role is
# written only when service.role in config.json is an ARN or a required \${NAME}.
`;

export class SYamlError extends Error {}

/** `${NAME}` → `${env('NAME')}`, `${NAME:-x}` → `${env('NAME', 'x')}`; other strings stay as they are. */
export function devsValue(value: string): string {
  const placeholder = parsePlaceholder(value);
  if (!placeholder) return value;
  if (placeholder.fallback === undefined) return `\${env('${placeholder.name}')}`;
  if (placeholder.fallback.includes("'"))
    throw new SYamlError(`the default of ${placeholder.name} may not contain '`);
  return `\${env('${placeholder.name}', '${placeholder.fallback}')}`;
}

function devsEnvironment(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, devsValue(value)]));
}

function devsStrings(value: unknown): unknown {
  if (typeof value === 'string') return devsValue(value);
  if (Array.isArray(value)) return value.map(devsStrings);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, devsStrings(item)]));
  }
  return value;
}

function trigger(t: TriggerConfig): YamlData {
  switch (t.type) {
    case 'http':
      return {
        triggerName: t.name,
        triggerType: 'http',
        triggerConfig: { authType: t.authType, disableURLInternet: false, methods: t.methods },
      };
    case 'oss':
      return {
        triggerName: t.name,
        triggerType: 'oss',
        sourceArn: `acs:oss:\${vars.region}:\${config('AccountID')}:${devsValue(t.bucket)}`,
        invocationRole: `acs:ram::\${config('AccountID')}:role/aliyunosseventnotificationrole`,
        triggerConfig: {
          events: t.events,
          filter: { key: { prefix: devsValue(t.prefix), suffix: devsValue(t.suffix) } },
        },
      };
    case 'timer':
      return {
        triggerName: t.name,
        triggerType: 'timer',
        triggerConfig: { cronExpression: t.cronExpression, enable: t.enable, payload: t.payload },
      };
    case 'rocketmq':
      return {
        triggerName: t.name,
        triggerType: 'eventbridge',
        triggerConfig: devsStrings(rocketmqTriggerConfig(t, `\${vars.region}`)) as YamlData,
      };
  }
}

/**
 * fc3 takes a role ARN or nothing; an optional placeholder whose default is empty cannot say "nothing",
 * so such a role is left out here (set `service.role` to an ARN or a required `${NAME}` to include it).
 */
function hasRole(role: string): boolean {
  const placeholder = parsePlaceholder(role);
  return placeholder ? placeholder.fallback !== '' : role !== '';
}

/** The s.yaml text for a config (placeholders kept as Serverless Devs variables). */
export function generateSYaml(config: DeployConfig): string {
  const service = devsValue(config.service.name);
  const resources: Record<string, YamlData> = {};
  for (const [name, fn] of Object.entries(config.functions)) {
    const environment = devsEnvironment({ ...config.environment, ...fn.environment });
    resources[name] = {
      component: 'fc3',
      props: {
        region: `\${vars.region}`,
        functionName: `${service}-${name}`,
        description: fn.description,
        runtime: RUNTIME,
        code: `./dist/fc/${name}.zip`,
        handler: HANDLER,
        memorySize: fn.memorySize,
        timeout: fn.timeout,
        internetAccess: config.service.internetAccess,
        ...(hasRole(config.service.role) && { role: devsValue(config.service.role) }),
        environmentVariables: environment,
        instanceLifecycleConfig: {
          initializer: { handler: INITIALIZER, timeout: fn.initializationTimeout },
          preStop: { handler: PRE_STOP, timeout: fn.preStopTimeout },
        },
        triggers: triggersOf(fn).map(trigger),
      },
    };
  }
  return `${HEADER}${toYaml({
    edition: '3.0.0',
    name: 'rocketmq-serverless',
    access: 'default',
    vars: { region: `\${env('ALIBABA_CLOUD_REGION')}` },
    resources,
  })}`;
}

const USAGE = `Usage: npm run build:s-yaml -- [--check] [--config <file>] [--out <file>]

Writes s.yaml (Serverless Devs, fc3 component) from infra/fc/config.json.
  --check          write nothing; exit 1 when s.yaml differs from what would be generated
  --config <file>  default infra/fc/config.json
  --out <file>     default s.yaml at the repository root
  -h, --help       this text`;

async function main(): Promise<number> {
  let values: { check?: boolean; config?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        check: { type: 'boolean' },
        config: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const out = resolve(values.out ?? DEFAULT_S_YAML);
  let text: string;
  try {
    text = generateSYaml(await readConfigFile(resolve(values.config ?? DEFAULT_CONFIG_FILE)));
  } catch (error) {
    if (error instanceof ConfigFileError || error instanceof SYamlError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (values.check) {
    const current = await readFile(out, 'utf8').catch(() => '');
    if (current === text) return 0;
    process.stderr.write(`${relative(process.cwd(), out)} is out of date: run npm run build:s-yaml\n`);
    return 1;
  }
  await writeFile(out, text);
  process.stdout.write(`wrote ${relative(process.cwd(), out)}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
