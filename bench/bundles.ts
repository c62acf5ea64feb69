/**
 * 7. Bundle sizes from `dist/build-report.json` (written by `npm run build`), each against the bundle of
 * the official client alone for the same platform. Also makes sure the bundles exist for the cold-start
 * part: when the report or the function bundle is missing (or `--build` is given) it runs `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
const REPORT = join(DIST, 'build-report.json');
export const FC_ORDER_BUNDLE = join(DIST, 'fc', 'order-confirmation', 'index.js');

interface ReportBundle {
  platform: string;
  name: string;
  rawBytes: number;
  gzipBytes: number;
  zipBytes?: number;
}

interface BuildReport {
  bundles: ReportBundle[];
  rawClient: ReportBundle[];
}

export interface BundleRow {
  platform: string;
  name: string;
  rawBytes: number;
  gzipBytes: number;
  zipBytes: number | undefined;
  /** rawBytes / the raw client's rawBytes on the same platform (the build report's own ratio). */
  ratio: number;
  gzipRatio: number;
}

export interface BundlesResult {
  report: string;
  /** `npm run build` ran during this benchmark (and its exit code; a budget overrun exits 1). */
  builtNow: boolean;
  buildExitCode: number | undefined;
  /** Sources changed after the report was written: the sizes may be out of date. */
  stale: boolean;
  rawClient: { platform: string; rawBytes: number; gzipBytes: number }[];
  bundles: BundleRow[];
  maxRatio: number;
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function sourcesNewerThanReport(): boolean {
  if (!existsSync(REPORT)) return true;
  const reportTime = statSync(REPORT).mtimeMs;
  const sources = ['lib', 'functions', 'package-lock.json'].map((path) => join(ROOT, path));
  return sources.some((path) => existsSync(path) && newestMtime(path) > reportTime);
}

let build: { ran: boolean; exitCode: number | undefined } = { ran: false, exitCode: undefined };

/** Runs `npm run build` when the bundles are missing (or when forced); output goes to stderr. */
export function ensureBuild(force: boolean, progress: (line: string) => void): void {
  if (build.ran) return;
  if (!force && existsSync(REPORT) && existsSync(FC_ORDER_BUNDLE)) return;
  progress(force ? 'running npm run build (--build)' : 'dist/ is missing bundles: running npm run build');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  build = { ran: true, exitCode: result.status ?? undefined };
  if (!existsSync(REPORT) || !existsSync(FC_ORDER_BUNDLE)) {
    throw new Error(`npm run build exited with ${result.status} and wrote no ${REPORT}`);
  }
}

export function readBundleSizes(): BundlesResult {
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as BuildReport;
  const bundles = report.bundles.map((bundle): BundleRow => {
    const raw = report.rawClient.find((candidate) => candidate.platform === bundle.platform);
    return {
      platform: bundle.platform,
      name: bundle.name,
      rawBytes: bundle.rawBytes,
      gzipBytes: bundle.gzipBytes,
      zipBytes: bundle.zipBytes,
      ratio: raw ? round(bundle.rawBytes / raw.rawBytes, 3) : Number.NaN,
      gzipRatio: raw ? round(bundle.gzipBytes / raw.gzipBytes, 3) : Number.NaN,
    };
  });
  return {
    report: 'dist/build-report.json',
    builtNow: build.ran,
    buildExitCode: build.exitCode,
    stale: sourcesNewerThanReport(),
    rawClient: report.rawClient.map(({ platform, rawBytes, gzipBytes }) => ({
      platform,
      rawBytes,
      gzipBytes,
    })),
    bundles,
    maxRatio: Math.max(...bundles.map((bundle) => bundle.ratio)),
  };
}

/** In --quick mode nothing is built; sizes are reported only when a report is already there. */
export function bundleSizesIfPresent(): BundlesResult | undefined {
  return existsSync(REPORT) ? readBundleSizes() : undefined;
}
