// @ts-check
/**
 * Mutation testing of the TypeScript layer: `npm run test:mutation` (hours on 2 cores; not part of `npm test`).
 * `npm run test:mutation -- --mutate lib/distiller/**\/*.ts` narrows it to one area. Results: docs/mutation.md.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.build.json', // lib/ only: mutants that break the library's own types are not run
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'lib/distiller/**/*.ts',
    'lib/data/**/*.ts',
    'lib/optim/**/*.ts',
    'lib/nn/**/*.ts',
    'lib/cli/train.ts',
    'lib/cli/trainer.ts',
    '!lib/**/index.ts',
  ],
  // The sandbox gets sources and tests; the addon and the PyTorch oracle are used from the checkout (the npm script
  // sets TORCHKD_BINARY and TORCHKD_PYTHON), so the build folders and virtual environments are not copied.
  ignorePatterns: ['/build', '/build-*', '/dist', '/prebuilds', '/.venv', '/.venv-*', '/runs', '/reports', '/docs', '/bench', '/*.tgz', '/.gpu'],
  concurrency: 2,
  timeoutMS: 120_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
