/*
 * Yardstick: a plain C epoll ping-pong client, the rate iobench's own client
 * must reach. Each session sends SIZE bytes, reads until all SIZE are back,
 * checks them, and sends again: StableEchoClnt's loop, in one thread.
 *
 *   pingpong-client PORT SESSIONS SIZE SECONDS
 * prints one JSON line: {"messages":N,"seconds":S,"messagesPerSec":R,"errors":E,"cpuSeconds":C}
 * (cpuSeconds: the process's user+system CPU over the timed loop).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256

struct session {
  int fd;
  int sent, got;
  unsigned char seq;
};

static double clock_sec(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void) { return clock_sec(CLOCK_MONOTONIC); }

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: pingpong-client PORT SESSIONS SIZE SECONDS\n"); return 2; }
  int port = atoi(argv[1]), nsess = atoi(argv[2]), size = atoi(argv[3]);
  double seconds = atof(argv[4]);
  struct session *s = calloc(nsess, sizeof *s);
  unsigned char *msg = malloc(size), *in = malloc(size);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  long errors = 0, messages = 0;
  for (int i = 0; i < nsess; i++) {
    /* blocking connect keeps setup simple; the timed loop starts after */
    s[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(s[i].fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(s[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, s[i].fd, &ev);
  }
  for (int i = 0; i < nsess; i++) {
    memset(msg, s[i].seq, size);
    s[i].sent = (int)send(s[i].fd, msg, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  struct epoll_event events[MAX_EVENTS];
  double start = now(), end = start + seconds, cpu0 = clock_sec(CLOCK_PROCESS_CPUTIME_ID);
  while (now() < end) {
    int n = epoll_wait(ep, events, MAX_EVENTS, 100);
    for (int e = 0; e < n; e++) {
      struct session *x = &s[events[e].data.u32];
      ssize_t r = recv(x->fd, in, size - x->got, MSG_DONTWAIT);
      if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; errors++; epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL); continue; }
      for (ssize_t k = 0; k < r; k++) if (in[k] != x->seq) { errors++; break; }
      x->got += (int)r;
      if (x->got < size) continue;
      messages++;
      x->got = 0;
      x->seq++;
      memset(msg, x->seq, size);
      /* the echo of `size` bytes fits the socket buffer, so a blocking-free send completes */
      x->sent = (int)send(x->fd, msg, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (x->sent != size) errors++;
    }
  }
  double took = now() - start, cpu = clock_sec(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  printf("{\"messages\":%ld,\"seconds\":%.6f,\"messagesPerSec\":%.1f,\"errors\":%ld,\"cpuSeconds\":%.6f}\n", messages, took,
         messages / took, errors, cpu);
  return 0;
}
