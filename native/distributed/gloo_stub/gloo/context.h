// Stand-in for Gloo's context.h (see ../README.md): the one member c10d's headers call inline.
#pragma once

#include <chrono>

namespace gloo {

namespace transport {
class Context;
class Device;
class Pair;
class UnboundBuffer;
}  // namespace transport

class Context {
 public:
  Context() = delete;
  // Defined in libtorch_cpu (Gloo is linked into it); ProcessGroupGloo::setTimeout calls it.
  void setTimeout(std::chrono::milliseconds timeout);
};

}  // namespace gloo
