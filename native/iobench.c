/*
 * iobench native addon: the system calls Node.js cannot make by itself
 * (blocking sockets, epoll), over Node-API; the completion port is port.c,
 * the load client's ring uring-client.c, both on ring.c.
 * The contract is native/index.ts; these files only implement it.
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

#include "napi-args.h"
#include "port.h"
#include "uring-client.h"

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

/* An optional argument: true when it was given (not undefined). */
static bool arg_given(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t != napi_undefined;
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  struct sockaddr_storage ss;
  socklen_t sslen;
  int32_t backlog;
  bool reuse_port = false;
  int one = 1;
  if (!get_args(env, info, 4, argv) || !arg_sockaddr(env, argv[0], argv[1], &ss, &sslen) ||
      !arg_i32(env, argv[2], "backlog", &backlog) || (arg_given(env, argv[3]) && !arg_bool(env, argv[3], "reusePort", &reuse_port)))
    return NULL;
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ret_i32(env, neg_errno());
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
      bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, backlog) != 0)
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
  napi_value argv[4];
  struct sockaddr_storage ss, src;
  socklen_t sslen, srclen = 0;
  bool nb;
  int one = 1;
  if (!get_args(env, info, 4, argv) || !arg_sockaddr(env, argv[0], argv[1], &ss, &sslen) ||
      !arg_bool(env, argv[2], "nonBlocking", &nb))
    return NULL;
  if (arg_given(env, argv[3])) {
    napi_value zero;
    if (napi_create_int32(env, 0, &zero) != napi_ok || !arg_sockaddr(env, argv[3], zero, &src, &srclen)) return NULL;
    if (src.ss_family != ss.ss_family) {
      throw_fmt(env, false, "%s must be of the destination's address family", "sourceHost", 0);
      return NULL;
    }
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | (nb ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return ret_i32(env, neg_errno());
  /* A source address of our choosing: its port is picked at connect() time
   * (IP_BIND_ADDRESS_NO_PORT), per destination, so every source address
   * brings a whole ephemeral port range for each server address. */
  if (srclen != 0 && ((ss.ss_family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0) ||
                      bind(fd, (struct sockaddr *)&src, srclen) != 0))
    return ret_i32(env, close_keep_errno(fd));
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
#undef K
  return c; /* frozen by Init, once port.c and uring-client.c have added theirs */
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
      F(epollWait),      F(sendQueued),     F(eventfdCreate),   F(eventfdSignal), F(eventfdDrain),
      {"constants", NULL, NULL, NULL, NULL, constants, napi_enumerable, NULL},
  };
#undef F
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  port_register(env, exports, constants);
  uring_client_register(env, exports, constants);
  napi_object_freeze(env, constants);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
