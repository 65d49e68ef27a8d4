import { defineConfig } from 'vitest/config';

// The test files `npm run test:mutation` (StrykerJS, stryker.config.mjs) runs against each mutant: the in-process
// suites that exercise the mutated TypeScript (Stryker runs them in one worker thread, so only in-process code is
// seen: the child-process suites — the crash suite, the CLI run as a command — cannot detect a mutant).
// TORCHKD_MUTATION_TESTS (comma-separated globs) narrows the list for a run over one area.
const ALL = [
  'test/04-*.test.ts',
  'test/05-nn*.test.ts',
  'test/05-amp.test.ts',
  'test/05-optim-args.test.ts',
  'test/06-data.test.ts',
  'test/06-data-args.test.ts',
  'test/06-cli.test.ts',
  'test/06-resume.test.ts',
  'test/06-recipes.test.ts',
];

export default defineConfig({
  test: {
    include: process.env.TORCHKD_MUTATION_TESTS ? process.env.TORCHKD_MUTATION_TESTS.split(',') : ALL,
    // dist/ built in the sandbox (from the instrumented sources) for the few checks that run a child process.
    globalSetup: ['test/global-setup.ts'],
    // The live parity checks (each spawning Python to regenerate a fixture) are skipped: the committed fixtures,
    // from the same generators, already judge every mutant, and the Python start-ups would dominate the run.
    env: { TORCHKD_LIVE_PARITY: '0' },
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
