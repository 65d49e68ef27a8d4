// The one guard every native entry point runs under.
//
// libtorch reports failures as c10::Error (with a C++ backtrace appended to what()); argument readers throw ArgError.
// Nothing may escape into Node as a C++ exception or abort the process, so every export is wrapped here.
#include "addon.h"

#include <c10/util/Exception.h>

namespace torchkd {

void throwType(const std::string& message) { throw ArgError{ArgError::Type, message}; }
void throwRange(const std::string& message) { throw ArgError{ArgError::Range, message}; }

namespace {

// Create the JS TorchError registered by lib/binding.ts (falls back to Error before registration).
void throwTorchError(Napi::Env env, const std::string& message, const char* code) {
  Addon& a = addon(env);
  Napi::Object err;
  if (!a.torchError.IsEmpty()) {
    err = a.torchError.New({Napi::String::New(env, message), Napi::String::New(env, code)});
  } else {
    err = Napi::Error::New(env, message).Value();
    err.Set("code", Napi::String::New(env, code));
  }
  Napi::Error(env, err).ThrowAsJavaScriptException();
}

// c10 appends "Exception raised from ... (most recent call first):" and frames when stack traces are on.
std::string stripBacktrace(const std::string& msg) {
  auto pos = msg.find("\nException raised from ");
  std::string out = pos == std::string::npos ? msg : msg.substr(0, pos);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Napi::Value guardCall(const Napi::CallbackInfo& info, Binding fn) {
  Napi::Env env = info.Env();
  try {
    return fn(info);
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const ArgError& e) {
    if (e.kind == ArgError::Type)
      Napi::TypeError::New(env, e.message).ThrowAsJavaScriptException();
    else
      Napi::RangeError::New(env, e.message).ThrowAsJavaScriptException();
  } catch (const c10::OutOfMemoryError& e) {
    throwTorchError(env, stripBacktrace(e.what_without_backtrace()), "OUT_OF_MEMORY");
  } catch (const c10::IndexError& e) {
    throwTorchError(env, stripBacktrace(e.what_without_backtrace()), "INDEX_ERROR");
  } catch (const c10::ValueError& e) {
    throwTorchError(env, stripBacktrace(e.what_without_backtrace()), "VALUE_ERROR");
  } catch (const c10::TypeError& e) {
    throwTorchError(env, stripBacktrace(e.what_without_backtrace()), "TYPE_ERROR");
  } catch (const c10::NotImplementedError& e) {
    throwTorchError(env, stripBacktrace(e.what_without_backtrace()), "NOT_IMPLEMENTED");
  } catch (const c10::Error& e) {
    throwTorchError(env, stripBacktrace(e.what_without_backtrace()), "TORCH_ERROR");
  } catch (const std::bad_alloc&) {
    throwTorchError(env, "out of memory (std::bad_alloc)", "OUT_OF_MEMORY");
  } catch (const std::runtime_error& e) {
    // libtorch also reports some failures as std::runtime_error (e.g. a Scalar that overflows the dtype), which
    // Python surfaces as RuntimeError: these are libtorch errors too.
    throwTorchError(env, stripBacktrace(e.what()), "TORCH_ERROR");
  } catch (const std::exception& e) {
    Napi::Error::New(env, stripBacktrace(e.what())).ThrowAsJavaScriptException();
  } catch (...) {
    Napi::Error::New(env, "unknown native error").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

void exportGuarded(Napi::Env env, Napi::Object exports, const char* name, Binding fn) {
  // The binding pointer rides along as the function's data, so one trampoline serves every export.
  auto trampoline = [](const Napi::CallbackInfo& info) -> Napi::Value {
    return guardCall(info, reinterpret_cast<Binding>(info.Data()));
  };
  exports.Set(name, Napi::Function::New(env, trampoline, name, reinterpret_cast<void*>(fn)));
}

}  // namespace torchkd
