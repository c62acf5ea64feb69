/**
 * Renders a run's results as markdown tables. Every figure is "median (min–max)" over the rounds; with a
 * single round only the value is shown.
 */
import type { AsyncResult } from './async.js';
import type { BundlesResult } from './bundles.js';
import type { ColdStartResult } from './cold-start.js';
import type { InstrumentationResult } from './instrumentation.js';
import type { MemoryResult } from './memory.js';
import type { OnewayResult } from './oneway.js';
import type { Spread } from './stats.js';
import type { ScenarioSummary, SyncResult } from './sync.js';
import type { Target } from './targets.js';
import type { WrapperResult } from './wrappers.js';

export interface Meta {
  date: string;
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

function syncRows(label: string, scenario: ScenarioSummary): string[][] {
  const side = (name: string, s: ScenarioSummary['raw']) => [
    `${label}, ${name}`,
    fmt(s.msgsPerSec),
    fmt(s.p50Ms, 2),
    fmt(s.p99Ms, 2),
    `${fmt(s.clientCpuUsPerMsg)} / ${fmt(s.brokerCpuUsPerMsg)}`,
    name === 'ours' ? fmt(scenario.ratio, 3) : '',
  ];
  return [side('raw client', scenario.raw), side('ours', scenario.ours)];
}

function renderSync(sync: SyncResult, async: AsyncResult): string {
  const header = ['scenario', 'msg/s', 'p50 ms', 'p99 ms', 'CPU µs/msg client / broker', 'ours/raw'];
  const asyncRow = (label: string, a: AsyncResult['unbounded']) => [
    label,
    fmt(a.msgsPerSec),
    fmt(a.p50Ms, 2),
    fmt(a.p99Ms, 2),
    `${fmt(a.clientCpuUsPerMsg)} / ${fmt(a.brokerCpuUsPerMsg)}`,
    `${fmt(a.vsSequentialSync, 2)}× seq. sync`,
  ];
  return table(header, [
    ...syncRows('sync sequential', sync.sequential),
    ...syncRows(`sync concurrency ${sync.concurrency}`, sync.concurrent),
    asyncRow(`async pipelined (${async.messagesPerRound} at once)`, async.unbounded),
    asyncRow(`async, window ${async.window}`, async.windowed),
  ]);
}

function renderOneway(oneway: OnewayResult): string {
  const row = (label: string, m: OnewayResult['default']) => [
    label,
    fmt(m.returnP50Us, 2),
    fmt(m.returnP99Us, 2),
    fmt(m.deliveredPerSec),
    `${m.sent.toLocaleString('en-US')} / ${m.storedByBroker.toLocaleString('en-US')} / ${m.failed.toLocaleString('en-US')} / ${m.dropped.toLocaleString('en-US')}`,
    m.sendMessageCalls.toLocaleString('en-US'),
  ];
  const rows = [row('default', oneway.default)];
  const spot = oneway.spotCheck;
  const spotLine = spot
    ? `Consumer spot check (${spot.default.sent} marked messages): read back ${spot.default.readBack}, ` +
      `distinct message ids ${spot.default.distinctMessageIds}.`
    : '';
  return `${table(
    [
      'oneway',
      'return p50 µs',
      'return p99 µs',
      'delivered msg/s',
      'sent / stored / failed / dropped',
      'SendMessage calls',
    ],
    rows,
  )}\n\n${oneway.callsPerRound.toLocaleString('en-US')} calls per round. ${spotLine}`;
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
    ['target', 'goal', 'measured (median)', ''],
    targets.map((t) => [
      t.name,
      t.goal,
      t.measured === undefined ? 'skipped' : `${number(t.measured, t.measured < 10 ? 3 : 1)}${t.unit}`,
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
    `${meta.cpuCount} × ${meta.cpuModel}, Node ${meta.node}; broker in a separate process; ${meta.rounds} round(s), figures are median (min–max).`,
    '### Send modes (256-byte bodies)',
    renderSync(results.sync, results.async),
    '### Oneway',
    renderOneway(results.oneway),
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
