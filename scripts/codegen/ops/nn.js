'use strict';
// torch.nn.functional layer primitives: linear, convolution, pooling, normalisation, dropout, embedding, padding,
// resampling. Each calls the ATen op Python's F calls, after the same argument checks.

const checkP = 'TORCH_CHECK_VALUE(p >= 0.0 && p <= 1.0, "dropout probability has to be between 0 and 1, but got ", p);';

// Python's _verify_batch_size / _verify_spatial_size: a single value per channel cannot be normalised in training.
const verifyBatch = (sizes) => `{
      int64_t prods = ${sizes}[0];
      for (size_t i = 2; i < ${sizes}.size(); i++) prods *= ${sizes}[i];
      TORCH_CHECK_VALUE(prods != 1, "Expected more than 1 value per channel when training, got input size ", ${sizes});
    }`;

const noIndices = (fn) => `if (returnIndices) throwType("F.${fn}(): returnIndices is not supported here; use F.${fn}WithIndices, which returns {values, indices}");`;

module.exports = [
  { name: 'linear', sig: 'Tensor self, Tensor weight, Tensor? bias=null', cpp: 'at::linear(self, weight, bias)', on: 'F', doc: 'x·Wᵀ + b.' },
  { name: 'bilinear', sig: 'Tensor input1, Tensor input2, Tensor weight, Tensor? bias=null', cpp: 'at::bilinear(input1, input2, weight, bias)', on: 'F', doc: 'x1ᵀ·W·x2 + b.' },

  // ---- convolution --------------------------------------------------------------------------------------------
  ...[1, 2, 3].map((d) => ({
    name: `conv${d}d`,
    overloads: [
      {
        sig: `Tensor self, Tensor weight, Tensor? bias=null, int[${d}] stride=1, int[${d}] padding=0, int[${d}] dilation=1, int groups=1`,
        cpp: `at::conv${d}d(self, weight, bias, stride, padding, dilation, groups)`,
      },
      {
        sig: `Tensor self, Tensor weight, Tensor? bias=null, int[${d}] stride=1, str{same|valid} padding, int[${d}] dilation=1, int groups=1`,
        cpp: `at::conv${d}d(self, weight, bias, stride, c10::string_view(padding), dilation, groups)`,
      },
    ],
    on: 'F',
    doc: `${d}-D convolution; \`padding\` may be a number, one per dim, or 'same' / 'valid'.`,
  })),
  ...[1, 2, 3].map((d) => ({
    name: `convTranspose${d}d`,
    sig: `Tensor self, Tensor weight, Tensor? bias=null, int[${d}] stride=1, int[${d}] padding=0, int[${d}] outputPadding=0, int groups=1, int[${d}] dilation=1`,
    cpp: `at::conv_transpose${d}d(self, weight, bias, stride, padding, outputPadding, groups, dilation)`,
    on: 'F',
    doc: `${d}-D transposed convolution.`,
  })),

  // ---- pooling (stride defaults to the kernel size) -----------------------------------------------------------
  ...[1, 2, 3].flatMap((d) => [
    {
      name: `maxPool${d}d`,
      sig: `Tensor self, int[${d}] kernelSize, int[${d}]? stride=null, int[${d}] padding=0, int[${d}] dilation=1, bool ceilMode=false, bool returnIndices=false`,
      cpp: `{ ${noIndices(`maxPool${d}d`)} return ${d === 2 ? 'maxPool2d' : `at::max_pool${d}d`}(self, kernelSize, stride.value_or(at::IntArrayRef()), padding, dilation, ceilMode); }`,
      on: 'F',
      doc: `${d}-D max pooling.`,
    },
    {
      name: `maxPool${d}dWithIndices`,
      sig: `Tensor self, int[${d}] kernelSize, int[${d}]? stride=null, int[${d}] padding=0, int[${d}] dilation=1, bool ceilMode=false`,
      cpp: `at::max_pool${d}d_with_indices(self, kernelSize, stride.value_or(at::IntArrayRef()), padding, dilation, ceilMode)`,
      ret: 'ValuesIndices',
      on: 'F',
      doc: `${d}-D max pooling with the argmax indices, as \`{values, indices}\`.`,
    },
    {
      name: `adaptiveAvgPool${d}d`,
      sig: `Tensor self, int[${d}] outputSize`,
      cpp: `at::adaptive_avg_pool${d}d(self, outputSize)`,
      on: 'F',
      doc: `${d}-D average pooling to a fixed output size.`,
    },
    {
      name: `adaptiveMaxPool${d}d`,
      sig: `Tensor self, int[${d}] outputSize, bool returnIndices=false`,
      cpp: `{ ${noIndices(`adaptiveMaxPool${d}d`)} return std::get<0>(at::adaptive_max_pool${d}d(self, outputSize)); }`,
      on: 'F',
      doc: `${d}-D max pooling to a fixed output size.`,
    },
    {
      name: `adaptiveMaxPool${d}dWithIndices`,
      sig: `Tensor self, int[${d}] outputSize`,
      cpp: `at::adaptive_max_pool${d}d(self, outputSize)`,
      ret: 'ValuesIndices',
      on: 'F',
      doc: `${d}-D adaptive max pooling with the argmax indices.`,
    },
  ]),
  {
    name: 'avgPool1d',
    sig: 'Tensor self, int[1] kernelSize, int[1]? stride=null, int[1] padding=0, bool ceilMode=false, bool countIncludePad=true',
    cpp: 'at::avg_pool1d(self, kernelSize, stride.value_or(at::IntArrayRef()), padding, ceilMode, countIncludePad)',
    on: 'F',
    doc: '1-D average pooling.',
  },
  ...[2, 3].map((d) => ({
    name: `avgPool${d}d`,
    sig: `Tensor self, int[${d}] kernelSize, int[${d}]? stride=null, int[${d}] padding=0, bool ceilMode=false, bool countIncludePad=true, int? divisorOverride=null`,
    cpp: `at::avg_pool${d}d(self, kernelSize, stride.value_or(at::IntArrayRef()), padding, ceilMode, countIncludePad, divisorOverride)`,
    on: 'F',
    doc: `${d}-D average pooling.`,
  })),

  // ---- normalisation --------------------------------------------------------------------------------------------
  {
    name: 'batchNorm',
    sig: 'Tensor self, Tensor? runningMean, Tensor? runningVar, Tensor? weight=null, Tensor? bias=null, bool training=false, float momentum=0.1, float eps=1e-05',
    cpp: `{
      if (training) ${verifyBatch('self.sizes()')}
      return at::batch_norm(self, weight, bias, runningMean, runningVar, training, momentum, eps, at::globalContext().userEnabledCuDNN());
    }`,
    on: 'F',
    doc: 'Batch normalisation; running statistics are updated in place when training.',
  },
  {
    name: 'instanceNorm',
    sig: 'Tensor self, Tensor? runningMean=null, Tensor? runningVar=null, Tensor? weight=null, Tensor? bias=null, bool useInputStats=true, float momentum=0.1, float eps=1e-05',
    cpp: `{
      if (useInputStats) {
        const auto s = self.sizes();
        int64_t prods = 1;
        for (size_t i = 2; i < s.size(); i++) prods *= s[i];
        TORCH_CHECK_VALUE(prods != 1, "Expected more than 1 spatial element when training, got input size ", s);
      }
      return at::instance_norm(self, weight, bias, runningMean, runningVar, useInputStats, momentum, eps, at::globalContext().userEnabledCuDNN());
    }`,
    on: 'F',
    doc: 'Instance normalisation (per sample and channel).',
  },
  {
    name: 'layerNorm',
    sig: 'Tensor self, int[1] normalizedShape, Tensor? weight=null, Tensor? bias=null, float eps=1e-05',
    cpp: 'at::layer_norm(self, normalizedShape, weight, bias, eps, at::globalContext().userEnabledCuDNN())',
    on: 'F',
    doc: 'Layer normalisation over the trailing `normalizedShape` dims.',
  },
  {
    name: 'groupNorm',
    sig: 'Tensor self, int numGroups, Tensor? weight=null, Tensor? bias=null, float eps=1e-05',
    cpp: `{
      TORCH_CHECK(self.dim() >= 2, "Expected at least 2 dimensions for input tensor but received ", self.dim());
      TORCH_CHECK_VALUE(numGroups > 0, "Expected num groups to be greater than 0, got ", numGroups);
      std::vector<int64_t> sizes{self.size(0) * self.size(1) / numGroups, numGroups};
      for (int64_t d = 2; d < self.dim(); d++) sizes.push_back(self.size(d));
      ${verifyBatch('sizes')}
      return at::group_norm(self, numGroups, weight, bias, eps, at::globalContext().userEnabledCuDNN());
    }`,
    on: 'F',
    doc: 'Group normalisation: channels in `numGroups` groups.',
  },
  {
    name: 'rmsNorm',
    sig: 'Tensor self, int[1] normalizedShape, Tensor? weight=null, float? eps=null',
    cpp: 'at::rms_norm(self, normalizedShape, weight, eps)',
    on: 'F',
    doc: 'Root-mean-square normalisation over the trailing `normalizedShape` dims.',
  },
  {
    name: 'normalize',
    sig: 'Tensor self, float p=2.0, int dim=1, float eps=1e-12',
    cpp: 'self / at::linalg_vector_norm(self, p, at::IntArrayRef{dim}, true).clamp_min(eps).expand_as(self)',
    on: 'F',
    doc: 'x / max(‖x‖_p, eps) along `dim`.',
  },

  // ---- dropout --------------------------------------------------------------------------------------------------
  {
    name: 'dropout',
    sig: 'Tensor self, float p=0.5, bool training=true, bool inplace=false',
    cpp: `{ ${checkP} return inplace ? at::dropout_(self, p, training) : at::dropout(self, p, training); }`,
    on: 'F',
    doc: 'Zeroes elements with probability p (scaling the rest by 1/(1−p)) when training.',
  },
  {
    name: 'alphaDropout',
    sig: 'Tensor self, float p=0.5, bool training=false, bool inplace=false',
    cpp: `{ ${checkP} return inplace ? at::alpha_dropout_(self, p, training) : at::alpha_dropout(self, p, training); }`,
    on: 'F',
    doc: 'Dropout that keeps the mean and variance of SELU activations.',
  },
  {
    name: 'featureAlphaDropout',
    sig: 'Tensor self, float p=0.5, bool training=false, bool inplace=false',
    cpp: `{ ${checkP} return inplace ? at::feature_alpha_dropout_(self, p, training) : at::feature_alpha_dropout(self, p, training); }`,
    on: 'F',
    doc: 'Alpha dropout of whole channels.',
  },
  {
    name: 'dropout1d',
    sig: 'Tensor self, float p=0.5, bool training=true, bool inplace=false',
    cpp: `{
      ${checkP}
      TORCH_CHECK(self.dim() == 2 || self.dim() == 3, "dropout1d: Expected 2D or 3D input, but received a ", self.dim(), "D input. Note that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).");
      const bool batched = self.dim() == 3;
      at::Tensor in = batched ? self : (inplace ? self.unsqueeze_(0) : self.unsqueeze(0));
      at::Tensor out = inplace ? at::feature_dropout_(in, p, training) : at::feature_dropout(in, p, training);
      return batched ? out : (inplace ? out.squeeze_(0) : out.squeeze(0));
    }`,
    on: 'F',
    doc: 'Zeroes whole channels of (N, C, L) or (C, L) inputs.',
  },
  {
    name: 'dropout2d',
    sig: 'Tensor self, float p=0.5, bool training=true, bool inplace=false',
    cpp: `{ ${checkP} return inplace ? at::feature_dropout_(self, p, training) : at::feature_dropout(self, p, training); }`,
    on: 'F',
    doc: 'Zeroes whole channels of (N, C, H, W) inputs.',
  },
  {
    name: 'dropout3d',
    sig: 'Tensor self, float p=0.5, bool training=true, bool inplace=false',
    cpp: `{
      ${checkP}
      const bool batched = self.dim() == 5;
      at::Tensor in = batched ? self : (inplace ? self.unsqueeze_(0) : self.unsqueeze(0));
      at::Tensor out = inplace ? at::feature_dropout_(in, p, training) : at::feature_dropout(in, p, training);
      return batched ? out : (inplace ? out.squeeze_(0) : out.squeeze(0));
    }`,
    on: 'F',
    doc: 'Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) inputs.',
  },

  // ---- embedding, padding, resampling -----------------------------------------------------------------------------
  {
    name: 'embedding',
    sig: 'Tensor self, Tensor weight, int? paddingIdx=null, float? maxNorm=null, float normType=2.0, bool scaleGradByFreq=false, bool sparse=false',
    cpp: `{
      int64_t pad = -1;
      if (paddingIdx.has_value()) {
        pad = *paddingIdx;
        TORCH_CHECK(pad < weight.size(0) && pad >= -weight.size(0), "Padding_idx must be within num_embeddings");
        if (pad < 0) pad += weight.size(0);
      }
      at::Tensor idx = self;
      if (maxNorm.has_value()) {
        idx = self.contiguous();
        c10::NoGradGuard guard;
        at::embedding_renorm_(weight, idx, *maxNorm, normType);
      }
      return at::embedding(weight, idx, pad, scaleGradByFreq, sparse);
    }`,
    on: 'F',
    doc: 'Rows of `weight` at the int64 indices; `maxNorm` renormalises the rows used, in place.',
  },
  {
    name: 'pad',
    sig: 'Tensor self, int[] pad, str{constant|reflect|replicate|circular} mode="constant", float? value=null',
    cpp: 'at::pad(self, pad, mode, value)',
    on: 'F',
    doc: "Pads with (before, after) pairs from the last dim backwards; mode 'constant' (value, default 0), 'reflect', 'replicate' or 'circular'.",
  },
  {
    name: 'pixelShuffle',
    sig: 'Tensor self, int upscaleFactor',
    cpp: 'at::pixel_shuffle(self, upscaleFactor)',
    on: 'F',
    doc: '(N, C·r², H, W) → (N, C, H·r, W·r).',
  },
  {
    name: 'interpolate',
    // A number is repeated for every spatial dim; a list must name each (as Python's int vs tuple).
    overloads: [
      {
        sig: 'Tensor self, int? size=null, float? scaleFactor=null, str{nearest|linear|bilinear|bicubic|trilinear|area|nearest-exact} mode="nearest", bool? alignCorners=null, bool? recomputeScaleFactor=null, bool antialias=false',
        cpp: `interpolate(self, size ? at::OptionalIntArrayRef(at::IntArrayRef(*size)) : at::OptionalIntArrayRef(),
                          scaleFactor ? c10::optional<std::vector<double>>(std::vector<double>{*scaleFactor}) : c10::nullopt, true, mode, alignCorners, recomputeScaleFactor, antialias)`,
      },
      {
        sig: 'Tensor self, int[]? size=null, float[]? scaleFactor=null, str{nearest|linear|bilinear|bicubic|trilinear|area|nearest-exact} mode="nearest", bool? alignCorners=null, bool? recomputeScaleFactor=null, bool antialias=false',
        cpp: 'interpolate(self, size, scaleFactor, false, mode, alignCorners, recomputeScaleFactor, antialias)',
      },
    ],
    on: 'F',
    doc: 'Resamples the spatial dims to `size` or by `scaleFactor` (nearest, linear, bilinear, bicubic, trilinear, area).',
  },
];
