'use strict';
// Products, distances, norms and einsum.

module.exports = [
  { name: 'matmul', sig: 'Tensor self, Tensor other', cpp: 'at::matmul(self, other)', on: 'method torch', doc: 'Matrix product with broadcasting (vectors, matrices, batches).' },
  { name: 'mm', sig: 'Tensor self, Tensor mat2', cpp: 'at::mm(self, mat2)', on: 'method torch', doc: 'Product of two matrices.' },
  { name: 'bmm', sig: 'Tensor self, Tensor mat2', cpp: 'at::bmm(self, mat2)', on: 'method torch', doc: 'Batched product of (B, n, m) and (B, m, p).' },
  { name: 'mv', sig: 'Tensor self, Tensor vec', cpp: 'at::mv(self, vec)', on: 'method torch', doc: 'Matrix-vector product.' },
  { name: 'dot', sig: 'Tensor self, Tensor other', cpp: 'at::dot(self, other)', on: 'method torch', doc: 'Inner product of two vectors.' },
  { name: 'outer', sig: 'Tensor self, Tensor vec2', cpp: 'at::outer(self, vec2)', on: 'method torch', doc: 'Outer product of two vectors.' },
  {
    name: 'addmm',
    sig: 'Tensor self, Tensor mat1, Tensor mat2, *, Scalar beta=1, Scalar alpha=1',
    cpp: 'at::addmm(self, mat1, mat2, beta, alpha)',
    on: 'method torch',
    doc: 'beta·self + alpha·(mat1 @ mat2).',
  },
  {
    name: 'einsum',
    sig: 'str equation, Tensor... operands',
    cpp: 'at::einsum(equation, operands)',
    on: 'torch',
    doc: "Einstein summation: `torch.einsum('bij,bjk->bik', a, b)` (operands listed or in one array).",
  },
  {
    name: 'cdist',
    sig: 'Tensor x1, Tensor x2, float p=2.0, str{use_mm_for_euclid_dist_if_necessary|use_mm_for_euclid_dist|donot_use_mm_for_euclid_dist} computeMode="use_mm_for_euclid_dist_if_necessary"',
    cpp: `{
      c10::optional<int64_t> mode;
      if (computeMode == "use_mm_for_euclid_dist") mode = 1;
      else if (computeMode == "donot_use_mm_for_euclid_dist") mode = 2;
      return at::cdist(x1, x2, p, mode);
    }`,
    on: 'torch',
    doc: 'p-norm distances between each row of x1 and each row of x2 (batched).',
  },
  {
    name: 'norm',
    overloads: [
      {
        sig: 'Tensor self, str{fro|nuc} p="fro", int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
        cpp: `{
          if (p == "fro" && (!dim.has_value() || dim->size() <= 2)) return at::linalg_vector_norm(self, 2, dim, keepdim, dtype);
          std::vector<int64_t> all;
          for (int64_t d = 0; d < self.dim(); d++) all.push_back(d);
          return at::linalg_matrix_norm(self, p, dim.has_value() ? *dim : at::IntArrayRef(all), keepdim, dtype);
        }`,
      },
      {
        sig: 'Tensor self, Scalar? p, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
        cpp: 'at::linalg_vector_norm(self, p.has_value() ? *p : at::Scalar(2.0), dim, keepdim, dtype)',
      },
    ],
    on: 'method torch',
    doc: "The p-norm over all elements or over `dim` (PyTorch's torch.norm: 'fro' by default, 'nuc', or a number).",
  },
  {
    name: 'vectorNorm',
    sig: 'Tensor self, Scalar ord=2, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null',
    cpp: 'at::linalg_vector_norm(self, ord, dim, keepdim, dtype)',
    on: 'linalg',
    doc: 'The vector ord-norm over all elements or over `dim`.',
  },
  {
    name: 'matrixNorm',
    overloads: [
      { sig: 'Tensor self, str{fro|nuc} ord="fro", int[2] dim=[-2, -1], bool keepdim=false, *, dtype? dtype=null', cpp: 'at::linalg_matrix_norm(self, ord, dim, keepdim, dtype)' },
      { sig: 'Tensor self, Scalar ord, int[2] dim=[-2, -1], bool keepdim=false, *, dtype? dtype=null', cpp: 'at::linalg_matrix_norm(self, ord, dim, keepdim, dtype)' },
    ],
    on: 'linalg',
    doc: "The matrix norm over two dims: 'fro' (default), 'nuc', or ord ∈ {±1, ±2, ±inf}.",
  },
  {
    name: 'norm',
    native: 'op_linalgNorm',
    overloads: [
      { sig: 'Tensor self, str{fro|nuc} ord, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null', cpp: 'at::linalg_norm(self, ord, dim, keepdim, dtype)' },
      { sig: 'Tensor self, Scalar? ord=null, int[1]? dim=null, bool keepdim=false, *, dtype? dtype=null', cpp: 'at::linalg_norm(self, ord, dim, keepdim, dtype)' },
    ],
    on: 'linalg',
    doc: 'A vector or matrix norm, chosen by `ord` and `dim` as torch.linalg.norm.',
  },
  {
    name: 'qr',
    sig: 'Tensor self, str{reduced|complete|r} mode="reduced"',
    cpp: '{ auto r = at::linalg_qr(self, mode); return std::vector<at::Tensor>{std::get<0>(r), std::get<1>(r)}; }',
    ret: 'Tensor[]',
    on: 'linalg',
    doc: 'The QR decomposition `[Q, R]` (Q with orthonormal columns, R upper triangular).',
  },
  {
    name: 'cosineSimilarity',
    sig: 'Tensor x1, Tensor x2, int dim=1, float eps=1e-08',
    cpp: 'at::cosine_similarity(x1, x2, dim, eps)',
    on: 'torch F',
    doc: 'Cosine of the angle between x1 and x2 along `dim` (norms clamped below by eps).',
  },
  {
    name: 'pairwiseDistance',
    sig: 'Tensor x1, Tensor x2, float p=2.0, float eps=1e-06, bool keepdim=false',
    cpp: 'at::pairwise_distance(x1, x2, p, eps, keepdim)',
    on: 'torch F',
    doc: '‖x1 − x2 + eps‖_p along the last dim.',
  },
];
