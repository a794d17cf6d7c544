/*
 * iobench native addon: the system calls Node.js cannot make by itself
 * (blocking sockets, epoll, an io_uring "completion port"), over Node-API.
 * The contract is native/index.ts; this file only implements it.
 *
 * Conventions: failures return -errno; argument mistakes throw TypeError or
 * RangeError. Hot paths (recv/send/epollWait/port*) allocate nothing and
 * create no strings: int32 in, int32 out.
 *
 * EINTR: recv, send and accept retry inside the call (they are restartable
 * and callers want the blocking semantics); epollWait returns -EINTR (its
 * timeout would otherwise need re-computing; callers loop anyway); a
 * blocking connect interrupted by a signal waits for the connection with
 * poll() because connect() itself cannot be restarted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "parent-death.h"

#include <node_api.h>

#include "uring-client.h"

/* ---- io_uring ABI bits an older system header may lack ------------------- */
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef IORING_SETUP_CLAMP
#define IORING_SETUP_CLAMP (1U << 4)
#endif
#ifndef IORING_SETUP_CQSIZE
#define IORING_SETUP_CQSIZE (1U << 3)
#endif
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_FEAT_SINGLE_MMAP
#define IORING_FEAT_SINGLE_MMAP (1U << 0)
#endif
#ifndef IORING_FEAT_EXT_ARG
#define IORING_FEAT_EXT_ARG (1U << 8)
#endif
#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS (1U << 0)
#endif
#ifndef IORING_SQ_CQ_OVERFLOW
#define IORING_SQ_CQ_OVERFLOW (1U << 1)
#endif
#ifndef IORING_ENTER_EXT_ARG
#define IORING_ENTER_EXT_ARG (1U << 3)
#endif

/* Same layout as the kernel's struct io_uring_getevents_arg (5.11+), declared
 * here so the build does not depend on the header's age. */
struct iob_getevents_arg {
  uint64_t sigmask;
  uint32_t sigmask_sz;
  uint32_t pad;
  uint64_t ts;
};

/* Operation kinds reported by portDequeue (user_data bits 32..63). */
enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3, OP_USER = 4, OP_CLOSE = 0x7fff };

/* ---- small Node-API helpers ------------------------------------------------ */

static napi_value ret_i32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static int neg_errno(void) { return -errno; }

static void throw_fmt(napi_env env, bool range, const char *fmt, const char *a, double b) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, a, b);
  if (range)
    napi_throw_range_error(env, NULL, msg);
  else
    napi_throw_type_error(env, NULL, msg);
}

/* Reads up to n arguments; missing ones are `undefined` and fail later. */
static bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok;
}

static bool arg_i32(napi_env env, napi_value v, const char *name, int32_t *out) {
  if (napi_get_value_int32(env, v, out) == napi_ok) return true;
  throw_fmt(env, false, "%s must be a number", name, 0);
  return false;
}

static bool arg_bool(napi_env env, napi_value v, const char *name, bool *out) {
  if (napi_get_value_bool(env, v, out) == napi_ok) return true;
  throw_fmt(env, false, "%s must be a boolean", name, 0);
  return false;
}

static bool arg_double(napi_env env, napi_value v, const char *name, double *out) {
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
static bool arg_bytes(napi_env env, napi_value *argv, bool shared, uint8_t **ptr, size_t *len) {
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

static bool arg_int32_array(napi_env env, napi_value v, size_t need, int32_t **out) {
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

/* ---- errors and process ------------------------------------------------------- */

static const char *errno_name(int e) {
#define E(x) \
  case x:    \
    return #x;
  switch (e) {
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM)
    E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE)
    E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK)
    E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(ENODATA) E(ETIME) E(EPROTO)
    E(EOVERFLOW) E(EBADFD) E(EILSEQ) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
    E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EPFNOSUPPORT) E(EAFNOSUPPORT) E(EADDRINUSE)
    E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS)
    E(EISCONN) E(ENOTCONN) E(ESHUTDOWN) E(ETOOMANYREFS) E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN)
    E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ESTALE) E(EDQUOT) E(ECANCELED) E(EOWNERDEAD)
    E(ENOTRECOVERABLE)
    default:
      return NULL;
  }
#undef E
}

static napi_value js_errnoName(napi_env env, napi_callback_info info) {
  napi_value argv[1], r;
  int32_t e;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "errno", &e)) return NULL;
  const char *name = errno_name(e);
  char buf[24];
  if (name == NULL) {
    snprintf(buf, sizeof buf, "E%d", e);
    name = buf;
  }
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  (void)info;
  return ret_i32(env, (int32_t)syscall(SYS_gettid));
}

