// Tensor creation, properties and conversion to JS values.
#include "addon.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <mutex>

namespace torchkd {
namespace {

at::TensorOptions optionsFrom(const Napi::CallbackInfo& info, size_t dtypeAt, size_t deviceAt) {
  return at::TensorOptions().dtype(dtypeArg(info, dtypeAt)).device(deviceArg(info, deviceAt));
}

at::Tensor finishCreation(const Napi::CallbackInfo& info, at::Tensor t, size_t requiresGradAt) {
  if (!isMissing(info, requiresGradAt) && boolArg(info, requiresGradAt, "requiresGrad")) t.requires_grad_(true);
  return t;
}

// The scalar type held by a JS typed array.
at::ScalarType typedArrayType(const Napi::TypedArray& a) {
  switch (a.TypedArrayType()) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_int32_array: return at::kInt;
    case napi_uint32_array: return at::kLong;  // widened below: libtorch has no uint32 arithmetic to speak of
    case napi_int16_array: return at::kShort;
    case napi_uint16_array: return at::kInt;   // widened below
    case napi_int8_array: return at::kChar;
    case napi_uint8_array:
    case napi_uint8_clamped_array: return at::kByte;
    case napi_bigint64_array: return at::kLong;
    case napi_biguint64_array: return at::kLong;
    default: throwType("unsupported typed array");
  }
}

// tensor(data: TypedArray, dtype, shape, device, requiresGrad): copies the data once into a new CPU tensor.
Napi::Value fromTypedArray(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) throwType("expected a typed array of data");
  auto arr = info[0].As<Napi::TypedArray>();
  auto dtype = dtypeArg(info, 1);
  auto shape = int64ListArg(info, 2, "shape");
  int64_t numel = 1;
  for (auto d : shape) {
    if (d < 0) throwRange("shape dimensions must be >= 0");
    numel *= d;
  }
  if (numel != static_cast<int64_t>(arr.ElementLength()))
    throwRange("shape [" + c10::Join(", ", shape) + "] holds " + std::to_string(numel) + " elements but the data has " +
               std::to_string(arr.ElementLength()));
  auto src = typedArrayType(arr);
  const uint8_t* bytes = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  at::Tensor t;
  switch (arr.TypedArrayType()) {
    case napi_uint32_array: {
      t = at::empty(shape, at::kLong);
      auto* out = t.data_ptr<int64_t>();
      const auto* in = reinterpret_cast<const uint32_t*>(bytes);
      for (int64_t k = 0; k < numel; k++) out[k] = in[k];
      break;
    }
    case napi_uint16_array: {
      t = at::empty(shape, at::kInt);
      auto* out = t.data_ptr<int32_t>();
      const auto* in = reinterpret_cast<const uint16_t*>(bytes);
      for (int64_t k = 0; k < numel; k++) out[k] = in[k];
      break;
    }
    default:
      t = at::empty(shape, src);
      if (numel) std::memcpy(t.data_ptr(), bytes, static_cast<size_t>(numel) * at::elementSize(src));
  }
  auto device = deviceArg(info, 3);
  if (t.scalar_type() != dtype || !device.is_cpu()) t = t.to(device, dtype);
  return wrap(info, finishCreation(info, t, 4));
}

Napi::Value full(const Napi::CallbackInfo& info) {
  auto shape = int64ListArg(info, 0, "shape");
  auto opts = optionsFrom(info, 2, 3);
  return wrap(info, finishCreation(info, at::full(shape, scalarArg(info, 1, "fill value"), opts), 4));
}

Napi::Value empty(const Napi::CallbackInfo& info) {
  return wrap(info, finishCreation(info, at::empty(int64ListArg(info, 0, "shape"), optionsFrom(info, 1, 2)), 3));
}

// random(kind, shape, dtype, device, requiresGrad): 0 randn, 1 rand.
Napi::Value random(const Napi::CallbackInfo& info) {
  int kind = intArg(info, 0, "kind");
  auto shape = int64ListArg(info, 1, "shape");
  auto opts = optionsFrom(info, 2, 3);
  at::Tensor t = kind == 0 ? at::randn(shape, opts) : at::rand(shape, opts);
  return wrap(info, finishCreation(info, t, 4));
}

