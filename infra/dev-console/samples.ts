import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventPlatform, isFc2RequestSample, isFcHttpEvent } from '../emulate.js';
import type { FunctionManifest } from '../manifest.js';
import { triggerMessages } from '../poller-event.js';
import type { SampleView } from './model.js';

/**
 * The sample events in events/ and which function each one is for, and running one the way
 * `npm run invoke` does: it IS `npm run invoke`, a child process of infra/invoke.ts pointed at the
 * dev server's broker, so what a button does is what the command does.
 */

const INVOKE_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'invoke.ts');
/** The child gets the function's timeout plus this for its own start (tsx compiles on the way). */
const CHILD_START_ALLOWANCE_MS = 60_000;

type Kind = FunctionManifest['trigger'];

export interface Sample extends SampleView {
  functionName: string;
  event: unknown;
}

function kindOf(event: unknown): Kind | undefined {
  if (triggerMessages(event)) return 'rocketmq';
  if (isFcHttpEvent(event) || isFc2RequestSample(event)) return 'http';
  const e = event as Record<string, unknown>;
  if (typeof e.httpMethod === 'string' || typeof e.routeKey === 'string') return 'http';
  if (Array.isArray(e.events) || Array.isArray(e.Records)) return 'object';
  if ('triggerTime' in e || e['detail-type'] === 'Scheduled Event') return 'timer';
  return undefined;
}

/** The schedule's own name: an FC timer's trigger name, an EventBridge rule's name. */
function scheduleName(event: unknown): string {
  const e = event as { triggerName?: unknown; resources?: unknown };
  if (typeof e.triggerName === 'string') return e.triggerName;
  const rule = Array.isArray(e.resources) ? String(e.resources[0] ?? '') : '';
  return rule.slice(rule.lastIndexOf('/') + 1);
}

/**
 * The function a sample is for: a schedule named after a function is that function's (an EventBridge
 * rule that runs a poller, `order-fulfilment-every-minute`); else the first function with the
 * sample's kind of trigger, as the dev server's own routes pick one.
 */
export function sampleFunction(event: unknown, manifests: readonly FunctionManifest[]): string | undefined {
  const kind = kindOf(event);
  if (kind === undefined) return undefined;
  if (kind === 'timer') {
    const name = scheduleName(event);
    const named = manifests.find((m) => name.startsWith(m.name));
    if (named) return named.name;
  }
  return manifests.find((m) => m.trigger === kind)?.name;
}

export async function readSamples(
  eventsDir: string,
  manifests: readonly FunctionManifest[],
): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const folder of ['fc', 'aws'] as const) {
    const files = await readdir(join(eventsDir, folder)).catch(() => [] as string[]);
    for (const file of files.filter((name) => name.endsWith('.json')).sort()) {
      const path = `${folder}/${file}`;
      let event: unknown;
      try {
        event = JSON.parse(await readFile(join(eventsDir, path), 'utf8'));
      } catch {
        continue;
      }
      const functionName = sampleFunction(event, manifests);
      if (!functionName) continue;
      samples.push({ path, platform: eventPlatform(event) ?? folder, functionName, event });
    }
  }
  return samples;
}

export interface SampleRun {
  /** The result as the command printed it (the error object when the handler failed). */
  result: unknown;
  exitCode: number;
}

/** Runs `npm run invoke -- -f <function> -p <sample> --platform <p>`; each stderr line goes to `onLog`. */
export function runSample(
  sample: Sample,
  options: {
    eventsDir: string;
    timeoutSeconds: number;
    onLog: (line: string) => void;
    children: Set<ChildProcess>;
  },
): Promise<SampleRun> {
  const args = [
    '--import',
    'tsx',
    INVOKE_SCRIPT,
    '--',
    '-f',
    sample.functionName,
    '-p',
    join(options.eventsDir, sample.path),
    '--platform',
    sample.platform,
  ];
  const child = spawn(process.execPath, args, {
    cwd: join(dirname(INVOKE_SCRIPT), '..'),
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.children.add(child);
  let stdout = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') options.onLog(line);
  });
  const timer = setTimeout(
    () => child.kill('SIGKILL'),
    options.timeoutSeconds * 1000 + CHILD_START_ALLOWANCE_MS,
  );
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      options.children.delete(child);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.children.delete(child);
      if (pending.trim() !== '') options.onLog(pending);
      const exitCode = code ?? 1;
      let result: unknown;
      try {
        result = JSON.parse(stdout);
      } catch {
        const reason = signal ? `killed by ${signal}` : `exit code ${exitCode}`;
        return reject(
          Object.assign(new Error(`npm run invoke printed no result (${reason})`), { code: 'INVOKE_FAILED' }),
        );
      }
      if (exitCode === 0) return resolve({ result, exitCode });
      const failed = result as { errorType?: string; errorMessage?: string; code?: string };
      reject(
        Object.assign(new Error(failed.errorMessage ?? `exit code ${exitCode}`), {
          name: failed.errorType ?? 'Error',
          ...(failed.code !== undefined && { code: failed.code }),
        }),
      );
    });
  });
}
