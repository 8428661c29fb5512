// Seeded synthetic sets: a learnable natural-image-like demo set, paper A's hidden shortcuts and
// paper B's orthogonal data. Every draw goes through a torch.Generator, so a seed gives the same
// data on every machine.
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import type { Dataset, Split } from "./dataset.js";
import { checkSeed, deriveSeed } from "./seed.js";

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${what}: expected a positive integer, got ${v}`);
  return v;
}

/** Integer frequencies of a size-n DFT in unshifted order (0, 1, …, n/2−1, −n/2, …, −1), as float32. */
function frequencies(n: number): Tensor {
  return torch.tidy(() => {
    const k = torch.arange(n, undefined, 1, { dtype: "float32" });
    return k.sub(k.ge(Math.ceil(n / 2)).to("float32").mul(n));
  });
}

// ---- fourier-classes ----

export interface FourierClassesOptions {
  classes?: number;
  /** Side of the square images. */
  size?: number;
  channels?: number;
  /** Examples in the train and test splits. */
  train?: number;
  test?: number;
  /** [rmin, rmax]: radius, in cycles per image, of the Fourier modes that carry the classes. */
  band?: readonly [number, number];
  /** Peak amplitude of the class signal in [0,1] pixel units (backgrounds fill the rest of [0,1]). */
  amplitude?: number;
  /** Fourier modes per class. */
  modes?: number;
  seed?: number;
}

export const FOURIER_CLASSES_DEFAULTS: Required<FourierClassesOptions> = {
  classes: 10, size: 32, channels: 3, train: 10000, test: 2000, band: [3, 8], amplitude: 0.05, modes: 3, seed: 0,
};

/**
 * Backgrounds with a natural image's 1/f amplitude spectrum and uniformly random phase, built
 * on the half spectrum that irfft2 completes by conjugate symmetry (half the work of a full
 * spectrum, and the result is real by construction). Channels share a luminance field plus a
 * weaker colour field each, because natural images' channels are strongly correlated. Each image
 * is rescaled to [lo, hi].
 */
function naturalBackgrounds(n: number, channels: number, size: number, lo: number, hi: number, g: torch.Generator): Tensor {
  return torch.tidy(() => {
    const half = Math.floor(size / 2) + 1;
    const u = frequencies(size).reshape(size, 1);
    const v = torch.arange(half, undefined, 1, { dtype: "float32" }).reshape(1, half);
    const radius = u.square().add(v.square()).sqrt();
    const amplitude = radius.clamp(1).reciprocal().maskedFill(radius.eq(0), 0); // no DC: rescaling sets the level
    const z = torch.viewAsComplex(torch.randn([n, channels + 1, size, half, 2], { generator: g }));
    const fields = torch.fft.irfft2(z.div(z.abs().clamp(1e-12)).mul(amplitude), { s: [size, size] });
    const x = fields.narrow(1, 0, 1).add(fields.narrow(1, 1, channels).mul(0.5));
    const min = x.amin([1, 2, 3], true);
    const range = x.amax([1, 2, 3], true).sub(min).clamp(1e-12);
    return x.sub(min).div(range).mul(hi - lo).add(lo);
  });
}

/**
 * The class signals: class c's pattern is the mean of `modes` cosines at distinct integer
 * frequencies (u, v) with radius in band, a random phase per channel, so |pattern| ≤ 1. No two
 * classes share a mode, and only one of each conjugate pair (±(u, v)) is a candidate.
 * Returns float32 classes×C×S×S.
 */
function classPatterns(o: Required<FourierClassesOptions>, g: torch.Generator): Tensor {
  const { classes, channels, size, modes, band } = o;
  return torch.tidy(() => {
    const f = frequencies(size);
    const u = f.reshape(size, 1).expand(size, size);
    const v = f.reshape(1, size).expand(size, size);
    const r = u.square().add(v.square()).sqrt();
    const nyquist = u.abs().ge(size / 2).logicalOr(v.abs().ge(size / 2)); // a cosine there has no phase freedom
    const halfPlane = v.gt(0).logicalOr(v.eq(0).logicalAnd(u.gt(0)));
    const ok = r.ge(band[0]).logicalAnd(r.le(band[1])).logicalAnd(halfPlane).logicalAnd(nyquist.logicalNot());
    const candU = torch.maskedSelect(u, ok);
    const candV = torch.maskedSelect(v, ok);
    const available = candU.numel;
    if (available < classes * modes) {
      throw new RangeError(`band [${band[0]}, ${band[1]}] holds ${available} distinct Fourier modes at size ${size}, but ${classes} classes × ${modes} modes need ${classes * modes}; widen the band`);
    }
    const pick = torch.randperm(available, { generator: g }).narrow(0, 0, classes * modes);
    const mu = candU.indexSelect(0, pick).reshape(classes, modes, 1, 1, 1);
    const mv = candV.indexSelect(0, pick).reshape(classes, modes, 1, 1, 1);
    const phase = torch.rand([classes, modes, channels, 1, 1], { generator: g }).mul(2 * Math.PI);
    const i = torch.arange(size, undefined, 1, { dtype: "float32" }).reshape(size, 1);
    const j = torch.arange(size, undefined, 1, { dtype: "float32" }).reshape(1, size);
    const angle = mu.mul(i).add(mv.mul(j)).mul((2 * Math.PI) / size).add(phase);
    return torch.cos(angle).mean(1);
  });
}

/** Labels 0..classes−1 in equal numbers (±1), shuffled. */
function balancedLabels(n: number, classes: number, g: torch.Generator): Tensor {
  return torch.tidy(() => torch.arange(classes).repeat(Math.ceil(n / classes)).narrow(0, 0, n).indexSelect(0, torch.randperm(n, { generator: g })));
}

/**
 * `fourier-classes`: 1/f backgrounds plus a fixed class pattern built from a few Fourier modes,
 * quantised to uint8 like a real image set. A linear model separates the classes well above
 * chance; how the pattern's band and amplitude compare with the background is the knob.
 * The patterns come from the seed alone and each split from its own stream, so the train split
 * does not change when the test size does.
 */
export function fourierClasses(split: Split, options: FourierClassesOptions = {}): Dataset {
  const o = { ...FOURIER_CLASSES_DEFAULTS, ...options };
  for (const k of ["classes", "size", "channels", "modes"] as const) positiveInt(o[k], k);
  const n = o[split];
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${split}: expected a non-negative integer count, got ${n}`);
  checkSeed(o.seed);
  if (!(o.amplitude > 0 && o.amplitude < 0.5)) throw new RangeError(`amplitude: expected a number in (0, 0.5), got ${o.amplitude}`);
  const [rmin, rmax] = o.band;
  if (!(rmin >= 0 && rmax >= rmin)) throw new RangeError(`band: expected [rmin, rmax] with 0 <= rmin <= rmax, got [${rmin}, ${rmax}]`);
  using patternStream = new torch.Generator(deriveSeed(o.seed, "fourier-classes", "patterns"));
  using g = new torch.Generator(deriveSeed(o.seed, "fourier-classes", split));
  return torch.tidy(() => {
    const patterns = classPatterns(o, patternStream);
    const labels = balancedLabels(n, o.classes, g);
    const backgrounds = naturalBackgrounds(n, o.channels, o.size, o.amplitude, 1 - o.amplitude, g);
    const x = backgrounds.add(patterns.indexSelect(0, labels).mul(o.amplitude));
    return { images: x.mul(255).round().clamp(0, 255).to("uint8"), labels, classes: o.classes, name: "fourier-classes" };
  });
}

