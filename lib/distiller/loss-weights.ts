/**
 * DistillationLossWeights: the three loss weights of knowledge distillation, as a frozen tuple-like value.
 *
 * Port of Distiller's `namedtuple('DistillationLossWeights', ['distill', 'student', 'teacher'])`.
 */
import { describe } from '../dtype';

const FIELDS = ['distill', 'student', 'teacher'] as const;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * The weights of the three KD loss terms, readable by name and by index 0/1/2 and iterable like Distiller's
 * namedtuple. See {@link DistillationLossWeights} for the constructor.
 *
 * @example
 * const w: DistillationLossWeights = DistillationLossWeights(0.9, 0.1);
 * w.distill === w[0]; // true
 */
export interface DistillationLossWeights extends Iterable<number> {
  /** Weight of the student-vs-teacher soft-target (distillation) loss. */
  readonly distill: number;
  /** Weight of the student-vs-labels loss. */
  readonly student: number;
  /** Weight of the teacher-vs-labels loss (torchkd supports > 0; Distiller raised NotImplementedError). */
  readonly teacher: number;
  /** `distill`. */
  readonly 0: number;
  /** `student`. */
  readonly 1: number;
  /** `teacher`. */
  readonly 2: number;
  /** Always 3, like `len()` of the tuple. */
  readonly length: 3;
  /** The namedtuple's repr: `DistillationLossWeights(distill=0.5, student=0.5, teacher=0)`. */
  toString(): string;
  /** `{distill, student, teacher}` (the namedtuple's `_asdict()`); also what JSON.stringify writes. */
  asDict(): { distill: number; student: number; teacher: number };
  /** A copy with some weights replaced (the namedtuple's `_replace()`), validated like the constructor. */
  replace(changes: { distill?: number; student?: number; teacher?: number }): DistillationLossWeights;
  /** True when `other` holds the same three weights (tuple equality). */
  equals(other: unknown): boolean;
  /** Same as {@link DistillationLossWeights.asDict}. */
  toJSON(): { distill: number; student: number; teacher: number };
}

/**
 * The constructor's type: callable with or without `new`, like calling Distiller's namedtuple class.
 *
 * @example
 * const make: DistillationLossWeightsConstructor = DistillationLossWeights;
 * make(0.5, 0.5, 0).equals(new make()); // true
 */
export interface DistillationLossWeightsConstructor {
  new (distill?: number, student?: number, teacher?: number): DistillationLossWeights;
  (distill?: number, student?: number, teacher?: number): DistillationLossWeights;
  readonly prototype: DistillationLossWeights;
  /** The field names in order (the namedtuple's `_fields`). */
  readonly fields: readonly ['distill', 'student', 'teacher'];
}

function weight(v: unknown, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`DistillationLossWeights: expected a number for ${name} but received ${describe(v)}`);
  if (!Number.isFinite(v) || v < 0) {
    throw new RangeError(`DistillationLossWeights: ${name} must be a finite number >= 0 but is ${v}`);
  }
  return v;
}

/**
 * The weights of the distillation, student and teacher losses: `DistillationLossWeights(distill = 0.5,
 * student = 0.5, teacher = 0)`. A frozen value read by name or index, iterable and printable like Distiller's
 * namedtuple; callable with or without `new`. Unlike the namedtuple it validates: a non-number is a `TypeError`, a
 * negative or non-finite weight a `RangeError`.
 *
 * @example
 * const w = DistillationLossWeights(0.7, 0.3, 0);
 * const [distill, student, teacher] = w; // w.distill === w[0] === 0.7
 */
export const DistillationLossWeights = function DistillationLossWeights(
  this: unknown,
  distill: number = 0.5,
  student: number = 0.5,
  teacher: number = 0,
): DistillationLossWeights {
  const self = Object.create(DistillationLossWeights.prototype) as Record<string | number, number>;
  const values = [weight(distill, 'distill'), weight(student, 'student'), weight(teacher, 'teacher')];
  FIELDS.forEach((f, i) => {
    self[f] = values[i];
    self[i] = values[i];
  });
  Object.defineProperty(self, 'length', { value: 3, enumerable: false });
  return Object.freeze(self) as unknown as DistillationLossWeights;
} as unknown as DistillationLossWeightsConstructor;

Object.defineProperty(DistillationLossWeights, 'fields', { value: Object.freeze([...FIELDS]), enumerable: true });

const proto = {
  *[Symbol.iterator](this: DistillationLossWeights): IterableIterator<number> {
    yield this.distill;
    yield this.student;
    yield this.teacher;
  },
  toString(this: DistillationLossWeights): string {
    return `DistillationLossWeights(distill=${this.distill}, student=${this.student}, teacher=${this.teacher})`;
  },
  [INSPECT](this: DistillationLossWeights): string {
    return this.toString();
  },
  asDict(this: DistillationLossWeights): { distill: number; student: number; teacher: number } {
    return { distill: this.distill, student: this.student, teacher: this.teacher };
  },
  toJSON(this: DistillationLossWeights): { distill: number; student: number; teacher: number } {
    return this.asDict();
  },
  replace(this: DistillationLossWeights, changes: { distill?: number; student?: number; teacher?: number }): DistillationLossWeights {
    const c = changes ?? {};
    return DistillationLossWeights(c.distill ?? this.distill, c.student ?? this.student, c.teacher ?? this.teacher);
  },
  equals(this: DistillationLossWeights, other: unknown): boolean {
    return other instanceof DistillationLossWeights
      && other.distill === this.distill && other.student === this.student && other.teacher === this.teacher;
  },
};
for (const key of Reflect.ownKeys(proto)) {
  Object.defineProperty(DistillationLossWeights.prototype, key, {
    value: (proto as Record<string | symbol, unknown>)[key],
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
Object.defineProperty(DistillationLossWeights.prototype, Symbol.toStringTag, { value: 'DistillationLossWeights' });
