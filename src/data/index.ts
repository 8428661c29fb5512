// The data layer: readers of the real sets, seeded synthetic sets, loaders and the downloader.
export { NORMALIZATION, SPLITS, labelCounts, type Dataset, type Normalization, type Split } from "./dataset.js";
export { readCifar10, readCifar100, type Cifar100Options } from "./cifar.js";
export { readIdx, readMnist, type IdxArray, type MnistName } from "./mnist.js";
export {
  FOURIER_CLASSES_DEFAULTS, ORTHOGONAL_DEFAULTS, SHORTCUT_PRESETS, fourierClasses, hiddenShortcut, orthogonal,
  shortcutSpectrum, signedLabels, uniformNoise, uniformNoiseImages, uniformNoiseLabels,
  type FourierClassesOptions, type HiddenShortcutOptions, type OrthogonalOptions, type ShortcutPreset, type ShortcutSetting,
} from "./synthetic.js";
export {
  DATASET_NAMES, DEFAULT_DATA_DIR, NAMED_DATASETS, SYSTEM_DATA_DIR, dataIdentity, datasetAvailable, datasetFiles, imageShape, loadDataset, loadSplit, resolveRef,
  type DatasetName, type DatasetRef, type ImageDatasetName, type LoadOptions,
} from "./registry.js";
export { readManifest, writeFolderDataset, type FolderManifest } from "./folder.js";
export { fileDigest, filesDigest } from "./identity.js";
export { DataLoader, cropAndFlip, type Batch, type LoaderOptions } from "./loader.js";
export {
  DOWNLOAD_NAMES, SOURCES, download, downloadDataset,
  type DownloadName, type DownloadOptions, type DownloadProgress, type DownloadResult, type DownloadSource, type RemoteFile,
} from "./download.js";
export { extractTarGz } from "./tar.js";
export { deriveSeed } from "./seed.js";
