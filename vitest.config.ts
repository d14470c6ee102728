import { defineConfig } from 'vitest/config';

// One run covers every suite; integration tests start real servers on free ports, so files run
// in forks and each test file stops every process it started. The global setup says once which
// tests a missing system tool skips (test/support/test-deps.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
