// The op table. Each entry: JS name, signature, body. The signature is the contract with the
// TypeScript layer (scripts/gen-native-types.mjs turns it into typings):
//   args: T tensor, TL tensor[], I integer, F number, S scalar (number|boolean), B boolean,
//         IL integer|integer[], STR string, DT dtype name, DEV device string, G generator,
//         DATA TypedArray; a trailing '?' accepts null/undefined.
//   ret:  T tensor handle (T? may be null), TL handles (TL? may hold nulls), F number,
//         NL number[], B boolean, STR string, DATA TypedArray, V nothing.
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <cstring>

#include "engine.h"

namespace advdyn {
namespace {

// Optimizer updates over all parameters in one call: the same ATen ops, in the same order, as
// PyTorch's torch.optim (for-loop implementation), so results equal the op-by-op update to the bit.
// `fresh` lists the momentum buffers created (zeroed) for this step, which start as the gradient.
void sgdStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& bufs,
             const std::vector<int64_t>& fresh, double lr, double momentum, double dampening, double weightDecay, bool nesterov) {
  if (grads.size() != params.size() || (momentum != 0 && bufs.size() != params.size()))
    throw ArgError("sgd_step_: params, grads and momentum buffers must have equal lengths");
  std::vector<bool> isFresh(params.size());
  for (int64_t k : fresh) {
    if (k < 0 || static_cast<size_t>(k) >= params.size()) throw ArgError("sgd_step_: fresh index out of range");
    isFresh[k] = true;
  }
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor p = params[i];
    at::Tensor g = weightDecay != 0 ? grads[i].add(p, weightDecay) : grads[i];
    if (momentum != 0) {
      at::Tensor buf = bufs[i];
      if (isFresh[i]) buf.copy_(g);
      else buf.mul_(momentum).add_(g, 1 - dampening);
      g = nesterov ? g.add(buf, momentum) : buf;
    }
    p.sub_(g, lr);
  }
}

// Adam (amsgrad off); the bias corrections come from the caller so that every caller computes
// them with the same pow: stepScale = -lr / (1 - β1^t), root2 = sqrt(1 - β2^t).
void adamStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, const std::vector<at::Tensor>& expAvg,
              const std::vector<at::Tensor>& expAvgSq, double beta1, double beta2, double eps, double weightDecay, double stepScale,
              double root2) {
  size_t n = params.size();
  if (grads.size() != n || expAvg.size() != n || expAvgSq.size() != n)
    throw ArgError("adam_step_: params, grads and moments must have equal lengths");
  for (size_t i = 0; i < n; i++) {
    at::Tensor p = params[i], m = expAvg[i], v = expAvgSq[i];
    at::Tensor g = weightDecay != 0 ? grads[i].add(p, weightDecay) : grads[i];
    m.mul_(beta1).add_(g, 1 - beta1);
    v.mul_(beta2).addcmul_(g, g, 1 - beta2);
    p.addcdiv_(m, v.sqrt().div(root2).add(eps), stepScale);
  }
}

at::TensorOptions opts(at::ScalarType dt, at::Device dev) { return at::TensorOptions().dtype(dt).device(dev); }

// Seeded draws happen on the CPU generator and move to the device afterwards, so a seed gives the
// same numbers on every device.
at::Tensor onDevice(at::Tensor t, at::Device dev) { return dev.is_cpu() ? t : t.to(dev); }

at::IntArrayRef dims(const std::vector<int64_t>& v) { return at::IntArrayRef(v); }
at::OptionalIntArrayRef odims(const std::optional<std::vector<int64_t>>& v) {
  if (!v) return c10::nullopt;
  return at::IntArrayRef(*v);
}
// The accessors return std::optional; ATen's signatures take c10::optional.
template <typename T>
c10::optional<T> copt(const std::optional<T>& v) {
  if (!v) return c10::nullopt;
  return *v;
}

