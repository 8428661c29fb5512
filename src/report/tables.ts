// The study's result tables: ours from src/store/tables.ts's one query (the same numbers
// `advdyn study` prints), the paper's numbers beside them.
import { allQuantities, findQuantity, type Quantity } from "../analysis/quantities.js";
import { type Cell, type Table, tableCells } from "../store/tables.js";
import type { Study } from "./study.js";

export interface TableData {
  table: Table;
  /** Display label of each row's model. */
  labels: string[];
  /** ours[row][column]: mean ± std over the best checkpoints' rows, null where nothing was measured. */
  ours: (Cell | null)[][];
}

export async function buildTables(study: Study): Promise<TableData[]> {
  const out: TableData[] = [];
  for (const table of study.tables) out.push({ table, labels: table.rows.map((r) => study.label(r.model)), ours: await tableCells(study.db, table) });
  return out;
}

/** Every scalar or per-example quantity of one dataset at the best checkpoints, per model: the report's catalogue-driven summary. */
export interface QuantitySummary {
  dataset: string;
  /** Model keys, in study order. */
  models: string[];
  rows: { quantity: Quantity; attack: string; cells: (Cell | null)[] }[];
}

/** One summary per dataset: a row per (quantity, attack) the study measured, in catalogue order; a new catalogued quantity appears without further code. */
export async function buildSummaries(study: Study): Promise<QuantitySummary[]> {
  const rows = await study.query(
    `SELECT dataset, model, attack, quantity, avg(value) AS mean, coalesce(stddev_samp(value), 0) AS std, count(*) AS n
     FROM results WHERE best AND bin IS NULL GROUP BY dataset, model, attack, quantity ORDER BY dataset, attack, quantity`);
  const order = new Map(allQuantities().map((q, i) => [q.name, i]));
  const out: QuantitySummary[] = [];
  for (const dataset of [...new Set(rows.map((r) => String(r.dataset)))]) {
    const mine = rows.filter((r) => r.dataset === dataset);
    const models = study.orderModels(mine.map((r) => String(r.model)));
    const keys = [...new Map(mine.map((r) => [`${r.quantity}\u0000${r.attack}`, { quantity: String(r.quantity), attack: String(r.attack) }])).values()]
      .filter((k) => findQuantity(k.quantity) !== undefined)
      .sort((a, b) => order.get(a.quantity)! - order.get(b.quantity)! || a.attack.localeCompare(b.attack));
    out.push({
      dataset, models,
      rows: keys.map((k) => ({
        quantity: findQuantity(k.quantity)!, attack: k.attack,
        cells: models.map((m) => {
          const r = mine.find((x) => x.model === m && x.quantity === k.quantity && x.attack === k.attack);
          return r ? { mean: Number(r.mean), std: Number(r.std), n: Number(r.n) } : null;
        }),
      })),
    });
  }
  return out;
}
