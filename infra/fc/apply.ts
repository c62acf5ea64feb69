import type FC from '@alicloud/fc2';
import type { Body, FunctionStep, PlanStep, TriggerStep } from './plan.js';

/**
 * Executes a plan through `@alicloud/fc2`, idempotently: each resource is read first, then created when
 * FC says it does not exist, otherwise updated. A second run therefore makes only GET and PUT calls.
 * Triggers whose settings already match are left alone; one whose type or source changed, or that FC
 * refuses to update, is deleted and created again.
 */

export type FcApi = Pick<
  FC,
  | 'getService'
  | 'createService'
  | 'updateService'
  | 'getFunction'
  | 'createFunction'
  | 'updateFunction'
  | 'getTrigger'
  | 'createTrigger'
  | 'updateTrigger'
  | 'deleteTrigger'
>;

export type Action = 'created' | 'updated' | 'unchanged' | 'replaced';

export interface Outcome {
  id: string;
  kind: PlanStep['kind'];
  action: Action;
  /** The public URL of an HTTP trigger, when FC reports one. */
  url?: string;
}

export interface ApplyOptions {
  /** The base64 of a function's code zip. */
  codeOf: (step: FunctionStep) => string;
  log?: (line: string) => void;
}

export class DeployStepError extends Error {
  constructor(
    readonly step: string,
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`${step}: ${(cause as Error).message}`, { cause });
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The SDK changes option objects it is given (type coercion); each call gets its own copy. */
function copy(body: Body): Body {
  return structuredClone(body);
}

async function readOrUndefined<T>(read: () => Promise<T>, notFound: string): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (errorCode(error) === notFound) return undefined;
    throw error;
  }
}

/** Every key of `wanted` has an equal value in `actual` (FC adds fields of its own when it answers). */
export function contains(actual: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) &&
      actual.length === wanted.length &&
      wanted.every((item, i) => contains(actual[i], item))
    );
  }
  if (typeof wanted === 'object' && wanted !== null) {
    if (typeof actual !== 'object' || actual === null) return false;
    return Object.entries(wanted).every(([key, value]) =>
      contains((actual as Record<string, unknown>)[key], value),
    );
  }
  return actual === wanted;
}

function httpUrl(data: Record<string, unknown> | undefined): string | undefined {
  const url = data?.urlInternet;
  return typeof url === 'string' && url !== '' ? url : undefined;
}

async function applyService(client: FcApi, step: PlanStep): Promise<Action> {
  const existing = await readOrUndefined(() => client.getService(step.serviceName), 'ServiceNotFound');
  if (!existing) {
    await client.createService(step.serviceName, copy(step.create.body));
    return 'created';
  }
  await client.updateService(step.serviceName, copy(step.update.body));
  return 'updated';
}

async function applyFunction(client: FcApi, step: FunctionStep, zipFile: string): Promise<Action> {
  const existing = await readOrUndefined(
    () => client.getFunction(step.serviceName, step.functionName),
    'FunctionNotFound',
  );
  if (!existing) {
    await client.createFunction(step.serviceName, { ...copy(step.create.body), code: { zipFile } });
    return 'created';
  }
  await client.updateFunction(step.serviceName, step.functionName, {
    ...copy(step.update.body),
    code: { zipFile },
  });
  return 'updated';
}

async function applyTrigger(client: FcApi, step: TriggerStep): Promise<{ action: Action; url?: string }> {
  const { serviceName, functionName, triggerName } = step;
  const create = async () => {
    const created = await client.createTrigger(serviceName, functionName, copy(step.create.body));
    return httpUrl(created.data);
  };
  const replace = async () => {
    await client.deleteTrigger(serviceName, functionName, triggerName);
    return { action: 'replaced' as const, url: await create() };
  };
  const existing = await readOrUndefined(
    () => client.getTrigger(serviceName, functionName, triggerName),
    'TriggerNotFound',
  );
  if (!existing) return { action: 'created', url: await create() };

  const current = existing.data;
  const wanted = step.create.body;
  // FC cannot change a trigger's type or event source in place.
  if (
    current.triggerType !== wanted.triggerType ||
    (wanted.sourceArn !== undefined && current.sourceArn !== wanted.sourceArn)
  ) {
    return replace();
  }
  if (contains(current, step.update.body)) return { action: 'unchanged', url: httpUrl(current) };
  try {
    const updated = await client.updateTrigger(
      serviceName,
      functionName,
      triggerName,
      copy(step.update.body),
    );
    return { action: 'updated', url: httpUrl(updated.data) ?? httpUrl(current) };
  } catch (error) {
    // Some trigger types answer "Updating trigger is not supported yet."
    if (/not supported/i.test((error as Error).message)) return replace();
    throw error;
  }
}

export async function applyPlan(
  client: FcApi,
  plan: readonly PlanStep[],
  options: ApplyOptions,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const step of plan) {
    let outcome: Outcome;
    try {
      if (step.kind === 'service') {
        outcome = { id: step.id, kind: step.kind, action: await applyService(client, step) };
      } else if (step.kind === 'function') {
        outcome = {
          id: step.id,
          kind: step.kind,
          action: await applyFunction(client, step, options.codeOf(step)),
        };
      } else {
        const result = await applyTrigger(client, step);
        outcome = {
          id: step.id,
          kind: step.kind,
          action: result.action,
          ...(result.url && { url: result.url }),
        };
      }
    } catch (error) {
      throw new DeployStepError(`${step.kind} ${step.id}`, errorCode(error), error);
    }
    options.log?.(
      `${outcome.kind} ${outcome.id}: ${outcome.action}${outcome.url ? ` (${outcome.url})` : ''}`,
    );
    outcomes.push(outcome);
  }
  return outcomes;
}
