// Helpers of the generated op functions (native/generated/): composite ops whose Python implementation is more than
// one ATen call, ported here so that the spec entry stays one line.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <string>
#include <vector>

namespace torchkd {

// F.interpolate: Python's argument handling (size or scale_factor, align_corners only for the interpolating modes,
// recompute_scale_factor, 'area' as adaptive average pooling) and its choice of the ATen upsampling kernel.
// `fromNumber`: size/scaleFactor came as one number (repeated for every spatial dim), not as a list.
at::Tensor interpolate(const at::Tensor& input, at::OptionalIntArrayRef size, const c10::optional<std::vector<double>>& scaleFactor,
                       bool fromNumber, const std::string& mode, c10::optional<bool> alignCorners, c10::optional<bool> recomputeScaleFactor,
                       bool antialias);

}  // namespace torchkd
