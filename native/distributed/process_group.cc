// torch.distributed's rendezvous and process groups: c10d stores (TCP, file, prefix) and process groups with a Gloo
// (or NCCL) backend, built the way Python's init_process_group / new_group build them, so that a Node rank and a
// Python rank meet on the same store keys. The naming and prefixing (default_pg → "<group name>/" → "<device>/")
// happens in lib/distributed/process-group.ts; this file constructs what it is asked for.
#include "distributed/dist.h"

#ifdef TORCHKD_DISTRIBUTED
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/debug.h>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupWrapper.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace torchkd {

#ifdef TORCHKD_DISTRIBUTED

#ifdef USE_C10D_GLOO
// ProcessGroupGloo is allocated here (make_intrusive) and constructed by libtorch: its size as seen through the Gloo
// stand-in headers (native/distributed/gloo_stub/) must be libtorch's own. Checked for the versions it was measured on.
#if TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR == 13
static_assert(sizeof(c10d::ProcessGroupGloo) == 488, "ProcessGroupGloo's layout differs from libtorch 2.13's");
#elif TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR == 14
static_assert(sizeof(c10d::ProcessGroupGloo) == 544, "ProcessGroupGloo's layout differs from libtorch 2.14's");
#endif
#endif

DistState::~DistState() {
  for (auto& g : groups)
    if (g) g.release();
  for (auto& s : stores)
    if (s) s.release();
}

DistState& distState(Napi::Env env) {
  Addon& a = addon(env);
  if (!a.dist) a.dist = std::make_shared<DistState>();
  return *a.dist;
}

template <typename T>
static const c10::intrusive_ptr<T>& tableArg(const std::vector<c10::intrusive_ptr<T>>& table, const Napi::CallbackInfo& info,
                                             size_t i, const char* what) {
  int64_t h = int64Arg(info, i, what);
  if (h < 0 || h >= static_cast<int64_t>(table.size()) || !table[h])
    throwType(std::string(what) + " is not live (it was destroyed)");
  return table[h];
}

const c10::intrusive_ptr<c10d::Store>& storeArg(const Napi::CallbackInfo& info, size_t i) {
  return tableArg(distState(info.Env()).stores, info, i, "store");
}

const c10::intrusive_ptr<c10d::ProcessGroup>& groupArg(const Napi::CallbackInfo& info, size_t i) {
  return tableArg(distState(info.Env()).groups, info, i, "process group");
}

std::chrono::milliseconds millisArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  double ms = doubleArg(info, i, what);
  if (!(ms > 0) || !std::isfinite(ms)) throwRange(std::string(what) + " must be a positive number of milliseconds");
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(ms)));
}

namespace {

template <typename T>
Napi::Value insert(Napi::Env env, std::vector<c10::intrusive_ptr<T>>& table, c10::intrusive_ptr<T> value) {
  table.push_back(std::move(value));
  return Napi::Number::New(env, static_cast<double>(table.size() - 1));
}

std::vector<uint8_t> bytesArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i < info.Length() && info[i].IsString()) {
    std::string s = info[i].As<Napi::String>().Utf8Value();
    return std::vector<uint8_t>(s.begin(), s.end());
  }
  if (i < info.Length() && info[i].IsTypedArray()) {
    auto a = info[i].As<Napi::Uint8Array>();
    return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
  }
  throwType(std::string("expected a string or a Uint8Array for ") + what);
}

// distCapabilities() -> {gloo, nccl}: which backends this build can create.
Napi::Value distCapabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
#ifdef USE_C10D_GLOO
  out.Set("gloo", true);
#else
  out.Set("gloo", false);
#endif
#ifdef USE_C10D_NCCL
  out.Set("nccl", true);
#else
  out.Set("nccl", false);
#endif
  return out;
}

// distTcpStore(host, port, worldSize | -1, isMaster, timeoutMs, waitWorkers, multiTenant, useLibuv) -> store
// Blocks until the server listens (master) or the client has connected, or the timeout passes.
Napi::Value distTcpStore(const Napi::CallbackInfo& info) {
  std::string host = stringArg(info, 0, "host");
  int64_t port = int64Arg(info, 1, "port");
  if (port < 0 || port > 65535) throwRange("port must have value from 0 to 65535 but was " + std::to_string(port));
  int64_t worldSize = int64Arg(info, 2, "worldSize");
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<uint16_t>(port);
  opts.isServer = boolArg(info, 3, "isMaster");
  if (worldSize >= 0) opts.numWorkers = static_cast<size_t>(worldSize);
  opts.timeout = millisArg(info, 4, "timeout");
  opts.waitWorkers = boolArg(info, 5, "waitWorkers");
  opts.multiTenant = boolArg(info, 6, "multiTenant");
  opts.useLibUV = boolArg(info, 7, "useLibuv");
  auto store = c10::make_intrusive<c10d::TCPStore>(host, opts);
  return insert<c10d::Store>(info.Env(), distState(info.Env()).stores, store);
}