// ---- hidden-shortcut (paper A: the Frontiers version's schematic and its code) ----

export interface ShortcutSetting {
  /** Scale ε of the Gaussian entries of η. */
  epsilon: number;
  /** Probability p that an entry of η is non-zero. */
  p: number;
}

/** The settings of paper A's code; v3 is the one with a visible effect. */
export const SHORTCUT_PRESETS = {
  v1: { epsilon: 0.1, p: 0.15 },
  v2: { epsilon: 0.0015, p: 0.02 },
  v3: { epsilon: 0.25, p: 0.2 },
} as const satisfies Record<string, ShortcutSetting>;
export type ShortcutPreset = keyof typeof SHORTCUT_PRESETS;

export interface HiddenShortcutOptions {
  preset?: ShortcutPreset;
  /** Overrides the preset's ε. */
  epsilon?: number;
  /** Overrides the preset's p. */
  p?: number;
  seed?: number;
}

/**
 * η ∈ R^{classes×C×H×W} = ε·N(0,1) ⊙ 1[U(0,1) < p], drawn once from the seed (Gaussians first,
 * then the uniforms, both from torch.Generator(seed)), so train and test get the same η.
 * η lives in the fftshift-ed (centred) spectrum of paper A's code.
 */
export function shortcutSpectrum(classes: number, shape: readonly [number, number, number], o: HiddenShortcutOptions = {}): Tensor {
  const s = shortcutSetting(o);
  using g = new torch.Generator(checkSeed(o.seed ?? 0));
  return torch.tidy(() => {
    const full = [classes, ...shape];
    const gauss = torch.randn(full, { generator: g });
    const keep = torch.rand(full, { generator: g }).lt(s.p);
    return gauss.mul(s.epsilon).mul(keep);
  });
}

