// Stand-in for Gloo's transport/device.h (see ../../README.md): c10d holds devices through shared_ptr only.
#pragma once

namespace gloo {
namespace transport {
class Device;
class UnboundBuffer;
}  // namespace transport
}  // namespace gloo
