/**
 * The goals a run is checked against, reported beside the results and never asserted: the transport
 * targets (the lean transport against the raw official client) and the earlier send-mode goals.
 */
import type { AsyncResult } from './async.js';
import type { BundlesResult } from './bundles.js';
import type { ColdStartResult } from './cold-start.js';
import type { FreezeResult } from './freeze.js';
import type { OnewayResult } from './oneway.js';
import type { Spread } from './stats.js';
import type { SyncResult } from './sync.js';
import type { WrapperResult } from './wrappers.js';

export interface Target {
  name: string;
  goal: string;
  /** The median the goal is checked against; undefined when that part was skipped. */
  measured: number | undefined;
  /** Min and max behind the median, when it is a figure over rounds. */
  range: [number, number] | undefined;
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
  freeze: FreezeResult | undefined;
}

/** Today's FC order-confirmation bundle on the official client, before the lean transport: 935 KiB. */
export const BASELINE_ORDER_BUNDLE_BYTES = 935 * 1024;

type Measured = Spread | number | undefined;

function target(
  name: string,
  goal: number,
  measured: Measured,
  unit: string,
  compare: '≥' | '≤' | '<',
): Target {
  const median = typeof measured === 'number' ? measured : measured?.median;
  const range: [number, number] | undefined =
    typeof measured === 'object' && measured.min !== measured.max ? [measured.min, measured.max] : undefined;
  const pass =
    median === undefined || Number.isNaN(median)
      ? undefined
      : compare === '≥'
        ? median >= goal
        : compare === '≤'
          ? median <= goal
          : median < goal;
  return { name, goal: `${compare} ${goal}${unit}`, measured: median, range, unit, pass };
}

export function evaluateTargets(parts: Parts): Target[] {
  const worstWrapperP50 = Math.max(...parts.wrappers.cases.map((c) => c.p50Us.median));
  const { sync } = parts;
  const c = sync.concurrency;
  const order = parts.bundles?.bundles.find((b) => b.platform === 'fc' && b.name === 'order-confirmation');
  return [
    target('sync msg/s lean / raw client, sequential', 1.6, sync.sequential.ratio.lean, '×', '≥'),
    target(`sync msg/s lean / raw client, ${c} concurrent`, 1.6, sync.concurrent.ratio.lean, '×', '≥'),
    target(
      'client CPU per sync message lean / raw, sequential',
      0.5,
      sync.sequential.cpuRatio.lean,
      '×',
      '≤',
    ),
    target(
      `client CPU per sync message lean / raw, ${c} concurrent`,
      0.5,
      sync.concurrent.cpuRatio.lean,
      '×',
      '≤',
    ),
    target(
      'cold start FC order-confirmation (lean) / raw-client bundle',
      0.7,
      parts.coldStart?.ratio,
      '×',
      '≤',
    ),
    target(
      'FC order-confirmation bundle / 935 KiB',
      0.25,
      order && Math.round((order.rawBytes / BASELINE_ORDER_BUNDLE_BYTES) * 1000) / 1000,
      '×',
      '≤',
    ),
    target('first send after a simulated 5-minute freeze (lean)', 100, parts.freeze?.leanMs, ' ms', '≤'),
    target(
      'sync msg/s official transport / raw client, sequential',
      0.97,
      sync.sequential.ratio.official,
      '×',
      '≥',
    ),
    target(
      `sync msg/s official transport / raw client, ${c} concurrent`,
      0.97,
      sync.concurrent.ratio.official,
      '×',
      '≥',
    ),
    target(
      'async pipelined ÷ sequential sync (lean)',
      5,
      parts.async.unbounded.vsSequentialSync.lean,
      '×',
      '≥',
    ),
    target(
      `async window ${parts.async.window} ÷ sequential sync (lean)`,
      5,
      parts.async.windowed.vsSequentialSync.lean,
      '×',
      '≥',
    ),
    target('oneway return median (lean)', 20, parts.oneway.lean.returnP50Us, ' µs', '<'),
    target('wrapper overhead p50 (worst case)', 300, worstWrapperP50, ' µs', '<'),
    target('bundle size ours / raw client (largest bundle)', 1.1, parts.bundles?.maxRatio, '×', '≤'),
  ];
}
