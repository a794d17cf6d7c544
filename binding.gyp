{
  "targets": [
    {
      "target_name": "iobench",
      "sources": ["servers/native/iobench.c", "servers/native/uring-client.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
