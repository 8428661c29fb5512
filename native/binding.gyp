{
  "targets": [{
    "target_name": "advdyn",
    "sources": ["src/engine.cc", "src/ops.cc", "src/allocator.cc"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17"],
    "cflags_cc": ["<!@(node find-libtorch.mjs --cflags)"],
    "ldflags": ["<!@(node find-libtorch.mjs --ldflags)"],
    "defines": ["NAPI_VERSION=8"]
  }]
}
