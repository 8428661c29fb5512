export { Optimizer } from "./optimizer.js";
export { SGD, type SgdOptions } from "./sgd.js";
export { Adam, type AdamOptions } from "./adam.js";
export { Schedule, SCHEDULES, type ScheduleName, type ScheduleOptions, type PlateauState } from "./schedule.js";
