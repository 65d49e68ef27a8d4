// Native modules: creation of C++-frontend layers, Sequential, TorchScript load/save, forward and state access.
#include "module.h"
#include "op_support.h"

#include <torch/nn/modules.h>
#include <torch/serialize.h>

#include <cstdio>
#include <fstream>

namespace torchkd {

// ---- NativeModule ------------------------------------------------------------------------------------------------

at::Tensor NativeModule::forward(const std::vector<at::Tensor>& inputs) {
  if (script) {
    std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    c10::IValue out = script->forward(args);
    if (out.isTensor()) return out.toTensor();
    if (out.isTuple() && !out.toTupleRef().elements().empty() && out.toTupleRef().elements()[0].isTensor())
      return out.toTupleRef().elements()[0].toTensor();
    throwType("TorchScript forward returned " + out.tagKind() + "; torchkd expects a Tensor (or a tuple starting with one)");
  }
  if (inputs.size() != 1) throwRange(kind + ".forward expects exactly one tensor input");
  return any.forward(inputs[0]);
}

void NativeModule::train(bool on) {
  if (script)
    script->train(on);
  else
    frontend->train(on);
}

bool NativeModule::training() const { return script ? script->is_training() : frontend->is_training(); }

std::vector<std::pair<std::string, at::Tensor>> NativeModule::parameters(bool recurse) const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  if (script) {
    for (const auto& p : script->named_parameters(recurse)) out.emplace_back(p.name, p.value);
  } else {
    for (const auto& p : frontend->named_parameters(recurse)) out.emplace_back(p.key(), p.value());
  }
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> NativeModule::buffers(bool recurse) const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  if (script) {
    for (const auto& p : script->named_buffers(recurse)) out.emplace_back(p.name, p.value);
  } else {
    for (const auto& p : frontend->named_buffers(recurse)) out.emplace_back(p.key(), p.value());
  }
  return out;
}

