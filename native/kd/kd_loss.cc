// KD loss: the composite reference, the fused CPU path and the autograd function shared with CUDA.
#include "kd/kd_loss.h"

#include "addon.h"
#include "kd/kd_loss_cpu_kernel.h"
#ifdef TORCHKD_WITH_CUDA
#include "kd/kd_loss_cuda.h"
#endif

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace torchkd {
namespace kd {
namespace {

// Gradient buffers of the fused CPU loss are recycled between steps. A training loop asks for the same N×C block
// every step; a fresh allocation of that size is mmap'ed and every page faults in on first touch, which costs more
// than the whole kernel on some machines (20x measured on a VM here). Recycled blocks are already mapped, and new
// ones ask for transparent huge pages (512x fewer faults). Process-wide, thread-safe, at most two blocks kept.
class GradBufferPool {
 public:
  static GradBufferPool& instance() {
    static GradBufferPool* pool = new GradBufferPool();  // never destroyed: deleters may run at exit
    return *pool;
  }

  at::Tensor tensor(at::IntArrayRef sizes, at::ScalarType dtype) {
    int64_t numel = 1;
    for (auto d : sizes) numel *= d;
    const size_t bytes = static_cast<size_t>(numel) * at::elementSize(dtype);
    if (bytes < (1u << 20)) return at::empty(sizes, at::TensorOptions().dtype(dtype));  // small: the usual allocator
    void* p = acquire(bytes);
    return at::from_blob(p, sizes, [bytes](void* q) { GradBufferPool::instance().release(q, bytes); },
                         at::TensorOptions().dtype(dtype));
  }

 private:
  void* acquire(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t k = 0; k < free_.size(); k++) {
        if (free_[k].first == bytes) {
          void* p = free_[k].second;
          free_.erase(free_.begin() + static_cast<long>(k));
          return p;
        }
      }
    }
    constexpr size_t kHuge = 2u << 20;
    const size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, rounded);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
  }

  void release(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.emplace_back(bytes, p);
    while (free_.size() > 2) {
      std::free(free_.front().second);
      free_.erase(free_.begin());
    }
  }

  std::mutex mutex_;
  std::vector<std::pair<size_t, void*>> free_;
};

// Runs fn(begin, end, scratch) over all rows in blocks of consecutive rows, on at::parallel_for's threads. The
// blocks are handed out from a shared counter rather than split evenly up front: on a shared or busy machine one
// thread often runs 10-20% slower than another (measured on a 2-core VM), and an even split waits for the slowest.
// Each row's result does not depend on which thread computes it, so neither does the output. `scratch` holds
// scratchFloats floats per thread; the kernel's streaming stores are fenced before the threads join.
template <typename F>
void forRowBlocks(int64_t rows, int64_t cols, int64_t scratchFloats, F&& fn) {
  const int64_t width = std::max<int64_t>(cols, 1);
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  // About 16 blocks per thread; a block is at least 16 K elements (less is not worth a thread) and at most 1 M.
  const int64_t target = std::min<int64_t>(std::max<int64_t>(rows * width / (16 * threads), 16384), 1 << 20);
  const int64_t blockRows = std::max<int64_t>(1, target / width);
  const int64_t blocks = (rows + blockRows - 1) / blockRows;
  std::atomic<int64_t> nextBlock{0};
  at::parallel_for(0, std::min(blocks, threads), 1, [&](int64_t, int64_t) {
    std::vector<float> scratch(static_cast<size_t>(scratchFloats));
    for (int64_t b; (b = nextBlock.fetch_add(1, std::memory_order_relaxed)) < blocks;) {
      const int64_t begin = b * blockRows;
      fn(begin, std::min(rows, begin + blockRows), scratch.data());
    }
    kdStoreFence();
  });
}

// bfloat16 is the top half of a float: widening is a shift.
void widenBf16(const at::BFloat16* in, float* out, int64_t n) {
  const uint16_t* bits = reinterpret_cast<const uint16_t*>(in);
  for (int64_t j = 0; j < n; j++) {
    uint32_t u = static_cast<uint32_t>(bits[j]) << 16;
    std::memcpy(out + j, &u, sizeof(float));
  }
}

void widenHalf(const at::Half* in, float* out, int64_t n) {
  for (int64_t j = 0; j < n; j++) out[j] = static_cast<float>(in[j]);
}

