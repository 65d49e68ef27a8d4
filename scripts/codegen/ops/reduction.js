'use strict';
// Reductions and scans. `int[1]? dim` takes a dim or a list of dims (null: all of them), as PyTorch's `dim`.

// sum/mean over everything without keepdim go through PyTorch's no-dim overload, as Python's x.sum() does.
const whole = (at) => `!dim.has_value() && !keepdim ? at::${at}(self, dtype) : at::${at}(self, dim, keepdim, dtype)`;

module.exports = [
  {
    name: 'sum',
    sig: 'Tensor self, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
    cpp: whole('sum'),
    on: 'method torch',
    doc: 'Sum over all elements, or over `dim` (a dim or a list of dims); `{keepdim, dtype}`.',
  },
  {
    name: 'nansum',
    sig: 'Tensor self, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
    cpp: 'at::nansum(self, dim, keepdim, dtype)',
    on: 'method torch',
    doc: 'Sum treating NaN as zero.',
  },
  {
    name: 'mean',
    sig: 'Tensor self, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
    cpp: whole('mean'),
    on: 'method torch',
    doc: 'Mean over all elements, or over `dim`.',
  },
  {
    name: 'nanmean',
    sig: 'Tensor self, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
    cpp: 'at::nanmean(self, dim, keepdim, dtype)',
    on: 'method torch',
    doc: 'Mean ignoring NaN.',
  },
  {
    name: 'prod',
    overloads: [
      { sig: 'Tensor self, *, dtype? dtype=null', cpp: 'at::prod(self, dtype)' },
      { sig: 'Tensor self, int dim, bool keepdim=false, *, dtype? dtype=null', cpp: 'at::prod(self, dim, keepdim, dtype)' },
    ],
    on: 'method torch',
    doc: 'Product over all elements, or along one dim.',
  },
  {
    name: 'amax',
    sig: 'Tensor self, int[1] dim=[], bool keepdim=false',
    cpp: 'at::amax(self, dim, keepdim)',
    on: 'method torch',
    doc: 'Maximum over `dim` (all dims by default), without indices.',
  },
  {
    name: 'amin',
    sig: 'Tensor self, int[1] dim=[], bool keepdim=false',
    cpp: 'at::amin(self, dim, keepdim)',
    on: 'method torch',
    doc: 'Minimum over `dim` (all dims by default), without indices.',
  },
  {
    name: 'logsumexp',
    sig: 'Tensor self, int[1] dim, bool keepdim=false',
    cpp: 'at::logsumexp(self, dim, keepdim)',
    on: 'method torch',
    doc: 'log Σ exp(x) over `dim`, computed stably.',
  },
  {
    name: 'any',
    sig: 'Tensor self, int[1]? dim=null, bool keepdim=false',
    cpp: '!dim.has_value() && !keepdim ? at::any(self) : at::any(self, dim, keepdim)',
    ret: 'BoolTensor',
    on: 'method torch',
    doc: 'Whether any element is non-zero (optionally along a dim).',
  },
  {
    name: 'all',
    sig: 'Tensor self, int[1]? dim=null, bool keepdim=false',
    cpp: '!dim.has_value() && !keepdim ? at::all(self) : at::all(self, dim, keepdim)',
    ret: 'BoolTensor',
    on: 'method torch',
    doc: 'Whether every element is non-zero (optionally along a dim).',
  },
  ...['max', 'min'].map((m) => ({
    name: m,
    overloads: [
      { sig: 'Tensor self', cpp: `at::${m}(self)` },
      { sig: 'Tensor self, int dim, bool keepdim=false', cpp: `at::${m}(self, dim, keepdim)`, ret: 'ValuesIndices' },
      { sig: 'Tensor self, Tensor other', cpp: `at::${m === 'max' ? 'maximum' : 'minimum'}(self, other)` },
    ],
    on: 'method torch',
    doc: `The ${m}imum element; along a dim, \`{values, indices}\` (also \`[values, indices]\`); with a tensor, the element-wise ${m}imum.`,
  })),
  ...['argmax', 'argmin'].map((m) => ({
    name: m,
    sig: 'Tensor self, int? dim=null, bool keepdim=false',
    cpp: `at::${m}(self, dim, keepdim)`,
    on: 'method torch',
    doc: `Index of the ${m.slice(3)}imum (of the flattened tensor, or along \`dim\`).`,
  })),
  ...['std', 'var'].map((m) => ({
    name: m,
    sig: 'Tensor self, int[1]? dim=null, bool? unbiased=null, bool keepdim=false, *, Scalar? correction=null',
    cpp: `{
      TORCH_CHECK_TYPE(!(unbiased.has_value() && correction.has_value()), "${m}: give either unbiased or correction, not both");
      const at::Scalar c = correction.has_value() ? *correction : at::Scalar(int64_t(unbiased.value_or(true) ? 1 : 0));
      return at::${m}(self, dim, c, keepdim);
    }`,
    on: 'method torch',
    doc: `${m === 'std' ? 'Standard deviation' : 'Variance'} with Bessel's correction by default (\`{correction: 0}\` or \`{unbiased: false}\` for the population ${m === 'std' ? 'deviation' : 'variance'}).`,
  })),
  {
    name: 'cumsum',
    sig: 'Tensor self, int dim, *, dtype? dtype=null',
    cpp: 'at::cumsum(self, dim, dtype)',
    on: 'method torch',
    doc: 'Cumulative sum along `dim`.',
  },
  {
    name: 'cumprod',
    sig: 'Tensor self, int dim, *, dtype? dtype=null',
    cpp: 'at::cumprod(self, dim, dtype)',
    on: 'method torch',
    doc: 'Cumulative product along `dim`.',
  },
  {
    name: 'softmax',
    sig: 'Tensor self, int dim, *, dtype? dtype=null',
    cpp: 'at::softmax(self, dim, dtype)',
    on: 'method torch F',
    doc: 'Softmax along `dim` (`{dtype}` casts first).',
  },
  {
    name: 'logSoftmax',
    sig: 'Tensor self, int dim, *, dtype? dtype=null',
    cpp: 'at::log_softmax(self, dim, dtype)',
    on: 'method torch F',
    doc: 'log(softmax(x)) along `dim`, computed stably.',
  },
  {
    name: 'softmin',
    sig: 'Tensor self, int dim, *, dtype? dtype=null',
    cpp: 'at::softmax(at::neg(self), dim, dtype)',
    on: 'F',
    doc: 'softmax(−x) along `dim`.',
  },
  {
    name: 'topk',
    sig: 'Tensor self, int k, int dim=-1, bool largest=true, bool sorted=true',
    cpp: 'at::topk(self, k, dim, largest, sorted)',
    ret: 'ValuesIndices',
    on: 'method torch',
    doc: 'The k largest (or smallest) elements along `dim`, as `{values, indices}`.',
  },
  {
    name: 'sort',
    sig: 'Tensor self, int dim=-1, bool descending=false, *, bool stable=false',
    cpp: 'at::sort(self, stable, dim, descending)',
    ret: 'ValuesIndices',
    on: 'method torch',
    doc: 'Sorted values along `dim` with their original indices.',
  },
  {
    name: 'argsort',
    sig: 'Tensor self, int dim=-1, bool descending=false, *, bool stable=false',
    cpp: 'at::argsort(self, stable, dim, descending)',
    on: 'method torch',
    doc: 'The indices that sort `dim`.',
  },
];
