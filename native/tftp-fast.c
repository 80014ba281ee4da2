// bootherd's TFTP lock-step loops in C (an N-API module; docs/decisions/0013-native-lockstep-loop.md).
//
// Each call runs lock-step rounds: wait for a datagram, and when it is exactly the ACK of a
// transfer's block in flight, from its client, send that transfer's next block and wait again.
// Anything else (another sender, another opcode, another block number, the last block's ACK, a
// block not in memory, a slow ACK, a timeout, an empty read, the time slice used up) returns to
// JavaScript, which owns the protocol (src/protocol/tftp/window.ts) and handles it as before. The
// datagram that ended the loop is left unconsumed in the receive buffer for it.
//   lockstep(ctl): one transfer, waiting in its socket's blocking receive (struct ls_ctl);
//   many(ctl): the transfers of an epoll set, one slot each (struct mp_ctl, struct ms_slot).
//
// Per round the loops make the same system calls as the JavaScript hot path (recvfrom, sendmsg;
// epoll_wait once per batch), without going through JavaScript and N-API in between; the
// many-transfer loop sends a batch's blocks with one io_uring_enter where it can (see
// send_batch(); docs/decisions/0014-tftp-busy-loop-and-libuv.md). The two per-round calls are
// made with syscall(2): in a process with threads (Node always has them), glibc's own wrappers
// are cancellation points and switch the thread's cancellation state around each call (~1.5 %
// of the server's time with 50 clients); nothing here is ever cancelled.
//
// Control blocks and slots are memory the JavaScript side owns (ArrayBuffers, which never move);
// their layouts are mirrored by CTL_*, SLOT_* and MP_* in src/tftp/native.ts.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#if __has_include(<linux/io_uring.h>)
#include <linux/io_uring.h>
#endif
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

// What both loops know of one transfer: the first 48 octets of struct ls_ctl and struct ms_slot.
struct xfer {
  int32_t fd;           //  0 the transfer's socket
  uint32_t peer0;       //  4 the client's sockaddr_in, first two 32-bit words
  uint32_t peer1;       //  8   (family and port, then the address)
  uint32_t blksize;     // 12
  uint64_t base;        // 16 address of the payload of block base_block
  uint64_t end;         // 24 octets from base to the end of the file
  uint32_t base_block;  // 32 absolute number of the block whose payload starts at base
  uint32_t avail_last;  // 36 last absolute block whose payload is in memory
  uint32_t total;       // 40 number of DATA blocks of the file
  uint32_t cur;         // 44 in/out: the block in flight (sent, not yet acknowledged)
};                      // 48

_Static_assert(sizeof(struct xfer) == 48, "xfer layout");

#define OP_DATA 3
#define OP_ACK 4

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// True when the datagram of n octets in rbuf, from the sockaddr_in whose first two words are fw,
// is the ACK of x's block in flight, from its client, and the next block is in memory (its
// payload starts within [base, base + end)).
static inline int ordinary_ack(const struct xfer *x, const uint32_t *fw, const uint8_t *rbuf, ssize_t n) {
  return fw[0] == x->peer0 && fw[1] == x->peer1 && n >= 4 && rbuf[0] == 0 && rbuf[1] == OP_ACK &&
         (uint32_t)((rbuf[2] << 8) | rbuf[3]) == (x->cur & 0xffff) && x->cur < x->total && x->cur < x->avail_last &&
         x->cur >= x->base_block && x->blksize != 0 && (uint64_t)(x->cur + 1 - x->base_block) * x->blksize <= x->end;
}

// One DATA datagram: [4-octet header | payload straight from the file's buffer], to the client.
struct data_sender {
  struct sockaddr_in to;
  uint8_t hdr[4];
  struct iovec iov[2];
  struct msghdr mh;
};

static void sender_init(struct data_sender *d) {
  memset(d, 0, sizeof *d);
  d->hdr[1] = OP_DATA;
  d->iov[0].iov_base = d->hdr;
  d->iov[0].iov_len = 4;
  d->mh.msg_name = &d->to;
  d->mh.msg_namelen = sizeof d->to;
  d->mh.msg_iov = d->iov;
  d->mh.msg_iovlen = 2;
}

