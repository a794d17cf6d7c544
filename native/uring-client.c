/*
 * A batched io_uring for ONE thread: the load client's uring engine
 * (clients/uring-engine.ts). Unlike the process-wide "port" in iobench.c,
 * which mirrors an IOCP and is shared by many threads, this ring belongs to
 * the thread that created it (IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN), so
 * completions are worked only inside its own io_uring_enter, with no lock
 * and no interruption of the thread elsewhere.
 *
 * The point is the number of crossings: one Node-API call and one
 * io_uring_enter per batch carry every send, every re-arm and every buffer
 * hand-back the batch produced, submit them and wait for the next
 * completions, which come back in bulk in an Int32Array. A connected
 * session has one multishot recv armed for its whole life, reading into
 * buffers picked by the kernel from a provided-buffer ring, and a send
 * (MSG_WAITALL) reports only its failure, so a message usually costs one
 * SQE and one CQE and no syscall of its own.
 *
 * Memory the kernel reads or writes after a call returns (the send area and
 * the receive buffers) lives in ArrayBuffers that the ring holds strong
 * references to until uringClose: a backing store never moves, so the
 * pointers stay valid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <node_api.h>

#include "ring.h"
#include "uring-client.h"

#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif

/* Operation kinds, shared with clients/uring-engine.ts through `constants`. */
enum { UK_NONE = 0, UK_SEND = 1, UK_RECV = 2, UK_POLLOUT = 3, UK_RECYCLE = 4 };
/* Int32 slots per op in the ops array and per completion in the out array. */
enum { OP_STRIDE = 6, CQE_STRIDE = 4 };
/* The provided-buffer group every multishot recv picks from. */
#define BUF_GROUP 0

struct uring {
  struct ring r;
  bool closed;
  /* Provided buffers: bufs[i] is recv_area + i * buf_size. */
  struct io_uring_buf_ring *br;
  size_t br_size;
  unsigned buf_count, buf_mask, buf_size;
  uint16_t br_tail;
  uint8_t *recv_area, *send_area;
  size_t send_len;
  napi_ref recv_ref, send_ref;
};

static int sys_register(int fd, unsigned op, void *arg, unsigned n) {
  long r = syscall(__NR_io_uring_register, fd, op, arg, n);
  return r < 0 ? -errno : (int)r;
}

static napi_value i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/* Unmaps and closes; the kernel cancels whatever is still in flight. */
static void uring_release(napi_env env, struct uring *u) {
  if (u->closed) return;
  u->closed = true;
  ring_close(&u->r); /* first: the ring holds the buffers until its requests are gone */
  if (u->br != NULL) munmap(u->br, u->br_size);
  if (u->recv_ref != NULL) napi_delete_reference(env, u->recv_ref);
  if (u->send_ref != NULL) napi_delete_reference(env, u->send_ref);
  u->recv_ref = u->send_ref = NULL;
}

static void uring_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  struct uring *u = data;
  uring_release(env, u);
  free(u);
}

/* Creates the ring: the strongest setup flags first, older kernels' after. */
static int uring_open_ring(struct uring *u, unsigned entries, unsigned cq_entries) {
  const unsigned base = IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  const unsigned tries[3] = {base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
                             base | IORING_SETUP_COOP_TASKRUN, base};
  return ring_open(&u->r, entries, cq_entries, tries, 3, IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP | IORING_FEAT_CQE_SKIP);
}

/* Registers the provided-buffer ring and hands every buffer to the kernel. */
static int buffers_open(struct uring *u) {
  u->br_size = (size_t)u->buf_count * sizeof(struct io_uring_buf);
  void *br = mmap(NULL, u->br_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (br == MAP_FAILED) return -errno;
  u->br = br;
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)br;
  reg.ring_entries = u->buf_count;
  reg.bgid = BUF_GROUP;
  int r = sys_register(u->r.fd, IORING_REGISTER_PBUF_RING, &reg, 1);
  if (r < 0) return r;
  u->buf_mask = u->buf_count - 1;
  for (unsigned i = 0; i < u->buf_count; i++) {
    struct io_uring_buf *b = &u->br->bufs[i];
    b->addr = (uint64_t)(uintptr_t)(u->recv_area + (size_t)i * u->buf_size);
    b->len = u->buf_size;
    b->bid = (uint16_t)i;
  }
  u->br_tail = (uint16_t)u->buf_count;
  __atomic_store_n(&u->br->tail, u->br_tail, __ATOMIC_RELEASE);
  return 0;
}

