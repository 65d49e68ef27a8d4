'use strict';
/**
 * The KD training step the Node side of `bench/run.js train` and `bench/alloc_case.js` time: policy.forward, cross
 * entropy, the policy's loss (T=4, weights 0.5/0.5), backward and an SGD step with momentum and weight decay, in a
 * tidy scope; returns the loss. `step(x, y)` takes other batches (the demo epoch).
 */
function kdStep(torch, teacher, student, x, y) {
  const policy = new torch.KnowledgeDistillationPolicy(student, teacher, 4.0, torch.DistillationLossWeights(0.5, 0.5, 0));
  policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
  const opt = new torch.optim.SGD(student.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  return (xx = x, yy = y) =>
    torch.tidy(() => {
      const out = policy.forward(xx);
      const loss = torch.F.crossEntropy(out, yy);
      const pl = policy.beforeBackwardPass(student, 0, 0, 1, loss, {});
      opt.zeroGrad();
      pl.overallLoss.backward();
      opt.step();
      return pl.overallLoss.item();
    });
}

module.exports = { kdStep };
