// The catalogue of measured quantities: every `quantity` a result row may carry, with its symbol,
// unit, shape and definition. Jobs write rows only of quantities listed here; tables, figures, the
// report's summary and docs/methods.md read titles and units from here. A new quantity is added
// in this one place.

export interface Quantity {
  readonly name: string;
  /** Short symbol for table headers (‖δ̂‖₁). */
  readonly symbol: string;
  /** What it is, in a few words (axis titles). */
  readonly title: string;
  /** '' for dimensionless numbers. */
  readonly unit: string;
  /** scalar: one value per checkpoint (and attack); example: one per attacked example; curve: one per bin. */
  readonly shape: "scalar" | "example" | "curve";
  /** For curves: what the bin index counts. */
  readonly bins?: string;
  /** Definition (how it is computed) and the paper and section it comes from. */
  readonly definition: string;
}

const q = (name: string, symbol: string, title: string, unit: string, shape: Quantity["shape"], definition: string, bins?: string): Quantity =>
  ({ name, symbol, title, unit, shape, definition, ...(bins ? { bins } : {}) });

const DIRECTIONS = [["adv", "along x → x + δ (the adversarial perturbation of the best checkpoint)"], ["random", "along x → x + r, r Gaussian with ‖r‖₂ = ‖δ‖₂"]] as const;