// Makes d the datagram of the block after x's block in flight, and that block the block in flight;
// returns its octets, header included.
static inline uint32_t prepare_next(struct xfer *x, struct data_sender *d) {
  const uint32_t b = x->cur + 1;
  const uint64_t off = (uint64_t)(b - x->base_block) * x->blksize;
  const uint64_t len = x->end - off < x->blksize ? x->end - off : x->blksize;
  memcpy((uint8_t *)&d->to, &x->peer0, 4);
  memcpy((uint8_t *)&d->to + 4, &x->peer1, 4);
  d->hdr[2] = (uint8_t)(b >> 8);
  d->hdr[3] = (uint8_t)b;
  d->iov[1].iov_base = (void *)(uintptr_t)(x->base + off);
  d->iov[1].iov_len = len;
  x->cur = b;
  return (uint32_t)(4 + len);
}

// Sends the block after x's block in flight and makes it the block in flight; returns the octets
// sent, header included. A failed send is a lost datagram (its errno goes to *err): the
// retransmission timer in JavaScript resends it, as on the JavaScript path.
static inline uint32_t send_next(struct xfer *x, struct data_sender *d, int32_t *err) {
  const uint32_t out = prepare_next(x, d);
  if (syscall(SYS_sendmsg, x->fd, &d->mh, MSG_DONTWAIT) < 0) *err = errno;
  return out;
}

// Where a datagram lands: the receive buffer and the source sockaddr_in, whose first two 32-bit
// words ordinary_ack() compares with the client's.
struct receiver {
  uint8_t *buf;
  uint32_t cap;
  struct sockaddr *from;
  const uint32_t *fw;
};

static void receiver_init(struct receiver *r, uint64_t buf, uint32_t cap, uint64_t from) {
  r->buf = (uint8_t *)(uintptr_t)buf;
  r->cap = cap;
  r->from = (struct sockaddr *)(uintptr_t)from;
  r->fw = (const uint32_t *)(uintptr_t)from;
}

static inline ssize_t receive(const struct receiver *r, int fd, int flags) {
  socklen_t fromlen = sizeof(struct sockaddr_in);
  return syscall(SYS_recvfrom, fd, r->buf, r->cap, flags, r->from, &fromlen);
}

// ---- one transfer: blocking receive ----

struct ls_ctl {
  struct xfer x;        //   0 (the socket may be blocking: the receive then waits, up to SO_RCVTIMEO)
  uint64_t rbuf;        //  48 receive buffer
  uint32_t rcap;        //  56 its size
  uint32_t pad0;        //  60
  uint64_t from;        //  64 where the source sockaddr_in of a datagram lands (16 octets)
  int64_t slice_ns;     //  72 return once this much time has passed
  int64_t wait_ns;      //  80 an ACK that took longer than this returns (LS_SLOW)
  // out
  uint32_t rounds;      //  88 ACKs consumed, each answered with the next block
  int32_t len;          //  92 length of the datagram left in rbuf (LS_PACKET, LS_SLOW), else -1
  int32_t err;          //  96 errno of the last failed call (0: none)
  uint32_t pad1;        // 100
  uint64_t bytes_out;   // 104 octets sent (4-octet headers included)
  uint64_t bytes_in;    // 112 octets of the consumed ACKs
  int64_t last_rtt_ns;  // 120 from the last send to the ACK that answered it
};                      // 128

_Static_assert(sizeof(struct ls_ctl) == 128, "ls_ctl layout");

enum { LS_PACKET = 0, LS_SLOW = 1, LS_MISS = 2, LS_YIELD = 3, LS_BAD = 4 };

