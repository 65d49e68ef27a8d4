// Stand-in for Gloo's common/error.h (see ../../README.md). Gloo's exceptions derive from std::runtime_error; torchkd
// catches them as std::exception at the native boundary, never by Gloo type.
#pragma once

namespace gloo {}
