import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Function Compute deployment described once, in `infra/fc/config.json`: read, checked (unknown keys
 * rejected), and filled in from the environment. Both deploy paths read it: `deploy.ts` (FC 2.0 API) and
 * the generated `s.yaml` (Serverless Devs, FC 3.0 API).
 */

export const DEFAULT_CONFIG_FILE = join(dirname(fileURLToPath(import.meta.url)), 'config.json');

export interface HttpTriggerConfig {
  name: string;
  type: 'http';
  authType: 'anonymous' | 'function';
  methods: string[];
}
export interface OssTriggerConfig {
  name: string;
  type: 'oss';
  bucket: string;
  /** With the `oss:` prefix, e.g. `oss:ObjectCreated:*`. */
  events: string[];
  prefix: string;
  suffix: string;
}
export interface TimerTriggerConfig {
  name: string;
  type: 'timer';
  /** Six fields, seconds first, in UTC (every five minutes: `0 0/5 * * * *`), or `@every 5m`. */
  cronExpression: string;
  enable: boolean;
  payload: string;
}
/**
 * A RocketMQ trigger: an EventBridge event stream from an ApsaraMQ for RocketMQ topic to the function
 * (FC trigger type `eventbridge`, event source `RocketMQ`, event-streaming mode so batches apply).
 */
export interface RocketMQTriggerConfig {
  name: string;
  type: 'rocketmq';
  /** The ApsaraMQ for RocketMQ instance id (for 5.x instances, the same value as the namespace). */
  instanceId: string;
  topic: string;
  /** The consumer group (Group ID) the event stream reads with; one per trigger. */
  groupId: string;
  /** Tag filter; `*` for every message. */
  tag: string;
  /** Messages per invocation at most (CountBasedWindow), 1 to 10,000. */
  batchSize: number;
  /** Seconds a batch may wait to fill (TimeBasedWindow), 0 to 15. */
  batchWindowSeconds: number;
  /** `CloudEvents` (the whole event) or `RawData` (only its `data`). */
  eventSchema: 'CloudEvents' | 'RawData';
  /** How EventBridge retries a failed invocation. */
  retryStrategy: 'BACKOFF_RETRY' | 'EXPONENTIAL_DECAY_RETRY';
  /** Where a batch goes after its last retry (an MNS queue or a RocketMQ topic ARN); none: it is not skipped. */
  deadLetterArn?: string;
}
/** FC 2.0 allows no other trigger beside an HTTP trigger; other kinds may be several. */
export type TriggerConfig = HttpTriggerConfig | OssTriggerConfig | TimerTriggerConfig | RocketMQTriggerConfig;

export interface FunctionConfig {
  description: string;
  memorySize: number;
  timeout: number;
  initializationTimeout: number;
  preStopTimeout: number;
  environment: Record<string, string>;
  trigger: TriggerConfig;
  /** Further triggers of the same function (not beside an HTTP trigger), e.g. one on a retry topic. */
  additionalTriggers?: TriggerConfig[];
}

/** Every trigger of a function, the main one first. */
export function triggersOf(fn: FunctionConfig): TriggerConfig[] {
  return [fn.trigger, ...(fn.additionalTriggers ?? [])];
}

export interface DeployConfig {
  service: { name: string; description: string; role: string; internetAccess: boolean };
  /** Shared by every function; a function's own `environment` wins. */
  environment: Record<string, string>;
  functions: Record<string, FunctionConfig>;
}

