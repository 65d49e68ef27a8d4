'use strict';
// Layer constructors, PyTorch's signatures camelCased (the spec language of scripts/codegen/signature.js). `impl`
// names the hand-written class in lib/nn/layers/ that receives the checked arguments. `device` / `dtype` are
// PyTorch's factory keywords: the parameters are made (and initialised) there, as in PyTorch.

const factory = '*, Device? device=null, DType? dtype=null';
const pad = (d) => `int[${d}]|str{same|valid} padding=0`;
const conv = (d) => ({
  name: `Conv${d}d`,
  impl: d === 2 ? 'Conv2dImpl' : 'ConvNdImpl',
  sig: `int inChannels, int outChannels, int[${d}] kernelSize, int[${d}] stride=1, ${pad(d)}, int[${d}] dilation=1, int groups=1, bool bias=true, str{zeros|reflect|replicate|circular} paddingMode="zeros", ${factory}`,
  doc: `${d}-D convolution over (N, C, ${['L', 'H, W', 'D, H, W'][d - 1]}) inputs, initialised as PyTorch (Kaiming-uniform weights, uniform bias).`,
});
const convT = (d) => ({
  name: `ConvTranspose${d}d`,
  impl: 'ConvTransposeNdImpl',
  sig: `int inChannels, int outChannels, int[${d}] kernelSize, int[${d}] stride=1, int[${d}] padding=0, int[${d}] outputPadding=0, int groups=1, bool bias=true, int[${d}] dilation=1, str{zeros} paddingMode="zeros", ${factory}`,
  doc: `${d}-D transposed convolution.`,
});
const bn = (d, impl) => ({
  name: `BatchNorm${d}d`,
  impl,
  sig: `int numFeatures, float eps=1e-05, float? momentum=0.1, bool affine=true, bool trackRunningStats=true, ${factory}, bool bias=true`,
  doc: `Batch normalisation over ${['(N, C) or (N, C, L)', '(N, C, H, W)', '(N, C, D, H, W)'][d - 1]} inputs, with running statistics.`,
});
const inorm = (d) => ({
  name: `InstanceNorm${d}d`,
  impl: 'InstanceNormImpl',
  sig: `int numFeatures, float eps=1e-05, float? momentum=0.1, bool affine=false, bool trackRunningStats=false, ${factory}, bool bias=true`,
  doc: `Instance normalisation (per sample and channel) over ${d}-D spatial inputs.`,
});
const maxPool = (d) => ({
  name: `MaxPool${d}d`,
  impl: d === 2 ? 'MaxPool2dImpl' : 'PoolImpl',
  sig: `int[${d}] kernelSize, int[${d}]? stride=null, int[${d}] padding=0, int[${d}] dilation=1, bool returnIndices=false, bool ceilMode=false`,
  doc: `${d}-D max pooling (stride defaults to the kernel size).`,
});
const avgPool = (d) => ({
  name: `AvgPool${d}d`,
  impl: d === 2 ? 'AvgPool2dImpl' : 'PoolImpl',
  sig: `int[${d}] kernelSize, int[${d}]? stride=null, int[${d}] padding=0, bool ceilMode=false, bool countIncludePad=true${d > 1 ? ', int? divisorOverride=null' : ''}`,
  doc: `${d}-D average pooling (stride defaults to the kernel size).`,
});
const adaptive = (kind, d) => ({
  name: `Adaptive${kind}Pool${d}d`,
  impl: kind === 'Avg' && d === 2 ? 'AdaptiveAvgPool2dImpl' : 'PoolImpl',
  sig: `int[${d}] outputSize${kind === 'Max' ? ', bool returnIndices=false' : ''}`,
  doc: `${d}-D adaptive ${kind.toLowerCase()} pooling to a fixed output size.`,
});
const act = (name, sig, doc, impl = 'ActivationImpl') => ({ name, impl, sig, doc });
const dropout = (name, doc, impl = 'DropoutImpl') => ({ name, impl, sig: 'float p=0.5, bool inplace=false', doc });

