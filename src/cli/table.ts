// Text tables (cli-table3) in a plain style: columns aligned, no box drawing, so that output
// pastes into notes and logs and stays greppable.
import Table from "cli-table3";

const PLAIN = {
  top: "", "top-mid": "", "top-left": "", "top-right": "", bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
};

/** The first column left-aligned, the others right-aligned (numbers). */
export function table(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const t = new Table({
    head: [...head], chars: PLAIN, style: { head: [], border: [], "padding-left": 0, "padding-right": 0, compact: true },
    colAligns: head.map((_, i) => (i === 0 ? "left" : "right")),
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString().split("\n").map((l) => l.trimEnd()).join("\n");
}
