// A study's tables: which database rows each cell summarises, and the paper's numbers beside it.
// The study prints them and the report draws them from this one query, so both show the same.
import type { ResultsDb } from "./db.js";

export interface TableColumn {
  quantity: string;
  label: string;
  /** Only rows of this dataset (the hidden-shortcut table compares datasets); default: every dataset of the study. */
  dataset?: string;
  /** Only rows of this attack; default the table's. */
  attack?: string;
}

export interface TableRow {
  model: string;
  /** The paper's value per column label: [mean, std] or a single number. */
  paper?: Record<string, number | readonly [number, number]>;
}

export interface Table {
  id: string;
  title: string;
  /** Attack key of the table's rows ('' = quantities measured without an attack, e.g. accuracy). */
  attack: string;
  columns: TableColumn[];
  rows: TableRow[];
  /** What the numbers come from (split, examples, attack) and how to read them. */
  note?: string;
  /** Whose numbers the rows' `paper` values are (default "paper"). */
  reference?: string;
}

export interface Cell {
  mean: number;
  std: number;
  /** Rows summarised: examples for per-example quantities, seeds for per-run ones. */
  n: number;
}

/**
 * Ours, per row and column: mean ± sample std over the matching rows of the best checkpoints
 * (per-example values pooled over seeds; per-run values over seeds). Null where nothing was measured.
 * NaN values (a quantity undefined there, e.g. the flatness of an all-zero spectrum) are left out.
 */
export async function tableCells(db: ResultsDb, table: Table): Promise<(Cell | null)[][]> {
  const out: (Cell | null)[][] = [];
  for (const row of table.rows) {
    const cells: (Cell | null)[] = [];
    for (const col of table.columns) {
      const [r] = await db.query(
        `SELECT avg(value) AS mean, coalesce(stddev_samp(value), 0) AS std, count(*) AS n FROM results
         WHERE best AND model = $1 AND attack = $2 AND quantity = $3 AND ($4 = '' OR dataset = $4) AND bin IS NULL AND NOT isnan(value)`,
        [row.model, col.attack ?? table.attack, col.quantity, col.dataset ?? ""],
      );
      cells.push(r && Number(r.n) > 0 ? { mean: Number(r.mean), std: Number(r.std), n: Number(r.n) } : null);
    }
    out.push(cells);
  }
  return out;
}
