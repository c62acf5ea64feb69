import { vi } from 'vitest';

/**
 * Setup of the `unit` project: a unit test runs on fakes in its own process. Starting the embedded
 * broker or a child process there fails the test with this message, so such a test is moved to the
 * integration or e2e layer instead of slowing `npm run test:unit` down.
 */
function refuse(what: string): never {
  throw new Error(`${what} in a unit test: use a fake, or move the test out of test/unit/`);
}

vi.mock('../../infra/local-broker/index.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../infra/local-broker/index.js')>()),
  startLocalBroker: () => refuse('startLocalBroker'),
}));

vi.mock('node:child_process', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:child_process')>();
  const refused = (name: string) => () => refuse(`child_process.${name}`);
  const names = ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const;
  const stubs = Object.fromEntries(names.map((name) => [name, refused(name)]));
  return { ...original, ...stubs, default: { ...original, ...stubs } };
});
