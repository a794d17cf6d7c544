/*
 * iobench-guard PARENT_PID COMMAND [ARG...]: runs COMMAND (found on PATH) so
 * that it is killed when iobench, PARENT_PID, dies, whatever COMMAND is (a
 * server, wrk, clinic, a C yardstick, git, npm): the kernel's parent-death
 * signal survives execve. Exits 125 without running COMMAND if the parent
 * is already gone, 127 if COMMAND cannot be run.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parent-death.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: iobench-guard PARENT_PID COMMAND [ARG...]\n");
    return 125;
  }
  char *end;
  long parent = strtol(argv[1], &end, 10);
  if (*end != '\0' || parent <= 0) {
    fprintf(stderr, "iobench-guard: PARENT_PID must be a pid, not '%s'\n", argv[1]);
    return 125;
  }
  int r = die_with_parent((pid_t)parent);
  if (r != 0) {
    if (r != -ESRCH) fprintf(stderr, "iobench-guard: prctl(PR_SET_PDEATHSIG): %s\n", strerror(-r));
    return 125;
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "iobench-guard: cannot run %s: %s\n", argv[2], strerror(errno));
  return 127;
}
