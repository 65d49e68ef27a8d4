'use strict';
/**
 * Child process of test/03-bad-input.test.ts: drives hundreds of bad calls into torchkd (the compiled dist/, path in
 * argv[2]) and prints, as JSON, which error class each one threw. Every call must throw the expected class
 * (TypeError for wrong JS types, RangeError for bad values, TorchError for libtorch failures, with a code where one
 * applies) with a message and no C++ backtrace; and the process must finish normally (no abort, no crash).
 */
const torch = require(process.argv[2]);
const { TorchError } = torch;
const results = [];
function check(label, expected, fn, code) {
  let got = 'no error';
  let msg = '';
  let gotCode;
  try {
    fn();
  } catch (e) {
    got = e instanceof TorchError ? 'TorchError' : e instanceof TypeError ? 'TypeError' : e instanceof RangeError ? 'RangeError' : `other:${e && e.constructor && e.constructor.name}`;
    msg = String(e && e.message);
    gotCode = e && e.code;
  }
  const ok = got === expected && (code === undefined || gotCode === code) && msg.length > 10 && !/Exception raised from|frame #/.test(msg);
  results.push({ label, expected, got, code: gotCode, ok, msg: msg.slice(0, 160) });
}
const f = () => torch.randn(3, 4);
const i64 = () => torch.tensor([0, 2, 1]);
const notTensors = [['undefined', undefined], ['null', null], ['a string', 'x'], ['an object', {}], ['an array', [1, 2]], ['a bigint', 1n], ['a function', () => 1], ['a symbol', Symbol('s')]];

// 1. Wrong JS types where a tensor (or number) is expected: TypeError.
for (const [name, v] of notTensors) {
  for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']) {
    if (v === undefined && op === 'pow') continue;
    check(`${op}(${name})`, 'TypeError', () => f()[op](v));
  }
  for (const op of ['matmul', 'mm', 'bmm']) check(`${op}(${name})`, 'TypeError', () => f()[op](v));
  for (const fn of ['add', 'mul', 'exp', 'sum', 'relu', 'softmax', 'matmul']) check(`torch.${fn}(${name}, ...)`, 'TypeError', () => torch[fn](v, 1));
  check(`cat([t, ${name}])`, 'TypeError', () => torch.cat([f(), v]));
  check(`stack([${name}])`, 'TypeError', () => torch.stack([v]));
  check(`where(${name}, a, b)`, 'TypeError', () => torch.where(v, f(), f()));
  check(`maskedFill(${name})`, 'TypeError', () => f().maskedFill(v, 0));
  check(`gather(1, ${name})`, 'TypeError', () => f().gather(1, v));
  check(`indexSelect(1, ${name})`, 'TypeError', () => f().indexSelect(1, v));
  for (const fn of ['relu', 'softmax', 'logSoftmax', 'gelu', 'dropout', 'oneHot']) check(`F.${fn}(${name})`, 'TypeError', () => torch.F[fn](v, 1));
  check(`F.crossEntropy(x, ${name})`, 'TypeError', () => torch.F.crossEntropy(f(), v));
  check(`F.klDiv(x, ${name})`, 'TypeError', () => torch.F.klDiv(f(), v));
  check(`F.mseLoss(${name}, x)`, 'TypeError', () => torch.F.mseLoss(v, f()));
  check(`F.linear(x, ${name})`, 'TypeError', () => torch.F.linear(f(), v));
  check(`backward(${name})`, 'TypeError', () => torch.ones(2, { requiresGrad: true }).mul(2).backward(v === undefined || v === null ? {} : v));
}
// torch.tensor with bad data
for (const [name, v] of [['a string', 'abc'], ['an object', { a: 1 }], ['undefined', undefined], ['null', null], ['a nested string', [1, 'x']], ['a nested object', [[1], [{}]]], ['a symbol', Symbol('s')], ['a bigint', 5n], ['a Tensor', torch.ones(1)], ['a DataView', new DataView(new ArrayBuffer(8))]]) {
  check(`tensor(${name})`, 'TypeError', () => torch.tensor(v));
}
for (const [v, dt] of [[NaN, 'int64'], [Infinity, 'int64'], [-Infinity, 'int32'], [1e20, 'int64'], [2 ** 31, 'int32'], [40000, 'int16'], [200, 'int8'], [256, 'uint8'], [-1.5, 'uint8']]) {
  check(`tensor([${v}], {dtype: '${dt}'})`, 'RangeError', () => torch.tensor([1, v], { dtype: dt }));
  check(`tensor(Float64Array [${v}], {dtype: '${dt}'})`, 'RangeError', () => torch.tensor(new Float64Array([v]), { dtype: dt }));
}
check('tensor(ragged)', 'RangeError', () => torch.tensor([[1, 2], [3]]));
check('tensor(ragged depth)', 'RangeError', () => torch.tensor([[1, 2], 3]));
check('tensor(shape mismatch)', 'RangeError', () => torch.tensor([1, 2, 3], { shape: [2, 2] }));
check('tensor(typed, shape mismatch)', 'RangeError', () => torch.tensor(new Float32Array(6), { shape: [4, 2] }));