void checkInputs(const at::Tensor& s, const at::Tensor& t, double temperature, int64_t dim) {
  if (!(std::isfinite(temperature) && temperature > 0))
    throwRange("kdLoss: temperature must be finite and > 0, got " + std::to_string(temperature));
  if (s.sizes() != t.sizes())
    throwRange("kdLoss: student logits " + c10::str(s.sizes()) + " and teacher logits " + c10::str(t.sizes()) +
               " must have the same shape");
  if (s.dim() < 1) throwRange("kdLoss: logits need at least one dimension (the classes)");
  if (dim < -s.dim() || dim >= s.dim())
    throwRange("kdLoss: class dim " + std::to_string(dim) + " is out of range for " + std::to_string(s.dim()) + "-d logits");
  if (!at::isFloatingType(s.scalar_type()) || !at::isFloatingType(t.scalar_type()))
    throwType("kdLoss: logits must be floating point");
  if (s.device() != t.device()) throwType("kdLoss: student and teacher logits must be on the same device");
}

}  // namespace

at::Tensor lossComposite(const at::Tensor& s, const at::Tensor& t, double temperature, int64_t dim) {
  checkInputs(s, t, temperature, dim);
  // Distiller's formula, op for op: F.kl_div(F.log_softmax(s / T, dim), F.softmax(t / T, dim).detach(), 'batchmean').
  at::Tensor logQ = at::log_softmax(s / temperature, dim);
  at::Tensor p = at::softmax(t / temperature, dim).detach();
  at::Tensor sum = at::kl_div(logQ, p, at::Reduction::Sum, false);
  return logQ.dim() != 0 ? sum / logQ.size(0) : sum;
}

at::Tensor pooledGradBuffer(at::IntArrayRef sizes, at::ScalarType dtype) { return GradBufferPool::instance().tensor(sizes, dtype); }

std::pair<at::Tensor, at::Tensor> fusedForwardCpu(const at::Tensor& s2d, const at::Tensor& t2d, double temperature,
                                                  double gradScale, bool withGrad) {
  // s2d, t2d: (rows, C) contiguous, same dtype. Returns the summed KL (double, as a 0-dim tensor) and the gradient.
  const int64_t rows = s2d.size(0), cols = s2d.size(1);
  const auto dtype = s2d.scalar_type();
  at::Tensor grad = withGrad ? GradBufferPool::instance().tensor(s2d.sizes(), dtype) : at::Tensor();
  std::vector<double> rowLoss(static_cast<size_t>(rows), 0.0);
  const double invT = 1.0 / temperature;
  if (dtype == at::kDouble) {
    const double* sp = s2d.const_data_ptr<double>();
    const double* tp = t2d.const_data_ptr<double>();
    double* gp = withGrad ? grad.data_ptr<double>() : nullptr;
    forRowBlocks(rows, cols, 0, [&](int64_t begin, int64_t end, float*) {
      for (int64_t r = begin; r < end; r++)
        rowLoss[r] = kdRowDouble(sp + r * cols, tp + r * cols, gp ? gp + r * cols : nullptr, cols, invT, gradScale);
    });
  } else if (dtype == at::kFloat) {
    const float* sp = s2d.const_data_ptr<float>();
    const float* tp = t2d.const_data_ptr<float>();
    float* gp = withGrad ? grad.data_ptr<float>() : nullptr;
    forRowBlocks(rows, cols, 4 * cols, [&](int64_t begin, int64_t end, float* scratch) {
      kdRowsFloat(sp + begin * cols, tp + begin * cols, gp ? gp + begin * cols : nullptr, rowLoss.data() + begin,
                  end - begin, cols, static_cast<float>(invT), static_cast<float>(gradScale), scratch);
    });
  } else {
    // Half and bfloat16. With AVX-512 the 16-bit rows are read and written directly (converted in registers);
    // otherwise each row is widened to float in per-thread scratch (O(C) memory), computed in float, and the gradient
    // narrowed back (round to nearest even) in plain loops.
    const bool bf16 = dtype == at::kBFloat16;
    const void* sp = s2d.const_data_ptr();
    const void* tp = t2d.const_data_ptr();
    void* gp = withGrad ? grad.data_ptr() : nullptr;
    if (kdHas16BitRows()) {
      const auto* s16 = static_cast<const uint16_t*>(sp);
      const auto* t16 = static_cast<const uint16_t*>(tp);
      auto* g16 = static_cast<uint16_t*>(gp);
      forRowBlocks(rows, cols, 4 * cols, [&](int64_t begin, int64_t end, float* scratch) {
        kdRows16Bit(bf16, s16 + begin * cols, t16 + begin * cols, g16 ? g16 + begin * cols : nullptr, rowLoss.data() + begin,
                    end - begin, cols, static_cast<float>(invT), static_cast<float>(gradScale), scratch);
      });
    } else {
      forRowBlocks(rows, cols, 5 * cols, [&](int64_t begin, int64_t end, float* buf) {
        float* fs = buf;
        float* ft = fs + cols;
        float* fg = ft + cols;
        float* scratch = fg + cols;  // 2·cols
        for (int64_t r = begin; r < end; r++) {
          NextRow next;
          if (r + 1 < end) next = NextRow{static_cast<const char*>(sp) + (r + 1) * cols * 2, static_cast<const char*>(tp) + (r + 1) * cols * 2, cols * 2};
          if (bf16) {
            widenBf16(static_cast<const at::BFloat16*>(sp) + r * cols, fs, cols);
            widenBf16(static_cast<const at::BFloat16*>(tp) + r * cols, ft, cols);
          } else {
            widenHalf(static_cast<const at::Half*>(sp) + r * cols, fs, cols);
            widenHalf(static_cast<const at::Half*>(tp) + r * cols, ft, cols);
          }
          rowLoss[r] = kdRowFloat(fs, ft, withGrad ? fg : nullptr, scratch, cols, static_cast<float>(invT),
                                  static_cast<float>(gradScale), next);
          if (!withGrad) continue;
          if (bf16) {
            auto* out = static_cast<at::BFloat16*>(gp) + r * cols;
            for (int64_t j = 0; j < cols; j++) out[j] = at::BFloat16(fg[j]);
          } else {
            auto* out = static_cast<at::Half*>(gp) + r * cols;
            for (int64_t j = 0; j < cols; j++) out[j] = at::Half(fg[j]);
          }
        }
      });
    }
  }
  double total = 0;
  for (double v : rowLoss) total += v;  // sequential, so the result does not depend on the thread count
  return {at::scalar_tensor(total, at::kDouble), grad};
}

