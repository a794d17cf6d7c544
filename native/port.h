/* The completion port (port.c): IOCP semantics over one io_uring shared by the process's threads. */
#ifndef IOBENCH_PORT_H
#define IOBENCH_PORT_H
#include <node_api.h>

/* Adds the port* functions to exports and their OP_* and PORT_WAKE_* constants to constants (not yet frozen). */
void port_register(napi_env env, napi_value exports, napi_value constants);

#endif
