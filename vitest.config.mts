import { defineConfig } from 'vitest/config';

// Two projects, both run by `npm test` (`vitest run`), the heavy one after the other:
//   unit   the library against PyTorch (seconds to a few minutes);                      npm run test:unit
//   heavy  integration through npm and compilers: pack and install into fresh projects (PyTorch provisioning,
//          prebuilt and source-build paths), the CUDA-flavour build, `npm run build` (tens of minutes); npm run test:heavy
// Native addons are happiest in forked processes (no worker threads sharing one libtorch), one file at a time on
// small machines; --expose-gc lets the lifetime tests drive the garbage collector.
const HEAVY = ['test/08-*.test.ts', 'test/09-*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    execArgv: ['--expose-gc'],
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // dist/ rebuilt when older than lib/: child-process tests run dist/, in-process ones lib/ (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: HEAVY, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'heavy', include: HEAVY, testTimeout: 1_800_000, hookTimeout: 1_800_000, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
