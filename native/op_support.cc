// Composite ops used by the generated op functions (see op_support.h).
#include "op_support.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

namespace torchkd {

at::Tensor interpolate(const at::Tensor& input, at::OptionalIntArrayRef size, const c10::optional<std::vector<double>>& scaleFactor,
                       bool fromNumber, const std::string& mode, c10::optional<bool> alignCorners, c10::optional<bool> recomputeScaleFactor,
                       bool antialias) {
  TORCH_CHECK_NOT_IMPLEMENTED(input.dim() >= 3 && input.dim() <= 5, "Input Error: Only 3D, 4D and 5D input Tensors supported (got ", input.dim(),
                              "D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got ", mode, ")");
  const bool interpolating = !(mode == "nearest" || mode == "area" || mode == "nearest-exact");
  if (!interpolating) {
    TORCH_CHECK_VALUE(!alignCorners.has_value(),
                      "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear");
  }
  const bool align = alignCorners.value_or(false);
  const int64_t dim = input.dim() - 2;  // spatial dims
  TORCH_CHECK_VALUE(!(size.has_value() && scaleFactor.has_value()), "only one of size or scale_factor should be defined");
  c10::optional<std::vector<int64_t>> outputSize;
  c10::optional<std::vector<double>> scales;
  if (size.has_value()) {
    std::vector<int64_t> s(size->begin(), size->end());
    // A single number is repeated for every spatial dim, as Python does for an int.
    if (fromNumber) s.assign(static_cast<size_t>(std::max<int64_t>(dim, 0)), s[0]);
    TORCH_CHECK_VALUE(static_cast<int64_t>(s.size()) == dim, "Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of ",
                      input.sizes().slice(2), " and output size of ", c10::IntArrayRef(s),
                      ". Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.");
    outputSize = std::move(s);
  } else if (scaleFactor.has_value()) {
    std::vector<double> f = *scaleFactor;
    if (fromNumber) f.assign(static_cast<size_t>(std::max<int64_t>(dim, 0)), f[0]);
    for (double v : f) TORCH_CHECK_VALUE(std::isfinite(v) && v > 0, "scale_factor must be finite and positive, got ", v);
    TORCH_CHECK_VALUE(static_cast<int64_t>(f.size()) == dim, "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of ",
                      input.sizes().slice(2), " and scale_factor of shape ", c10::ArrayRef<double>(f),
                      ". Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.");
    scales = std::move(f);
  } else {
    TORCH_CHECK_VALUE(false, "either size or scale_factor should be defined");
  }
  bool recompute = recomputeScaleFactor.value_or(false);
  TORCH_CHECK_VALUE(!(recompute && size.has_value()), "recompute_scale_factor is not meaningful with an explicit size.");
  if (mode == "area" && !outputSize.has_value()) recompute = true;
  if (recompute) {
    std::vector<int64_t> s;
    for (int64_t i = 0; i < dim; i++) s.push_back(static_cast<int64_t>(static_cast<double>(input.size(i + 2)) * (*scales)[i]));
    outputSize = std::move(s);
    scales = c10::nullopt;
  }
  TORCH_CHECK_VALUE(!antialias || ((mode == "bilinear" || mode == "bicubic") && input.dim() == 4),
                    "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor as input");
  const at::OptionalIntArrayRef out = outputSize ? at::OptionalIntArrayRef(*outputSize) : at::OptionalIntArrayRef();
  const c10::optional<at::ArrayRef<double>> sc = scales ? c10::optional<at::ArrayRef<double>>(*scales) : c10::nullopt;
  const int64_t d = input.dim();
  if (mode == "nearest") {
    if (d == 3) return at::upsample_nearest1d(input, out, sc);
    if (d == 4) return at::upsample_nearest2d(input, out, sc);
    if (d == 5) return at::upsample_nearest3d(input, out, sc);
  }
  if (mode == "nearest-exact") {
    if (d == 3) return at::_upsample_nearest_exact1d(input, out, sc);
    if (d == 4) return at::_upsample_nearest_exact2d(input, out, sc);
    if (d == 5) return at::_upsample_nearest_exact3d(input, out, sc);
  }
  if (mode == "area") {
    if (d == 3) return at::adaptive_avg_pool1d(input, *outputSize);
    if (d == 4) return at::adaptive_avg_pool2d(input, *outputSize);
    if (d == 5) return at::adaptive_avg_pool3d(input, *outputSize);
  }
  if (d == 3 && mode == "linear") return at::upsample_linear1d(input, out, align, sc);
  if (d == 4 && mode == "bilinear") return antialias ? at::_upsample_bilinear2d_aa(input, out, align, sc) : at::upsample_bilinear2d(input, out, align, sc);
  if (d == 5 && mode == "trilinear") return at::upsample_trilinear3d(input, out, align, sc);
  if (d == 4 && mode == "bicubic") return antialias ? at::_upsample_bicubic2d_aa(input, out, align, sc) : at::upsample_bicubic2d(input, out, align, sc);
  TORCH_CHECK_NOT_IMPLEMENTED(!(d == 3 && mode == "bilinear"), "Got 3D input, but bilinear mode needs 4D input");
  TORCH_CHECK_NOT_IMPLEMENTED(!(d == 3 && mode == "trilinear"), "Got 3D input, but trilinear mode needs 5D input");
  TORCH_CHECK_NOT_IMPLEMENTED(!(d == 4 && mode == "linear"), "Got 4D input, but linear mode needs 3D input");
  TORCH_CHECK_NOT_IMPLEMENTED(!(d == 4 && mode == "trilinear"), "Got 4D input, but trilinear mode needs 5D input");
  TORCH_CHECK_NOT_IMPLEMENTED(!(d == 5 && mode == "linear"), "Got 5D input, but linear mode needs 3D input");
  TORCH_CHECK_NOT_IMPLEMENTED(!(d == 5 && mode == "bilinear"), "Got 5D input, but bilinear mode needs 4D input");
  TORCH_CHECK_NOT_IMPLEMENTED(false, "Input Error: Only 3D, 4D and 5D input Tensors supported (got ", d,
                              "D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got ", mode, ")");
}

namespace {

// The kernel/stride/padding/dilation lists as ATen's max_pool2d accepts them (one value or two; an empty stride
// means the kernel size); false when they are not ones the fast path takes.
bool pairOf(at::IntArrayRef v, int64_t fallbackH, int64_t fallbackW, int64_t out[2]) {
  if (v.empty()) {
    out[0] = fallbackH;
    out[1] = fallbackW;
    return true;
  }
  if (v.size() == 1) {
    out[0] = out[1] = v[0];
    return true;
  }
  if (v.size() == 2) {
    out[0] = v[0];
    out[1] = v[1];
    return true;
  }
  return false;
}

}  // namespace

at::Tensor maxPool2d(const at::Tensor& self, at::IntArrayRef kernelSize, at::IntArrayRef stride, at::IntArrayRef padding,
                     at::IntArrayRef dilation, bool ceilMode) {
  auto aten = [&] { return at::max_pool2d(self, kernelSize, stride, padding, dilation, ceilMode); };
  if (ceilMode || (c10::GradMode::is_enabled() && self.requires_grad())) return aten();
  if (!self.device().is_cpu() || self.layout() != at::kStrided || (self.dim() != 3 && self.dim() != 4)) return aten();
  if (self.scalar_type() != at::kFloat && self.scalar_type() != at::kDouble) return aten();
  if (!self.is_contiguous()) return aten();  // channels-last: ATen's kernel is already vectorised over channels
  int64_t k[2], s[2], p[2], d[2];
  if (!pairOf(kernelSize, -1, -1, k) || k[0] <= 0 || !pairOf(stride, k[0], k[1], s) || !pairOf(padding, 0, 0, p) || !pairOf(dilation, 1, 1, d)) return aten();
  if (s[0] <= 0 || s[1] <= 0 || d[0] <= 0 || d[1] <= 0 || p[0] != 0 || p[1] != 0) return aten();
  const int64_t H = self.size(-2), W = self.size(-1);
  const int64_t spanH = d[0] * (k[0] - 1) + 1, spanW = d[1] * (k[1] - 1) + 1;
  if (H < spanH || W < spanW || self.numel() == 0) return aten();  // ATen's own errors for bad sizes
  const int64_t outH = (H - spanH) / s[0] + 1, outW = (W - spanW) / s[1] + 1;
  at::Tensor out;
  for (int64_t a = 0; a < k[0]; a++) {
    for (int64_t b = 0; b < k[1]; b++) {
      at::Tensor window = self.slice(-2, a * d[0], a * d[0] + (outH - 1) * s[0] + 1, s[0]).slice(-1, b * d[1], b * d[1] + (outW - 1) * s[1] + 1, s[1]);
      if (!out.defined()) {
        out = window.contiguous();
        if (out.data_ptr() == self.data_ptr()) out = window.clone();  // a 1×1 window with stride 1 is the input itself
      } else {
        at::maximum_out(out, out, window);
      }
    }
  }
  return out;
}

}  // namespace torchkd
