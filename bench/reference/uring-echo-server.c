/*
 * Yardstick: a plain C io_uring echo server, the floor the iocp model is
 * measured against, so a figure shows what the model's TypeScript and its
 * port's dispatcher cost apart from what io_uring itself costs. One thread,
 * one ring, set up as the port sets up its own (native/ring.c, the same
 * flags), and the same operations per message as the iocp model posts: a
 * recv completion posts the send of its buffer and the next recv into the
 * connection's other buffer; a send completion frees its buffer (or sends
 * the rest of a short send, or the echo that waited for it). Each loop is
 * one io_uring_enter that submits what the last batch posted and waits for
 * at least one completion. No liburing, no batching tricks the model could
 * not also use.
 *
 *   uring-echo-server PORT     prints "listening PORT" once bound
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ring.h"

#define BUF_SIZE 32768 /* two per connection: the model's 64 KiB cap split in two */
#define MAX_FDS 65536
#define ENTRIES 8192
#define ACCEPT_KEY 0xffffffffu

enum { FREE, READING, SENDING, QUEUED };
enum { OP_RECV = 1, OP_SEND = 2, OP_ACCEPT = 3 };

struct conn {
  char *buf[2];
  int mode[2];
  int len[2], sent[2];
  int inflight; /* operations the kernel still holds */
  int closing;
};

static struct ring r;
static struct conn *conns;
static int listen_fd;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void post(int op, int fd, int b, void *addr, unsigned len, unsigned flags) {
  int err = 0;
  struct io_uring_sqe *sqe = ring_sqe(&r, &err);
  if (sqe == NULL) {
    fprintf(stderr, "uring-echo-server: submit: %s\n", strerror(-err));
    exit(1);
  }
  sqe->opcode = op == OP_RECV ? IORING_OP_RECV : op == OP_SEND ? IORING_OP_SEND : IORING_OP_ACCEPT;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)addr;
  sqe->len = len;
  sqe->msg_flags = flags;
  sqe->user_data = op == OP_ACCEPT ? ACCEPT_KEY : ((uint64_t)op << 32) | ((uint32_t)fd << 1) | (uint32_t)b;
  if (op != OP_ACCEPT) conns[fd].inflight++;
}

static void post_recv(int fd, int b) {
  conns[fd].mode[b] = READING;
  post(OP_RECV, fd, b, conns[fd].buf[b], BUF_SIZE, 0);
}

static void post_send(int fd, int b) {
  struct conn *c = &conns[fd];
  c->mode[b] = SENDING;
  post(OP_SEND, fd, b, c->buf[b] + c->sent[b], (unsigned)(c->len[b] - c->sent[b]), MSG_NOSIGNAL);
}

/* Closes once nothing is in flight; the first failure shuts the socket down so pending I/O ends. */
static void fail(int fd) {
  struct conn *c = &conns[fd];
  if (!c->closing) shutdown(fd, SHUT_RDWR);
  c->closing = 1;
  if (c->inflight == 0) {
    close(fd);
    c->closing = 0;
  }
}

static void on_recv(int fd, int b, int res) {
  struct conn *c = &conns[fd];
  if (res <= 0 || c->closing) {
    c->mode[b] = FREE;
    fail(fd);
    return;
  }
  c->len[b] = res;
  c->sent[b] = 0;
  if (c->mode[b ^ 1] == SENDING) {
    c->mode[b] = QUEUED; /* the previous echo is still going out: this one waits, and no recv is posted */
    return;
  }
  post_send(fd, b);
  post_recv(fd, b ^ 1);
}

static void on_send(int fd, int b, int res) {
  struct conn *c = &conns[fd];
  if (res <= 0 || c->closing) {
    c->mode[b] = FREE;
    fail(fd);
    return;
  }
  c->sent[b] += res;
  if (c->sent[b] < c->len[b]) {
    post_send(fd, b);
    return;
  }
  c->mode[b] = FREE;
  if (c->mode[b ^ 1] == QUEUED) {
    post_send(fd, b ^ 1);
    post_recv(fd, b);
  }
}

static void on_accept(int fd) {
  post(OP_ACCEPT, listen_fd, 0, NULL, 0, SOCK_CLOEXEC);
  if (fd < 0) return;
  if (fd >= MAX_FDS) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct conn *c = &conns[fd];
  for (int b = 0; b < 2; b++) {
    if (c->buf[b] == NULL) c->buf[b] = malloc(BUF_SIZE);
    c->mode[b] = FREE;
  }
  c->inflight = 0;
  c->closing = 0;
  post_recv(fd, 0);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: uring-echo-server PORT\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: the wait returns EINTR */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  conns = calloc(MAX_FDS, sizeof *conns);
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listen_fd, 4096) < 0) {
    perror("uring-echo-server: bind/listen");
    return 1;
  }
  /* The port's setup (native/port.c): CLAMP | CQSIZE | SUBMIT_ALL, a CQ of twice the entries. */
  const unsigned flags[1] = {IORING_SETUP_CLAMP | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL};
  int e = ring_open(&r, ENTRIES, 2 * ENTRIES, flags, 1, IORING_FEAT_EXT_ARG);
  if (e < 0) {
    fprintf(stderr, "uring-echo-server: io_uring_setup: %s\n", strerror(-e));
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd, (struct sockaddr *)&addr, &len);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  post(OP_ACCEPT, listen_fd, 0, NULL, 0, SOCK_CLOEXEC);
  while (!stopping) {
    ring_publish(&r);
    unsigned pending = r.sq_tail - __atomic_load_n(r.ksq_head, __ATOMIC_ACQUIRE);
    int n = ring_enter(r.fd, pending, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    if (n < 0 && n != -EINTR && n != -EAGAIN && n != -EBUSY && n != -ETIME) {
      fprintf(stderr, "uring-echo-server: io_uring_enter: %s\n", strerror(-n));
      return 1;
    }
    unsigned head = *r.kcq_head, tail = __atomic_load_n(r.kcq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) {
      const struct io_uring_cqe *cqe = &r.cqes[head & r.cq_mask];
      uint64_t ud = cqe->user_data;
      if (ud == ACCEPT_KEY) {
        on_accept(cqe->res);
        continue;
      }
      int fd = (int)((uint32_t)ud >> 1), b = (int)(ud & 1);
      conns[fd].inflight--;
      if ((ud >> 32) == OP_RECV) on_recv(fd, b, cqe->res);
      else on_send(fd, b, cqe->res);
      if (conns[fd].closing) fail(fd);
    }
    ring_cq_release(&r, head);
  }
  ring_close(&r);
  return 0;
}
