import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FunctionConfig, parsePlaceholder, type TriggerConfig, validateConfig } from './fc/config.js';

/**
 * `functions/<name>/function.json`: the one description of a function. The FC deploy config, s.yaml and
 * serverless.yml are generated from it (`npm run generate`); build, invoke and the dev server find
 * functions through it.
 */

export const DEFAULT_FUNCTIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'functions');
/** Where the functions are: `ROCKETMQ_FUNCTIONS_DIR` when set (tests scaffold into a scratch tree). */
export const FUNCTIONS_DIR = process.env.ROCKETMQ_FUNCTIONS_DIR || DEFAULT_FUNCTIONS_DIR;
export const MANIFEST_FILE = 'function.json';

export type TriggerKind = 'http' | 'object' | 'timer' | 'rocketmq';

export interface FunctionManifest {
  /** The folder name; also the function's name on both platforms. */
  name: string;
  description: string;
  /** What starts it; the platform blocks below say how, each in its own terms. */
  trigger: TriggerKind;
  /** Seconds. */
  timeout: number;
  /** MB. */
  memory: number;
  /**
   * The function's own variables, on both platforms: a literal, `${NAME}` (required at deploy time) or
   * `${NAME:-default}`. Shared variables (endpoints, credentials) are in infra/fc/config.json and
   * serverless.yml's provider block. Secrets never go here.
   */
  environment: Record<string, string>;
  /** Topics it sends to and consumes from (their default names), for readers and checks. */
  topics: { sends: string[]; consumes: string[] };
  /** HTTP functions: the paths the dev server routes to it, and the methods it takes. */
  http?: { paths: string[]; methods: string[] };
  fc: {
    /** The FC triggers (infra/fc/config.ts describes each kind); an HTTP trigger stands alone. */
    triggers: TriggerConfig[];
    /** @default 10 */
    initializationTimeout?: number;
    /** @default 3 */
    preStopTimeout?: number;
  };
  aws: {
    /** Overrides the description on Lambda, when the function works differently there. */
    description?: string;
    /** Variables only the Lambda variant reads. */
    environment?: Record<string, string>;
    /** serverless.yml `events` entries, as the Serverless Framework writes them. */
    events: Record<string, unknown>[];
  };
}

export class ManifestError extends Error {}

const KEYS = [
  'name',
  'description',
  'trigger',
  'timeout',
  'memory',
  'environment',
  'topics',
  'http',
  'fc',
  'aws',
] as const;
const TRIGGERS: readonly TriggerKind[] = ['http', 'object', 'timer', 'rocketmq'];
const FUNCTION_NAME = /^[a-z][a-z0-9-]{0,63}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((item) => typeof item === 'string');
}

/** Every problem of a parsed function.json, one line each; empty when it is valid. */
export function validateManifest(value: unknown, folder: string): string[] {
  if (!isObject(value)) return ['must be a JSON object'];
  const errors: string[] = [];
  for (const key of Object.keys(value)) {
    if (!(KEYS as readonly string[]).includes(key) && key !== '$comment')
      errors.push(`unknown key "${key}" (allowed: ${KEYS.join(', ')})`);
  }
  if (value.name !== folder) errors.push(`name must be "${folder}", the folder's name`);
  if (typeof value.name === 'string' && !FUNCTION_NAME.test(value.name))
    errors.push('name must be lower-case letters, digits and dashes, starting with a letter');
  if (typeof value.description !== 'string' || value.description === '')
    errors.push('description must be a non-empty string');
  if (!TRIGGERS.includes(value.trigger as TriggerKind))
    errors.push(`trigger must be one of ${TRIGGERS.join(', ')}`);
  for (const [key, max] of [
    ['timeout', 900],
    ['memory', 32768],
  ] as const) {
    const n = value[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max)
      errors.push(`${key} must be a whole number from 1 to ${max}`);
  }
  if (!isStringMap(value.environment)) errors.push('environment must map names to strings');
  const topics = value.topics;
  if (!isObject(topics) || !isStringList(topics.sends) || !isStringList(topics.consumes))
    errors.push('topics must be { "sends": [...], "consumes": [...] } with topic names');
  if (value.trigger === 'http' || value.http !== undefined) {
    const http = value.http;
    if (
      !isObject(http) ||
      !isStringList(http.paths) ||
      http.paths.length === 0 ||
      !http.paths.every((path) => path.startsWith('/') && !path.startsWith('/_dev')) ||
      !isStringList(http.methods) ||
      http.methods.length === 0
    )
      errors.push('http must be { "paths": ["/..."], "methods": ["POST", ...] } (paths not under /_dev)');
  }
  const fc = value.fc;
  if (!isObject(fc) || !Array.isArray(fc.triggers) || fc.triggers.length === 0) {
    errors.push('fc.triggers must list at least one trigger');
  } else {
    // The FC config's own validator checks the triggers and timeouts, as they will be deployed.
    const probe = { service: PROBE_SERVICE, environment: {}, functions: { [folder]: fcFunction(value) } };
    for (const error of validateConfig(probe)) errors.push(error.replace(/^functions\.[^.]+\./, 'fc.'));
  }
  const aws = value.aws;
  if (!isObject(aws) || !Array.isArray(aws.events) || !aws.events.every(isObject))
    errors.push('aws.events must list serverless.yml events');
  else if (aws.environment !== undefined && !isStringMap(aws.environment))
    errors.push('aws.environment must map names to strings');
  return errors;
}

