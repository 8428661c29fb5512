// Learning-rate schedules, evaluated per epoch. All are pure functions of (epoch, history) so a
// resumed run reproduces them; ReduceLROnPlateau's history is its saved state.

export type ScheduleName = "constant" | "step" | "cosine" | "plateau" | "paper-a";
export const SCHEDULES: readonly ScheduleName[] = ["constant", "step", "cosine", "plateau", "paper-a"];

export interface ScheduleOptions {
  /** step: multiply by gamma every stepSize epochs. */
  stepSize?: number;
  gamma?: number;
  /** cosine: anneal to minLr over totalEpochs. */
  totalEpochs?: number;
  minLr?: number;
  /** plateau: PyTorch's ReduceLROnPlateau defaults (mode min, factor 0.1, patience 10, rel threshold 1e-4). */
  factor?: number;
  patience?: number;
  threshold?: number;
}

export interface PlateauState {
  best: number;
  badEpochs: number;
  lr: number;
}

export class Schedule {
  #plateau: PlateauState;
  constructor(readonly name: ScheduleName, readonly baseLr: number, readonly o: ScheduleOptions = {}) {
    if (!SCHEDULES.includes(name)) throw new RangeError(`schedule: expected one of ${SCHEDULES.join(", ")}, got '${name}'`);
    this.#plateau = { best: Infinity, badEpochs: 0, lr: baseLr };
  }

  /** The learning rate for a 0-based epoch. */
  lr(epoch: number): number {
    switch (this.name) {
      case "constant":
        return this.baseLr;
      case "step":
        return this.baseLr * (this.o.gamma ?? 0.1) ** Math.floor(epoch / (this.o.stepSize ?? 30));
      case "cosine": {
        const total = this.o.totalEpochs ?? 100;
        const min = this.o.minLr ?? 0;
        return min + ((this.baseLr - min) * (1 + Math.cos((Math.PI * Math.min(epoch, total)) / total))) / 2;
      }
      case "plateau":
        return this.#plateau.lr;
      case "paper-a":
        // Ryan's LambdaLR: ×0.3 every 4 epochs, back to the maximum every 20 (paper A's training code).
        return this.baseLr * 0.3 ** Math.floor((epoch % 20) / 4);
    }
  }

  /** Reports the epoch's monitored loss (only plateau uses it). */
  observe(loss: number): void {
    if (this.name !== "plateau") return;
    const s = this.#plateau;
    if (loss < s.best * (1 - (this.o.threshold ?? 1e-4))) {
      s.best = loss;
      s.badEpochs = 0;
    } else if (++s.badEpochs > (this.o.patience ?? 10)) {
      s.lr *= this.o.factor ?? 0.1;
      s.badEpochs = 0;
    }
  }

  state(): PlateauState {
    return { ...this.#plateau };
  }

  /** Accepts its own state back, also after a JSON round trip (which turns Infinity into null). */
  loadState(s: PlateauState): void {
    this.#plateau = { ...s, best: s.best ?? Infinity };
  }
}
