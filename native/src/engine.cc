#include "engine.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <malloc.h>

#include <cmath>
#include <cstdlib>
#include <algorithm>
#include <cstring>

namespace advdyn {

namespace {

constexpr size_t kMaxArgs = 12;

struct Binding {
  Engine* engine;
  const OpDef* op;
  size_t nargs;  // from the signature: napi_get_cb_info fills exactly this many slots
};

const char* typeName(napi_valuetype t) {
  switch (t) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number";
    case napi_string: return "string";
    case napi_symbol: return "symbol";
    case napi_object: return "object";
    case napi_function: return "function";
    case napi_external: return "external";
    case napi_bigint: return "bigint";
  }
  return "unknown";
}

void throwTorchError(napi_env env, Engine& engine, const std::string& message) {
  napi_value ctor, msg, err;
  if (engine.torchErrorCtor && napi_get_reference_value(env, engine.torchErrorCtor, &ctor) == napi_ok &&
      napi_create_string_utf8(env, message.c_str(), message.size(), &msg) == napi_ok &&
      napi_new_instance(env, ctor, 1, &msg, &err) == napi_ok) {
    napi_throw(env, err);
  } else {
    napi_throw_error(env, "ERR_TORCH", message.c_str());
  }
}

// The one entry point of every op: decodes nothing itself, but guarantees that no C++ exception
// reaches V8 and that a pending JS exception raised while reading arguments is reported as such.
napi_value dispatch(napi_env env, napi_callback_info info) {
  napi_value argv[kMaxArgs];
  void* data = nullptr;
  napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data);
  auto* b = static_cast<Binding*>(data);
  size_t argc = b->nargs;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  auto prefix = [&] { return std::string(b->op->name) + ": "; };
  try {
    if (argc > b->nargs) throw ArgError("expected at most " + std::to_string(b->nargs) + " arguments, got " + std::to_string(argc));
    Ctx c(env, *b->engine, argv, argc);
    return b->op->fn(c);
  } catch (const ArgError& e) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", (prefix() + e.what()).c_str());
  } catch (const c10::Error& e) {
    throwTorchError(env, *b->engine, prefix() + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throwTorchError(env, *b->engine, prefix() + "out of memory");
  } catch (const std::exception& e) {
    throwTorchError(env, *b->engine, prefix() + e.what());
  } catch (...) {
    throwTorchError(env, *b->engine, prefix() + "unknown native error");
  }
  return nullptr;
}

void check(napi_status s) {
  if (s != napi_ok) throw ArgError("internal N-API failure");
}

// Process-wide defaults, each measured as worth up to 2x (docs/performance.md): libtorch would
// otherwise use one intra-op thread here, glibc would mmap/munmap every large activation per step,
// and large blocks would often come back page-faulted (the cache's capacity: an eighth of RAM).
void applyProcessDefaults() {
  if (!std::getenv("ADVDYN_DEFAULT_MALLOC")) {
    if (!std::getenv("MALLOC_MMAP_MAX_")) {
      mallopt(M_MMAP_MAX, 0);
      mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
    installCpuCache(static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE)) / 8);
  }
  const char* n = std::getenv("ADVDYN_NUM_THREADS");
  if (!n) n = std::getenv("OMP_NUM_THREADS");
  int threads = n ? std::atoi(n) : 0;
  if (threads <= 0) threads = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  at::set_num_threads(threads);
}

}  // namespace

const char* dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return c10::toString(t);
  }
}

at::ScalarType dtypeFromName(const std::string& n) {
  if (n == "float32") return at::kFloat;
  if (n == "float64") return at::kDouble;
  if (n == "int64") return at::kLong;
  if (n == "int32") return at::kInt;
  if (n == "uint8") return at::kByte;
  if (n == "bool") return at::kBool;
  if (n == "complex64") return at::kComplexFloat;
  if (n == "bfloat16") return at::kBFloat16;
  if (n == "float16") return at::kHalf;
  throw ArgError("unknown dtype '" + n + "' (expected float32, float64, int64, int32, uint8, bool, complex64, bfloat16 or float16)");
}

// ---- argument access ----------------------------------------------------------------------------

