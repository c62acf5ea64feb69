import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = join(import.meta.dirname, '..', '..', '..');
// By path, so the child may run in a folder with no node_modules (tsx's only entry is its ESM loader).
const TSX_LOADER = pathToFileURL(createRequire(join(ROOT, 'package.json')).resolve('tsx')).href;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript CLI of the repo in a child process with exactly `env` (plus PATH and HOME), so a test
 * controls every variable the CLI sees. Never blocks the event loop: an in-process broker or stub keeps
 * answering while the child runs.
 */
export function runTs(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; timeoutMs?: number; preload?: string[] } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        TSX_LOADER,
        ...(options.preload ?? []).flatMap((file) => ['--import', pathToFileURL(join(ROOT, file)).href]),
        join(ROOT, script),
        ...args,
      ],
      {
        cwd: options.cwd ?? process.cwd(),
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (error.killed ? -1 : typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
