/*
 * The completion port: what a Windows I/O completion port does, over one
 * io_uring shared by every thread of the process.
 *
 * A port is found by id in a process-global table (the addon is loaded once
 * per process; each worker thread gets its own JS bindings to the same
 * statics). Posting fills an SQE under the port mutex and does not enter the
 * kernel; a dequeue (or portSubmit, or a post that finds the SQ full)
 * submits the batch. Dequeue reaps under the same mutex, so each CQE goes to
 * exactly one caller.
 *
 * What makes it a completion port (CreateIoCompletionPort and
 * GetQueuedCompletionStatus), with the default wake PORT_WAKE_LIFO:
 *
 * - A concurrency value C, fixed at creation; 0 means the CPUs the creating
 *   thread may run on (sched_getaffinity), as NumberOfConcurrentThreads = 0
 *   means the CPU count on Windows.
 * - A thread is running from the dequeue that returned completions until its
 *   next dequeue (or its exit, or a blocking notice). No waiter is released
 *   while C threads run: completions wait in the ring until a running thread
 *   comes back for more (it takes them without sleeping) or stops running.
 * - Waiters are released last-in-first-out, one per completion batch. The
 *   kernel wakes EVERY thread waiting in io_uring_enter(GETEVENTS) on each
 *   completion, so only one waiter may wait there: the poller, always the
 *   newest waiter, and only while fewer than C threads run. Every other
 *   waiter sleeps on its own futex (FUTEX_WAIT_PRIVATE on a word in its stack
 *   frame), linked newest first. When the poller takes a batch and fewer than
 *   C still run, the next newest becomes the poller (woken from its futex),
 *   so the next completion releases it at once, as Windows would.
 * - A newer waiter takes the poller's role without pulling the old poller out
 *   of io_uring_enter: that one finds out at the next completion, often just
 *   in time to be given the role back when the newer one takes that batch (a
 *   wake saved). One such stale waiter may stay in the kernel; a second one
 *   is pushed out with a NOP completion (a "kick", ignored by every dequeue).
 * - Blocking: Windows sees a running thread block in the kernel and releases
 *   another waiter. Linux shows user space no such thing, so the caller says
 *   it (portBlocking(port, true) before a blocking call, false after): the
 *   thread stops counting, a waiter may be released, and afterwards it counts
 *   again, even above C, as a Windows thread does when its wait ends.
 *
 * PORT_WAKE_ALL keeps the shared queue iobench had before: every waiter
 * waits in io_uring_enter, all wake on each completion, one reaps it, the
 * others wait again; no concurrency limit, no order (the thundering herd,
 * kept so the two can be measured side by side).
 *
 * Which thread owns an operation: the one that SUBMITS it (calls
 * io_uring_enter with it in the SQ), not necessarily the one that posted it.
 * A socket recv/send/accept that cannot complete at once arms a poll; when
 * the socket becomes ready the kernel finishes the operation as task_work
 * of the submitting thread. That thread is interrupted for it wherever it
 * is (no IORING_SETUP_COOP_TASKRUN, precisely so a submitter blocked in
 * accept() or asleep on its futex still completes the I/O promptly), and
 * the CQE then reaches whichever thread dequeues. If the submitting thread
 * exits, the kernel cancels its pending operations (-ECANCELED completions).
 *
 * Lifetime: a slot's refs counts the open port (1) plus every call inside
 * it; portClose marks it closed, wakes the waiters, and drops the port's own
 * reference; whoever drops the last one unmaps the ring and closes its fd.
 */
#define _GNU_SOURCE
#include "port.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "napi-args.h"
#include "ring.h"

/* Operation kinds reported by portDequeue (user_data bits 32..63); KICK and CLOSE never reach a caller. */
enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3, OP_USER = 4, OP_KICK = 0x7ffe, OP_CLOSE = 0x7fff };
enum { PORT_WAKE_LIFO = 0, PORT_WAKE_ALL = 1 };

#define MAX_PORTS 256

/* Where a waiter is. */
enum { W_AWAKE, W_FUTEX, W_ENTER };

