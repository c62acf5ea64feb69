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

export default defineConfig({
  // The functions import the library by its package name; tsconfig.json's `paths` map each entry to its
  // source in lib/, so tests load the same modules as the dev tools that import lib/ directly.
  resolve: { tsconfigPaths: true },
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
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