// distTcpStorePort(store) -> the port it listens on or connected to (a master started on port 0 picks one).
Napi::Value distTcpStorePort(const Napi::CallbackInfo& info) {
  auto* tcp = dynamic_cast<c10d::TCPStore*>(storeArg(info, 0).get());
  if (!tcp) throwType("the store is not a TCPStore");
  return Napi::Number::New(info.Env(), tcp->getPort());
}

// distFileStore(path, worldSize) -> store
Napi::Value distFileStore(const Napi::CallbackInfo& info) {
  std::string path = stringArg(info, 0, "path");
  int world = intArg(info, 1, "worldSize");
  auto store = c10::make_intrusive<c10d::FileStore>(path, world);
  return insert<c10d::Store>(info.Env(), distState(info.Env()).stores, store);
}

// distPrefixStore(prefix, store) -> store
Napi::Value distPrefixStore(const Napi::CallbackInfo& info) {
  std::string prefix = stringArg(info, 0, "prefix");
  auto store = c10::make_intrusive<c10d::PrefixStore>(prefix, storeArg(info, 1));
  return insert<c10d::Store>(info.Env(), distState(info.Env()).stores, store);
}

// distStoreOp(store, op, ...): 0 set(key, value), 1 get(key) -> Buffer, 2 add(key, n) -> number,
// 3 wait(keys[], timeoutMs), 4 check(keys[]) -> bool, 5 deleteKey(key) -> bool, 6 numKeys() -> number,
// 7 setTimeout(ms), 8 release.
Napi::Value distStoreOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int op = intArg(info, 1, "op");
  if (op == 8) {
    auto& table = distState(env).stores;
    int64_t h = int64Arg(info, 0, "store");
    if (h >= 0 && h < static_cast<int64_t>(table.size())) table[h].reset();
    return env.Undefined();
  }
  const auto& store = storeArg(info, 0);
  switch (op) {
    case 0:
      store->set(stringArg(info, 2, "key"), bytesArg(info, 3, "value"));
      return env.Undefined();
    case 1: {
      auto v = store->get(stringArg(info, 2, "key"));
      return Napi::Buffer<uint8_t>::Copy(env, v.data(), v.size());
    }
    case 2:
      return Napi::Number::New(env, static_cast<double>(store->add(stringArg(info, 2, "key"), int64Arg(info, 3, "amount"))));
    case 3:
    case 4: {
      if (!info[2].IsArray()) throwType("expected an array of keys");
      auto arr = info[2].As<Napi::Array>();
      std::vector<std::string> keys;
      for (uint32_t k = 0; k < arr.Length(); k++) {
        Napi::Value v = arr[k];
        if (!v.IsString()) throwType("expected an array of keys");
        keys.push_back(v.As<Napi::String>().Utf8Value());
      }
      if (op == 4) return Napi::Boolean::New(env, store->check(keys));
      if (isMissing(info, 3)) store->wait(keys);
      else store->wait(keys, millisArg(info, 3, "timeout"));
      return env.Undefined();
    }
    case 5:
      return Napi::Boolean::New(env, store->deleteKey(stringArg(info, 2, "key")));
    case 6:
      return Napi::Number::New(env, static_cast<double>(store->getNumKeys()));
    case 7:
      store->setTimeout(millisArg(info, 2, "timeout"));
      return env.Undefined();
    default:
      throwRange("unknown store op");
  }
}

#ifdef USE_C10D_GLOO
// Gloo options as Python's ProcessGroupGloo(store, rank, size, timeout) makes them: one device (one per interface
// GLOO_SOCKET_IFNAME names), two threads per device.
c10::intrusive_ptr<c10d::ProcessGroupGloo::Options> glooOptions(std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  bool lazy = c10d::getDefaultGlooLazyInit();
  if (ifname && std::strlen(ifname) > 1) {
    std::string list(ifname);
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(list.substr(start, end - start), lazy));
      start = end + 1;
    }
  } else {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice(lazy));
  }
  opts->threads = static_cast<int>(opts->devices.size() * 2);
  return opts;
}

// TORCH_DISTRIBUTED_DEBUG=DETAIL, as Python: the backend wrapped in a ProcessGroupWrapper that checks, over a helper
// Gloo group on PrefixStore("pg_wrapper:<name>", the backend's store), that every rank runs the same collective with
// the same shapes and dtypes, so a mismatch is an error on every rank instead of a hang or a Gloo abort.
c10::intrusive_ptr<c10d::Backend> maybeWrapped(c10::intrusive_ptr<c10d::Backend> backend, const c10::intrusive_ptr<c10d::Store>& backendStore,
                                               const std::string& name, int rank, int size, std::chrono::milliseconds timeout) {
  if (c10d::debug_level() != c10d::DebugLevel::Detail) return backend;
  auto helperStore = c10::make_intrusive<c10d::PrefixStore>("pg_wrapper:" + name, backendStore);
  auto helper = c10::make_intrusive<c10d::ProcessGroupGloo>(helperStore, rank, size, glooOptions(timeout));
  return c10::make_intrusive<c10d::ProcessGroupWrapper>(backend, helper);
}
#endif

