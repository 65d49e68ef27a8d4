/**
 * Internal: fault injection for the crash-safety tests (test/06-crash.test.ts). With `TORCHKD_FAULT=<point>:<n>` in
 * the environment, the n-th time the process reaches that point it kills itself with SIGKILL — as the OOM killer or
 * a preempted machine would — so that tests can stop a run at exact places (inside a file write, between two files,
 * at a training step). Points: `step` (after a training step), `eval` (after an evaluation batch),
 * `write:<file name>` (a file fully written to its temporary name, before the rename) and `write-half:<file name>`
 * (half of it written). Without the variable this costs one comparison.
 */
const SPEC = process.env.TORCHKD_FAULT ?? '';
const at = SPEC.lastIndexOf(':');
const POINT = at > 0 ? SPEC.slice(0, at) : '';
const NTH = at > 0 ? Number(SPEC.slice(at + 1)) : 0;
let seen = 0;

/** Marks a point a run may be killed at (see the module comment). */
export function faultPoint(point: string): void {
  if (POINT === '' || point !== POINT) return;
  seen++;
  if (seen === NTH) process.kill(process.pid, 'SIGKILL');
}

/** Whether fault injection is on (so that a writer splits its write in two around `write-half`). */
export const faultInjection = POINT !== '';
