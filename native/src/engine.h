// The addon's core: a per-environment handle table for tensors and generators, typed access to
// JS arguments, and the one entry point through which every op is called. Ops themselves live in
// ops.cc as a table; nothing here knows about any particular op.
#pragma once
#include <node_api.h>
#include <ATen/ATen.h>
#include <optional>
#include <string>
#include <vector>

namespace advdyn {

// Bad JS arguments: becomes a JS TypeError (libtorch errors become TorchError).
struct ArgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Engine {
  std::vector<at::Tensor> tensors;
  std::vector<int64_t> slotBytes;
  // Slots whose bytes V8 was told about (watchMemory): only tensors the GC may free.
  std::vector<bool> slotWatched;
  std::vector<int32_t> freeSlots;
  int64_t live = 0;
  int64_t bytes = 0;
  int64_t unreportedBytes = 0;
  std::vector<std::optional<at::Generator>> generators;
  napi_ref torchErrorCtor = nullptr;
};

class Ctx {
 public:
  Ctx(napi_env env, Engine& engine, napi_value* argv, size_t argc)
      : env(env), engine(engine), argv_(argv), argc_(argc) {}

  napi_env env;
  Engine& engine;

  bool isNil(size_t i) const;
  at::Tensor& T(size_t i);
  std::optional<at::Tensor> To(size_t i);
  std::vector<at::Tensor> TL(size_t i);
  int64_t I(size_t i);
  std::optional<int64_t> Io(size_t i);
  double F(size_t i);
  std::optional<double> Fo(size_t i);
  bool B(size_t i);
  at::Scalar S(size_t i);
  std::optional<at::Scalar> So(size_t i);
  std::vector<int64_t> IL(size_t i);
  std::optional<std::vector<int64_t>> ILo(size_t i);
  std::string STR(size_t i);
  std::optional<std::string> STRo(size_t i);
  at::ScalarType DT(size_t i);
  std::optional<at::ScalarType> DTo(size_t i);
  at::Device DEV(size_t i);
  std::optional<at::Generator> G(size_t i);
  // Raw bytes of a TypedArray / Buffer argument.
  std::pair<const void*, size_t> DATA(size_t i);

  napi_value ret(at::Tensor t);  // undefined tensor -> null
  napi_value ret(const std::vector<at::Tensor>& ts);
  napi_value ret(const std::tuple<at::Tensor, at::Tensor>& ts);
  napi_value ret(const std::tuple<at::Tensor, at::Tensor, at::Tensor>& ts);
  napi_value num(double v);
  napi_value nums(const std::vector<double>& v);
  napi_value boolean(bool v);
  napi_value str(const std::string& s);
  napi_value undef();
  napi_value typedArray(const at::Tensor& t);

  void freeTensor(int32_t id);
  void watchMemory(int32_t id);
  int32_t addGenerator(at::Generator g);
  at::Generator& generator(int64_t id);
  void freeGenerator(int64_t id);

 private:
  napi_value arg(size_t i) const;
  napi_valuetype typeOf(size_t i) const;
  [[noreturn]] void fail(size_t i, const char* expected) const;
  napi_value* argv_;
  size_t argc_;
};

using OpFn = napi_value (*)(Ctx&);
struct OpDef {
  const char* name;
  const char* signature;  // "ARGS->RET", read by scripts/gen-native-types.mjs for the TS typings
  OpFn fn;
};
const std::vector<OpDef>& opTable();

// The caching CPU allocator (allocator.cc): installed once at load unless the user asks for
// libtorch's and glibc's defaults.
struct CpuCacheStats {
  size_t cachedBytes = 0;
  size_t hits = 0;
  size_t misses = 0;
};
void installCpuCache(size_t capacity);
CpuCacheStats cpuCacheStats();

at::ScalarType dtypeFromName(const std::string& name);
const char* dtypeName(at::ScalarType t);

}  // namespace advdyn