// 2. Bad shapes and dims: RangeError for non-integers, TorchError for out-of-range.
const badInts = [['NaN', NaN, 'RangeError'], ['1.5', 1.5, 'RangeError'], ['Infinity', Infinity, 'RangeError'], ['"1"', '1', 'TypeError'], ['null', null, 'TypeError'], ['true', true, 'TypeError'], ['1n', 1n, 'TypeError']];
for (const [name, v, cls] of badInts) {
  for (const factory of ['zeros', 'ones', 'empty', 'randn', 'rand']) {
    check(`${factory}(${name})`, cls, () => torch[factory](2, v));
    check(`${factory}([${name}])`, cls, () => torch[factory]([v, 2]));
  }
  check(`full([${name}], 1)`, cls, () => torch.full([v], 1));
  check(`reshape(${name})`, cls, () => f().reshape(v, -1));
  check(`view(${name})`, cls, () => f().view([v]));
  check(`expand(${name})`, cls, () => torch.ones(1).expand(v));
  check(`permute(${name})`, cls, () => f().permute(v, 0));
  for (const m of ['softmax', 'logSoftmax', 'unsqueeze', 'squeeze', 'cumsum', 'chunk']) {
    if (m === 'squeeze' && v === null) continue;
    check(`${m}(${name})`, cls, () => (m === 'chunk' ? f().chunk(2, v) : f()[m](v)));
  }
  for (const m of ['sum', 'mean', 'argmax', 'std', 'logsumexp']) {
    if (v === null) continue; // dim=null means all dims (logsumexp too, though Python requires a dim)
    check(`${m}(dim ${name})`, cls, () => f()[m](v));
  }
  check(`transpose(${name}, 0)`, cls, () => f().transpose(v, 0));
  check(`select(0, ${name})`, cls, () => f().select(0, v));
  check(`narrow(0, ${name}, 1)`, cls, () => f().narrow(0, v, 1));
  check(`topk(${name})`, cls, () => f().topk(v));
  check(`split(${name})`, cls, () => f().split(v));
  check(`randint(0, ${name}, [2])`, cls, () => torch.randint(0, v, [2]));
  check(`randperm(${name})`, cls, () => torch.randperm(v));
  check(`eye(${name})`, cls, () => torch.eye(v));
  check(`linspace(0, 1, ${name})`, cls, () => torch.linspace(0, 1, v));
  if (typeof v !== 'bigint') check(`manualSeed(${name})`, cls, () => torch.manualSeed(v));
  check(`F.oneHot(t, ${name})`, cls, () => torch.F.oneHot(i64(), v));
  if (v !== null) check(`F.crossEntropy ignoreIndex ${name}`, cls, () => torch.F.crossEntropy(f(), i64(), { ignoreIndex: v }));
}
for (const d of [2, 5, -3, -100, 1000]) {
  for (const m of ['softmax', 'logSoftmax', 'sum', 'mean', 'argmax', 'argmin', 'std', 'var', 'logsumexp', 'unsqueeze', 'squeeze', 'cumsum']) {
    if (m === 'unsqueeze' && d === 2) continue; // valid: 2-D tensor, new dim 2
    if (m === 'unsqueeze' && d === -3) continue; // valid
    check(`${m}(dim ${d}) of a 2-D tensor`, 'TorchError', () => f()[m](d), 'INDEX_ERROR');
  }
  check(`transpose(0, ${d})`, 'TorchError', () => f().transpose(0, d), 'INDEX_ERROR');
  check(`max(${d})`, 'TorchError', () => f().max(d), 'INDEX_ERROR');
  check(`cat(dim ${d})`, 'TorchError', () => torch.cat([f(), f()], d), 'INDEX_ERROR');
}
for (const idx of [3, -4, 100]) check(`select(0, ${idx}) of size 3`, 'TorchError', () => f().select(0, idx), 'INDEX_ERROR');
check('narrow beyond the end', 'TorchError', () => f().narrow(1, 3, 5));
check('reshape to a wrong numel', 'TorchError', () => f().reshape(5, 5));
check('reshape with two -1', 'TorchError', () => f().reshape(-1, -1));
check('view of a transposed tensor', 'TorchError', () => f().t().view(12));
check('expand to a smaller shape', 'TorchError', () => f().expand(2, 4));
check('permute with a repeated dim', 'TorchError', () => f().permute(0, 0));
check('permute with too few dims', 'TorchError', () => f().permute(0));
check('split sections that do not sum', 'TorchError', () => f().split([1, 1], 0));
// Value errors libtorch (or Python's F) reports itself are TorchErrors, as Python raises RuntimeError/ValueError.
check('chunk(0)', 'TorchError', () => f().chunk(0));
check('topk k > size', 'TorchError', () => f().topk(10));
check('negative shape', 'TorchError', () => torch.zeros(-1));
check('negative shape (full)', 'TorchError', () => torch.full([2, -3], 1));
check('arange with step 0', 'TorchError', () => torch.arange(0, 5, 0));
check('arange with the wrong sign of step', 'TorchError', () => torch.arange(0, 5, -1));
check('linspace with negative steps', 'RangeError', () => torch.linspace(0, 1, -1));
check('randint with high <= low', 'RangeError', () => torch.randint(5, 5, [2]));
check('randperm(-1)', 'RangeError', () => torch.randperm(-1));
check('eye(-2)', 'RangeError', () => torch.eye(-2));

