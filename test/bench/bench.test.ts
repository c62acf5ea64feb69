import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Smoke test only: the benchmark runs and writes its file. Timings are never asserted.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const outDir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick', '--out-dir', outDir],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  it('exits 0, prints the tables and writes a results file with every part', {
    timeout: 90_000,
  }, async () => {
    const { code, stdout, stderr } = await runQuick();
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('### Targets');
    expect(stdout).toContain('client resets');
    const files = readdirSync(outDir).sort();
    expect(files).toContain('latest.json');
    expect(files).toContain('send-modes.svg');
    expect(files.some((name) => /^\d{4}-\d{2}-\d{2}\.json$/.test(name))).toBe(true);
    const results = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
    expect(Object.keys(results)).toEqual(
      expect.arrayContaining([
        'meta',
        'targets',
        'sync',
        'async',
        'oneway',
        'wrappers',
        'coldStart',
        'memory',
        'bundles',
        'freeze',
      ]),
    );
    expect(results.meta).toMatchObject({ quick: true, node: process.version });
    expect(results.meta.cpuCount).toBeGreaterThan(0);
    expect(results.meta.cpuModel).toEqual(expect.any(String));
    expect(results.coldStart).toBeNull();
    const sides = ['raw', 'official', 'lean'];
    for (const scenario of [
      results.sync.sequential,
      results.sync.concurrent,
      results.async.unbounded,
      results.async.windowed,
    ]) {
      for (const side of sides) {
        expect(Object.keys(scenario[side].msgsPerSec).sort()).toEqual(['max', 'median', 'min']);
        expect(scenario[side].failed).toEqual(expect.any(Number));
      }
      // The raw client does not count resets; our producers do.
      expect(scenario.raw.clientResets).toBeNull();
      expect(scenario.lean.clientResets).toEqual(expect.any(Number));
      for (const side of ['official', 'lean']) {
        expect(scenario.ratio[side]).toHaveProperty('median');
        expect(scenario.cpuRatio[side]).toHaveProperty('max');
      }
    }
    for (const side of sides) expect(results.async.unbounded.vsSequentialSync[side]).toHaveProperty('min');
    for (const side of ['official', 'lean']) {
      const oneway = results.oneway[side];
      expect(oneway.calls).toBe(results.meta.options.onewayN);
      // Delivered counts acknowledged messages only; the quick burst is small enough to lose none.
      expect(oneway.sent + oneway.failed + oneway.dropped).toBe(oneway.calls);
      expect(oneway.lost).toBe(oneway.calls - oneway.storedByBroker);
      expect(oneway.deliveredPerSec.median).toBeGreaterThan(0);
      expect(oneway.ackP99Ms.median).toBeGreaterThanOrEqual(oneway.ackP50Ms.median);
    }
    expect(results.freeze.leanAttempts).toHaveLength(1);
    expect(results.wrappers.cases.length).toBeGreaterThan(0);
    expect(results.memory.invocations.heapUsedMiB.length).toBeGreaterThan(0);
    for (const variant of ['none', 'channels', 'otel']) {
      expect(results.instrumentation[variant]).toHaveProperty('syncRatio');
    }
    const svg = readFileSync(join(outDir, 'send-modes.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // One throughput bar per side and mode, except the raw client's oneway, which it does not have.
    expect(svg.match(/class="throughput /g)).toHaveLength(14);
    for (const target of results.targets) expect(target).toHaveProperty('goal');
  });
});
