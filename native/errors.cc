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

// The JS TorchError registered by lib/binding.ts (a plain Error before registration).
Napi::Value torchError(Napi::Env env, const std::string& message, const char* code) {
  Addon& a = addon(env);
  if (!a.torchError.IsEmpty()) return a.torchError.New({Napi::String::New(env, message), Napi::String::New(env, code)});
  Napi::Object err = Napi::Error::New(env, message).Value();
  err.Set("code", Napi::String::New(env, code));
  return err;
}

// c10 appends "Exception raised from ... (most recent call first):" and frames when stack traces are on.
std::string stripBacktrace(const std::string& msg) {
  auto pos = msg.find("\nException raised from ");
  std::string out = pos == std::string::npos ? msg : msg.substr(0, pos);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Hands `error` back to JS as the call's result; lib/binding.ts throws it. Errors are not thrown from here: Node
// parks an exception thrown through N-API in the module's env until the call returns, and rethrows it with the parked
// copy still set. This addon's finalizers run inside V8's collector (NAPI_EXPERIMENTAL), and Node checks for a parked
// exception after each one, so a collection during that rethrow made Node try to run JS inside the collector and abort
// ("Check failed: AllowJavascriptExecution::IsAllowed", about one run in six of test/03-bad-input's child process).
Napi::Value raise(Napi::Env env, Napi::Value error) {
  Addon& a = addon(env);
  // Thrown as before only until lib/binding.ts registers the sentinel, or for a non-object a JS callback threw.
  if (a.errorSentinel.IsEmpty() || !error.IsObject()) {
    Napi::Error(env, error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  a.pendingError = Napi::Persistent(error.As<Napi::Object>());
  return a.errorSentinel.Value();
}

}  // namespace

Napi::Value errorValue(Napi::Env env, std::exception_ptr failure) {
  try {
    std::rethrow_exception(failure);
  } catch (const Napi::Error& e) {
    return e.Value();
  } catch (const ArgError& e) {
    if (e.kind == ArgError::Type) return Napi::TypeError::New(env, e.message).Value();
    return Napi::RangeError::New(env, e.message).Value();
  } catch (const c10::OutOfMemoryError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "OUT_OF_MEMORY");
  } catch (const c10::IndexError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "INDEX_ERROR");
  } catch (const c10::ValueError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "VALUE_ERROR");
  } catch (const c10::TypeError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "TYPE_ERROR");
  } catch (const c10::NotImplementedError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "NOT_IMPLEMENTED");
  } catch (const c10::DistBackendError& e) {
    // torch.distributed's error classes (DistBackendError, DistStoreError, DistNetworkError, DistError) as codes.
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "DIST_BACKEND_ERROR");
  } catch (const c10::DistStoreError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "DIST_STORE_ERROR");
  } catch (const c10::DistNetworkError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "DIST_NETWORK_ERROR");
  } catch (const c10::DistError& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "DIST_ERROR");
  } catch (const c10::Error& e) {
    return torchError(env, stripBacktrace(e.what_without_backtrace()), "TORCH_ERROR");
  } catch (const std::bad_alloc&) {
    return torchError(env, "out of memory (std::bad_alloc)", "OUT_OF_MEMORY");
  } catch (const std::runtime_error& e) {
    // libtorch also reports some failures as std::runtime_error (e.g. a Scalar that overflows the dtype), which
    // Python surfaces as RuntimeError: these are libtorch errors too.
    return torchError(env, stripBacktrace(e.what()), "TORCH_ERROR");
  } catch (const std::exception& e) {
    return Napi::Error::New(env, stripBacktrace(e.what())).Value();
  } catch (...) {
    return Napi::Error::New(env, "unknown native error").Value();
  }
}

Napi::Value guardCall(const Napi::CallbackInfo& info, Binding fn) {
  try {
    return fn(info);
  } catch (...) {
    return raise(info.Env(), errorValue(info.Env(), std::current_exception()));
  }
}

void exportGuarded(Napi::Env env, Napi::Object exports, const char* name, Binding fn) {
  // The binding pointer rides along as the function's data, so one trampoline serves every export.
  auto trampoline = [](const Napi::CallbackInfo& info) -> Napi::Value {
    return guardCall(info, reinterpret_cast<Binding>(info.Data()));
  };
  exports.Set(name, Napi::Function::New(env, trampoline, name, reinterpret_cast<void*>(fn)));
}

}  // namespace torchkd