namespace {

// Moves the class dim last and flattens the rest into rows; contiguous (a copy only when the layout needs one).
at::Tensor asRows(const at::Tensor& x, int64_t dim) {
  at::Tensor m = dim == x.dim() - 1 ? x : x.movedim(dim, -1);
  m = m.detach().contiguous();
  return m.reshape({-1, m.size(-1)});
}

class FusedKdLoss : public torch::autograd::Function<FusedKdLoss> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& s, const at::Tensor& t,
                            double temperature, int64_t dim) {
    const int64_t d = dim < 0 ? dim + s.dim() : dim;
    // Under autocast (for the logits' device type) the loss is float32, as autocast's float32 list puts kl_div.
    // float16 logits there are a GradScaler's territory: computed from float32 copies, so the saved gradient is
    // float32 and is multiplied by the (large) scaled incoming gradient before it is rounded to float16 once, as the
    // composite's is; stored in float16 first, its small entries would be subnormal or zero before the scale could
    // lift them. bfloat16 has float32's range and keeps the direct path.
    //
    // Without autocast the computation (and the loss) takes the promoted dtype of the two, as kl_div's would: float32
    // teacher logits with a 16-bit student (logits saved offline, or a teacher run outside the region) stay float32,
    // and the student is widened, not the teacher rounded to 8 or 11 bits.
    const bool autocastOn = at::autocast::is_autocast_enabled(s.device().type());
    const bool reduced = s.scalar_type() == at::kHalf || s.scalar_type() == at::kBFloat16;
    const at::ScalarType promoted = at::promote_types(s.scalar_type(), t.scalar_type());
    at::ScalarType compute = promoted;
    if (autocastOn && reduced && !(s.scalar_type() == at::kBFloat16 && t.scalar_type() == at::kBFloat16))
      compute = at::promote_types(at::kFloat, t.scalar_type());  // float32 (float64 with a float64 teacher)
    const bool widen = compute != s.scalar_type();
    const at::Tensor sw = widen ? s.detach().to(compute) : s;
    at::Tensor t2 = t.scalar_type() == compute ? t : t.to(compute);
    at::Tensor s2d = asRows(sw, d), t2d = asRows(t2, d);
    const bool withGrad = s.requires_grad();
    // batch-mean divides by size(0) (PyTorch's convention, also for (N, L, C) logits); d/ds of KL(s/T) carries 1/T.
    const int64_t batch = s.dim() > 0 ? s.size(0) : 1;
    const double gradScale = 1.0 / (temperature * static_cast<double>(batch));
    std::pair<at::Tensor, at::Tensor> out;
#ifdef TORCHKD_WITH_CUDA
    if (s.is_cuda())
      out = fusedForwardCuda(s2d, t2d, temperature, gradScale, withGrad);
    else
#endif
      out = fusedForwardCpu(s2d, t2d, temperature, gradScale, withGrad);
    at::Tensor loss = (out.first / static_cast<double>(batch)).to(reduced && autocastOn ? at::promote_types(at::kFloat, compute) : promoted);
    if (withGrad) {
      at::Tensor g = out.second;
      // Back to the caller's layout (a view; no copy).
      at::Tensor moved = s.movedim(d, -1);
      g = g.reshape(moved.sizes());
      if (d != s.dim() - 1) g = g.movedim(-1, d);
      ctx->saved_data["grad"] = g;
      ctx->saved_data["dtype"] = static_cast<int64_t>(s.scalar_type());
    }
    return loss;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list gradOutputs) {
    auto it = ctx->saved_data.find("grad");
    // A c10::Error, not the addon's argument errors: backward runs inside libtorch's autograd engine (for CUDA tensors
    // on its own device thread), which hands c10/std exceptions back to the caller but lets anything else escape
    // (std::terminate on a device thread; on the CPU, an engine left in a stale state).
    TORCH_CHECK(it != ctx->saved_data.end() && it->second.isTensor(),
                "kdLoss (fused): backward ran twice through the same graph; use {impl: 'composite'} with retainGraph");
    at::Tensor g = it->second.toTensor();
    ctx->saved_data.erase("grad");
    const auto inputType = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    // The gradient was computed in the forward; backward only scales it (in place: it is not needed again), and not
    // at all when the incoming gradient is 1 (loss.backward() on the KD loss itself).
    const at::Tensor& factor = gradOutputs[0];
#ifdef TORCHKD_WITH_CUDA
    if (g.is_cuda()) {
      at::Tensor flat = g;  // scaleGradCuda walks the storage linearly; g may be a movedim view of a contiguous buffer
      scaleGradCuda(flat, factor);
      return {g.to(inputType), at::Tensor(), at::Tensor(), at::Tensor()};
    }
#endif
    const double f = factor.item<double>();
    if (f != 1.0) {
      // float16/bfloat16 gradients: multiplied in float32 and rounded once (a large loss scale would overflow as a
      // float16 factor).
      if (g.scalar_type() == at::kHalf || g.scalar_type() == at::kBFloat16) g.copy_(g.to(at::kFloat).mul_(f));
      else g.mul_(f);
    }
    return {g.to(inputType), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor lossFused(const at::Tensor& s, const at::Tensor& t, double temperature, int64_t dim) {
  checkInputs(s, t, temperature, dim);
  if (!(s.is_cpu() || s.is_cuda())) throwType("kdLoss (fused): only CPU and CUDA tensors are supported");
#ifndef TORCHKD_WITH_CUDA
  if (s.is_cuda()) throwType("kdLoss (fused): this torchkd binary was built without CUDA");
#endif
  at::Tensor teacher = t.detach();
  return FusedKdLoss::apply(s, teacher, temperature, dim);
}

}  // namespace kd

namespace {

// kdLoss(student, teacher, temperature, dim, impl): impl 0 auto (fused), 1 fused, 2 composite.
Napi::Value kdLoss(const Napi::CallbackInfo& info) {
  const auto& s = tensorArg(info, 0);
  const auto& t = tensorArg(info, 1);
  double temperature = doubleArg(info, 2, "temperature");
  int64_t dim = int64Arg(info, 3, "dim");
  int impl = intArg(info, 4, "impl");
  if (impl == 2) return wrap(info, kd::lossComposite(s, t, temperature, dim));
  return wrap(info, kd::lossFused(s, t, temperature, dim));
}

// kdCudaLastKernel(): which CUDA kernel the last fused loss ran, and why not the TMA one when it was asked for (for
// the GPU benchmark and tests; null in a binary without CUDA).
Napi::Value kdCudaLastKernel(const Napi::CallbackInfo& info) {
#ifdef TORCHKD_WITH_CUDA
  return Napi::String::New(info.Env(), kd::lastKernel());
#else
  return info.Env().Null();
#endif
}

// kdCpuSimd(): the instruction set of the fused CPU kernel ("avx512", "avx2" or "portable").
Napi::Value kdCpuSimd(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), kd::kdSimdName()); }

}  // namespace

void initKdForward(Napi::Env env, Napi::Object exports);  // forward_cache.cc
void initTopkKd(Napi::Env env, Napi::Object exports);     // topk_kd_loss.cc

void initKd(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "kdLoss", kdLoss);
  exportGuarded(env, exports, "kdCudaLastKernel", kdCudaLastKernel);
  exportGuarded(env, exports, "kdCpuSimd", kdCpuSimd);
  initKdForward(env, exports);
  initTopkKd(env, exports);
}

}  // namespace torchkd
