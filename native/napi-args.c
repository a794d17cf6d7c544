/* Argument checking and results for the addon's Node-API functions: see napi-args.h. */
#define _GNU_SOURCE
#include "napi-args.h"

#include <errno.h>
#include <stdio.h>

napi_value ret_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

int neg_errno(void) { return -errno; }

void throw_fmt(napi_env env, bool range, const char *fmt, const char *a, double b) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, a, b);
  if (range)
    napi_throw_range_error(env, NULL, msg);
  else
    napi_throw_type_error(env, NULL, msg);
}

/* Reads up to n arguments; missing ones are `undefined` and fail later. */
bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok;
}

bool arg_i32(napi_env env, napi_value v, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, v, out) == napi_ok) return true;
  throw_fmt(env, false, "%s must be a number", name, 0);
  return false;
}

bool arg_bool(napi_env env, napi_value v, const char *name, bool *out) {
  if (napi_get_value_bool(env, v, out) == napi_ok) return true;
  throw_fmt(env, false, "%s must be a boolean", name, 0);
  return false;
}

bool arg_double(napi_env env, napi_value v, const char *name, double *out) {
  if (napi_get_value_double(env, v, out) == napi_ok) return true;
  throw_fmt(env, false, "%s must be a number", name, 0);
  return false;
}

/*
 * buf[off, off+len) of a Uint8Array. With shared, the array must be a view on
 * a SharedArrayBuffer: its memory never moves and is not freed while the
 * caller holds it, which io_uring needs until the completion is dequeued.
 * (napi_is_arraybuffer answers false for a SharedArrayBuffer, and a typed
 * array's buffer is one or the other.)
 */
bool arg_bytes(napi_env env, napi_value *argv, bool shared, uint8_t **ptr, size_t *len) {
  napi_typedarray_type type;
  size_t length, off;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, shared ? &ab : NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    throw_fmt(env, false, "%s must be a Uint8Array", "buf", 0);
    return false;
  }
  double d_off, d_len;
  if (!arg_double(env, argv[1], "off", &d_off) || !arg_double(env, argv[2], "len", &d_len)) return false;
  /* The negated test also rejects NaN; the casts drop fractions, caught by the compare. */
  if (!(d_off >= 0 && d_len >= 0 && d_off <= (double)length && d_len <= (double)length - d_off) ||
      d_off != (double)(size_t)d_off || d_len != (double)(size_t)d_len) {
    char msg[160];
    snprintf(msg, sizeof msg, "buffer range off=%g len=%g is outside the Uint8Array of length %zu", d_off, d_len,
             length);
    napi_throw_range_error(env, NULL, msg);
    return false;
  }
  off = (size_t)d_off;
  *len = (size_t)d_len;
  if (*len > INT32_MAX) *len = INT32_MAX; /* the result is an int32 byte count */
  if (shared) {
    bool plain = true;
    if (napi_is_arraybuffer(env, ab, &plain) != napi_ok || plain) {
      throw_fmt(env, false, "%s must be a view on a SharedArrayBuffer (its memory is used after the call returns)",
                "buf", 0);
      return false;
    }
  }
  *ptr = (uint8_t *)data + off;
  return true;
}

bool arg_int32_array(napi_env env, napi_value v, size_t need, int32_t **out) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    throw_fmt(env, false, "%s must be an Int32Array", "out", 0);
    return false;
  }
  if (length < need) {
    throw_fmt(env, true, "%s is too short: it needs %.0f elements", "out", (double)need);
    return false;
  }
  *out = data;
  return true;
}
