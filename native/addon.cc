// Addon start-up, the tensor handle table, and the argument readers shared by every binding file.
#include "addon.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace torchkd {

// ---- tensor table ------------------------------------------------------------------------------------------------

int deviceCode(const at::Device& d) { return d.is_cpu() ? -1 : static_cast<int>(d.index() < 0 ? 0 : d.index()); }

std::unordered_map<int, int64_t> TensorTable::bytesByDevice() const {
  std::unordered_map<const void*, std::pair<int, int64_t>> storages;
  for (const auto& slot : slots_) {
    const at::Tensor& t = slot.tensor;
    if (!t.defined() || !t.has_storage()) continue;
    const auto& st = t.storage();
    storages.emplace(st.unsafeGetStorageImpl(), std::make_pair(deviceCode(st.device()), static_cast<int64_t>(st.nbytes())));
  }
  std::unordered_map<int, int64_t> out;
  for (const auto& [key, use] : storages) out[use.first] += use.second;
  return out;
}

void TensorTable::accountSlot(Slot& slot) {
  const at::Tensor& t = slot.tensor;
  const int64_t bytes = t.defined() && t.has_storage() ? static_cast<int64_t>(t.storage().nbytes()) : 0;
  slot.deferred = false;
  if (bytes >= kLargeBytes) {
    slot.largeKey = t.storage().unsafeGetStorageImpl();
    slot.reported = 0;
    LargeStorage& entry = large_[slot.largeKey];
    if (entry.handles++ == 0) {
      entry.bytes = bytes;
      pending_ += bytes;
    }
  } else {
    slot.largeKey = nullptr;
    slot.reported = bytes;
    pending_ += bytes;
  }
}

double TensorTable::insert(at::Tensor t) {
  if (free_.empty() && slots_.size() >= static_cast<size_t>(kSlotSpan)) throw std::runtime_error("too many live tensors (16M)");
  live_++;
  uint32_t s;
  if (!free_.empty()) {
    s = static_cast<uint32_t>(free_.back());
    free_.pop_back();
  } else {
    slots_.emplace_back();
    s = static_cast<uint32_t>(slots_.size() - 1);
  }
  Slot& slot = slots_[s];
  slot.tensor = std::move(t);
  if (scopeDepth_ > 0) {
    slot.deferred = true;
    slot.reported = 0;
    slot.largeKey = nullptr;
  } else {
    accountSlot(slot);
  }
  return static_cast<double>(slot.generation) * kSlotSpan + s;
}

void TensorTable::account(double handle) {
  uint32_t s;
  if (decode(handle, &s) && slots_[s].deferred) accountSlot(slots_[s]);
}

bool TensorTable::decode(double handle, uint32_t* slot) const {
  if (!(handle >= 0) || handle > 9007199254740991.0) return false;
  auto u = static_cast<uint64_t>(handle);
  uint32_t s = static_cast<uint32_t>(u & 0xFFFFFFu);
  uint32_t g = static_cast<uint32_t>(u >> 24);
  if (s >= slots_.size() || slots_[s].generation != g || !slots_[s].tensor.defined()) return false;
  *slot = s;
  return true;
}

bool TensorTable::release(double handle) {
  uint32_t s;
  if (!decode(handle, &s)) return false;
  if (const void* key = slots_[s].largeKey) {
    auto it = large_.find(key);
    if (it != large_.end() && --it->second.handles == 0) {
      pending_ -= it->second.bytes;
      large_.erase(it);
    }
    slots_[s].largeKey = nullptr;
  } else {
    pending_ -= slots_[s].reported;
  }
  slots_[s].reported = 0;
  slots_[s].deferred = false;
  slots_[s].tensor = at::Tensor();
  slots_[s].generation = (slots_[s].generation + 1) & 0x1FFFFFFFu;  // keeps handles below 2^53
  free_.push_back(static_cast<int32_t>(s));
  live_--;
  return true;
}

const at::Tensor& TensorTable::get(double handle) const {
  uint32_t s;
  if (!decode(handle, &s)) throwType("tensor handle is not live (the tensor was disposed)");
  return slots_[s].tensor;
}

int64_t TensorTable::takePendingExternal() {
  int64_t p = pending_;
  pending_ = 0;
  reported_ += p;
  return p;
}

Addon& addon(Napi::Env env) { return *env.GetInstanceData<Addon>(); }

// ---- argument readers --------------------------------------------------------------------------------------------

// The readers below make one N-API call per argument where they can (the status of napi_get_value_double says
// whether it was a number), since these run on every op.
static bool readDouble(const Napi::CallbackInfo& info, size_t i, double* out) {
  if (i >= info.Length()) return false;
  return napi_get_value_double(info.Env(), info[i], out) == napi_ok;
}

