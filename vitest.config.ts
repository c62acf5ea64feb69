import { defineConfig } from 'vitest/config';

/**
 * Two projects in one run:
 * - `lean` runs every test on the default transport (an empty `ROCKETMQ_TRANSPORT` means the default,
 *   whatever the shell exported);
 * - `official` runs again every test whose producers take the transport from the environment (producer,
 *   function, fault and edge-of-invocation tests; child processes inherit it) on the official client,
 *   with the quick fault suite.
 * Tests that name a transport themselves (test/transport/**) run once, in `lean`. test/matrix checks,
 * in both projects, that the environment really switched the transport.
 */
const PER_TRANSPORT = [
  'test/producer/**/*.test.ts',
  'test/functions/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'test/edge/**/*.test.ts',
  'test/matrix/**/*.test.ts',
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
          name: 'lean',
          include: ['test/**/*.test.ts'],
          // Library logs are JSON lines on stdout; tests that check logging build their own logger.
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT', ROCKETMQ_TRANSPORT: '' },
          provide: { transport: 'lean' },
        },
      },
      {
        extends: true,
        test: {
          name: 'official',
          include: PER_TRANSPORT,
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT', ROCKETMQ_TRANSPORT: 'official', FAULT_SUITE_SIZE: 'quick' },
          provide: { transport: 'official' },
        },
      },
    ],
  },
});
