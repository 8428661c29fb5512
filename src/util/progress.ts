/**
 * A progress line on stderr: bar, count, rate and ETA, redrawn in place on a terminal and
 * printed at most every few seconds otherwise (CI logs stay short).
 */
export class Progress {
  readonly #label: string;
  #total: number;
  readonly #unit: string;
  readonly #start = performance.now();
  readonly #tty = process.stderr.isTTY === true;
  #lastDraw = 0;
  #done = 0;

  constructor(label: string, total: number, unit = "it") {
    this.#label = label;
    this.#total = total;
    this.#unit = unit;
  }

  /** The total grows as work is discovered (a queued study's jobs, as runs finish and their checkpoints are known). */
  set total(n: number) {
    this.#total = n;
  }

  /** Advances by n and redraws, with extra `key=value` facts (loss, accuracy...). */
  tick(n = 1, facts: Record<string, string | number> = {}): void {
    this.#done += n;
    const now = performance.now();
    const finished = this.#done >= this.#total;
    if (!finished && now - this.#lastDraw < (this.#tty ? 100 : 5000)) return;
    this.#lastDraw = now;
    const seconds = (now - this.#start) / 1000;
    const rate = this.#done / Math.max(seconds, 1e-9);
    const eta = (this.#total - this.#done) / Math.max(rate, 1e-9);
    const width = 24;
    const filled = Math.round((width * Math.min(this.#done, this.#total)) / this.#total);
    const extra = Object.entries(facts).map(([k, v]) => `${k}=${typeof v === "number" ? v.toPrecision(4) : v}`).join(" ");
    const line = `${this.#label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${this.#done}/${this.#total} ` +
      `${rate.toFixed(1)} ${this.#unit}/s ETA ${formatSeconds(finished ? 0 : eta)} ${extra}`.trimEnd();
    process.stderr.write(this.#tty ? `\r\x1b[K${line}${finished ? "\n" : ""}` : `${line}\n`);
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(1)}s`;
}