const PROBE_SERVICE = { name: 'probe', description: '', role: '', internetAccess: true };

function fcFunction(manifest: Record<string, unknown>): FunctionConfig {
  const fc = manifest.fc as FunctionManifest['fc'];
  const [trigger, ...additional] = fc.triggers;
  return {
    description: manifest.description as string,
    memorySize: manifest.memory as number,
    timeout: manifest.timeout as number,
    initializationTimeout: fc.initializationTimeout ?? 10,
    preStopTimeout: fc.preStopTimeout ?? 3,
    environment: manifest.environment as Record<string, string>,
    trigger: trigger as TriggerConfig,
    ...(additional.length > 0 && { additionalTriggers: additional }),
  };
}

/** The function as `infra/fc/config.json` lists it. */
export function toFcFunction(manifest: FunctionManifest): FunctionConfig {
  return fcFunction(manifest as unknown as Record<string, unknown>);
}

export async function readManifest(name: string, dir = FUNCTIONS_DIR): Promise<FunctionManifest> {
  const file = join(dir, name, MANIFEST_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ManifestError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const errors = validateManifest(parsed, name);
  if (errors.length > 0) throw new ManifestError(`${file} is not valid:\n  ${errors.join('\n  ')}`);
  const { $comment: _comment, ...manifest } = parsed as FunctionManifest & { $comment?: string };
  return manifest;
}

/** Every function: each folder of functions/ with a function.json, by name. */
export async function readManifests(dir = FUNCTIONS_DIR): Promise<FunctionManifest[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const has = await readFile(join(dir, entry.name, MANIFEST_FILE)).then(
      () => true,
      () => false,
    );
    if (has) names.push(entry.name);
  }
  return Promise.all(names.sort().map((name) => readManifest(name, dir)));
}

/** The value a variable takes locally (the dev server, invoke) when the shell does not set it. */
export function localValue(value: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const placeholder = parsePlaceholder(value);
  if (!placeholder) return value;
  const fromEnv = env[placeholder.name];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return placeholder.fallback || undefined;
}

/**
 * The manifest's environment as the platform would set it, resolved against `env`; unset required
 * variables and empty defaults are left out.
 */
export function manifestEnvironment(
  manifest: FunctionManifest,
  platform: 'fc' | 'aws',
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const all = { ...manifest.environment, ...(platform === 'aws' ? manifest.aws.environment : {}) };
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    const local = localValue(value, env);
    if (local !== undefined) resolved[name] = local;
  }
  return resolved;
}

/** `${NAME}` → `${env:NAME}`, `${NAME:-x}` → `${env:NAME, 'x'}`: the Serverless Framework's syntax. */
export function serverlessValue(value: string): string {
  const placeholder = parsePlaceholder(value);
  if (!placeholder) return value;
  if (placeholder.fallback === undefined) return `\${env:${placeholder.name}}`;
  if (placeholder.fallback.includes("'"))
    throw new ManifestError(`the default of ${placeholder.name} may not contain '`);
  return `\${env:${placeholder.name}, '${placeholder.fallback}'}`;
}
