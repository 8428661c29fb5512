/** An error raised inside libtorch, carrying libtorch's message (without the C++ backtrace). */
export class TorchError extends Error {
  override name = "TorchError";
}
