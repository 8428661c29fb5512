/** An error raised inside libtorch, carrying libtorch's message (without the C++ backtrace). */
export class TorchError extends Error {
  override name = "TorchError";
}

/** Ctrl-C or SIGTERM arrived: long work stopped at a safe point (nothing half-written); rerunning resumes it. */
export class Interrupted extends Error {
  override name = "Interrupted";
  constructor() {
    super("interrupted; rerun the same command to resume");
  }
}
