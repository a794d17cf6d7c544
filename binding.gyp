{
  "targets": [
    {
      "target_name": "iobench",
      "sources": ["servers/native/iobench.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
