/*
 * The chapter's chat client (chat_clnt_win.cpp of the book's chapter 20),
 * ported from Windows threads and Winsock to POSIX threads and sockets,
 * for the book's chat server: any iobench model with --protocol chat-raw.
 *
 *   npm run serve -- --model iocp --protocol chat-raw --port 9000
 *   examples/bin/chat-client 127.0.0.1 9000 alice      (and bob, in another terminal)
 *
 * As in the book: one thread reads a line from stdin and sends
 * "[name] line" as plain bytes; another prints whatever arrives; "q" or "Q"
 * quits. Two changes, both for a client that is not typed at: stdin's end
 * quits like "q" (the book's loop would resend its last line forever), and
 * the server closing the connection ends the client (the book's receiver
 * spins on a recv that returns 0).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 100
#define NAME_SIZE 20

static char name[NAME_SIZE] = "[DEFAULT]";

static void *send_msg(void *arg) {
  int sock = *(int *)arg;
  char msg[BUF_SIZE];
  char name_msg[NAME_SIZE + BUF_SIZE];
  for (;;) {
    if (fgets(msg, BUF_SIZE, stdin) == NULL || strcmp(msg, "q\n") == 0 || strcmp(msg, "Q\n") == 0) {
      close(sock);
      exit(0);
    }
    snprintf(name_msg, sizeof name_msg, "%s %s", name, msg);
    send(sock, name_msg, strlen(name_msg), MSG_NOSIGNAL);
  }
  return NULL;
}

static void *recv_msg(void *arg) {
  int sock = *(int *)arg;
  char name_msg[NAME_SIZE + BUF_SIZE];
  for (;;) {
    ssize_t n = recv(sock, name_msg, NAME_SIZE + BUF_SIZE - 1, 0);
    if (n <= 0) exit(n == 0 ? 0 : 1); /* the server closed, or the connection broke */
    name_msg[n] = '\0';
    fputs(name_msg, stdout);
    fflush(stdout);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    printf("Usage : %s <IP> <port> <name>\n", argv[0]);
    return 1;
  }
  snprintf(name, sizeof name, "[%s]", argv[3]);
  int sock = socket(PF_INET, SOCK_STREAM, 0);
  struct sockaddr_in serv_adr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &serv_adr.sin_addr) != 1 || connect(sock, (struct sockaddr *)&serv_adr, sizeof serv_adr) != 0) {
    fputs("connect() error\n", stderr);
    return 1;
  }
  pthread_t snd, rcv;
  pthread_create(&snd, NULL, send_msg, &sock);
  pthread_create(&rcv, NULL, recv_msg, &sock);
  pthread_join(snd, NULL);
  pthread_join(rcv, NULL);
  close(sock);
  return 0;
}
