import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'shared/**/*.test.ts',
      'functions/**/*.test.ts',
      'local-host/**/*.test.ts',
      'infra/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    // The CLI is tested as a process too: build dist/aegis.mjs from the sources under test first.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    coverage: {
      provider: 'v8',
      include: ['shared/**/*.ts', 'functions/**/*.ts', 'local-host/**/*.ts'],
      exclude: ['**/*.test.ts', '**/*.fixture.ts', 'local-host/main.ts', 'local-host/dashboard/**'],
      reporter: ['text-summary', 'text', 'json-summary'],
      thresholds: { lines: 85 },
    },
  },
});
