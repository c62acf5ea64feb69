/** The goals of issue 7, checked against a run's results: reported beside them, never asserted. */
import type { AsyncResult } from './async.js';
import type { BundlesResult } from './bundles.js';
import type { ColdStartResult } from './cold-start.js';
import type { OnewayResult } from './oneway.js';
import type { SyncResult } from './sync.js';
import type { WrapperResult } from './wrappers.js';

export interface Target {
  name: string;
  goal: string;
  /** The median the goal is checked against; undefined when that part was skipped. */
  measured: number | undefined;
  unit: string;
  pass: boolean | undefined;
}

interface Parts {
  sync: SyncResult;
  async: AsyncResult;
  oneway: OnewayResult;
  wrappers: WrapperResult;
  coldStart: ColdStartResult | undefined;
  bundles: BundlesResult | undefined;
}

function atLeast(name: string, goal: number, measured: number | undefined, unit: string): Target {
  return {
    name,
    goal: `≥ ${goal}${unit}`,
    measured,
    unit,
    pass: measured === undefined ? undefined : measured >= goal,
  };
}

function below(name: string, goal: number, measured: number | undefined, unit: string, inclusive: boolean) {
  return {
    name,
    goal: `${inclusive ? '≤' : '<'} ${goal}${unit}`,
    measured,
    unit,
    pass: measured === undefined ? undefined : inclusive ? measured <= goal : measured < goal,
  } satisfies Target;
}

export function evaluateTargets(parts: Parts): Target[] {
  const worstWrapperP50 = Math.max(...parts.wrappers.cases.map((c) => c.p50Us.median));
  return [
    atLeast('sync ratio ours/raw, sequential', 0.97, parts.sync.sequential.ratio.median, ''),
    atLeast(
      `sync ratio ours/raw, concurrency ${parts.sync.concurrency}`,
      0.97,
      parts.sync.concurrent.ratio.median,
      '',
    ),
    atLeast('async pipelined ÷ sequential sync', 5, parts.async.unbounded.vsSequentialSync.median, '×'),
    atLeast(
      `async window ${parts.async.window} ÷ sequential sync`,
      5,
      parts.async.windowed.vsSequentialSync.median,
      '×',
    ),
    below('oneway return median, default', 20, parts.oneway.default.returnP50Us.median, ' µs', false),
    below('wrapper overhead p50 (worst case)', 300, worstWrapperP50, ' µs', false),
    below('cold start ratio ours/raw', 1.15, parts.coldStart?.ratio.median, '', true),
    below('bundle ratio ours/raw (largest)', 1.1, parts.bundles?.maxRatio, '', true),
  ];
}
