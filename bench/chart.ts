/**
 * The run as one picture: send latency (p50 and p99, log scale) and throughput (median with the min–max
 * of the rounds) for every send mode and side. Plain SVG text, no dependencies: `npm run bench` writes it
 * beside the results JSON and BENCHMARKS.md shows it.
 */
import type { AsyncResult } from './async.js';
import type { OnewayResult } from './oneway.js';
import { SIDES, type Side } from './sides.js';
import type { Spread } from './stats.js';
import type { SyncResult } from './sync.js';

export interface ChartInput {
  title: string;
  /** One or two lines under the title: the machine and the run. */
  subtitle: readonly string[];
  sync: SyncResult;
  async: AsyncResult;
  oneway: OnewayResult;
}

/** One bar of a group: a side's figures in one mode; undefined where the side has no such mode. */
interface Bar {
  p50Ms: number;
  p99Ms: number;
  throughput: Spread;
}

export interface ModeGroup {
  label: string;
  bars: Record<Side, Bar | undefined>;
}

export const COLORS: Record<Side, string> = { raw: '#7f7f7f', official: '#1f77b4', lean: '#e8710a' };
export const SIDE_NAMES: Record<Side, string> = {
  raw: 'raw official client',
  official: 'ours, official transport',
  lean: 'ours, lean transport',
};

const WIDTH = 960;
const PANEL_HEIGHT = 260;
const LEFT = 70;
const RIGHT = 20;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The groups the chart draws, in order; oneway latency is call → acknowledgement. */
export function modeGroups(input: ChartInput): ModeGroup[] {
  const { sync, async, oneway } = input;
  const fromScenario = (scenario: SyncResult['sequential']) =>
    Object.fromEntries(
      SIDES.map((side) => [
        side,
        {
          p50Ms: scenario[side].p50Ms.median,
          p99Ms: scenario[side].p99Ms.median,
          throughput: scenario[side].msgsPerSec,
        },
      ]),
    ) as Record<Side, Bar>;
  const onewayBar = (side: 'official' | 'lean'): Bar => ({
    p50Ms: oneway[side].ackP50Ms.median,
    p99Ms: oneway[side].ackP99Ms.median,
    throughput: oneway[side].deliveredPerSec,
  });
  return [
    { label: 'sync sequential', bars: fromScenario(sync.sequential) },
    { label: `sync ${sync.concurrency} concurrent`, bars: fromScenario(sync.concurrent) },
    {
      label: `async ${async.messagesPerRound.toLocaleString('en-US')} at once`,
      bars: fromScenario(async.unbounded),
    },
    { label: `async window ${async.window}`, bars: fromScenario(async.windowed) },
    {
      label: 'oneway (delivered)',
      bars: { raw: undefined, official: onewayBar('official'), lean: onewayBar('lean') },
    },
  ];
}

/** A "nice" upper bound for a linear axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function formatNumber(value: number): string {
  if (value >= 1000) return `${round1(value / 1000)}k`;
  if (value >= 10) return String(Math.round(value));
  if (value >= 1) return String(round1(value));
  return String(Math.round(value * 100) / 100);
}

interface Panel {
  top: number;
  height: number;
  groups: ModeGroup[];
}

function groupLayout(panel: Panel, index: number) {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const groupWidth = plotWidth / panel.groups.length;
  const barWidth = (groupWidth * 0.7) / SIDES.length;
  const x0 = LEFT + index * groupWidth + groupWidth * 0.15;
  return { groupWidth, barWidth, x0 };
}

function axisLabels(panel: Panel, ticks: { value: number; y: number }[], unit: string): string[] {
  const out: string[] = [];
  for (const tick of ticks) {
    const y = round1(tick.y);
    out.push(
      `<line x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}" stroke="#ddd" stroke-width="1"/>`,
      `<text x="${LEFT - 6}" y="${y + 4}" text-anchor="end" font-size="11">${formatNumber(tick.value)}</text>`,
    );
  }
  out.push(
    `<text x="14" y="${round1(panel.top + panel.height / 2)}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${round1(panel.top + panel.height / 2)})">${escapeXml(unit)}</text>`,
  );
  return out;
}

function groupLabels(panel: Panel): string[] {
  return panel.groups.map((group, index) => {
    const { groupWidth } = groupLayout(panel, index);
    const x = round1(LEFT + index * groupWidth + groupWidth / 2);
    return `<text x="${x}" y="${panel.top + panel.height + 16}" text-anchor="middle" font-size="12">${escapeXml(group.label)}</text>`;
  });
}

/** Latency panel: a solid bar to p50 and a pale bar on to p99, on a log axis. */
function latencyPanel(panel: Panel): string[] {
  const values = panel.groups.flatMap((g) =>
    SIDES.flatMap((side) => {
      const bar = g.bars[side];
      return bar ? [bar.p50Ms, bar.p99Ms] : [];
    }),
  );
  const positive = values.filter((v) => v > 0);
  const low = 10 ** Math.floor(Math.log10(Math.min(...positive, 1)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...positive, 1) * 1.0001));
  const bottom = panel.top + panel.height;
  const y = (v: number) =>
    bottom - ((Math.log10(Math.max(v, low)) - Math.log10(low)) / Math.log10(high / low)) * panel.height;
  const ticks: { value: number; y: number }[] = [];
  for (let v = low; v <= high * 1.0001; v *= 10) ticks.push({ value: v, y: y(v) });
  const out = axisLabels(panel, ticks, 'send latency, ms (log)');
  panel.groups.forEach((group, index) => {
    const { barWidth, x0 } = groupLayout(panel, index);
    SIDES.forEach((side, i) => {
      const bar = group.bars[side];
      const x = round1(x0 + i * barWidth);
      const w = round1(barWidth * 0.9);
      if (!bar) {
        out.push(
          `<text x="${round1(x + w / 2)}" y="${bottom - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`,
        );
        return;
      }
      const y50 = round1(y(bar.p50Ms));
      const y99 = round1(y(bar.p99Ms));
      out.push(
        `<rect class="p99 ${side}" x="${x}" y="${y99}" width="${w}" height="${round1(bottom - y99)}" fill="${COLORS[side]}" fill-opacity="0.3"><title>${escapeXml(`${group.label}, ${SIDE_NAMES[side]}: p99 ${bar.p99Ms} ms`)}</title></rect>`,
        `<rect class="p50 ${side}" x="${x}" y="${y50}" width="${w}" height="${round1(bottom - y50)}" fill="${COLORS[side]}"><title>${escapeXml(`${group.label}, ${SIDE_NAMES[side]}: p50 ${bar.p50Ms} ms`)}</title></rect>`,
      );
    });
  });
  out.push(...groupLabels(panel));
  return out;
}

