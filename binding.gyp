{
  "targets": [
    {
      "target_name": "iobench",
      "sources": ["native/iobench.c", "native/napi-args.c", "native/port.c", "native/ring.c", "native/uring-client.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "iobench-guard",
      "type": "executable",
      "sources": ["native/guard.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    },
    {
      "target_name": "iobench-tree",
      "type": "executable",
      "sources": ["native/tree.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
