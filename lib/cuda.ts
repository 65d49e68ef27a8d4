/**
 * torch.cuda: device queries, synchronisation and memory statistics, plus thread settings.
 */
import { N, cudaAvailable, int } from './tensor';

/** CUDA memory statistics of one device, in bytes (from libtorch's caching allocator). */
export interface CudaMemoryStats {
  allocated: number;
  reserved: number;
  peakAllocated: number;
  peakReserved: number;
}

/** `torch.cuda`. */
export const cuda = {
  /** True when this binary has CUDA and a device is usable. */
  isAvailable(): boolean {
    return cudaAvailable();
  },
  /** Number of visible CUDA devices (0 without CUDA). */
  deviceCount(): number {
    return N.cudaDeviceCount();
  },
  /** Waits for all kernels on a device (default: the current one) to finish. */
  synchronize(device?: number): void {
    N.cudaSynchronize(device === undefined ? undefined : int(device, 'device'));
  },
  /** Allocated/reserved bytes and their peaks (CUDA builds only). */
  memoryStats(device?: number): CudaMemoryStats {
    return N.cudaMemoryStats(device === undefined ? undefined : int(device, 'device'));
  },
  /** Resets the peak statistics. */
  resetPeakMemoryStats(device?: number): void {
    N.cudaResetPeak(device === undefined ? undefined : int(device, 'device'));
  },
  /** The device's name, e.g. 'NVIDIA H100 80GB HBM3'. */
  getDeviceName(device = 0): string {
    return N.cudaDeviceName(int(device, 'device'));
  },
  /** Whether this torchkd binary was compiled with CUDA kernels. */
  isBuiltWithCuda(): boolean {
    return N.cudaBuild();
  },
};

/** Sets the number of intra-op threads libtorch uses (`torch.set_num_threads`). */
export function setNumThreads(n: number): void {
  N.setNumThreads(int(n, 'threads'));
}

/** The number of intra-op threads (`torch.get_num_threads`). */
export function getNumThreads(): number {
  return N.getNumThreads();
}

/** The number of inter-op threads. */
export function getNumInteropThreads(): number {
  return N.getNumInteropThreads();
}