/** Throughput panel: the median as a bar, the rounds' min–max as a whisker, on a linear axis. */
function throughputPanel(panel: Panel): string[] {
  const max = Math.max(
    ...panel.groups.flatMap((g) =>
      SIDES.flatMap((side) => (g.bars[side] ? [g.bars[side].throughput.max] : [])),
    ),
  );
  const ceiling = niceCeiling(max);
  const bottom = panel.top + panel.height;
  const y = (v: number) => bottom - (v / ceiling) * panel.height;
  // 1, 2 or 5 × 10^k split into 5, 4 or 5 steps: every tick a round number.
  const steps = Math.round(ceiling / 10 ** Math.floor(Math.log10(ceiling))) === 2 ? 4 : 5;
  const ticks = Array.from({ length: steps + 1 }, (_, i) => (ceiling * i) / steps).map((value) => ({
    value,
    y: y(value),
  }));
  const out = axisLabels(panel, ticks, 'throughput, msg/s');
  panel.groups.forEach((group, index) => {
    const { barWidth, x0 } = groupLayout(panel, index);
    SIDES.forEach((side, i) => {
      const bar = group.bars[side];
      const x = round1(x0 + i * barWidth);
      const w = round1(barWidth * 0.9);
      if (!bar) {
        out.push(
          `<text x="${round1(x + w / 2)}" y="${bottom - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`,
        );
        return;
      }
      const t = bar.throughput;
      const top = round1(y(t.median));
      const cx = round1(x + w / 2);
      out.push(
        `<rect class="throughput ${side}" x="${x}" y="${top}" width="${w}" height="${round1(bottom - top)}" fill="${COLORS[side]}"><title>${escapeXml(`${group.label}, ${SIDE_NAMES[side]}: ${Math.round(t.median)} msg/s (${Math.round(t.min)}–${Math.round(t.max)})`)}</title></rect>`,
        `<line class="range" x1="${cx}" y1="${round1(y(t.min))}" x2="${cx}" y2="${round1(y(t.max))}" stroke="#222" stroke-width="1.5"/>`,
        `<text x="${cx}" y="${round1(y(t.max) - 4)}" text-anchor="middle" font-size="9">${formatNumber(t.median)}</text>`,
      );
    });
  });
  out.push(...groupLabels(panel));
  return out;
}

export function renderChart(input: ChartInput): string {
  const groups = modeGroups(input);
  const latency: Panel = { top: 90, height: PANEL_HEIGHT, groups };
  const throughput: Panel = { top: latency.top + PANEL_HEIGHT + 60, height: PANEL_HEIGHT, groups };
  const height = throughput.top + PANEL_HEIGHT + 60;
  const legend = SIDES.map((side, i) => {
    const x = LEFT + i * 230;
    return `<rect x="${x}" y="${height - 26}" width="14" height="14" fill="${COLORS[side]}"/><text x="${x + 20}" y="${height - 14}" font-size="12">${escapeXml(SIDE_NAMES[side])}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${escapeXml(input.title)}</text>`,
    ...input.subtitle
      .slice(0, 2)
      .map(
        (line, i) =>
          `<text x="${LEFT}" y="${42 + i * 15}" font-size="12" fill="#444">${escapeXml(line)}</text>`,
      ),
    `<text x="${LEFT}" y="${latency.top - 8}" font-size="12" fill="#444">${escapeXml('Send latency: solid to p50, pale to p99 (median of the rounds); oneway: call → acknowledgement')}</text>`,
    ...latencyPanel(latency),
    `<text x="${LEFT}" y="${throughput.top - 8}" font-size="12" fill="#444">${escapeXml('Throughput: median of the rounds, whisker min–max; oneway counts acknowledged messages only')}</text>`,
    ...throughputPanel(throughput),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
