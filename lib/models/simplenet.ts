/**
 * Distiller's MNIST models (distiller/models/mnist/simplenet_mnist.py): the same layers, in the same order, with the
 * same parameter names, as native Sequentials (a Flatten stands where Python called x.view; it has no parameters,
 * so state dicts are interchangeable with Python's).
 */
import { AvgPool2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../nn';

/** Distiller's simplenet_mnist: two 5×5 convolutions, two fully-connected layers (431K parameters). */
export function simplenetMnist(options: { numClasses?: number } = {}): Sequential {
  return new Sequential({
    conv1: new Conv2d(1, 20, 5, 1),
    relu1: new ReLU(),
    pool1: new MaxPool2d(2, 2),
    conv2: new Conv2d(20, 50, 5, 1),
    relu2: new ReLU(),
    pool2: new MaxPool2d(2, 2),
    flatten: new Flatten(),
    fc1: new Linear(4 * 4 * 50, 500),
    relu3: new ReLU(),
    fc2: new Linear(500, options.numClasses ?? 10),
  });
}

/** Distiller's simplenet_v2_mnist: simplenet with one small fully-connected layer (26K parameters). */
export function simplenetV2Mnist(options: { numClasses?: number } = {}): Sequential {
  return new Sequential({
    conv1: new Conv2d(1, 20, 5, 1),
    relu1: new ReLU(),
    pool1: new MaxPool2d(2, 2),
    conv2: new Conv2d(20, 50, 5, 1),
    relu2: new ReLU(),
    pool2: new MaxPool2d(2, 2),
    avgpool: new AvgPool2d(4, 1),
    flatten: new Flatten(),
    fc: new Linear(50, options.numClasses ?? 10),
  });
}

/**
 * A multi-layer perceptron for 28×28 inputs: flatten, then Linear+ReLU per hidden size, then a classifier
 * (parameter names fc1, fc2, ...), e.g. `mlp({hidden: [64]})` is 784→64→10, a small distillation student.
 */
export function mlp(options: { inputSize?: number; hidden?: number[]; numClasses?: number } = {}): Sequential {
  const sizes = [options.inputSize ?? 784, ...(options.hidden ?? [100]), options.numClasses ?? 10];
  const layers: Record<string, InstanceType<typeof Linear> | InstanceType<typeof ReLU> | InstanceType<typeof Flatten>> = { flatten: new Flatten() };
  for (let i = 0; i < sizes.length - 1; i++) {
    layers[`fc${i + 1}`] = new Linear(sizes[i], sizes[i + 1]);
    if (i < sizes.length - 2) layers[`relu${i + 1}`] = new ReLU();
  }
  return new Sequential(layers);
}
