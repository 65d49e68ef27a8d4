'use strict';
// torch.nn.functional activations, with Python's `inplace` flag where PyTorch has one (the in-place libtorch op).

const withInplace = (name, at, doc, extraSig = '', extraArgs = '') => ({
  name,
  sig: `Tensor self${extraSig}, bool inplace=false`,
  cpp: `inplace ? at::${at}_(self${extraArgs}) : at::${at}(self${extraArgs})`,
  on: 'F',
  doc,
});

module.exports = [
  withInplace('relu', 'relu', 'max(x, 0); `{inplace: true}` overwrites the input.'),
  withInplace('relu6', 'relu6', 'min(max(x, 0), 6).'),
  withInplace('leakyRelu', 'leaky_relu', 'x where x ≥ 0, negativeSlope·x elsewhere.', ', float negativeSlope=0.01', ', negativeSlope'),
  withInplace('elu', 'elu', 'x where x > 0, alpha·(eˣ − 1) elsewhere.', ', float alpha=1.0', ', alpha'),
  withInplace('selu', 'selu', 'Scaled ELU with the self-normalising constants.'),
  withInplace('celu', 'celu', 'max(0, x) + min(0, alpha·(e^(x/alpha) − 1)).', ', float alpha=1.0', ', alpha'),
  withInplace('silu', 'silu', 'x·sigmoid(x) (swish).'),
  withInplace('mish', 'mish', 'x·tanh(softplus(x)).'),
  withInplace('hardswish', 'hardswish', 'x·relu6(x + 3)/6.'),
  withInplace('hardsigmoid', 'hardsigmoid', 'relu6(x + 3)/6.'),
  {
    name: 'hardtanh',
    sig: 'Tensor self, float minVal=-1.0, float maxVal=1.0, bool inplace=false',
    cpp: `{
      TORCH_CHECK_VALUE(minVal <= maxVal, "min_val cannot be greater than max_val");
      return inplace ? at::hardtanh_(self, minVal, maxVal) : at::hardtanh(self, minVal, maxVal);
    }`,
    on: 'F',
    doc: 'Clamps into [minVal, maxVal].',
  },
  {
    name: 'threshold',
    sig: 'Tensor self, float threshold, float value, bool inplace=false',
    cpp: 'inplace ? at::threshold_(self, threshold, value) : at::threshold(self, threshold, value)',
    on: 'F',
    doc: 'x where x > threshold, else value.',
  },
  { name: 'gelu', sig: 'Tensor self, *, str{none|tanh} approximate="none"', cpp: 'at::gelu(self, approximate)', on: 'F', doc: "GELU; `{approximate: 'tanh'}` for the tanh approximation." },
  { name: 'sigmoid', sig: 'Tensor self', cpp: 'at::sigmoid(self)', on: 'F', doc: 'The logistic function.' },
  { name: 'tanh', sig: 'Tensor self', cpp: 'at::tanh(self)', on: 'F', doc: 'Hyperbolic tangent.' },
  { name: 'logsigmoid', sig: 'Tensor self', cpp: 'at::log_sigmoid(self)', on: 'F', doc: 'log(sigmoid(x)), computed stably.' },
  { name: 'softplus', sig: 'Tensor self, float beta=1.0, float threshold=20.0', cpp: 'at::softplus(self, beta, threshold)', on: 'F', doc: 'log(1 + e^(beta·x))/beta (linear above threshold).' },
  { name: 'softsign', sig: 'Tensor self', cpp: 'self / (self.abs() + 1)', on: 'F', doc: 'x / (1 + |x|).' },
  { name: 'tanhshrink', sig: 'Tensor self', cpp: 'self - self.tanh()', on: 'F', doc: 'x − tanh(x).' },
  {
    name: 'glu',
    sig: 'Tensor self, int dim=-1',
    cpp: '{ TORCH_CHECK(self.dim() != 0, "glu does not support scalars because halving size must be even"); return at::glu(self, dim); }',
    on: 'F',
    doc: 'Gated linear unit: a·sigmoid(b) for the halves a, b of `dim`.',
  },
  { name: 'prelu', sig: 'Tensor self, Tensor weight', cpp: 'at::prelu(self, weight)', on: 'F', doc: 'x where x ≥ 0, weight·x elsewhere (weight per channel).' },
  {
    name: 'oneHot',
    sig: 'Tensor self, int numClasses=-1',
    cpp: 'at::one_hot(self, numClasses)',
    on: 'F',
    doc: 'One-hot encoding of an int64 tensor (`numClasses = -1` infers it from the largest value).',
  },
];
