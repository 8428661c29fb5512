// Paper A's qualitative findings as orderings of model means (v1 Tables 1, 2; §3.3), checked on a
// study's results: the validation prints them per seed, the tests assert them.
import type { ResultsDb } from "../store/db.js";

export interface Ordering {
  /** What the paper found, in words. */
  text: string;
  quantity: string;
  attack: string;
  /** Model keys whose means increase strictly along the chain. */
  chain: string[];
  /** The paper's values along the chain (CIFAR-10). */
  paper?: number[];
}

export const PAPER_A_ORDERINGS: readonly Ordering[] = [
  { text: "‖β̂‖₁: deep FWC < FWC < FC < BWC", quantity: "beta_hat_minmax_l1", attack: "pgd-linf", chain: ["fwconv-deep-linear", "fwconv-linear", "fc-linear", "bwconv-linear"], paper: [1417.68, 1598.37, 2232.46, 2623.04] },
  {
    text: "‖β̂‖₁/‖β̂‖₂: deep FWC < FWC < FC < deep BWC < BWC", quantity: "beta_hat_minmax_sparsity", attack: "pgd-linf",
    chain: ["fwconv-deep-linear", "fwconv-linear", "fc-linear", "bwconv-deep-linear", "bwconv-linear"], paper: [2.71, 2.93, 4.08, 4.8, 5.24],
  },
  { text: "‖δ̂‖₁ (linear): deep FWC < FWC < FC < BWC", quantity: "delta_hat_l1", attack: "pgd-linf", chain: ["fwconv-deep-linear", "fwconv-linear", "fc-linear", "bwconv-linear"], paper: [265.4, 376.31, 505.95, 556.32] },
  { text: "‖δ̂‖₁ (ReLU): FWC < FC < BWC", quantity: "delta_hat_l1", attack: "pgd-linf", chain: ["fwconv-relu", "fc-relu", "bwconv-relu"], paper: [405.49, 534.34, 665.22] },
];

export interface OrderingResult {
  ordering: Ordering;
  /** Our mean per chain model (null: not measured). */
  values: (number | null)[];
  /** Null when a model of the chain was not measured. */
  held: boolean | null;
}

/** Each ordering on the best checkpoints' rows of one dataset: one seed's, or all seeds pooled. */
export async function checkOrderings(db: ResultsDb, orderings: readonly Ordering[], where: { dataset: string; seed?: number }): Promise<OrderingResult[]> {
  const out: OrderingResult[] = [];
  for (const ordering of orderings) {
    const values: (number | null)[] = [];
    for (const model of ordering.chain) {
      const [r] = await db.query(
        `SELECT avg(value) AS mean, count(*) AS n FROM results WHERE best AND bin IS NULL AND dataset = $1 AND model = $2 AND attack = $3 AND quantity = $4 AND ($5 < 0 OR seed = $5)`,
        [where.dataset, model, ordering.attack, ordering.quantity, where.seed ?? -1]);
      values.push(r && Number(r.n) > 0 ? Number(r.mean) : null);
    }
    const held = values.some((v) => v === null) ? null : values.every((v, i) => i === 0 || values[i - 1]! < v!);
    out.push({ ordering, values, held });
  }
  return out;
}