// nn::Sequential's forward is a template, which AnyModule cannot hold; this one takes and returns a Tensor.
struct NativeSequentialImpl : torch::nn::SequentialImpl {
  using SequentialImpl::SequentialImpl;
  at::Tensor forward(at::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(NativeSequential);

// nn.MaxPool2d with torchkd's pooling (op_support.h: the fast path without autograd, e.g. in a frozen teacher).
struct MaxPool2dImpl : torch::nn::MaxPool2dImpl {
  using torch::nn::MaxPool2dImpl::MaxPool2dImpl;
  at::Tensor forward(const at::Tensor& x) {
    return maxPool2d(x, *options.kernel_size(), *options.stride(), *options.padding(), *options.dilation(), options.ceil_mode());
  }
};
TORCH_MODULE(MaxPool2d);

// ---- handle table ------------------------------------------------------------------------------------------------

namespace {

Napi::Value wrapModule(const Napi::CallbackInfo& info, std::shared_ptr<NativeModule> m) {
  Addon& a = addon(info.Env());
  int32_t h;
  if (!a.freeModules.empty()) {
    h = a.freeModules.back();
    a.freeModules.pop_back();
    a.modules[h] = std::move(m);
  } else {
    a.modules.push_back(std::move(m));
    h = static_cast<int32_t>(a.modules.size() - 1);
  }
  return Napi::Number::New(info.Env(), h);
}

template <typename Holder>
std::shared_ptr<NativeModule> frontendModule(Holder holder, const std::string& kind) {
  auto m = std::make_shared<NativeModule>();
  m->frontend = holder.ptr();
  m->any = torch::nn::AnyModule(holder);
  m->kind = kind;
  return m;
}

// Options objects arrive from lib/nn with every field filled in (defaults applied in TS, as Python documents them).
int64_t optInt(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throwType(std::string("module option ") + key + " must be a number");
  return v.As<Napi::Number>().Int64Value();
}
double optDouble(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throwType(std::string("module option ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
bool optBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throwType(std::string("module option ") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}
std::vector<int64_t> optPair(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) throwType(std::string("module option ") + key + " must be an array");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out;
  for (uint32_t k = 0; k < arr.Length(); k++) out.push_back(arr.Get(k).As<Napi::Number>().Int64Value());
  if (out.size() != 2) throwRange(std::string("module option ") + key + " must have two entries");
  return out;
}

// createModule(kind, options)
Napi::Value createModule(const Napi::CallbackInfo& info) {
  std::string kind = stringArg(info, 0, "kind");
  if (!info[1].IsObject()) throwType("createModule expects an options object");
  auto o = info[1].As<Napi::Object>();
  namespace nn = torch::nn;
  if (kind == "Linear") {
    const int64_t in = optInt(o, "inFeatures"), out = optInt(o, "outFeatures");
    if (in != 0) return wrapModule(info, frontendModule(nn::Linear(nn::LinearOptions(in, out).bias(optBool(o, "bias"))), kind));
    // Without inputs libtorch's reset_parameters divides by the zero fan-in and uniform_ refuses the infinite bound,
    // where PyTorch leaves the empty weight alone. Made with one input, the generator's state put back, then given
    // its empty weight; lib/nn initialises it as PyTorch does.
    auto gen = at::detail::getDefaultCPUGenerator();
    at::Tensor state;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      state = gen.get_state();
    }
    nn::Linear linear(nn::LinearOptions(1, out).bias(optBool(o, "bias")));
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state);
    }
    linear->options.in_features(0);
    {
      torch::NoGradGuard noGrad;
      linear->weight.set_data(torch::empty({out, 0}));
    }
    return wrapModule(info, frontendModule(linear, kind));
  }
  if (kind == "Conv2d") {
    auto k = optPair(o, "kernelSize");
    auto opts = nn::Conv2dOptions(optInt(o, "inChannels"), optInt(o, "outChannels"), {k[0], k[1]});
    auto s = optPair(o, "stride"), p = optPair(o, "padding"), d = optPair(o, "dilation");
    opts.stride({s[0], s[1]}).padding(torch::ExpandingArray<2>({p[0], p[1]})).dilation({d[0], d[1]}).groups(optInt(o, "groups")).bias(optBool(o, "bias"));
    return wrapModule(info, frontendModule(nn::Conv2d(opts), kind));
  }
  if (kind == "BatchNorm1d" || kind == "BatchNorm2d") {
    auto momentum = o.Get("momentum");
    c10::optional<double> mom;
    if (!momentum.IsNull() && !momentum.IsUndefined()) mom = optDouble(o, "momentum");
    if (kind == "BatchNorm1d") {
      auto opts = nn::BatchNorm1dOptions(optInt(o, "numFeatures")).eps(optDouble(o, "eps")).momentum(mom).affine(optBool(o, "affine")).track_running_stats(optBool(o, "trackRunningStats"));
      return wrapModule(info, frontendModule(nn::BatchNorm1d(opts), kind));
    }
    auto opts = nn::BatchNorm2dOptions(optInt(o, "numFeatures")).eps(optDouble(o, "eps")).momentum(mom).affine(optBool(o, "affine")).track_running_stats(optBool(o, "trackRunningStats"));
    return wrapModule(info, frontendModule(nn::BatchNorm2d(opts), kind));
  }
  if (kind == "ReLU") return wrapModule(info, frontendModule(nn::ReLU(), kind));
  if (kind == "LeakyReLU") return wrapModule(info, frontendModule(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(optDouble(o, "negativeSlope"))), kind));
  if (kind == "GELU") {
    Napi::Value a = o.Get("approximate");
    return wrapModule(info, frontendModule(nn::GELU(nn::GELUOptions().approximate(a.IsString() ? a.As<Napi::String>().Utf8Value() : "none")), kind));
  }
  if (kind == "Sigmoid") return wrapModule(info, frontendModule(nn::Sigmoid(), kind));
  if (kind == "Tanh") return wrapModule(info, frontendModule(nn::Tanh(), kind));
  if (kind == "Identity") return wrapModule(info, frontendModule(nn::Identity(), kind));
  if (kind == "MaxPool2d") {
    auto k = optPair(o, "kernelSize"), s = optPair(o, "stride"), p = optPair(o, "padding"), d = optPair(o, "dilation");
    auto opts = nn::MaxPool2dOptions({k[0], k[1]}).stride({s[0], s[1]}).padding({p[0], p[1]}).dilation({d[0], d[1]}).ceil_mode(optBool(o, "ceilMode"));
    return wrapModule(info, frontendModule(MaxPool2d(opts), kind));
  }
  if (kind == "AvgPool2d") {
    auto k = optPair(o, "kernelSize"), s = optPair(o, "stride"), p = optPair(o, "padding");
    auto opts = nn::AvgPool2dOptions({k[0], k[1]}).stride({s[0], s[1]}).padding({p[0], p[1]}).ceil_mode(optBool(o, "ceilMode")).count_include_pad(optBool(o, "countIncludePad"));
    return wrapModule(info, frontendModule(nn::AvgPool2d(opts), kind));
  }
  if (kind == "AdaptiveAvgPool2d") {
    auto s = optPair(o, "outputSize");
    return wrapModule(info, frontendModule(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({s[0], s[1]})), kind));
  }
  if (kind == "Flatten") {
    return wrapModule(info, frontendModule(nn::Flatten(nn::FlattenOptions().start_dim(optInt(o, "startDim")).end_dim(optInt(o, "endDim"))), kind));
  }
  if (kind == "Dropout") {
    double p = optDouble(o, "p");
    if (!(p >= 0 && p <= 1)) throwRange("Dropout: p must be in [0, 1]");
    return wrapModule(info, frontendModule(nn::Dropout(nn::DropoutOptions(p)), kind));
  }
  if (kind == "Softmax") return wrapModule(info, frontendModule(nn::Softmax(nn::SoftmaxOptions(optInt(o, "dim"))), kind));
  if (kind == "LogSoftmax") return wrapModule(info, frontendModule(nn::LogSoftmax(nn::LogSoftmaxOptions(optInt(o, "dim"))), kind));
  throwRange("unknown native module kind " + kind);
}