/* CPU time the calling thread has used, µs (CLOCK_THREAD_CPUTIME_ID): what a
 * `--work cpu:` spin measures, so preemption does not shorten the work. */
static napi_value js_threadCpuUs(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec ts;
  napi_value v;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  napi_create_double(env, (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3, &v);
  return v;
}

static napi_value js_setAffinity(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t tid;
  bool is_array = false;
  uint32_t n;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "tid", &tid)) return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    throw_fmt(env, false, "%s must be an array of CPU numbers", "cpus", 0);
    return NULL;
  }
  napi_get_array_length(env, argv[1], &n);
  cpu_set_t set;
  CPU_ZERO(&set);
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    int32_t cpu;
    if (napi_get_element(env, argv[1], i, &el) != napi_ok || !arg_i32(env, el, "cpus[i]", &cpu)) return NULL;
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      throw_fmt(env, true, "%s: CPU %.0f is out of range", "setAffinity", cpu);
      return NULL;
    }
    CPU_SET(cpu, &set);
  }
  return ret_i32(env, sched_setaffinity(tid, sizeof set, &set) == 0 ? 0 : neg_errno());
}

static napi_value js_getNofileLimit(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit rl;
  napi_value arr, v;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) rl.rlim_cur = rl.rlim_max = 0;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_double(env, rl.rlim_cur == RLIM_INFINITY ? __builtin_inf() : (double)rl.rlim_cur, &v);
  napi_set_element(env, arr, 0, v);
  napi_create_double(env, rl.rlim_max == RLIM_INFINITY ? __builtin_inf() : (double)rl.rlim_max, &v);
  napi_set_element(env, arr, 1, v);
  return arr;
}

/* dieWithParent(parentPid): see parent-death.h. */
static napi_value js_dieWithParent(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t parent;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &parent) != napi_ok || parent <= 0) {
    throw_fmt(env, false, "%s must be a pid", "parentPid", 0);
    return NULL;
  }
  return ret_i32(env, die_with_parent((pid_t)parent));
}

/* A soft limit above the hard one is lowered to the hard one (Infinity = "as high as allowed"). */
static napi_value js_setNofileLimit(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  double soft;
  struct rlimit rl;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_double(env, argv[0], &soft) != napi_ok) {
    throw_fmt(env, false, "%s must be a number", "soft", 0);
    return NULL;
  }
  if (!(soft >= 0)) {
    throw_fmt(env, true, "%s = %g must be >= 0", "soft", soft);
    return NULL;
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return ret_i32(env, neg_errno());
  if (rl.rlim_max != RLIM_INFINITY && soft >= (double)rl.rlim_max)
    rl.rlim_cur = rl.rlim_max;
  else
    rl.rlim_cur = soft >= 1.8e19 ? RLIM_INFINITY : (rlim_t)soft;
  return ret_i32(env, setrlimit(RLIMIT_NOFILE, &rl) == 0 ? 0 : neg_errno());
}

/* ---- sockets ---------------------------------------------------------------------- */

/* Numeric host + port into a sockaddr; false (after throwing) if the host is not numeric. */
static bool arg_sockaddr(napi_env env, napi_value hostv, napi_value portv, struct sockaddr_storage *ss,
                         socklen_t *sslen) {
  char host[64];
  size_t n;
  int32_t port;
  if (napi_get_value_string_utf8(env, hostv, host, sizeof host, &n) != napi_ok) {
    throw_fmt(env, false, "%s must be a string", "host", 0);
    return false;
  }
  if (!arg_i32(env, portv, "port", &port)) return false;
  if (port < 0 || port > 65535) {
    throw_fmt(env, true, "%s = %.0f is outside 0..65535", "port", port);
    return false;
  }
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *sslen = sizeof *a4;
    return true;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *sslen = sizeof *a6;
    return true;
  }
  throw_fmt(env, false, "host \"%s\" is not a numeric IPv4/IPv6 address", host, 0);
  return false;
}

/* Closes fd keeping errno, so error paths can return -errno of the real failure. */
static int close_keep_errno(int fd) {
  int e = errno;
  close(fd);
  errno = e;
  return -e;
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct sockaddr_storage ss;
  socklen_t sslen;
  int32_t backlog;
  int one = 1;
  if (!get_args(env, info, 3, argv) || !arg_sockaddr(env, argv[0], argv[1], &ss, &sslen) ||
      !arg_i32(env, argv[2], "backlog", &backlog))
    return NULL;
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ret_i32(env, neg_errno());
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 || bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
      listen(fd, backlog) != 0)
    return ret_i32(env, close_keep_errno(fd));
  return ret_i32(env, fd);
}

