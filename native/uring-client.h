/* The per-thread batched io_uring of the load client (uring-client.c). */
#ifndef IOBENCH_URING_CLIENT_H
#define IOBENCH_URING_CLIENT_H
#include <node_api.h>

/* Adds uringCreate/Enter/Cancel/Close to exports and their UK_* constants to constants (not yet frozen). */
void uring_client_register(napi_env env, napi_value exports, napi_value constants);

#endif
