'use strict';
// Loss modules: their constructor options are the functional loss's keyword options (Python's deprecated
// size_average/reduce are not taken); forward(input, target) calls the F function with them.

const red = 'str{none|mean|sum} reduction="mean"';
const loss = (name, sig, doc) => ({ name, impl: 'LossImpl', sig, doc });
const loss3 = (name, sig, doc) => ({ name, impl: 'Loss3Impl', sig, doc });

module.exports = [
  loss('L1Loss', `*, ${red}`, 'Mean absolute error.'),
  loss('MSELoss', `*, ${red}`, 'Mean squared error.'),
  loss('CrossEntropyLoss', `Tensor? weight=null, *, int ignoreIndex=-100, ${red}, float labelSmoothing=0.0`, 'Cross entropy of logits against class indices or probabilities (`weight` is a buffer, as in PyTorch).'),
  loss('NLLLoss', `Tensor? weight=null, *, int ignoreIndex=-100, ${red}`, 'Negative log likelihood of log-probabilities.'),
  loss('KLDivLoss', '*, str{none|mean|sum|batchmean} reduction="mean", bool logTarget=false', 'KL divergence of log-probability inputs.'),
  loss('BCELoss', `Tensor? weight=null, *, ${red}`, 'Binary cross entropy of probabilities.'),
  loss('BCEWithLogitsLoss', `Tensor? weight=null, *, ${red}, Tensor? posWeight=null`, 'Binary cross entropy of logits.'),
  loss('SmoothL1Loss', `*, ${red}, float beta=1.0`, 'Squared error below beta, absolute above.'),
  loss('HuberLoss', `*, ${red}, float delta=1.0`, 'Squared error below delta, delta-scaled absolute above.'),
  loss3('CosineEmbeddingLoss', `float margin=0.0, *, ${red}`, 'Cosine embedding loss of two inputs and a ±1 target.'),
  loss3('MarginRankingLoss', `float margin=0.0, *, ${red}`, 'max(0, −target·(x1 − x2) + margin).'),
  loss3('TripletMarginLoss', `float margin=1.0, float p=2.0, float eps=1e-06, bool swap=false, *, ${red}`, 'Triplet margin loss of anchor, positive and negative.'),
  loss('HingeEmbeddingLoss', `float margin=1.0, *, ${red}`, 'Hinge embedding loss.'),
  loss('SoftMarginLoss', `*, ${red}`, 'log(1 + exp(−target·x)).'),
  loss('PoissonNLLLoss', `bool logInput=true, bool full=false, *, float eps=1e-08, ${red}`, 'Negative log likelihood of a Poisson target.'),
];