static napi_value js_localPort(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return ret_i32(env, neg_errno());
  if (ss.ss_family == AF_INET) return ret_i32(env, ntohs(((struct sockaddr_in *)&ss)->sin_port));
  if (ss.ss_family == AF_INET6) return ret_i32(env, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
  return ret_i32(env, -EAFNOSUPPORT);
}

static napi_value js_accept(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  bool nb;
  int r;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_bool(env, argv[1], "nonBlocking", &nb))
    return NULL;
  do r = accept4(fd, NULL, NULL, SOCK_CLOEXEC | (nb ? SOCK_NONBLOCK : 0));
  while (r < 0 && errno == EINTR);
  return ret_i32(env, r < 0 ? neg_errno() : r);
}

static int pending_socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return neg_errno();
  return -err;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct sockaddr_storage ss;
  socklen_t sslen;
  bool nb;
  if (!get_args(env, info, 3, argv) || !arg_sockaddr(env, argv[0], argv[1], &ss, &sslen) ||
      !arg_bool(env, argv[2], "nonBlocking", &nb))
    return NULL;
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nb ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return ret_i32(env, neg_errno());
  if (connect(fd, (struct sockaddr *)&ss, sslen) == 0) return ret_i32(env, fd);
  if (errno == EINPROGRESS && nb) return ret_i32(env, fd);
  if (errno != EINTR) return ret_i32(env, close_keep_errno(fd));
  /* A blocking connect interrupted by a signal goes on in the background:
   * wait for it to finish rather than call connect() again. */
  struct pollfd pfd = {.fd = fd, .events = POLLOUT};
  while (poll(&pfd, 1, -1) < 0)
    if (errno != EINTR) return ret_i32(env, close_keep_errno(fd));
  int err = pending_socket_error(fd);
  if (err != 0) {
    close(fd);
    return ret_i32(env, err);
  }
  return ret_i32(env, fd);
}

static napi_value js_socketError(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  return ret_i32(env, pending_socket_error(fd));
}

static napi_value js_recv(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd;
  uint8_t *p;
  size_t len;
  ssize_t r;
  if (!get_args(env, info, 4, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_bytes(env, argv + 1, false, &p, &len))
    return NULL;
  do r = recv(fd, p, len, 0);
  while (r < 0 && errno == EINTR);
  return ret_i32(env, r < 0 ? neg_errno() : (int32_t)r);
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd;
  uint8_t *p;
  size_t len;
  ssize_t r;
  if (!get_args(env, info, 4, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_bytes(env, argv + 1, false, &p, &len))
    return NULL;
  do r = send(fd, p, len, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return ret_i32(env, r < 0 ? neg_errno() : (int32_t)r);
}

static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, how;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "how", &how))
    return NULL;
  return ret_i32(env, shutdown(fd, how) == 0 ? 0 : neg_errno());
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  /* On Linux the descriptor is released even when close() reports EINTR, so
   * that is success: retrying could close a descriptor another thread just got. */
  if (close(fd) == 0 || errno == EINTR) return ret_i32(env, 0);
  return ret_i32(env, neg_errno());
}

static napi_value js_setNonBlocking(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  bool on;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_bool(env, argv[1], "on", &on))
    return NULL;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return ret_i32(env, neg_errno());
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  return ret_i32(env, fcntl(fd, F_SETFL, fl) == 0 ? 0 : neg_errno());
}

static napi_value js_setNoDelay(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  bool on;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_bool(env, argv[1], "on", &on))
    return NULL;
  int v = on ? 1 : 0;
  return ret_i32(env, setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) == 0 ? 0 : neg_errno());
}

static napi_value js_setLingerZero(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  return ret_i32(env, setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0 ? 0 : neg_errno());
}

/* A size of 0 leaves that buffer at the kernel's (auto-tuned) default. */
static napi_value js_setBufferSizes(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, rcv, snd;
  if (!get_args(env, info, 3, argv) || !arg_i32(env, argv[0], "fd", &fd) || !arg_i32(env, argv[1], "rcv", &rcv) ||
      !arg_i32(env, argv[2], "snd", &snd))
    return NULL;
  if (rcv < 0 || snd < 0) {
    throw_fmt(env, true, "%s: sizes must be >= 0 (got %.0f)", "setBufferSizes", rcv < 0 ? rcv : snd);
    return NULL;
  }
  if (rcv > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) != 0) return ret_i32(env, neg_errno());
  if (snd > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd) != 0) return ret_i32(env, neg_errno());
  return ret_i32(env, 0);
}

/* ---- wake-ups and send queues (the chat fan-out) ------------------------------------ */

