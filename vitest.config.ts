import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the built-in and fixture WebAssembly plugins once (content-hash cache in .cache/plugins/).
    globalSetup: ['test/plugins/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Kernel tests spawn hundreds of processes; two files at once is what 2 cores take.
    maxWorkers: 2,
  },
});
