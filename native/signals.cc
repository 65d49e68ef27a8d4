// A trap for SIGINT and SIGTERM that a synchronous training loop can poll (`torchkd train`): JavaScript signal
// listeners only run when the event loop turns, which a training loop does not let it do. The first signal sets a
// flag (the loop finishes its step, writes a checkpoint and exits); a second one restores the default action and
// re-raises, ending the process at once (every file torchkd writes is written atomically, so nothing is left half
// written).
#include "addon.h"

#include <csignal>

namespace torchkd {
namespace {

volatile sig_atomic_t pending = 0;
struct sigaction previousInt;
struct sigaction previousTerm;
bool installed = false;

void onSignal(int sig) {
  if (pending != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  pending = sig;
}

// trapSignals(on): installs (true) or removes (false) the trap; the pending signal is cleared either way.
Napi::Value trapSignals(const Napi::CallbackInfo& info) {
  const bool on = boolArg(info, 0, "on");
  pending = 0;
  if (on && !installed) {
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &previousInt);
    sigaction(SIGTERM, &sa, &previousTerm);
    installed = true;
  } else if (!on && installed) {
    sigaction(SIGINT, &previousInt, nullptr);
    sigaction(SIGTERM, &previousTerm, nullptr);
    installed = false;
  }
  return info.Env().Undefined();
}

// pendingSignal() -> the signal number received since the trap was installed, or 0.
Napi::Value pendingSignal(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<int>(pending)); }

}  // namespace

void initSignals(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "trapSignals", trapSignals);
  exportGuarded(env, exports, "pendingSignal", pendingSignal);
}

}  // namespace torchkd
