/**
 * Renders a run's results as markdown tables. Every figure is "median (min–max)" over the rounds; with a
 * single round only the value is shown.
 */
import type { AsyncResult, AsyncScenario } from './async.js';
import type { BundlesResult } from './bundles.js';
import type { ColdStartResult } from './cold-start.js';
import type { FreezeResult } from './freeze.js';
import type { InstrumentationResult } from './instrumentation.js';
import type { MemoryResult } from './memory.js';
import type { OnewayResult } from './oneway.js';
import { SIDES, type Side, TRANSPORTS, type TransportSide } from './sides.js';
import type { Spread } from './stats.js';
import type { ScenarioSummary, SyncResult } from './sync.js';
import type { Target } from './targets.js';
import type { WrapperResult } from './wrappers.js';

export interface Meta {
  date: string;
  loadAverage?: { start: number[]; end: number[] };
  node: string;
  cpuModel: string;
  cpuCount: number;
  rounds: number;
  quick: boolean;
}

export interface Renderable {
  meta: Meta;
  sync: SyncResult;
  async: AsyncResult;
  oneway: OnewayResult;
  wrappers: WrapperResult;
  coldStart: ColdStartResult | undefined;
  memory: MemoryResult;
  bundles: BundlesResult | undefined;
  instrumentation: InstrumentationResult;
  freeze: FreezeResult | undefined;
  targets: Target[];
}