const LIST: readonly Quantity[] = [
  // Training (every checkpoint of a run).
  q("train_accuracy", "train acc.", "train accuracy", "%", "scalar", "Share of training examples classified correctly: the running mean over the epoch's batches in train mode (epoch 0: the whole set in eval mode)."),
  q("test_accuracy", "test acc.", "test accuracy", "%", "scalar", "Share of test examples classified correctly, eval mode."),
  q("train_loss", "train loss", "training loss", "", "scalar", "Mean cross-entropy over the epoch's training batches."),
  q("test_loss", "test loss", "test loss", "", "scalar", "Mean cross-entropy over the test set."),
  q("diverged", "diverged", "training diverged", "", "scalar", "1 when the training loss became NaN or infinite; the run is then not measured."),
  // Attacks on a set of examples.
  q("examples", "N", "attacked examples", "", "scalar", "Number of examples attacked."),
  q("successes", "successes", "successful attacks", "", "scalar", "Examples classified correctly before the attack and wrongly after it (paper A's success)."),
  q("clean_accuracy", "clean acc.", "clean accuracy of the attacked examples", "%", "scalar", "Share of the attacked examples the model classifies correctly without perturbation."),
  q("success_rate", "success %", "attack success rate", "%", "scalar", "successes / examples: clean correct and misclassified (untargeted) or classified as the target (targeted) after the attack."),
  q("success_rate_on_correct", "success|correct %", "success rate among clean-correct examples", "%", "scalar", "successes / clean-correct examples."),
  q("fool_rate", "fool %", "share of x + δ the source model classifies as its new label", "%", "scalar", "For a derived dataset: how often the source model assigns x + δ the label the dataset gives it (paper B's check of a perturbation set)."),
  q("fool_rate_class", "fool % per class", "fool rate per new label", "%", "curve", "fool_rate restricted to the examples whose new label is the bin's class.", "class"),
  q("eval_accuracy", "accuracy", "accuracy on an evaluation set", "%", "scalar", "Share of the evaluation set's examples classified correctly (eval mode)."),
  q("eval_loss", "loss", "loss on an evaluation set", "", "scalar", "Mean cross-entropy over the evaluation set."),
  // Paper B's artificial experiment (one cell: f on natural data D, g on perturbed noise, h on raw noise).
  q("acc_f", "acc(f, D)", "accuracy of f on D", "", "scalar", "Share of D's samples the standard network f classifies correctly after training (paper B expects 1)."),
  q("acc_g", "acc(g, D)", "accuracy on D of g (trained on adversarial noise)", "", "scalar", "Share of D's samples classified correctly by g, trained only on noise perturbed toward random targets against f (paper B's adv_acc_for_natural)."),
  q("acc_h", "acc(h, D)", "accuracy on D of h (trained on raw noise)", "", "scalar", "Share of D's samples classified correctly by h, trained on the same noise and labels without perturbation (paper B's noise_acc_for_natural; ≈ 0.5 expected)."),
  q("acc_g_train", "acc(g, D_adv)", "training accuracy of g", "", "scalar", "Share of the perturbed noise g classifies as its target after training."),
  q("attack_fool_rate", "fool(f)", "share of perturbed noise f classifies as its target", "", "scalar", "Of the N^adv perturbed noise inputs, the share on which f's sign is the target's: how well the attack hit its targets."),
  q("bdy_agreement", "sgn f = sgn f^bdy (D)", "sign agreement of f and f^bdy on D", "", "scalar", "Share of D's samples where f and the linear boundary f^bdy(z) = Σ λ_n y_n ⟨x_n, z⟩ (λ: hard-margin SVM dual on D) have the same sign."),
  q("bdy_agreement_fresh", "sgn f = sgn f^bdy (fresh)", "sign agreement of f and f^bdy on fresh points", "", "scalar", "As bdy_agreement, on 1,000 fresh points of D's distribution."),
  q("lambda_min", "min λ", "smallest SVM dual coefficient", "", "scalar", "min_n λ_n of the hard-margin SVM dual on D (margins scaled to 1)."),
  q("lambda_max", "max λ", "largest SVM dual coefficient", "", "scalar", "max_n λ_n of the hard-margin SVM dual on D."),
  q("lambda_bound_low", "1/(2R²max)", "theorem's lower bound on λ", "", "scalar", "1/(2R_max²), paper B's lower end of the interval for λ_n."),
  q("lambda_bound_high", "3/(2γ²R²min)", "theorem's upper bound on λ", "", "scalar", "3/(2γ²R_min²), paper B's upper end of the interval for λ_n (γ = 0.01, the leaky slope)."),
  q("orth_pmax", "p_max", "largest |⟨x_i, x_j⟩|, i ≠ j", "", "scalar", "The right side of paper B's near-orthogonality condition."),
  q("orth_bound", "γ³R⁴min/(3NR²max)", "left side of the near-orthogonality condition", "", "scalar", "γ³R_min⁴ / (3N R_max²): the condition holds when it exceeds p_max."),
  q("final_loss_f", "loss(f)", "final exponential loss of f", "", "scalar", "mean_n exp(−y_n f(x_n)) on D at the last iteration."),
  // Perturbations of successful attacks (paper A).
  q("delta_l2", "‖δ‖₂", "‖δ‖₂", "input units", "example", "Euclidean norm of the perturbation δ = x_adv − x over all pixels and channels."),
  q("delta_linf", "‖δ‖∞", "‖δ‖∞", "input units", "example", "Largest absolute entry of δ."),
  q("delta_hat_l1", "‖δ̂‖₁", "‖δ̂‖₁", "", "example", "Sum of |F| over all frequencies, F the unnormalised 2-D DFT of δ's luminance 0.2989R + 0.5870G + 0.1140B (grayscale: δ itself); paper A, Tables 1–2."),
  q("delta_hat_l2", "‖δ̂‖₂", "‖δ̂‖₂", "", "example", "Euclidean norm of F (= √(HW)·‖luminance δ‖₂ by Parseval); paper A, Tables 1–2."),
  q("delta_hat_sparsity", "‖δ̂‖₁/‖δ̂‖₂", "‖δ̂‖₁/‖δ̂‖₂", "", "example", "Scale-free sparsity of the spectrum: 1 for a single frequency, √(HW) for a flat spectrum."),
  q("delta_centroid", "centroid", "spectral centroid of δ̂", "cycles/image", "example", "Σ r·|F|² / Σ |F|², r the distance of a frequency from DC in the centred spectrum."),
  q("delta_hf8", "E(r > 8)", "energy fraction of δ̂ at |k| > 8", "", "example", "Share of Σ|F|² at frequencies with r > 8 (a quarter of a 32-pixel band)."),
  q("delta_hf12", "E(r > 12)", "energy fraction of δ̂ at |k| > 12", "", "example", "Share of Σ|F|² at frequencies with r > 12."),
  q("delta_radial", "E(r)", "radial energy of δ̂", "", "curve", "Per example, |F|² summed over frequencies with floor(r) = bin (DC alone in bin 0), normalised to sum 1; mean over the successful examples.", "radius"),
  q("delta_angular", "E(φ)", "angular energy of δ̂", "", "curve", "Per example, |F|² summed over the angles φ = atan2(v, u) folded to [0°, 180°) in 10° bins (DC excluded), normalised to sum 1; mean over the successful examples.", "angle"),
  // Linear predictors of exactly linear models (paper A).
  q("linearity_gap", "gap", "linearity gap", "", "scalar", "‖z(x) − z(0) − βx‖ / ‖z(x) − z(0)‖ over 8 inputs uniform in [0, 1]: about 1e-7 (rounding) for an exactly linear network, 0.1–1 for a ReLU one."),
  q("beta_hat_l1", "‖β̂‖₁", "‖β̂‖₁", "", "example", "‖F(β_c)‖₁ of the luminance of β_c = ∂z_c/∂x, c the predicted class of the attacked example; paper A, Table 1."),
  q("beta_hat_l2", "‖β̂‖₂", "‖β̂‖₂", "", "example", "‖F(β_c)‖₂ as beta_hat_l1."),
  q("beta_hat_unit_l1", "‖β̂‖₁ (‖β‖₂ = 1)", "‖β̂‖₁ of unit-norm β", "", "example", "beta_hat_l1 of β_c / ‖β_c‖₂: comparable across models of different scale."),
  q("beta_hat_minmax_l1", "‖β̂‖₁ (min–max)", "‖β̂‖₁ of min–max scaled β", "", "example", "‖F‖₁ of the luminance of β_c scaled to [0, 1] by its minimum and maximum, then the unnormalised DFT: the scale of paper A's Table 1 (its code scales saliency maps so)."),
  q("beta_hat_minmax_l2", "‖β̂‖₂ (min–max)", "‖β̂‖₂ of min–max scaled β", "", "example", "‖F‖₂ as beta_hat_minmax_l1; the DC term HW·mean dominates it."),
  q("beta_hat_minmax_sparsity", "‖β̂‖₁/‖β̂‖₂ (min–max)", "‖β̂‖₁/‖β̂‖₂ of min–max scaled β", "", "example", "beta_hat_minmax_l1 / beta_hat_minmax_l2 per example: free of the model's scale, comparable with the ratio of paper A's Table 1 means."),
  q("beta_radial", "E_β(r)", "radial energy of β̂", "", "curve", "delta_radial of β_c, mean over the attacked examples.", "radius"),
  q("beta_angular", "E_β(φ)", "angular energy of β̂", "", "curve", "delta_angular of β_c, mean over the attacked examples.", "angle"),
  // What adversarial training regularizes (paper C: Wen, Li & Jia 2020).
  q("robust_accuracy", "robust acc.", "robust accuracy", "%", "scalar", "Share of the attacked examples still classified correctly after a fixed-ε attack (clean_accuracy − success_rate); for adversarially trained runs, also recorded per epoch under the training attack."),
  q("output_margin", "z_y − max z_j", "output margin", "", "example", "Logit of the true class minus the largest other logit (negative: misclassified); paper C's margin in output space."),
  q("confidence", "max p", "softmax confidence", "", "example", "Largest softmax probability."),
  q("softmax_entropy", "H(p)", "entropy of the softmax output", "nats", "example", "−Σ p_j log p_j of the softmax output; log K for a uniform output over K classes."),
  // ReLU breakpoints along segments (paper A, Figs. 1, 6, 7).
  ...DIRECTIONS.flatMap(([d, along]) => [
    q(`flips_ever_${d}`, `flips (${d})`, `fraction of ReLUs that flip, ${d}`, "", "example", `Share of the network's ReLUs whose on/off state changes at least once at T equally spaced points ${along}.`),
    q(`flips_total_${d}`, `flips/step (${d})`, `ReLU flips per ReLU and step, ${d}`, "", "example", `Number of state changes between consecutive points ${along}, divided by ReLUs × (T − 1).`),
    q(`roughness_true_${d}`, `roughness z_y (${d})`, `roughness of the true-class logit, ${d}`, "", "example", `Mean over the T points ${along} of 1 − cos(∇z_y(x + t·u), ∇z_y(x)).`),
    q(`roughness_adv_${d}`, `roughness z_adv (${d})`, `roughness of the adversarial-class logit, ${d}`, "", "example", `As roughness_true, for the logit of the class the best checkpoint's attack reached.`),
  ]),
];