static int run_lockstep(void *p) {
  struct ls_ctl *const c = p;
  c->rounds = 0;
  c->len = -1;
  c->err = 0;
  c->bytes_out = 0;
  c->bytes_in = 0;
  c->last_rtt_ns = 0;
  if (c->x.blksize == 0 || c->rcap < 4 || c->x.cur < c->x.base_block || c->x.cur > c->x.total) return LS_BAD;
  struct receiver r;
  receiver_init(&r, c->rbuf, c->rcap, c->from);
  struct data_sender d;
  sender_init(&d);
  const int64_t start = now_ns();
  int64_t sent = start;
  for (;;) {
    const ssize_t n = receive(&r, c->x.fd, 0);
    if (n < 0) {
      c->err = errno;
      return LS_MISS;
    }
    const int64_t t = now_ns();
    const int slow = t - sent > c->wait_ns;
    if (slow || !ordinary_ack(&c->x, r.fw, r.buf, n)) {
      c->len = (int32_t)n;
      return slow ? LS_SLOW : LS_PACKET;
    }
    c->bytes_out += send_next(&c->x, &d, &c->err);
    c->last_rtt_ns = t - sent;
    c->bytes_in += (uint64_t)n;
    c->rounds++;
    sent = t;
    if (t - start >= c->slice_ns) return LS_YIELD;
  }
}

// ---- many transfers: one epoll set, one slot per hot transfer ----
//
// The JavaScript side keeps a table of slots (struct ms_slot), one per transfer in the epoll set
// (the epoll event's data is the slot's index). A slot is "armed" while its fields match the
// transfer's state; JavaScript disarms a slot (after taking in its rounds) before it changes that
// state itself, and arms it again afterwards. The loop answers only armed slots' ordinary ACKs.

struct ms_slot {
  struct xfer x;        //  0 (the socket is non-blocking)
  uint32_t armed;       // 48 1: the loop may answer this transfer's ordinary ACKs
  uint32_t rounds;      // 52 out, accumulated until JavaScript takes them (and zeroes them)
  uint32_t bytes_in;    // 56 out, accumulated
  uint32_t bytes_out;   // 60 out, accumulated
  int64_t sent_ns;      // 64 in/out: CLOCK_MONOTONIC time the block in flight was sent
  int64_t rtt_ns;       // 72 out: the last round's round-trip time
};                      // 80

_Static_assert(sizeof(struct ms_slot) == 80, "ms_slot layout");

struct mp_ctl {
  // in
  int32_t epfd;         //  0
  uint32_t nslots;      //  4
  uint64_t slots;       //  8
  uint64_t events;      // 16 room for max_events struct epoll_event
  uint32_t max_events;  // 24
  uint32_t rcap;        // 28
  uint64_t rbuf;        // 32
  uint64_t from;        // 40
  int64_t wait_ns;      // 48 how long each epoll wait may take (0: do not wait)
  int64_t slice_ns;     // 56
  // out
  int32_t slot;         // 64 the slot of the datagram left in rbuf (MP_PACKET), or of an empty read (MP_EMPTY)
  int32_t len;          // 68
  uint32_t rounds;      // 72 rounds in this call, all slots together
  int32_t err;          // 76
  uint64_t bytes_out;   // 80 octets sent in this call
  uint32_t waits;       // 88 epoll waits that returned descriptors
  uint32_t flags;       // 92 in: MP_F_URING: send each batch's blocks with one io_uring_enter (when available)
};                      // 96

_Static_assert(sizeof(struct mp_ctl) == 96, "mp_ctl layout");

enum { MP_PACKET = 0, MP_EMPTY = 1, MP_IDLE = 2, MP_YIELD = 3, MP_ERROR = 4, MP_BAD = 5, MP_LISTEN = 6 };
#define MP_F_URING 1u

// The epoll data of a listening socket in the set: when it is readable (a new request), the loop
// returns at once so that the event loop reads it without waiting for the slice to end.
#define LISTEN_MARK 0xffffffffu