/* A typed array of the wanted type: its data and length (elements), or false after throwing. */
static bool typed_arg(napi_env env, napi_value v, napi_typedarray_type want, const char *what, void **data, size_t *len) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) == napi_ok && type == want) return true;
  char msg[80];
  snprintf(msg, sizeof msg, "%s must be a%s", what, want == napi_int32_array ? "n Int32Array" : " Uint8Array");
  napi_throw_type_error(env, NULL, msg);
  return false;
}

/* The Uint8Array's bytes, and a strong reference that keeps them alive. */
static bool area_arg(napi_env env, napi_value v, const char *name, uint8_t **ptr, size_t *len, napi_ref *ref) {
  return typed_arg(env, v, napi_uint8_array, name, (void **)ptr, len) && napi_create_reference(env, v, 1, ref) == napi_ok;
}

/* uringCreate(entries, cqEntries, recvArea, bufSize, bufCount, sendArea) -> ring | -errno */
static napi_value js_uringCreate(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc = 6;
  int32_t entries, cq, buf_size, buf_count;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (napi_get_value_int32(env, argv[0], &entries) != napi_ok || napi_get_value_int32(env, argv[1], &cq) != napi_ok ||
      napi_get_value_int32(env, argv[3], &buf_size) != napi_ok ||
      napi_get_value_int32(env, argv[4], &buf_count) != napi_ok) {
    napi_throw_type_error(env, NULL, "uringCreate: entries, cqEntries, bufSize and bufCount must be numbers");
    return NULL;
  }
  if (entries < 1 || cq < entries || buf_size < 1 || buf_count < 1 || buf_count > 32768 ||
      (buf_count & (buf_count - 1)) != 0) {
    napi_throw_range_error(env, NULL,
                           "uringCreate: need entries >= 1, cqEntries >= entries, bufSize >= 1 and bufCount a power "
                           "of two up to 32768");
    return NULL;
  }
  struct uring *u = calloc(1, sizeof *u);
  if (u == NULL) return i32(env, -ENOMEM);
  u->r.fd = -1;
  size_t recv_len;
  if (!area_arg(env, argv[2], "recvArea", &u->recv_area, &recv_len, &u->recv_ref) ||
      !area_arg(env, argv[5], "sendArea", &u->send_area, &u->send_len, &u->send_ref)) {
    uring_finalize(env, u, NULL);
    return NULL;
  }
  if (recv_len < (size_t)buf_size * (size_t)buf_count) {
    uring_finalize(env, u, NULL);
    napi_throw_range_error(env, NULL, "uringCreate: recvArea is shorter than bufSize * bufCount");
    return NULL;
  }
  u->buf_size = (unsigned)buf_size;
  u->buf_count = (unsigned)buf_count;
  int r = uring_open_ring(u, (unsigned)entries, (unsigned)cq);
  if (r == 0) r = buffers_open(u);
  if (r < 0) {
    uring_finalize(env, u, NULL);
    return i32(env, r);
  }
  napi_value ext;
  if (napi_create_external(env, u, uring_finalize, NULL, &ext) != napi_ok) {
    uring_finalize(env, u, NULL);
    return NULL;
  }
  return ext;
}

static struct uring *ring_arg(napi_env env, napi_value v) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "ring must be a handle from uringCreate");
    return NULL;
  }
  return data;
}

static uint64_t tag(int32_t kind, int32_t key, int32_t gen) {
  return ((uint64_t)(uint32_t)kind << 48) | ((uint64_t)(uint16_t)gen << 32) | (uint32_t)key;
}

/* True when every op is well formed: a bad one refuses the whole batch, before anything is posted. */
static bool ops_valid(const struct uring *u, const int32_t *ops, int n) {
  for (int i = 0; i < n; i++) {
    const int32_t *op = ops + OP_STRIDE * i;
    int32_t kind = op[0], off = op[4], len = op[5];
    if (kind == UK_RECYCLE && (off < 0 || (unsigned)off >= u->buf_count)) return false;
    if (kind == UK_SEND && (off < 0 || len < 0 || (size_t)off + (size_t)len > u->send_len)) return false;
    if (kind < UK_NONE || kind > UK_RECYCLE) return false;
  }
  return true;
}

