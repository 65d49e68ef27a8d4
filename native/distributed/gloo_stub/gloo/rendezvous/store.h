// Stand-in for Gloo's rendezvous/store.h (see ../../README.md): the abstract base of c10d's GlooStore adapter, which
// libtorch constructs internally and torchkd never instantiates. GLOO_STORE_HAS_STORE_V2 is left undefined, so the
// adapter's optional overrides are not declared here.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace gloo {
namespace rendezvous {

class Store {
 public:
  virtual ~Store() = default;
  virtual void set(const std::string& key, const std::vector<char>& data) = 0;
  virtual std::vector<char> get(const std::string& key) = 0;
  virtual void wait(const std::vector<std::string>& keys) = 0;
  virtual void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) { wait(keys); }
};

}  // namespace rendezvous
}  // namespace gloo