bool isMissing(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length()) return true;
  napi_valuetype t;
  napi_typeof(info.Env(), info[i], &t);
  return t == napi_undefined || t == napi_null;
}

const at::Tensor& tensorArg(const Napi::CallbackInfo& info, size_t i) {
  double h;
  if (!readDouble(info, i, &h)) throwType("expected a Tensor argument");
  return addon(info.Env()).tensors.get(h);
}

c10::optional<at::Tensor> optionalTensorArg(const Napi::CallbackInfo& info, size_t i) {
  double h;
  if (!readDouble(info, i, &h)) {
    if (isMissing(info, i)) return c10::nullopt;
    throwType("expected a Tensor argument");
  }
  if (h < 0) return c10::nullopt;
  return addon(info.Env()).tensors.get(h);
}

double doubleArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  double d;
  if (!readDouble(info, i, &d)) throwType(std::string("expected a number for ") + what);
  return d;
}

int64_t int64Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  double d;
  if (readDouble(info, i, &d)) {
    if (!std::isfinite(d) || std::floor(d) != d) throwRange(std::string("expected an integer for ") + what);
    if (std::fabs(d) > 9007199254740992.0) throwRange(std::string(what) + " is too large to be exact");
    return static_cast<int64_t>(d);
  }
  if (i < info.Length() && info[i].IsBigInt()) {
    bool lossless = false;
    int64_t v = info[i].As<Napi::BigInt>().Int64Value(&lossless);
    if (!lossless) throwRange(std::string(what) + " does not fit in 64 bits");
    return v;
  }
  throwType(std::string("expected an integer for ") + what);
}

int32_t intArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  int64_t v = int64Arg(info, i, what);
  if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
    throwRange(std::string(what) + " is out of range");
  return static_cast<int32_t>(v);
}

bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  bool b;
  if (i >= info.Length() || napi_get_value_bool(info.Env(), info[i], &b) != napi_ok)
    throwType(std::string("expected a boolean for ") + what);
  return b;
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsString()) throwType(std::string("expected a string for ") + what);
  return info[i].As<Napi::String>().Utf8Value();
}

std::vector<int64_t> int64ListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsArray()) throwType(std::string("expected an array of integers for ") + what);
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr[k];
    if (!v.IsNumber()) throwType(std::string("expected an array of integers for ") + what);
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d) throwRange(std::string("expected integers in ") + what);
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

std::vector<at::Tensor> tensorListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsArray()) throwType(std::string("expected an array of tensors for ") + what);
  auto arr = info[i].As<Napi::Array>();
  auto& table = addon(info.Env()).tensors;
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr[k];
    if (!v.IsNumber()) throwType(std::string("expected an array of tensors for ") + what);
    out.push_back(table.get(v.As<Napi::Number>().DoubleValue()));
  }
  return out;
}

at::ScalarType dtypeArg(const Napi::CallbackInfo& info, size_t i) {
  int32_t code = intArg(info, i, "dtype");
  switch (static_cast<at::ScalarType>(code)) {
    case at::kFloat:
    case at::kDouble:
    case at::kHalf:
    case at::kBFloat16:
    case at::kLong:
    case at::kInt:
    case at::kShort:
    case at::kChar:
    case at::kByte:
    case at::kBool:
      return static_cast<at::ScalarType>(code);
    default:
      throwRange("unsupported dtype code " + std::to_string(code));
  }
}

c10::optional<at::ScalarType> optionalDtypeArg(const Napi::CallbackInfo& info, size_t i) {
  double d;
  if (!readDouble(info, i, &d)) {
    if (isMissing(info, i)) return c10::nullopt;
    throwType("expected a dtype code");
  }
  if (d < 0) return c10::nullopt;
  return dtypeArg(info, i);
}

at::MemoryFormat memoryFormatArg(const Napi::CallbackInfo& info, size_t i) {
  switch (intArg(info, i, "memoryFormat")) {
    case 0:
      return at::MemoryFormat::Contiguous;
    case 1:
      return at::MemoryFormat::ChannelsLast;
    case 2:
      return at::MemoryFormat::ChannelsLast3d;
    case 3:
      return at::MemoryFormat::Preserve;
    default:
      throwRange("unsupported memory format code");
  }
}

at::Device deviceArg(const Napi::CallbackInfo& info, size_t i) {
  double d;
  int32_t code = readDouble(info, i, &d) ? intArg(info, i, "device") : isMissing(info, i) ? -1 : intArg(info, i, "device");
  if (code < 0) return at::Device(at::kCPU);
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(code));
}

at::Scalar scalarArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  double d;
  if (!readDouble(info, i, &d)) {
    if (i < info.Length() && info[i].IsBoolean()) return at::Scalar(info[i].As<Napi::Boolean>().Value());
    if (i < info.Length() && info[i].IsBigInt()) return at::Scalar(int64Arg(info, i, what));
    throwType(std::string("expected a number for ") + what);
  }
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0 && !(d == 0 && std::signbit(d)))
    return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