function number(value: number, digits: number): string {
  if (!Number.isFinite(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** "median (min–max)", or just the median when all three agree. */
export function fmt(value: Spread, digits = 0): string {
  const median = number(value.median, digits);
  if (value.min === value.max) return median;
  return `${median} (${number(value.min, digits)}–${number(value.max, digits)})`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const SIDE_LABELS: Record<Side, string> = {
  raw: 'raw client',
  official: 'ours, official transport',
  lean: 'ours, lean transport',
};

const resets = (value: number | null) => (value === null ? '–' : value.toLocaleString('en-US'));

function scenarioRows(label: string, scenario: ScenarioSummary | AsyncScenario): string[][] {
  return SIDES.map((side) => {
    const s = scenario[side];
    const versusSync = 'vsSequentialSync' in scenario ? fmt(scenario.vsSequentialSync[side], 2) : '';
    return [
      label,
      SIDE_LABELS[side],
      fmt(s.msgsPerSec),
      fmt(s.p50Ms, 2),
      fmt(s.p99Ms, 2),
      `${fmt(s.clientCpuUsPerMsg)} / ${fmt(s.brokerCpuUsPerMsg)}`,
      side === 'raw' ? '' : `${fmt(scenario.ratio[side], 3)}`,
      side === 'raw' ? '' : `${fmt(scenario.cpuRatio[side], 3)}`,
      ...('vsSequentialSync' in scenario ? [versusSync] : []),
      s.failed.toLocaleString('en-US'),
      resets(s.clientResets),
    ];
  });
}

const SCENARIO_HEADER = [
  'scenario',
  'side',
  'msg/s',
  'p50 ms',
  'p99 ms',
  'CPU µs/msg client / broker',
  'msg/s ÷ raw',
  'CPU ÷ raw',
];

function renderSync(sync: SyncResult): string {
  return table(
    [...SCENARIO_HEADER, 'failed', 'client resets'],
    [
      ...scenarioRows('sync sequential', sync.sequential),
      ...scenarioRows(`sync ${sync.concurrency} concurrent`, sync.concurrent),
    ],
  );
}

function renderAsync(async: AsyncResult): string {
  return table(
    [...SCENARIO_HEADER, '÷ own seq. sync', 'failed', 'client resets'],
    [
      ...scenarioRows(`async, ${async.messagesPerRound.toLocaleString('en-US')} at once`, async.unbounded),
      ...scenarioRows(`async, window ${async.window}`, async.windowed),
    ],
  );
}

function renderOneway(oneway: OnewayResult): string {
  const count = (n: number) => n.toLocaleString('en-US');
  const row = (side: TransportSide) => {
    const m = oneway[side];
    return [
      SIDE_LABELS[side],
      fmt(m.returnP50Us, 2),
      fmt(m.returnP99Us, 2),
      `${fmt(m.ackP50Ms, 1)} / ${fmt(m.ackP99Ms, 1)}`,
      fmt(m.deliveredPerSec),
      `${count(m.calls)} / ${count(m.sent)} / ${count(m.storedByBroker)}`,
      `${count(m.failed)} / ${count(m.dropped)} / ${count(m.lost)}`,
      count(m.sendMessageCalls),
      count(m.clientResets),
    ];
  };
  const spot = oneway.spotCheck;
  const spotLine = spot
    ? `Consumer spot check, ${spot.lean.sent} marked messages per transport: read back official ` +
      `${spot.official.readBack} (${spot.official.distinctMessageIds} distinct ids), lean ${spot.lean.readBack} ` +
      `(${spot.lean.distinctMessageIds} distinct ids).`
    : '';
  return `${table(
    [
      'oneway',
      'return p50 µs',
      'return p99 µs',
      'ack p50 / p99 ms',
      'delivered msg/s',
      'calls / acked / stored',
      'failed / dropped / not stored',
      'SendMessage calls',
      'client resets',
    ],
    TRANSPORTS.map(row),
  )}\n\n${count(oneway.callsPerRound)} calls per round; "delivered msg/s" is acknowledged messages over the time from the first call to the last acknowledgement. ${spotLine}`;
}

function renderFreeze(freeze: FreezeResult | undefined): string {
  if (!freeze) return '_Freeze skipped._';
  return table(
    ['first send after a simulated 5-minute freeze', 'ms', 'attempts'],
    [
      ['ours, official transport', fmt(freeze.officialMs, 1), freeze.officialAttempts.join(', ')],
      ['ours, lean transport', fmt(freeze.leanMs, 1), freeze.leanAttempts.join(', ')],
    ],
  );
}

function renderWrappers(wrappers: WrapperResult): string {
  return table(
    ['function', 'called as', 'p50 µs', 'p99 µs'],
    wrappers.cases.map((c) => [c.function, c.shape, fmt(c.p50Us, 1), fmt(c.p99Us, 1)]),
  );
}

function renderColdStart(cold: ColdStartResult | undefined): string {
  if (!cold) return '_Cold start skipped (--quick)._';
  const row = (label: string, side: ColdStartResult['ours']) => [
    label,
    fmt(side.totalMs, 1),
    fmt(side.nodeStartMs, 1),
    fmt(side.loadMs, 1),
    fmt(side.firstSendMs, 1),
  ];
  return `${table(
    ['cold start', 'spawn → ack ms', 'node start ms', 'load bundle ms', 'first send ms'],
    [row('raw client (bundled)', cold.raw), row('order-confirmation FC bundle', cold.ours)],
  )}\n\nRatio ours/raw: ${fmt(cold.ratio, 3)} over ${cold.rounds} interleaved starts each.`;
}

function renderMemory(memory: MemoryResult): string {
  const parts: string[] = [];
  if (memory.oneway) {
    parts.push(
      table(
        [
          '100,000 oneway sends',
          'heap before',
          'heap after sends',
          'heap after drain+GC',
          'RSS after drain+GC',
          'sent / failed / dropped',
        ],
        memory.oneway.map((m) => [
          m.how,
          `${m.before.heapUsedMiB} MiB`,
          `${m.afterSends.heapUsedMiB} MiB (peak ${m.peakHeapUsedMiB})`,
          `${m.afterDrainAndGc.heapUsedMiB} MiB`,
          `${m.afterDrainAndGc.rssMiB} MiB`,
          `${m.sent.toLocaleString('en-US')} / ${m.failed} / ${m.dropped}`,
        ]),
      ),
    );
  } else parts.push('_100,000-send memory part skipped (--quick)._');
  const inv = memory.invocations;
  parts.push(
    `Warm invocations of order-confirmation (FC, against the broker), ${inv.rounds} × ${inv.invocationsPerRound}: ` +
      `heap after GC per round ${inv.heapUsedMiB.join(', ')} MiB; slope ${inv.heapSlopeKiBPerRound} KiB/round ` +
      `(${inv.heapSlopeKiBPerRoundAfterFirst} from round 2); rises every round: ${inv.monotonicGrowth ? 'yes' : 'no'}.`,
  );
  return parts.join('\n\n');
}

function renderBundles(bundles: BundlesResult | undefined): string {
  if (!bundles) return '_No dist/build-report.json (run `npm run build`)._';
  const raw = bundles.rawClient.map((r) => `${r.platform} ${(r.rawBytes / 1024).toFixed(0)} KiB`).join(', ');
  return `${table(
    ['bundle', 'raw KiB', 'gzip KiB', 'ours/raw client', 'gzip ours/raw'],
    bundles.bundles.map((b) => [
      `${b.platform}/${b.name}`,
      (b.rawBytes / 1024).toFixed(0),
      (b.gzipBytes / 1024).toFixed(0),
      b.ratio.toFixed(3),
      b.gzipRatio.toFixed(3),
    ]),
  )}\n\nRaw client alone: ${raw}.${bundles.stale ? ' **Sources changed after the build report: sizes may be stale.**' : ''}`;
}

export function renderTargets(targets: Target[]): string {
  return table(
    ['target', 'goal', 'measured: median (min–max)', ''],
    targets.map((t) => [
      t.name,
      t.goal,
      t.measured === undefined
        ? 'skipped'
        : `${number(t.measured, t.measured < 10 ? 3 : 1)}${t.unit}${t.range ? ` (${number(t.range[0], t.range[0] < 10 ? 3 : 1)}–${number(t.range[1], t.range[1] < 10 ? 3 : 1)})` : ''}`,
      t.pass === undefined ? '–' : t.pass ? '✓' : '✗',
    ]),
  );
}

function renderInstrumentation(result: InstrumentationResult): string {
  const labels = {
    none: 'nobody listening',
    channels: 'no-op subscriber on every diagnostics channel',
    otel: 'OpenTelemetry bridge (spans + metrics in memory)',
  } as const;
  return table(
    ['instrumentation', 'sync msg/s', 'sync CPU µs/msg', 'sync ÷ nobody listening', 'oneway return p50 µs'],
    (['none', 'channels', 'otel'] as const).map((variant) => [
      labels[variant],
      fmt(result[variant].syncMsgsPerSec),
      fmt(result[variant].syncCpuUsPerMsg, 1),
      fmt(result[variant].syncRatio, 3),
      fmt(result[variant].onewayReturnP50Us, 2),
    ]),
  );
}

export function renderAll(results: Renderable): string {
  const { meta } = results;
  return [
    `## Benchmark ${meta.date}${meta.quick ? ' (--quick, smoke only)' : ''}`,
    `${meta.cpuCount} × ${meta.cpuModel}, Node ${meta.node}; broker in a separate process; ${meta.rounds} round(s), figures are median (min–max).${meta.loadAverage ? ` Load average ${meta.loadAverage.start.join(' ')} at the start, ${meta.loadAverage.end.join(' ')} at the end (the machine is shared).` : ''}`,
    '### Sync sends (256-byte bodies)',
    renderSync(results.sync),
    '### Async sends',
    renderAsync(results.async),
    '### Oneway',
    renderOneway(results.oneway),
    '### Freeze and thaw',
    renderFreeze(results.freeze),
    '### Wrapper + mapper overhead per warm invocation (fake transport, no network)',
    renderWrappers(results.wrappers),
    '### Cold start',
    renderColdStart(results.coldStart),
    '### Memory (sending process)',
    renderMemory(results.memory),
    '### Bundle sizes',
    renderBundles(results.bundles),
    '### Instrumentation overhead (sync sequential, oneway return time)',
    renderInstrumentation(results.instrumentation),
    '### Targets',
    renderTargets(results.targets),
  ].join('\n\n');
}
