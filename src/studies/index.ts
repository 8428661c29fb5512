// Studies: graphs of typed jobs, their executor, paper A's experiments, attacking a run's checkpoints.
export { runStudy, type RunStudyOptions, type StudyResult } from "./runner.js";
export { checkGraph, jobKey, runGraph, type Dependency, type GraphResult, type JobContext, type JobKind, type JobResult, type RunEnv } from "./graph.js";
export { jobKind, jobKindNames, type AttackSetInputs, type AttackSetSummary, type DeriveInputs, type EvaluateInputs, type MeasureInputs, type StudyAttack, type TrainInputs } from "./kinds/index.js";
export { breakpointEpochs, studySpec, type CatalogOptions } from "./catalog.js";
export { SCALES, STUDY_NAMES, type Scale, type StudyName } from "./spec.js";
export { attackCheckpoints, attackKey, type AttackRunOptions } from "./attack-run.js";
export { Rows, type RowKey } from "./rows.js";