// createSequential(names[], moduleHandles[]): a native container sharing the children's modules (no copies).
Napi::Value createSequential(const Napi::CallbackInfo& info) {
  if (!info[0].IsArray() || !info[1].IsArray()) throwType("createSequential expects names and modules");
  auto names = info[0].As<Napi::Array>();
  auto mods = info[1].As<Napi::Array>();
  NativeSequential seq;
  Addon& a = addon(info.Env());
  for (uint32_t k = 0; k < mods.Length(); k++) {
    int32_t h = mods.Get(k).As<Napi::Number>().Int32Value();
    if (h < 0 || static_cast<size_t>(h) >= a.modules.size() || !a.modules[h]) throwType("module handle is not live");
    auto& child = a.modules[h];
    if (child->script) throwType("a TorchScript module cannot be a child of a native Sequential");
    seq->push_back(names.Get(k).As<Napi::String>().Utf8Value(), child->any);
  }
  return wrapModule(info, frontendModule(seq, "Sequential"));
}

Napi::Value releaseModule(const Napi::CallbackInfo& info) {
  Addon& a = addon(info.Env());
  int32_t h = info[0].As<Napi::Number>().Int32Value();
  if (h >= 0 && static_cast<size_t>(h) < a.modules.size() && a.modules[h]) {
    a.modules[h].reset();
    a.freeModules.push_back(h);
  }
  return info.Env().Undefined();
}

// moduleForward(m, inputs[])
Napi::Value moduleForward(const Napi::CallbackInfo& info) {
  auto& m = moduleArg(info, 0);
  return wrap(info, m.forward(tensorListArg(info, 1, "inputs")));
}

Napi::Value namedList(const Napi::CallbackInfo& info, const std::vector<std::pair<std::string, at::Tensor>>& items) {
  Napi::Env env = info.Env();
  auto arr = Napi::Array::New(env, items.size());
  for (size_t k = 0; k < items.size(); k++) {
    auto pair = Napi::Array::New(env, 2);
    pair.Set(uint32_t(0), Napi::String::New(env, items[k].first));
    pair.Set(uint32_t(1), wrap(env, items[k].second));
    arr.Set(static_cast<uint32_t>(k), pair);
  }
  return arr;
}

// moduleParameters(m, recurse) -> [[name, handle], ...]
Napi::Value moduleParameters(const Napi::CallbackInfo& info) {
  return namedList(info, moduleArg(info, 0).parameters(boolArg(info, 1, "recurse")));
}

Napi::Value moduleBuffers(const Napi::CallbackInfo& info) {
  return namedList(info, moduleArg(info, 0).buffers(boolArg(info, 1, "recurse")));
}

Napi::Value moduleTrain(const Napi::CallbackInfo& info) {
  moduleArg(info, 0).train(boolArg(info, 1, "mode"));
  return info.Env().Undefined();
}

