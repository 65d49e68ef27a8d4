// Stand-in for Gloo's algorithm.h (see ../README.md): nothing of it is used by c10d's headers.
#pragma once

namespace gloo {}
