'use strict';
// In-place ops (PyTorch's trailing underscore): they write into this tensor and return it.

const m = (name, sig, cpp, doc) => ({ name, sig, cpp, ret: 'self', on: 'method', doc });

module.exports = [
  m('add_', 'Tensor self, Tensor|Scalar other, Scalar alpha=1', 'self.add_(other, alpha)', 'In place: self += alpha·other.'),
  m('sub_', 'Tensor self, Tensor|Scalar other, Scalar alpha=1', 'self.sub_(other, alpha)', 'In place: self −= alpha·other.'),
  m('mul_', 'Tensor self, Tensor|Scalar other', 'self.mul_(other)', 'In place: self ·= other.'),
  m(
    'div_',
    'Tensor self, Tensor|Scalar other, *, str{floor|trunc}? roundingMode=null',
    'roundingMode ? self.div_(other, c10::string_view(*roundingMode)) : self.div_(other)',
    'In place: self /= other.',
  ),
  m('pow_', 'Tensor self, Tensor|Scalar exponent', 'self.pow_(exponent)', 'In place: self **= exponent.'),
  m('addcmul_', 'Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1', 'self.addcmul_(tensor1, tensor2, value)', 'In place: self += value·tensor1·tensor2.'),
  m('addcdiv_', 'Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1', 'self.addcdiv_(tensor1, tensor2, value)', 'In place: self += value·tensor1/tensor2.'),
  m('lerp_', 'Tensor self, Tensor end, Tensor|Scalar weight', 'self.lerp_(end, weight)', 'In place: self += weight·(end − self).'),
  {
    name: 'clamp_',
    overloads: [
      { sig: 'Tensor self, Scalar? min=null, Scalar? max=null', cpp: 'self.clamp_(min, max)' },
      { sig: 'Tensor self, Tensor? min=null, Tensor? max=null', cpp: 'self.clamp_(min, max)' },
    ],
    ret: 'self',
    on: 'method',
    doc: 'In place: clamps into [min, max] (numbers or tensors).',
  },
  m('clampMin_', 'Tensor self, Tensor|Scalar min', 'self.clamp_min_(min)', 'In place: max(self, min).'),
  m('clampMax_', 'Tensor self, Tensor|Scalar max', 'self.clamp_max_(max)', 'In place: min(self, max).'),
  m('fill_', 'Tensor self, Tensor|Scalar value', 'self.fill_(value)', 'In place: every element set to `value`.'),
  m('copy_', 'Tensor self, Tensor src, bool nonBlocking=false', 'self.copy_(src, nonBlocking)', "In place: `src`'s values (broadcast, converted)."),
  m('zero_', 'Tensor self', 'self.zero_()', 'In place: zeros.'),
  m('maskedFill_', 'Tensor self, Tensor mask, Tensor|Scalar value', 'self.masked_fill_(mask, value)', 'In place: `value` where `mask` is true.'),
  m('uniform_', 'Tensor self, float from=0, float to=1', 'self.uniform_(from, to)', 'In place: samples from U(from, to), from the default generator.'),
  m('normal_', 'Tensor self, float mean=0, float std=1', 'self.normal_(mean, std)', 'In place: samples from N(mean, std²), from the default generator.'),
  m('bernoulli_', 'Tensor self, float p=0.5', 'self.bernoulli_(p)', 'In place: 1 with probability p, else 0.'),
  m('exponential_', 'Tensor self, float lambd=1', 'self.exponential_(lambd)', 'In place: samples from Exp(lambd).'),
  m('scatter_', 'Tensor self, int dim, Tensor index, Tensor|Scalar src', 'self.scatter_(dim, index, src)', 'In place: `src` written at `index` along `dim`.'),
  m('scatterAdd_', 'Tensor self, int dim, Tensor index, Tensor src', 'self.scatter_add_(dim, index, src)', 'In place: `src` added at `index` along `dim`.'),
  m('indexFill_', 'Tensor self, int dim, Tensor index, Tensor|Scalar value', 'self.index_fill_(dim, index, value)', 'In place: `value` at `index` along `dim`.'),
  m('indexAdd_', 'Tensor self, int dim, Tensor index, Tensor source, *, Scalar alpha=1', 'self.index_add_(dim, index, source, alpha)', 'In place: alpha·source added at `index` along `dim`.'),
  ...[
    'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'abs', 'sign', 'floor', 'ceil', 'round', 'trunc', 'sigmoid', 'tanh', 'relu',
    'reciprocal', 'square', 'erfinv', 'sin', 'cos',
  ].map((f) => m(`${f}_`, 'Tensor self', `self.${f}_()`, `In place: ${f}.`)),
  m('t_', 'Tensor self', 'self.t_()', 'In place: transposes a matrix.'),
  m('squeeze_', 'Tensor self, int? dim=null', 'dim ? self.squeeze_(*dim) : self.squeeze_()', 'In place: drops dims of size 1.'),
  m('unsqueeze_', 'Tensor self, int dim', 'self.unsqueeze_(dim)', 'In place: inserts a dim of size 1.'),
  m('detach_', 'Tensor self', 'self.detach_()', 'In place: removes this tensor from the autograd graph.'),
];
