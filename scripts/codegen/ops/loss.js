'use strict';
// torch.nn.functional losses. Python's deprecated size_average/reduce arguments are not taken; everything after the
// ones Python users pass positionally is keyword-only (`F.crossEntropy(x, y, {labelSmoothing: 0.1})`).
// `Reduction` is 'none' | 'mean' | 'sum' (default 'mean').

// Python broadcasts input and target first for the point-wise losses (warning when the sizes differ).
const bcast = 'auto bt = at::broadcast_tensors({self, target});';
// The composite with a per-element weight that F.mse_loss / F.l1_loss use (mean divides by the weights' sum).
const weighted = (errors) => `{
      ${bcast}
      if (!weight.has_value()) return WITHOUT;
      TORCH_CHECK_VALUE(weight->sizes().equals(self.sizes()), "Weights and input must have the same size.");
      at::Tensor w = ${errors} * *weight;
      if (reduction == at::Reduction::None) return w;
      if (reduction == at::Reduction::Sum) return at::sum(w);
      return at::sum(w) / at::sum(*weight);
    }`;

module.exports = [
  {
    name: 'crossEntropy',
    sig: 'Tensor self, Tensor target, Tensor? weight=null, *, int ignoreIndex=-100, Reduction reduction="mean", float labelSmoothing=0.0',
    cpp: `{
      TORCH_CHECK_VALUE(labelSmoothing >= 0.0 && labelSmoothing <= 1.0, "label_smoothing must be between 0.0 and 1.0. Got: ", labelSmoothing);
      return at::cross_entropy_loss(self, target, weight, reduction, ignoreIndex, labelSmoothing);
    }`,
    on: 'F',
    doc: 'Cross entropy of logits against class indices (int64) or class probabilities.',
  },
  {
    name: 'nllLoss',
    sig: 'Tensor self, Tensor target, Tensor? weight=null, *, int ignoreIndex=-100, Reduction reduction="mean"',
    cpp: 'at::nll_loss_nd(self, target, weight, reduction, ignoreIndex)',
    on: 'F',
    doc: 'Negative log likelihood of log-probabilities against class indices.',
  },
  {
    name: 'klDiv',
    sig: 'Tensor self, Tensor target, *, str{none|mean|sum|batchmean} reduction="mean", bool logTarget=false',
    cpp: `{
      if (reduction == "batchmean") {
        at::Tensor s = at::kl_div(self, target, at::Reduction::Sum, logTarget);
        return self.dim() != 0 ? s / self.size(0) : s;
      }
      const int64_t r = reduction == "none" ? at::Reduction::None : reduction == "sum" ? at::Reduction::Sum : at::Reduction::Mean;
      return at::kl_div(self, target, r, logTarget);
    }`,
    on: 'F',
    doc: "KL divergence with `input` as log-probabilities; 'batchmean' divides the sum by the batch size.",
  },
  {
    name: 'mseLoss',
    sig: 'Tensor self, Tensor target, *, Reduction reduction="mean", Tensor? weight=null',
    cpp: weighted('at::pow(bt[0] - bt[1], 2)').replace('WITHOUT', 'at::mse_loss(bt[0], bt[1], reduction)'),
    on: 'F',
    doc: 'Mean squared error (optionally weighted per element).',
  },
  {
    name: 'l1Loss',
    sig: 'Tensor self, Tensor target, *, Reduction reduction="mean", Tensor? weight=null',
    cpp: weighted('at::abs(bt[0] - bt[1])').replace('WITHOUT', 'at::l1_loss(bt[0], bt[1], reduction)'),
    on: 'F',
    doc: 'Mean absolute error (optionally weighted per element).',
  },
  {
    name: 'smoothL1Loss',
    sig: 'Tensor self, Tensor target, *, Reduction reduction="mean", float beta=1.0',
    cpp: `{
      ${bcast}
      return beta == 0.0 ? at::l1_loss(bt[0], bt[1], reduction) : at::smooth_l1_loss(bt[0], bt[1], reduction, beta);
    }`,
    on: 'F',
    doc: 'Squared error below `beta`, absolute error above (Huber loss divided by beta).',
  },
  {
    name: 'huberLoss',
    sig: 'Tensor self, Tensor target, *, Reduction reduction="mean", float delta=1.0, Tensor? weight=null',
    cpp: `{
      ${bcast}
      if (!weight.has_value()) return at::huber_loss(bt[0], bt[1], reduction, delta);
      TORCH_CHECK_VALUE(weight->sizes().equals(self.sizes()), "Weights and input must have the same size.");
      at::Tensor w = at::huber_loss(bt[0], bt[1], at::Reduction::None, delta) * *weight;
      if (reduction == at::Reduction::None) return w;
      if (reduction == at::Reduction::Sum) return at::sum(w);
      return w.mean();
    }`,
    on: 'F',
    doc: 'Squared error below `delta`, delta-scaled absolute error above.',
  },
  {
    name: 'binaryCrossEntropy',
    sig: 'Tensor self, Tensor target, Tensor? weight=null, *, Reduction reduction="mean"',
    cpp: `{
      TORCH_CHECK_VALUE(target.sizes().equals(self.sizes()), "Using a target size (", target.sizes(), ") that is different to the input size (", self.sizes(), ") is deprecated. Please ensure they have the same size.");
      c10::optional<at::Tensor> w = weight;
      if (w.has_value()) w = w->expand(at::infer_size(target.sizes(), w->sizes()));
      return at::binary_cross_entropy(self, target, w, reduction);
    }`,
    on: 'F',
    doc: 'Binary cross entropy of probabilities against targets in [0, 1].',
  },
  {
    name: 'binaryCrossEntropyWithLogits',
    sig: 'Tensor self, Tensor target, Tensor? weight=null, *, Reduction reduction="mean", Tensor? posWeight=null',
    cpp: `{
      TORCH_CHECK_VALUE(target.sizes().equals(self.sizes()), "Target size (", target.sizes(), ") must be the same as input size (", self.sizes(), ")");
      return at::binary_cross_entropy_with_logits(self, target, weight, posWeight, reduction);
    }`,
    on: 'F',
    doc: 'Binary cross entropy of logits (sigmoid applied inside, stably); `posWeight` weighs positives per class.',
  },
  {
    name: 'cosineEmbeddingLoss',
    sig: 'Tensor input1, Tensor input2, Tensor target, float margin=0, *, Reduction reduction="mean"',
    cpp: 'at::cosine_embedding_loss(input1, input2, target, margin, reduction)',
    on: 'F',
    doc: '1 − cos(x1, x2) for target 1, max(0, cos(x1, x2) − margin) for target −1.',
  },
  {
    name: 'marginRankingLoss',
    sig: 'Tensor input1, Tensor input2, Tensor target, float margin=0, *, Reduction reduction="mean"',
    cpp: `{
      TORCH_CHECK(input1.dim() == input2.dim() && input1.dim() == target.dim(), "margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: ", input1.sizes(), ", input2: ", input2.sizes(), ", target: ", target.sizes(), " ");
      return at::margin_ranking_loss(input1, input2, target, margin, reduction);
    }`,
    on: 'F',
    doc: 'max(0, −target·(x1 − x2) + margin).',
  },
  {
    name: 'tripletMarginLoss',
    sig: 'Tensor anchor, Tensor positive, Tensor negative, float margin=1.0, float p=2, float eps=1e-06, bool swap=false, *, Reduction reduction="mean"',
    cpp: `{
      TORCH_CHECK_VALUE(margin > 0, "margin must be greater than 0, got ", margin);
      return at::triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction);
    }`,
    on: 'F',
    doc: 'max(d(a, p) − d(a, n) + margin, 0) with p-norm distances.',
  },
  {
    name: 'hingeEmbeddingLoss',
    sig: 'Tensor self, Tensor target, float margin=1.0, *, Reduction reduction="mean"',
    cpp: 'at::hinge_embedding_loss(self, target, margin, reduction)',
    on: 'F',
    doc: 'x for target 1, max(0, margin − x) for target −1.',
  },
  {
    name: 'softMarginLoss',
    sig: 'Tensor self, Tensor target, *, Reduction reduction="mean"',
    cpp: 'at::soft_margin_loss(self, target, reduction)',
    on: 'F',
    doc: 'log(1 + exp(−target·x)).',
  },
  {
    name: 'poissonNllLoss',
    sig: 'Tensor self, Tensor target, bool logInput=true, bool full=false, *, float eps=1e-08, Reduction reduction="mean"',
    cpp: 'at::poisson_nll_loss(self, target, logInput, full, eps, reduction)',
    on: 'F',
    doc: 'Negative log likelihood of a Poisson target.',
  },
];