function shortcutSetting(o: HiddenShortcutOptions): ShortcutSetting {
  const name = o.preset ?? "v3";
  const preset: ShortcutSetting | undefined = SHORTCUT_PRESETS[name];
  if (!preset) throw new RangeError(`preset: expected one of ${Object.keys(SHORTCUT_PRESETS).join(", ")}, got ${JSON.stringify(name)}`);
  const s = { epsilon: o.epsilon ?? preset.epsilon, p: o.p ?? preset.p };
  if (!(s.epsilon >= 0)) throw new RangeError(`epsilon: expected a non-negative number, got ${s.epsilon}`);
  if (!(s.p >= 0 && s.p <= 1)) throw new RangeError(`p: expected a probability in [0, 1], got ${s.p}`);
  return s;
}

/** Images per chunk when adding the shortcut: bounds the float32 temporaries to ~50 MB for CIFAR. */
const CHUNK = 4096;

/**
 * Paper A's hidden-shortcut set over any image set: per image x of class y and channel c,
 * x̃_c = real(ifft2(ifftshift(fftshift(fft2(x_c)) + η[y, c]))), with x in [0,1].
 *
 * By linearity that is x_c + real(ifft2(ifftshift(η[y, c]))), which is what is computed: one
 * inverse FFT per class instead of two FFTs per image, and no round-off from transforming the
 * images. The images come back as float32, not uint8: the added signal's standard deviation per
 * pixel is about 0.0025 for v3, 0.0009 for v1 and 5e-6 for v2, below one 8-bit step (0.0039), so
 * quantising would erase most of it. As in the paper's code x̃ is not clipped: it may leave [0,1]
 * by up to about 0.01 (v3).
 */
export function hiddenShortcut(base: Dataset, o: HiddenShortcutOptions = {}): Dataset {
  if (base.images.ndim !== 4) throw new RangeError(`hiddenShortcut: expected N×C×H×W images, got shape [${base.images.shape.join(", ")}]`);
  const [n, c, h, w] = base.images.shape as [number, number, number, number];
  return torch.tidy(() => {
    const eta = shortcutSpectrum(base.classes, [c, h, w], o);
    const delta = torch.fft.ifft2(torch.fft.ifftshift(eta, [-2, -1])).real();
    const images = torch.empty([n, c, h, w]);
    for (let start = 0; start < n; start += CHUNK) {
      torch.tidy(() => {
        const len = Math.min(CHUNK, n - start);
        const x = base.images.narrow(0, start, len).to("float32");
        const scaled = base.images.dtype === "uint8" ? x.div(255) : x;
        images.narrow(0, start, len).copy_(scaled.add(delta.indexSelect(0, base.labels.narrow(0, start, len))));
      });
    }
    return { ...base, images, labels: base.labels.clone(), name: `hidden-shortcut(${base.name})` };
  });
}

// ---- uniform noise images (paper B's noise scenario) ----

