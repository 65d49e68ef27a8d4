/**
 * Distiller's CIFAR ResNets (distiller/models/cifar10/resnet_cifar.py and preresnet_cifar.py): resnet20/32/44/56
 * and the pre-activation preact_resnet20/32/44/56/110, with the same module structure and creation order as Python,
 * so parameter names match its state dicts and seeded initial weights match Python's.
 */
import * as F from '../functional';
import { Module } from '../nn/module';
import { AvgPool2d, BatchNorm2d, Conv2d, Linear, ReLU, Sequential } from '../nn';
import type { Tensor } from '../tensor';

function conv3x3(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
}

/** ResNet basic block: conv-bn-relu-conv-bn, plus the (downsampled) input. */
class BasicBlock extends Module<[Tensor], Tensor> {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu1: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  relu2: ReLU;
  downsample: Module<[Tensor], Tensor> | null;

  constructor(inplanes: number, planes: number, stride: number, downsample: Module<[Tensor], Tensor> | null) {
    super();
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.relu1 = new ReLU();
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.relu2 = new ReLU();
    this.downsample = downsample;
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu1.call(this.bn1.call(this.conv1.call(x)));
    out = this.bn2.call(this.conv2.call(out));
    const residual = this.downsample ? this.downsample.call(x) : x;
    return this.relu2.call(out.add(residual));
  }
}

/** Distiller's ResNetCifar. */
export class ResNetCifar extends Module<[Tensor], Tensor> {
  private inplanes = 16;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  avgpool: AvgPool2d;
  fc: Linear;

  constructor(layers: [number, number, number], numClasses = 10) {
    super();
    this.conv1 = new Conv2d(3, 16, 3, { stride: 1, padding: 1, bias: false });
    this.bn1 = new BatchNorm2d(16);
    this.relu = new ReLU();
    this.layer1 = this.makeLayer(16, layers[0], 1);
    this.layer2 = this.makeLayer(32, layers[1], 2);
    this.layer3 = this.makeLayer(64, layers[2], 2);
    this.avgpool = new AvgPool2d(8, 1);
    this.fc = new Linear(64, numClasses);
  }

  private makeLayer(planes: number, blocks: number, stride: number): Sequential {
    let downsample: Module<[Tensor], Tensor> | null = null;
    if (stride !== 1 || this.inplanes !== planes) {
      downsample = new Sequential(new Conv2d(this.inplanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes));
    }
    const list: Module<[Tensor], Tensor>[] = [new BasicBlock(this.inplanes, planes, stride, downsample)];
    this.inplanes = planes;
    for (let i = 1; i < blocks; i++) list.push(new BasicBlock(this.inplanes, planes, 1, null));
    return new Sequential(...list);
  }

  override forward(x: Tensor): Tensor {
    let out = this.relu.call(this.bn1.call(this.conv1.call(x)));
    out = this.layer3.call(this.layer2.call(this.layer1.call(out)));
    out = this.avgpool.call(out);
    return this.fc.call(out.view(out.size(0), -1));
  }
}

/** Channel padding used by the pre-activation ResNet's identity shortcut (Python's nn.ConstantPad3d). */
class ConstantPad3d extends Module<[Tensor], Tensor> {
  constructor(readonly padding: number[], readonly value = 0) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return F.pad(x, this.padding, 'constant', this.value);
  }
}

/** Pre-activation basic block: bn-relu before each convolution (Python's attribute names, pre_bn etc.). */
class PreactBasicBlock extends Module<[Tensor], Tensor> {
  private readonly _preBn: BatchNorm2d;
  private readonly _preRelu: ReLU;
  conv1: Conv2d;
  bn: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  downsample: Module<[Tensor], Tensor> | null;

  constructor(inplanes: number, planes: number, stride: number, downsample: Module<[Tensor], Tensor> | null, readonly preactDownsample = true) {
    super();
    this._preBn = new BatchNorm2d(inplanes);
    this.registerModule('pre_bn', this._preBn);
    this._preRelu = new ReLU();
    this.registerModule('pre_relu', this._preRelu);
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn = new BatchNorm2d(planes);
    this.relu = new ReLU();
    this.conv2 = conv3x3(planes, planes);
    this.downsample = downsample;
  }

  override forward(x: Tensor): Tensor {
    const preact = this._preRelu.call(this._preBn.call(x));
    let out = this.relu.call(this.bn.call(this.conv1.call(preact)));
    out = this.conv2.call(out);
    const residual = this.downsample ? this.downsample.call(this.preactDownsample ? preact : x) : x;
    return out.add(residual);
  }
}

/** Distiller's PreactResNetCifar (identity shortcut by default; `convDownsample` for 1×1 convolutions). */
export class PreactResNetCifar extends Module<[Tensor], Tensor> {
  private inplanes = 16;
  conv1: Conv2d;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  private readonly _finalBn: BatchNorm2d;
  private readonly _finalRelu: ReLU;
  avgpool: AvgPool2d;
  fc: Linear;

  constructor(layers: [number, number, number], numClasses = 10, convDownsample = false) {
    super();
    this.conv1 = new Conv2d(3, 16, 3, { stride: 1, padding: 1, bias: false });
    this.layer1 = this.makeLayer(16, layers[0], 1, convDownsample);
    this.layer2 = this.makeLayer(32, layers[1], 2, convDownsample);
    this.layer3 = this.makeLayer(64, layers[2], 2, convDownsample);
    this._finalBn = new BatchNorm2d(64);
    this.registerModule('final_bn', this._finalBn);
    this._finalRelu = new ReLU();
    this.registerModule('final_relu', this._finalRelu);
    this.avgpool = new AvgPool2d(8, 1);
    this.fc = new Linear(64, numClasses);
  }

  private makeLayer(planes: number, blocks: number, stride: number, convDownsample: boolean): Sequential {
    let downsample: Module<[Tensor], Tensor> | null = null;
    if (stride !== 1 || this.inplanes !== planes) {
      if (convDownsample) {
        downsample = new Conv2d(this.inplanes, planes, 1, { stride, bias: false });
      } else {
        const pad = Math.trunc(this.inplanes / 2);
        downsample = new Sequential(new AvgPool2d(2), new ConstantPad3d([0, 0, 0, 0, pad, pad], 0));
      }
    }
    const list: Module<[Tensor], Tensor>[] = [new PreactBasicBlock(this.inplanes, planes, stride, downsample, convDownsample)];
    this.inplanes = planes;
    for (let i = 1; i < blocks; i++) list.push(new PreactBasicBlock(this.inplanes, planes, 1, null));
    return new Sequential(...list);
  }

  override forward(x: Tensor): Tensor {
    let out = this.conv1.call(x);
    out = this.layer3.call(this.layer2.call(this.layer1.call(out)));
    out = this._finalRelu.call(this._finalBn.call(out));
    out = this.avgpool.call(out);
    return this.fc.call(out.view(out.size(0), -1));
  }
}