/* A thread inside portDequeue (LIFO wake): on its own stack, linked into its port under mu. */
struct waiter {
  struct waiter *newer, *older;
  int word;    /* the futex word: 0 = asleep, 1 = look again */
  bool poller; /* its role: wait in io_uring_enter (else on the futex) */
  int where;
  bool kicked; /* a kick NOP is on its way to it */
};

struct port_stats {
  uint64_t batches, completions; /* dequeues that returned completions, and how many */
  uint64_t enter_waits, futex_waits;
  uint64_t idle_wakes; /* waits that ended without this thread taking completions, so it waited again */
  uint64_t released;   /* waiters woken from their futex to poll */
  uint64_t kicks;
  int max_running;
};

struct port {
  int refs;   /* atomic; 0 = no port here (free or being torn down) */
  int id;     /* atomic; the id currently living in this slot */
  int closed; /* atomic; set once, under mu */
  int in_use; /* atomic; cleared when teardown is complete */
  pthread_mutex_t mu;
  struct ring r; /* the SQ tail and the CQ head are ours under mu */
  int concurrency, wake;
  /* under mu: */
  int running, blocked;
  struct waiter *newest, *oldest, *poller;
  int waiters;
  int stale; /* waiters left in io_uring_enter without the poller's role, not kicked yet */
  struct port_stats stats;
};

static struct port g_ports[MAX_PORTS];
static pthread_mutex_t g_create_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_next_id; /* under g_create_mu; ids are not reused soon, so a stale id finds nothing */

/* ---- futexes ------------------------------------------------------------------------- */

static void futex_wait(int *word, const struct timespec *rel) {
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, rel, NULL, 0); /* woken, EAGAIN (word changed), ETIMEDOUT or EINTR */
}

