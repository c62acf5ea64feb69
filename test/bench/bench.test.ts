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
    const files = readdirSync(outDir).sort();
    expect(files).toContain('latest.json');
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
      ]),
    );
    expect(results.meta).toMatchObject({ quick: true, node: process.version });
    expect(results.meta.cpuCount).toBeGreaterThan(0);
    expect(results.meta.cpuModel).toEqual(expect.any(String));
    expect(results.coldStart).toBeNull();
    for (const scenario of [results.sync.sequential, results.sync.concurrent]) {
      for (const side of [scenario.raw, scenario.ours]) {
        expect(Object.keys(side.msgsPerSec).sort()).toEqual(['max', 'median', 'min']);
      }
      expect(scenario.ratio).toHaveProperty('median');
    }
    expect(results.async.unbounded).toHaveProperty('vsSequentialSync');
    expect(results.oneway.default).toHaveProperty('returnP50Us');
    expect(results.oneway.default).toHaveProperty('deliveredPerSec');
    expect(results.wrappers.cases.length).toBeGreaterThan(0);
    expect(results.memory.invocations.heapUsedMiB.length).toBeGreaterThan(0);
    for (const variant of ['none', 'channels', 'otel']) {
      expect(results.instrumentation[variant]).toHaveProperty('syncRatio');
    }
    for (const target of results.targets) expect(target).toHaveProperty('goal');
  });
});
