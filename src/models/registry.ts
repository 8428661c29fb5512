// The model zoo as a registry: a name and options → a freshly initialised Module, deterministic
// in its seed. Options are checked against each model's schema before any tensor is made.
import { Generator } from "../torch/random.js";
import type { Module } from "../nn/module.js";
import type { ModelDef } from "./common.js";
import { convnetMnist, onehidden } from "./kumano.js";
import { OptionError, resolveOptions, type Resolved, type Schema } from "../util/schema.js";
import { resnet18, wrn } from "./resnet.js";
import { bwconv, fc, fwconv, lc, shallowResnet } from "./shallow.js";
import { mlpMixer, vit } from "./transformer.js";
import { vgg19 } from "./vgg.js";

const MODELS = {
  fc,
  lc,
  fwconv,
  bwconv,
  "shallow-resnet": shallowResnet,
  vgg19,
  resnet18,
  vit,
  "mlp-mixer": mlpMixer,
  onehidden,
  "convnet-mnist": convnetMnist,
  "wrn-28-10": wrn,
} as const;

export type ModelName = keyof typeof MODELS;
/** The options a model accepts; every one is optional (defaults in its schema). */
export type ModelOptions<K extends ModelName> = Partial<Resolved<(typeof MODELS)[K]["schema"]>>;

export interface ModelInfo {
  readonly name: ModelName;
  /** Every option after defaults, except the generator: with the seed, what rebuilds the model. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The network is an affine map of its input (see isExactlyLinear). */
  readonly linear: boolean;
  /** The hidden layers α scales; the readout weight is divided by α to this power. 0 for models without α. */
  readonly hiddenConvLayers: number;
}

export const modelNames = (): ModelName[] => Object.keys(MODELS) as ModelName[];

function definition(name: string): ModelDef<Schema> {
  if (!Object.hasOwn(MODELS, name)) throw new OptionError(`unknown model '${name}'; models: ${modelNames().join(", ")}`);
  return MODELS[name as ModelName] as unknown as ModelDef<Schema>;
}

/** A model's one-line summary and its options (default, allowed values, meaning), for help texts. */
export function describeModel(name: string): { summary: string; options: Schema } {
  const { summary, schema } = definition(name);
  return { summary, options: schema };
}

function infoOf(name: string, d: ModelDef<Schema>, o: Resolved<Schema>): ModelInfo {
  const options = { ...o };
  delete options.generator;
  return {
    name: name as ModelName,
    options,
    linear: d.isLinear?.(o) ?? false,
    hiddenConvLayers: d.hiddenConvLayers?.(o) ?? 0,
  };
}

/** What createModel(name, options) would build, without building it (options are validated). */
export function modelInfoFor(name: string, options: Readonly<Record<string, unknown>> = {}): ModelInfo {
  const d = definition(name);
  return infoOf(name, d, resolveOptions(name, d.schema, options));
}

const built = new WeakMap<Module, ModelInfo>();

/** Typed options for a literal model name; any record for a name only known at run time (checked then). */
export type OptionsFor<K extends string> = K extends ModelName ? ModelOptions<K> : Readonly<Record<string, unknown>>;

/**
 * A fresh model. A bad option (unknown name, value outside what is allowed, or inconsistent with
 * the others) throws a OptionError that names the option and the allowed values.
 */
export function createModel<K extends string>(name: K, options: OptionsFor<K> = {} as OptionsFor<K>): Module {
  const d = definition(name);
  const o = resolveOptions(name, d.schema, options as Readonly<Record<string, unknown>>);
  const given = o.generator as Generator | undefined;
  const g = given ?? new Generator(o.seed as number);
  try {
    const model = d.build(o, g);
    built.set(model, infoOf(name, d, o));
    return model;
  } finally {
    if (!given) g.dispose();
  }
}

/** How a model from createModel was made; undefined for any other module. */
export const modelInfo = (model: Module): ModelInfo | undefined => built.get(model);

/**
 * Whether the network is exactly affine in its input (linear activation, no BatchNorm, pooling or
 * other nonlinearity), so that f(x) = βᵀx + f(0) holds exactly and β is the input gradient
 * anywhere. False for modules that did not come from createModel.
 */
export function isExactlyLinear(model: Module): boolean;
export function isExactlyLinear(name: string, options?: Readonly<Record<string, unknown>>): boolean;
export function isExactlyLinear(m: Module | string, options?: Readonly<Record<string, unknown>>): boolean {
  return (typeof m === "string" ? modelInfoFor(m, options) : modelInfo(m))?.linear ?? false;
}

/** The exponent of α on the readout (paper A, v1 Fig. 11): the number of hidden layers α multiplies. */
export function hiddenConvLayers(model: Module): number;
export function hiddenConvLayers(name: string, options?: Readonly<Record<string, unknown>>): number;
export function hiddenConvLayers(m: Module | string, options?: Readonly<Record<string, unknown>>): number {
  return (typeof m === "string" ? modelInfoFor(m, options) : modelInfo(m))?.hiddenConvLayers ?? 0;
}