// A CPU tensor over the bytes [offset, offset + size) of a file, mapped copy-on-write: its pages
// come from the page cache (the kernel may evict and reread them), so a set larger than RAM can be
// read without becoming the process's anonymous memory; a write to the tensor stays private (no
// crash, the file is unchanged). MAP_NORESERVE: no swap is reserved for pages never written, so
// the kernel's overcommit check does not refuse a file larger than RAM. Replacing the file by
// rename is safe; truncating it while mapped is not (reads past the new end fault), which is why
// writers never rewrite a file in place.
at::Tensor mapFile(const std::string& path, int64_t offset, const std::vector<int64_t>& shape, at::ScalarType dt) {
  if (offset < 0) throw ArgError("offset " + std::to_string(offset) + " is negative");
  int64_t elem = static_cast<int64_t>(c10::elementSize(dt)), numel = 1;
  for (int64_t d : shape) {
    if (d < 0) throw ArgError("shape has a negative dimension");
    if (d != 0 && numel > INT64_MAX / d) throw ArgError("shape has too many elements");
    numel *= d;
  }
  if (numel > (INT64_MAX - offset) / elem) throw ArgError("shape has too many bytes");
  int64_t end = offset + numel * elem;
  // Kernels read elements at aligned addresses; a page-aligned mapping keeps the file's alignment.
  if (offset % elem)
    throw std::runtime_error("data at byte " + std::to_string(offset) + " is not aligned to its " + std::to_string(elem) + "-byte elements");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("cannot open the file (") + std::strerror(errno) + ")");
  struct stat st;
  int64_t fileSize = fstat(fd, &st) == 0 ? st.st_size : -1;
  if (end > fileSize) {
    close(fd);
    throw std::runtime_error("bytes [" + std::to_string(offset) + ", " + std::to_string(end) + ") lie beyond the end of the " +
                             std::to_string(fileSize) + "-byte file");
  }
  if (end == offset) {
    close(fd);
    return at::empty(dims(shape), opts(dt, at::kCPU));
  }
  int64_t start = offset - offset % sysconf(_SC_PAGESIZE);
  size_t length = static_cast<size_t>(end - start);
  void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, start);
  int err = errno;
  close(fd);  // the mapping keeps the file open
  if (base == MAP_FAILED) throw std::runtime_error(std::string("cannot map the file (") + std::strerror(err) + ")");
  return at::from_blob(static_cast<char*>(base) + (offset - start), dims(shape), [base, length](void*) { munmap(base, length); },
                       opts(dt, at::kCPU));
}

// Writes a tensor's bytes (row-major, as toTypedArray gives them) into an open file at a byte
// position, without passing them through JS: saving a large tensor copies nothing and leaves no
// garbage for V8 to collect. Returns the bytes written.
double writeAt(const at::Tensor& t, int64_t fd, int64_t position) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  const char* data = static_cast<const char*>(c.data_ptr());
  int64_t size = static_cast<int64_t>(c.numel() * c.element_size());
  for (int64_t done = 0; done < size;) {
    ssize_t n = pwrite(static_cast<int>(fd), data + done, static_cast<size_t>(size - done), position + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("cannot write the file (") + std::strerror(n < 0 ? errno : EIO) + ")");
    done += n;
  }
  return static_cast<double>(size);
}

int64_t reduction(const std::string& r) {
  if (r == "none") return at::Reduction::None;
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  throw ArgError("unknown reduction '" + r + "' (expected none, mean or sum)");
}

double itemOf(const at::Tensor& t) {
  at::Scalar s = t.item();
  if (s.isComplex()) throw ArgError("item() of a complex tensor: take .real or .abs first");
  if (s.isBoolean()) return s.toBool() ? 1 : 0;
  if (s.isIntegral(false)) return static_cast<double>(s.toLong());
  return s.toDouble();
}

// Ctrl-C and SIGTERM: the first one sets a count that long loops poll at safe points (between
// steps, never inside a write), so the command ends cleanly; a second one ends the process at once,
// for code that has no safe point to reach.
volatile std::sig_atomic_t interruptCount = 0;

