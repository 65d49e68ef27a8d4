/*
 * torchkd_preload: a tiny addon with no libtorch dependency that makes libtorch resolvable before the main addon loads.
 *
 * The main addon lists libc10/libtorch_cpu/libtorch(_cuda) as needed libraries. A prebuilt binary cannot know where
 * the user's libtorch lives, so lib/loader.ts asks discovery for the paths and this addon dlopen()s them with
 * RTLD_GLOBAL: the dynamic linker then satisfies the main addon's needs from the already-loaded copies (matched by
 * soname), with no LD_LIBRARY_PATH.
 */
#include <dlfcn.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

static napi_value preload(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) {
    napi_throw_type_error(env, NULL, "preload(path) expects a library path");
    return NULL;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "preload(path) expects a string");
    return NULL;
  }
  char* path = malloc(len + 1);
  if (!path) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], path, len + 1, &len);
  void* handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  free(path);
  if (!handle) {
    const char* err = dlerror();
    napi_throw_error(env, "ERR_TORCHKD_PRELOAD", err ? err : "dlopen failed");
    return NULL;
  }
  /* The handle is kept open for the life of the process on purpose. */
  napi_value result;
  napi_get_boolean(env, 1, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "preload", NAPI_AUTO_LENGTH, preload, NULL, &fn);
  napi_set_named_property(env, exports, "preload", fn);
  return exports;
}