static int wait_events(int epfd, struct epoll_event *ev, int max, int64_t wait_ns) {
  if (wait_ns <= 0) return epoll_wait(epfd, ev, max, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
  static int no_pwait2;
  if (!no_pwait2) {
    struct timespec ts = {(time_t)(wait_ns / 1000000000), (long)(wait_ns % 1000000000)};
    int n = epoll_pwait2(epfd, ev, max, &ts, NULL);
    if (n >= 0 || errno != ENOSYS) return n;
    no_pwait2 = 1;
  }
#endif
  return epoll_wait(epfd, ev, max, (int)((wait_ns + 999999) / 1000000));
}

// The most events one epoll wait may return (mp_ctl.max_events); the JavaScript side asks for 256.
#define MANY_MAX_EVENTS 256

// ---- one system call for a batch's sends: io_uring ----
//
// The next blocks of one epoll batch go to the kernel in one io_uring_enter (one IORING_OP_SENDMSG
// each, MSG_DONTWAIT: each completes, or fails, inline, as sendmsg(2) would). A kernel without
// preemption inside system calls (PREEMPT_NONE or VOLUNTARY, the usual server setting) then
// runs the clients woken by these sends after the whole batch went out, instead of letting each
// preempt the server as its send returns. Where io_uring is not available (Linux before 5.11,
// disabled by sysctl kernel.io_uring_disabled, refused by a seccomp filter, or kernel headers
// too old to build it) or fails once, each block goes out by its own sendmsg(2) as before. One
// ring per thread, made on first use, kept for the life of the process (its descriptor is
// close-on-exec).

#if defined(IORING_SETUP_SINGLE_ISSUER) && defined(IORING_FEAT_EXT_ARG) && defined(__NR_io_uring_setup)
#define HAVE_URING 1
#else
#define HAVE_URING 0
#endif

#if HAVE_URING
struct uring {
  int fd;                 // the ring; -1: not made yet; -2: not available (send one by one)
  unsigned *sq_tail, *sq_array, *cq_head, *cq_tail;
  unsigned sq_mask, cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  struct data_sender d[MANY_MAX_EVENTS]; // the datagrams in flight in the ring
};

static __thread struct uring ring = {.fd = -1};

static int uring_setup(struct uring *u) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER;
  int fd = (int)syscall(__NR_io_uring_setup, MANY_MAX_EVENTS, &p);
  if (fd < 0 && errno == EINVAL) { // a kernel before 6.0 does not know all these flags
    memset(&p, 0, sizeof p);
    fd = (int)syscall(__NR_io_uring_setup, MANY_MAX_EVENTS, &p);
  }
  if (fd < 0) return -1;
  const size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  const size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  const size_t sz = sq_sz > cq_sz ? sq_sz : cq_sz;
  uint8_t *rp = MAP_FAILED;
  void *sqes = MAP_FAILED;
  const uint32_t need = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG; // Linux 5.11
  if ((p.features & need) == need && p.sq_entries >= MANY_MAX_EVENTS) {
    rp = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    if (rp != MAP_FAILED) sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  }
  if (sqes == MAP_FAILED) {
    if (rp != MAP_FAILED) munmap(rp, sz);
    close(fd);
    return -1;
  }
  u->sq_tail = (unsigned *)(rp + p.sq_off.tail);
  u->sq_array = (unsigned *)(rp + p.sq_off.array);
  u->sq_mask = *(unsigned *)(rp + p.sq_off.ring_mask);
  u->cq_head = (unsigned *)(rp + p.cq_off.head);
  u->cq_tail = (unsigned *)(rp + p.cq_off.tail);
  u->cq_mask = *(unsigned *)(rp + p.cq_off.ring_mask);
  u->sqes = sqes;
  u->cqes = (struct io_uring_cqe *)(rp + p.cq_off.cqes);
  for (int i = 0; i < MANY_MAX_EVENTS; i++) sender_init(&u->d[i]);
  u->fd = fd;
  return 0;
}

// Takes in the completions of the ring: the first failure's errno goes to *err; returns how many.
static unsigned uring_reap(struct uring *u, int32_t *err) {
  unsigned head = *u->cq_head;
  const unsigned tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
  unsigned n = 0;
  for (; head != tail; head++, n++) {
    const int32_t res = u->cqes[head & u->cq_mask].res;
    if (res < 0 && *err == 0) *err = -res;
  }
  __atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
  return n;
}

// True when this thread has a ring (made now if need be).
static int uring_ready(void) {
  if (ring.fd == -1 && uring_setup(&ring) < 0) ring.fd = -2;
  return ring.fd >= 0;
}