static void futex_wake(int *word) {
  __atomic_store_n(word, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- the table ------------------------------------------------------------------------ */

static void port_teardown(struct port *p) {
  ring_close(&p->r);
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

/* ---- the ring, under mu ------------------------------------------------------------------ */

/* Submits every SQE posted so far. 0 or -errno. */
static int port_submit_locked(struct port *p) { return ring_submit(&p->r); }

/* A zeroed SQE at the tail, submitting first if the SQ is full. */
static int port_get_sqe(struct port *p, struct io_uring_sqe **out) {
  if (__atomic_load_n(&p->closed, __ATOMIC_RELAXED)) return -EBADF;
  int err = 0;
  *out = ring_sqe(&p->r, &err);
  return *out == NULL ? err : 0;
}

/* Tags the SQE filled after port_get_sqe and publishes it. */
static void port_push_sqe(struct port *p, struct io_uring_sqe *sqe, unsigned op, int32_t key) {
  sqe->user_data = ((uint64_t)op << 32) | (uint32_t)key;
  ring_publish(&p->r);
}

/* Copies up to max CQEs into out as (key, op, result), dropping kicks. */
static int port_reap(struct port *p, int32_t *out, int max) {
  unsigned head = __atomic_load_n(p->r.kcq_head, __ATOMIC_RELAXED); /* only we write it */
  unsigned tail = __atomic_load_n(p->r.kcq_tail, __ATOMIC_ACQUIRE);
  int n = 0;
  for (; head != tail && n < max; head++) {
    const struct io_uring_cqe *cqe = &p->r.cqes[head & p->r.cq_mask];
    int32_t op = (int32_t)(cqe->user_data >> 32);
    if (op == OP_KICK) continue;
    out[3 * n] = (int32_t)(uint32_t)cqe->user_data;
    out[3 * n + 1] = op;
    out[3 * n + 2] = cqe->res;
    n++;
  }
  ring_cq_release(&p->r, head);
  return n;
}

/* Takes up to max completions, with those waiting in the kernel's overflow list. */
static int port_take(struct port *p, int32_t *out, int max) {
  int n = port_reap(p, out, max);
  if (n < max && (__atomic_load_n(p->r.ksq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW)) {
    /* Completions that found the CQ full wait in the kernel's overflow list;
     * a GETEVENTS enter moves them into the ring (a timed-out poll would
     * otherwise never see them). */
    ring_enter(p->r.fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0);
    n += port_reap(p, out + 3 * n, max - n);
  }
  return n;
}

/* Posts a NOP tagged op and submits it: every thread in io_uring_enter wakes. */
static int port_post_nop(struct port *p, unsigned op) {
  struct io_uring_sqe *sqe;
  int r = port_get_sqe(p, &sqe);
  if (r < 0) return r;
  sqe->opcode = IORING_OP_NOP;
  sqe->fd = -1;
  port_push_sqe(p, sqe, op, 0);
  return port_submit_locked(p);
}

/* ---- the calling thread and its port --------------------------------------------------- */

enum { T_IDLE, T_RUNNING, T_BLOCKED };
static __thread int tl_port = -1; /* the port this thread last dequeued from */
static __thread int tl_state;
static __thread bool tl_keyed;
static pthread_key_t g_exit_key;
static pthread_once_t g_exit_once = PTHREAD_ONCE_INIT;

static void port_assign(struct port *p);

/* Under mu: the thread no longer counts on p (it dequeues again, or exits). */
static void thread_stops(struct port *p) {
  if (tl_port != p->id) return;
  if (tl_state == T_RUNNING) p->running--;
  if (tl_state == T_BLOCKED) p->blocked--;
  tl_state = T_IDLE;
}

/* Under mu: the thread counts as running on p. */
static void thread_runs(struct port *p) {
  tl_state = T_RUNNING;
  if (++p->running > p->stats.max_running) p->stats.max_running = p->running;
}

/* A thread that exits stops running on its port, like a Windows thread's exit. */
static void on_thread_exit(void *unused) {
  (void)unused;
  if (tl_state == T_IDLE) return;
  struct port *p = port_acquire(tl_port);
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  thread_stops(p);
  port_assign(p);
  pthread_mutex_unlock(&p->mu);
  port_release(p);
}

static void make_exit_key(void) { pthread_key_create(&g_exit_key, on_thread_exit); }

/* Before taking p->mu: the thread comes to dequeue from p, so it stops running on the port it ran on before. */
static void thread_comes_to(struct port *p) {
  if (!tl_keyed) {
    pthread_once(&g_exit_once, make_exit_key);
    pthread_setspecific(g_exit_key, (void *)1); /* non-NULL: the destructor runs at exit */
    tl_keyed = true;
  }
  if (tl_port == p->id || tl_state == T_IDLE) return;
  struct port *before = port_acquire(tl_port);
  if (before != NULL) {
    pthread_mutex_lock(&before->mu);
    thread_stops(before);
    port_assign(before);
    pthread_mutex_unlock(&before->mu);
    port_release(before);
  }
  tl_state = T_IDLE;
}

/* ---- LIFO waiters, under mu ------------------------------------------------------------- */

static void waiter_push(struct port *p, struct waiter *w) {
  w->older = p->newest;
  w->newer = NULL;
  if (p->newest != NULL) p->newest->newer = w;
  else p->oldest = w;
  p->newest = w;
  p->waiters++;
}

static void waiter_remove(struct port *p, struct waiter *w) {
  if (w->newer != NULL) w->newer->older = w->older;
  else p->newest = w->older;
  if (w->older != NULL) w->older->newer = w->newer;
  else p->oldest = w->newer;
  if (p->poller == w) p->poller = NULL;
  p->waiters--;
}

/*
 * The port's one rule, applied after every change: the newest waiter polls
 * when fewer than C threads run, nobody polls otherwise. A waiter given the
 * role while asleep on its futex is woken; one losing it in io_uring_enter
 * stays there until the next completion (stale), unless another stale one
 * is there already: then both are kicked out.
 */
static void port_assign(struct port *p) {
  if (p->wake != PORT_WAKE_LIFO) return;
  struct waiter *want = p->newest != NULL && p->running < p->concurrency ? p->newest : NULL;
  if (p->poller == want) return;
  struct waiter *old = p->poller;
  p->poller = want;
  if (old != NULL) {
    old->poller = false;
    if (old->where == W_ENTER) {
      old->kicked = false;
      p->stale++;
    }
  }
  if (want != NULL) {
    want->poller = true;
    if (want->where == W_FUTEX) {
      futex_wake(&want->word);
      p->stats.released++;
    } else if (want->where == W_ENTER && !want->kicked) {
      p->stale--;
    }
  }
  if (p->stale > 1 && port_post_nop(p, OP_KICK) == 0) {
    p->stats.kicks++;
    for (struct waiter *w = p->newest; w != NULL; w = w->older)
      if (w->where == W_ENTER && !w->poller) w->kicked = true;
    p->stale = 0;
  }
}

/* ---- dequeue ------------------------------------------------------------------------------ */

struct deadline {
  bool forever;
  struct timespec at;
};

static void deadline_start(struct deadline *d, int32_t timeout_ms) {
  d->forever = timeout_ms < 0;
  clock_gettime(CLOCK_MONOTONIC, &d->at);
  if (timeout_ms <= 0) return;
  d->at.tv_sec += timeout_ms / 1000;
  d->at.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (d->at.tv_nsec >= 1000000000L) {
    d->at.tv_sec++;
    d->at.tv_nsec -= 1000000000L;
  }
}

/* Time left until the deadline into *left; false once it has passed (at once for timeout 0). */
static bool deadline_left(const struct deadline *d, struct timespec *left) {
  if (d->forever) return true;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t ns = (int64_t)(d->at.tv_sec - now.tv_sec) * 1000000000LL + (d->at.tv_nsec - now.tv_nsec);
  if (ns <= 0) return false;
  left->tv_sec = ns / 1000000000LL;
  left->tv_nsec = ns % 1000000000LL;
  return true;
}

/* Waits in io_uring_enter until the CQ is not empty (or the time is up). 0 or -errno worth reporting. */
static int wait_in_enter(struct port *p, const struct deadline *d, const struct timespec *left) {
  struct __kernel_timespec ts;
  struct ring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  if (!d->forever) {
    ts.tv_sec = left->tv_sec;
    ts.tv_nsec = left->tv_nsec;
    arg.ts = (uint64_t)(uintptr_t)&ts;
  } /* else ts = 0: wait without a timeout */
  /* Returns as soon as the CQ is not empty, so a CQE that arrived after the
   * reap is not missed; portClose leaves a CQE in the ring for good. */
  int r = ring_enter(p->r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
  return r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY ? r : 0;
}

/* EAGAIN/EBUSY from a submit: the kernel is short of room until completions drain: wait for them. */
static bool submit_failed(int sr) { return sr < 0 && sr != -EAGAIN && sr != -EBUSY; }

/* PORT_WAKE_ALL: everyone waits in io_uring_enter and takes what it finds. */
static int dequeue_all(struct port *p, int32_t *out, int max, const struct deadline *d) {
  pthread_mutex_lock(&p->mu);
  thread_stops(p);
  tl_port = p->id;
  for (bool waited = false;; waited = true) {
    if (__atomic_load_n(&p->closed, __ATOMIC_RELAXED)) {
      pthread_mutex_unlock(&p->mu);
      return -EBADF;
    }
    int sr = port_submit_locked(p);
    int n = port_take(p, out, max);
    if (n > 0) {
      thread_runs(p);
      p->stats.batches++;
      p->stats.completions += (uint64_t)n;
    } else if (waited) {
      p->stats.idle_wakes++;
    }
    pthread_mutex_unlock(&p->mu);
    if (n > 0) return n;
    if (submit_failed(sr)) return sr;
    struct timespec left;
    if (!deadline_left(d, &left)) return 0;
    int r = wait_in_enter(p, d, &left);
    if (r < 0) return r;
    pthread_mutex_lock(&p->mu);
    p->stats.enter_waits++;
  }
}

/* PORT_WAKE_LIFO: see the top of this file. */
static int dequeue_lifo(struct port *p, int32_t *out, int max, const struct deadline *d) {
  struct waiter w;
  memset(&w, 0, sizeof w);
  w.where = W_AWAKE;
  bool listed = false, waited = false;
  int r;
  pthread_mutex_lock(&p->mu);
  thread_stops(p);
  tl_port = p->id;
  for (;;) {
    if (__atomic_load_n(&p->closed, __ATOMIC_RELAXED)) {
      r = -EBADF;
      break;
    }
    int sr = port_submit_locked(p);
    /* A thread that has not waited yet takes what is there, as GetQueuedCompletionStatus does; a waiter only as the poller. */
    if (p->running < p->concurrency && (!listed || w.poller)) {
      r = port_take(p, out, max);
      if (r > 0) {
        thread_runs(p);
        p->stats.batches++;
        p->stats.completions += (uint64_t)r;
        break;
      }
    }
    if (submit_failed(sr)) {
      r = sr;
      break;
    }
    struct timespec left;
    if (!deadline_left(d, &left)) {
      r = 0;
      break;
    }
    if (!listed) {
      waiter_push(p, &w);
      listed = true;
      port_assign(p);
    }
    if (waited) p->stats.idle_wakes++;
    waited = true;
    bool poll = w.poller;
    w.where = poll ? W_ENTER : W_FUTEX;
    __atomic_store_n(&w.word, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&p->mu);
    int er = poll ? wait_in_enter(p, d, &left) : 0;
    if (!poll) futex_wait(&w.word, d->forever ? NULL : &left);
    pthread_mutex_lock(&p->mu);
    if (w.where == W_ENTER && !w.poller && !w.kicked) p->stale--;
    w.kicked = false;
    w.where = W_AWAKE;
    if (poll) p->stats.enter_waits++;
    else p->stats.futex_waits++;
    if (er < 0) {
      r = er;
      break;
    }
  }
  if (listed) waiter_remove(p, &w);
  port_assign(p);
  pthread_mutex_unlock(&p->mu);
  return r;
}

/* ---- creating and closing -------------------------------------------------------------------- */

/* CPUs the calling thread may run on: what concurrency 0 means. */
static int usable_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static int port_open(struct port *p, unsigned entries) {
  const unsigned flags[2] = {IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL,
                             IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE}; /* SUBMIT_ALL needs 5.18 */
  unsigned cq = entries * 2 < 4096 ? 4096 : entries * 2;                  /* room for many completions in flight */
  return ring_open(&p->r, entries, cq, flags, 2, IORING_FEAT_EXT_ARG);
}

static napi_value js_portCreate(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t entries, concurrency = 0, wake = PORT_WAKE_LIFO;
  napi_valuetype t1, t2;
  if (!get_args(env, info, 3, argv) || !arg_i32(env, argv[0], "entries", &entries)) return NULL;
  napi_typeof(env, argv[1], &t1);
  napi_typeof(env, argv[2], &t2);
  if ((t1 != napi_undefined && !arg_i32(env, argv[1], "concurrency", &concurrency)) ||
      (t2 != napi_undefined && !arg_i32(env, argv[2], "wake", &wake)))
    return NULL;
  if (entries < 1) {
    throw_fmt(env, true, "%s = %.0f must be >= 1", "entries", entries);
    return NULL;
  }
  if (concurrency < 0) {
    throw_fmt(env, true, "%s = %.0f must be >= 0 (0 = the usable CPUs)", "concurrency", concurrency);
    return NULL;
  }
  if (wake != PORT_WAKE_LIFO && wake != PORT_WAKE_ALL) {
    throw_fmt(env, true, "%s = %.0f must be PORT_WAKE_LIFO or PORT_WAKE_ALL", "wake", wake);
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
  int r = port_open(p, (unsigned)entries);
  if (r == 0) {
    pthread_mutex_init(&p->mu, NULL);
    p->concurrency = concurrency > 0 ? concurrency : usable_cpus();
    p->wake = wake;
    p->running = p->blocked = p->waiters = p->stale = 0;
    p->newest = p->oldest = p->poller = NULL;
    memset(&p->stats, 0, sizeof p->stats);
    __atomic_store_n(&p->in_use, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&p->id, id, __ATOMIC_RELAXED);
    __atomic_store_n(&p->closed, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&p->refs, 1, __ATOMIC_RELEASE); /* publishes everything above */
  }
  pthread_mutex_unlock(&g_create_mu);
  return ret_i32(env, r < 0 ? r : id);
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
    /* Wake every waiter: those on their futex directly; those in
     * io_uring_enter with a NOP whose CQE nobody reaps (dequeue checks closed
     * before reaping), so the CQ stays non-empty and current and late
     * waiters alike return at once. */
    port_post_nop(p, OP_CLOSE);
    __atomic_store_n(&p->closed, 1, __ATOMIC_RELEASE);
    for (struct waiter *w = p->newest; w != NULL; w = w->older) futex_wake(&w->word);
  }
  pthread_mutex_unlock(&p->mu);
  port_release(p);
  if (!first) return ret_i32(env, -EBADF);
  port_release(p); /* the port's own reference, taken by portCreate */
  return ret_i32(env, 0);
}

/* ---- posting -------------------------------------------------------------------------------- */

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

/* ---- dequeue, blocking, counters ----------------------------------------------------------------- */

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
  struct deadline d;
  deadline_start(&d, timeout);
  thread_comes_to(p);
  int r = p->wake == PORT_WAKE_LIFO ? dequeue_lifo(p, out, max, &d) : dequeue_all(p, out, max, &d);
  port_release(p);
  return ret_i32(env, r);
}

/* The Windows kernel's part, said by the caller: the running thread is about to block, or is done. */
static napi_value js_portBlocking(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t id;
  bool blocking;
  if (!get_args(env, info, 2, argv) || !arg_i32(env, argv[0], "port", &id) || !arg_bool(env, argv[1], "blocking", &blocking))
    return NULL;
  struct port *p = port_acquire(id);
  if (p == NULL) return ret_i32(env, -EBADF);
  pthread_mutex_lock(&p->mu);
  if (tl_port == id && blocking && tl_state == T_RUNNING) {
    p->running--;
    p->blocked++;
    tl_state = T_BLOCKED;
    port_assign(p);
  } else if (tl_port == id && !blocking && tl_state == T_BLOCKED) {
    p->blocked--;
    thread_runs(p);
    port_assign(p);
  }
  pthread_mutex_unlock(&p->mu);
  port_release(p);
  return ret_i32(env, 0);
}

static void set_num(napi_env env, napi_value obj, const char *name, double v) {
  napi_value n;
  napi_create_double(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value js_portStats(napi_env env, napi_callback_info info) {
  napi_value argv[1], o;
  int32_t id;
  if (!get_args(env, info, 1, argv) || !arg_i32(env, argv[0], "port", &id)) return NULL;
  struct port *p = port_acquire(id);
  if (p == NULL) {
    napi_get_null(env, &o);
    return o;
  }
  pthread_mutex_lock(&p->mu);
  struct port_stats s = p->stats;
  int running = p->running, blocked = p->blocked, waiters = p->waiters;
  pthread_mutex_unlock(&p->mu);
  napi_create_object(env, &o);
  set_num(env, o, "concurrency", p->concurrency);
  set_num(env, o, "wake", p->wake);
  set_num(env, o, "running", running);
  set_num(env, o, "blocked", blocked);
  set_num(env, o, "waiters", waiters);
  set_num(env, o, "maxRunning", s.max_running);
  set_num(env, o, "batches", (double)s.batches);
  set_num(env, o, "completions", (double)s.completions);
  set_num(env, o, "enterWaits", (double)s.enter_waits);
  set_num(env, o, "futexWaits", (double)s.futex_waits);
  set_num(env, o, "idleWakes", (double)s.idle_wakes);
  set_num(env, o, "released", (double)s.released);
  set_num(env, o, "kicks", (double)s.kicks);
  port_release(p);
  return o;
}

void port_register(napi_env env, napi_value exports, napi_value constants) {
#define F(name) {#name, NULL, js_##name, NULL, NULL, NULL, napi_enumerable, NULL}
  napi_property_descriptor props[] = {
      F(portCreate), F(portPostAccept), F(portPostRecv), F(portPostSend), F(portPostUser), F(portSubmit),
      F(portDequeue), F(portBlocking), F(portStats), F(portClose),
  };
#undef F
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  static const struct {
    const char *name;
    int32_t value;
  } k[] = {{"OP_ACCEPT", OP_ACCEPT}, {"OP_RECV", OP_RECV}, {"OP_SEND", OP_SEND}, {"OP_USER", OP_USER},
           {"PORT_WAKE_LIFO", PORT_WAKE_LIFO}, {"PORT_WAKE_ALL", PORT_WAKE_ALL}};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) napi_set_named_property(env, constants, k[i].name, ret_i32(env, k[i].value));
}
