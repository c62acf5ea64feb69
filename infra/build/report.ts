import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { BuildPlatform } from './targets.js';

/** Sizes of the built bundles, the budget they are held to, and how they compare with the raw client. */

export interface BundleSizes {
  rawBytes: number;
  gzipBytes: number;
  /** Size of the deployable zip; absent for bundles that are not deployed (the raw client). */
  zipBytes?: number;
}

export interface BundleRecord extends BundleSizes {
  platform: BuildPlatform;
  /** A function name, or `raw-client` for the yardstick. */
  name: string;
  file: string;
  zip?: string;
  /** How many source files went in. */
  inputs: number;
  /** Bytes each package contributed before minification, largest first (top 8). */
  largestPackages: { name: string; bytes: number }[];
}

export type Budget = Record<BuildPlatform, { rawBytes: number; gzipBytes: number; zipBytes: number }>;

export interface BuildReport {
  target: string;
  bundles: BundleRecord[];
  rawClient: BundleRecord[];
  /** rawBytes of each function bundle divided by the raw client bundle of the same platform. */
  ratios: Record<string, number>;
  budget: Budget;
  overBudget: string[];
}

export async function measure(file: string): Promise<Pick<BundleSizes, 'rawBytes' | 'gzipBytes'>> {
  const code = await readFile(file);
  return { rawBytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

const PACKAGE = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/;

/** Groups the metafile's inputs by the package they come from (our own files count as `(ours)`). */
export function largestPackages(
  inputs: Record<string, { bytes: number }>,
): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const [path, { bytes }] of Object.entries(inputs)) {
    const name = PACKAGE.exec(path.replaceAll('\\', '/'))?.[1] ?? '(ours)';
    totals.set(name, (totals.get(name) ?? 0) + bytes);
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 8);
}

export function parseBudget(value: unknown, source: string): Budget {
  const budget = value as Partial<Budget> | null;
  for (const platform of ['fc', 'aws'] as const) {
    const limits = budget?.[platform];
    for (const key of ['rawBytes', 'gzipBytes', 'zipBytes'] as const) {
      const limit = limits?.[key];
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
        throw new Error(`${source}: ${platform}.${key} must be a positive whole number of bytes`);
      }
    }
  }
  return budget as Budget;
}

/** One line per limit a bundle exceeds. */
export function overBudget(bundles: readonly BundleRecord[], budget: Budget): string[] {
  const problems: string[] = [];
  for (const bundle of bundles) {
    const limits = budget[bundle.platform];
    for (const key of ['rawBytes', 'gzipBytes', 'zipBytes'] as const) {
      const size = bundle[key];
      if (size !== undefined && size > limits[key]) {
        problems.push(
          `${bundle.platform}/${bundle.name}: ${key} ${size.toLocaleString('en-US')} > budget ${limits[key].toLocaleString('en-US')}`,
        );
      }
    }
  }
  return problems;
}

export function ratios(
  bundles: readonly BundleRecord[],
  rawClient: readonly BundleRecord[],
): Record<string, number> {
  const result: Record<string, number> = {};
  for (const bundle of bundles) {
    const baseline = rawClient.find((raw) => raw.platform === bundle.platform);
    if (baseline)
      result[`${bundle.platform}/${bundle.name}`] =
        Math.round((bundle.rawBytes / baseline.rawBytes) * 100) / 100;
  }
  return result;
}

function kib(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The table `npm run build` prints. */
export function sizeTable(report: BuildReport): string {
  const header = ['platform', 'bundle', 'raw', 'gzip', 'zip', 'vs raw client'];
  const rows = [...report.bundles, ...report.rawClient].map((bundle) => [
    bundle.platform,
    bundle.name,
    kib(bundle.rawBytes),
    kib(bundle.gzipBytes),
    kib(bundle.zipBytes),
    bundle.name === 'raw-client'
      ? '1.00'
      : (report.ratios[`${bundle.platform}/${bundle.name}`]?.toFixed(2) ?? '-'),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}