/* SIOCOUTQ: bytes in the socket's send queue (unsent or unacknowledged). */
static napi_value js_sendQueued(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  int n = 0;
  return ret_i32(env, ioctl(fd, SIOCOUTQ, &n) == 0 ? n : neg_errno());
}

static napi_value js_eventfdCreate(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return ret_i32(env, fd < 0 ? neg_errno() : fd);
}

/* Adds 1 to the counter: a waiter in epoll sees the fd readable. */
static napi_value js_eventfdSignal(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  uint64_t one = 1;
  return ret_i32(env, write(fd, &one, sizeof one) == (ssize_t)sizeof one ? 0 : neg_errno());
}

/* Reads the counter back to 0: the count (capped at INT32_MAX), 0 if none, or -errno. */
static napi_value js_eventfdDrain(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "fd", &fd)) return NULL;
  uint64_t v = 0;
  if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) return ret_i32(env, errno == EAGAIN ? 0 : neg_errno());
  return ret_i32(env, v > INT32_MAX ? INT32_MAX : (int32_t)v);
}

/* ---- readiness: epoll ------------------------------------------------------------- */

static napi_value js_epollCreate(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return ret_i32(env, fd < 0 ? neg_errno() : fd);
}

static napi_value js_epollCtl(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int32_t epfd, op, fd, events, key;
  if (!get_args(env, info, 5, argv) || !arg_i32(env, argv[0], "epfd", &epfd) || !arg_i32(env, argv[1], "op", &op) ||
      !arg_i32(env, argv[2], "fd", &fd) || !arg_i32(env, argv[3], "events", &events) ||
      !arg_i32(env, argv[4], "key", &key))
    return NULL;
  struct epoll_event ev = {.events = (uint32_t)events, .data.u64 = (uint32_t)key};
  return ret_i32(env, epoll_ctl(epfd, op, fd, &ev) == 0 ? 0 : neg_errno());
}

/* Events per epoll_wait call, on the stack; a caller asking more gets at most this many. */
#define EPOLL_BATCH 512

static napi_value js_epollWait(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t epfd, max, timeout, *out;
  struct epoll_event evs[EPOLL_BATCH];
  if (!get_args(env, info, 4, argv) || !arg_i32(env, argv[0], "epfd", &epfd) ||
      !arg_i32(env, argv[2], "maxEvents", &max) || !arg_i32(env, argv[3], "timeoutMs", &timeout))
    return NULL;
  if (max < 1) {
    throw_fmt(env, true, "%s = %.0f must be >= 1", "maxEvents", max);
    return NULL;
  }
  if (!arg_int32_array(env, argv[1], 2 * (size_t)max, &out)) return NULL;
  int n = epoll_wait(epfd, evs, max < EPOLL_BATCH ? max : EPOLL_BATCH, timeout);
  if (n < 0) return ret_i32(env, neg_errno());
  for (int i = 0; i < n; i++) {
    out[2 * i] = (int32_t)evs[i].events;
    out[2 * i + 1] = (int32_t)(uint32_t)evs[i].data.u64;
  }
  return ret_i32(env, n);
}

/* ---- completion: a "port" over io_uring --------------------------------------------- */
/*
 * A port is one io_uring shared by every thread of the process, found by id
 * in a process-global table (the addon is loaded once per process, each
 * worker thread gets its own JS bindings to the same statics).
 *
 * Posting fills an SQE under the port mutex and does not enter the kernel;
 * a dequeue (or portSubmit, or a post that finds the SQ full) submits the
 * batch. Dequeue reaps under the same mutex, so each CQE goes to exactly one
 * caller, and waits outside it in io_uring_enter(GETEVENTS), which any number
 * of threads may do at once (all of them wake on a new CQE; one reaps it,
 * the others go back to waiting).
 *
 * Which thread owns an operation: the one that SUBMITS it (calls
 * io_uring_enter with it in the SQ), not necessarily the one that posted it.
 * A socket recv/send/accept that cannot complete at once arms a poll; when
 * the socket becomes ready the kernel finishes the operation as task_work
 * of the submitting thread. That thread is interrupted for it wherever it
 * is (no IORING_SETUP_COOP_TASKRUN, precisely so a submitter blocked in
 * accept() or idle in its event loop still completes the I/O promptly), and
 * the CQE then reaches whichever thread dequeues. If the submitting thread
 * exits, the kernel cancels its pending operations (-ECANCELED completions).
 *
 * Lifetime: a slot's refs counts the open port (1) plus every call inside
 * it; portClose marks it closed, wakes the waiters, and drops the port's own
 * reference; whoever drops the last one unmaps the ring and closes its fd.
 */

#define MAX_PORTS 256

