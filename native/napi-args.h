/*
 * What every Node-API function of the addon needs: its arguments checked
 * (a mistake throws TypeError or RangeError naming the argument) and int32
 * results. Shared by iobench.c (sockets, epoll) and port.c (the completion port).
 */
#ifndef IOBENCH_NAPI_ARGS_H
#define IOBENCH_NAPI_ARGS_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

napi_value ret_i32(napi_env env, int32_t v);
int neg_errno(void);
/* Throws RangeError (range) or TypeError with fmt formatted from a and b. */
void throw_fmt(napi_env env, bool range, const char *fmt, const char *a, double b);
/* Reads up to n arguments; missing ones are `undefined` and fail later. */
bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv);
bool arg_i32(napi_env env, napi_value v, const char *name, int32_t *out);
bool arg_bool(napi_env env, napi_value v, const char *name, bool *out);
bool arg_double(napi_env env, napi_value v, const char *name, double *out);
/* argv[0..2] = (buf, off, len): buf[off, off+len) of a Uint8Array; with shared, a view on a SharedArrayBuffer. */
bool arg_bytes(napi_env env, napi_value *argv, bool shared, uint8_t **ptr, size_t *len);
/* An Int32Array of at least `need` elements. */
bool arg_int32_array(napi_env env, napi_value v, size_t need, int32_t **out);

#endif
