/*
 * Yardstick: a plain C epoll echo server, the floor the TypeScript models are
 * measured against. Deliberately ordinary: one epoll set per thread,
 * level-triggered, non-blocking recv/send, a partial write parks the rest and
 * waits for EPOLLOUT. No batching tricks the models could not also use.
 *
 *   echo-server PORT [THREADS]     prints "listening PORT" once bound
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 65536
#define MAX_EVENTS 256
#define MAX_FDS 65536

struct conn {
  char *pending; /* unsent part of the last echo, NULL when drained */
  int off, len;
};

static int listen_fd;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void close_conn(int ep, struct conn *conns, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  free(conns[fd].pending);
  conns[fd].pending = NULL;
  close(fd);
}

/* Sends what is pending; returns 1 when drained, 0 when the socket is full, -1 on error. */
static int flush(struct conn *c, int fd) {
  while (c->off < c->len) {
    ssize_t n = send(fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->off += n;
  }
  free(c->pending);
  c->pending = NULL;
  return 1;
}

static void *loop(void *arg) {
  (void)arg;
  static __thread char buf[BUF_SIZE];
  struct conn *conns = calloc(MAX_FDS, sizeof *conns);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
  struct epoll_event events[MAX_EVENTS];
  while (!stopping) {
    int n = epoll_wait(ep, events, MAX_EVENTS, 100);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == listen_fd) {
        int c;
        while ((c = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          if (c >= MAX_FDS) { close(c); continue; }
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      struct conn *c = &conns[fd];
      if (events[i].events & EPOLLOUT) {
        int r = flush(c, fd);
        if (r < 0) { close_conn(ep, conns, fd); continue; }
        if (r == 0) continue;
        struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
        continue;
      }
      ssize_t got = recv(fd, buf, sizeof buf, 0);
      if (got <= 0) {
        if (got < 0 && errno == EAGAIN) continue;
        close_conn(ep, conns, fd);
        continue;
      }
      ssize_t sent = send(fd, buf, got, MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN) { close_conn(ep, conns, fd); continue; }
      if (sent < 0) sent = 0;
      if (sent < got) {
        c->pending = malloc(got - sent);
        memcpy(c->pending, buf + sent, got - sent);
        c->off = 0;
        c->len = (int)(got - sent);
        struct epoll_event cev = {.events = EPOLLOUT | EPOLLRDHUP, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: echo-server PORT [THREADS]\n"); return 2; }
  int port = atoi(argv[1]);
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listen_fd, 4096) < 0) {
    perror("echo-server: bind/listen");
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd, (struct sockaddr *)&addr, &len);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  pthread_t tids[64];
  if (threads < 1 || threads > 64) threads = 1;
  for (int i = 0; i < threads; i++) pthread_create(&tids[i], NULL, loop, NULL);
  for (int i = 0; i < threads; i++) pthread_join(tids[i], NULL);
  return 0;
}