struct port {
  int refs;   /* atomic; 0 = no port here (free or being torn down) */
  int id;     /* atomic; the id currently living in this slot */
  int closed; /* atomic; set once, under mu */
  int in_use; /* atomic; cleared when teardown is complete */
  pthread_mutex_t mu;
  int fd;
  unsigned sq_entries, sq_mask, cq_mask;
  unsigned sq_tail; /* our copy of the SQ tail (under mu) */
  unsigned *ksq_head, *ksq_tail, *ksq_flags, *kcq_head, *kcq_tail;
  struct io_uring_cqe *cqes;
  struct io_uring_sqe *sqes;
  void *ring;
  size_t ring_size, sqes_size;
};

static struct port g_ports[MAX_PORTS];
static pthread_mutex_t g_create_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_next_id; /* under g_create_mu; ids are not reused soon, so a stale id finds nothing */

static int uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, void *arg, size_t argsz) {
  long r = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
  return r < 0 ? neg_errno() : (int)r;
}

static void port_teardown(struct port *p) {
  munmap(p->sqes, p->sqes_size);
  munmap(p->ring, p->ring_size);
  close(p->fd);
  pthread_mutex_destroy(&p->mu);
  __atomic_store_n(&p->in_use, 0, __ATOMIC_RELEASE);
}

static void port_release(struct port *p) {
  if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) port_teardown(p);
}

