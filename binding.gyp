# node-gyp build: used by `npm run build:native`, by the release prebuilds (`npm run release:prebuilds`) and by the install fallback.
# Sources come from scripts/native-sources.json and libtorch flags from lib/libtorch.js, as in CMakeLists.txt.
{
  "variables": {
    # 1 or 0; gyp reads a numeric string as a number, so the condition below compares with 1, not '1'.
    "torchkd_cuda%": "<!(node lib/libtorch.js --gyp cuda)"
  },
  "targets": [
    {
      "target_name": "torchkd_preload",
      "sources": ["<!@(node scripts/native-sources.js preload)"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "torchkd",
      "sources": ["<!@(node scripts/native-sources.js cpp)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(node lib/libtorch.js --gyp include_dirs)"
      ],
      "defines": [
        "NAPI_EXPERIMENTAL",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "<!@(node lib/libtorch.js --gyp defines)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-frtti", "-O3", "-fopenmp-simd", "-Wno-unused-parameter", "-Wno-deprecated-declarations",
                    "<!@(node lib/libtorch.js --gyp openmp)"],
      "ldflags": ["<!@(node lib/libtorch.js --gyp openmp)"],
      "libraries": ["<!@(node lib/libtorch.js --gyp libraries)"],
      "conditions": [
        ["torchkd_cuda==1", {
          "sources": ["<!@(node scripts/native-sources.js cuda_glue)", "<!@(node scripts/native-sources.js cuda)"],
          "include_dirs": ["<!@(node lib/libtorch.js --gyp cuda_include)"],
          "rules": [{
            "rule_name": "nvcc",
            "extension": "cu",
            "inputs": ["<(RULE_INPUT_PATH)"],
            "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).cu.o"],
            "action": ["node", "scripts/nvcc.js", "<(RULE_INPUT_PATH)", "<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).cu.o"],
            "message": "nvcc <(RULE_INPUT_PATH)",
            "process_outputs_as_sources": 1
          }]
        }]
      ]
    }
  ]
}
