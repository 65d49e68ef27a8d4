import { defineConfig } from 'vitest/config';

// Native addons are happiest in forked processes (no worker threads sharing one libtorch), one file at a time on
// small machines; --expose-gc lets the lifetime tests drive the garbage collector.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--expose-gc'],
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
