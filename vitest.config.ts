import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Apollo's packages require graphql's CommonJS build; Vite would otherwise load our imports from
  // its ESM build, and graphql refuses types from "another module or realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers on free ports; files run in parallel workers.
    pool: 'forks',
    reporters: process.env.CI === 'true' ? ['default', 'json'] : ['default'],
    outputFile: { json: '.vitest-report.json' },
  },
});
