import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Library logs are JSON lines on stdout; tests that check logging build their own logger.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