Napi::Value randint(const Napi::CallbackInfo& info) {
  int64_t low = int64Arg(info, 0, "low"), high = int64Arg(info, 1, "high");
  if (high <= low) throwRange("randint: high must be greater than low");
  return wrap(info, at::randint(low, high, int64ListArg(info, 2, "shape"), optionsFrom(info, 3, 4)));
}

Napi::Value randperm(const Napi::CallbackInfo& info) {
  int64_t n = int64Arg(info, 0, "n");
  if (n < 0) throwRange("randperm: n must be >= 0");
  return wrap(info, at::randperm(n, optionsFrom(info, 1, 2)));
}

Napi::Value arange(const Napi::CallbackInfo& info) {
  auto opts = optionsFrom(info, 3, 4);
  return wrap(info, finishCreation(info, at::arange(scalarArg(info, 0, "start"), scalarArg(info, 1, "end"),
                                                    scalarArg(info, 2, "step"), opts), 5));
}

Napi::Value linspace(const Napi::CallbackInfo& info) {
  int64_t steps = int64Arg(info, 2, "steps");
  if (steps < 0) throwRange("linspace: steps must be >= 0");
  auto opts = optionsFrom(info, 3, 4);
  return wrap(info, finishCreation(info, at::linspace(scalarArg(info, 0, "start"), scalarArg(info, 1, "end"), steps, opts), 5));
}

Napi::Value eye(const Napi::CallbackInfo& info) {
  int64_t n = int64Arg(info, 0, "n"), m = int64Arg(info, 1, "m");
  if (n < 0 || m < 0) throwRange("eye: sizes must be >= 0");
  return wrap(info, finishCreation(info, at::eye(n, m, optionsFrom(info, 2, 3)), 4));
}

// like(kind, tensor, fill?, dtype?): 0 zeros_like, 1 ones_like, 2 full_like, 3 randn_like, 4 rand_like, 5 empty_like.
Napi::Value like(const Napi::CallbackInfo& info) {
  int kind = intArg(info, 0, "kind");
  const auto& t = tensorArg(info, 1);
  auto opts = t.options();
  if (auto dt = optionalDtypeArg(info, 3)) opts = opts.dtype(*dt);
  switch (kind) {
    case 0: return wrap(info, at::zeros_like(t, opts));
    case 1: return wrap(info, at::ones_like(t, opts));
    case 2: return wrap(info, at::full_like(t, scalarArg(info, 2, "fill value"), opts));
    case 3: return wrap(info, at::randn_like(t, opts));
    case 4: return wrap(info, at::rand_like(t, opts));
    default: return wrap(info, at::empty_like(t, opts));
  }
}

Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  int64_t seed = int64Arg(info, 0, "seed");
  // torch.manual_seed seeds the CPU generator and every CUDA generator; libtorch's at::manual_seed is the same call.
  at::manual_seed(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}

// randomInt64(): torch.empty((), dtype=torch.int64).random_() on the default generator, as a BigInt (DataLoader's
// RandomSampler draws its seed this way).
Napi::Value randomInt64(const Napi::CallbackInfo& info) {
  at::Tensor t = at::empty({}, at::kLong);
  t.random_();
  return Napi::BigInt::New(info.Env(), t.item<int64_t>());
}

// randpermSeeded(n, seed): torch.randperm(n, generator=torch.Generator().manual_seed(seed)).
Napi::Value randpermSeeded(const Napi::CallbackInfo& info) {
  int64_t n = int64Arg(info, 0, "n");
  if (n < 0) throwRange("randperm: n must be >= 0");
  int64_t seed = int64Arg(info, 1, "seed");
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(seed));
  return wrap(info, at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)));
}

// getRngState() / setRngState(t): the default CPU generator's state as a uint8 tensor (torch.get_rng_state), so a
// resumed run draws the same numbers as an uninterrupted one.
Napi::Value getRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(info, at::Tensor(gen.get_state()));
}

