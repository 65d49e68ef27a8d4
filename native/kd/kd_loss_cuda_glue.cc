// The libtorch side of the fused CUDA KD loss (compiled only when the found libtorch has CUDA): allocation, the
// current stream, dtype mapping, and the row-loss sum. The kernels themselves are in kd_loss_cuda.cu.
#include "kd/kd_loss.h"
#include "kd/kd_loss_cuda.h"

#include "addon.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

namespace torchkd {
namespace kd {
namespace {

CudaDtype cudaDtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return CudaDtype::Float32;
    case at::kDouble: return CudaDtype::Float64;
    case at::kHalf: return CudaDtype::Float16;
    case at::kBFloat16: return CudaDtype::BFloat16;
    // c10's error, not the addon's: this also runs in backward, on the autograd engine's device thread.
    default: TORCH_CHECK(false, "kdLoss (fused CUDA): unsupported dtype ", c10::toString(t));
  }
}

}  // namespace

std::pair<at::Tensor, at::Tensor> fusedForwardCuda(const at::Tensor& s2d, const at::Tensor& t2d, double temperature,
                                                   double gradScale, bool withGrad) {
  c10::cuda::CUDAGuard guard(s2d.device());
  const int64_t rows = s2d.size(0), cols = s2d.size(1);
  at::Tensor grad = withGrad ? at::empty_like(s2d) : at::Tensor();
  at::Tensor rowLoss = at::empty({rows}, s2d.options().dtype(at::kDouble));
  auto stream = at::cuda::getCurrentCUDAStream();
  int err = launchKdLoss(cudaDtype(s2d.scalar_type()), s2d.const_data_ptr(), t2d.const_data_ptr(),
                         withGrad ? grad.data_ptr() : nullptr, rowLoss.data_ptr<double>(), rows, cols, 1.0 / temperature,
                         gradScale, stream.stream());
  TORCH_CHECK(err == 0, "kdLoss CUDA kernel failed to launch: ", errorString(err));
  return {rowLoss.sum(at::kDouble), grad};
}

std::pair<at::Tensor, at::Tensor> topkForwardCuda(const at::Tensor& s2d, const at::Tensor& v2d, const at::Tensor& i2d,
                                                  double temperature, double gradScale, bool withGrad) {
  c10::cuda::CUDAGuard guard(s2d.device());
  const int64_t rows = s2d.size(0), cols = s2d.size(1), k = v2d.size(1);
  at::Tensor grad = withGrad ? at::empty_like(s2d) : at::Tensor();
  at::Tensor rowLoss = at::empty({rows}, s2d.options().dtype(at::kDouble));
  auto stream = at::cuda::getCurrentCUDAStream();
  int err = launchTopkKdLoss(cudaDtype(s2d.scalar_type()), i2d.scalar_type() == at::kLong, s2d.const_data_ptr(),
                             v2d.const_data_ptr(), i2d.const_data_ptr(), withGrad ? grad.data_ptr() : nullptr,
                             rowLoss.data_ptr<double>(), rows, cols, k, 1.0 / temperature, gradScale, stream.stream());
  TORCH_CHECK(err == 0, "topkKdLoss CUDA kernel failed to launch: ", errorString(err));
  return {rowLoss.sum(at::kDouble), grad};
}

void scaleGradCuda(at::Tensor& grad, const at::Tensor& factor) {
  c10::cuda::CUDAGuard guard(grad.device());
  // The factor in the kernel's arithmetic type (float64 for float64 gradients, else float32): a float16 gradient
  // scaled by a large loss scale is multiplied in float32 and rounded once, as PyTorch's cast-back gradient is.
  at::Tensor f = factor.to(grad.device(), grad.scalar_type() == at::kDouble ? at::kDouble : at::kFloat).contiguous();
  auto stream = at::cuda::getCurrentCUDAStream();
  int err = launchScaleUnlessOne(cudaDtype(grad.scalar_type()), grad.data_ptr(), f.const_data_ptr(), grad.numel(), stream.stream());
  TORCH_CHECK(err == 0, "kdLoss CUDA backward failed to launch: ", errorString(err));
}

}  // namespace kd
}  // namespace torchkd
