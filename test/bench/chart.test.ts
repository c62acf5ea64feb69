import { describe, expect, it } from 'vitest';
import type { AsyncResult } from '../../bench/async.js';
import { type ChartInput, escapeXml, modeGroups, niceCeiling, renderChart } from '../../bench/chart.js';
import type { OnewayResult, OnewaySummary } from '../../bench/oneway.js';
import type { Spread } from '../../bench/stats.js';
import type { ScenarioSummary, SideSummary, SyncResult } from '../../bench/sync.js';

const spread = (median: number, min = median, max = median): Spread => ({ median, min, max });

function side(msgsPerSec: Spread, p50Ms: number, p99Ms: number): SideSummary {
  return {
    msgsPerSec,
    p50Ms: spread(p50Ms),
    p99Ms: spread(p99Ms),
    clientCpuUsPerMsg: spread(100),
    brokerCpuUsPerMsg: spread(50),
    failed: 0,
    clientResets: 0,
  };
}

function scenario(raw: number, official: number, lean: number): ScenarioSummary {
  return {
    raw: side(spread(raw, raw * 0.5, raw * 1.5), 1, 10),
    official: side(spread(official), 1, 10),
    lean: side(spread(lean), 0.5, 5),
    ratio: { official: spread(official / raw), lean: spread(lean / raw) },
    cpuRatio: { official: spread(1), lean: spread(0.5) },
  };
}

function onewaySide(delivered: number): OnewaySummary {
  return {
    returnP50Us: spread(2),
    returnP99Us: spread(10),
    ackP50Ms: spread(40),
    ackP99Ms: spread(400),
    deliveredPerSec: spread(delivered),
    calls: 100,
    sent: 100,
    failed: 0,
    dropped: 0,
    storedByBroker: 100,
    storedAfterDrain: 0,
    lost: 0,
    sendMessageCalls: 100,
    clientResets: 0,
  };
}

function input(): ChartInput {
  const sync: SyncResult = {
    messagesPerRound: 100,
    concurrency: 64,
    warmup: 10,
    sequential: scenario(1000, 1000, 2000),
    concurrent: scenario(3000, 2800, 6000),
  };
  const asyncScenario = (raw: number, lean: number) => ({
    ...scenario(raw, raw, lean),
    vsSequentialSync: { raw: spread(3), official: spread(3), lean: spread(3) },
  });
  const async: AsyncResult = {
    messagesPerRound: 100,
    window: 256,
    unbounded: asyncScenario(3000, 4000),
    windowed: asyncScenario(3500, 4500),
  };
  const oneway: OnewayResult = {
    callsPerRound: 100,
    official: onewaySide(2500),
    lean: onewaySide(5000),
    spotCheck: undefined,
  };
  return { title: 'Send <modes> & "sides"', subtitle: ['machine', 'run'], sync, async, oneway };
}

/** Tags opened and closed in order, attributes quoted: enough to say a browser will parse it. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const [, closing, name, attributes, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    expect(attributes ?? '').not.toMatch(/=[^"\s]/);
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name as string);
  }
  expect(stack).toEqual([]);
  expect(svg.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]|&(?!#\d+;)/);
}

function bar(svg: string, kind: string, sideName: string, nth: number) {
  const bars = [
    ...svg.matchAll(
      new RegExp(
        `<rect class="${kind} ${sideName}" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"`,
        'g',
      ),
    ),
  ];
  const match = bars[nth];
  if (!match) throw new Error(`no ${kind} bar ${nth} for ${sideName}`);
  return { y: Number(match[1]), height: Number(match[2]) };
}

describe('send-mode chart', () => {
  it('is well-formed SVG with the title and labels escaped', () => {
    const svg = renderChart(input());
    assertWellFormed(svg);
    expect(svg).toContain(escapeXml('Send <modes> & "sides"'));
    expect(svg).not.toContain('<modes>');
  });

  it('draws five mode groups, the raw client without oneway', () => {
    const groups = modeGroups(input());
    expect(groups.map((g) => g.label)).toEqual([
      'sync sequential',
      'sync 64 concurrent',
      'async 100 at once',
      'async window 256',
      'oneway (delivered)',
    ]);
    expect(groups[4]?.bars.raw).toBeUndefined();
    const svg = renderChart(input());
    expect(svg.match(/class="throughput raw"/g)).toHaveLength(4);
    expect(svg.match(/class="throughput lean"/g)).toHaveLength(5);
    expect(svg.match(/class="p50 /g)).toHaveLength(14);
    expect(svg.match(/class="p99 /g)).toHaveLength(14);
    expect(svg.match(/class="range"/g)).toHaveLength(14);
  });

  it('scales throughput linearly and latency logarithmically', () => {
    const svg = renderChart(input());
    // Sequential sync: lean 2000 msg/s against raw 1000.
    expect(bar(svg, 'throughput', 'lean', 0).height).toBeCloseTo(
      2 * bar(svg, 'throughput', 'raw', 0).height,
      0,
    );
    // Latency bars share a bottom; on a log axis 10 ms is as far above 1 ms as 1 ms is above 0.1 ms.
    const p50 = bar(svg, 'p50', 'raw', 0);
    const p99 = bar(svg, 'p99', 'raw', 0);
    expect(p50.y + p50.height).toBeCloseTo(p99.y + p99.height, 0);
    expect(p99.height).toBeGreaterThan(p50.height);
    expect(p99.height - p50.height).toBeCloseTo(p50.height, 0);
  });

  it('puts the whisker at the min and max of the rounds', () => {
    const svg = renderChart(input());
    // The first whisker is the raw client's sequential sync: 500–1500 msg/s around a median of 1000.
    const [first] = [...svg.matchAll(/<line class="range" x1="[^"]+" y1="([^"]+)" x2="[^"]+" y2="([^"]+)"/g)];
    const raw = bar(svg, 'throughput', 'raw', 0);
    const bottom = raw.y + raw.height;
    expect(bottom - Number(first?.[1])).toBeCloseTo(raw.height * 0.5, 0);
    expect(bottom - Number(first?.[2])).toBeCloseTo(raw.height * 1.5, 0);
  });

  it('rounds axis ceilings to 1, 2 or 5 times a power of ten', () => {
    expect([
      niceCeiling(0),
      niceCeiling(730),
      niceCeiling(1000),
      niceCeiling(1001),
      niceCeiling(4200),
    ]).toEqual([1, 1000, 1000, 2000, 5000]);
  });
});
