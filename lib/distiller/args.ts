/**
 * Command-line arguments for knowledge distillation, for the npm `argparse` package (a port of Python's argparse).
 *
 * Port of Distiller's `add_distillation_args`; the flags, aliases, dest names, metavars, defaults and value parsing
 * are Python's, so `--kd-*` command lines parse to the same namespace as Distiller's scripts.
 */
import type { ArgumentGroup, ArgumentParser } from 'argparse';

/**
 * The parsed `--kd-*` options; keys are Python's dest names, as Distiller's scripts read them (`args.kd_temp`).
 *
 * @example
 * const args = parser.parse_args() as DistillationArgs;
 * const w = DistillationLossWeights(args.kd_distill_wt, args.kd_student_wt, args.kd_teacher_wt);
 */
export interface DistillationArgs {
  /** `--kd-teacher ARCH`: the teacher's architecture; null when not given. */
  kd_teacher: string | null;
  /** `--kd-pretrained`: use a pre-trained teacher (present only when `enablePretrained` was true). */
  kd_pretrained?: boolean;
  /** `--kd-resume PATH`: checkpoint to load the teacher's weights from; '' when not given. */
  kd_resume: string;
  /** `--kd-temperature/--kd-temp TEMP`: softmax temperature (default 1.0). */
  kd_temp: number;
  /** `--kd-distill-wt/--kd-dw WEIGHT`: weight of the distillation loss (default 0.5). */
  kd_distill_wt: number;
  /** `--kd-student-wt/--kd-sw WEIGHT`: weight of the student-vs-labels loss (default 0.5). */
  kd_student_wt: number;
  /** `--kd-teacher-wt/--kd-tw WEIGHT`: weight of the teacher-vs-labels loss (default 0.0). */
  kd_teacher_wt: number;
  /** `--kd-start-epoch EPOCH_NUM`: first epoch with distillation (default 0). */
  kd_start_epoch: number;
}

// Python's str.isspace() set, which float() and int() strip (JS's trim() differs: it strips U+FEFF, keeps U+001C-1F
// and U+0085).
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');
const DIGIT_RUN = /\p{Nd}/u;
const FLOAT_RE = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const NONFINITE_RE = /^([+-]?)(inf|infinity|nan)$/i;
const INT_RE = /^[+-]?\d(?:_?\d)*$/;

/** Python's view of a numeric string: stripped, with every Unicode decimal digit turned into its ASCII digit. */
function pythonNumeric(s: string): string {
  let out = '';
  for (const ch of s.replace(STRIP, '')) {
    const cp = ch.codePointAt(0) as number;
    if (cp > 0x7f && DIGIT_RUN.test(ch)) {
      // Unicode Nd digits come in runs of ten, 0 to 9; find where this run starts.
      let start = cp;
      while (DIGIT_RUN.test(String.fromCodePoint(start - 1))) start--;
      out += String((cp - start) % 10);
    } else out += ch;
  }
  return out;
}

/**
 * Parses a string exactly as Python's `float()` does (named `float` so argparse reports
 * "invalid float value: 'x'", as Python's argparse does): surrounding whitespace, '_' between digits, 'inf',
 * 'infinity' and 'nan' in any case are accepted; '', '0x10' or '1e' are not.
 */
function float(s: string): number {
  const t = pythonNumeric(String(s));
  const nf = NONFINITE_RE.exec(t);
  if (nf) return nf[2].toLowerCase() === 'nan' ? NaN : nf[1] === '-' ? -Infinity : Infinity;
  if (!FLOAT_RE.test(t)) throw new TypeError(`could not convert string to float: '${s}'`);
  return Number(t.replace(/_/g, ''));
}

/**
 * Parses a string exactly as Python's `int()` does (base 10): whitespace, sign, leading zeros and '_' between digits
 * are accepted; '1.0', '1e3' and '0x10' are not. Values beyond 2^53 lose precision (Python's ints do not).
 */
function int(s: string): number {
  const t = pythonNumeric(String(s));
  if (!INT_RE.test(t)) throw new TypeError(`invalid literal for int() with base 10: '${s}'`);
  const n = Number(t.replace(/_/g, ''));
  return Object.is(n, -0) ? 0 : n;
}

/**
 * Python's `float()` and `int()` as argparse `type:` functions, so other options parse as in Python too (the
 * argparse package's own 'float'/'int' use JS `Number()`, which accepts '' and '0x10' and rejects 'inf').
 *
 * @example
 * parser.add_argument('--lr', { type: pythonTypes.float, default: 0.1 });
 * pythonTypes.int('1_000'); // 1000
 */
export const pythonTypes = Object.freeze({ float, int });

/**
 * Adds Distiller's knowledge-distillation options to an argparse parser, in a group titled "Knowledge Distillation
 * Training Arguments": `--kd-teacher ARCH` (restricted to `archChoices` when given), `--kd-pretrained` (only when
 * `enablePretrained`), `--kd-resume PATH`, `--kd-temperature/--kd-temp TEMP` → `kd_temp`, `--kd-distill-wt/--kd-dw`,
 * `--kd-student-wt/--kd-sw`, `--kd-teacher-wt/--kd-tw` (WEIGHT) and `--kd-start-epoch EPOCH_NUM`. Numbers parse as
 * Python's float()/int() would. Returns the group (Distiller returned nothing).
 *
 * @example
 * const parser = new ArgumentParser({ prog: 'train' }); addDistillationArgs(parser, ['resnet20', 'resnet56']);
 * const args = parser.parse_args(['--kd-teacher', 'resnet56', '--kd-temp', '4']) as DistillationArgs;
 */
export function addDistillationArgs(
  parser: ArgumentParser,
  archChoices?: readonly string[] | null,
  enablePretrained = false,
): ArgumentGroup {
  if (parser === null || typeof parser !== 'object' || typeof parser.add_argument_group !== 'function') {
    throw new TypeError('addDistillationArgs: expected an argparse ArgumentParser');
  }
  if (archChoices !== undefined && archChoices !== null && !Array.isArray(archChoices)) {
    throw new TypeError('addDistillationArgs: archChoices must be an array of strings, null or undefined');
  }
  const group = parser.add_argument_group({ title: 'Knowledge Distillation Training Arguments' });
  group.add_argument('--kd-teacher', {
    choices: archChoices ? [...archChoices] : undefined,
    default: null,
    metavar: 'ARCH',
    help: 'architecture of the teacher model',
  });
  if (enablePretrained) {
    group.add_argument('--kd-pretrained', { action: 'store_true', help: 'start the teacher from pre-trained weights' });
  }
  group.add_argument('--kd-resume', { type: 'str', default: '', metavar: 'PATH', help: 'checkpoint holding the teacher weights' });
  group.add_argument('--kd-temperature', '--kd-temp', {
    dest: 'kd_temp', type: float, default: 1.0, metavar: 'TEMP', help: 'softmax temperature of distillation',
  });
  group.add_argument('--kd-distill-wt', '--kd-dw', {
    type: float, default: 0.5, metavar: 'WEIGHT', help: 'weight of the distillation loss (student vs. teacher soft targets)',
  });
  group.add_argument('--kd-student-wt', '--kd-sw', {
    type: float, default: 0.5, metavar: 'WEIGHT', help: 'weight of the student vs. labels loss',
  });
  group.add_argument('--kd-teacher-wt', '--kd-tw', {
    type: float, default: 0.0, metavar: 'WEIGHT', help: 'weight of the teacher vs. labels loss',
  });
  group.add_argument('--kd-start-epoch', { type: int, default: 0, metavar: 'EPOCH_NUM', help: 'first epoch with distillation' });
  return group;
}