Napi::Value setRngState(const Napi::CallbackInfo& info) {
  const auto& state = tensorArg(info, 0);
  if (state.scalar_type() != at::kByte || !state.device().is_cpu()) throwType("setRngState expects a CPU uint8 tensor from getRngState()");
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return info.Env().Undefined();
}

Napi::Value initialSeed(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  return Napi::Number::New(info.Env(), static_cast<double>(gen.current_seed()));
}

// ---- properties ---------------------------------------------------------------------------------------------------

Napi::Array numberArray(Napi::Env env, c10::IntArrayRef values) {
  auto arr = Napi::Array::New(env, values.size());
  for (size_t k = 0; k < values.size(); k++) arr.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(values[k])));
  return arr;
}

Napi::Value shape(const Napi::CallbackInfo& info) { return numberArray(info.Env(), tensorArg(info, 0).sizes()); }

Napi::Value stride(const Napi::CallbackInfo& info) { return numberArray(info.Env(), tensorArg(info, 0).strides()); }

Napi::Value dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(tensorArg(info, 0).scalar_type()));
}

Napi::Value device(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), deviceCode(tensorArg(info, 0).device()));
}

Napi::Value ndim(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(tensorArg(info, 0).dim()));
}

Napi::Value numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(tensorArg(info, 0).numel()));
}

// dataPtr(t): the address of the tensor's first element (its storage's data plus its offset), as PyTorch's data_ptr().
Napi::Value dataPtr(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(reinterpret_cast<uintptr_t>(tensorArg(info, 0).data_ptr())));
}

Napi::Value isContiguous(const Napi::CallbackInfo& info) {
  const at::Tensor& t = tensorArg(info, 0);
  return Napi::Boolean::New(info.Env(), isMissing(info, 1) ? t.is_contiguous() : t.is_contiguous(memoryFormatArg(info, 1)));
}

Napi::Value size(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  int64_t dim = int64Arg(info, 1, "dim");
  return Napi::Number::New(info.Env(), static_cast<double>(t.size(dim)));
}

// ---- values out ---------------------------------------------------------------------------------------------------

// The typed array JS uses for a dtype, over `buffer` (bool and uint8 as Uint8Array, int64 as BigInt64Array).
Napi::Value typedArrayOver(Napi::Env env, at::ScalarType dtype, size_t n, Napi::ArrayBuffer buffer) {
  switch (dtype) {
    case at::kFloat: return Napi::Float32Array::New(env, n, buffer, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, buffer, 0);
    case at::kLong: return Napi::TypedArrayOf<int64_t>::New(env, n, buffer, 0, napi_bigint64_array);
    case at::kInt: return Napi::Int32Array::New(env, n, buffer, 0);
    case at::kShort: return Napi::Int16Array::New(env, n, buffer, 0);
    case at::kChar: return Napi::Int8Array::New(env, n, buffer, 0);
    case at::kByte:
    case at::kBool: return Napi::Uint8Array::New(env, n, buffer, 0);
    default: throwType(std::string("data(): unsupported dtype ") + c10::toString(dtype));
  }
}

// A contiguous CPU copy with a dtype JS can hold (half and bfloat16 widen to float32).
at::Tensor hostReadable(const at::Tensor& t) {
  at::Tensor c = t.detach();
  if (c.scalar_type() == at::kHalf || c.scalar_type() == at::kBFloat16) c = c.to(at::kFloat);
  if (!c.device().is_cpu()) c = c.to(at::kCPU);
  return c.contiguous();
}

Napi::Value data(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor c = hostReadable(tensorArg(info, 0));
  size_t n = static_cast<size_t>(c.numel());
  size_t bytes = n * c.element_size();
  auto buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buffer.Data(), c.data_ptr(), bytes);
  return typedArrayOver(env, c.scalar_type(), n, buffer);
}

