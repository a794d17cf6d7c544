/*
 * c-echo: a small echo server in C, the kind of prototype a reader might
 * bring to compare with iobench's five models. It knows nothing of
 * iobench: iobench runs it as a command model,
 *
 *   npm run bench -- --model epoll,cmd:c-echo --threads 1,2 \
 *     --server-cmd c-echo='examples/bin/c-echo --host {host} --port {port} --threads {threads}'
 *
 * Its design, the common "one listener per thread" one: each of --threads
 * threads opens its own listening socket on the same port (SO_REUSEPORT,
 * so the kernel spreads connections over them) and runs its own epoll
 * loop over non-blocking sockets. An echo the client does not take at once
 * waits in the connection's buffer, and the connection is not read from
 * until it has gone (EPOLLOUT): a client that never reads costs one
 * buffer. SIGTERM ends it (the default action: nothing to save).
 *
 *   c-echo [--host 127.0.0.1] --port PORT [--threads 1]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256

struct conn {
  char buf[BUF_SIZE];
  int off, len; /* the echo not yet sent: buf[off, len) */
};

static struct sockaddr_in addr;

static int open_listener(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4096) != 0) {
    perror("c-echo: listen");
    exit(1);
  }
  return fd;
}

static void watch(int ep, int op, int fd, unsigned events, void *ptr) {
  struct epoll_event ev = {.events = events, .data.ptr = ptr};
  epoll_ctl(ep, op, fd, &ev);
}

struct slot {
  int fd;
  struct conn *c; /* NULL for the listener */
};

static void close_conn(struct slot *s) {
  close(s->fd); /* also leaves the epoll set */
  free(s->c);
  free(s);
}

/* Sends the pending echo: 1 when it is all gone, 0 when the socket is full, -1 when the client is gone. */
static int flush(struct slot *s) {
  struct conn *c = s->c;
  while (c->off < c->len) {
    ssize_t n = send(s->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->off += n;
  }
  c->off = c->len = 0;
  return 1;
}

static void *serve(void *arg) {
  (void)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct slot *listener = calloc(1, sizeof *listener);
  listener->fd = open_listener();
  watch(ep, EPOLL_CTL_ADD, listener->fd, EPOLLIN, listener);
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    for (int i = 0; i < n; i++) {
      struct slot *s = events[i].data.ptr;
      if (s == listener) {
        int fd;
        while ((fd = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct slot *cs = malloc(sizeof *cs);
          cs->fd = fd;
          cs->c = malloc(sizeof *cs->c);
          cs->c->off = cs->c->len = 0;
          watch(ep, EPOLL_CTL_ADD, fd, EPOLLIN, cs);
        }
        continue;
      }
      struct conn *c = s->c;
      if (c->len > 0) { /* EPOLLOUT: the rest of an echo */
        int r = flush(s);
        if (r < 0) close_conn(s);
        else if (r > 0) watch(ep, EPOLL_CTL_MOD, s->fd, EPOLLIN, s);
        continue;
      }
      ssize_t got = recv(s->fd, c->buf, BUF_SIZE, 0);
      if (got == 0 || (got < 0 && errno != EAGAIN)) {
        close_conn(s); /* the client is done (or gone), and everything it sent was echoed */
        continue;
      }
      if (got < 0) continue;
      c->len = (int)got;
      int r = flush(s);
      if (r < 0) close_conn(s);
      else if (r == 0) watch(ep, EPOLL_CTL_MOD, s->fd, EPOLLOUT, s);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = -1, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--host") == 0) host = argv[i + 1];
    else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
    else port = -1, i = argc;
  }
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (port < 0 || port > 65535 || threads < 1 || threads > 1024 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "usage: c-echo [--host IPv4] --port PORT [--threads N]\n");
    return 2;
  }
  pthread_t *tids = calloc(threads, sizeof *tids);
  for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, serve, NULL);
  fprintf(stderr, "c-echo: %s:%d, %d threads\n", host, port, threads);
  for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
  return 0;
}