// 3. Shapes that do not broadcast or multiply.
for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'eq', 'lt', 'maximum']) {
  check(`${op} of [3,4] and [4,3]`, 'TorchError', () => f()[op](torch.ones(4, 3)));
  check(`${op} of [3,4] and [5]`, 'TorchError', () => f()[op](torch.ones(5)));
}
check('matmul [3,4]x[3,4]', 'TorchError', () => f().matmul(f()));
check('mm of 1-D', 'TorchError', () => torch.ones(3).mm(torch.ones(3)));
check('mm [3,4]x[5,2]', 'TorchError', () => f().mm(torch.ones(5, 2)));
check('bmm of 2-D', 'TorchError', () => f().bmm(f()));
check('bmm batch mismatch', 'TorchError', () => torch.ones(2, 3, 4).bmm(torch.ones(3, 4, 2)));
check('cat of mismatched shapes', 'TorchError', () => torch.cat([f(), torch.ones(2, 5)]));
check('cat of nothing', 'TorchError', () => torch.cat([]));
check('stack of mismatched shapes', 'TorchError', () => torch.stack([f(), torch.ones(4, 3)]));
check('where with a non-broadcasting condition', 'TorchError', () => torch.where(torch.ones(5).gt(0), f(), f()));
check('maskedFill with a non-broadcasting mask', 'TorchError', () => f().maskedFill(torch.ones(5).gt(0), 0));
check('gather index of the wrong rank', 'TorchError', () => f().gather(1, torch.tensor([0])));
check('gather index out of range', 'TorchError', () => f().gather(1, torch.tensor([[9], [0], [0]])));
check('indexSelect out of range', 'TorchError', () => f().indexSelect(1, torch.tensor([0, 9])));
check('linear with mismatched weight', 'TorchError', () => torch.F.linear(f(), torch.ones(2, 5)));
check('mseLoss with mismatched shapes', 'TorchError', () => torch.F.mseLoss(f(), torch.ones(4, 3)));
check('crossEntropy with a wrong batch', 'TorchError', () => torch.F.crossEntropy(f(), torch.tensor([0, 1])));
check('crossEntropy with a class out of range', 'TorchError', () => torch.F.crossEntropy(f(), torch.tensor([0, 1, 7])));
check('nllLoss with a class out of range', 'TorchError', () => torch.F.nllLoss(f(), torch.tensor([0, -5, 1])));
check('klDiv with mismatched shapes', 'TorchError', () => torch.F.klDiv(f(), torch.ones(4, 3)));
check('bceWithLogits with mismatched shapes', 'TorchError', () => torch.F.binaryCrossEntropyWithLogits(f(), torch.ones(3)));
check('backward with a gradient of the wrong shape', 'TorchError', () => torch.ones(3, { requiresGrad: true }).mul(2).backward(torch.ones(4)));
check('oneHot with a class >= numClasses', 'TorchError', () => torch.F.oneHot(torch.tensor([0, 5]), 3));
check('oneHot with a negative class', 'TorchError', () => torch.F.oneHot(torch.tensor([0, -1])));
check('in-place add that would broadcast self', 'TorchError', () => torch.ones(3).add_(torch.ones(2, 3)));

