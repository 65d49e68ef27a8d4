'use strict';
/**
 * Child process of test/03-bad-input-ops.test.ts: hundreds of bad calls into the ops of scripts/codegen/ops/*.js that
 * test/02-ops-spec.test.ts checks for parity (the compiled dist/, path in argv[2]). Every call must throw the expected
 * class (TypeError for wrong JS types, RangeError for bad values the binding checks, TorchError for what libtorch
 * rejects, with a code where one applies) with a message and no C++ backtrace, and the process must finish normally
 * (no abort, no crash). Functions dist/ lacks are not called but listed in `missing`. Each op is first called once
 * correctly ('ok:' entries), so that a throw below comes from the bad argument and not from the call itself.
 *
 * Calls that kill the process (known crashers, test/03-bad-input-ops.test.ts runs each alone) are left out here.
 */
const torch = require(process.argv[2]);
const { TorchError } = torch;
const F = torch.F;

const results = [];
const missing = new Set();

/** The function at a path such as 'F.conv1d', 'linalg.norm', 'torch.cdist' or 'Tensor.nanToNum', or undefined. */
function lookup(api) {
  const [root, name] = api.split('.');
  const base = root === 'F' ? torch.F : root === 'linalg' ? torch.linalg : root === 'Tensor' ? torch.Tensor.prototype : torch;
  return base && typeof base[name] === 'function' ? base[name] : undefined;
}

function classOf(e) {
  if (e instanceof TorchError) return 'TorchError';
  if (e instanceof TypeError) return 'TypeError';
  if (e instanceof RangeError) return 'RangeError';
  return `other:${e && e.constructor && e.constructor.name}`;
}