// distNewGroup(store, rank, size, backend, timeoutMs, groupName, globalRanks[], groupDesc) -> [group, group store]
// As Python's _new_process_group_helper: ProcessGroup(PrefixStore("<name>/", store)) with the backend on
// PrefixStore("<device>/", that) registered for every device the backend serves. Gloo connects its full mesh here
// (blocking until every rank has arrived, or the timeout).
Napi::Value distNewGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& store = storeArg(info, 0);
  int rank = intArg(info, 1, "rank");
  int size = intArg(info, 2, "size");
  std::string backend = stringArg(info, 3, "backend");
  auto timeout = millisArg(info, 4, "timeout");
  std::string name = stringArg(info, 5, "groupName");
  std::vector<int64_t> ranks64 = int64ListArg(info, 6, "globalRanks");
  std::string desc = stringArg(info, 7, "groupDesc");
  if (size <= 0) throwRange("world size must be positive");
  if (rank < 0 || rank >= size) throwRange("rank " + std::to_string(rank) + " is out of range for a group of " + std::to_string(size));
  std::vector<uint64_t> ranks(ranks64.begin(), ranks64.end());
  // TORCH_DISTRIBUTED_DEBUG (OFF, INFO, DETAIL), read as Python reads it; the Reducer consults it too.
  c10d::setDebugLevelFromEnvironment();

  auto prefixStore = c10::make_intrusive<c10d::PrefixStore>(name + "/", store);
  auto pg = c10::make_intrusive<c10d::ProcessGroup>(prefixStore, rank, size);
  if (backend == "gloo") {
#ifdef USE_C10D_GLOO
    auto opts = glooOptions(timeout);
    opts->global_ranks_in_group = ranks;
    opts->group_name = name;
    auto backendStore = c10::make_intrusive<c10d::PrefixStore>("cpu/", prefixStore);
    auto gloo = maybeWrapped(c10::make_intrusive<c10d::ProcessGroupGloo>(backendStore, rank, size, opts), backendStore, name, rank, size, timeout);
    pg->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
    pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
    pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO, gloo);
#else
    throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                     "Distributed package doesn't have Gloo built in (this libtorch was built without it)");
#endif
  } else if (backend == "nccl") {
#ifdef USE_C10D_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create(false);
    opts->timeout = timeout;
    opts->global_ranks_in_group = ranks;
    opts->group_name = name;
    auto backendStore = c10::make_intrusive<c10d::PrefixStore>("cuda/", prefixStore);
    c10::intrusive_ptr<c10d::Backend> nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(backendStore, rank, size, opts);
#ifdef USE_C10D_GLOO
    nccl = maybeWrapped(nccl, backendStore, name, rank, size, timeout);
#endif
    pg->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
    pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
#else
    throw c10::Error({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                     "Distributed package doesn't have NCCL built in (it needs a CUDA build of libtorch)");
#endif
  } else {
    throwRange("unknown backend '" + backend + "' (expected 'gloo' or 'nccl')");
  }
  pg->setGroupName(name);
  pg->setGroupDesc(desc);
  // The group's own store (PrefixStore("<name>/", store)): Python's pg_map entry, which new groups are made under.
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, insert(env, distState(env).groups, pg));
  out.Set(1u, insert<c10d::Store>(env, distState(env).stores, prefixStore));
  return out;
}

// distGroupInfo(group) -> [rank, size, backend name]
Napi::Value distGroupInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& pg = groupArg(info, 0);
  auto out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, pg->getRank()));
  out.Set(1u, Napi::Number::New(env, pg->getSize()));
  out.Set(2u, Napi::String::New(env, pg->getBackendName()));
  return out;
}

// distDestroyGroup(group): shuts its backends down and drops the group (Python's destroy_process_group).
Napi::Value distDestroyGroup(const Napi::CallbackInfo& info) {
  auto& table = distState(info.Env()).groups;
  int64_t h = int64Arg(info, 0, "process group");
  if (h < 0 || h >= static_cast<int64_t>(table.size()) || !table[h]) return info.Env().Undefined();
  auto pg = std::move(table[h]);
  table[h].reset();
  pg->shutdown();
  return info.Env().Undefined();
}

}  // namespace

void initDistributed(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "distCapabilities", distCapabilities);
  exportGuarded(env, exports, "distTcpStore", distTcpStore);
  exportGuarded(env, exports, "distTcpStorePort", distTcpStorePort);
  exportGuarded(env, exports, "distFileStore", distFileStore);
  exportGuarded(env, exports, "distPrefixStore", distPrefixStore);
  exportGuarded(env, exports, "distStoreOp", distStoreOp);
  exportGuarded(env, exports, "distNewGroup", distNewGroup);
  exportGuarded(env, exports, "distGroupInfo", distGroupInfo);
  exportGuarded(env, exports, "distDestroyGroup", distDestroyGroup);
}

#else  // no c10d in this libtorch

void initDistributed(Napi::Env env, Napi::Object exports) {
  exportGuarded(env, exports, "distCapabilities", [](const Napi::CallbackInfo& info) -> Napi::Value {
    return info.Env().Undefined();  // torch.distributed.isAvailable() is false
  });
}

#endif

}  // namespace torchkd
