// Plain-CUDA interface of the fused KD loss kernel. No libtorch types, so the .cu file compiles with nvcc alone
// (and on a machine whose libtorch has no CUDA headers).
#pragma once

#include <cstdint>
#include <string>

namespace torchkd {
namespace kd {

enum class CudaDtype : int { Float32 = 0, Float64 = 1, Float16 = 2, BFloat16 = 3 };

// Rows of `cols` contiguous logits. Writes rowLoss[r] = KL of row r (float64, unscaled, not divided by anything)
// and, when grad != nullptr, grad = (softmax(s/T) - softmax(t/T)) * gradScale in the input dtype.
// Runs on `stream` (a cudaStream_t); returns a cudaError_t value (0 on success).
int launchKdLoss(CudaDtype dtype, const void* student, const void* teacher, void* grad, double* rowLoss, int64_t rows,
                 int64_t cols, double invTemperature, double gradScale, void* stream);

// grad *= *factor unless it equals 1, decided on the device: no host sync. The factor is a device scalar of the
// arithmetic type: float64 for Float64 gradients, float32 for the others.
int launchScaleUnlessOne(CudaDtype dtype, void* grad, const void* factor, int64_t n, void* stream);

// The top-k KD loss (topk_kd_loss_cuda.cu): `student` rows of `cols` logits, `values`/`indices` rows of k teacher
// entries (indices int64 when indices64, else int32), all contiguous, Float32 or Float64. Writes rowLoss[r] (float64,
// the row's KL over the k entries) and, when grad != nullptr, grad = (softmax(s/T) − scatter(p̂)) · gradScale.
int launchTopkKdLoss(CudaDtype dtype, bool indices64, const void* student, const void* values, const void* indices,
                     void* grad, double* rowLoss, int64_t rows, int64_t cols, int64_t k, double invTemperature,
                     double gradScale, void* stream);

const char* errorString(int code);

// Which kernel the last launchKdLoss ran: "tma512 (clusters of 4)", or "generic (why the TMA kernel did not run)".
std::string lastKernel();

}  // namespace kd
}  // namespace torchkd
