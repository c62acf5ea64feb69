import { defineConfig } from 'vitest/config';

/**
 * The tests in three layers, one project each, plus one project that runs the transport-sensitive tests
 * again on the official client:
 * - `unit` (test/unit/**): fakes and fake timers, no broker, no child process; seconds in all
 *   (`npm run test:unit`). test/support/unit-guard.ts refuses to start a broker or a process there.
 * - `integration`: the library against the embedded broker over real gRPC, in the test's process.
 * - `e2e`: through the CLIs, the bundles and child processes (npm run invoke / new / build / bench, the
 *   dev server, edge-of-invocation and fault children).
 * - `official`: what depends on the transport (producer modes, reliability and broker-down, the function
 *   handlers that send, edge of invocation, faults, the matrix check) with ROCKETMQ_TRANSPORT=official;
 *   child processes inherit it. What does not depend on it (CLI usage, dev server routes, deploy
 *   checks, broker behaviour, sample events) runs once.
 * `unit`, `integration` and `e2e` run on the default transport: an empty `ROCKETMQ_TRANSPORT` means the
 * default, whatever the shell exported. Tests that name a transport themselves (test/transport/**) run
 * once. test/matrix checks, in both transports, that the environment really switched it.
 */
const UNIT = ['test/unit/**/*.test.ts'];

const E2E = [
  'test/bench/**/*.test.ts',
  'test/deploy/**/*.test.ts',
  'test/edge/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'test/broker/cli.test.ts',
  'test/console/**/*.test.ts',
  'test/broker/push-consumer.test.ts',
  'test/consumer/invoke.test.ts',
  'test/consumer/workflow.test.ts',
  'test/functions/dev-server*.test.ts',
  'test/functions/invoke*.test.ts',
  'test/spool/redeliver-processes.test.ts',
];

const OFFICIAL = [
  'test/producer/**/*.test.ts',
  'test/edge/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'test/matrix/**/*.test.ts',
  // The function handlers that send, in the test's process and through `npm run invoke`.
  'test/functions/fanout-*.test.ts',
  'test/functions/invoke.test.ts',
  'test/functions/log-shipping.test.ts',
  'test/functions/platform-deadlines.test.ts',
  'test/functions/spool-redeliver.test.ts',
];

/**
 * s3rver, the local S3 server that the spool tests start, finishes some of its own file work (an
 * object's checksum file) after it has answered. When a test's spool deletes that object right away,
 * the server's late read fails with ENOENT outside any request, as an uncaught error in the test's
 * process. That race is the test server's, not the code under test's; every other unhandled error
 * still fails the run.
 */
function isLocalS3ServerRace(error: Error & { code?: unknown; path?: unknown }): boolean {
  return (
    error.code === 'ENOENT' &&
    typeof error.path === 'string' &&
    /\/(s3rver|rocketmq-local-s3)-/.test(error.path)
  );
}

// Library logs are JSON lines on stdout; tests that check logging build their own logger.
const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT' };

export default defineConfig({
  // The functions import the library by its package name; tsconfig.json's `paths` map each entry to its
  // source in lib/, so tests load the same modules as the dev tools that import lib/ directly.
  resolve: { tsconfigPaths: true },
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    onUnhandledError: (error) => !isLocalS3ServerRace(error as Error & { code?: unknown; path?: unknown }),
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT,
          setupFiles: ['./test/support/unit-guard.ts'],
          env: { ...QUIET, ROCKETMQ_TRANSPORT: '' },
          provide: { transport: 'lean' },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...UNIT, ...E2E],
          env: { ...QUIET, ROCKETMQ_TRANSPORT: '' },
          provide: { transport: 'lean' },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: E2E,
          env: { ...QUIET, ROCKETMQ_TRANSPORT: '' },
          provide: { transport: 'lean' },
        },
      },
      {
        extends: true,
        test: {
          name: 'official',
          include: OFFICIAL,
          env: { ...QUIET, ROCKETMQ_TRANSPORT: 'official', FAULT_SUITE_SIZE: 'quick' },
          provide: { transport: 'official' },
        },
      },
    ],
  },
});