// Waits up to 1 s for `want` more completions; returns how many came. A send with MSG_DONTWAIT
// completes inline, so this wait returns at once; it is bounded all the same.
static unsigned uring_wait(struct uring *u, unsigned want, int32_t *err) {
  struct __kernel_timespec ts = {.tv_sec = 1, .tv_nsec = 0};
  struct io_uring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  arg.ts = (uint64_t)(uintptr_t)&ts;
  unsigned done = 0;
  for (int tries = 0; done < want && tries < 8; tries++) {
    const long r = syscall(__NR_io_uring_enter, u->fd, 0u, want - done, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    done += uring_reap(u, err);
    if (r < 0 && errno != EINTR) break;
  }
  return done;
}

#else
// Kernel headers without io_uring (before Linux 6.0's): every batch goes out by sendmsg(2).
static int uring_ready(void) { return 0; }
#endif

// Sends the next block of each of the n transfers (n <= MANY_MAX_EVENTS) and makes it their block
// in flight; their octets go to out[i]. The first failed send's errno goes to *err (a lost
// datagram: the retransmission timer in JavaScript resends it). With use_ring, through the
// thread's ring when it has one; it returns once every send has completed, so the datagrams in
// u->d can be reused (if one ever did not complete, the ring is no longer used and u->d stays
// as it is for the kernel).
static void send_batch(struct ms_slot *const *xs, int n, int use_ring, uint32_t *out, struct data_sender *one, int32_t *err) {
  if (!use_ring || n < 2 || !uring_ready()) {
    for (int i = 0; i < n; i++) {
      int32_t e = 0;
      out[i] = send_next(&xs[i]->x, one, &e);
      if (e != 0 && *err == 0) *err = e;
    }
    return;
  }
#if HAVE_URING
  struct uring *const u = &ring;
  unsigned tail = *u->sq_tail;
  for (int i = 0; i < n; i++) {
    struct data_sender *const d = &u->d[i];
    out[i] = prepare_next(&xs[i]->x, d);
    const unsigned idx = tail & u->sq_mask;
    struct io_uring_sqe *const q = &u->sqes[idx];
    memset(q, 0, sizeof *q);
    q->opcode = IORING_OP_SENDMSG;
    q->fd = xs[i]->x.fd;
    q->addr = (uint64_t)(uintptr_t)&d->mh;
    q->len = 1;
    q->msg_flags = MSG_DONTWAIT;
    q->user_data = (uint64_t)i;
    u->sq_array[idx] = idx;
    tail++;
  }
  __atomic_store_n(u->sq_tail, tail, __ATOMIC_RELEASE);
  const long submitted = syscall(__NR_io_uring_enter, u->fd, (unsigned)n, 0u, 0u, NULL, 0);
  const unsigned took = submitted < 0 ? 0 : (unsigned)submitted;
  unsigned done = uring_reap(u, err);
  if (done < took) done += uring_wait(u, took - done, err);
  if (took != (unsigned)n || done != took) {
    // The ring did not take them all, or did not finish what it took: stop using it (entries it
    // did not take stay unsubmitted for good), and send what it did not take one by one.
    u->fd = -2;
    for (unsigned i = took; i < (unsigned)n; i++) {
      if (syscall(SYS_sendmsg, xs[i]->x.fd, &u->d[i].mh, MSG_DONTWAIT) < 0 && *err == 0) *err = errno;
    }
  }
#endif
}

// Each epoll wait's ready sockets are handled in two passes: first every ordinary ACK is read
// (and checked), then every next block is sent. Sending after all the reads, rather than after
// each read, lets the clients woken by the sends queue up behind this batch instead of preempting
// it one by one: with 50 clients ~10 % fewer involuntary context switches and ~5 % less CPU for
// the server (docs/decisions/0014-tftp-busy-loop-and-libuv.md). A datagram that is not an
// ordinary ACK ends the first pass; the blocks of the ACKs read before it are still sent, and it
// stays in the receive buffer for JavaScript.
static int run_many(void *p) {
  struct mp_ctl *const c = p;
  c->slot = -1;
  c->len = -1;
  c->rounds = 0;
  c->err = 0;
  c->bytes_out = 0;
  c->waits = 0;
  if (c->max_events == 0 || c->max_events > MANY_MAX_EVENTS || c->rcap < 4 || c->slots == 0 || c->events == 0) return MP_BAD;
  struct ms_slot *const slots = (struct ms_slot *)(uintptr_t)c->slots;
  struct epoll_event *const ev = (struct epoll_event *)(uintptr_t)c->events;
  struct ms_slot *acked[MANY_MAX_EVENTS];
  uint32_t outs[MANY_MAX_EVENTS];
  struct receiver r;
  receiver_init(&r, c->rbuf, c->rcap, c->from);
  struct data_sender d;
  sender_init(&d);
  const int64_t start = now_ns();
  for (;;) {
    const int n = wait_events(c->epfd, ev, (int)c->max_events, c->wait_ns);
    if (n < 0) {
      c->err = errno;
      return MP_ERROR;
    }
    if (n == 0) return MP_IDLE;
    c->waits++;
    int64_t t = now_ns();
    int nacked = 0;
    int code = -1; // what ends this call after the sends (MP_LISTEN, MP_PACKET, MP_EMPTY), or -1
    for (int i = 0; i < n; i++) {
      const uint64_t idx = ev[i].data.u64;
      if (idx == LISTEN_MARK) {
        code = MP_LISTEN;
        break;
      }
      if (idx >= c->nslots) continue;
      struct ms_slot *const s = &slots[idx];
      const ssize_t got = receive(&r, s->x.fd, MSG_DONTWAIT);
      if (got < 0 || !s->armed || !ordinary_ack(&s->x, r.fw, r.buf, got)) {
        c->err = got < 0 ? errno : 0;
        c->slot = (int32_t)idx;
        c->len = (int32_t)got;
        code = got < 0 ? MP_EMPTY : MP_PACKET;
        break;
      }
      s->bytes_in += (uint32_t)got;
      acked[nacked++] = s;
    }
    int32_t e = 0;
    send_batch(acked, nacked, (c->flags & MP_F_URING) != 0, outs, &d, &e);
    if (e != 0 && code < 0) c->err = e; // err belongs to the returned datagram, if any
    for (int i = 0; i < nacked; i++) {
      struct ms_slot *const s = acked[i];
      s->rounds++;
      s->bytes_out += outs[i];
      s->rtt_ns = t - s->sent_ns;
      s->sent_ns = t;
      c->rounds++;
      c->bytes_out += outs[i];
    }
    if (code >= 0) return code;
    t = now_ns();
    if (t - start >= c->slice_ns) return MP_YIELD;
  }
}

// ---- N-API ----

// Calls fn on the control block whose address is the one argument; returns its code, or `bad`
// when the argument cannot be such an address (not an integer, in the lowest 64 KiB, beyond
// 2^53, or not 8-aligned). An address from the JavaScript side's own allocations is assumed.
static napi_value call_ctl(napi_env env, napi_callback_info info, int (*fn)(void *), int bad) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  double addr = 0;
  int status = bad;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_double(env, argv[0], &addr) == napi_ok && addr >= 65536.0 && addr < 9007199254740992.0 &&
      addr == (double)(uint64_t)addr && ((uint64_t)addr & 7) == 0) {
    status = fn((void *)(uintptr_t)(uint64_t)addr);
  }
  napi_create_int32(env, status, &result);
  return result;
}

static napi_value lockstep(napi_env env, napi_callback_info info) { return call_ctl(env, info, run_lockstep, LS_BAD); }

static napi_value many(napi_env env, napi_callback_info info) { return call_ctl(env, info, run_many, MP_BAD); }

// batchRing(): true when the calling thread has an io_uring for many()'s batch sends (made now
// if need be); false where the kernel or its settings do not allow one.
static napi_value batch_ring(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, uring_ready(), &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_value size;
  if (napi_create_function(env, "lockstep", NAPI_AUTO_LENGTH, lockstep, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lockstep", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "many", NAPI_AUTO_LENGTH, many, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "many", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "batchRing", NAPI_AUTO_LENGTH, batch_ring, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "batchRing", fn) != napi_ok) return NULL;
  napi_value abi;
  napi_create_uint32(env, (uint32_t)sizeof(struct ls_ctl), &size);
  napi_set_named_property(env, exports, "ctlBytes", size);
  // Raised whenever a control block's layout, a code or a flag changes (src/tftp/native.ts checks it).
  napi_create_uint32(env, 5, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  return exports;
}

NAPI_MODULE(tftp_fast, init)