// A zero-copy Float32Array/… over a contiguous CPU tensor's memory; the tensor stays alive while the view does.
Napi::Value dataView(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& t = tensorArg(info, 0);
  if (!t.device().is_cpu() || !t.is_contiguous() || t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16)
    throwType("dataView() needs a contiguous CPU tensor of a dtype JS can view (use data() for a copy)");
  auto* keep = new at::Tensor(t.detach());
  size_t n = static_cast<size_t>(t.numel());
  size_t bytes = n * t.element_size();
  void* ptr = bytes ? keep->data_ptr() : nullptr;
  if (!ptr) {
    delete keep;
    return Napi::Float32Array::New(env, 0);
  }
  auto buffer = Napi::ArrayBuffer::New(env, ptr, bytes, [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  return typedArrayOver(env, t.scalar_type(), n, buffer);
}

// rawBytes(t) -> Buffer: the contiguous CPU bytes of any dtype (half/bfloat16 kept as their 16-bit patterns), for
// the torch.save writer.
Napi::Value rawBytes(const Napi::CallbackInfo& info) {
  at::Tensor c = tensorArg(info, 0).detach().to(at::kCPU).contiguous();
  size_t bytes = static_cast<size_t>(c.numel()) * c.element_size();
  return Napi::Buffer<char>::Copy(info.Env(), bytes ? static_cast<const char*>(c.data_ptr()) : "", bytes);
}

// The view (offset, shape, strides) must lie inside a storage of `storageElements` elements.
void checkView(int64_t storageElements, int64_t offset, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides) {
  if (shape.size() != strides.size()) throwRange("shape and stride lengths differ");
  // The largest element the view touches must lie inside the storage.
  int64_t last = offset;
  for (size_t k = 0; k < shape.size(); k++) {
    if (shape[k] < 0 || strides[k] < 0) throwRange("negative size or stride in file");
    if (shape[k] == 0) { last = -1; break; }
    int64_t span = 0;
    if (__builtin_mul_overflow(shape[k] - 1, strides[k], &span) || __builtin_add_overflow(last, span, &last))
      throwRange("tensor view lies outside its storage (its extent overflows)");
  }
  if (offset < 0 || last >= storageElements) throwRange("tensor view lies outside its storage");
}

// fromBytes(buffer, dtype, storageElements, offset, shape[], strides[]): a tensor of any dtype over little-endian
// bytes (copied), for the torch.load reader: storage bytes from the file, viewed with the pickled size/stride.
Napi::Value fromBytes(const Napi::CallbackInfo& info) {
  if (!info[0].IsBuffer()) throwType("fromBytes expects a Buffer");
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  auto dtype = dtypeArg(info, 1);
  int64_t storageElements = int64Arg(info, 2, "storage elements");
  int64_t offset = int64Arg(info, 3, "storage offset");
  auto shape = int64ListArg(info, 4, "shape");
  auto strides = int64ListArg(info, 5, "stride");
  const int64_t esize = static_cast<int64_t>(at::elementSize(dtype));
  if (storageElements < 0 || static_cast<int64_t>(buf.Length()) < storageElements * esize)
    throwRange("tensor data is truncated (" + std::to_string(buf.Length()) + " bytes for " + std::to_string(storageElements) + " elements)");
  checkView(storageElements, offset, shape, strides);
  at::Tensor storage = at::empty({storageElements}, at::TensorOptions().dtype(dtype));
  if (storageElements) std::memcpy(storage.data_ptr(), buf.Data(), static_cast<size_t>(storageElements * esize));
  return wrap(info, storage.as_strided(shape, strides, offset));
}

// asStrided(storage, offset, shape[], strides[]): a tensor over part of a whole 1-d storage tensor's storage
// (torch.load's tensors that share a storage in the file share it after loading too, as in PyTorch).
Napi::Value asStrided(const Napi::CallbackInfo& info) {
  const auto& base = tensorArg(info, 0);
  if (base.dim() != 1 || base.storage_offset() != 0 || !base.is_contiguous()) throwRange("asStrided expects a whole 1-d storage tensor");
  int64_t offset = int64Arg(info, 1, "storage offset");
  auto shape = int64ListArg(info, 2, "shape");
  auto strides = int64ListArg(info, 3, "stride");
  checkView(base.numel(), offset, shape, strides);
  // As PyTorch's _rebuild_tensor: a new tensor set onto the storage, not an autograd view of `base` (in-place ops on
  // one loaded tensor must not make its storage-mates require grad, nor fail as views made under no_grad).
  at::Tensor out = at::empty({0}, base.options());
  {
    c10::NoGradGuard noGrad;
    out.set_(base.storage(), offset, shape, strides);
  }
  return wrap(info, out);
}

Napi::Value item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& t = tensorArg(info, 0);
  if (t.numel() != 1)
    throwRange("item(): a Tensor with " + std::to_string(t.numel()) + " elements cannot be converted to a number");
  at::Scalar s = t.item();
  if (s.isBoolean()) return Napi::Boolean::New(env, s.toBool());
  if (s.isIntegral(false)) return Napi::Number::New(env, static_cast<double>(s.toLong()));
  return Napi::Number::New(env, s.toDouble());
}

// to(t, dtype|-1, device|-2 (keep), copy)
Napi::Value to(const Napi::CallbackInfo& info) {
  const auto& t = tensorArg(info, 0);
  auto dtype = optionalDtypeArg(info, 1).value_or(t.scalar_type());
  int32_t devCode = isMissing(info, 2) ? -2 : intArg(info, 2, "device");
  at::Device dev = devCode == -2 ? t.device() : deviceArg(info, 2);
  bool copy = !isMissing(info, 3) && boolArg(info, 3, "copy");
  bool nonBlocking = !isMissing(info, 4) && boolArg(info, 4, "nonBlocking");
  c10::optional<at::MemoryFormat> format;
  if (!isMissing(info, 5)) format = memoryFormatArg(info, 5);
  return wrap(info, t.to(dev, dtype, nonBlocking, copy, format));
}

// Page-locked host memory: what makes a host-to-GPU copy asynchronous (Tensor.pin_memory / is_pinned).
Napi::Value isPinned(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), tensorArg(info, 0).is_pinned());
}

