// `derive-dataset`: turns an attack-set into a dataset folder (data/folder.ts): the attacked
// examples x + δ with chosen labels (the attack's targets: paper B's mislabeled adversarial
// examples; the class the source model now predicts; or the original labels), the test split
// that of the source set. Rows: the fool rate of the new set, overall and per new label (how
// often the source model assigns x + δ its new label, from the stored adversarial classes).
// preview.safetensors holds the first few examples (x + δ, δ, both labels) for the report, which
// then never reads a whole set (3.8 GB for paper B's largest noise set).
import { join, relative } from "node:path";
import { resolveRef, writeFolderDataset } from "../../data/index.js";
import { RunDir } from "../../store/run.js";
import * as torch from "../../torch/index.js";
import { readRunConfig } from "../../train/run-model.js";
import { readJson } from "../../util/json.js";
import { OptionError } from "../../util/schema.js";
import type { JobKind } from "../graph.js";
import { Rows } from "../rows.js";
import { type AttackSetSummary, sourceImages } from "./attack-set.js";

export interface DeriveInputs {
  /** The new labels: the attack's targets, the source model's class for x + δ, or the original labels. */
  labels: "targets" | "adversarial" | "original";
  /** Which ε of the attack-set (index, default 0). */
  epsilon?: number;
  /** Only the first N attacked examples (default all): sets of several sizes from one attack (paper B's noise-size sweep). */
  examples?: number;
}

const LABELS = ["targets", "adversarial", "original"] as const;
const PREVIEW = 6;
// x + δ is computed and written in pieces of this size: the memory the job needs, whatever the set's size.
const PIECE_BYTES = 16 << 20;

export const deriveDataset: JobKind = {
  name: "derive-dataset",
  summary: "turn an attack-set into a dataset folder: x + δ with new labels (loadable by train)",
  check(spec) {
    const i = spec.inputs as Partial<DeriveInputs>;
    if (!spec.deps?.set) throw new OptionError(`${spec.id}: a derive-dataset job needs the attack-set it turns into data (deps.set)`);
    if (!LABELS.includes(i.labels!)) throw new OptionError(`${spec.id}: inputs.labels is ${JSON.stringify(i.labels)}; allowed: ${LABELS.join(", ")}`);
    if (i.epsilon !== undefined && !(Number.isSafeInteger(i.epsilon) && i.epsilon >= 0)) throw new OptionError(`${spec.id}: inputs.epsilon must be an index ≥ 0`);
    if (i.examples !== undefined && !(Number.isSafeInteger(i.examples) && i.examples >= 1)) throw new OptionError(`${spec.id}: inputs.examples must be an integer ≥ 1`);
  },
  run(ctx) {
    const i = ctx.spec.inputs as unknown as DeriveInputs;
    const set = ctx.deps.set!;
    const summary = readJson<AttackSetSummary>(join(set.dir, "summary.json"))!;
    const k = i.epsilon ?? 0;
    if (k >= summary.perEpsilon.length) throw new OptionError(`${ctx.spec.id}: inputs.epsilon ${k}, but the attack-set ran ${summary.perEpsilon.length} ε`);
    const run = new RunDir(join(ctx.root, summary.source.run));
    const config = readRunConfig(run);
    // The attack's tensors mapped, x + δ computed and written a piece at a time: a set of any size
    // costs the memory of one piece (δ alone is 3.8 GB for paper B's largest set).
    const { tensors } = torch.loadSafetensors(join(set.dir, "attack.safetensors"), { mmap: true });
    try {
      if (i.labels === "targets" && !tensors.has("targets")) throw new OptionError(`${ctx.spec.id}: inputs.labels "targets", but the attack-set's attack was untargeted`);
      const m = Math.min(i.examples ?? summary.examples, summary.examples);
      const delta = tensors.get(`delta.${k}`)!;
      const shape = delta.shape.slice(1);
      const pieceRows = Math.max(1, Math.floor(PIECE_BYTES / (4 * shape.reduce((a, b) => a * b, 1))));
      const p = Math.min(PREVIEW, m);
      const classes = tensors.get("logits")!.shape.at(-1)!;
      const built = torch.tidy(() => {
        const first = (t: torch.Tensor) => t.narrow(0, 0, m);
        const adversarial = first(tensors.get("adversarial_class")!.select(1, k));
        const labels = first(i.labels === "targets" ? tensors.get("targets")! : i.labels === "adversarial" ? adversarial : tensors.get("labels")!).clone();
        const fooled = adversarial.eq(labels).to("float64");
        const perClass = Array.from({ length: classes }, (_, cls) => {
          const mask = labels.eq(cls).to("float64");
          const n = mask.sum().item();
          return n ? (100 * fooled.mul(mask).sum().item()) / n : Number.NaN;
        });
        // Labels as float32: the report reads float arrays only.
        const preview = { delta: delta.narrow(0, 0, p).clone(), source_labels: tensors.get("labels")!.narrow(0, 0, p).to("float32"), labels: labels.narrow(0, 0, p).to("float32") };
        return { labels, foolRate: 100 * fooled.mean().item(), perClass, preview };
      });
      let previewImages: torch.Tensor | undefined;
      function* images() {
        let start = 0;
        for (const x of sourceImages(run, config, summary.source, m, pieceRows, ctx.dataDir)) {
          // In place: each piece of the source is used once.
          torch.tidy(() => x.add_(delta.narrow(0, start, x.shape[0]!)).clamp_(0, 1));
          if (start === 0) previewImages = torch.tidy(() => x.narrow(0, 0, p).clone());
          start += x.shape[0]!;
          yield x;
        }
      }
      try {
        // The source's test split, with a folder dataset's path made relative to the new folder.
        const ref = resolveRef(config.dataset, run.path);
        const testFrom = ref.options?.folder ? { ...ref, options: { ...ref.options, folder: relative(ctx.dir, ref.options.folder) } } : ref;
        writeFolderDataset(ctx.dir, { images: images(), shape, labels: built.labels }, {
          name: `${config.dataset.name}+${summary.attack}`, classes, testFrom,
          provenance: { run: summary.source.run, checkpoint: summary.checkpoint, attack: summary.attack, epsilon: summary.perEpsilon[k]!.epsilon, targets: summary.targets, labels: i.labels, attackSet: set.record.key },
        });
        torch.saveSafetensors(join(ctx.dir, "preview.safetensors"), { ...built.preview, images: previewImages! });
      } finally {
        torch.dispose([built.labels, built.preview, previewImages]);
      }
      // The set's one result, which tables read beside the models trained on it.
      const rows = new Rows({ ...ctx.spec.tags, checkpoint: summary.checkpoint.replace(/\.safetensors$/, ""), epoch: summary.epoch, iteration: summary.iteration, best: true });
      rows.scalar("", "examples", m);
      rows.scalar("", "fool_rate", built.foolRate);
      rows.curve("", "fool_rate_class", built.perClass);
      return { rows: rows.rows, files: ["dataset.json", "train.safetensors", "preview.safetensors"].map((f) => join(ctx.spec.id, f)) };
    } finally {
      torch.dispose([...tensors.values()]);
    }
  },
};
