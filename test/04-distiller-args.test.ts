/**
 * addDistillationArgs: `--kd-*` command lines parse exactly as Python's argparse parses them with Distiller's
 * add_distillation_args (fixture from scripts/fixtures/gen_distiller_args.py, Python's own argparse as the oracle).
 */
import { ArgumentParser } from 'argparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { addDistillationArgs, pythonTypes, type DistillationArgs } from '../lib/distiller/index';
import { expectError, fixture } from './helpers';

type Json = null | boolean | number | string;
interface Config { choices: string[] | null; pretrained: boolean }
interface ActionJson {
  kind: string; option_strings: string[]; dest: string; metavar: string | null; default: Json;
  type: string | null; choices: string[] | null; required: boolean; nargs: Json;
}
interface Case { config: string; argv: string[]; namespace: Record<string, Json> | null; error: string | null }
interface Fixture {
  columns: number;
  group_title: string;
  configs: Record<string, Config>;
  usage: Record<string, string>;
  actions: Record<string, { title: string; actions: ActionJson[] }[]>;
  cases: Case[];
}

const F = fixture<Fixture>('distiller_args');

/** Every parse error throws (Python's argparse does the same in the generator's subclass). */
class ThrowingParser extends ArgumentParser {
  override error(message: string | Error): void {
    throw new Error(typeof message === 'string' ? message : message.message);
  }
}

function make(config: Config): ThrowingParser {
  const parser = new ThrowingParser({ prog: 'train', exit_on_error: false });
  addDistillationArgs(parser, config.choices, config.pretrained);
  return parser;
}

/** A value as the generator writes it (non-finite floats and -0.0 as strings). */
function enc(v: unknown): Json {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (v === Infinity) return 'inf';
    if (v === -Infinity) return '-inf';
    if (Object.is(v, -0)) return '-0';
  }
  return v as Json;
}

/**
 * The JS argparse port's repr() leaves non-printable characters as they are, where Python's repr escapes them; this
 * applies Python's escaping to error messages so they compare (a difference in the argparse port, not in torchkd).
 */
function pythonEscapes(message: string): string {
  return message.replace(/(?! )[\p{C}\p{Z}]/gu, (ch) => {
    const cp = ch.codePointAt(0) as number;
    if (ch === '\t') return '\\t';
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
    return cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
  });
}

function parse(config: Config, argv: string[]): { namespace: Record<string, Json> | null; error: string | null } {
  try {
    const ns = make(config).parse_args(argv) as Record<string, unknown>;
    const out: Record<string, Json> = {};
    for (const k of Object.keys(ns).sort()) out[k] = enc(ns[k]);
    return { namespace: out, error: null };
  } catch (e) {
    return { namespace: null, error: pythonEscapes((e as Error).message) };
  }
}

