import type { ApiCall, Body, PlanStep } from './plan.js';

/** The dry run's view of a plan: every call with its body, code and secrets replaced by descriptions. */

// Variables whose values are credentials by their name; their values never reach the output.
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|ACCESS_KEY|CREDENTIAL/i;
export const REDACTED = '<redacted>';

/**
 * Replaces secret-named environment values, and any value equal to one of `secrets` wherever it is (a
 * secret pasted into the wrong field still does not get printed).
 */
export function redact(body: Body, secrets: readonly string[]): Body {
  const known = new Set(secrets.filter((secret) => secret.length >= 4));
  const visit = (value: unknown, key: string, inEnvironment: boolean): unknown => {
    if (typeof value === 'string') {
      if (known.has(value)) return REDACTED;
      if (inEnvironment && SECRET_NAME.test(key) && value !== '') return REDACTED;
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => visit(item, key, false));
    if (typeof value === 'object' && value !== null) {
      const environment = key === 'environmentVariables';
      return Object.fromEntries(
        Object.entries(value).map(([childKey, child]) => [childKey, visit(child, childKey, environment)]),
      );
    }
    return value;
  };
  return visit(body, '', false) as Body;
}

export interface CodeDescription {
  file: string;
  /** Absent when the zip does not exist yet. */
  bytes?: number;
  sha256?: string;
}

function withCode(body: Body, code: CodeDescription | undefined): Body {
  if (!code) return body;
  const text =
    code.bytes === undefined
      ? `<base64 of ${code.file}: missing, run npm run build>`
      : `<base64 of ${code.file}: ${code.bytes.toLocaleString('en-US')} bytes, sha256 ${code.sha256?.slice(0, 16)}…>`;
  return { ...body, code: { zipFile: text } };
}

export interface PrintedCall {
  method: ApiCall['method'];
  path: string;
  body?: Body;
  /** When the call is made. */
  when: string;
}

export interface PrintedStep {
  kind: PlanStep['kind'];
  id: string;
  calls: PrintedCall[];
}

/** The plan as the calls each step may make, in order, ready to print or to serialise. */
export function describePlan(
  plan: readonly PlanStep[],
  secrets: readonly string[],
  codeOf: (file: string) => CodeDescription | undefined,
): PrintedStep[] {
  return plan.map((step) => {
    const code = step.kind === 'function' ? codeOf(step.codeFile) : undefined;
    const calls: PrintedCall[] = [
      { method: step.read.method, path: step.read.path, when: 'always' },
      {
        method: step.create.method,
        path: step.create.path,
        body: redact(withCode(step.create.body, code), secrets),
        when: 'if the GET answers 404',
      },
      {
        method: step.update.method,
        path: step.update.path,
        body: redact(withCode(step.update.body, code), secrets),
        when: step.kind === 'trigger' ? 'if it exists and differs' : 'if it exists',
      },
    ];
    if (step.kind === 'trigger') {
      calls.push({
        method: step.remove.method,
        path: step.remove.path,
        when: 'then POST again, if its type or source changed or FC refuses the PUT',
      });
    }
    return { kind: step.kind, id: step.id, calls };
  });
}

/** Keys of `full` that `part` leaves out, when `part` is otherwise equal to it; else undefined. */
function leftOut(full: Body | undefined, part: Body | undefined): string[] | undefined {
  if (!full || !part) return undefined;
  const missing = Object.keys(full).filter((key) => !(key in part));
  const same = Object.entries(part).every(
    ([key, value]) => JSON.stringify(full[key]) === JSON.stringify(value),
  );
  return same ? missing : undefined;
}

/** Text for people: a PUT body that is the POST body minus a few keys is said so, not printed twice. */
export function formatPlan(steps: readonly PrintedStep[]): string {
  const lines: string[] = [];
  steps.forEach((step, index) => {
    lines.push(`${index + 1}. ${step.kind} ${step.id}`);
    const postBody = step.calls.find((entry) => entry.method === 'POST')?.body;
    for (const entry of step.calls) {
      lines.push(`   ${entry.method.padEnd(6)} ${entry.path}   (${entry.when})`);
      if (!entry.body) continue;
      const omitted = entry.method === 'PUT' ? leftOut(postBody, entry.body) : undefined;
      if (omitted) {
        lines.push(
          `          body: the POST body${omitted.length > 0 ? ` without ${omitted.join(', ')}` : ''}`,
        );
        continue;
      }
      for (const line of JSON.stringify(entry.body, null, 2).split('\n')) lines.push(`          ${line}`);
    }
  });
  return lines.join('\n');
}
