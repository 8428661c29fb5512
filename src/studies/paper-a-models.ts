// Paper A's models (Ortega Caro et al., v1 Table 3 and App. B.1; the authors' code where the text is
// silent), each defined once: the studies, `npm run validate` and the benchmarks build them from here.
import type { ModelName } from "../models/index.js";

/** A paper number: [mean, std] over the paper's runs, or a single value. */
export type PaperValue = number | readonly [number, number];

export interface PaperModel {
  /** Name in results and folders. */
  key: string;
  label: string;
  name: ModelName;
  options: Record<string, unknown>;
  /** "linear": Table 1 (β is measured); "relu": Table 2. */
  table: "linear" | "relu";
  /**
   * The paper's CIFAR-10 numbers by result quantity: Tables 1–2 (‖δ̂‖, and ‖β̂‖ of min–max scaled β,
   * docs/methods.md) and Table 4's test accuracy in %.
   */
  paper: Partial<Record<"delta_hat_l2" | "delta_hat_l1" | "beta_hat_minmax_l2" | "beta_hat_minmax_l1" | "test_accuracy", PaperValue>>;
}

const linear = (key: string, label: string, name: ModelName, options: Record<string, unknown>, paper: PaperModel["paper"] = {}): PaperModel =>
  ({ key, label: `${label} (linear)`, name, options: { ...options, activation: "linear" }, table: "linear", paper });
const relu = (key: string, label: string, name: ModelName, options: Record<string, unknown>, paper: PaperModel["paper"] = {}): PaperModel =>
  ({ key, label: `${label} (ReLU)`, name, options: name === "fc" || name === "lc" || name === "fwconv" || name === "bwconv" ? { ...options, activation: "relu" } : options, table: "relu", paper });

export const PAPER_A_MODELS: readonly PaperModel[] = [
  linear("fc-linear", "Fully Connected", "fc", {}, { delta_hat_l2: [20.77, 1.23], delta_hat_l1: [505.95, 32.22], beta_hat_minmax_l2: [546.89, 43.37], beta_hat_minmax_l1: [2232.46, 166.27], test_accuracy: 41 }),
  linear("fwconv-linear", "Full Width Convolution", "fwconv", {}, { delta_hat_l2: [17.52, 1.56], delta_hat_l1: [376.31, 32.66], beta_hat_minmax_l2: [544.83, 42.4], beta_hat_minmax_l1: [1598.37, 181.44], test_accuracy: 41 }),
  // Table 3: bounded-width convolutions have 3 or 32 channels; the one-layer model of Table 1 has 3.
  linear("bwconv-linear", "Bounded Width Convolution", "bwconv", { channels: 3 }, { delta_hat_l2: [20.65, 1.09], delta_hat_l1: [556.32, 32.64], beta_hat_minmax_l2: [500.67, 47.46], beta_hat_minmax_l1: [2623.04, 331.42], test_accuracy: 41 }),
  linear("fc-deep-linear", "Deep Fully Connected", "fc", { depth: 3 }, { delta_hat_l2: [20.83, 1.25], delta_hat_l1: [503.92, 32.62], beta_hat_minmax_l2: [554.16, 38.95], beta_hat_minmax_l1: [2168.06, 134.07], test_accuracy: 41 }),
  linear("fwconv-deep-linear", "Deep Full Width Convolution", "fwconv", { depth: 3 }, { delta_hat_l2: [17.13, 1.68], delta_hat_l1: [265.4, 41.72], beta_hat_minmax_l2: [522.99, 39.72], beta_hat_minmax_l1: [1417.68, 213.91], test_accuracy: 36 }),
  // v1 §3.3.1: "a 3 hidden layer 32-channel bounded convolutional model".
  linear("bwconv-deep-linear", "Deep Bounded Width Convolution", "bwconv", { channels: 32, depth: 3 }, { delta_hat_l2: [20.57, 0.94], delta_hat_l1: [550.3, 29.71], beta_hat_minmax_l2: [498.52, 47.15], beta_hat_minmax_l1: [2392.09, 278.55], test_accuracy: 41 }),
  linear("bwconv-c32-linear", "Bounded Width Convolution, C = 32", "bwconv", { channels: 32 }),
  linear("lc-linear", "Locally Connected", "lc", {}, { test_accuracy: 35 }),
  relu("fc-relu", "Fully Connected", "fc", {}, { delta_hat_l2: [22.06, 1.35], delta_hat_l1: [534.34, 35.93], test_accuracy: 52 }),
  relu("lc-relu", "Locally Connected", "lc", {}, { delta_hat_l2: [22.32, 1.13], delta_hat_l1: [587.61, 29.89], test_accuracy: 54 }),
  relu("fwconv-relu", "Full Width Convolution", "fwconv", {}, { delta_hat_l2: [20.57, 1.11], delta_hat_l1: [405.49, 34.16] }),
  relu("bwconv-relu", "Bounded Width Convolution", "bwconv", { channels: 32 }, { delta_hat_l2: [24.63, 1.36], delta_hat_l1: [665.22, 38.55], test_accuracy: 63 }),
  relu("shallow-resnet", "Shallow ResNet", "shallow-resnet", {}, { delta_hat_l2: [26.36, 0.74], delta_hat_l1: [709.06, 20.76], test_accuracy: 64 }),
  relu("vgg19", "VGG19", "vgg19", {}, { delta_hat_l2: [23.32, 0.99], delta_hat_l1: [650.73, 27.87], test_accuracy: 91 }),
  relu("resnet18", "ResNet18", "resnet18", {}, { delta_hat_l2: [22.42, 0.91], delta_hat_l1: [626.6, 25.4], test_accuracy: 92 }),
];

/** One of PAPER_A_MODELS by key. */
export function paperModel(key: string): PaperModel {
  const m = PAPER_A_MODELS.find((x) => x.key === key);
  if (!m) throw new RangeError(`no paper A model '${key}'; models: ${PAPER_A_MODELS.map((x) => x.key).join(", ")}`);
  return m;
}
