/**
 * torchkd — PyTorch-style tensors, training and knowledge distillation for Node.js, over libtorch.
 *
 * @example
 * import * as torch from 'torchkd';
 * const x = torch.randn(4, 10);
 * const y = torch.nn.functional.softmax(x, 1);
 */
export * from './api';
import * as api from './api';
/**
 * The whole module as a default export, so that `import torch from 'torchkd'` works in CommonJS TypeScript projects
 * (with esModuleInterop) as in ES modules.
 */
export default api;
