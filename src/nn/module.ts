// PyTorch-style modules: named parameters, buffers and children, state-dict keys like
// `layer1.0.conv1.weight`, train/eval mode, safetensors save/load.
import { noGrad } from "../torch/autograd.js";
import type { Device } from "../torch/dtype.js";
import { keep, tidy } from "../torch/scope.js";
import { loadSafetensors, saveSafetensors } from "../torch/safetensors.js";
import type { Tensor } from "../torch/tensor.js";

export abstract class Module {
  #training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** Registers a trainable parameter (kept out of every tidy scope, gradient on). */
  protected param(name: string, t: Tensor): Tensor {
    this.#params.set(name, keep(t).requiresGrad_(true));
    return t;
  }

  /** Registers non-trainable state saved with the model (running statistics, fixed weights). */
  protected buffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, keep(t));
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** The current tensor of a parameter or buffer (after to() or loading, it is a new handle). */
  protected get(name: string): Tensor {
    const t = this.#params.get(name) ?? this.#buffers.get(name);
    if (!t) throw new Error(`${this.constructor.name}: no parameter or buffer '${name}'`);
    return t;
  }

  get training(): boolean {
    return this.#training;
  }

  train(mode = true): this {
    this.#training = mode;
    for (const c of this.#children.values()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  children(): [string, Module][] {
    return [...this.#children.entries()];
  }

  namedParameters(prefix = ""): [string, Tensor][] {
    const own: [string, Tensor][] = [...this.#params].map(([k, t]) => [prefix + k, t]);
    return own.concat(...[...this.#children].map(([k, c]) => c.namedParameters(`${prefix}${k}.`)));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ""): [string, Tensor][] {
    const own: [string, Tensor][] = [...this.#buffers].map(([k, t]) => [prefix + k, t]);
    return own.concat(...[...this.#children].map(([k, c]) => c.namedBuffers(`${prefix}${k}.`)));
  }

  /** Parameters then buffers, by state-dict key. The tensors are the module's own (not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }

  /**
   * Copies values in by key. Missing or unexpected keys and shape/dtype mismatches are errors
   * that name the key (strict = PyTorch's default).
   */
  loadStateDict(state: Map<string, Tensor>, source = "state dict"): void {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    if (missing.length || unexpected.length) {
      throw new Error(`${source}: keys do not match ${this.constructor.name}` +
        (missing.length ? `; missing: ${missing.join(", ")}` : "") + (unexpected.length ? `; unexpected: ${unexpected.join(", ")}` : ""));
    }
    for (const [k, t] of own) {
      const src = state.get(k)!;
      if (src.shape.join() !== t.shape.join() || src.dtype !== t.dtype) {
        throw new Error(`${source}: '${k}' is ${src.dtype}[${src.shape.join(", ")}], expected ${t.dtype}[${t.shape.join(", ")}]`);
      }
    }
    noGrad(() => tidy(() => { for (const [k, t] of own) t.copy_(state.get(k)!); }));
  }

  /** Writes the state dict as safetensors (atomically); PyTorch reads it with `load_file`. */
  save(path: string, metadata: Record<string, string> = {}): void {
    saveSafetensors(path, this.stateDict(), metadata);
  }

  /** Loads a safetensors state dict written by save() or by PyTorch; returns its metadata. */
  load(path: string): Record<string, string> {
    const { tensors, metadata } = loadSafetensors(path);
    try {
      this.loadStateDict(tensors, path);
    } finally {
      for (const t of tensors.values()) t.dispose();
    }
    return metadata;
  }

  /** Moves every parameter and buffer to a device, in place. */
  to(device: Device): this {
    for (const map of [this.#params, this.#buffers]) {
      for (const [k, t] of map) {
        if (t.device === device) continue;
        const moved = keep(noGrad(() => t.to(device)));
        if (map === this.#params) moved.requiresGrad_(true);
        map.set(k, moved);
        t.dispose();
      }
    }
    for (const c of this.#children.values()) c.to(device);
    return this;
  }

  dispose(): void {
    for (const t of [...this.#params.values(), ...this.#buffers.values()]) t.dispose();
    for (const c of this.#children.values()) c.dispose();
  }
}

/** Children applied in order, named "0", "1", … as in torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, m) => m.forward(h), x);
  }
}