Napi::Value moduleTraining(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), moduleArg(info, 0).training());
}

// setData(t, src): t.data = src (the handle keeps its identity; used by Module.to and loadStateDict)
Napi::Value setData(const Napi::CallbackInfo& info) {
  at::Tensor t = tensorArg(info, 0);
  t.set_data(tensorArg(info, 1));
  return info.Env().Undefined();
}

Napi::Value jitLoad(const Napi::CallbackInfo& info) {
  std::string path = stringArg(info, 0, "path");
  c10::optional<at::Device> device;
  if (!isMissing(info, 1) && intArg(info, 1, "device") >= -1) device = deviceArg(info, 1);
  auto m = std::make_shared<NativeModule>();
  m->script = torch::jit::load(path, device);
  m->kind = "ScriptModule";
  return wrapModule(info, m);
}

// jitSave(m, path): written to a temporary file next to the target, then renamed over it.
Napi::Value jitSave(const Napi::CallbackInfo& info) {
  auto& m = moduleArg(info, 0);
  if (!m.script) throwType("save(): only TorchScript modules can be saved as TorchScript");
  std::string path = stringArg(info, 1, "path");
  std::string tmp = stringArg(info, 2, "tmpPath");
  m.script->save(tmp);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("could not move the saved module into place at " + path);
  }
  return info.Env().Undefined();
}

// moduleState(m) -> [[name, handle, isBuffer], ...] in PyTorch's state_dict order: module by module (pre-order),
// each module's own parameters, then its own buffers.
Napi::Value moduleState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& m = moduleArg(info, 0);
  std::vector<std::tuple<std::string, at::Tensor, bool>> items;
  auto visitScript = [&](const std::string& prefix, const torch::jit::Module& mod) {
    for (const auto& p : mod.named_parameters(false)) items.emplace_back(prefix + p.name, p.value, false);
    for (const auto& b : mod.named_buffers(false)) items.emplace_back(prefix + b.name, b.value, true);
  };
  if (m.script) {
    visitScript("", *m.script);
    for (const auto& sub : m.script->named_modules()) {
      if (sub.name.empty()) continue;
      visitScript(sub.name + ".", sub.value);
    }
  } else {
    for (const auto& sub : m.frontend->named_modules()) {
      std::string prefix = sub.key().empty() ? "" : sub.key() + ".";
      for (const auto& p : sub.value()->named_parameters(false)) items.emplace_back(prefix + p.key(), p.value(), false);
      for (const auto& b : sub.value()->named_buffers(false)) items.emplace_back(prefix + b.key(), b.value(), true);
    }
  }
  auto arr = Napi::Array::New(env, items.size());
  for (size_t k = 0; k < items.size(); k++) {
    auto row = Napi::Array::New(env, 3);
    row.Set(uint32_t(0), Napi::String::New(env, std::get<0>(items[k])));
    row.Set(uint32_t(1), wrap(env, std::get<1>(items[k])));
    row.Set(uint32_t(2), Napi::Boolean::New(env, std::get<2>(items[k])));
    arr.Set(static_cast<uint32_t>(k), row);
  }
  return arr;
}

}  // namespace

NativeModule& moduleArg(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) throwType("expected a native module");
  Addon& a = addon(info.Env());
  int32_t h = info[i].As<Napi::Number>().Int32Value();
  if (h < 0 || static_cast<size_t>(h) >= a.modules.size() || !a.modules[h]) throwType("module handle is not live");
  return *a.modules[h];
}

void initModule(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "createModule", createModule);
  exportGuarded(env, exports, "createSequential", createSequential);
  exportGuarded(env, exports, "releaseModule", releaseModule);
  exportGuarded(env, exports, "moduleForward", moduleForward);
  exportGuarded(env, exports, "moduleParameters", moduleParameters);
  exportGuarded(env, exports, "moduleBuffers", moduleBuffers);
  exportGuarded(env, exports, "moduleTrain", moduleTrain);
  exportGuarded(env, exports, "moduleTraining", moduleTraining);
  exportGuarded(env, exports, "moduleState", moduleState);
  exportGuarded(env, exports, "setData", setData);
  exportGuarded(env, exports, "jitLoad", jitLoad);
  exportGuarded(env, exports, "jitSave", jitSave);
}

}  // namespace torchkd
