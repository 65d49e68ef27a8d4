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

// F.max_pool2d (and nn.MaxPool2d's forward): ATen's max_pool2d, except when no gradient is needed (a frozen teacher,
// evaluation) on a contiguous CPU float tensor without padding or ceil mode: then the window maxima are taken as
// elementwise maxima of kernel-size strided slices, over ten times faster than ATen's NCHW kernel on the shapes of
// small convolutional nets and equal to it value for value (a maximum is exact; NaN propagates as ATen's does).
at::Tensor maxPool2d(const at::Tensor& self, at::IntArrayRef kernelSize, at::IntArrayRef stride, at::IntArrayRef padding,
                     at::IntArrayRef dilation, bool ceilMode);

}  // namespace torchkd
