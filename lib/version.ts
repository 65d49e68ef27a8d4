/**
 * torch.version: the versions of torchkd, of the libtorch it runs on, and of CUDA in that libtorch.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadReport, packageRoot } from './loader';
import { N } from './tensor';

function packageVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version as string;
  } catch {
    return 'unknown';
  }
}

const info = N.versionInfo();
const lib = loadReport()?.libtorch;

/** `{torchkd, libtorch, cuda}`: cuda is the CUDA version of the libtorch in use, or null for a CPU build. */
export const version: { readonly torchkd: string; readonly libtorch: string; readonly cuda: string | null } = Object.freeze({
  torchkd: packageVersion(),
  libtorch: lib?.versionString ?? info.libtorch,
  cuda: info.cudaBuild ? (lib?.cudaVersion ?? 'unknown') : null,
});