napi_value Ctx::arg(size_t i) const {
  if (i < argc_) return argv_[i];
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_valuetype Ctx::typeOf(size_t i) const {
  napi_valuetype t = napi_undefined;
  if (i < argc_) napi_typeof(env, argv_[i], &t);
  return t;
}

void Ctx::fail(size_t i, const char* expected) const {
  napi_valuetype t = typeOf(i);
  throw ArgError("argument " + std::to_string(i) + ": expected " + expected + ", got " + typeName(t));
}

bool Ctx::isNil(size_t i) const {
  napi_valuetype t = typeOf(i);
  return t == napi_undefined || t == napi_null;
}

at::Tensor& Ctx::T(size_t i) {
  int32_t id;
  if (i >= argc_ || napi_get_value_int32(env, argv_[i], &id) != napi_ok) fail(i, "a tensor");
  if (id < 0 || static_cast<size_t>(id) >= engine.tensors.size() || !engine.tensors[id].defined())
    throw ArgError("argument " + std::to_string(i) + ": tensor handle " + std::to_string(id) +
                   " is not live (disposed?)");
  return engine.tensors[id];
}

std::optional<at::Tensor> Ctx::To(size_t i) {
  if (isNil(i)) return std::nullopt;
  return T(i);
}

std::vector<at::Tensor> Ctx::TL(size_t i) {
  bool isArray = false;
  if (i < argc_) napi_is_array(env, argv_[i], &isArray);
  if (!isArray) fail(i, "an array of tensors");
  uint32_t n;
  check(napi_get_array_length(env, argv_[i], &n));
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t k = 0; k < n; k++) {
    napi_value v;
    check(napi_get_element(env, argv_[i], k, &v));
    Ctx sub(env, engine, &v, 1);
    try {
      out.push_back(sub.T(0));
    } catch (const ArgError& e) {
      throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "]: " +
                     std::string(e.what()).substr(std::strlen("argument 0: ")));
    }
  }
  return out;
}

double Ctx::F(size_t i) {
  double v;
  if (i >= argc_ || napi_get_value_double(env, argv_[i], &v) != napi_ok) fail(i, "a number");
  return v;
}

std::optional<double> Ctx::Fo(size_t i) {
  if (isNil(i)) return std::nullopt;
  return F(i);
}

int64_t Ctx::I(size_t i) {
  double v = F(i);
  if (!std::isfinite(v) || std::floor(v) != v || std::fabs(v) > 9007199254740991.0)
    throw ArgError("argument " + std::to_string(i) + ": expected an integer, got " + std::to_string(v));
  return static_cast<int64_t>(v);
}

std::optional<int64_t> Ctx::Io(size_t i) {
  if (isNil(i)) return std::nullopt;
  return I(i);
}

bool Ctx::B(size_t i) {
  bool v;
  if (i >= argc_ || napi_get_value_bool(env, argv_[i], &v) != napi_ok) fail(i, "a boolean");
  return v;
}

// JS numbers carry no int/float distinction: integral values become integral scalars, so that
// int64 tensors stay int64 (as with Python ints) while float tensors are unaffected.
at::Scalar Ctx::S(size_t i) {
  double v;
  if (i >= argc_ || napi_get_value_double(env, argv_[i], &v) != napi_ok) {
    bool flag;
    if (i >= argc_ || napi_get_value_bool(env, argv_[i], &flag) != napi_ok) fail(i, "a number or boolean");
    return at::Scalar(flag);
  }
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 9007199254740991.0)
    return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

std::optional<at::Scalar> Ctx::So(size_t i) {
  if (isNil(i)) return std::nullopt;
  return S(i);
}

std::vector<int64_t> Ctx::IL(size_t i) {
  if (typeOf(i) == napi_number) return {I(i)};
  bool isArray = false;
  if (i < argc_) napi_is_array(env, argv_[i], &isArray);
  if (!isArray) fail(i, "an integer or an array of integers");
  uint32_t n;
  check(napi_get_array_length(env, argv_[i], &n));
  std::vector<int64_t> out(n);
  for (uint32_t k = 0; k < n; k++) {
    napi_value v;
    check(napi_get_element(env, argv_[i], k, &v));
    Ctx sub(env, engine, &v, 1);
    try {
      out[k] = sub.I(0);
    } catch (const ArgError&) {
      throw ArgError("argument " + std::to_string(i) + "[" + std::to_string(k) + "]: expected an integer");
    }
  }
  return out;
}

std::optional<std::vector<int64_t>> Ctx::ILo(size_t i) {
  if (isNil(i)) return std::nullopt;
  return IL(i);
}

std::string Ctx::STR(size_t i) {
  if (typeOf(i) != napi_string) fail(i, "a string");
  size_t len;
  check(napi_get_value_string_utf8(env, argv_[i], nullptr, 0, &len));
  std::string s(len, '\0');
  check(napi_get_value_string_utf8(env, argv_[i], s.data(), len + 1, &len));
  return s;
}

std::optional<std::string> Ctx::STRo(size_t i) {
  if (isNil(i)) return std::nullopt;
  return STR(i);
}

