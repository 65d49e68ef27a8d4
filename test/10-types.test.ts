/**
 * The published typings, as a strict TypeScript user meets them: test/types/*.ts and every TypeScript block of the
 * README and of the guides it links (docs/distillation.md, docs/distributed.md) are compiled with `tsc --strict`
 * against dist/*.d.ts (what `npm install torchkd` ships, internal members stripped), resolving `torchkd` like an
 * installed package; then those blocks and test/types/default-import.ts run (a block whose first line is `// not run`
 * is only compiled).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-types-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

// A project folder where `torchkd` resolves to this checkout, as an installed dependency does.
fs.mkdirSync(path.join(work, 'node_modules'));
fs.symlinkSync(ROOT, path.join(work, 'node_modules', 'torchkd'), 'dir');

function tsconfig(files: string[]): string {
  const file = path.join(work, `tsconfig-${files.length}-${Date.now()}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node',
        esModuleInterop: true,
        lib: ['ES2022', 'ESNext.Disposable'],
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      files,
    }),
  );
  return file;
}

function compile(files: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [TSC, '-p', tsconfig(files)], { cwd: work, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Transpiles a TS file to CommonJS next to it and runs it with node from the project folder. */
function run(file: string): { status: number | null; output: string } {
  const js = file.replace(/\.ts$/, '.js');
  const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
  fs.writeFileSync(js, out);
  const r = spawnSync(process.execPath, [js], { cwd: path.dirname(file), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The user documents whose ```ts blocks are compiled and run: the README and the guides it links to. */
const DOCS = ['README.md', 'docs/distillation.md', 'docs/distributed.md'];

/** The ```ts blocks of one document, in order. */
export function readmeBlocks(doc = 'README.md'): string[] {
  const text = fs.readFileSync(path.join(ROOT, doc), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

describe('typings (dist/*.d.ts, tsc --strict)', () => {
  it('test/types/*.ts type-check as a user project', () => {
    const files = fs.readdirSync(path.join(ROOT, 'test', 'types')).filter((f) => f.endsWith('.ts'));
    const copies = files.map((f) => {
      const dst = path.join(work, f);
      fs.copyFileSync(path.join(ROOT, 'test', 'types', f), dst);
      return dst;
    });
    const r = compile(copies);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it("`import torch from 'torchkd'` works in a CommonJS TypeScript project", () => {
    const file = path.join(work, 'default-import-run.ts');
    fs.copyFileSync(path.join(ROOT, 'test', 'types', 'default-import.ts'), file);
    const r = run(file);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});

describe.each(DOCS)('TypeScript blocks of %s', (doc) => {
  const blocks = readmeBlocks(doc);
  const slug = doc.replace(/[^A-Za-z0-9]+/g, '-');
  it('the document has TypeScript blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(doc === 'README.md' ? 3 : 1);
  });

  it('every block type-checks with tsc --strict', () => {
    const files = blocks.map((b, i) => {
      const f = path.join(work, slug, `block-${i}.ts`);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      // Each block is its own module.
      fs.writeFileSync(f, `${b}\nexport {};\n`);
      return f;
    });
    const r = compile(files);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  blocks.forEach((b, i) => {
    const runnable = !b.startsWith('// not run');
    it.skipIf(!runnable)(`block ${i} runs (${b.split('\n')[0].slice(0, 60)})`, () => {
      const dir = path.join(work, `${slug}-run`, String(i));
      fs.mkdirSync(dir, { recursive: true });
      const f = path.join(dir, 'main.ts');
      fs.writeFileSync(f, `${b}\nexport {};\n`);
      const r = run(f);
      expect(r.status, r.output).toBe(0);
    });
  });
});