/** Runs fn (which calls `api`); expected is 'TypeError' | 'RangeError' | 'TorchError' | 'ok' (must not throw). */
function check(api, label, expected, fn, code) {
  const apis = Array.isArray(api) ? api : [api];
  const absent = apis.filter((a) => lookup(a) === undefined);
  if (absent.length) {
    absent.forEach((a) => missing.add(a));
    return;
  }
  let got = 'ok';
  let msg = '';
  let gotCode;
  try {
    fn();
  } catch (e) {
    got = classOf(e);
    msg = String(e && e.message);
    gotCode = e && e.code;
  }
  const ok =
    got === expected &&
    (expected === 'ok' || ((code === undefined || gotCode === code) && msg.length > 10 && !/Exception raised from|frame #\d/.test(msg)));
  results.push({ api: apis[0], label, expected, got, code: gotCode, ok, msg: msg.slice(0, 200) });
}

// ---- inputs ---------------------------------------------------------------------------------------------------------
const f = () => torch.randn(3, 4);
const g = () => torch.randn(3, 4);
const c3 = () => torch.randn(2, 3, 4);
const i64 = () => torch.tensor([[1, -2, 3, 0], [4, 5, -6, 7], [0, 1, 2, 3]]);
const idx = () => torch.tensor([[0, 1, 2, 0], [2, 0, 1, 1]]);
const src = () => torch.randn(2, 4);
const v3 = () => torch.randn(3);
const v4 = () => torch.randn(4);
const sig = () => torch.randn(2, 3, 10);
const img = () => torch.randn(1, 2, 6, 5);
const vol = () => torch.randn(1, 2, 4, 5, 4);
const prob = () => torch.rand(3, 4).mul(0.9).add(0.05);
const pm = () => torch.tensor([1, -1, 1], { dtype: 'float32' });
const emb = () => torch.randn(10, 3);
const eidx = () => torch.tensor([[1, 2], [4, 9]]);

// ---- 1. wrong JS types, table-driven --------------------------------------------------------------------------------
// Each op: a correct argument list and the kind of each position. Every position is then replaced by values of the
// wrong kind: TypeError, or RangeError for a non-integer number where an integer is expected (and for an unknown
// string of a choice). Kinds: T tensor, T? optional tensor, TS tensor or number, Ts array of tensors, I integer,
// I? optional integer, IL integer or list (int[N]), N number, N? optional number, B boolean, C:a|b string choice,
// C?:a|b optional choice, S string.
const K = {
  T: [['null', null], ['a string', 'x'], ['a number', 1.5], ['an array', [1, 2]], ['a bigint', 1n], ['a boolean', true], ['a function', () => 1], ['a symbol', Symbol('s')]],
  'T?': [['a string', 'x'], ['a number', 2], ['an array', [1]], ['a bigint', 1n], ['a boolean', false]],
  TS: [['null', null], ['a string', 'x'], ['an array', [1]], ['a bigint', 1n], ['a symbol', Symbol('s')]],
  Ts: [['null', null], ['a tensor', 'TENSOR'], ['a string', 'x'], ['an array with a string', 'ARRAY_STR'], ['an array with null', 'ARRAY_NULL']],
  I: [['null', null], ['a string', '1'], ['a boolean', true], ['a bigint', 1n], ['an object', 'OBJ'], ['1.5', 1.5, 'RangeError'], ['NaN', NaN, 'RangeError'], ['Infinity', Infinity, 'RangeError']],
  'I?': [['a string', '1'], ['a boolean', true], ['a bigint', 1n], ['0.5', 0.5, 'RangeError'], ['-Infinity', -Infinity, 'RangeError']],
  IL: [['null', null], ['a string', '2'], ['a boolean', true], ['a bigint', 2n], ['[1.5]', [1.5], 'RangeError'], ['[NaN]', [NaN], 'RangeError'], ["['2']", ['2']], ['2.5', 2.5, 'RangeError']],
  'IL?': [['a string', '2'], ['a boolean', true], ['a bigint', 2n], ['[1.5]', [1.5], 'RangeError'], ['[NaN]', [NaN], 'RangeError'], ["['2']", ['2']], ['2.5', 2.5, 'RangeError']],
  IA: [['null', null], ['a number', 2], ['a string', '2'], ['a boolean', true], ['[1.5]', [1.5], 'RangeError'], ["['2']", ['2']], ['[null]', [null]]],
  PAD: [['null', null], ['an unknown string', 'full', 'RangeError'], ['a boolean', true], ['a bigint', 1n], ['[1.5]', [1.5], 'RangeError']],
  N: [['null', null], ['a string', '0.5'], ['a boolean', true], ['a bigint', 1n], ['an array', [0.5]]],
  SC: [['null', null], ['a string', '0.5'], ['a bigint', 1n], ['an array', [0.5]], ['a symbol', Symbol('s')]],
  'SC?': [['a string', '0.5'], ['a bigint', 1n], ['an array', [0.5]]],
  'F[]?': [['a string', '0.5'], ['a boolean', true], ['a bigint', 1n], ["['0.5']", ['0.5']]],
  'B?': [['a string', 'yes'], ['a number', 1], ['a bigint', 1n]],
  TV: [['null', null], ['a string', 'x'], ['an array with a string', 'ARRAY_STR'], ['an array with null', 'ARRAY_NULL']],
  'N?': [['a string', '0.5'], ['a boolean', true], ['a bigint', 1n], ['an array', [0.5]]],
  B: [['null', null], ['a string', 'yes'], ['a number', 1], ['a bigint', 1n], ['an array', [true]]],
  S: [['null', null], ['a number', 5], ['a tensor', 'TENSOR'], ['an array', ['ij']]],
};
function badValues(kind) {
  if (kind.startsWith('C:') || kind.startsWith('C?:')) {
    const opt = kind.startsWith('C?:');
    const out = [['an unknown choice', 'bogus', 'RangeError'], ['a number', 5], ['a boolean', true], ['an upper-case choice', kind.split(':')[1].split('|')[0].toUpperCase(), 'RangeError']];
    if (!opt) out.push(['null', null]);
    return out;
  }
  return K[kind];
}
function materialise(v) {
  if (v === 'TENSOR') return f();
  if (v === 'ARRAY_STR') return [f(), 'x'];
  if (v === 'ARRAY_NULL') return [f(), null];
  if (v === 'OBJ') return { a: 1 };
  return v;
}

/** A call that passes the argument list on as it is (so a trailing options object can be appended). */
const fn = (get) => Object.assign((a) => get()(...a), { spread: true });
const method = (m) => Object.assign((a) => a[0][m](...a.slice(1)), { spread: true });
const fnT = (name) => fn(() => torch[name]);
const fnF = (name) => fn(() => F[name]);

/** [api, call(args), args(), kinds]: the call receives the argument list. */
const table = [
  // pointwise.js
  ...['exp2', 'log10', 'frac', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'erfc', 'erfinv', 'lgamma', 'digamma', 'expm1', 'log2', 'log1p', 'rsqrt', 'square', 'reciprocal', 'floor', 'ceil', 'trunc', 'sin', 'cos', 'erf', 'isnan', 'isinf', 'isfinite', 'logicalNot'].map((op) => [
    `torch.${op}`, fnT(op), () => [f()], ['T'],
  ]),
  ['torch.nanToNum', fnT('nanToNum'), () => [f(), 0, 1, -1], ['T', 'N?', 'N?', 'N?']],
  ['Tensor.round', (a) => a[0].round({ decimals: a[1] }), () => [f(), 2], ['T', 'I']],
  ...['fmod', 'remainder', 'floorDivide'].map((op) => [`torch.${op}`, fnT(op), () => [f(), g()], ['T', 'TS']]),
  ...['fmax', 'fmin', 'maximum', 'minimum', 'atan2', 'logicalXor', 'logicalAnd', 'logicalOr'].map((op) => [`torch.${op}`, fnT(op), () => [f(), g()], ['T', 'T']]),
  ['torch.lerp', fnT('lerp'), () => [f(), g(), 0.5], ['T', 'T', 'TS']],
  ['Tensor.clip', method('clip'), () => [f(), -0.5, 0.5], ['T', 'SC?', 'SC?']],
  ['Tensor.clampMin', method('clampMin'), () => [f(), 0], ['T', 'SC']],
  ['Tensor.clampMax', method('clampMax'), () => [f(), 0], ['T', 'SC']],
  ['torch.isclose', fnT('isclose'), () => [f(), g(), 1e-5, 1e-8, true], ['T', 'T', 'N', 'N', 'B']],
  ['torch.allclose', fnT('allclose'), () => [f(), g(), 1e-5, 1e-8, false], ['T', 'T', 'N', 'N', 'B']],
  // reduction.js
  ['Tensor.nansum', method('nansum'), () => [f(), 1, true], ['T', 'I?', 'B']],
  ['Tensor.nanmean', method('nanmean'), () => [f(), 0, false], ['T', 'I?', 'B']],
  ['torch.cumprod', fnT('cumprod'), () => [f(), 1], ['T', 'I']],
  ['torch.cumsum', fnT('cumsum'), () => [f(), 1], ['T', 'I']],
  ['torch.prod', fnT('prod'), () => [f(), 1, true], ['T', 'I?', 'B']],
  ['torch.amax', fnT('amax'), () => [f(), 1, true], ['T', 'IL', 'B']],
  ['torch.amin', fnT('amin'), () => [f(), 0, false], ['T', 'IL', 'B']],
  ['torch.any', fnT('any'), () => [f(), 1, true], ['T', 'I?', 'B']],
  ['torch.all', fnT('all'), () => [f(), 1, false], ['T', 'I?', 'B']],
  ['F.softmin', fnF('softmin'), () => [f(), 1], ['T', 'I']],
  // shape.js
  ['Tensor.roll', method('roll'), () => [f(), 1, 0], ['T', 'IL', 'IL']],
  ['Tensor.unflatten', method('unflatten'), () => [f(), 1, [2, 2]], ['T', 'I', 'IA']],
  ['torch.swapaxes', fnT('swapaxes'), () => [f(), 0, 1], ['T', 'I', 'I']],
  ['torch.diagonal', fnT('diagonal'), () => [f(), 0, 0, 1], ['T', 'I', 'I', 'I']],
  ['torch.diag', fnT('diag'), () => [f(), 1], ['T', 'I']],
  ['torch.hstack', fnT('hstack'), () => [[f(), g()]], ['Ts']],
  ['torch.vstack', fnT('vstack'), () => [[f(), g()]], ['Ts']],
  ['torch.concat', fnT('concat'), () => [[f(), g()], 1], ['Ts', 'I']],
  ['torch.unbind', fnT('unbind'), () => [f(), 1], ['T', 'I']],
  ['torch.movedim', fnT('movedim'), () => [c3(), 0, 2], ['T', 'IL', 'IL']],
  ['torch.tril', fnT('tril'), () => [f(), 1], ['T', 'I']],
  ['torch.triu', fnT('triu'), () => [f(), -1], ['T', 'I']],
  ['Tensor.slice', method('slice'), () => [f(), 1, 0, 3, 2], ['T', 'I', 'I?', 'I?', 'I']],
  ['Tensor.index', method('index'), () => [f(), torch.tensor([0, 2])], ['T', 'T']],
  ['Tensor.expandAs', method('expandAs'), () => [v4(), f()], ['T', 'T']],
  ['Tensor.viewAs', method('viewAs'), () => [f(), g()], ['T', 'T']],
  ['Tensor.reshapeAs', method('reshapeAs'), () => [f(), g()], ['T', 'T']],
  ['Tensor.where', method('where'), () => [f(), f().gt(0), g()], ['T', 'T', 'TS']],
  ['torch.scatter', fnT('scatter'), () => [f(), 0, idx(), src()], ['T', 'I', 'T', 'TS']],
  ['torch.scatterAdd', fnT('scatterAdd'), () => [f(), 0, idx(), src()], ['T', 'I', 'T', 'T']],
  ['torch.scatterReduce', fnT('scatterReduce'), () => [f(), 0, idx(), src(), 'amax'], ['T', 'I', 'T', 'T', 'C:sum|prod|mean|amax|amin']],
  ['torch.maskedSelect', fnT('maskedSelect'), () => [f(), f().gt(0)], ['T', 'T']],
  ['torch.nonzero', fnT('nonzero'), () => [f()], ['T']],
  ['torch.broadcastTensors', fnT('broadcastTensors'), () => [[f(), v4()]], ['TV']],
  // matrix.js
  ['torch.mv', fnT('mv'), () => [f(), v4()], ['T', 'T']],
  ['torch.dot', fnT('dot'), () => [v4(), v4()], ['T', 'T']],
  ['torch.outer', fnT('outer'), () => [v3(), v4()], ['T', 'T']],
  ['torch.addmm', fnT('addmm'), () => [f(), torch.randn(3, 5), torch.randn(5, 4)], ['T', 'T', 'T']],
  ['torch.einsum', fnT('einsum'), () => ['ij,jk->ik', [f(), g().t()]], ['S', 'TV']],
  ['torch.cdist', fnT('cdist'), () => [f(), g(), 2, 'use_mm_for_euclid_dist'], ['T', 'T', 'N', 'C:use_mm_for_euclid_dist_if_necessary|use_mm_for_euclid_dist|donot_use_mm_for_euclid_dist']],
  ['linalg.vectorNorm', fn(() => torch.linalg.vectorNorm), () => [f(), 2, 1, true], ['T', 'SC', 'IL?', 'B']],
  ['linalg.matrixNorm', (a) => torch.linalg.matrixNorm(a[0], 'fro', a[1], a[2]), () => [c3(), [1, 2], true], ['T', 'IL', 'B']],
  ['linalg.norm', (a) => torch.linalg.norm(a[0], 2, a[1], a[2]), () => [f(), 1, false], ['T', 'IL?', 'B']],
  ['torch.cosineSimilarity', fnT('cosineSimilarity'), () => [f(), g(), 1, 1e-8], ['T', 'T', 'I', 'N']],
  ['F.pairwiseDistance', fnF('pairwiseDistance'), () => [f(), g(), 2, 1e-6, true], ['T', 'T', 'N', 'N', 'B']],
  // activation.js
  ...['relu6', 'selu', 'silu', 'mish', 'hardswish', 'hardsigmoid'].map((op) => [`F.${op}`, fnF(op), () => [f(), false], ['T', 'B']]),
  ...['elu', 'celu'].map((op) => [`F.${op}`, fnF(op), () => [f(), 0.5, false], ['T', 'N', 'B']]),
  ['F.hardtanh', fnF('hardtanh'), () => [f(), -1, 1, false], ['T', 'N', 'N', 'B']],
  ['F.threshold', fnF('threshold'), () => [f(), 0.1, 0, false], ['T', 'N', 'N', 'B']],
  ...['logsigmoid', 'softsign', 'tanhshrink', 'sigmoid', 'tanh'].map((op) => [`F.${op}`, fnF(op), () => [f()], ['T']]),
  ['F.softplus', fnF('softplus'), () => [f(), 2, 10], ['T', 'N', 'N']],
  ['F.glu', fnF('glu'), () => [f(), 1], ['T', 'I']],
  ['F.prelu', fnF('prelu'), () => [c3(), torch.ones(3)], ['T', 'T']],
  // loss.js
  ['F.mseLoss', (a) => F.mseLoss(a[0], a[1], { reduction: a[2], weight: a[3] }), () => [f(), g(), 'sum', torch.rand(3, 4)], ['T', 'T', 'C:none|mean|sum', 'T?']],
  ['F.l1Loss', (a) => F.l1Loss(a[0], a[1], { reduction: a[2], weight: a[3] }), () => [f(), g(), 'none', torch.rand(3, 4)], ['T', 'T', 'C:none|mean|sum', 'T?']],
  ['F.smoothL1Loss', (a) => F.smoothL1Loss(a[0], a[1], { reduction: a[2], beta: a[3] }), () => [f(), g(), 'mean', 0.5], ['T', 'T', 'C:none|mean|sum', 'N']],
  ['F.huberLoss', (a) => F.huberLoss(a[0], a[1], { reduction: a[2], delta: a[3], weight: a[4] }), () => [f(), g(), 'mean', 0.5, torch.rand(3, 4)], ['T', 'T', 'C:none|mean|sum', 'N', 'T?']],
  ['F.binaryCrossEntropy', (a) => F.binaryCrossEntropy(a[0], a[1], a[2], { reduction: a[3] }), () => [prob(), prob(), torch.rand(4), 'sum'], ['T', 'T', 'T?', 'C:none|mean|sum']],
  ['F.cosineEmbeddingLoss', (a) => F.cosineEmbeddingLoss(a[0], a[1], a[2], a[3], { reduction: a[4] }), () => [f(), g(), pm(), 0.1, 'sum'], ['T', 'T', 'T', 'N', 'C:none|mean|sum']],
  ['F.marginRankingLoss', (a) => F.marginRankingLoss(a[0], a[1], a[2], a[3], { reduction: a[4] }), () => [v3(), v3(), pm(), 0.1, 'none'], ['T', 'T', 'T', 'N', 'C:none|mean|sum']],
  ['F.tripletMarginLoss', (a) => F.tripletMarginLoss(a[0], a[1], a[2], a[3], a[4], a[5], a[6], { reduction: a[7] }), () => [f(), g(), f(), 1, 2, 1e-6, true, 'mean'], ['T', 'T', 'T', 'N', 'N', 'N', 'B', 'C:none|mean|sum']],
  ['F.hingeEmbeddingLoss', (a) => F.hingeEmbeddingLoss(a[0], a[1], a[2], { reduction: a[3] }), () => [v3(), pm(), 1, 'sum'], ['T', 'T', 'N', 'C:none|mean|sum']],
  ['F.softMarginLoss', (a) => F.softMarginLoss(a[0], a[1], { reduction: a[2] }), () => [v3(), pm(), 'none'], ['T', 'T', 'C:none|mean|sum']],
  ['F.poissonNllLoss', (a) => F.poissonNllLoss(a[0], a[1], a[2], a[3], { eps: a[4], reduction: a[5] }), () => [f(), prob(), true, false, 1e-8, 'mean'], ['T', 'T', 'B', 'B', 'N', 'C:none|mean|sum']],
  // nn.js: convolution and pooling
  ['F.conv1d', fnF('conv1d'), () => [sig(), torch.randn(4, 3, 3), torch.randn(4), 1, 1, 1, 1], ['T', 'T', 'T?', 'IL', 'PAD', 'IL', 'I']],
  ['F.conv3d', fnF('conv3d'), () => [vol(), torch.randn(3, 2, 2, 2, 2), null, 1, 0, 1, 1], ['T', 'T', 'T?', 'IL', 'PAD', 'IL', 'I']],
  ['F.convTranspose1d', fnF('convTranspose1d'), () => [sig(), torch.randn(3, 2, 3), torch.randn(2), 2, 1, 1, 1, 1], ['T', 'T', 'T?', 'IL', 'IL', 'IL', 'I', 'IL']],
  ['F.convTranspose2d', fnF('convTranspose2d'), () => [img(), torch.randn(2, 3, 3, 3), null, 1, 0, 0, 1, 1], ['T', 'T', 'T?', 'IL', 'IL', 'IL', 'I', 'IL']],
  ['F.convTranspose3d', fnF('convTranspose3d'), () => [vol(), torch.randn(2, 1, 2, 2, 2), null, 1, 0, 0, 1, 1], ['T', 'T', 'T?', 'IL', 'IL', 'IL', 'I', 'IL']],
  ['F.maxPool1d', fnF('maxPool1d'), () => [sig(), 3, 2, 1, 1, false], ['T', 'IL', 'IL?', 'IL', 'IL', 'B']],
  ['F.maxPool3d', fnF('maxPool3d'), () => [vol(), 2, 1, 0, 1, true], ['T', 'IL', 'IL?', 'IL', 'IL', 'B']],
  ['F.maxPool1dWithIndices', fnF('maxPool1dWithIndices'), () => [sig(), 2, 2, 0, 1, false], ['T', 'IL', 'IL?', 'IL', 'IL', 'B']],
  ['F.maxPool2dWithIndices', fnF('maxPool2dWithIndices'), () => [img(), 2, 1, 1, 1, false], ['T', 'IL', 'IL?', 'IL', 'IL', 'B']],
  ['F.maxPool3dWithIndices', fnF('maxPool3dWithIndices'), () => [vol(), 2, 2, 0, 1, false], ['T', 'IL', 'IL?', 'IL', 'IL', 'B']],
  ['F.avgPool1d', fnF('avgPool1d'), () => [sig(), 3, 2, 1, false, true], ['T', 'IL', 'IL?', 'IL', 'B', 'B']],
  ['F.avgPool2d', fnF('avgPool2d'), () => [img(), 2, 1, 0, false, true, 3], ['T', 'IL', 'IL?', 'IL', 'B', 'B', 'I?']],
  ['F.avgPool3d', fnF('avgPool3d'), () => [vol(), 2, 1, 1, true, false, 2], ['T', 'IL', 'IL?', 'IL', 'B', 'B', 'I?']],
  ...['adaptiveAvgPool1d', 'adaptiveMaxPool1d', 'adaptiveMaxPool1dWithIndices'].map((op) => [`F.${op}`, fnF(op), () => [sig(), 4], ['T', 'IL']]),
  ...['adaptiveAvgPool2d', 'adaptiveMaxPool2d', 'adaptiveMaxPool2dWithIndices'].map((op) => [`F.${op}`, fnF(op), () => [img(), [3, 2]], ['T', 'IL']]),
  ...['adaptiveAvgPool3d', 'adaptiveMaxPool3d', 'adaptiveMaxPool3dWithIndices'].map((op) => [`F.${op}`, fnF(op), () => [vol(), 2], ['T', 'IL']]),
  // nn.js: normalisation, dropout, embedding, padding, resampling
  ['F.batchNorm', fnF('batchNorm'), () => [sig(), torch.zeros(3), torch.ones(3), torch.ones(3), torch.zeros(3), true, 0.1, 1e-5], ['T', 'T?', 'T?', 'T?', 'T?', 'B', 'N', 'N']],
  ['F.instanceNorm', fnF('instanceNorm'), () => [sig(), null, null, torch.ones(3), torch.zeros(3), true, 0.1, 1e-5], ['T', 'T?', 'T?', 'T?', 'T?', 'B', 'N', 'N']],
  ['F.layerNorm', fnF('layerNorm'), () => [c3(), [4], torch.ones(4), null, 1e-5], ['T', 'IL', 'T?', 'T?', 'N']],
  ['F.groupNorm', fnF('groupNorm'), () => [torch.randn(2, 6, 5), 3, torch.ones(6), torch.zeros(6), 1e-5], ['T', 'I', 'T?', 'T?', 'N']],
  ['F.rmsNorm', fnF('rmsNorm'), () => [c3(), [4], torch.ones(4), 1e-6], ['T', 'IL', 'T?', 'N?']],
  ['F.normalize', fnF('normalize'), () => [f(), 2, 1, 1e-12], ['T', 'N', 'I', 'N']],
  ...['dropout1d', 'dropout2d', 'dropout3d', 'alphaDropout', 'featureAlphaDropout'].map((op) => [
    `F.${op}`, fnF(op), () => [op === 'dropout1d' ? sig() : torch.randn(2, 3, 2, 2, 2), 0.5, true, false], ['T', 'N', 'B', 'B'],
  ]),
  ['F.embedding', fnF('embedding'), () => [eidx(), emb(), 2, 1, 2, false, false], ['T', 'T', 'I?', 'N?', 'N', 'B', 'B']],
  ['F.pad', fnF('pad'), () => [sig(), [1, 2], 'constant', 0.5], ['T', 'IA', 'C:constant|reflect|replicate|circular', 'N?']],
  ['F.pixelShuffle', fnF('pixelShuffle'), () => [torch.randn(1, 8, 2, 3), 2], ['T', 'I']],
  ['F.interpolate', fnF('interpolate'), () => [img(), [4, 4], null, 'bilinear', true, null, false], ['T', 'IL?', 'F[]?', 'C:nearest|linear|bilinear|bicubic|trilinear|area|nearest-exact', 'B?', 'B?', 'B']],
  ['F.bilinear', fnF('bilinear'), () => [f(), torch.randn(3, 5), torch.randn(2, 4, 5), torch.randn(2)], ['T', 'T', 'T', 'T?']],
  // inplace.js (on fresh copies)
  ['Tensor.add_', method('add_'), () => [f(), g(), 2], ['T', 'TS', 'SC']],
  ['Tensor.mul_', method('mul_'), () => [f(), g()], ['T', 'TS']],
  ['Tensor.div_', (a) => a[0].div_(a[1], { roundingMode: a[2] }), () => [f(), g(), 'floor'], ['T', 'TS', 'C?:floor|trunc']],
  ['Tensor.pow_', method('pow_'), () => [f(), 2], ['T', 'TS']],
  ['Tensor.addcmul_', (a) => a[0].addcmul_(a[1], a[2], { value: a[3] }), () => [f(), g(), g(), 0.5], ['T', 'T', 'T', 'SC']],
  ['Tensor.addcdiv_', (a) => a[0].addcdiv_(a[1], a[2], { value: a[3] }), () => [f(), g(), prob(), 0.5], ['T', 'T', 'T', 'SC']],
  ['Tensor.lerp_', method('lerp_'), () => [f(), g(), 0.5], ['T', 'T', 'TS']],
  ['Tensor.clamp_', method('clamp_'), () => [f(), -1, 1], ['T', 'SC?', 'SC?']],
  ['Tensor.clampMin_', method('clampMin_'), () => [f(), 0], ['T', 'SC']],
  ['Tensor.fill_', method('fill_'), () => [f(), 2], ['T', 'TS']],
  ['Tensor.copy_', method('copy_'), () => [f(), g(), false], ['T', 'T', 'B']],
  ['Tensor.maskedFill_', method('maskedFill_'), () => [f(), f().gt(0), 1], ['T', 'T', 'TS']],
  ['Tensor.uniform_', method('uniform_'), () => [f(), -1, 1], ['T', 'N', 'N']],
  ['Tensor.normal_', method('normal_'), () => [f(), 0, 2], ['T', 'N', 'N']],
  ['Tensor.bernoulli_', method('bernoulli_'), () => [f(), 0.3], ['T', 'N']],
  ['Tensor.exponential_', method('exponential_'), () => [f(), 2], ['T', 'N']],
  ['Tensor.scatter_', method('scatter_'), () => [f(), 0, idx(), src()], ['T', 'I', 'T', 'TS']],
  ['Tensor.scatterAdd_', method('scatterAdd_'), () => [f(), 0, idx(), src()], ['T', 'I', 'T', 'T']],
  ['Tensor.indexFill_', method('indexFill_'), () => [f(), 0, torch.tensor([0, 2]), 1.5], ['T', 'I', 'T', 'TS']],
  ['Tensor.indexAdd_', (a) => a[0].indexAdd_(a[1], a[2], a[3], { alpha: a[4] }), () => [f(), 0, torch.tensor([0, 2]), src(), 2], ['T', 'I', 'T', 'T', 'SC']],
  ['Tensor.squeeze_', method('squeeze_'), () => [torch.randn(1, 3), 0], ['T', 'I?']],
  ['Tensor.unsqueeze_', method('unsqueeze_'), () => [f(), 1], ['T', 'I']],
];

for (const [api, call, good, kinds] of table) {
  check(api, `ok: ${api}`, 'ok', () => call(good()));
  kinds.forEach((kind, pos) => {
    for (const [name, raw, cls] of badValues(kind)) {
      // The receiver of a method (position 0 of a Tensor.* row) is never replaced.
      if (pos === 0 && api.startsWith('Tensor.')) continue;
      check(api, `${api}: argument ${pos} is ${name}`, cls || 'TypeError', () => {
        const a = good();
        a[pos] = materialise(raw);
        return call(a);
      });
    }
  });
}

// Wrong names in the options object, on each op of the table that passes its arguments on: TypeError.
for (const [api, call, good] of table) {
  if (!call.spread) continue;
  check(api, `${api}: an unknown option`, 'TypeError', () => {
    const a = good();
    return call([...a, { notAnOption: 1 }]);
  });
}

// Keyword-only parameters by a wrong name (the rows above that build their options object).
const typos = [
  ['Tensor.round', () => f().round({ decimal: 2 })],
  ['Tensor.div_', () => f().div_(2, { rounding_mode: 'floor' })],
  ['Tensor.addcmul_', () => f().addcmul_(g(), g(), { alpha: 2 })],
  ['Tensor.indexAdd_', () => f().indexAdd_(0, torch.tensor([0]), torch.ones(1, 4), { beta: 2 })],
  ['F.mseLoss', () => F.mseLoss(f(), g(), { reduce: 'sum' })],
  ['F.l1Loss', () => F.l1Loss(f(), g(), { size_average: true })],
  ['F.smoothL1Loss', () => F.smoothL1Loss(f(), g(), { delta: 1 })],
  ['F.huberLoss', () => F.huberLoss(f(), g(), { beta: 1 })],
  ['F.binaryCrossEntropy', () => F.binaryCrossEntropy(prob(), prob(), { posWeight: v4() })],
  ['F.cosineEmbeddingLoss', () => F.cosineEmbeddingLoss(f(), g(), pm(), { eps: 1 })],
  ['F.marginRankingLoss', () => F.marginRankingLoss(v3(), v3(), pm(), { p: 1 })],
  ['F.tripletMarginLoss', () => F.tripletMarginLoss(f(), g(), f(), { norm: 1 })],
  ['F.hingeEmbeddingLoss', () => F.hingeEmbeddingLoss(v3(), pm(), { weight: v3() })],
  ['F.softMarginLoss', () => F.softMarginLoss(v3(), pm(), { margin: 1 })],
  ['F.poissonNllLoss', () => F.poissonNllLoss(f(), prob(), { log_input: true })],
  ['linalg.matrixNorm', () => torch.linalg.matrixNorm(f(), { p: 'fro' })],
  ['linalg.norm', () => torch.linalg.norm(f(), { p: 2 })],
  ['F.interpolate', () => F.interpolate(img(), { scale_factor: 2 })],
  ['F.embedding', () => F.embedding(eidx(), emb(), { padding_idx: 0 })],
  ['F.batchNorm', () => F.batchNorm(sig(), null, null, { train: true })],
  ['F.layerNorm', () => F.layerNorm(c3(), { normalized_shape: [4] })],
  ['F.pad', () => F.pad(sig(), [1, 1], { fill: 0 })],
  ['torch.cdist', () => torch.cdist(f(), g(), { compute_mode: 'use_mm_for_euclid_dist' })],
  ['torch.einsum', () => torch.einsum('ij->ji', f(), { operand: [f()] })],
];
for (const [api, fn] of typos) check(api, `${api}: a misspelt option`, 'TypeError', fn);

// Values the binding checks itself (int[N] of the wrong length): RangeError.
const ranges = [
  ['linalg.matrixNorm', 'matrixNorm over three dims (int[2])', () => torch.linalg.matrixNorm(c3(), 'fro', [0, 1, 2])],
  ['F.conv2d', 'conv2d stride of three numbers (int[2])', () => F.conv2d(img(), torch.randn(3, 2, 2, 2), { stride: [1, 1, 1] })],
  ['F.conv3d', 'conv3d padding of two numbers (int[3])', () => F.conv3d(vol(), torch.randn(3, 2, 2, 2, 2), { padding: [1, 1] })],
  ['F.maxPool3d', 'maxPool3d kernel of two numbers (int[3])', () => F.maxPool3d(vol(), [2, 2])],
  ['F.avgPool2d', 'avgPool2d kernel of three numbers (int[2])', () => F.avgPool2d(img(), [2, 2, 2])],
  ['F.adaptiveAvgPool2d', 'adaptiveAvgPool2d to three sizes (int[2])', () => F.adaptiveAvgPool2d(img(), [1, 2, 3])],
  ['F.convTranspose2d', 'convTranspose2d outputPadding of three numbers (int[2])', () => F.convTranspose2d(img(), torch.randn(2, 3, 3, 3), { outputPadding: [0, 0, 0] })],
  ['Tensor.round', 'round to 0.5 decimals', () => f().round({ decimals: 0.5 })],
  ['F.embedding', 'embedding paddingIdx 1.5', () => F.embedding(eidx(), emb(), 1.5)],
  ['F.glu', 'glu over dim NaN', () => F.glu(f(), NaN)],
];
for (const [api, label, fn] of ranges) check(api, label, 'RangeError', fn);

// ---- 2. wrong shapes and dtypes: TorchError (libtorch's message) ----------------------------------------------------
const T = 'TorchError';
const shapeCases = [
  // pointwise
  ['Tensor.frac', 'frac of an int64 tensor', () => i64().frac()],
  ['Tensor.round', 'round(decimals) of an int64 tensor', () => i64().round({ decimals: 2 })],
  ['torch.fmod', 'fmod of [3,4] and [3]', () => torch.fmod(f(), v3())],
  ['torch.fmod', 'int fmod by zero', () => torch.fmod(i64(), 0)],
  ['torch.remainder', 'int remainder by zero', () => torch.remainder(i64(), 0)],
  ['torch.floorDivide', 'int floor division by zero', () => torch.floorDivide(i64(), torch.zerosLike(i64()))],
  ['torch.fmax', 'fmax of [3,4] and [3]', () => torch.fmax(f(), v3())],
  ['torch.fmin', 'fmin of [3,4] and [2,4]', () => torch.fmin(f(), torch.randn(2, 4))],
  ['torch.maximum', 'maximum of [3,4] and [3]', () => torch.maximum(f(), v3())],
  ['torch.atan2', 'atan2 of [3,4] and [3]', () => torch.atan2(f(), v3())],
  ['torch.lerp', 'lerp of int64 tensors', () => torch.lerp(i64(), i64(), 0.5)],
  ['torch.lerp', 'lerp of [3,4] and [3]', () => torch.lerp(f(), v3(), 0.5)],
  ['torch.lerp', 'lerp float32 with float64 end', () => torch.lerp(f(), g().to('float64'), 0.5)],
  ['Tensor.clamp', 'clamp with tensor bounds of the wrong shape', () => f().clamp(v3(), null)],
  ['Tensor.clamp', 'clamp with no bounds', () => f().clamp()],
  ['torch.logicalXor', 'logicalXor of [3,4] and [3]', () => torch.logicalXor(f(), v3())],
  ['torch.isclose', 'isclose float32 with float64', () => torch.isclose(f(), g().to('float64'))],
  ['torch.isclose', 'isclose with a negative rtol', () => torch.isclose(f(), g(), -1)],
  ['torch.isclose', 'isclose with a negative atol', () => torch.isclose(f(), g(), 1e-5, -1)],
  ['torch.allclose', 'allclose of [3,4] and [3]', () => torch.allclose(f(), v3())],
  // reductions
  ['Tensor.nanmean', 'nanmean of an int64 tensor', () => i64().nanmean()],
  ['Tensor.prod', 'prod over a repeated dim', () => f().prod(2)],
  ['torch.amax', 'amax over a repeated dim', () => torch.amax(f(), [0, 0])],
  ['torch.amax', 'amax of an empty tensor', () => torch.amax(torch.zeros(0))],
  ['F.softmin', 'softmin of an int64 tensor', () => F.softmin(i64(), 0)],
  // shape
  ['Tensor.tile', 'tile with a negative repeat', () => f().tile(-1)],
  ['Tensor.repeat', 'repeat with fewer dims than the tensor', () => f().repeat(2)],
  ['Tensor.roll', 'roll with more shifts than dims', () => f().roll([1, 2], 0)],
  ['Tensor.unflatten', 'unflatten sizes that do not multiply up', () => f().unflatten(1, [3, 3])],
  ['Tensor.unflatten', 'unflatten with two inferred sizes', () => f().unflatten(1, [-1, -1])],
  ['Tensor.unflatten', 'unflatten with no sizes', () => f().unflatten(1, [])],
  ['Tensor.diagonal', 'diagonal over one dim twice', () => c3().diagonal(0, 1, 1)],
  ['Tensor.diag', 'diag of a 3-D tensor', () => c3().diag()],
  ['Tensor.diag', 'diag of a 0-D tensor', () => torch.tensor(1.5).diag()],
  ['torch.hstack', 'hstack of nothing', () => torch.hstack([])],
  ['torch.vstack', 'vstack of [3,4] and [3]', () => torch.vstack([f(), v3()])],
  ['torch.hstack', 'hstack float with mismatched rows', () => torch.hstack([f(), torch.randn(2, 4)])],
  ['torch.broadcastTensors', 'broadcastTensors of [3,4] and [3]', () => torch.broadcastTensors(f(), v3())],
  ['Tensor.movedim', 'movedim with a repeated destination', () => c3().movedim([0, 1], [2, 2])],
  ['Tensor.movedim', 'movedim with different lengths', () => c3().movedim([0, 1], [2])],
  ['Tensor.flip', 'flip of a repeated dim', () => c3().flip(0, 0)],
  ['Tensor.expandAs', 'expandAs to a smaller shape', () => f().expandAs(v3())],
  ['Tensor.viewAs', 'viewAs of another numel', () => f().viewAs(c3())],
  ['Tensor.reshapeAs', 'reshapeAs of another numel', () => f().reshapeAs(v3())],
  ['Tensor.slice', 'slice with step 0', () => f().slice(0, null, null, 0)],
  ['Tensor.slice', 'slice with a negative step', () => f().slice(0, null, null, -1)],
  ['Tensor.index', 'index out of range', () => f().index(torch.tensor([3]))],
  ['Tensor.index', 'index by a float tensor', () => f().index(torch.tensor([0.5]))],
  ['Tensor.index', 'index by a bool mask of the wrong size', () => f().index(torch.tensor([true, false]))],
  ['torch.tril', 'tril of a 1-D tensor', () => torch.tril(v3())],
  ['Tensor.where', 'where with a float condition', () => f().where(g(), 0)],
  ['Tensor.where', 'where with a condition of the wrong shape', () => f().where(v3().gt(0), 0)],
  // indexing
  ['Tensor.scatter', 'scatter index out of range', () => f().scatter(0, torch.tensor([[3, 0, 0, 0]]), src())],
  ['Tensor.scatter', 'scatter with a float index', () => f().scatter(0, src(), src())],
  ['Tensor.scatter', 'scatter with an index of the wrong rank', () => f().scatter(0, torch.tensor([0, 1]), src())],
  ['Tensor.scatter', 'scatter src of another dtype', () => f().scatter(0, idx(), src().to('float64'))],
  ['Tensor.scatter', 'scatter with a negative index', () => f().scatter(0, torch.tensor([[-1, 0, 0, 0]]), src())],
  ['Tensor.scatterAdd', 'scatterAdd index out of range', () => f().scatterAdd(1, torch.tensor([[4], [0], [0]]), torch.randn(3, 1))],
  ['Tensor.scatterAdd', 'scatterAdd index larger than src', () => f().scatterAdd(0, torch.zeros(3, 4, { dtype: 'int64' }), src())],
  ['Tensor.scatterReduce', 'scatterReduce src of another dtype', () => f().scatterReduce(0, idx(), i64().narrow(0, 0, 2), 'sum')],
  ['Tensor.scatterReduce', 'scatterReduce index out of range', () => f().scatterReduce(0, torch.tensor([[9, 0, 0, 0]]), src(), 'amin')],
  ['Tensor.maskedSelect', 'maskedSelect with a float mask', () => f().maskedSelect(g())],
  ['Tensor.maskedSelect', 'maskedSelect with a mask that does not broadcast', () => f().maskedSelect(v3().gt(0))],
  // products
  ['torch.mv', 'mv of [3,4] and [3]', () => torch.mv(f(), v3())],
  ['torch.mv', 'mv of a vector', () => torch.mv(v3(), v3())],
  ['torch.mv', 'mv float32 with float64', () => torch.mv(f(), v4().to('float64'))],
  ['torch.dot', 'dot of lengths 3 and 4', () => torch.dot(v3(), v4())],
  ['torch.dot', 'dot of matrices', () => torch.dot(f(), g())],
  ['torch.dot', 'dot float32 with int64', () => torch.dot(v3(), torch.tensor([1, 2, 3]))],
  ['torch.outer', 'outer of a matrix', () => torch.outer(f(), v3())],
  ['torch.addmm', 'addmm of mismatched matrices', () => torch.addmm(f(), f(), f())],
  ['torch.addmm', 'addmm with an input that does not broadcast', () => torch.addmm(v3(), torch.randn(3, 5), torch.randn(5, 4))],
  ['torch.einsum', 'einsum with too few operands', () => torch.einsum('ij,jk->ik', f())],
  ['torch.einsum', 'einsum with too many operands', () => torch.einsum('ij->ji', f(), g())],
  ['torch.einsum', 'einsum with mismatched sizes', () => torch.einsum('ij,jk->ik', f(), g())],
  ['torch.einsum', 'einsum with the wrong number of subscripts', () => torch.einsum('ijk->i', f())],
  ['torch.einsum', 'einsum with an invalid character', () => torch.einsum('i$->i', f())],
  ['torch.einsum', 'einsum with an output subscript not in the inputs', () => torch.einsum('ij->k', f())],
  ['torch.einsum', 'einsum with no operands', () => torch.einsum('ij->i', [])],
  ['torch.cdist', 'cdist of [2,5,3] and [3,4]', () => torch.cdist(torch.randn(2, 5, 3), f())],
  ['torch.cdist', 'cdist of vectors', () => torch.cdist(v3(), v3())],
  ['torch.cdist', 'cdist with a negative p', () => torch.cdist(f(), g(), -1)],
  ['torch.cdist', 'cdist of int64 tensors', () => torch.cdist(i64(), i64())],
  ['torch.norm', "norm 'fro' over three dims", () => torch.norm(c3(), 'fro', [0, 1, 2])],
  ['torch.norm', "norm 'nuc' over one dim", () => torch.norm(f(), 'nuc', 1)],
  ['torch.norm', 'norm of an int64 tensor', () => torch.norm(i64())],
  ['linalg.vectorNorm', 'vectorNorm of an int64 tensor', () => torch.linalg.vectorNorm(i64())],
  ['linalg.vectorNorm', 'vectorNorm with an int dtype', () => torch.linalg.vectorNorm(f(), 2, null, false, { dtype: 'int64' })],
  ['linalg.matrixNorm', 'matrixNorm of a vector', () => torch.linalg.matrixNorm(v3())],
  ['linalg.matrixNorm', 'matrixNorm with ord 3', () => torch.linalg.matrixNorm(f(), 3)],
  ['linalg.matrixNorm', 'matrixNorm over one dim twice', () => torch.linalg.matrixNorm(f(), 'fro', [0, 0])],
  ['linalg.norm', 'norm with a number ord over three dims', () => torch.linalg.norm(c3(), 2)],
  ['linalg.norm', "norm 'nuc' of a vector", () => torch.linalg.norm(v3(), 'nuc')],
  ['torch.cosineSimilarity', 'cosineSimilarity of [3,4] and [3,2]', () => torch.cosineSimilarity(f(), torch.randn(3, 2))],
  ['F.pairwiseDistance', 'pairwiseDistance of [3,4] and [2,4]', () => F.pairwiseDistance(f(), torch.randn(2, 4))],
  // activations
  ['F.hardtanh', 'hardtanh with min above max', () => F.hardtanh(f(), 2, 1), 'VALUE_ERROR'],
  ['F.glu', 'glu of a scalar', () => F.glu(torch.tensor(1.5))],
  ['F.glu', 'glu over an odd dim', () => F.glu(torch.randn(3, 5), 1)],
  ['F.prelu', 'prelu with a weight per wrong channel count', () => F.prelu(c3(), torch.ones(4))],
  ['F.prelu', 'prelu with a 2-D weight', () => F.prelu(c3(), torch.ones(3, 1))],
  ...['elu', 'selu', 'celu', 'silu', 'mish', 'hardswish', 'hardsigmoid', 'logsigmoid', 'softplus'].map((op) => [`F.${op}`, `${op} of an int64 tensor`, () => F[op](i64())]),
  ...['relu6', 'elu', 'selu', 'celu', 'silu', 'mish', 'hardswish', 'hardsigmoid', 'hardtanh'].map((op) => [`F.${op}`, `${op} in place on a leaf that requires grad`, () => F[op](torch.randn(3, { requiresGrad: true }), { inplace: true })]),
  // losses
  ['F.mseLoss', 'mseLoss with a weight of the wrong size', () => F.mseLoss(f(), g(), { weight: v4() }), 'VALUE_ERROR'],
  ['F.l1Loss', 'l1Loss with a weight of the wrong size', () => F.l1Loss(f(), g(), { weight: v4() }), 'VALUE_ERROR'],
  ['F.huberLoss', 'huberLoss with a weight of the wrong size', () => F.huberLoss(f(), g(), { weight: v4() }), 'VALUE_ERROR'],
  ['F.mseLoss', 'mseLoss of shapes that do not broadcast', () => F.mseLoss(f(), v3())],
  ['F.smoothL1Loss', 'smoothL1Loss with a negative beta', () => F.smoothL1Loss(f(), g(), { beta: -1 })],
  ['F.huberLoss', 'huberLoss with delta 0', () => F.huberLoss(f(), g(), { delta: 0 })],
  ['F.binaryCrossEntropy', 'binaryCrossEntropy of a target of another size', () => F.binaryCrossEntropy(prob(), v4()), 'VALUE_ERROR'],
  ['F.binaryCrossEntropy', 'binaryCrossEntropy of values outside [0, 1]', () => F.binaryCrossEntropy(f().mul(5), prob())],
  ['F.binaryCrossEntropy', 'binaryCrossEntropy with a weight that does not broadcast', () => F.binaryCrossEntropy(prob(), prob(), v3())],
  ['F.cosineEmbeddingLoss', 'cosineEmbeddingLoss of mismatched inputs', () => F.cosineEmbeddingLoss(f(), torch.randn(3, 5), pm())],
  ['F.cosineEmbeddingLoss', 'cosineEmbeddingLoss with a 2-D target', () => F.cosineEmbeddingLoss(f(), g(), f())],
  ['F.marginRankingLoss', 'marginRankingLoss of inputs of different dims', () => F.marginRankingLoss(v3(), f(), pm())],
  ['F.tripletMarginLoss', 'tripletMarginLoss with margin 0', () => F.tripletMarginLoss(f(), g(), f(), 0), 'VALUE_ERROR'],
  ['F.tripletMarginLoss', 'tripletMarginLoss of mismatched dims', () => F.tripletMarginLoss(f(), v4(), f())],
  ['F.hingeEmbeddingLoss', 'hingeEmbeddingLoss of shapes that do not broadcast', () => F.hingeEmbeddingLoss(f(), v3())],
  ['F.softMarginLoss', 'softMarginLoss of mismatched shapes', () => F.softMarginLoss(f(), v3())],
  ['F.poissonNllLoss', 'poissonNllLoss of shapes that do not broadcast', () => F.poissonNllLoss(f(), v3())],
  // convolution
  ['F.conv1d', 'conv1d with the wrong channels', () => F.conv1d(sig(), torch.randn(4, 2, 3))],
  ['F.conv1d', 'conv1d of a 4-D input', () => F.conv1d(img(), torch.randn(4, 2, 3))],
  ['F.conv1d', 'conv1d with groups that do not divide the channels', () => F.conv1d(sig(), torch.randn(4, 3, 3), null, 1, 0, 1, 2)],
  ['F.conv1d', 'conv1d with groups 0', () => F.conv1d(sig(), torch.randn(4, 3, 3), { groups: 0 })],
  ['F.conv1d', 'conv1d with stride 0', () => F.conv1d(sig(), torch.randn(4, 3, 3), { stride: 0 })],
  ['F.conv1d', 'conv1d with a negative padding', () => F.conv1d(sig(), torch.randn(4, 3, 3), { padding: -1 })],
  ['F.conv1d', 'conv1d with dilation 0', () => F.conv1d(sig(), torch.randn(4, 3, 3), { dilation: 0 })],
  ['F.conv1d', 'conv1d with a bias of the wrong size', () => F.conv1d(sig(), torch.randn(4, 3, 3), torch.randn(3))],
  ['F.conv1d', 'conv1d with a kernel longer than the input', () => F.conv1d(sig(), torch.randn(4, 3, 11))],
  ['F.conv1d', "conv1d 'same' with stride 2", () => F.conv1d(sig(), torch.randn(4, 3, 3), null, 2, 'same')],
  ['F.conv2d', 'conv2d float32 with a float64 weight', () => F.conv2d(img(), torch.randn(3, 2, 3, 3, { dtype: 'float64' }))],
  ['F.conv3d', 'conv3d with a 4-D weight', () => F.conv3d(vol(), torch.randn(3, 2, 2, 2))],
  ['F.convTranspose1d', 'convTranspose1d with outputPadding not below stride', () => F.convTranspose1d(sig(), torch.randn(3, 2, 3), null, 1, 0, 1)],
  ['F.convTranspose1d', 'convTranspose1d with the wrong in-channels', () => F.convTranspose1d(sig(), torch.randn(2, 2, 3))],
  ['F.convTranspose2d', 'convTranspose2d with groups 0', () => F.convTranspose2d(img(), torch.randn(2, 3, 3, 3), { groups: 0 })],
  ['F.convTranspose3d', 'convTranspose3d of a 3-D input', () => F.convTranspose3d(sig(), torch.randn(3, 1, 2, 2, 2))],
  // pooling
  ['F.maxPool1d', 'maxPool1d with padding above half the kernel', () => F.maxPool1d(sig(), 2, { padding: 2 })],
  ['F.maxPool1d', 'maxPool1d with kernel 0', () => F.maxPool1d(sig(), 0)],
  ['F.maxPool1d', 'maxPool1d with stride 0', () => F.maxPool1d(sig(), 2, 0)],
  ['F.maxPool1d', 'maxPool1d with dilation 0', () => F.maxPool1d(sig(), 2, { dilation: 0 })],
  ['F.maxPool1d', 'maxPool1d with a kernel longer than the input', () => F.maxPool1d(sig(), 11)],
  ['F.maxPool2d', 'maxPool2d of a 2-D input', () => F.maxPool2d(f(), 2)],
  ['F.maxPool3d', 'maxPool3d with a kernel larger than the input', () => F.maxPool3d(vol(), 6)],
  ['F.maxPool2dWithIndices', 'maxPool2dWithIndices with a negative padding', () => F.maxPool2dWithIndices(img(), 2, { padding: -1 })],
  ['F.avgPool1d', 'avgPool1d with kernel 0', () => F.avgPool1d(sig(), 0)],
  ['F.avgPool1d', 'avgPool1d with padding above half the kernel', () => F.avgPool1d(sig(), 2, 1, 2)],
  ['F.avgPool2d', 'avgPool2d with divisorOverride 0', () => F.avgPool2d(img(), 2, { divisorOverride: 0 })],
  ['F.avgPool3d', 'avgPool3d of a 2-D input', () => F.avgPool3d(f(), 2)],
  ['F.adaptiveAvgPool1d', 'adaptiveAvgPool1d to a negative size', () => F.adaptiveAvgPool1d(sig(), -1)],
  ['F.adaptiveAvgPool2d', 'adaptiveAvgPool2d of a 2-D input', () => F.adaptiveAvgPool2d(f(), 2)],
  ['F.adaptiveMaxPool3dWithIndices', 'adaptiveMaxPool3dWithIndices of a 2-D input', () => F.adaptiveMaxPool3dWithIndices(f(), 2)],
  // normalisation
  ['F.batchNorm', 'batchNorm with running statistics of the wrong size', () => F.batchNorm(sig(), torch.zeros(4), torch.ones(4))],
  ['F.batchNorm', 'batchNorm with a weight of the wrong size', () => F.batchNorm(sig(), null, null, torch.ones(4), null, true)],
  ['F.batchNorm', 'batchNorm with one value per channel in training', () => F.batchNorm(torch.ones(1, 3), null, null, { training: true }), 'VALUE_ERROR'],
  ['F.batchNorm', 'batchNorm of an int64 input', () => F.batchNorm(torch.ones(4, 3, { dtype: 'int64' }), null, null, { training: true })],
  ['F.instanceNorm', 'instanceNorm with one spatial element', () => F.instanceNorm(torch.ones(2, 3, 1)), 'VALUE_ERROR'],
  ['F.instanceNorm', 'instanceNorm with a weight of the wrong size', () => F.instanceNorm(sig(), { weight: torch.ones(4) })],
  ['F.layerNorm', 'layerNorm over a shape that is not trailing', () => F.layerNorm(c3(), [3])],
  ['F.layerNorm', 'layerNorm with a weight of the wrong shape', () => F.layerNorm(c3(), [4], torch.ones(3))],
  ['F.groupNorm', 'groupNorm with groups that do not divide the channels', () => F.groupNorm(torch.randn(2, 6, 5), 4)],
  ['F.groupNorm', 'groupNorm with negative groups', () => F.groupNorm(torch.randn(2, 6, 5), -2)],
  ['F.groupNorm', 'groupNorm of a 1-D input', () => F.groupNorm(v3(), 1)],
  ['F.groupNorm', 'groupNorm with one value per group', () => F.groupNorm(torch.randn(1, 3), 3), 'VALUE_ERROR'],
  ['F.rmsNorm', 'rmsNorm over a shape that is not trailing', () => F.rmsNorm(c3(), [2, 4])],
  ['F.normalize', 'normalize of an int64 tensor', () => F.normalize(i64())],
  // dropout
  ...['dropout1d', 'dropout2d', 'dropout3d', 'alphaDropout', 'featureAlphaDropout'].flatMap((op) => [
    [`F.${op}`, `${op} with p 1.5`, () => F[op](op === 'dropout1d' ? sig() : torch.randn(2, 3, 2, 2), 1.5, true), 'VALUE_ERROR'],
    [`F.${op}`, `${op} with p -0.1`, () => F[op](op === 'dropout1d' ? sig() : torch.randn(2, 3, 2, 2), -0.1, true), 'VALUE_ERROR'],
  ]),
  ['F.dropout1d', 'dropout1d of a 4-D input', () => F.dropout1d(img())],
  ['F.dropout1d', 'dropout1d of a 1-D input', () => F.dropout1d(v3())],
  ['F.featureAlphaDropout', 'featureAlphaDropout of a 1-D input in training', () => F.featureAlphaDropout(v3(), 0.5, true)],
  // embedding
  ['F.embedding', 'embedding paddingIdx past the end', () => F.embedding(eidx(), emb(), 10)],
  ['F.embedding', 'embedding paddingIdx below -numEmbeddings', () => F.embedding(eidx(), emb(), -11)],
  ['F.embedding', 'embedding index out of range', () => F.embedding(torch.tensor([0, 10]), emb()), 'INDEX_ERROR'],
  ['F.embedding', 'embedding negative index', () => F.embedding(torch.tensor([-1]), emb()), 'INDEX_ERROR'],
  ['F.embedding', 'embedding float indices', () => F.embedding(f(), emb())],
  ['F.embedding', 'embedding with maxNorm and an index out of range', () => F.embedding(torch.tensor([0, 10]), emb(), { maxNorm: 1 })],
  ['F.embedding', 'embedding with maxNorm and float indices', () => F.embedding(f(), emb(), { maxNorm: 1 })],
  ['F.embedding', 'embedding of a 1-D weight', () => F.embedding(eidx(), v4())],
  // padding, pixel shuffle
  ['F.pad', 'pad with an odd number of pads', () => F.pad(sig(), [1, 2, 3])],
  ['F.pad', 'pad with more pads than dims', () => F.pad(v3(), [1, 1, 1, 1])],
  ['F.pad', 'pad reflect wider than the input', () => F.pad(sig(), [10, 0], 'reflect')],
  ['F.pad', 'pad circular wider than the input', () => F.pad(sig(), [11, 0], 'circular')],
  ['F.pad', 'pad reflect with a value', () => F.pad(sig(), [1, 1], 'reflect', 0.5)],
  ['F.pad', 'pad cropping below zero size', () => F.pad(sig(), [-6, -6])],
  ['F.pad', 'pad replicate of a 1-D tensor', () => F.pad(v3(), [1, 1], 'replicate')],
  ['F.pixelShuffle', 'pixelShuffle of channels not divisible by r²', () => F.pixelShuffle(img(), 2)],
  ['F.pixelShuffle', 'pixelShuffle with factor 0', () => F.pixelShuffle(img(), 0)],
  ['F.pixelShuffle', 'pixelShuffle with a negative factor', () => F.pixelShuffle(img(), -2)],
  ['F.pixelShuffle', 'pixelShuffle of a 2-D input', () => F.pixelShuffle(f(), 1)],
  // interpolate
  ['F.interpolate', 'interpolate with size and scaleFactor', () => F.interpolate(img(), { size: 4, scaleFactor: 2 }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate with neither size nor scaleFactor', () => F.interpolate(img()), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate nearest with alignCorners', () => F.interpolate(img(), 4, { alignCorners: true }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate area with alignCorners false', () => F.interpolate(img(), 4, { mode: 'area', alignCorners: false }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate recomputeScaleFactor with a size', () => F.interpolate(img(), 4, { mode: 'bilinear', recomputeScaleFactor: true }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate antialias with nearest', () => F.interpolate(img(), 4, { antialias: true }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate antialias of a 3-D input', () => F.interpolate(sig(), 4, { mode: 'bilinear', antialias: true }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate bilinear of a 3-D input', () => F.interpolate(sig(), 4, { mode: 'bilinear' }), 'NOT_IMPLEMENTED'],
  ['F.interpolate', 'interpolate linear of a 4-D input', () => F.interpolate(img(), 4, { mode: 'linear' }), 'NOT_IMPLEMENTED'],
  ['F.interpolate', 'interpolate trilinear of a 4-D input', () => F.interpolate(img(), 4, { mode: 'trilinear' }), 'NOT_IMPLEMENTED'],
  ['F.interpolate', 'interpolate bicubic of a 5-D input', () => F.interpolate(vol(), 4, { mode: 'bicubic' }), 'NOT_IMPLEMENTED'],
  ['F.interpolate', 'interpolate of a 2-D input', () => F.interpolate(f(), 4)],
  ['F.interpolate', 'interpolate with three sizes for two spatial dims', () => F.interpolate(img(), [4, 4, 4]), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate with three scale factors for two spatial dims', () => F.interpolate(img(), { scaleFactor: [2, 2, 2] }), 'VALUE_ERROR'],
  ['F.interpolate', 'interpolate to size 0', () => F.interpolate(sig(), 0)],
  ['F.interpolate', 'interpolate to a negative size', () => F.interpolate(sig(), -2)],
  ['F.interpolate', 'interpolate with scaleFactor 0', () => F.interpolate(sig(), { scaleFactor: 0 })],
  ['F.interpolate', 'interpolate with a NaN scaleFactor', () => F.interpolate(sig(), { scaleFactor: NaN })],
  ['F.interpolate', 'interpolate with an infinite scaleFactor, recomputed', () => F.interpolate(sig(), { scaleFactor: Infinity, recomputeScaleFactor: true })],
  ['F.interpolate', 'interpolate of an int64 input (bilinear)', () => F.interpolate(torch.ones(1, 1, 2, 2, { dtype: 'int64' }), 4, { mode: 'bilinear' })],
  ['F.bilinear', 'bilinear with mismatched inputs', () => F.bilinear(f(), f(), torch.randn(2, 4, 5))],
  // in place
  ['Tensor.add_', 'add_ that would broadcast self', () => v4().add_(f())],
  ['Tensor.div_', 'div_ true division into an int64 tensor', () => i64().div_(2.5)],
  ['Tensor.clamp_', 'clamp_ of an int64 tensor by a fraction', () => i64().clamp_(0.5)],
  ['Tensor.pow_', 'pow_ of an int64 tensor to a negative power', () => i64().pow_(-1)],
  ['Tensor.addcdiv_', 'addcdiv_ of int64 tensors', () => i64().addcdiv_(i64(), i64())],
  ['Tensor.addcmul_', 'addcmul_ of mismatched shapes', () => f().addcmul_(v3(), v3())],
  ['Tensor.lerp_', 'lerp_ with an end of the wrong shape', () => f().lerp_(v3(), 0.5)],
  ['Tensor.fill_', 'fill_ with a 1-D tensor', () => f().fill_(v3())],
  ['Tensor.fill_', 'fill_ of an int64 tensor with NaN', () => i64().fill_(NaN)],
  ['Tensor.copy_', 'copy_ from a shape that does not broadcast', () => f().copy_(v3())],
  ['Tensor.maskedFill_', 'maskedFill_ with a mask that does not broadcast', () => f().maskedFill_(v3().gt(0), 1)],
  ['Tensor.maskedFill_', 'maskedFill_ with a 1-D tensor value', () => f().maskedFill_(f().gt(0), v3())],
  ['Tensor.uniform_', 'uniform_ of an int64 tensor', () => i64().uniform_()],
  ['Tensor.uniform_', 'uniform_ with from above to', () => f().uniform_(2, 1)],
  ['Tensor.normal_', 'normal_ with a negative std', () => f().normal_(0, -1)],
  ['Tensor.bernoulli_', 'bernoulli_ with p 1.5', () => f().bernoulli_(1.5)],
  ['Tensor.exponential_', 'exponential_ with a negative rate', () => f().exponential_(-1)],
  ['Tensor.scatter_', 'scatter_ index out of range', () => f().scatter_(0, torch.tensor([[3, 0, 0, 0]]), src())],
  ['Tensor.scatterAdd_', 'scatterAdd_ with a float index', () => f().scatterAdd_(0, src(), src())],
  ['Tensor.indexFill_', 'indexFill_ index out of range', () => f().indexFill_(0, torch.tensor([5]), 1)],
  ['Tensor.indexFill_', 'indexFill_ with a 1-D tensor value', () => f().indexFill_(0, torch.tensor([0]), v3())],
  ['Tensor.indexAdd_', 'indexAdd_ source of the wrong shape', () => f().indexAdd_(0, torch.tensor([0, 2]), torch.ones(3, 4))],
  ['Tensor.indexAdd_', 'indexAdd_ index out of range', () => f().indexAdd_(0, torch.tensor([0, 7]), src())],
  ['Tensor.t_', 't_ of a 3-D tensor', () => c3().t_()],
  ['Tensor.squeeze_', 'squeeze_ of a dim out of range', () => f().squeeze_(2), 'INDEX_ERROR'],
  ['Tensor.unsqueeze_', 'unsqueeze_ of a dim out of range', () => f().unsqueeze_(3), 'INDEX_ERROR'],
  ['Tensor.exp_', 'exp_ of an int64 tensor', () => i64().exp_()],
  ['Tensor.sqrt_', 'sqrt_ of a leaf that requires grad', () => torch.ones(2, { requiresGrad: true }).sqrt_()],
];
for (const [api, label, fn, code] of shapeCases) check(api, label, T, fn, code);

// returnIndices on the pooling functions is refused with a TypeError naming the WithIndices function to use.
check('F.maxPool1d', 'maxPool1d returnIndices (use maxPool1dWithIndices)', 'TypeError', () => F.maxPool1d(sig(), 2, { returnIndices: true }));
check('F.maxPool3d', 'maxPool3d returnIndices (use maxPool3dWithIndices)', 'TypeError', () => F.maxPool3d(vol(), 2, { returnIndices: true }));
check('F.adaptiveMaxPool2d', 'adaptiveMaxPool2d returnIndices (use adaptiveMaxPool2dWithIndices)', 'TypeError', () => F.adaptiveMaxPool2d(img(), 2, true));

// ---- 3. dims out of range: TorchError INDEX_ERROR (Python's IndexError), for every dim-taking op -------------------
const dimCases = [
  ['Tensor.nansum', (d) => f().nansum(d)],
  ['Tensor.nanmean', (d) => f().nanmean(d)],
  ['Tensor.cumprod', (d) => f().cumprod(d)],
  ['Tensor.cumsum', (d) => f().cumsum(d)],
  ['Tensor.prod', (d) => f().prod(d)],
  ['Tensor.amax', (d) => f().amax(d)],
  ['Tensor.amin', (d) => f().amin([0, d])],
  ['Tensor.any', (d) => f().any(d)],
  ['Tensor.all', (d) => f().all(d)],
  ['F.softmin', (d) => F.softmin(f(), d)],
  ['Tensor.roll', (d) => f().roll(1, d)],
  ['Tensor.unflatten', (d) => f().unflatten(d, [2, 2])],
  ['Tensor.swapaxes', (d) => f().swapaxes(0, d)],
  ['Tensor.diagonal', (d) => f().diagonal(0, d, 0)],
  ['Tensor.flip', (d) => f().flip(d)],
  ['Tensor.movedim', (d) => f().movedim(0, d)],
  ['Tensor.slice', (d) => f().slice(d, 0, 1)],
  ['Tensor.unbind', (d) => f().unbind(d)],
  ['torch.concat', (d) => torch.concat([f(), g()], d)],
  ['Tensor.scatter', (d) => f().scatter(d, idx(), src())],
  ['Tensor.scatterAdd', (d) => f().scatterAdd(d, idx(), src())],
  ['Tensor.scatterReduce', (d) => f().scatterReduce(d, idx(), src(), 'sum')],
  ['Tensor.scatter_', (d) => f().scatter_(d, idx(), src())],
  ['Tensor.indexFill_', (d) => f().indexFill_(d, torch.tensor([0]), 1)],
  ['Tensor.indexAdd_', (d) => f().indexAdd_(d, torch.tensor([0]), torch.ones(1, 4))],
  ['Tensor.norm', (d) => f().norm(2, d)],
  ['linalg.vectorNorm', (d) => torch.linalg.vectorNorm(f(), 2, d)],
  ['linalg.matrixNorm', (d) => torch.linalg.matrixNorm(f(), 'fro', [0, d])],
  ['linalg.norm', (d) => torch.linalg.norm(f(), null, d)],
  ['torch.cosineSimilarity', (d) => torch.cosineSimilarity(f(), g(), d)],
  ['F.glu', (d) => F.glu(f(), d)],
  ['F.normalize', (d) => F.normalize(f(), 2, d)],
  ['Tensor.squeeze', (d) => f().squeeze([0, d])],
];
for (const [api, fn] of dimCases) {
  for (const d of [2, -3, 7, -100]) check(api, `${api}: dim ${d} of a 2-D tensor`, T, () => fn(d), 'INDEX_ERROR');
}

// The process is still healthy: a normal op after all that.
const sanity = torch.tensor([1, 2, 3]).mul(2).sum().item();
process.stdout.write(JSON.stringify({ sanity, results, missing: [...missing].sort() }));