/* Turns the ops array into SQEs (and buffer hand-backs). 0 or -errno (-EINVAL: a bad op, nothing posted). */
static int post_ops(struct uring *u, const int32_t *ops, int n) {
  if (!ops_valid(u, ops, n)) return -EINVAL;
  bool recycled = false;
  int err = 0;
  for (int i = 0; i < n; i++) {
    const int32_t *op = ops + OP_STRIDE * i;
    int32_t kind = op[0], fd = op[1], key = op[2], gen = op[3], off = op[4], len = op[5];
    if (kind == UK_NONE) continue;
    if (kind == UK_RECYCLE) {
      struct io_uring_buf *b = &u->br->bufs[u->br_tail & u->buf_mask];
      b->addr = (uint64_t)(uintptr_t)(u->recv_area + (size_t)off * u->buf_size);
      b->len = u->buf_size;
      b->bid = (uint16_t)off;
      u->br_tail++;
      recycled = true;
      continue;
    }
    struct io_uring_sqe *sqe = ring_sqe(&u->r, &err);
    if (sqe == NULL) return err;
    sqe->fd = fd;
    sqe->user_data = tag(kind, key, gen);
    if (kind == UK_SEND) {
      sqe->opcode = IORING_OP_SEND;
      sqe->addr = (uint64_t)(uintptr_t)(u->send_area + off);
      sqe->len = (uint32_t)len;
      /* WAITALL: the kernel sends every byte or fails, so success needs no CQE. */
      sqe->msg_flags = MSG_NOSIGNAL | MSG_WAITALL;
      sqe->flags = IOSQE_CQE_SKIP_SUCCESS;
    } else if (kind == UK_RECV) {
      /* Armed once per connection; the kernel picks a buffer per completion. */
      sqe->opcode = IORING_OP_RECV;
      sqe->ioprio = IORING_RECV_MULTISHOT | IORING_RECVSEND_POLL_FIRST;
      sqe->flags = IOSQE_BUFFER_SELECT;
      sqe->buf_group = BUF_GROUP;
    } else {
      sqe->opcode = IORING_OP_POLL_ADD;
      sqe->poll32_events = POLLOUT | POLLERR | POLLHUP;
    }
  }
  if (recycled) __atomic_store_n(&u->br->tail, u->br_tail, __ATOMIC_RELEASE);
  ring_publish(&u->r);
  return 0;
}

/* Copies up to max CQEs into out as (key, kind << 16 | gen, res, flags). */
static int reap(struct uring *u, int32_t *out, int max) {
  unsigned head = *u->r.kcq_head;
  unsigned tail = __atomic_load_n(u->r.kcq_tail, __ATOMIC_ACQUIRE);
  int n = 0;
  for (; head != tail && n < max; head++, n++) {
    const struct io_uring_cqe *c = &u->r.cqes[head & u->r.cq_mask];
    int32_t *o = out + CQE_STRIDE * n;
    o[0] = (int32_t)(uint32_t)c->user_data;
    o[1] = (int32_t)((c->user_data >> 48) << 16 | ((c->user_data >> 32) & 0xffff));
    o[2] = c->res;
    o[3] = (int32_t)c->flags;
  }
  ring_cq_release(&u->r, head);
  return n;
}

/*
 * uringEnter(ring, ops, nOps, out, maxOut, timeoutMs) -> completions | -errno
 * Posts nOps ops, submits them, and waits up to timeoutMs (fractional; 0 = not at all)
 * for at least one completion; then copies up to maxOut completions to out.
 */
