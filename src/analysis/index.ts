// Measurements on perturbations and models: spectra, linear predictors, ReLU breakpoints, layer spectra.
export {
  ANGULAR_BINS, angularBinCentres, centredSpectrum, luminance, meanSpectrum, radialBinCentres, radialBinCount, summarizeSpectrum,
  type SpectrumMode, type SpectrumOptions, type SpectrumSummary,
} from "./spectrum.js";
