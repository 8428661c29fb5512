import { N } from "./native.js";

/** libtorch's intra-op thread count (advdyn defaults it to the core count, or ADVDYN_NUM_THREADS). */
export const getNumThreads = (): number => N.get_num_threads();
export const setNumThreads = (n: number): void => N.set_num_threads(n);

export const cuda = {
  isAvailable: (): boolean => N.cuda_is_available(),
  deviceCount: (): number => N.cuda_device_count(),
};