static napi_value js_uringEnter(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc = 6, ops_len, out_len;
  int32_t n_ops, max_out, *ops, *out;
  double timeout_ms;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct uring *u = ring_arg(env, argv[0]);
  if (u == NULL || !typed_arg(env, argv[1], napi_int32_array, "ops", (void **)&ops, &ops_len) ||
      !typed_arg(env, argv[3], napi_int32_array, "out", (void **)&out, &out_len))
    return NULL;
  if (napi_get_value_int32(env, argv[2], &n_ops) != napi_ok || napi_get_value_int32(env, argv[4], &max_out) != napi_ok ||
      napi_get_value_double(env, argv[5], &timeout_ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "uringEnter: nOps, maxOut and timeoutMs must be numbers");
    return NULL;
  }
  if (n_ops < 0 || (size_t)n_ops * OP_STRIDE > ops_len || max_out < 1 || (size_t)max_out * CQE_STRIDE > out_len) {
    napi_throw_range_error(env, NULL, "uringEnter: nOps or maxOut does not fit its array");
    return NULL;
  }
  if (u->closed) return i32(env, -EBADF);
  int r = post_ops(u, ops, n_ops);
  if (r < 0) return i32(env, r);
  unsigned pending = u->r.sq_tail - __atomic_load_n(u->r.ksq_head, __ATOMIC_ACQUIRE);
  /* Completions already waiting need no sleep, but the enter still submits and runs the deferred work. */
  bool ready = ring_cq_ready(&u->r) > 0;
  /* To the µs, not the ms: an open loop's send times are timers, and a whole-ms wait would send up to 1 ms late. */
  long long timeout_ns = timeout_ms > 0 ? (long long)(timeout_ms * 1e6) : 0;
  struct __kernel_timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
  struct io_uring_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&ts};
  unsigned min = timeout_ms > 0 && !ready ? 1 : 0;
  r = ring_enter(u->r.fd, pending, min, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) return i32(env, r);
  return i32(env, reap(u, out, max_out));
}

/*
 * uringCancel(ring, kind, key, gen) -> cancelled | -errno: every request of
 * that kind for (key, gen) ends (its completion, -ECANCELED, follows) before
 * it returns. Matched by user data, which the kernel hashes: cancelling by
 * fd instead would walk every request in flight, O(sessions) per call.
 */
static napi_value js_uringCancel(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  int32_t kind, key, gen;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct uring *u = ring_arg(env, argv[0]);
  if (u == NULL) return NULL;
  if (napi_get_value_int32(env, argv[1], &kind) != napi_ok || napi_get_value_int32(env, argv[2], &key) != napi_ok ||
      napi_get_value_int32(env, argv[3], &gen) != napi_ok) {
    napi_throw_type_error(env, NULL, "uringCancel: kind, key and gen must be numbers");
    return NULL;
  }
  if (u->closed) return i32(env, -EBADF);
  /* A request still in the SQ would escape the cancel: submit it first. */
  int r = ring_submit(&u->r);
  if (r < 0) return i32(env, r);
  struct io_uring_sync_cancel_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.addr = tag(kind, key, gen);
  reg.flags = IORING_ASYNC_CANCEL_ALL;
  reg.timeout.tv_sec = -1;
  reg.timeout.tv_nsec = -1;
  r = sys_register(u->r.fd, IORING_REGISTER_SYNC_CANCEL, &reg, 1);
  return i32(env, r == -ENOENT ? 0 : r);
}

/* uringClose(ring) -> 0 | -EBADF: cancels everything in flight and frees the ring. */
static napi_value js_uringClose(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  struct uring *u = ring_arg(env, argv[0]);
  if (u == NULL) return NULL;
  if (u->closed) return i32(env, -EBADF);
  uring_release(env, u);
  return i32(env, 0);
}

void uring_client_register(napi_env env, napi_value exports, napi_value constants) {
  napi_property_descriptor props[] = {
      {"uringCreate", NULL, js_uringCreate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringEnter", NULL, js_uringEnter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringCancel", NULL, js_uringCancel, NULL, NULL, NULL, napi_enumerable, NULL},
      {"uringClose", NULL, js_uringClose, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  static const struct {
    const char *name;
    int32_t value;
  } k[] = {{"UK_NONE", UK_NONE},           {"UK_SEND", UK_SEND},           {"UK_RECV", UK_RECV},
           {"UK_POLLOUT", UK_POLLOUT},     {"UK_RECYCLE", UK_RECYCLE},
           {"UK_OP_STRIDE", OP_STRIDE},    {"UK_CQE_STRIDE", CQE_STRIDE},
           {"IORING_CQE_F_BUFFER", IORING_CQE_F_BUFFER}, {"IORING_CQE_F_MORE", IORING_CQE_F_MORE},
           {"ENOBUFS", ENOBUFS}};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) napi_set_named_property(env, constants, k[i].name, i32(env, k[i].value));
}
