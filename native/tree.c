/*
 * iobench-tree PARENT_PID CPUS COMMAND [ARG...]: the root of a command
 * model's process tree (`--server-cmd NAME='...'`). It runs COMMAND (found
 * on PATH; iobench passes `sh -c '<the command line>'`) so that the whole
 * tree COMMAND starts can be measured and stopped, and dies with iobench:
 *
 * - it is a child subreaper (PR_SET_CHILD_SUBREAPER): a process whose parent
 *   exits (a shell wrapper that ends, a server that daemonizes) is reparented
 *   here, not to init, so every process of the tree stays under this pid for
 *   /proc walks (runner/process-tree.ts) and for the kill;
 * - SIGTERM or SIGINT is passed to the whole tree: its process group (iobench
 *   starts it in a session of its own) and every child it has or adopts
 *   meanwhile, which may have left the group;
 * - when iobench dies, even by SIGKILL, the kernel signals it (iobench starts
 *   it under native/guard.c, which asks for SIGKILL at iobench's death; it asks
 *   for SIGHUP instead, which it can catch) and it SIGKILLs the tree layer by
 *   layer, then itself;
 * - it exits once no process of the tree is left, with COMMAND's status (its
 *   exit code, or 128 + the signal that ended it, as a shell reports it).
 *
 * CPUS is a CPU list ("0", "0,2", "1-3") the tree is pinned to, or "-".
 * Exits 125 without running COMMAND if iobench is already gone or an argument
 * is wrong, 127 if COMMAND cannot be run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "parent-death.h"

/* Sends sig to every child of this process (/proc/<pid>/stat field 4 is the parent). */
static void signal_children(int sig) {
  DIR *proc = opendir("/proc");
  if (proc == NULL) return;
  pid_t self = getpid();
  struct dirent *e;
  while ((e = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == self) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *close_paren = strrchr(buf, ')'); /* the command name may hold spaces */
    long ppid;
    if (close_paren != NULL && sscanf(close_paren + 1, " %*c %ld", &ppid) == 1 && ppid == self) kill((pid_t)pid, sig);
  }
  closedir(proc);
}

/* Reaps every child that has ended; -1 once there are none left at all. */
static int reap(pid_t command, int *status) {
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
    if (pid == command) *status = st;
  return pid < 0 && errno == ECHILD ? -1 : 0;
}

/*
 * Kills the whole tree, layer by layer: each child, then the children it
 * adopts when their parents die (this process is their subreaper), until
 * none is left. A process that left the group (setsid) is found this way
 * too. Bounded: a tree that forks faster than it dies is left to the group
 * kill that follows.
 */
static void kill_tree(pid_t command, int *status) {
  for (int round = 0; round < 2000; round++) {
    signal_children(SIGKILL);
    if (reap(command, status) < 0) break;
    usleep(1000);
  }
  kill(0, SIGKILL); /* whatever is left of the group, this process included */
}

static int pin(const char *cpus) {
  if (strcmp(cpus, "-") == 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  const char *p = cpus;
  while (*p != '\0') {
    char *end;
    long lo = strtol(p, &end, 10), hi = lo;
    if (end == p || lo < 0 || lo >= CPU_SETSIZE) return -1;
    if (*end == '-') {
      p = end + 1;
      hi = strtol(p, &end, 10);
      if (end == p || hi < lo || hi >= CPU_SETSIZE) return -1;
    }
    for (long c = lo; c <= hi; c++) CPU_SET(c, &set);
    if (*end == ',') end++;
    else if (*end != '\0') return -1;
    p = end;
  }
  return sched_setaffinity(0, sizeof set, &set);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: iobench-tree PARENT_PID CPUS|- COMMAND [ARG...]\n");
    return 125;
  }
  char *end;
  long parent = strtol(argv[1], &end, 10);
  if (*end != '\0' || parent <= 0) {
    fprintf(stderr, "iobench-tree: PARENT_PID must be a pid, not '%s'\n", argv[1]);
    return 125;
  }
  if (pin(argv[2]) != 0) {
    fprintf(stderr, "iobench-tree: cannot pin to CPUs '%s'\n", argv[2]);
    return 125;
  }
  /* Every signal this process acts on waits for sigwaitinfo: no handler, no race with the wait. */
  sigset_t watched;
  sigemptyset(&watched);
  sigaddset(&watched, SIGCHLD);
  sigaddset(&watched, SIGHUP);
  sigaddset(&watched, SIGTERM);
  sigaddset(&watched, SIGINT);
  sigprocmask(SIG_BLOCK, &watched, NULL);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    perror("iobench-tree: prctl");
    return 125;
  }
  /* Started under native/guard.c, this process would be SIGKILLed with iobench: it wants to kill the tree first. */
  int r = signal_at_parent_death((pid_t)parent, SIGHUP);
  if (r != 0) {
    if (r != -ESRCH) fprintf(stderr, "iobench-tree: prctl(PR_SET_PDEATHSIG): %s\n", strerror(-r));
    return 125;
  }

  pid_t child = fork();
  if (child < 0) {
    perror("iobench-tree: fork");
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &watched, NULL); /* a blocked mask survives exec */
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* if this root is killed outright, the command goes too */
    execvp(argv[3], argv + 3);
    fprintf(stderr, "iobench-tree: cannot run %s: %s\n", argv[3], strerror(errno));
    _exit(127);
  }

  int status = 0, stopping = 0;
  for (;;) {
    int sig = sigwaitinfo(&watched, NULL);
    if (sig == SIGHUP && getppid() != (pid_t)parent) kill_tree(child, &status); /* iobench died: never returns */
    if (sig == SIGTERM || sig == SIGINT) {
      /* kill(0, ...) reaches this process too: it stays blocked, and is seen again here, harmlessly. */
      if (!stopping) {
        kill(0, SIGTERM);
        kill(0, SIGCONT); /* a stopped process (SIGSTOP) takes the SIGTERM only once continued */
      }
      stopping = 1;
    }
    if (reap(child, &status) < 0) break;
    /* While stopping, a process adopted since (its parent ended first) is asked too. */
    if (stopping) signal_children(SIGTERM);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