/* Takes a reference on port id, or NULL if there is no such open port. */
static struct port *port_acquire(int32_t id) {
  if (id < 0) return NULL;
  struct port *p = &g_ports[id % MAX_PORTS];
  int r = __atomic_load_n(&p->refs, __ATOMIC_RELAXED);
  do {
    if (r == 0) return NULL;
  } while (!__atomic_compare_exchange_n(&p->refs, &r, r + 1, true, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
  if (__atomic_load_n(&p->id, __ATOMIC_RELAXED) != id || __atomic_load_n(&p->closed, __ATOMIC_ACQUIRE)) {
    port_release(p);
    return NULL;
  }
  return p;
}

/* Submits every SQE posted so far. Caller holds mu. 0 or -errno. */
static int port_submit_locked(struct port *p) {
  for (;;) {
    unsigned pending = p->sq_tail - __atomic_load_n(p->ksq_head, __ATOMIC_ACQUIRE);
    if (pending == 0) return 0;
    int r = uring_enter(p->fd, pending, 0, 0, NULL, 0);
    if (r == -EINTR) continue;
    if (r < 0) return r;
    if (r == 0) return -EAGAIN; /* the kernel took nothing: do not spin */
  }
}

/* A zeroed SQE at the tail, submitting first if the SQ is full. Caller holds mu. */
static int port_get_sqe(struct port *p, struct io_uring_sqe **out) {
  if (__atomic_load_n(&p->closed, __ATOMIC_RELAXED)) return -EBADF;
  if (p->sq_tail - __atomic_load_n(p->ksq_head, __ATOMIC_ACQUIRE) >= p->sq_entries) {
    int r = port_submit_locked(p);
    if (r < 0) return r;
  }
  struct io_uring_sqe *sqe = &p->sqes[p->sq_tail & p->sq_mask];
  memset(sqe, 0, sizeof *sqe);
  *out = sqe;
  return 0;
}

/* Publishes the SQE filled by port_get_sqe (the kernel reads the tail with acquire). */
static void port_push_sqe(struct port *p, struct io_uring_sqe *sqe, unsigned op, int32_t key) {
  sqe->user_data = ((uint64_t)op << 32) | (uint32_t)key;
  p->sq_tail++;
  __atomic_store_n(p->ksq_tail, p->sq_tail, __ATOMIC_RELEASE);
}

/* Takes up to max CQEs into out (key, op, result). Caller holds mu. */
static int port_reap_locked(struct port *p, int32_t *out, int max) {
  unsigned head = __atomic_load_n(p->kcq_head, __ATOMIC_RELAXED); /* only we write it */
  unsigned tail = __atomic_load_n(p->kcq_tail, __ATOMIC_ACQUIRE);
  int n = 0;
  while (head != tail && n < max) {
    const struct io_uring_cqe *cqe = &p->cqes[head & p->cq_mask];
    out[3 * n] = (int32_t)(uint32_t)cqe->user_data;
    out[3 * n + 1] = (int32_t)(cqe->user_data >> 32);
    out[3 * n + 2] = cqe->res;
    head++;
    n++;
  }
  __atomic_store_n(p->kcq_head, head, __ATOMIC_RELEASE);
  return n;
}

static int port_open(unsigned entries, struct port *p) {
  struct io_uring_params prm;
  unsigned cq = entries * 2 < 4096 ? 4096 : entries * 2; /* room for many completions in flight */
  int fd = -1;
  unsigned flags[2] = {IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
                       IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE}; /* SUBMIT_ALL needs 5.18 */
  for (int i = 0; i < 2 && fd < 0; i++) {
    memset(&prm, 0, sizeof prm);
    prm.flags = flags[i];
    prm.cq_entries = cq;
    fd = (int)syscall(__NR_io_uring_setup, entries, &prm);
    if (fd < 0 && errno != EINVAL) return neg_errno();
  }
  if (fd < 0) return neg_errno();
  if (!(prm.features & IORING_FEAT_SINGLE_MMAP) || !(prm.features & IORING_FEAT_EXT_ARG)) {
    close(fd);
    return -ENOSYS;
  }
  size_t sq_size = prm.sq_off.array + prm.sq_entries * sizeof(unsigned);
  size_t cq_size = prm.cq_off.cqes + prm.cq_entries * sizeof(struct io_uring_cqe);
  p->ring_size = sq_size > cq_size ? sq_size : cq_size;
  p->ring = mmap(NULL, p->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (p->ring == MAP_FAILED) return close_keep_errno(fd);
  p->sqes_size = prm.sq_entries * sizeof(struct io_uring_sqe);
  p->sqes = mmap(NULL, p->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (p->sqes == MAP_FAILED) {
    int e = errno;
    munmap(p->ring, p->ring_size);
    close(fd);
    return -e;
  }
  char *r = p->ring;
  p->fd = fd;
  p->sq_entries = prm.sq_entries;
  p->sq_mask = *(unsigned *)(r + prm.sq_off.ring_mask);
  p->cq_mask = *(unsigned *)(r + prm.cq_off.ring_mask);
  p->ksq_head = (unsigned *)(r + prm.sq_off.head);
  p->ksq_tail = (unsigned *)(r + prm.sq_off.tail);
  p->ksq_flags = (unsigned *)(r + prm.sq_off.flags);
  p->kcq_head = (unsigned *)(r + prm.cq_off.head);
  p->kcq_tail = (unsigned *)(r + prm.cq_off.tail);
  p->cqes = (struct io_uring_cqe *)(r + prm.cq_off.cqes);
  p->sq_tail = *p->ksq_tail;
  /* SQE slot i is always array entry i, so the indirection is set once. */
  unsigned *array = (unsigned *)(r + prm.sq_off.array);
  for (unsigned i = 0; i < prm.sq_entries; i++) array[i] = i;
  return 0;
}

static napi_value js_portCreate(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t entries;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "entries", &entries)) return NULL;
  if (entries < 1) {
    throw_fmt(env, true, "%s = %.0f must be >= 1", "entries", entries);
    return NULL;
  }
  if (entries > 32768) entries = 32768; /* the kernel's maximum; CLAMP would do the same */
  pthread_mutex_lock(&g_create_mu);
  struct port *p = NULL;
  int id = -1;
  for (int k = 0; k < MAX_PORTS; k++) {
    int cand = g_next_id;
    g_next_id = g_next_id == INT32_MAX ? 0 : g_next_id + 1;
    struct port *q = &g_ports[cand % MAX_PORTS];
    if (!__atomic_load_n(&q->in_use, __ATOMIC_ACQUIRE)) {
      p = q;
      id = cand;
      break;
    }
  }
  if (p == NULL) {
    pthread_mutex_unlock(&g_create_mu);
    return ret_i32(env, -EMFILE);
  }
  int r = port_open((unsigned)entries, p);
  if (r == 0) {
    pthread_mutex_init(&p->mu, NULL);
    __atomic_store_n(&p->in_use, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&p->id, id, __ATOMIC_RELAXED);
    __atomic_store_n(&p->closed, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->refs, 1, __ATOMIC_RELEASE); /* publishes everything above */
  }
  pthread_mutex_unlock(&g_create_mu);
  return ret_i32(env, r < 0 ? r : id);
}

/* Shared tail of every post: find the port, fill one SQE, publish it. */
static int port_post(int32_t id, int op, int32_t key, uint8_t opcode, int fd, void *buf, uint32_t len, uint32_t flags) {
  struct port *p = port_acquire(id);
  if (p == NULL) return -EBADF;
  struct io_uring_sqe *sqe;
  pthread_mutex_lock(&p->mu);
  int r = port_get_sqe(p, &sqe);
  if (r == 0) {
    sqe->opcode = opcode;
    sqe->fd = fd;
    sqe->addr = (uint64_t)(uintptr_t)buf;
    sqe->len = len;
    sqe->msg_flags = flags; /* same union member as accept_flags */
    port_push_sqe(p, sqe, (unsigned)op, key);
  }
  pthread_mutex_unlock(&p->mu);
  port_release(p);
  return r;
}

static napi_value js_portPostAccept(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t id, fd, key;
  if (!get_args(env, info, 3, argv) || !arg_i32(env, argv[0], "port", &id) || !arg_i32(env, argv[1], "listenFd", &fd) ||
      !arg_i32(env, argv[2], "key", &key))
    return NULL;
  /* addr/addr2 = NULL: the peer address is not wanted. */
  return ret_i32(env, port_post(id, OP_ACCEPT, key, IORING_OP_ACCEPT, fd, NULL, 0, SOCK_CLOEXEC));
}

static napi_value port_post_io(napi_env env, napi_callback_info info, int op, uint8_t opcode, uint32_t flags) {
  napi_value argv[6];
  int32_t id, fd, key;
  uint8_t *p;
  size_t len;
  if (!get_args(env, info, 6, argv) || !arg_i32(env, argv[0], "port", &id) || !arg_i32(env, argv[1], "fd", &fd) ||
      !arg_bytes(env, argv + 2, true, &p, &len) || !arg_i32(env, argv[5], "key", &key))
    return NULL;
  return ret_i32(env, port_post(id, op, key, opcode, fd, p, (uint32_t)len, flags));
}

static napi_value js_portPostRecv(napi_env env, napi_callback_info info) {
  return port_post_io(env, info, OP_RECV, IORING_OP_RECV, 0);
}

static napi_value js_portPostSend(napi_env env, napi_callback_info info) {
  return port_post_io(env, info, OP_SEND, IORING_OP_SEND, MSG_NOSIGNAL);
}

static int port_submit(int32_t id) {
  struct port *p = port_acquire(id);
  if (p == NULL) return -EBADF;
  pthread_mutex_lock(&p->mu);
  int r = __atomic_load_n(&p->closed, __ATOMIC_RELAXED) ? -EBADF : port_submit_locked(p);
  pthread_mutex_unlock(&p->mu);
  port_release(p);
  return r;
}

/* Unlike the other posts this one enters the kernel at once: it exists to
 * wake a waiter (a shutdown, a hand-off), and is posted by threads that may
 * never dequeue themselves. */
static napi_value js_portPostUser(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t id, key;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "port", &id) || !arg_i32(env, argv[1], "key", &key))
    return NULL;
  int r = port_post(id, OP_USER, key, IORING_OP_NOP, -1, NULL, 0, 0);
  return ret_i32(env, r < 0 ? r : port_submit(id));
}

