// Training into run folders, and rebuilding a run's model and data from its folder.
export { trainRun, continues, type RunConfig, type RunSettings, type TrainRunOptions } from "./run.js";
export { train, evaluate, TrainingDiverged, type TrainData, type TrainOptions } from "./trainer.js";
export { optimDefaults, type OptimDefaults } from "./defaults.js";
export { findCheckpoint, loadCheckpointModel, loadExamples, readRunConfig, selectCheckpoints } from "./run-model.js";