// 4. dtype mismatches.
check('matmul float32 x float64', 'TorchError', () => f().matmul(torch.ones(4, 2, { dtype: 'float64' })));
check('mm float32 x int64', 'TorchError', () => f().mm(torch.ones(4, 2, { dtype: 'int64' })));
check('indexSelect with a float index', 'TorchError', () => f().indexSelect(1, torch.tensor([0.5, 1.5])));
check('gather with a float index', 'TorchError', () => f().gather(1, torch.zeros(3, 1)));
check('maskedFill with a float mask', 'TorchError', () => f().maskedFill(torch.zeros(3, 4), 1));
check('where with a float condition', 'TorchError', () => torch.where(torch.zeros(3, 4), f(), f()));
check('crossEntropy with float32 targets of the wrong shape', 'TorchError', () => torch.F.crossEntropy(f(), torch.zeros(3)));
check('nllLoss with float targets', 'TorchError', () => torch.F.nllLoss(f(), torch.zeros(3)));
check('oneHot of a float tensor', 'TorchError', () => torch.F.oneHot(torch.zeros(3)));
check('mean of an int64 tensor', 'TorchError', () => torch.tensor([1, 2]).mean());
check('std of an int64 tensor', 'TorchError', () => torch.tensor([1, 2]).std());
check('softmax of an int64 tensor', 'TorchError', () => torch.tensor([1, 2]).softmax(0));
check('requiresGrad on an int64 tensor', 'TorchError', () => { torch.tensor([1, 2]).requiresGrad = true; });
check('tensor int64 with requiresGrad', 'TorchError', () => torch.tensor([1, 2], { requiresGrad: true }));
check('in-place float result into an int64 tensor', 'TorchError', () => torch.tensor([1, 2]).div_(2.5));
for (const bad of ['float128', 'int', 'Float32', '', 'complex64']) {
  if (bad === 'int') continue; // alias of int32
  check(`dtype '${bad}'`, 'RangeError', () => torch.zeros(2, { dtype: bad }));
  check(`to('${bad}')`, 'RangeError', () => f().to(bad));
}
for (const bad of [5, true, {}]) check(`dtype ${String(bad)}`, 'TypeError', () => torch.zeros(2, { dtype: bad }));

// 5. Numbers where an integer or a number is needed.
check('randint(NaN)', 'RangeError', () => torch.randint(NaN, [2]));
check('full([2], NaN) is fine, full([2], "x") is not', 'TypeError', () => torch.full([2], 'x'));
check('arange("x")', 'TypeError', () => torch.arange('x'));
check('linspace("a", 1, 3)', 'TypeError', () => torch.linspace('a', 1, 3));
check('clamp("x")', 'TypeError', () => f().clamp('x'));
check('clamp(0, "y")', 'TypeError', () => f().clamp(0, 'y'));
check('dropout p "x"', 'TypeError', () => torch.F.dropout(f(), 'x'));
check('dropout p 1.5', 'TorchError', () => torch.F.dropout(f(), 1.5));
check('dropout p -0.1', 'TorchError', () => torch.F.dropout(f(), -0.1));
check('dropout training "yes"', 'TypeError', () => torch.F.dropout(f(), 0.5, 'yes'));
check('leakyRelu slope "x"', 'TypeError', () => torch.F.leakyRelu(f(), 'x'));
check('gelu approximate "fast"', 'RangeError', () => torch.F.gelu(f(), { approximate: 'fast' }));
check('labelSmoothing "x"', 'TypeError', () => torch.F.crossEntropy(f(), i64(), { labelSmoothing: 'x' }));
check('labelSmoothing 2', 'TorchError', () => torch.F.crossEntropy(f(), i64(), { labelSmoothing: 2 }));
check('reduction "avg"', 'RangeError', () => torch.F.mseLoss(f(), f(), { reduction: 'avg' }));
check('reduction 1', 'TypeError', () => torch.F.l1Loss(f(), f(), { reduction: 1 }));
check('klDiv reduction "max"', 'RangeError', () => torch.F.klDiv(f(), f(), { reduction: 'max' }));
check('alpha "x"', 'TypeError', () => f().add(f(), { alpha: 'x' }));
check('alpha "x" (positional)', 'TypeError', () => f().add(f(), 'x'));
check('div roundingMode "round"', 'RangeError', () => f().div(2, { roundingMode: 'round' }));
check('requiresGrad = "yes"', 'TypeError', () => { f().requiresGrad = 'yes'; });
check('tensor options requiresGrad "yes"', 'TypeError', () => torch.zeros(2, { requiresGrad: 'yes' }));
check('tensor options not an object', 'TypeError', () => torch.tensor([1], 5));
check('item() of several elements', 'RangeError', () => f().item());
check('tidy(not a function)', 'TypeError', () => torch.tidy(5));
check('noGrad(not a function)', 'TypeError', () => torch.noGrad('x'));
check('to(5)', 'TypeError', () => f().to(5));
check('to(null)', 'TypeError', () => f().to(null));
check('new Tensor()', 'TypeError', () => new torch.Tensor(1));
check('backward of a non-scalar', 'RangeError', () => torch.ones(2, { requiresGrad: true }).mul(2).backward());
check('backward without requiresGrad', 'TorchError', () => torch.ones(2).sum().backward());

