// Building a job's result rows: every quantity is checked against the catalogue, so a job cannot
// write a quantity the tables, figures and docs do not know, or write it in another shape.
import { quantity } from "../analysis/quantities.js";
import type { ResultRow } from "../store/db.js";

/** Where a checkpoint's rows go: every column but the measured ones. */
export type RowKey = Omit<ResultRow, "attack" | "quantity" | "bin" | "example" | "value">;

function checkShape(name: string, shape: "scalar" | "example" | "curve"): void {
  const q = quantity(name);
  if (q.shape !== shape) throw new RangeError(`quantity '${name}' is a ${q.shape} quantity in the catalogue, written as a ${shape}`);
}

export class Rows {
  readonly rows: ResultRow[] = [];
  constructor(private readonly key: RowKey) {}

  scalar(attack: string, name: string, value: number): void {
    checkShape(name, "scalar");
    this.rows.push({ ...this.key, attack, quantity: name, bin: null, example: null, value });
  }

  curve(attack: string, name: string, values: ArrayLike<number>): void {
    checkShape(name, "curve");
    for (let i = 0; i < values.length; i++) this.rows.push({ ...this.key, attack, quantity: name, bin: i, example: null, value: values[i]! });
  }

  perExample(attack: string, name: string, examples: readonly number[], values: ArrayLike<number>): void {
    checkShape(name, "example");
    examples.forEach((e, i) => this.rows.push({ ...this.key, attack, quantity: name, bin: null, example: e, value: values[i]! }));
  }
}
