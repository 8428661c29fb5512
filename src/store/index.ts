// Storage: run folders, study folders and their job store, locks, the results database.
export { RunDir, type CheckpointIndex, type CheckpointInfo } from "./run.js";
export { ResultsDb, buildResults, type JobRow, type ResultRow, type Row } from "./db.js";
export { JobStore, filesUnder, type JobCommit, type JobRecord, type RowTags } from "./jobs.js";
export { StudyFolder, parseStudySpec, type JobSpec, type ModelEntry, type StudyFile, type StudySpec } from "./study-folder.js";
export { FolderInUse, FolderLock } from "./lock.js";
export { tableCells, type Cell, type Table, type TableColumn, type TableRow } from "./tables.js";