c10::optional<at::Scalar> optionalScalarArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  return scalarArg(info, i, what);
}

c10::optional<int64_t> optionalInt64Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  return int64Arg(info, i, what);
}

c10::optional<double> optionalDoubleArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  return doubleArg(info, i, what);
}

c10::optional<bool> optionalBoolArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  return boolArg(info, i, what);
}

c10::optional<std::string> optionalStringArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  return stringArg(info, i, what);
}

c10::optional<std::vector<int64_t>> optionalInt64ListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  return int64ListArg(info, i, what);
}

c10::optional<std::vector<double>> optionalDoubleListArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (isMissing(info, i)) return c10::nullopt;
  if (!info[i].IsArray()) throwType(std::string("expected an array of numbers for ") + what);
  auto arr = info[i].As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr[k];
    if (!v.IsNumber()) throwType(std::string("expected an array of numbers for ") + what);
    out[k] = v.As<Napi::Number>().DoubleValue();
  }
  return out;
}

// ---- returning values --------------------------------------------------------------------------------------------

static void reportExternal(Napi::Env env, TensorTable& table) {
  // V8 only hears about native bytes in steps of 1 MiB, which keeps the per-op cost flat.
  constexpr int64_t kStep = 1 << 20;
  int64_t pending = table.pendingExternal();
  if (pending >= kStep || pending <= -kStep) {
    int64_t result = 0;
    napi_adjust_external_memory(env, table.takePendingExternal(), &result);
  }
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  auto& table = addon(env).tensors;
  const bool large = t.defined() && t.has_storage() && static_cast<int64_t>(t.storage().nbytes()) >= kLargeBytes;
  double h = table.insert(std::move(t));
  reportExternal(env, table);
  return Napi::Number::New(env, large ? -h - 1 : h);
}

Napi::Value wrap(const Napi::CallbackInfo& info, at::Tensor t) { return wrap(info.Env(), std::move(t)); }

Napi::Value wrapList(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts) {
  Napi::Env env = info.Env();
  auto arr = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); k++) arr.Set(static_cast<uint32_t>(k), wrap(env, ts[k]));
  return arr;
}

// ---- start-up ----------------------------------------------------------------------------------------------------

namespace {

// release(handle | handle[]): frees current handles; stale ones (already freed) are ignored.
Napi::Value release(const Napi::CallbackInfo& info) {
  auto& table = addon(info.Env()).tensors;
  if (info[0].IsArray()) {
    auto arr = info[0].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); k++) table.release(arr.Get(k).As<Napi::Number>().DoubleValue());
  } else if (info[0].IsNumber()) {
    table.release(info[0].As<Napi::Number>().DoubleValue());
  }
  reportExternal(info.Env(), table);
  return info.Env().Undefined();
}

// enterScope() / exitScope(): a `tidy` scope opens or closes (TensorTable::enterScope says why).
Napi::Value enterScope(const Napi::CallbackInfo& info) {
  addon(info.Env()).tensors.enterScope();
  return info.Env().Undefined();
}

Napi::Value exitScope(const Napi::CallbackInfo& info) {
  addon(info.Env()).tensors.exitScope();
  return info.Env().Undefined();
}

// account(handle | handle[]): tensors made inside a scope that outlive it are accounted for V8 now.
Napi::Value account(const Napi::CallbackInfo& info) {
  auto& table = addon(info.Env()).tensors;
  if (info[0].IsArray()) {
    auto arr = info[0].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); k++) table.account(arr.Get(k).As<Napi::Number>().DoubleValue());
  } else if (info[0].IsNumber()) {
    table.account(info[0].As<Napi::Number>().DoubleValue());
  }
  reportExternal(info.Env(), table);
  return info.Env().Undefined();
}

// track(object, handle | handle[]): when `object` is garbage collected, release these tensor handles. Runs inside
// the GC (a basic finalizer: no JS, no N-API calls; the byte accounting is reported to V8 on a later call).
struct Tracked {
  std::shared_ptr<TensorTable> table;
  std::vector<double> handles;
};

void releaseTracked(node_api_basic_env, void* data, void*) {
  auto* t = static_cast<Tracked*>(data);
  for (double h : t->handles) t->table->release(h);
  delete t;
}

Napi::Value track(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throwType("track expects an object");
  auto* t = new Tracked{addon(env).table, {}};
  if (info[1].IsArray()) {
    auto arr = info[1].As<Napi::Array>();
    t->handles.reserve(arr.Length());
    for (uint32_t k = 0; k < arr.Length(); k++) t->handles.push_back(arr.Get(k).As<Napi::Number>().DoubleValue());
  } else {
    t->handles.push_back(info[1].As<Napi::Number>().DoubleValue());
  }
  napi_status st = napi_add_finalizer(env, info[0], t, releaseTracked, nullptr, nullptr);
  if (st != napi_ok) {
    delete t;
    throw std::runtime_error("could not attach a finalizer");
  }
  return env.Undefined();
}