/** Quantities named `<prefix>:<parameter>`: one per layer. */
const SUMMARIES = [
  ["max", "σ_max", "largest singular value"],
  ["mean", "mean σ", "mean singular value"],
  ["ratio", "σ_min/σ_max", "smallest over largest singular value (1 = flat)"],
  ["entropy", "H(σ)", "entropy of the normalised spectrum σ_i/Σσ_j over log n (1 = flat, 0 = one direction)"],
] as const;

const FAMILIES: readonly Quantity[] = [
  q("sv:", "σ", "singular values of a layer's map", "", "curve",
    "Singular values, descending, of the linear map of the parameter after the colon: dense layers by SVD of the weight, convolutions as circular convolutions on their input size (Sedghi et al. 2019); '<parameter> (reshaped)': the SVD of the kernel reshaped to O × (C·k·k).", "rank"),
  ...SUMMARIES.map(([k, symbol, what]) => q(`sv_${k}:`, symbol, `${what} of a layer's map`, "", "scalar",
    `The ${what} of the singular values sv:<parameter> (paper C: adversarial training makes layer spectra smaller and flatter).`)),
  ...SUMMARIES.map(([k, symbol, what]) => q(`jsv_${k}:`, `${symbol} (∂h/∂x)`, `${what} of the local Jacobian`, "", "example",
    `The ${what} of the top-k singular values of the Jacobian ∂h/∂x of the output h of the module after the colon ('logits': the model's output) with respect to the input, at each example (exact SVD for small Jacobians, else subspace iteration on JᵀJ); paper C's local layer responses.`)),
];

export const QUANTITIES: ReadonlyMap<string, Quantity> = new Map(LIST.map((x) => [x.name, x]));

/** The catalogue entry of a row's quantity, undefined for a name it does not list. */
export function findQuantity(name: string): Quantity | undefined {
  return QUANTITIES.get(name) ?? FAMILIES.find((f) => name.startsWith(f.name) && name.length > f.name.length);
}

/** The catalogue entry, or an error naming the unknown quantity (a job may only write catalogued quantities). */
export function quantity(name: string): Quantity {
  const found = findQuantity(name);
  if (!found) throw new RangeError(`quantity '${name}' is not in the catalogue (src/analysis/quantities.ts)`);
  return found;
}

/** Every entry, families with their prefix (for docs). */
export const allQuantities = (): readonly Quantity[] => [...LIST, ...FAMILIES];
