// torch.save / torch.load byte formats: PyTorch's zip+pickle format, through libtorch's pickle_save/pickle_load.
//
// JS values arrive as plain trees in which a tensor is `{__tensor: handle}`; files are read and written (atomically)
// by lib/serialization.ts, so this file only converts between JS trees, IValues and bytes.
#include "addon.h"

#include <torch/serialize.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>

namespace torchkd {
namespace {

c10::IValue toIValue(Napi::Env env, const Napi::Value& v, int depth) {
  if (depth > 64) throwRange("torch.save: the object is nested too deeply");
  if (v.IsNull() || v.IsUndefined()) return c10::IValue();
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0) return c10::IValue(static_cast<int64_t>(d));
    return c10::IValue(d);
  }
  if (v.IsBigInt()) {
    bool lossless = false;
    return c10::IValue(v.As<Napi::BigInt>().Int64Value(&lossless));
  }
  if (v.IsString()) return c10::IValue(v.As<Napi::String>().Utf8Value());
  if (v.IsArray()) {
    auto arr = v.As<Napi::Array>();
    c10::impl::GenericList list(c10::AnyType::get());
    for (uint32_t k = 0; k < arr.Length(); k++) list.push_back(toIValue(env, arr.Get(k), depth + 1));
    return c10::IValue(list);
  }
  if (v.IsObject()) {
    auto obj = v.As<Napi::Object>();
    if (obj.Has("__tensor")) return c10::IValue(addon(env).tensors.get(obj.Get("__tensor").As<Napi::Number>().DoubleValue()));
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    auto keys = obj.GetPropertyNames();
    for (uint32_t k = 0; k < keys.Length(); k++) {
      Napi::Value key = keys.Get(k);
      std::string name = key.ToString().Utf8Value();
      dict.insert(name, toIValue(env, obj.Get(key), depth + 1));
    }
    return c10::IValue(dict);
  }
  throwType("torch.save: cannot save a value of this type (tensors, numbers, strings, booleans, arrays and plain objects are supported)");
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v, int depth) {
  if (depth > 64) throwRange("torch.load: the object is nested too deeply");
  if (v.isNone()) return env.Null();
  if (v.isTensor()) {
    auto marker = Napi::Object::New(env);
    marker.Set("__tensor", wrap(env, v.toTensor()));
    return marker;
  }
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isList() || v.isTuple()) {
    std::vector<c10::IValue> items;
    if (v.isList())
      for (const auto& x : v.toListRef()) items.push_back(x);
    else
      for (const auto& x : v.toTupleRef().elements()) items.push_back(x);
    auto arr = Napi::Array::New(env, items.size());
    for (size_t k = 0; k < items.size(); k++) arr.Set(static_cast<uint32_t>(k), fromIValue(env, items[k], depth + 1));
    return arr;
  }
  if (v.isGenericDict()) {
    auto obj = Napi::Object::New(env);
    for (const auto& entry : v.toGenericDict()) {
      const auto& key = entry.key();
      std::string name;
      if (key.isString())
        name = key.toStringRef();
      else if (key.isInt())
        name = std::to_string(key.toInt());
      else if (key.isDouble())
        name = std::to_string(key.toDouble());
      else
        throwType("torch.load: dictionary keys must be strings or numbers");
      obj.Set(name, fromIValue(env, entry.value(), depth + 1));
    }
    return obj;
  }
  throwType(std::string("torch.load: values of type ") + v.tagKind() + " are not supported");
}

// pickleSave(tree) -> Buffer
Napi::Value pickleSave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  c10::IValue value = toIValue(env, info[0], 0);
  std::vector<char> bytes = torch::pickle_save(value);
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

// pickleLoad(Buffer, deviceCode | -2 (keep)) -> tree
Napi::Value pickleLoad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer()) throwType("pickleLoad expects a Buffer");
  auto buf = info[0].As<Napi::Buffer<char>>();
  if (buf.Length() < 4 || !(buf.Data()[0] == 'P' && buf.Data()[1] == 'K'))
    throwRange("torch.load: not a PyTorch file (expected the zip-based torch.save format)");
  std::vector<char> bytes(buf.Data(), buf.Data() + buf.Length());
  c10::IValue value = torch::pickle_load(bytes);
  return fromIValue(env, value, 0);
}

}  // namespace

void initSerialize(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "pickleSave", pickleSave);
  exportGuarded(env, exports, "pickleLoad", pickleLoad);
}

}  // namespace torchkd