Napi::Value pinMemory(const Napi::CallbackInfo& info) {
  return wrap(info, tensorArg(info, 0).pin_memory());
}

}  // namespace

void initTensor(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "fromTypedArray", fromTypedArray);
  exportGuarded(env, exports, "full", full);
  exportGuarded(env, exports, "empty", empty);
  exportGuarded(env, exports, "random", random);
  exportGuarded(env, exports, "randint", randint);
  exportGuarded(env, exports, "randperm", randperm);
  exportGuarded(env, exports, "arange", arange);
  exportGuarded(env, exports, "linspace", linspace);
  exportGuarded(env, exports, "eye", eye);
  exportGuarded(env, exports, "like", like);
  exportGuarded(env, exports, "manualSeed", manualSeed);
  exportGuarded(env, exports, "initialSeed", initialSeed);
  exportGuarded(env, exports, "randomInt64", randomInt64);
  exportGuarded(env, exports, "getRngState", getRngState);
  exportGuarded(env, exports, "setRngState", setRngState);
  exportGuarded(env, exports, "randpermSeeded", randpermSeeded);
  exportGuarded(env, exports, "shape", shape);
  exportGuarded(env, exports, "stride", stride);
  exportGuarded(env, exports, "dtype", dtype);
  exportGuarded(env, exports, "device", device);
  exportGuarded(env, exports, "ndim", ndim);
  exportGuarded(env, exports, "numel", numel);
  exportGuarded(env, exports, "dataPtr", dataPtr);
  exportGuarded(env, exports, "size", size);
  exportGuarded(env, exports, "isContiguous", isContiguous);
  exportGuarded(env, exports, "data", data);
  exportGuarded(env, exports, "dataView", dataView);
  exportGuarded(env, exports, "item", item);
  exportGuarded(env, exports, "rawBytes", rawBytes);
  exportGuarded(env, exports, "fromBytes", fromBytes);
  exportGuarded(env, exports, "asStrided", asStrided);
  exportGuarded(env, exports, "to", to);
  exportGuarded(env, exports, "isPinned", isPinned);
  exportGuarded(env, exports, "pinMemory", pinMemory);
}

}  // namespace torchkd