at::ScalarType Ctx::DT(size_t i) { return dtypeFromName(STR(i)); }

std::optional<at::ScalarType> Ctx::DTo(size_t i) {
  if (isNil(i)) return std::nullopt;
  return DT(i);
}

at::Device Ctx::DEV(size_t i) {
  std::string s = STR(i);
  if (s != "cpu" && s.rfind("cuda", 0) != 0)
    throw ArgError("argument " + std::to_string(i) + ": unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
  return at::Device(s);
}

std::optional<at::Generator> Ctx::G(size_t i) {
  if (isNil(i)) return std::nullopt;
  return generator(I(i));
}

std::pair<const void*, size_t> Ctx::DATA(size_t i) {
  bool isTyped = false;
  if (i < argc_) napi_is_typedarray(env, argv_[i], &isTyped);
  if (!isTyped) fail(i, "a TypedArray");
  napi_typedarray_type type;
  size_t length, offset;
  void* data;
  napi_value ab;
  check(napi_get_typedarray_info(env, argv_[i], &type, &length, &data, &ab, &offset));
  size_t elem = 1;
  switch (type) {
    case napi_int16_array: case napi_uint16_array: elem = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: elem = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: elem = 8; break;
    default: elem = 1;
  }
  return {data, length * elem};
}

namespace {
void reportMemory(napi_env env, Engine& engine, int64_t delta) {
  engine.unreportedBytes += delta;
  if (engine.unreportedBytes > (1 << 20) || engine.unreportedBytes < -(1 << 20)) {
    int64_t adjusted;
    napi_adjust_external_memory(env, engine.unreportedBytes, &adjusted);
    engine.unreportedBytes = 0;
  }
}
}  // namespace

// V8 is told about the memory of the tensors its GC may free (those left outside every scope), so
// that leaked ones are collected under pressure. Scoped tensors are freed deterministically:
// reporting them too made V8 run a full mark-compact every training step (a 33 MB weight's
// gradient, momentum and update add up to V8's external-memory trigger), 4–20 ms each.
// Changes are reported once they add up to 1 MiB: each report costs about as much as a small op.
void Ctx::watchMemory(int32_t id) {
  if (engine.slotWatched[id]) return;
  engine.slotWatched[id] = true;
  reportMemory(env, engine, engine.slotBytes[id]);
}

// ---- results ------------------------------------------------------------------------------------

napi_value Ctx::ret(at::Tensor t) {
  if (!t.defined()) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  int64_t nbytes = static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size());
  int32_t id;
  if (!engine.freeSlots.empty()) {
    id = engine.freeSlots.back();
    engine.freeSlots.pop_back();
    engine.tensors[id] = std::move(t);
    engine.slotBytes[id] = nbytes;
    engine.slotWatched[id] = false;
  } else {
    if (engine.tensors.size() >= static_cast<size_t>(INT32_MAX)) throw std::runtime_error("too many live tensors");
    id = static_cast<int32_t>(engine.tensors.size());
    engine.tensors.push_back(std::move(t));
    engine.slotBytes.push_back(nbytes);
    engine.slotWatched.push_back(false);
  }
  engine.live++;
  engine.bytes += nbytes;
  napi_value v;
  check(napi_create_int32(env, id, &v));
  return v;
}

void Ctx::freeTensor(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= engine.tensors.size() || !engine.tensors[id].defined())
    throw ArgError("tensor handle " + std::to_string(id) + " is not live");
  engine.tensors[id] = at::Tensor();
  engine.live--;
  engine.bytes -= engine.slotBytes[id];
  if (engine.slotWatched[id]) reportMemory(env, engine, -engine.slotBytes[id]);
  engine.freeSlots.push_back(id);
}

napi_value Ctx::ret(const std::vector<at::Tensor>& ts) {
  napi_value arr;
  check(napi_create_array_with_length(env, ts.size(), &arr));
  for (size_t k = 0; k < ts.size(); k++) check(napi_set_element(env, arr, k, ret(ts[k])));
  return arr;
}

napi_value Ctx::ret(const std::tuple<at::Tensor, at::Tensor>& ts) {
  return ret(std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts)});
}

napi_value Ctx::ret(const std::tuple<at::Tensor, at::Tensor, at::Tensor>& ts) {
  return ret(std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts), std::get<2>(ts)});
}

napi_value Ctx::num(double v) {
  napi_value r;
  check(napi_create_double(env, v, &r));
  return r;
}