/** N images uniform on [0, 1]^shape with labels uniform over the classes (paper B's create.py), from Generator(seed). */
export function uniformNoise(n: number, shape: readonly number[], classes: number, seed: number): Dataset {
  positiveInt(n, "n");
  using g = new torch.Generator(checkSeed(seed));
  return torch.tidy(() => ({
    images: torch.rand([n, ...shape], { generator: g }),
    labels: torch.randint(0, classes, [n], { generator: g }),
    classes, name: "uniform-noise",
  }));
}

/**
 * The images of uniformNoise(n, shape, …, seed), drawn in pieces of `rows` images, each the
 * caller's to dispose: the CPU generator draws elements one after another, so the pieces are the
 * rows of the whole draw without it ever existing whole (3.8 GB for paper B's largest set).
 */
export function* uniformNoiseImages(n: number, shape: readonly number[], seed: number, rows: number): Generator<Tensor> {
  positiveInt(n, "n");
  positiveInt(rows, "rows");
  using g = new torch.Generator(checkSeed(seed));
  yield* drawImages(g, n, shape, rows);
}

/**
 * The labels of uniformNoise(n, shape, classes, seed), without holding its images: the labels are
 * drawn after all of them, so the images are drawn here a piece at a time and dropped.
 */
export function uniformNoiseLabels(n: number, shape: readonly number[], classes: number, seed: number): Tensor {
  positiveInt(n, "n");
  using g = new torch.Generator(checkSeed(seed));
  const rows = Math.max(1, Math.floor(DROPPED_PIECE / shape.reduce((a, b) => a * b, 1)));
  for (const x of drawImages(g, n, shape, rows)) x.dispose();
  return torch.randint(0, classes, [n], { generator: g });
}

// Elements of a piece of images drawn only to be dropped: 16 MiB of float32.
const DROPPED_PIECE = 1 << 22;

function* drawImages(g: torch.Generator, n: number, shape: readonly number[], rows: number): Generator<Tensor> {
  for (let start = 0; start < n; start += rows) yield torch.rand([Math.min(rows, n - start), ...shape], { generator: g });
}

// ---- orthogonal (paper B's theory setting) ----

export interface OrthogonalOptions {
  /** Samples. */
  n?: number;
  /** Dimension. */
  d?: number;
  /** x ~ U([−1,1]^d) or N(0, I_d). */
  noise?: "uniform" | "gaussian";
  seed?: number;
}

export const ORTHOGONAL_DEFAULTS: Required<OrthogonalOptions> = { n: 1000, d: 10000, noise: "uniform", seed: 0 };

/**
 * Paper B's artificial data: N high-dimensional vectors, nearly orthogonal when d ≫ N, with
 * uniformly random binary labels stored as classes 0/1 (see `signedLabels` for ±1). Inputs are
 * drawn before labels, from torch.Generator(seed) for the train split; the test split uses its
 * own stream. Images are float32 N×d.
 */
export function orthogonal(split: Split, options: OrthogonalOptions = {}): Dataset {
  const o = { ...ORTHOGONAL_DEFAULTS, ...options };
  positiveInt(o.n, "n");
  positiveInt(o.d, "d");
  if (o.noise !== "uniform" && o.noise !== "gaussian") throw new RangeError(`noise: expected "uniform" or "gaussian", got ${JSON.stringify(o.noise)}`);
  using g = new torch.Generator(split === "train" ? checkSeed(o.seed) : deriveSeed(checkSeed(o.seed), "orthogonal", split));
  return torch.tidy(() => {
    const images = o.noise === "uniform"
      ? torch.rand([o.n, o.d], { generator: g }).mul(2).sub(1)
      : torch.randn([o.n, o.d], { generator: g });
    const labels = torch.randint(0, 2, [o.n], { generator: g });
    return { images, labels, classes: 2, name: `orthogonal-${o.noise}` };
  });
}

/** Classes 0/1 as the ±1 float32 labels of paper B's losses. */
export function signedLabels(labels: Tensor): Tensor {
  return torch.tidy(() => labels.to("float32").mul(2).sub(1));
}
