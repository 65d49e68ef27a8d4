/**
 * One source of truth for what the tests run. In-process tests import lib/ through vitest; child-process tests (the
 * CLI, the bad-input children, the README blocks) run dist/. When any input of the TypeScript build is newer than
 * dist/, dist/ is rebuilt here first (`npm run build:ts`), so that a bare `npx vitest run` after an edit tests one
 * version of the code. (The native addon is one file both load, so it cannot differ between the two.)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

/** The newest modification time of the TypeScript sources under `dir` (what tsconfig.build.json compiles), or 0. */
function newest(dir: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Whether dist/ is missing or older than one of its inputs. */
export function distIsStale(): boolean {
  const built = path.join(ROOT, 'dist', 'index.js');
  if (!fs.existsSync(built)) return true;
  const inputs = [
    newest(path.join(ROOT, 'lib')),
    ...['tsconfig.json', 'tsconfig.build.json', 'scripts/build-ts.js', 'scripts/make-esm.js']
      .map((f) => path.join(ROOT, f))
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.statSync(f).mtimeMs),
  ];
  return Math.max(...inputs) > fs.statSync(built).mtimeMs;
}

export default function setup(): void {
  if (!distIsStale()) return;
  process.stdout.write('dist/ is older than lib/: rebuilding it (npm run build:ts) so that child-process tests run the same code\n');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-ts.js')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build:ts failed: the tests would run a stale dist/');
}
