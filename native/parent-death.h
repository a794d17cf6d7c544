/*
 * Dying with the parent: what every process iobench starts does first, so
 * that nothing it started outlives it, even when it is killed with SIGKILL
 * and can clean nothing up.
 *
 * PR_SET_PDEATHSIG asks the kernel for SIGKILL when the parent dies. Two
 * catches: the signal fires when the parent *thread* that forked the child
 * exits, not the parent process, so iobench forks only from its main thread
 * (native/guard.ts checks); and a parent that died before the request was
 * made is never signalled for, so the child then checks that its parent is
 * still the one it was started by.
 */
#ifndef IOBENCH_PARENT_DEATH_H
#define IOBENCH_PARENT_DEATH_H

#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* 0 once the calling process will get `sig` when `parent` dies; -ESRCH if it already has; -errno. */
static inline int signal_at_parent_death(pid_t parent, int sig) {
  if (prctl(PR_SET_PDEATHSIG, sig) != 0) return -errno;
  return getppid() == parent ? 0 : -ESRCH;
}

/* 0 once the calling process will be killed when `parent` dies; -ESRCH if it already has; -errno. */
static inline int die_with_parent(pid_t parent) {
  return signal_at_parent_death(parent, SIGKILL);
}

#endif