static napi_value js_portSubmit(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t id;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "port", &id)) return NULL;
  return ret_i32(env, port_submit(id));
}

static int port_dequeue(struct port *p, int32_t *out, int max, int32_t timeout_ms) {
  struct timespec deadline = {0, 0};
  bool have_deadline = false;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    if (__atomic_load_n(&p->closed, __ATOMIC_RELAXED)) {
      pthread_mutex_unlock(&p->mu);
      return -EBADF;
    }
    int sr = port_submit_locked(p);
    int n = port_reap_locked(p, out, max);
    if (n < max && (__atomic_load_n(p->ksq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW)) {
      /* Completions that found the CQ full wait in the kernel's overflow list;
       * a GETEVENTS enter moves them into the ring (a timed-out poll would
       * otherwise never see them). */
      uring_enter(p->fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0);
      n += port_reap_locked(p, out + 3 * n, max - n);
    }
    pthread_mutex_unlock(&p->mu);
    if (n > 0) return n;
    /* EAGAIN/EBUSY: the kernel is short of room until completions drain: wait for them. */
    if (sr < 0 && sr != -EAGAIN && sr != -EBUSY) return sr;
    if (timeout_ms == 0) return 0;

    struct __kernel_timespec ts;
    struct iob_getevents_arg arg;
    memset(&arg, 0, sizeof arg);
    if (timeout_ms > 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (!have_deadline) {
        deadline.tv_sec = now.tv_sec + timeout_ms / 1000;
        deadline.tv_nsec = now.tv_nsec + (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
          deadline.tv_sec++;
          deadline.tv_nsec -= 1000000000L;
        }
        have_deadline = true;
      }
      int64_t left = (int64_t)(deadline.tv_sec - now.tv_sec) * 1000000000LL + (deadline.tv_nsec - now.tv_nsec);
      if (left <= 0) return 0;
      ts.tv_sec = left / 1000000000LL;
      ts.tv_nsec = left % 1000000000LL;
      arg.ts = (uint64_t)(uintptr_t)&ts;
    } /* else ts = 0: wait without a timeout */
    /* Returns as soon as the CQ is not empty, so a CQE that arrived after the
     * reap above is not missed; portClose leaves a CQE in the ring for good. */
    int r = uring_enter(p->fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) return r;
  }
}