napi_value Ctx::nums(const std::vector<double>& v) {
  napi_value arr;
  check(napi_create_array_with_length(env, v.size(), &arr));
  for (size_t k = 0; k < v.size(); k++) check(napi_set_element(env, arr, k, num(v[k])));
  return arr;
}

napi_value Ctx::boolean(bool v) {
  napi_value r;
  check(napi_get_boolean(env, v, &r));
  return r;
}

napi_value Ctx::str(const std::string& s) {
  napi_value r;
  check(napi_create_string_utf8(env, s.c_str(), s.size(), &r));
  return r;
}

napi_value Ctx::undef() {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

napi_value Ctx::typedArray(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kCPU).contiguous();
  size_t nbytes = c.numel() * c.element_size();
  napi_typedarray_type type;
  size_t length = c.numel();
  switch (c.scalar_type()) {
    case at::kFloat: type = napi_float32_array; break;
    case at::kDouble: type = napi_float64_array; break;
    case at::kLong: type = napi_bigint64_array; break;
    case at::kInt: type = napi_int32_array; break;
    case at::kByte: case at::kBool: type = napi_uint8_array; break;
    case at::kComplexFloat: type = napi_float32_array; length *= 2; break;
    case at::kBFloat16: case at::kHalf: type = napi_uint16_array; break;  // the raw bits
    default: throw ArgError(std::string("cannot read back dtype ") + dtypeName(c.scalar_type()));
  }
  void* dst;
  napi_value ab, out;
  check(napi_create_arraybuffer(env, nbytes, &dst, &ab));
  if (nbytes) std::memcpy(dst, c.data_ptr(), nbytes);
  check(napi_create_typedarray(env, type, length, ab, 0, &out));
  return out;
}

// ---- generators ---------------------------------------------------------------------------------

int32_t Ctx::addGenerator(at::Generator g) {
  for (size_t k = 0; k < engine.generators.size(); k++)
    if (!engine.generators[k]) {
      engine.generators[k] = std::move(g);
      return static_cast<int32_t>(k);
    }
  engine.generators.push_back(std::move(g));
  return static_cast<int32_t>(engine.generators.size() - 1);
}

at::Generator& Ctx::generator(int64_t id) {
  if (id < 0 || static_cast<size_t>(id) >= engine.generators.size() || !engine.generators[id])
    throw ArgError("generator handle " + std::to_string(id) + " is not live");
  return *engine.generators[id];
}

void Ctx::freeGenerator(int64_t id) {
  generator(id);
  engine.generators[id].reset();
}

// ---- module init --------------------------------------------------------------------------------

namespace {

napi_value setErrorClass(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Engine* engine;
  napi_get_cb_info(env, info, &argc, argv, nullptr, reinterpret_cast<void**>(&engine));
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, nullptr, "setErrorClass: expected a constructor");
    return nullptr;
  }
  if (engine->torchErrorCtor) napi_delete_reference(env, engine->torchErrorCtor);
  napi_create_reference(env, argv[0], 1, &engine->torchErrorCtor);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  static bool processDefaultsApplied = false;
  if (!processDefaultsApplied) {
    applyProcessDefaults();
    processDefaultsApplied = true;
  }
  auto* engine = new Engine();
  napi_set_instance_data(
      env, engine, [](napi_env, void* data, void*) { delete static_cast<Engine*>(data); }, nullptr);

  napi_value fn;
  napi_create_function(env, "setErrorClass", NAPI_AUTO_LENGTH, setErrorClass, engine, &fn);
  napi_set_named_property(env, exports, "setErrorClass", fn);

  napi_value signatures;
  napi_create_object(env, &signatures);
  for (const OpDef& op : opTable()) {
    std::string args(op.signature, std::strchr(op.signature, '-') - op.signature);
    size_t nargs = args.empty() ? 0 : 1 + std::count(args.begin(), args.end(), ',');
    if (nargs > kMaxArgs) napi_fatal_error("advdyn", NAPI_AUTO_LENGTH, "op with too many arguments", NAPI_AUTO_LENGTH);
    auto* binding = new Binding{engine, &op, nargs};  // lives as long as the process: one per op
    napi_create_function(env, op.name, NAPI_AUTO_LENGTH, dispatch, binding, &fn);
    napi_set_named_property(env, exports, op.name, fn);
    napi_value sig;
    napi_create_string_utf8(env, op.signature, NAPI_AUTO_LENGTH, &sig);
    napi_set_named_property(env, signatures, op.name, sig);
  }
  napi_set_named_property(env, exports, "signatures", signatures);
  return exports;
}

}  // namespace
}  // namespace advdyn

NAPI_MODULE(NODE_GYP_MODULE_NAME, advdyn::Init)
