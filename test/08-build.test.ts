/**
 * `npm run build` is the incremental development build (heavy project): no npm pre-hook runs the release script
 * (a script named `prebuild` would run before every build), and with nothing changed a second run takes seconds.
 * (The fresh-clone timing is a documented check in docs/development.md.)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('npm scripts', () => {
  it('no npm pre/post hook runs the release build, and `build` has no hooks at all', () => {
    expect(scripts.prebuild).toBeUndefined();
    expect(scripts.postbuild).toBeUndefined();
    for (const [name, command] of Object.entries(scripts)) {
      const hookOf = /^(pre|post)(.+)$/.exec(name)?.[2];
      if (hookOf && scripts[hookOf] !== undefined) expect(command, name).not.toMatch(/release-prebuilds|prebuildify/);
    }
    expect(scripts['release:prebuilds']).toBe('node scripts/release-prebuilds.js');
    expect(scripts.build).toBe('node scripts/setup.js --build');
  });

  it('`npm run build` twice: the second run, with nothing changed, takes seconds and builds nothing', () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^npm_/.test(k)) delete env[k];
    const run = () => {
      const t0 = Date.now();
      const r = spawnSync('npm', ['run', 'build', '--', '--no-data'], { cwd: ROOT, env, encoding: 'utf8' });
      return { ...r, seconds: (Date.now() - t0) / 1000 };
    };
    const first = run();
    expect(first.status, first.stderr.slice(-3000)).toBe(0);
    const second = run();
    expect(second.status, second.stderr.slice(-3000)).toBe(0);
    console.log(`npm run build: ${first.seconds.toFixed(1)} s, then ${second.seconds.toFixed(1)} s`);
    expect(second.stderr).not.toMatch(/node-gyp|build-ts|tsc/);
    expect(second.seconds).toBeLessThan(20);
  }, 1_800_000);
});