let columns: string | undefined;
beforeAll(() => {
  columns = process.env.COLUMNS;
  process.env.COLUMNS = String(F.columns);
});
afterAll(() => {
  if (columns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = columns;
});

describe('addDistillationArgs parses --kd-* argv exactly as Python argparse does', () => {
  for (const [name, config] of Object.entries(F.configs)) {
    describe(`configuration ${name} (choices ${JSON.stringify(config.choices)}, enablePretrained ${config.pretrained})`, () => {
      const cases = F.cases.filter((c) => c.config === name);
      it.each(cases.map((c) => [JSON.stringify(c.argv), c] as const))('%s', (_label, c) => {
        const got = parse(config, c.argv);
        expect(got).toEqual({ namespace: c.namespace, error: c.error });
      });

      it('declares the same actions in the group "Knowledge Distillation Training Arguments"', () => {
        const parser = make(config) as unknown as { _action_groups: { title: string; _group_actions: Record<string, unknown>[] }[] };
        const group = parser._action_groups.find((g) => g.title === F.group_title);
        expect(group).toBeDefined();
        const expected = F.actions[name].find((g) => g.title === F.group_title);
        const actual = group!._group_actions.map((a) => ({
          kind: (a.constructor as { name: string }).name,
          option_strings: a.option_strings,
          dest: a.dest,
          metavar: enc(a.metavar),
          default: enc(a.default),
          type: a.type === undefined || a.type === null ? null : typeof a.type === 'string' ? a.type : (a.type as { name: string }).name,
          choices: a.choices === undefined ? null : a.choices,
          required: a.required,
          nargs: enc(a.nargs),
        }));
        expect({ title: group!.title, actions: actual }).toEqual(expected);
      });

      it('prints the same usage line', () => {
        expect(make(config).format_usage()).toBe(F.usage[name]);
      });
    });
  }
});

describe('addDistillationArgs API', () => {
  it('returns the group, and yields a typed DistillationArgs', () => {
    const parser = new ArgumentParser({ prog: 'train' });
    const group = addDistillationArgs(parser, ['resnet20', 'resnet56']);
    expect(group).toBeDefined();
    const args = parser.parse_args(['--kd-teacher', 'resnet56', '--kd-temp', '4']) as DistillationArgs;
    expect(args.kd_teacher).toBe('resnet56');
    expect(args.kd_temp).toBe(4);
    expect(args.kd_pretrained).toBeUndefined();
    expect(parser.format_help()).toContain('Knowledge Distillation Training Arguments');
  });

  it('rejects a parser that is not an argparse parser, and non-array choices', () => {
    const notParser = 'addDistillationArgs: expected an argparse ArgumentParser';
    for (const bad of [{}, null, undefined, 'parser', { add_argument_group: 'x' }]) {
      expectError(() => addDistillationArgs(bad as unknown as ArgumentParser), TypeError, notParser);
    }
    const badChoices = 'addDistillationArgs: archChoices must be an array of strings, null or undefined';
    expectError(() => addDistillationArgs(new ArgumentParser(), 'resnet' as unknown as string[]), TypeError, badChoices);
    expectError(() => addDistillationArgs(new ArgumentParser(), { 0: 'resnet' } as unknown as string[]), TypeError, badChoices);
  });

  it('leaves --kd-teacher unrestricted when archChoices is omitted', () => {
    const parser = new ThrowingParser({ prog: 'train', exit_on_error: false });
    addDistillationArgs(parser);
    const args = parser.parse_args(['--kd-teacher', 'anything']) as DistillationArgs;
    expect(args).toEqual({ kd_teacher: 'anything', kd_resume: '', kd_temp: 1, kd_distill_wt: 0.5, kd_student_wt: 0.5, kd_teacher_wt: 0, kd_start_epoch: 0 });
  });

  it('describes each option in --help', () => {
    const parser = new ArgumentParser({ prog: 'train', add_help: false });
    addDistillationArgs(parser, null, true);
    const help = parser.format_help().replace(/\s+/g, ' ');
    for (const [flags, text] of [
      ['--kd-teacher ARCH', 'architecture of the teacher model'],
      ['--kd-pretrained', 'start the teacher from pre-trained weights'],
      ['--kd-resume PATH', 'checkpoint holding the teacher weights'],
      ['--kd-temperature TEMP, --kd-temp TEMP', 'softmax temperature of distillation'],
      ['--kd-distill-wt WEIGHT, --kd-dw WEIGHT', 'weight of the distillation loss (student vs. teacher soft targets)'],
      ['--kd-student-wt WEIGHT, --kd-sw WEIGHT', 'weight of the student vs. labels loss'],
      ['--kd-teacher-wt WEIGHT, --kd-tw WEIGHT', 'weight of the teacher vs. labels loss'],
      ['--kd-start-epoch EPOCH_NUM', 'first epoch with distillation'],
    ]) {
      expect(help).toContain(`${flags} ${text}`);
    }
  });

  it('exposes Python float() and int() parsers', () => {
    expect(pythonTypes.float('1_0.5e1')).toBe(105);
    expect(pythonTypes.float(' -INFINITY ')).toBe(-Infinity);
    expect(Number.isNaN(pythonTypes.float('nan'))).toBe(true);
    expect(() => pythonTypes.float('')).toThrow(TypeError);
    expect(pythonTypes.int('\u0663')).toBe(3);
    expect(() => pythonTypes.int('3.0')).toThrow(TypeError);
  });

  it('raise Python’s ValueError texts for strings that are not numbers', () => {
    // Python: float('1._5') and int('x12') raise ValueError with these messages.
    expectError(() => pythonTypes.float('1._5'), TypeError, "could not convert string to float: '1._5'");
    expectError(() => pythonTypes.float('xinf'), TypeError, "could not convert string to float: 'xinf'");
    expectError(() => pythonTypes.int('x12'), TypeError, "invalid literal for int() with base 10: 'x12'");
  });
});