extern "C" void onInterrupt(int sig) {
  if (interruptCount++ > 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

#define OP(name, sig, ...) {#name, sig, [](Ctx& c) -> napi_value { __VA_ARGS__ }},
#define UNARY(name) OP(name, "T->T", return c.ret(at::name(c.T(0)));)
#define BINARY(name) OP(name, "T,T->T", return c.ret(at::name(c.T(0), c.T(1)));)
#define BINARY_S(name, fn) OP(name, "T,S->T", return c.ret(at::fn(c.T(0), c.S(1)));)
#define INPLACE(name, sig, ...) OP(name, sig, __VA_ARGS__; return c.undef();)

const std::vector<OpDef> kOps = {
    // ---- handles, metadata, read back ----
    OP(free, "T->V", int32_t id = static_cast<int32_t>(c.I(0)); c.T(0); c.freeTensor(id); return c.undef();)
    OP(watch_memory, "T->V", int32_t id = static_cast<int32_t>(c.I(0)); c.T(0); c.watchMemory(id); return c.undef();)
    // A closing tidy() scope frees all its tensors in one call.
    OP(memory, "->NL", return c.nums({static_cast<double>(c.engine.live), static_cast<double>(c.engine.bytes)});)
    // The caching CPU allocator's [bytes held free, hits, misses] (zeros when it is off).
    OP(cpu_cache, "->NL", auto s = cpuCacheStats();
       return c.nums({static_cast<double>(s.cachedBytes), static_cast<double>(s.hits), static_cast<double>(s.misses)});)
    OP(shape, "T->NL", auto s = c.T(0).sizes(); return c.nums(std::vector<double>(s.begin(), s.end()));)
    OP(dtype, "T->STR", return c.str(dtypeName(c.T(0).scalar_type()));)
    OP(device, "T->STR", return c.str(c.T(0).device().str());)
    OP(item, "T->F", return c.num(itemOf(c.T(0)));)
    OP(to_data, "T->DATA", return c.typedArray(c.T(0));)
    OP(from_data, "DATA,IL,DT,DEV->T",
       auto [ptr, nbytes] = c.DATA(0); auto shape = c.IL(1); auto dt = c.DT(2);
       at::Tensor t = at::empty(dims(shape), opts(dt, at::kCPU));
       size_t want = t.numel() * t.element_size();
       if (want != nbytes) throw ArgError("data holds " + std::to_string(nbytes) + " bytes, shape and dtype need " + std::to_string(want));
       if (nbytes) std::memcpy(t.data_ptr(), ptr, nbytes);
       return c.ret(onDevice(t, c.DEV(3)));)
    OP(map_file, "STR,I,IL,DT->T", return c.ret(mapFile(c.STR(0), c.I(1), c.IL(2), c.DT(3)));)
    OP(write_at, "T,I,I->F", return c.num(writeAt(c.T(0), c.I(1), c.I(2)));)
    OP(requires_grad, "T->B", return c.boolean(c.T(0).requires_grad());)
    OP(is_leaf, "T->B", return c.boolean(c.T(0).is_leaf());)

    // ---- creation ----
    OP(zeros, "IL,DT,DEV->T", return c.ret(at::zeros(dims(c.IL(0)), opts(c.DT(1), c.DEV(2))));)
    OP(ones, "IL,DT,DEV->T", return c.ret(at::ones(dims(c.IL(0)), opts(c.DT(1), c.DEV(2))));)
    OP(empty, "IL,DT,DEV->T", return c.ret(at::empty(dims(c.IL(0)), opts(c.DT(1), c.DEV(2))));)
    OP(full, "IL,S,DT,DEV->T", return c.ret(at::full(dims(c.IL(0)), c.S(1), opts(c.DT(2), c.DEV(3))));)
    OP(arange, "F,F,F,DT,DEV->T", return c.ret(at::arange(c.S(0), c.S(1), c.S(2), opts(c.DT(3), c.DEV(4))));)
    OP(linspace, "F,F,I,DT,DEV->T", return c.ret(at::linspace(c.S(0), c.S(1), c.I(2), opts(c.DT(3), c.DEV(4))));)
    OP(eye, "I,I,DT,DEV->T", return c.ret(at::eye(c.I(0), c.I(1), opts(c.DT(2), c.DEV(3))));)

    // ---- random (explicit generator or the global one) ----
    OP(manual_seed, "I->V", at::manual_seed(static_cast<uint64_t>(c.I(0))); return c.undef();)
    OP(generator_new, "I->F",
       auto g = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(c.I(0)));
       return c.num(c.addGenerator(g));)
    OP(generator_free, "I->V", c.freeGenerator(c.I(0)); return c.undef();)
    OP(generator_get_state, "G->T", return c.ret(c.generator(c.I(0)).get_state());)
    OP(generator_set_state, "G,T->V", c.generator(c.I(0)).set_state(c.T(1)); return c.undef();)
    OP(rand, "IL,G?,DT,DEV->T", return c.ret(onDevice(at::rand(dims(c.IL(0)), copt(c.G(1)), opts(c.DT(2), at::kCPU)), c.DEV(3)));)
    OP(randn, "IL,G?,DT,DEV->T", return c.ret(onDevice(at::randn(dims(c.IL(0)), copt(c.G(1)), opts(c.DT(2), at::kCPU)), c.DEV(3)));)
    OP(randint, "I,I,IL,G?,DT,DEV->T",
       return c.ret(onDevice(at::randint(c.I(0), c.I(1), dims(c.IL(2)), copt(c.G(3)), opts(c.DT(4), at::kCPU)), c.DEV(5)));)
    OP(randperm, "I,G?,DT,DEV->T", return c.ret(onDevice(at::randperm(c.I(0), copt(c.G(1)), opts(c.DT(2), at::kCPU)), c.DEV(3)));)
    OP(bernoulli, "T,G?->T",
       at::Tensor p = c.T(0); at::Device dev = p.device();
       return c.ret(onDevice(at::bernoulli(p.to(at::kCPU), copt(c.G(1))), dev));)
    OP(dropout, "T,F,B,G?->T",
       at::Tensor x = c.T(0); double p = c.F(1);
       if (p < 0 || p > 1) throw ArgError("dropout probability must be in [0, 1], got " + std::to_string(p));
       if (!c.B(2) || p == 0) return c.ret(x);
       if (p == 1) return c.ret(x * 0);
       at::Tensor keep = at::empty(x.sizes(), opts(x.scalar_type(), at::kCPU)).bernoulli_(1 - p, copt(c.G(3)));
       return c.ret(x * onDevice(keep, x.device()) / (1 - p));)

    // ---- dtype, device, autograd ----
    OP(to_dtype, "T,DT->T", return c.ret(c.T(0).to(c.DT(1)));)
    OP(to_device, "T,DEV->T", return c.ret(c.T(0).to(c.DEV(1)));)
    OP(cuda_is_available, "->B", return c.boolean(torch::cuda::is_available());)
    OP(cuda_device_count, "->F", return c.num(static_cast<double>(torch::cuda::device_count()));)
    OP(clone, "T->T", return c.ret(c.T(0).clone());)
    OP(contiguous, "T->T", return c.ret(c.T(0).contiguous());)
    OP(detach, "T->T", return c.ret(c.T(0).detach());)
    INPLACE(requires_grad_, "T,B->V", c.T(0).requires_grad_(c.B(1)))
    OP(grad, "T->T?", return c.ret(c.T(0).grad());)
    INPLACE(set_grad, "T,T?->V",
            at::Tensor& t = c.T(0); auto g = c.To(1);
            // libtorch's C++ setter checks nothing; a mismatched .grad would only fail later, inside backward.
            if (g && (g->sizes() != t.sizes() || g->scalar_type() != t.scalar_type() || g->device() != t.device()))
              throw ArgError("a gradient must match its tensor's shape, dtype and device");
            t.mutable_grad() = g ? *g : at::Tensor())
    INPLACE(backward, "T,T?,B?,B->V",
            c.T(0).backward(c.To(1).value_or(at::Tensor()), c.isNil(2) ? c10::optional<bool>() : c10::optional<bool>(c.B(2)), c.B(3)))
    OP(autograd_grad, "TL,TL,TL?,B?,B,B->TL?",
       auto outs = c.TL(0); auto ins = c.TL(1);
       std::vector<at::Tensor> gouts = c.isNil(2) ? std::vector<at::Tensor>() : c.TL(2);
       return c.ret(torch::autograd::grad(outs, ins, gouts, c.isNil(3) ? c10::optional<bool>() : c10::optional<bool>(c.B(3)), c.B(4), c.B(5)));)
    OP(is_grad_enabled, "->B", return c.boolean(at::GradMode::is_enabled());)
    INPLACE(set_grad_enabled, "B->V", at::GradMode::set_enabled(c.B(0)))
    // Autocast (thread-local, like grad mode): matmul and conv in the lower dtype, the rest by
    // libtorch's lists. The lower dtype, or "" when off, for CPU (B false) or CUDA (B true).
    OP(autocast_dtype, "B->STR",
       bool cuda = c.B(0);
       bool on = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
       return c.str(on ? dtypeName(cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype()) : std::string());)
    // Sets it (dtype absent: off) on entering (B true) or leaving a region; leaving the outermost
    // region frees the cache of weights cast to the lower dtype.
    INPLACE(set_autocast, "B,DT?,B->V",
            bool cuda = c.B(0); auto dt = c.DTo(1);
            if (dt && *dt != at::kBFloat16 && *dt != at::kHalf) throw ArgError("autocast: the lower precision is bfloat16 or float16");
            if (dt && !cuda && *dt != at::kBFloat16) throw ArgError("autocast: libtorch autocasts CPU tensors to bfloat16 only; float16 needs a CUDA device");
            if (dt) { if (cuda) at::autocast::set_autocast_gpu_dtype(*dt); else at::autocast::set_autocast_cpu_dtype(*dt); }
            if (cuda) at::autocast::set_enabled(dt.has_value()); else at::autocast::set_cpu_enabled(dt.has_value());
            if (c.B(2)) at::autocast::increment_nesting();
            else if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache())
    OP(get_num_threads, "->F", return c.num(at::get_num_threads());)
    INPLACE(watch_interrupts, "->V", std::signal(SIGINT, onInterrupt); std::signal(SIGTERM, onInterrupt))
    OP(interrupts, "->F", return c.num(static_cast<double>(interruptCount));)
    // A queue worker's job process: killed with its worker, so that a lost worker's job can be retried elsewhere alone.
#ifdef __linux__
    INPLACE(die_with_parent, "->V", prctl(PR_SET_PDEATHSIG, SIGKILL); if (getppid() == 1) std::raise(SIGKILL))
#else
    INPLACE(die_with_parent, "->V", (void)0)
#endif
    INPLACE(set_num_threads, "I->V",
            int64_t n = c.I(0); if (n < 1) throw ArgError("thread count must be >= 1, got " + std::to_string(n));
            at::set_num_threads(static_cast<int>(n)))

    // ---- shape ----
    OP(reshape, "T,IL->T", return c.ret(c.T(0).reshape(dims(c.IL(1))));)
    OP(view, "T,IL->T", return c.ret(c.T(0).view(dims(c.IL(1))));)
    OP(flatten, "T,I,I->T", return c.ret(c.T(0).flatten(c.I(1), c.I(2)));)
    OP(permute, "T,IL->T", return c.ret(c.T(0).permute(dims(c.IL(1))));)
    OP(transpose, "T,I,I->T", return c.ret(c.T(0).transpose(c.I(1), c.I(2)));)
    OP(squeeze, "T,I?->T", auto d = c.Io(1); return c.ret(d ? c.T(0).squeeze(*d) : c.T(0).squeeze());)
    OP(unsqueeze, "T,I->T", return c.ret(c.T(0).unsqueeze(c.I(1)));)
    OP(expand, "T,IL->T", return c.ret(c.T(0).expand(dims(c.IL(1))));)
    OP(repeat, "T,IL->T", return c.ret(c.T(0).repeat(dims(c.IL(1))));)
    OP(cat, "TL,I->T", return c.ret(at::cat(c.TL(0), c.I(1)));)
    OP(stack, "TL,I->T", return c.ret(at::stack(c.TL(0), c.I(1)));)
    OP(split, "T,I,I->TL", return c.ret(at::split(c.T(0), c.I(1), c.I(2)));)
    OP(split_with_sizes, "T,IL,I->TL", return c.ret(at::split_with_sizes(c.T(0), dims(c.IL(1)), c.I(2)));)
    OP(chunk, "T,I,I->TL", return c.ret(at::chunk(c.T(0), c.I(1), c.I(2)));)
    OP(narrow, "T,I,I,I->T", return c.ret(c.T(0).narrow(c.I(1), c.I(2), c.I(3)));)
    OP(select, "T,I,I->T", return c.ret(c.T(0).select(c.I(1), c.I(2)));)
    OP(slice, "T,I,I?,I?,I->T", return c.ret(c.T(0).slice(c.I(1), copt(c.Io(2)), copt(c.Io(3)), c.I(4)));)
    OP(index_select, "T,I,T->T", return c.ret(at::index_select(c.T(0), c.I(1), c.T(2)));)
    OP(gather, "T,I,T->T", return c.ret(at::gather(c.T(0), c.I(1), c.T(2)));)
    OP(scatter, "T,I,T,T->T", return c.ret(at::scatter(c.T(0), c.I(1), c.T(2), c.T(3)));)
    OP(scatter_value, "T,I,T,S->T", return c.ret(at::scatter(c.T(0), c.I(1), c.T(2), c.S(3)));)
    OP(masked_fill, "T,T,S->T", return c.ret(at::masked_fill(c.T(0), c.T(1), c.S(2)));)
    OP(masked_select, "T,T->T", return c.ret(at::masked_select(c.T(0), c.T(1)));)
    OP(where, "T,T,T->T", return c.ret(at::where(c.T(0), c.T(1), c.T(2)));)
    OP(pad, "T,IL,STR,F?->T", return c.ret(at::pad(c.T(0), dims(c.IL(1)), c.STR(2), copt(c.Fo(3))));)
    OP(flip, "T,IL->T", return c.ret(at::flip(c.T(0), dims(c.IL(1))));)
    OP(roll, "T,IL,IL->T", return c.ret(at::roll(c.T(0), dims(c.IL(1)), dims(c.IL(2))));)
    OP(unfold, "T,IL,IL,IL,IL->T", return c.ret(at::im2col(c.T(0), dims(c.IL(1)), dims(c.IL(2)), dims(c.IL(3)), dims(c.IL(4))));)

    // ---- elementwise math ----
    OP(add, "T,T,S->T", return c.ret(at::add(c.T(0), c.T(1), c.S(2)));)
    OP(add_scalar, "T,S,S->T", return c.ret(at::add(c.T(0), c.S(1), c.S(2)));)
    OP(sub, "T,T,S->T", return c.ret(at::sub(c.T(0), c.T(1), c.S(2)));)
    OP(sub_scalar, "T,S,S->T", return c.ret(at::sub(c.T(0), c.S(1), c.S(2)));)
    BINARY(mul)
    BINARY_S(mul_scalar, mul)
    BINARY(div)
    BINARY_S(div_scalar, div)
    BINARY(pow)
    BINARY_S(pow_scalar, pow)
    OP(pow_scalar_base, "S,T->T", return c.ret(at::pow(c.S(0), c.T(1)));)
    BINARY(minimum)
    BINARY(maximum)
    BINARY(atan2)
    UNARY(neg) UNARY(abs) UNARY(sign) UNARY(exp) UNARY(log) UNARY(sqrt) UNARY(rsqrt) UNARY(sin)
    UNARY(cos) UNARY(tanh) UNARY(sigmoid) UNARY(floor) UNARY(ceil) UNARY(round) UNARY(reciprocal)
    UNARY(square) UNARY(log1p) UNARY(isfinite) UNARY(isnan) UNARY(logical_not)
    UNARY(real) UNARY(imag) UNARY(angle) UNARY(conj) UNARY(view_as_real) UNARY(view_as_complex)
    BINARY(complex)
    OP(clamp, "T,S?,S?->T", return c.ret(at::clamp(c.T(0), copt(c.So(1)), copt(c.So(2))));)
    OP(clamp_tensor, "T,T?,T?->T", return c.ret(at::clamp(c.T(0), copt(c.To(1)), copt(c.To(2))));)
    BINARY(eq) BINARY(ne) BINARY(lt) BINARY(le) BINARY(gt) BINARY(ge)
    BINARY_S(eq_scalar, eq) BINARY_S(ne_scalar, ne) BINARY_S(lt_scalar, lt)
    BINARY_S(le_scalar, le) BINARY_S(gt_scalar, gt) BINARY_S(ge_scalar, ge)
    BINARY(logical_and) BINARY(logical_or) BINARY(logical_xor)
    OP(allclose, "T,T,F,F,B->B", return c.boolean(at::allclose(c.T(0), c.T(1), c.F(2), c.F(3), c.B(4)));)
    OP(equal, "T,T->B", return c.boolean(at::equal(c.T(0), c.T(1)));)

    // ---- reductions ----
    OP(sum, "T,IL?,B,DT?->T",
       auto d = c.ILo(1); return c.ret(d ? at::sum(c.T(0), dims(*d), c.B(2), copt(c.DTo(3))) : at::sum(c.T(0), copt(c.DTo(3))));)
    OP(mean, "T,IL?,B,DT?->T",
       auto d = c.ILo(1); return c.ret(d ? at::mean(c.T(0), dims(*d), c.B(2), copt(c.DTo(3))) : at::mean(c.T(0), copt(c.DTo(3))));)
    OP(prod, "T,I?,B->T", auto d = c.Io(1); return c.ret(d ? at::prod(c.T(0), *d, c.B(2)) : at::prod(c.T(0)));)
    OP(std, "T,IL?,I,B->T", return c.ret(at::std(c.T(0), odims(c.ILo(1)), c10::optional<int64_t>(c.I(2)), c.B(3)));)
    OP(var, "T,IL?,I,B->T", return c.ret(at::var(c.T(0), odims(c.ILo(1)), c10::optional<int64_t>(c.I(2)), c.B(3)));)
    OP(min, "T->T", return c.ret(at::min(c.T(0)));)
    OP(max, "T->T", return c.ret(at::max(c.T(0)));)
    OP(min_dim, "T,I,B->TL", return c.ret(at::min(c.T(0), c.I(1), c.B(2)));)
    OP(max_dim, "T,I,B->TL", return c.ret(at::max(c.T(0), c.I(1), c.B(2)));)
    OP(amax, "T,IL,B->T", return c.ret(at::amax(c.T(0), dims(c.IL(1)), c.B(2)));)
    OP(amin, "T,IL,B->T", return c.ret(at::amin(c.T(0), dims(c.IL(1)), c.B(2)));)
    OP(argmax, "T,I?,B->T", return c.ret(at::argmax(c.T(0), copt(c.Io(1)), c.B(2)));)
    OP(argmin, "T,I?,B->T", return c.ret(at::argmin(c.T(0), copt(c.Io(1)), c.B(2)));)
    OP(any, "T->T", return c.ret(at::any(c.T(0)));)
    OP(all, "T->T", return c.ret(at::all(c.T(0)));)
    OP(vector_norm, "T,S,IL?,B->T", return c.ret(at::linalg_vector_norm(c.T(0), c.S(1), odims(c.ILo(2)), c.B(3)));)
    OP(logsumexp, "T,IL,B->T", return c.ret(at::logsumexp(c.T(0), dims(c.IL(1)), c.B(2)));)
    OP(topk, "T,I,I,B,B->TL", return c.ret(at::topk(c.T(0), c.I(1), c.I(2), c.B(3), c.B(4)));)
    OP(sort, "T,I,B->TL", return c.ret(at::sort(c.T(0), c.I(1), c.B(2)));)
    OP(cumsum, "T,I,DT?->T", return c.ret(at::cumsum(c.T(0), c.I(1), copt(c.DTo(2))));)

    // ---- linear algebra ----
    BINARY(matmul) BINARY(bmm)
    OP(einsum, "STR,TL->T", return c.ret(at::einsum(c.STR(0), c.TL(1)));)
    OP(svd, "T,B->TL", return c.ret(at::linalg_svd(c.T(0), c.B(1)));)
    OP(svdvals, "T->T", return c.ret(at::linalg_svdvals(c.T(0)));)
    OP(qr, "T,STR->TL", return c.ret(at::linalg_qr(c.T(0), c.STR(1)));)
    OP(linalg_norm, "T,S?,IL?,B->T", return c.ret(at::linalg_norm(c.T(0), copt(c.So(1)), odims(c.ILo(2)), c.B(3)));)
    OP(linalg_norm_str, "T,STR,IL?,B->T", return c.ret(at::linalg_norm(c.T(0), c.STR(1), odims(c.ILo(2)), c.B(3)));)

    // ---- nn functional ----
    OP(linear, "T,T,T?->T", return c.ret(at::linear(c.T(0), c.T(1), copt(c.To(2))));)
    OP(conv2d, "T,T,T?,IL,IL,IL,I->T",
       return c.ret(at::conv2d(c.T(0), c.T(1), copt(c.To(2)), dims(c.IL(3)), dims(c.IL(4)), dims(c.IL(5)), c.I(6)));)
    OP(conv2d_padding_mode, "T,T,T?,IL,STR,IL,I->T",
       return c.ret(at::conv2d(c.T(0), c.T(1), copt(c.To(2)), dims(c.IL(3)), c.STR(4), dims(c.IL(5)), c.I(6)));)
    OP(max_pool2d, "T,IL,IL,IL,IL,B->T",
       return c.ret(at::max_pool2d(c.T(0), dims(c.IL(1)), dims(c.IL(2)), dims(c.IL(3)), dims(c.IL(4)), c.B(5)));)
    OP(avg_pool2d, "T,IL,IL,IL,B,B->T",
       return c.ret(at::avg_pool2d(c.T(0), dims(c.IL(1)), dims(c.IL(2)), dims(c.IL(3)), c.B(4), c.B(5)));)
    OP(adaptive_avg_pool2d, "T,IL->T", return c.ret(at::adaptive_avg_pool2d(c.T(0), dims(c.IL(1))));)
    OP(batch_norm, "T,T?,T?,T?,T?,B,F,F->T",
       return c.ret(at::batch_norm(c.T(0), copt(c.To(1)), copt(c.To(2)), copt(c.To(3)), copt(c.To(4)), c.B(5), c.F(6), c.F(7), true));)
    OP(layer_norm, "T,IL,T?,T?,F->T",
       return c.ret(at::layer_norm(c.T(0), dims(c.IL(1)), copt(c.To(2)), copt(c.To(3)), c.F(4), true));)
    UNARY(relu)
    OP(leaky_relu, "T,S->T", return c.ret(at::leaky_relu(c.T(0), c.S(1)));)
    OP(gelu, "T,STR->T", return c.ret(at::gelu(c.T(0), c.STR(1)));)
    OP(softmax, "T,I,DT?->T", return c.ret(at::softmax(c.T(0), c.I(1), copt(c.DTo(2))));)
    OP(log_softmax, "T,I,DT?->T", return c.ret(at::log_softmax(c.T(0), c.I(1), copt(c.DTo(2))));)
    OP(cross_entropy, "T,T,T?,STR,I,F->T",
       return c.ret(at::cross_entropy_loss(c.T(0), c.T(1), copt(c.To(2)), reduction(c.STR(3)), c.I(4), c.F(5)));)
    OP(nll_loss, "T,T,T?,STR,I->T",
       return c.ret(at::nll_loss_nd(c.T(0), c.T(1), copt(c.To(2)), reduction(c.STR(3)), c.I(4)));)
    OP(mse_loss, "T,T,STR->T", return c.ret(at::mse_loss(c.T(0), c.T(1), reduction(c.STR(2))));)
    OP(one_hot, "T,I->T", return c.ret(at::one_hot(c.T(0), c.I(1)));)

    // ---- fft ----
    OP(fft2, "T,IL?,IL,STR?->T", auto n = c.STRo(3);
       return c.ret(at::fft_fft2(c.T(0), odims(c.ILo(1)), dims(c.IL(2)), n ? c10::optional<c10::string_view>(*n) : c10::nullopt));)
    OP(ifft2, "T,IL?,IL,STR?->T", auto n = c.STRo(3);
       return c.ret(at::fft_ifft2(c.T(0), odims(c.ILo(1)), dims(c.IL(2)), n ? c10::optional<c10::string_view>(*n) : c10::nullopt));)
    OP(rfft2, "T,IL?,IL,STR?->T", auto n = c.STRo(3);
       return c.ret(at::fft_rfft2(c.T(0), odims(c.ILo(1)), dims(c.IL(2)), n ? c10::optional<c10::string_view>(*n) : c10::nullopt));)
    OP(irfft2, "T,IL?,IL,STR?->T", auto n = c.STRo(3);
       return c.ret(at::fft_irfft2(c.T(0), odims(c.ILo(1)), dims(c.IL(2)), n ? c10::optional<c10::string_view>(*n) : c10::nullopt));)
    OP(fftshift, "T,IL?->T", return c.ret(at::fft_fftshift(c.T(0), odims(c.ILo(1))));)
    OP(ifftshift, "T,IL?->T", return c.ret(at::fft_ifftshift(c.T(0), odims(c.ILo(1))));)

    // ---- in place (for optimizers; autograd checks still apply) ----
    INPLACE(add_, "T,T,S->V", c.T(0).add_(c.T(1), c.S(2)))
    INPLACE(add_scalar_, "T,S,S->V", c.T(0).add_(c.S(1), c.S(2)))
    INPLACE(sub_, "T,T,S->V", c.T(0).sub_(c.T(1), c.S(2)))
    INPLACE(sub_scalar_, "T,S,S->V", c.T(0).sub_(c.S(1), c.S(2)))
    INPLACE(mul_, "T,T->V", c.T(0).mul_(c.T(1)))
    INPLACE(mul_scalar_, "T,S->V", c.T(0).mul_(c.S(1)))
    INPLACE(div_, "T,T->V", c.T(0).div_(c.T(1)))
    INPLACE(div_scalar_, "T,S->V", c.T(0).div_(c.S(1)))
    INPLACE(copy_, "T,T->V", c.T(0).copy_(c.T(1)))
    INPLACE(zero_, "T->V", c.T(0).zero_())
    INPLACE(fill_, "T,S->V", c.T(0).fill_(c.S(1)))
    INPLACE(clamp_, "T,S?,S?->V", c.T(0).clamp_(copt(c.So(1)), copt(c.So(2))))
    INPLACE(clamp_tensor_, "T,T?,T?->V", c.T(0).clamp_(copt(c.To(1)), copt(c.To(2))))
    INPLACE(addcmul_, "T,T,T,S->V", c.T(0).addcmul_(c.T(1), c.T(2), c.S(3)))
    INPLACE(addcdiv_, "T,T,T,S->V", c.T(0).addcdiv_(c.T(1), c.T(2), c.S(3)))
    INPLACE(sgd_step_, "TL,TL,TL,IL,F,F,F,F,B->V", sgdStep(c.TL(0), c.TL(1), c.TL(2), c.IL(3), c.F(4), c.F(5), c.F(6), c.F(7), c.B(8)))
    INPLACE(adam_step_, "TL,TL,TL,TL,F,F,F,F,F,F->V",
            adamStep(c.TL(0), c.TL(1), c.TL(2), c.TL(3), c.F(4), c.F(5), c.F(6), c.F(7), c.F(8), c.F(9)))
};

}  // namespace

const std::vector<OpDef>& opTable() { return kOps; }

}  // namespace advdyn