// setErrorClass(TorchError, sentinel): the JS error class, and the object a failed call returns instead of throwing.
Napi::Value setErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throwType("setErrorClass expects a class");
  if (!info[1].IsObject()) throwType("setErrorClass expects a sentinel object");
  addon(info.Env()).torchError = Napi::Persistent(info[0].As<Napi::Function>());
  addon(info.Env()).errorSentinel = Napi::Persistent(info[1].As<Napi::Object>());
  return info.Env().Undefined();
}

// takeError(): the error a failed call left behind (Addon::pendingError), handed over once.
Napi::Value takeError(const Napi::CallbackInfo& info) {
  Addon& a = addon(info.Env());
  if (a.pendingError.IsEmpty()) return Napi::Error::New(info.Env(), "torchkd: no pending native error").Value();
  Napi::Object err = a.pendingError.Value();
  a.pendingError.Reset();
  return err;
}

Napi::Value memory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& table = addon(env).tensors;
  auto out = Napi::Object::New(env);
  out.Set("liveTensors", Napi::Number::New(env, static_cast<double>(table.live())));
  auto bytes = Napi::Object::New(env);
  for (const auto& [dev, n] : table.bytesByDevice()) {
    if (n == 0) continue;
    bytes.Set(dev < 0 ? std::string("cpu") : "cuda:" + std::to_string(dev), Napi::Number::New(env, static_cast<double>(n)));
  }
  out.Set("bytes", bytes);
  out.Set("modules", Napi::Number::New(env, static_cast<double>(addon(env).modules.size() - addon(env).freeModules.size())));
  out.Set("externalBytes", Napi::Number::New(env, static_cast<double>(table.accountedExternal())));
  return out;
}

// mathErf(x): the C library's erf, which Python's math.erf is (nn.init.trunc_normal_ computes its bounds with it).
Napi::Value mathErf(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), std::erf(doubleArg(info, 0, "x"))); }

Napi::Value versionInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("libtorch", Napi::String::New(env, TORCH_VERSION));
#ifdef TORCHKD_WITH_CUDA
  out.Set("cudaBuild", Napi::Boolean::New(env, true));
#else
  out.Set("cudaBuild", Napi::Boolean::New(env, false));
#endif
  out.Set("cxx11abi", Napi::Boolean::New(env, _GLIBCXX_USE_CXX11_ABI != 0));
  return out;
}

}  // namespace

// glibc's malloc returns the top of its heap to the system once more than its trim threshold is free there, and its
// mmap threshold follows the largest block freed. A training step frees all its activations together at its end (the
// scope's tensors), so every following step faults in its memory afresh: over 10,000 page faults and ~100 ms of
// system time per ResNet-20 step, where PyTorch, freeing as it goes, reuses the heap. Fixed thresholds keep blocks up
// to 32 MiB in the heap and up to 1 GiB of free memory at its top for the next step. Skipped when the user chose
// malloc settings (MALLOC_*_ / GLIBC_TUNABLES) or sets TORCHKD_MALLOC_TUNING=0.
static void tuneMalloc() {
#if defined(__GLIBC__)
  static bool done = false;
  if (done) return;
  done = true;
  const char* off = std::getenv("TORCHKD_MALLOC_TUNING");
  if (off && std::string(off) == "0") return;
  for (const char* v : {"GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_"}) {
    if (std::getenv(v)) return;
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  env.SetInstanceData(new Addon());
  initCpuAllocator(env, exports);
  exportGuarded(env, exports, "release", release);
  exportGuarded(env, exports, "track", track);
  exportGuarded(env, exports, "enterScope", enterScope);
  exportGuarded(env, exports, "exitScope", exitScope);
  exportGuarded(env, exports, "account", account);
  exportGuarded(env, exports, "setErrorClass", setErrorClass);
  exportGuarded(env, exports, "takeError", takeError);
  exportGuarded(env, exports, "memory", memory);
  exportGuarded(env, exports, "versionInfo", versionInfo);
  exportGuarded(env, exports, "mathErf", mathErf);
  initTensor(env, exports);
  initGeneratedOps(env, exports);
  initAutograd(env, exports);
  initModule(env, exports);
  initOptim(env, exports);
  initKd(env, exports);
  initCuda(env, exports);
  initHooks(env, exports);
  initSignals(env, exports);
  initDistributed(env, exports);
  initCollectives(env, exports);
  initReducer(env, exports);
  return exports;
}

}  // namespace torchkd

static Napi::Object InitTorchkd(Napi::Env env, Napi::Object exports) { return torchkd::Init(env, exports); }

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitTorchkd)