module.exports = [
  {
    name: 'Linear',
    impl: 'LinearImpl',
    sig: `int inFeatures, int outFeatures, bool bias=true, ${factory}`,
    doc: 'y = x·Wᵀ + b, initialised as PyTorch (Kaiming-uniform weight, uniform bias).',
  },
  { name: 'Bilinear', impl: 'BilinearImpl', sig: `int in1Features, int in2Features, int outFeatures, bool bias=true, ${factory}`, doc: 'y = x1ᵀ·A·x2 + b.' },
  conv(1),
  conv(2),
  conv(3),
  convT(1),
  convT(2),
  convT(3),
  bn(1, 'BatchNormNativeImpl'),
  bn(2, 'BatchNormNativeImpl'),
  bn(3, 'BatchNormImpl'),
  inorm(1),
  inorm(2),
  inorm(3),
  {
    name: 'LayerNorm',
    impl: 'LayerNormImpl',
    sig: `int[1] normalizedShape, float eps=1e-05, bool elementwiseAffine=true, bool bias=true, ${factory}`,
    doc: 'Layer normalisation over the trailing `normalizedShape` dims, with a learnable scale and shift.',
  },
  {
    name: 'GroupNorm',
    impl: 'GroupNormImpl',
    sig: `int numGroups, int numChannels, float eps=1e-05, bool affine=true, ${factory}, bool bias=true`,
    doc: 'Group normalisation: the channels in `numGroups` groups.',
  },
  {
    name: 'RMSNorm',
    impl: 'RMSNormImpl',
    sig: `int[1] normalizedShape, float? eps=null, bool elementwiseAffine=true, ${factory}`,
    doc: 'Root-mean-square normalisation over the trailing dims.',
  },
  {
    name: 'Embedding',
    impl: 'EmbeddingImpl',
    sig: `int numEmbeddings, int embeddingDim, int? paddingIdx=null, float? maxNorm=null, float normType=2.0, bool scaleGradByFreq=false, bool sparse=false, Tensor? weight=null, bool freeze=false, ${factory}`,
    doc: 'A lookup table of `numEmbeddings` vectors (N(0, 1) initialised; the padding row zero).',
  },
  maxPool(1),
  maxPool(2),
  maxPool(3),
  avgPool(1),
  avgPool(2),
  avgPool(3),
  adaptive('Avg', 1),
  adaptive('Avg', 2),
  adaptive('Avg', 3),
  adaptive('Max', 1),
  adaptive('Max', 2),
  adaptive('Max', 3),
  {
    name: 'Upsample',
    impl: 'UpsampleImpl',
    sig: 'int?|int[]? size=null, float?|float[]? scaleFactor=null, str{nearest|linear|bilinear|bicubic|trilinear|area|nearest-exact} mode="nearest", bool? alignCorners=null, bool? recomputeScaleFactor=null',
    doc: 'Resamples to `size` or by `scaleFactor` (F.interpolate).',
  },
  { name: 'Flatten', impl: 'FlattenImpl', sig: 'int startDim=1, int endDim=-1', doc: 'Flattens dims startDim..endDim into one.' },
  { name: 'Unflatten', impl: 'UnflattenImpl', sig: 'int dim, int[] unflattenedSize', doc: 'Splits one dim into several sizes.' },
  { name: 'PixelShuffle', impl: 'ActivationImpl', sig: 'int upscaleFactor', doc: '(N, C·r², H, W) → (N, C, H·r, W·r).' },
  { name: 'CosineSimilarity', impl: 'ActivationImpl', sig: 'int dim=1, float eps=1e-08', doc: 'Cosine similarity of two inputs along `dim`.' },
  { name: 'PairwiseDistance', impl: 'ActivationImpl', sig: 'float p=2.0, float eps=1e-06, bool keepdim=false', doc: 'p-norm distance of two inputs along the last dim.' },
  ...[1, 2, 3].map((d) => ({ name: `ConstantPad${d}d`, impl: 'PadImpl', sig: `int[${2 * d}] padding, float value`, doc: `Pads the last ${d} dim(s) with a constant.` })),
  ...[1, 2, 3].map((d) => ({ name: `ZeroPad${d}d`, impl: 'PadImpl', sig: `int[${2 * d}] padding`, doc: `Pads the last ${d} dim(s) with zeros.` })),
  ...[1, 2, 3].map((d) => ({ name: `ReflectionPad${d}d`, impl: 'PadImpl', sig: `int[${2 * d}] padding`, doc: `Pads the last ${d} dim(s) by reflection.` })),
  ...[1, 2, 3].map((d) => ({ name: `ReplicationPad${d}d`, impl: 'PadImpl', sig: `int[${2 * d}] padding`, doc: `Pads the last ${d} dim(s) by repeating the edge.` })),
  ...[1, 2, 3].map((d) => ({ name: `CircularPad${d}d`, impl: 'PadImpl', sig: `int[${2 * d}] padding`, doc: `Pads the last ${d} dim(s) circularly.` })),

  // ---- dropout ------------------------------------------------------------------------------------------------
  dropout('Dropout', 'Zeroes elements with probability p when training (scaling the rest by 1/(1−p)).', 'DropoutNativeImpl'),
  dropout('Dropout1d', 'Zeroes whole channels of (N, C, L) inputs when training.'),
  dropout('Dropout2d', 'Zeroes whole channels of (N, C, H, W) inputs when training.'),
  dropout('Dropout3d', 'Zeroes whole channels of (N, C, D, H, W) inputs when training.'),
  dropout('AlphaDropout', 'Dropout that keeps the mean and variance of SELU activations.'),
  dropout('FeatureAlphaDropout', 'Alpha dropout of whole channels.'),

  // ---- activations ----------------------------------------------------------------------------------------------
  act('ReLU', 'bool inplace=false', 'max(x, 0).', 'NativeActivationImpl'),
  act('LeakyReLU', 'float negativeSlope=0.01, bool inplace=false', 'x for x ≥ 0, negativeSlope·x otherwise.', 'NativeActivationImpl'),
  act('GELU', 'str{none|tanh} approximate="none"', 'Gaussian error linear unit.', 'NativeActivationImpl'),
  act('Sigmoid', '', 'The logistic function.', 'NativeActivationImpl'),
  act('Tanh', '', 'Hyperbolic tangent.', 'NativeActivationImpl'),
  act('Softmax', 'int? dim=null', 'Softmax along `dim`.', 'NativeActivationImpl'),
  act('LogSoftmax', 'int? dim=null', 'log(softmax(x)) along `dim`.', 'NativeActivationImpl'),
  act('Softmin', 'int? dim=null', 'softmax(−x) along `dim`.'),
  act('ReLU6', 'bool inplace=false', 'min(max(x, 0), 6).'),
  act('ELU', 'float alpha=1.0, bool inplace=false', 'x for x > 0, alpha·(eˣ − 1) otherwise.'),
  act('SELU', 'bool inplace=false', 'Scaled ELU.'),
  act('CELU', 'float alpha=1.0, bool inplace=false', 'Continuously differentiable ELU.'),
  act('SiLU', 'bool inplace=false', 'x·sigmoid(x).'),
  act('Mish', 'bool inplace=false', 'x·tanh(softplus(x)).'),
  act('Hardswish', 'bool inplace=false', 'x·relu6(x + 3)/6.'),
  act('Hardsigmoid', 'bool inplace=false', 'relu6(x + 3)/6.'),
  act('Hardtanh', 'float minVal=-1.0, float maxVal=1.0, bool inplace=false', 'Clamps into [minVal, maxVal].'),
  act('Threshold', 'float threshold, float value, bool inplace=false', 'x where x > threshold, else value.'),
  act('Softplus', 'float beta=1.0, float threshold=20.0', 'log(1 + e^(beta·x))/beta.'),
  act('Softsign', '', 'x / (1 + |x|).'),
  act('Tanhshrink', '', 'x − tanh(x).'),
  act('LogSigmoid', '', 'log(sigmoid(x)).'),
  act('GLU', 'int dim=-1', 'Gated linear unit along `dim`.'),
  { name: 'PReLU', impl: 'PReLUImpl', sig: `int numParameters=1, float init=0.25, ${factory}`, doc: 'x for x ≥ 0, a·x otherwise, with a learnable `a` (per channel or shared).' },
];
