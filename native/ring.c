/* One io_uring mapped into this process: see ring.h. */
#define _GNU_SOURCE
#include "ring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif

int ring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, void *arg, size_t argsz) {
  long r = syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
  return r < 0 ? -errno : (int)r;
}

void ring_close(struct ring *r) {
  if (r->fd >= 0) close(r->fd); /* first: the ring holds its requests' buffers until they are gone */
  if (r->sqes != NULL) munmap(r->sqes, r->sqes_size);
  if (r->map != NULL) munmap(r->map, r->map_size);
  r->fd = -1;
  r->sqes = NULL;
  r->map = NULL;
}

int ring_open(struct ring *r, unsigned entries, unsigned cq_entries, const unsigned *flag_sets, int n_sets, unsigned features) {
  struct io_uring_params p;
  memset(r, 0, sizeof *r);
  r->fd = -1;
  for (int i = 0; i < n_sets && r->fd < 0; i++) {
    memset(&p, 0, sizeof p);
    p.flags = flag_sets[i];
    p.cq_entries = cq_entries;
    r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
    if (r->fd < 0 && errno != EINVAL) return -errno;
  }
  if (r->fd < 0) return -errno;
  int err = 0;
  if ((p.features & (features | IORING_FEAT_SINGLE_MMAP)) != (features | IORING_FEAT_SINGLE_MMAP)) {
    err = -ENOSYS;
    goto fail;
  }
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  r->map_size = sq_size > cq_size ? sq_size : cq_size;
  void *map = mmap(NULL, r->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (map == MAP_FAILED) {
    err = -errno;
    goto fail;
  }
  r->map = map;
  r->sqes_size = p.sq_entries * sizeof(struct io_uring_sqe);
  void *sqes = mmap(NULL, r->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) {
    err = -errno;
    goto fail;
  }
  r->sqes = sqes;
  char *m = map;
  r->sq_entries = p.sq_entries;
  r->sq_mask = *(unsigned *)(m + p.sq_off.ring_mask);
  r->cq_mask = *(unsigned *)(m + p.cq_off.ring_mask);
  r->ksq_head = (unsigned *)(m + p.sq_off.head);
  r->ksq_tail = (unsigned *)(m + p.sq_off.tail);
  r->ksq_flags = (unsigned *)(m + p.sq_off.flags);
  r->kcq_head = (unsigned *)(m + p.cq_off.head);
  r->kcq_tail = (unsigned *)(m + p.cq_off.tail);
  r->cqes = (struct io_uring_cqe *)(m + p.cq_off.cqes);
  r->sq_tail = *r->ksq_tail;
  /* SQE slot i is always array entry i, so the indirection is set once. */
  unsigned *array = (unsigned *)(m + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) array[i] = i;
  return 0;
fail:
  ring_close(r);
  return err;
}

int ring_submit(struct ring *r) {
  ring_publish(r);
  for (;;) {
    unsigned pending = r->sq_tail - __atomic_load_n(r->ksq_head, __ATOMIC_ACQUIRE);
    if (pending == 0) return 0;
    int n = ring_enter(r->fd, pending, 0, 0, NULL, 0);
    if (n == -EINTR) continue;
    if (n < 0) return n;
    if (n == 0) return -EAGAIN; /* the kernel took nothing: do not spin */
  }
}

struct io_uring_sqe *ring_sqe(struct ring *r, int *err) {
  if (r->sq_tail - __atomic_load_n(r->ksq_head, __ATOMIC_ACQUIRE) >= r->sq_entries) {
    *err = ring_submit(r);
    if (*err < 0) return NULL;
  }
  struct io_uring_sqe *sqe = &r->sqes[r->sq_tail & r->sq_mask];
  memset(sqe, 0, sizeof *sqe);
  r->sq_tail++;
  return sqe;
}
