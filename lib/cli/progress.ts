/**
 * Progress output for the training CLI: a bar redrawn in place on a TTY, plain lines (every `printFreq` minibatches)
 * otherwise, so logs stay readable in CI and files.
 */
import type { ProgressFn } from './trainer';

/** Where CLI text goes (tests capture it). */
export interface Output {
  line(text: string): void;
  /** The stream a bar is drawn on, when it is a terminal. */
  tty?: NodeJS.WriteStream;
}

/** The default output: stdout. */
export function stdoutOutput(): Output {
  return { line: (t) => process.stdout.write(`${t}\n`), tty: process.stdout.isTTY ? process.stdout : undefined };
}

function fmt(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k} ${k.startsWith('Top') ? v.toFixed(2) : v.toFixed(4)}`)
    .join('  ');
}

/** A progress callback for one pass. */
export function progressBar(out: Output, label: string, printFreq: number): ProgressFn & { finish(): void } {
  const t0 = Date.now();
  let last = '';
  const fn = ((done: number, total: number, running: Record<string, number>) => {
    const secs = (Date.now() - t0) / 1000;
    if (out.tty) {
      const width = 24;
      const filled = Math.round((width * done) / total);
      const eta = done ? (secs / done) * (total - done) : 0;
      last = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${fmt(running)}  ${secs.toFixed(0)}s (eta ${eta.toFixed(0)}s)`;
      out.tty.write(`\r${last.slice(0, (out.tty.columns || 160) - 1)}\x1b[K`);
    } else if (done % printFreq === 0 || done === total) {
      out.line(`${label} [${done}/${total}] ${fmt(running)}  ${secs.toFixed(1)}s`);
    }
  }) as ProgressFn & { finish(): void };
  fn.finish = () => {
    if (out.tty && last) out.tty.write('\n');
  };
  return fn;
}
