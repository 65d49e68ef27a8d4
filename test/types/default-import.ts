// Type test: the default import of a CommonJS TypeScript project (esModuleInterop), as `import torch from 'torch'`
// reads in Python. test/10-types.test.ts also runs this file.
import torch from 'torchkd';

const x = torch.ones(2, 3);
const s: number = x.sum().item();
if (s !== 6) throw new Error(`expected 6, got ${s}`);
