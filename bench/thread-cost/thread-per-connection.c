/*
 * The native yardstick of bench/thread-memory.ts: a thread-per-connection
 * echo server in C (one pthread with default attributes per connection, a
 * 64 KiB buffer on its stack), the cost a blocking model's thread would have
 * without a JavaScript engine in it. Prints {"event":"listening","port":N}.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
    for (ssize_t o = 0; o < n;) {
      ssize_t w = send(fd, buf + o, (size_t)(n - o), MSG_NOSIGNAL);
      if (w <= 0) goto out;
      o += w;
    }
  }
out:
  close(fd);
  return NULL;
}

int main(void) {
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
  socklen_t len = sizeof a;
  if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4096) != 0 || getsockname(l, (struct sockaddr *)&a, &len) != 0) {
    perror("listen");
    return 1;
  }
  printf("{\"event\":\"listening\",\"port\":%d}\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(l, NULL, NULL);
    if (fd < 0) continue;
    pthread_t t;
    if (pthread_create(&t, NULL, serve, (void *)(long)fd) != 0) close(fd);
    else pthread_detach(t);
  }
}