export class ConfigFileError extends Error {}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Json, allowed: readonly string[], where: string, errors: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      errors.push(`${where}: unknown key "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

function string(value: unknown, where: string, errors: string[]): void {
  if (typeof value !== 'string') errors.push(`${where} must be a string`);
}

function integer(value: unknown, where: string, min: number, max: number, errors: string[]): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    errors.push(`${where} must be a whole number from ${min} to ${max}`);
  }
}

function stringList(value: unknown, where: string, errors: string[]): void {
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    errors.push(`${where} must be a non-empty list of strings`);
  }
}

// FC: a letter first, then letters, digits and underscores; FC_* is reserved for the platform.
const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

function environment(value: unknown, where: string, errors: string[]): void {
  if (!isObject(value)) {
    errors.push(`${where} must be an object of strings`);
    return;
  }
  for (const [name, entry] of Object.entries(value)) {
    if (!ENV_NAME.test(name) || name.startsWith('FC_'))
      errors.push(`${where}.${name}: not a usable FC variable name`);
    string(entry, `${where}.${name}`, errors);
  }
}

const TRIGGER_KEYS = {
  http: ['name', 'type', 'authType', 'methods'],
  oss: ['name', 'type', 'bucket', 'events', 'prefix', 'suffix'],
  timer: ['name', 'type', 'cronExpression', 'enable', 'payload'],
  rocketmq: [
    'name',
    'type',
    'instanceId',
    'topic',
    'groupId',
    'tag',
    'batchSize',
    'batchWindowSeconds',
    'eventSchema',
    'retryStrategy',
    'deadLetterArn',
  ],
} as const;

function rocketmqTrigger(value: Json, where: string, errors: string[]): void {
  for (const key of ['instanceId', 'topic', 'groupId', 'tag'] as const)
    string(value[key], `${where}.${key}`, errors);
  // Limits of the trigger's batch window (devsapp/fc3 docs/zh/yaml/triggers.md, runOptions.batchWindow).
  integer(value.batchSize, `${where}.batchSize`, 1, 10_000, errors);
  integer(value.batchWindowSeconds, `${where}.batchWindowSeconds`, 0, 15, errors);
  if (value.eventSchema !== 'CloudEvents' && value.eventSchema !== 'RawData') {
    errors.push(`${where}.eventSchema must be CloudEvents or RawData`);
  }
  if (value.deadLetterArn !== undefined) string(value.deadLetterArn, `${where}.deadLetterArn`, errors);
  if (value.retryStrategy !== 'BACKOFF_RETRY' && value.retryStrategy !== 'EXPONENTIAL_DECAY_RETRY') {
    errors.push(`${where}.retryStrategy must be BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY`);
  }
}

function trigger(value: unknown, where: string, errors: string[]): void {
  if (!isObject(value)) {
    errors.push(`${where} must be an object`);
    return;
  }
  const type = value.type;
  if (type !== 'http' && type !== 'oss' && type !== 'timer' && type !== 'rocketmq') {
    errors.push(`${where}.type must be http, oss, timer or rocketmq`);
    return;
  }
  checkKeys(value, TRIGGER_KEYS[type], where, errors);
  string(value.name, `${where}.name`, errors);
  if (type === 'rocketmq') {
    rocketmqTrigger(value, where, errors);
  } else if (type === 'http') {
    if (value.authType !== 'anonymous' && value.authType !== 'function') {
      errors.push(`${where}.authType must be anonymous or function`);
    }
    stringList(value.methods, `${where}.methods`, errors);
  } else if (type === 'oss') {
    string(value.bucket, `${where}.bucket`, errors);
    stringList(value.events, `${where}.events`, errors);
    if (Array.isArray(value.events) && value.events.some((event) => !String(event).startsWith('oss:'))) {
      errors.push(`${where}.events are written with the oss: prefix (oss:ObjectCreated:*)`);
    }
    string(value.prefix, `${where}.prefix`, errors);
    string(value.suffix, `${where}.suffix`, errors);
  } else {
    string(value.cronExpression, `${where}.cronExpression`, errors);
    const cron = String(value.cronExpression ?? '').replace(/^CRON_TZ=\S+\s+/, '');
    if (!cron.startsWith('@every ') && cron.trim().split(/\s+/).length !== 6) {
      errors.push(`${where}.cronExpression needs six fields (seconds first), got "${value.cronExpression}"`);
    }
    if (typeof value.enable !== 'boolean') errors.push(`${where}.enable must be true or false`);
    string(value.payload, `${where}.payload`, errors);
  }
}

const FUNCTION_KEYS = [
  'description',
  'memorySize',
  'timeout',
  'initializationTimeout',
  'preStopTimeout',
  'environment',
  'trigger',
  'additionalTriggers',
] as const;

/** Checks the shape of a parsed config file; returns every problem, not just the first. */
export function validateConfig(value: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(value)) return ['the config must be a JSON object'];
  checkKeys(value, ['$comment', 'service', 'environment', 'functions'], 'config', errors);
  const service = value.service;
  if (!isObject(service)) errors.push('service must be an object');
  else {
    checkKeys(service, ['name', 'description', 'role', 'internetAccess'], 'service', errors);
    string(service.name, 'service.name', errors);
    string(service.description, 'service.description', errors);
    string(service.role, 'service.role', errors);
    if (typeof service.internetAccess !== 'boolean')
      errors.push('service.internetAccess must be true or false');
  }
  environment(value.environment, 'environment', errors);
  const functions = value.functions;
  if (!isObject(functions) || Object.keys(functions).length === 0) {
    errors.push('functions must be an object with at least one function');
    return errors;
  }
  const triggerNames = new Set<string>();
  for (const [name, fn] of Object.entries(functions)) {
    const where = `functions.${name}`;
    if (!isObject(fn)) {
      errors.push(`${where} must be an object`);
      continue;
    }
    checkKeys(fn, FUNCTION_KEYS, where, errors);
    string(fn.description, `${where}.description`, errors);
    integer(fn.memorySize, `${where}.memorySize`, 128, 32_768, errors);
    if (typeof fn.memorySize === 'number' && fn.memorySize % 64 !== 0) {
      errors.push(`${where}.memorySize must be a multiple of 64`);
    }
    integer(fn.timeout, `${where}.timeout`, 1, 86_400, errors);
    integer(fn.initializationTimeout, `${where}.initializationTimeout`, 1, 300, errors);
    integer(fn.preStopTimeout, `${where}.preStopTimeout`, 1, 90, errors);
    environment(fn.environment, `${where}.environment`, errors);
    trigger(fn.trigger, `${where}.trigger`, errors);
    const all: Array<[unknown, string]> = [[fn.trigger, `${where}.trigger`]];
    if (fn.additionalTriggers !== undefined) {
      if (!Array.isArray(fn.additionalTriggers)) errors.push(`${where}.additionalTriggers must be a list`);
      else {
        fn.additionalTriggers.forEach((extra, index) => {
          const at = `${where}.additionalTriggers[${index}]`;
          trigger(extra, at, errors);
          all.push([extra, at]);
        });
        const kinds = all.map(([t]) => (isObject(t) ? t.type : undefined));
        if (kinds.includes('http'))
          errors.push(`${where}: FC 2.0 allows no other trigger beside an HTTP trigger`);
      }
    }
    for (const [t, at] of all) {
      const triggerName = isObject(t) ? t.name : undefined;
      if (typeof triggerName !== 'string') continue;
      if (triggerNames.has(triggerName)) errors.push(`${at}.name "${triggerName}" is used twice`);
      triggerNames.add(triggerName);
    }
  }
  return errors;
}

export async function readConfigFile(file = DEFAULT_CONFIG_FILE): Promise<DeployConfig> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const errors = validateConfig(parsed);
  if (errors.length > 0) throw new ConfigFileError(`${file} is not valid:\n  ${errors.join('\n  ')}`);
  const { $comment: _comment, ...config } = parsed as DeployConfig & { $comment?: string };
  return config;
}

/** `${NAME}` (required) or `${NAME:-default}`, as the whole string. */
export const PLACEHOLDER = /^\$\{([A-Z_][A-Z0-9_]*)(?::-(.*))?\}$/s;

export interface Placeholder {
  name: string;
  /** Absent for a required variable. */
  fallback?: string;
}

export function parsePlaceholder(value: string): Placeholder | undefined {
  const match = PLACEHOLDER.exec(value);
  if (!match?.[1]) return undefined;
  return match[2] === undefined ? { name: match[1] } : { name: match[1], fallback: match[2] };
}

export interface ResolvedConfig {
  config: DeployConfig;
  /** Required variables that are unset (or empty), each with the first place that needs it. */
  missing: { name: string; where: string }[];
}

/**
 * Fills every placeholder from `env`. A required variable that is unset becomes `<NAME>` (so a dry run
 * can still show the plan) and is listed in `missing`; a real deploy refuses to go on with any.
 */
export function resolveConfig(config: DeployConfig, env: NodeJS.ProcessEnv): ResolvedConfig {
  const missing: { name: string; where: string }[] = [];
  const visit = (value: unknown, where: string): unknown => {
    if (typeof value === 'string') {
      const placeholder = parsePlaceholder(value);
      if (!placeholder) return value;
      const fromEnv = env[placeholder.name];
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
      if (placeholder.fallback !== undefined) return placeholder.fallback;
      if (!missing.some((entry) => entry.name === placeholder.name))
        missing.push({ name: placeholder.name, where });
      return `<${placeholder.name}>`;
    }
    if (Array.isArray(value)) return value.map((item, index) => visit(item, `${where}[${index}]`));
    if (isObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, visit(item, where ? `${where}.${key}` : key)]),
      );
    }
    return value;
  };
  return { config: visit(config, '') as DeployConfig, missing };
}

/** The variables a function gets: shared, then its own; empty values are left out. */
export function functionEnvironment(config: DeployConfig, functionName: string): Record<string, string> {
  const merged = { ...config.environment, ...config.functions[functionName]?.environment };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== ''));
}
