// The study's result tables: ours from src/store/tables.ts's one query (the same numbers
// `advdyn study` prints), the paper's numbers beside them.
import { type Cell, type Table, tableCells } from "../store/tables.js";
import type { Study } from "./study.js";

export interface TableData {
  table: Table;
  /** Display label of each row's model. */
  labels: string[];
  /** ours[row][column]: mean ± std over the final checkpoints' rows, null where nothing was measured. */
  ours: (Cell | null)[][];
}

export async function buildTables(study: Study): Promise<TableData[]> {
  const out: TableData[] = [];
  for (const table of study.tables) out.push({ table, labels: table.rows.map((r) => study.label(r.model)), ours: await tableCells(study.db, table) });
  return out;
}