// 6. Devices.
for (const bad of ['tpu', 'gpu', 'cuda:x', 'CPU', 'cuda:-1']) {
  check(`device '${bad}'`, 'RangeError', () => torch.zeros(2, { device: bad }));
  check(`to('${bad}')`, 'RangeError', () => f().to({ device: bad }));
}
if (!torch.cuda.isAvailable()) {
  for (const dev of ['cuda', 'cuda:0', 'cuda:1']) {
    check(`zeros on ${dev} without a GPU`, 'TorchError', () => torch.zeros(2, { device: dev }), 'CUDA_UNAVAILABLE');
    check(`tensor on ${dev} without a GPU`, 'TorchError', () => torch.tensor([1], { device: dev }), 'CUDA_UNAVAILABLE');
    check(`randn on ${dev} without a GPU`, 'TorchError', () => torch.randn([2], { device: dev }), 'CUDA_UNAVAILABLE');
    check(`to(${dev}) without a GPU`, 'TorchError', () => f().to(dev), 'CUDA_UNAVAILABLE');
  }
  check('cuda() without a GPU', 'TorchError', () => f().cuda(), 'CUDA_UNAVAILABLE');
}

// 7. Disposed tensors, everywhere.
const dead = torch.ones(3, 4);
dead.dispose();
const deadUses = {
  shape: () => dead.shape, dtype: () => dead.dtype, device: () => dead.device, numel: () => dead.numel(), item: () => dead.item(),
  data: () => dead.data(), dataView: () => dead.dataView(), toArray: () => dead.toArray(), add: () => dead.add(1),
  addRight: () => f().add(dead), matmul: () => f().t().matmul(dead), cat: () => torch.cat([f(), dead]),
  stack: () => torch.stack([dead]), where: () => torch.where(f().gt(0), dead, 0), maskedFill: () => f().maskedFill(dead.gt(0), 0),
  relu: () => torch.F.relu(dead), crossEntropy: () => torch.F.crossEntropy(dead, torch.tensor([0, 1, 2])),
  target: () => torch.F.mseLoss(f(), dead), grad: () => dead.grad, setGrad: () => { f().requiresGrad_().grad = dead; },
  requiresGrad: () => dead.requiresGrad, to: () => dead.to('float64'), clone: () => dead.clone(), detach: () => dead.detach(),
  backward: () => dead.backward(), view: () => dead.view(12), sum: () => dead.sum(), softmax: () => dead.softmax(1),
  topk: () => dead.topk(1), like: () => torch.zerosLike(dead), linear: () => torch.F.linear(f(), dead),
};
for (const [name, fn] of Object.entries(deadUses)) check(`disposed: ${name}`, 'TorchError', fn, 'DISPOSED');

// The process is still healthy: a normal op after all that.
const sanity = torch.tensor([1, 2, 3]).mul(2).sum().item();
process.stdout.write(JSON.stringify({ sanity, results }));
