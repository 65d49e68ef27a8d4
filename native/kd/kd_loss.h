// The knowledge-distillation loss: KL(softmax(t/T) || softmax(s/T)), batch-mean, unscaled (no T²).
//
// Two implementations with one contract (PyTorch semantics: 0·log 0 = 0, a -inf teacher logit contributes 0,
// batch-mean divides the sum over every element by size(0)):
//   composite — log_softmax / softmax / kl_div exactly as Distiller wrote it, through ATen (the reference);
//   fused     — one custom autograd function: per row, max and log-sum-exp, the loss and the gradient
//               (softmax(s/T) - softmax(t/T)) / (N·T) in one sweep; backward only scales the saved gradient.
#pragma once

#include <ATen/ATen.h>

namespace torchkd {
namespace kd {

// `dim` is the class dimension (any, negative allowed). Both return a 0-dim tensor of the student's dtype.
at::Tensor lossComposite(const at::Tensor& student, const at::Tensor& teacher, double temperature, int64_t dim);
at::Tensor lossFused(const at::Tensor& student, const at::Tensor& teacher, double temperature, int64_t dim);

// The top-k KD loss (topk_kd_loss.cc): the student's log_softmax over all classes gathered at the teacher's top-k
// indices, against softmax(values/T) over those k entries; batch-mean, unscaled.
at::Tensor topkLossComposite(const at::Tensor& student, const at::Tensor& values, const at::Tensor& indices,
                             double temperature, int64_t dim);
at::Tensor topkLossFused(const at::Tensor& student, const at::Tensor& values, const at::Tensor& indices,
                         double temperature, int64_t dim);

// A CPU gradient buffer from the fused loss's pool (recycled between steps, huge pages; see kd_loss.cc).
at::Tensor pooledGradBuffer(at::IntArrayRef sizes, at::ScalarType dtype);

// The fused forward without autograd. CPU here; CUDA in kd_loss_cuda_glue.cc.
// Inputs are (rows, C) contiguous with one dtype; the loss is the sum of the row KLs (0-dim double) and the gradient
// is (softmax(s/T) - softmax(t/T)) · gradScale.
std::pair<at::Tensor, at::Tensor> fusedForwardCpu(const at::Tensor& s, const at::Tensor& t, double temperature,
                                                  double gradScale, bool withGrad);
#ifdef TORCHKD_WITH_CUDA
std::pair<at::Tensor, at::Tensor> fusedForwardCuda(const at::Tensor& s, const at::Tensor& t, double temperature,
                                                   double gradScale, bool withGrad);
// The top-k loss's CUDA forward (kd_loss_cuda_glue.cc; topk_kd_loss.cc calls it): (rows, C) student, (rows, k) values
// and indices, contiguous, float32 or float64; the sum of the row losses (0-dim double) and the gradient
// (softmax(s/T) − scatter(p̂)) · gradScale.
std::pair<at::Tensor, at::Tensor> topkForwardCuda(const at::Tensor& s, const at::Tensor& v, const at::Tensor& idx,
                                                  double temperature, double gradScale, bool withGrad);
// grad *= factor on the device, skipped without a host sync when factor == 1.
void scaleGradCuda(at::Tensor& grad, const at::Tensor& factor);
#endif

}  // namespace kd
}  // namespace torchkd
