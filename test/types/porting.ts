// Type test (compiled with `tsc --strict` against the published declarations in dist/, by test/10-types.test.ts):
// PyTorch code ported line by line type-checks without casts. Not run.
import * as torch from 'torchkd';
import { distiller, nn, optim, Tensor } from 'torchkd';

const F = torch.F;

// A forward returning a tuple: `call` is typed by it.
class Student extends nn.Module {
  features = new nn.Sequential(new nn.Conv2d(3, 16, { kernelSize: 3, padding: 1 }), new nn.ReLU(), new nn.MaxPool2d({ kernelSize: 2, stride: 2 }));
  classifier = new nn.Linear(16 * 4 * 4, 10);
  override forward(x: Tensor): [Tensor, Tensor] {
    const hidden = torch.flatten(this.features.call(x), 1);
    return [this.classifier.call(hidden), hidden];
  }
}
const net = new Student();
const [logits, hidden] = net.call(torch.randn(2, 3, 8, 8));
const w: Tensor = net.features[0].weight; // Sequential indexing keeps the child's type
const firstConv: nn.Conv2d = net.features[0];

// Losses and numbers out.
const criterion = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
const loss = criterion.call(logits, torch.tensor([1, 2]));
let total = 0;
total += loss.item();
const allEqual: boolean = logits.eq(logits).all().item();
const probs = F.softmax(logits, { dim: -1 });
const [values, indices] = torch.max(probs, 1);
const cos = new nn.CosineEmbeddingLoss().call(hidden, hidden, torch.ones(2));

// Checkpoints: state dicts of the model, the optimizer and the scheduler, with numbers.
const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 10 });
torch.save({ model: net.stateDict(), optimizer: opt.stateDict(), scheduler: sched.stateDict(), epoch: 3 }, 'ckpt.pt');
interface Checkpoint {
  model: nn.StateDict;
  optimizer: optim.OptimizerStateDict;
  epoch: number;
}
const ckpt = torch.load<Checkpoint>('ckpt.pt');
net.loadStateDict(ckpt.model);
opt.loadStateDict(ckpt.optimizer);
const epoch: number = ckpt.epoch;

// A PolicyLoss destructures into its two typed parts.
const pl = new distiller.PolicyLoss(loss, [new distiller.LossComponent('Distill Loss', cos)]);
const [overall, components] = pl;
const o: Tensor = overall;
const names: string[] = components.map((c) => c.name);

// Containers and hooks.
const blocks = new nn.ModuleList([new nn.Linear(4, 4), new nn.Linear(4, 4)]);
const b0: nn.Linear = blocks[0];
const heads = new nn.ModuleDict({ cls: new nn.Linear(4, 2) });
const head: nn.Linear = heads.cls;
const feats: Tensor[] = [];
const handle = net.features.registerForwardHook((m, inputs, out) => {
  feats.push(out);
});
handle.remove();

// Internal members are not part of the published types.
// @ts-expect-error _h is internal
void logits._h;
// @ts-expect-error _parameters is internal
void net._parameters;
// @ts-expect-error a module's forward arguments are checked through call()
net.call('not a tensor');

void [w, firstConv, allEqual, values, indices, epoch, o, names, b0, head, sched];