static napi_value js_portDequeue(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t id, max, timeout, *out;
  if (!get_args(env, info, 4, argv) || !arg_i32(env, argv[0], "port", &id) ||
      !arg_i32(env, argv[2], "maxCompletions", &max) || !arg_i32(env, argv[3], "timeoutMs", &timeout))
    return NULL;
  if (max < 1) {
    throw_fmt(env, true, "%s = %.0f must be >= 1", "maxCompletions", max);
    return NULL;
  }
  if (!arg_int32_array(env, argv[1], 3 * (size_t)max, &out)) return NULL;
  struct port *p = port_acquire(id);
  if (p == NULL) return ret_i32(env, -EBADF);
  int r = port_dequeue(p, out, max, timeout);
  port_release(p);
  return ret_i32(env, r);
}

static napi_value js_portClose(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t id;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "port", &id)) return NULL;
  struct port *p = port_acquire(id);
  if (p == NULL) return ret_i32(env, -EBADF);
  pthread_mutex_lock(&p->mu);
  bool first = !__atomic_load_n(&p->closed, __ATOMIC_RELAXED);
  if (first) {
    /* Wake every waiter: a NOP whose CQE nobody reaps (dequeue checks closed
     * before reaping) keeps the CQ non-empty, so io_uring_enter(GETEVENTS)
     * returns at once for current and late waiters alike. */
    struct io_uring_sqe *sqe;
    if (port_get_sqe(p, &sqe) == 0) {
      sqe->opcode = IORING_OP_NOP;
      sqe->fd = -1;
      port_push_sqe(p, sqe, OP_CLOSE, 0);
    }
    port_submit_locked(p);
    __atomic_store_n(&p->closed, 1, __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&p->mu);
  port_release(p);
  if (!first) return ret_i32(env, -EBADF);
  port_release(p); /* the port's own reference, taken by portCreate */
  return ret_i32(env, 0);
}

/* ---- module ------------------------------------------------------------------------ */

static void set_i32(napi_env env, napi_value obj, const char *name, int32_t v) {
  napi_set_named_property(env, obj, name, ret_i32(env, v));
}

static napi_value make_constants(napi_env env) {
  napi_value c;
  napi_create_object(env, &c);
#define K(x) set_i32(env, c, #x, (int32_t)(x))
  K(EAGAIN); K(EINTR); K(EINPROGRESS); K(ECONNRESET); K(ECONNREFUSED); K(EPIPE); K(EMFILE); K(ENFILE);
  K(EBADF); K(EINVAL); K(ENOTCONN); K(ETIMEDOUT); K(ECONNABORTED); K(EADDRINUSE); K(ENOSYS); K(EPERM);
  K(ECANCELED);
  K(EPOLLIN); K(EPOLLOUT); K(EPOLLERR); K(EPOLLHUP); K(EPOLLRDHUP); K(EPOLLET); K(EPOLLONESHOT);
  K(EPOLLEXCLUSIVE); K(EPOLL_CTL_ADD); K(EPOLL_CTL_MOD); K(EPOLL_CTL_DEL);
  K(SHUT_RD); K(SHUT_WR); K(SHUT_RDWR);
  K(OP_ACCEPT); K(OP_RECV); K(OP_SEND); K(OP_USER);
#undef K
  return c; /* frozen by Init, once uring-client.c has added its constants */
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value constants = make_constants(env);
#define F(name) {#name, NULL, js_##name, NULL, NULL, NULL, napi_enumerable, NULL}
  napi_property_descriptor props[] = {
      F(errnoName),      F(gettid),          F(threadCpuUs),   F(setAffinity),   F(getNofileLimit), F(setNofileLimit),
      F(dieWithParent),
      F(listen),         F(localPort),       F(accept),        F(connect),        F(socketError),
      F(recv),           F(send),            F(shutdown),      F(close),          F(setNonBlocking),
      F(setNoDelay),     F(setLingerZero),   F(setBufferSizes), F(epollCreate),   F(epollCtl),
      F(epollWait),      F(portCreate),      F(portPostAccept), F(portPostRecv),  F(portPostSend),
      F(portPostUser),   F(portSubmit),      F(portDequeue),   F(portClose),
      F(sendQueued),     F(eventfdCreate),   F(eventfdSignal), F(eventfdDrain),
      {"constants", NULL, NULL, NULL, NULL, constants, napi_enumerable, NULL},
  };
#undef F
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  uring_client_register(env, exports, constants);
  napi_object_freeze(env, constants);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
