/*
 * One io_uring mapped into this process: setup, the mmaps, submitting and
 * teardown, written once for every ring in iobench: the completion port
 * (iobench.c), the load client's per-thread ring (uring-client.c) and the
 * C io_uring echo yardstick (bench/reference/uring-echo-server.c).
 * Plain C over the raw syscalls and <linux/io_uring.h>: no liburing, no Node-API.
 */
#ifndef IOBENCH_RING_H
#define IOBENCH_RING_H
#include <linux/io_uring.h>
#include <stddef.h>
#include <stdint.h>

/* ---- io_uring ABI bits an older system header may lack ------------------- */
#ifndef IORING_SETUP_CLAMP
#define IORING_SETUP_CLAMP (1U << 4)
#endif
#ifndef IORING_SETUP_CQSIZE
#define IORING_SETUP_CQSIZE (1U << 3)
#endif
#ifndef IORING_SETUP_SUBMIT_ALL
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif
#ifndef IORING_FEAT_SINGLE_MMAP
#define IORING_FEAT_SINGLE_MMAP (1U << 0)
#endif
#ifndef IORING_FEAT_EXT_ARG
#define IORING_FEAT_EXT_ARG (1U << 8)
#endif
#ifndef IORING_ENTER_GETEVENTS
#define IORING_ENTER_GETEVENTS (1U << 0)
#endif
#ifndef IORING_SQ_CQ_OVERFLOW
#define IORING_SQ_CQ_OVERFLOW (1U << 1)
#endif
#ifndef IORING_ENTER_EXT_ARG
#define IORING_ENTER_EXT_ARG (1U << 3)
#endif

/* Same layout as the kernel's struct io_uring_getevents_arg (5.11+), declared
 * here so the build does not depend on the header's age. */
struct ring_getevents_arg {
  uint64_t sigmask;
  uint32_t sigmask_sz;
  uint32_t pad;
  uint64_t ts;
};

struct ring {
  int fd; /* -1 when not open */
  unsigned sq_entries, sq_mask, cq_mask;
  unsigned sq_tail; /* our copy of the SQ tail: SQEs up to here are filled */
  unsigned *ksq_head, *ksq_tail, *ksq_flags, *kcq_head, *kcq_tail;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  void *map;
  size_t map_size, sqes_size;
};

/*
 * Creates the ring with the first of `flag_sets` the kernel accepts (the
 * strongest first: an older kernel refuses a flag it does not know with
 * EINVAL) and maps it; the kernel must offer every bit of `features`
 * (-ENOSYS if not). 0 or -errno; on failure nothing is left open.
 */
int ring_open(struct ring *r, unsigned entries, unsigned cq_entries, const unsigned *flag_sets, int n_sets, unsigned features);

/* Closes the fd first (the kernel cancels what is in flight), then unmaps. */
void ring_close(struct ring *r);

/* io_uring_enter: the result, or -errno. */
int ring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, void *arg, size_t argsz);

/* Publishes the SQ tail: the kernel reads it with acquire, so every SQE filled before is seen whole. */
static inline void ring_publish(struct ring *r) { __atomic_store_n(r->ksq_tail, r->sq_tail, __ATOMIC_RELEASE); }

/* Publishes, then submits every SQE the kernel has not taken yet (EINTR retried). 0 or -errno. */
int ring_submit(struct ring *r);

/* The next SQE, zeroed, at sq_tail (advanced; published by ring_publish), submitting first
 * when the SQ is full. NULL with *err = -errno if that submit failed. */
struct io_uring_sqe *ring_sqe(struct ring *r, int *err);

/* CQEs waiting in the ring: the tail is read with acquire so their contents are seen. */
static inline unsigned ring_cq_ready(const struct ring *r) {
  return __atomic_load_n(r->kcq_tail, __ATOMIC_ACQUIRE) - __atomic_load_n(r->kcq_head, __ATOMIC_RELAXED);
}

/* Gives CQ slots back up to `head`: release, so the CQE reads above are done before the kernel reuses them. */
static inline void ring_cq_release(struct ring *r, unsigned head) { __atomic_store_n(r->kcq_head, head, __ATOMIC_RELEASE); }

#endif
