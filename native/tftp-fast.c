// bootherd's TFTP lock-step loop in C (an N-API module; docs/decisions/0013-native-lockstep-loop.md).
//
// One call runs lock-step rounds of one transfer: wait for a datagram on the transfer's socket,
// and when it is exactly the ACK of the block in flight, from the client, send the next block
// and wait again. Anything else (another sender, another opcode, another block number, the last
// block's ACK, a block not in memory, a slow ACK, a timeout, the time slice used up) returns to
// JavaScript, which owns the protocol (src/protocol/tftp/window.ts) and handles it as before.
// The datagram that ended the loop is left unconsumed in the receive buffer for it.
//
// The loop only does what the JavaScript hot path does per round, without returning to
// JavaScript: two system calls (recvfrom, sendmsg) and no N-API glue per round.
//
// The control block is memory the JavaScript side owns (an ArrayBuffer that never moves); its
// layout is struct ls_ctl below, mirrored by CTL_* in src/tftp/native.ts.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

struct ls_ctl {
  // in
  int32_t fd;           //   0 the transfer's socket (blocking or not: both work)
  uint32_t peer0;       //   4 the client's sockaddr_in, first two 32-bit words
  uint32_t peer1;       //   8   (family and port, then the address)
  uint32_t blksize;     //  12
  uint64_t base;        //  16 address of the payload of block base_block
  uint64_t end;         //  24 octets from base to the end of the file
  uint32_t base_block;  //  32 absolute number of the block whose payload starts at base
  uint32_t avail_last;  //  36 last absolute block whose payload is in memory
  uint32_t total;       //  40 number of DATA blocks of the file
  uint32_t cur;         //  44 in/out: the block in flight (sent, not yet acknowledged)
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

#define OP_DATA 3
#define OP_ACK 4

static inline int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int run(struct ls_ctl *c) {
  c->rounds = 0;
  c->len = -1;
  c->err = 0;
  c->bytes_out = 0;
  c->bytes_in = 0;
  c->last_rtt_ns = 0;
  if (c->blksize == 0 || c->rcap < 4 || c->cur < c->base_block || c->cur > c->total) return LS_BAD;

  uint8_t *const rbuf = (uint8_t *)(uintptr_t)c->rbuf;
  struct sockaddr *const from = (struct sockaddr *)(uintptr_t)c->from;
  const uint32_t *const fw = (const uint32_t *)(uintptr_t)c->from;
  const uint8_t *const base = (const uint8_t *)(uintptr_t)c->base;
  const int fd = c->fd;
  const uint32_t peer0 = c->peer0, peer1 = c->peer1, blksize = c->blksize;
  const uint32_t total = c->total, avail_last = c->avail_last, base_block = c->base_block;
  const uint64_t end = c->end;

  struct sockaddr_in to;
  memcpy(&to, &c->peer0, 8);
  memset(to.sin_zero, 0, sizeof to.sin_zero);
  uint8_t hdr[4] = {0, OP_DATA, 0, 0};
  struct iovec iov[2] = {{hdr, 4}, {NULL, 0}};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = &to;
  mh.msg_namelen = sizeof to;
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;

  uint32_t cur = c->cur;
  const int64_t start = now_ns();
  int64_t sent = start;
  for (;;) {
    socklen_t fromlen = sizeof(struct sockaddr_in);
    ssize_t n = recvfrom(fd, rbuf, c->rcap, 0, from, &fromlen);
    if (n < 0) {
      c->err = errno;
      c->cur = cur;
      return LS_MISS;
    }
    const int64_t t = now_ns();
    const int ours = fw[0] == peer0 && fw[1] == peer1 && n >= 4 && rbuf[0] == 0 && rbuf[1] == OP_ACK &&
                     (uint32_t)((rbuf[2] << 8) | rbuf[3]) == (cur & 0xffff) && cur < total && cur < avail_last;
    const int slow = t - sent > c->wait_ns;
    if (!ours || slow) {
      c->len = (int32_t)n;
      c->cur = cur;
      return slow ? LS_SLOW : LS_PACKET;
    }
    // The ACK of the block in flight: send the next one (a failed send is a lost datagram; the
    // retransmission timer in JavaScript resends it, as on the JavaScript path).
    const uint32_t b = cur + 1;
    const uint64_t off = (uint64_t)(b - base_block) * blksize;
    const uint64_t len = end - off < blksize ? end - off : blksize;
    hdr[2] = (uint8_t)(b >> 8);
    hdr[3] = (uint8_t)b;
    iov[1].iov_base = (void *)(base + off);
    iov[1].iov_len = len;
    if (sendmsg(fd, &mh, MSG_DONTWAIT) < 0) c->err = errno;
    c->last_rtt_ns = t - sent;
    c->bytes_in += (uint64_t)n;
    c->bytes_out += 4 + len;
    c->rounds++;
    cur = b;
    sent = t;
    if (t - start >= c->slice_ns) {
      c->cur = cur;
      return LS_YIELD;
    }
  }
}

// ---- many transfers: one epoll set, one slot per hot transfer ----
//
// The JavaScript side keeps a table of slots (struct ms_slot), one per transfer in the epoll set
// (the epoll event's data is the slot's index). A slot is "armed" while its fields match the
// transfer's state; JavaScript disarms a slot (after taking in its rounds) before it changes that
// state itself, and arms it again afterwards. The loop answers only armed slots' ordinary ACKs.

struct ms_slot {
  int32_t fd;           //  0
  uint32_t peer0;       //  4
  uint32_t peer1;       //  8
  uint32_t blksize;     // 12
  uint64_t base;        // 16
  uint64_t end;         // 24
  uint32_t base_block;  // 32
  uint32_t avail_last;  // 36
  uint32_t total;       // 40
  uint32_t cur;         // 44 in/out: the block in flight
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
  uint32_t pad;         // 92
};                      // 96

_Static_assert(sizeof(struct mp_ctl) == 96, "mp_ctl layout");

enum { MP_PACKET = 0, MP_EMPTY = 1, MP_IDLE = 2, MP_YIELD = 3, MP_ERROR = 4, MP_BAD = 5 };

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

static int run_many(struct mp_ctl *c) {
  c->slot = -1;
  c->len = -1;
  c->rounds = 0;
  c->err = 0;
  c->bytes_out = 0;
  c->waits = 0;
  if (c->max_events == 0 || c->rcap < 4 || c->slots == 0 || c->events == 0) return MP_BAD;
  struct ms_slot *const slots = (struct ms_slot *)(uintptr_t)c->slots;
  struct epoll_event *const ev = (struct epoll_event *)(uintptr_t)c->events;
  uint8_t *const rbuf = (uint8_t *)(uintptr_t)c->rbuf;
  struct sockaddr *const from = (struct sockaddr *)(uintptr_t)c->from;
  const uint32_t *const fw = (const uint32_t *)(uintptr_t)c->from;

  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  uint8_t hdr[4] = {0, OP_DATA, 0, 0};
  struct iovec iov[2] = {{hdr, 4}, {NULL, 0}};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_name = &to;
  mh.msg_namelen = sizeof to;
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;

  const int64_t start = now_ns();
  for (;;) {
    int n = wait_events(c->epfd, ev, (int)c->max_events, c->wait_ns);
    if (n < 0) {
      c->err = errno;
      return MP_ERROR;
    }
    if (n == 0) return MP_IDLE;
    c->waits++;
    int64_t t = now_ns();
    for (int i = 0; i < n; i++) {
      const uint64_t idx = ev[i].data.u64;
      if (idx >= c->nslots) continue;
      struct ms_slot *const s = &slots[idx];
      socklen_t fromlen = sizeof(struct sockaddr_in);
      ssize_t got = recvfrom(s->fd, rbuf, c->rcap, MSG_DONTWAIT, from, &fromlen);
      if (got < 0) {
        c->err = errno;
        c->slot = (int32_t)idx;
        return MP_EMPTY;
      }
      const uint32_t cur = s->cur;
      if (!(s->armed && fw[0] == s->peer0 && fw[1] == s->peer1 && got >= 4 && rbuf[0] == 0 && rbuf[1] == OP_ACK &&
            (uint32_t)((rbuf[2] << 8) | rbuf[3]) == (cur & 0xffff) && cur < s->total && cur < s->avail_last &&
            cur >= s->base_block && s->blksize != 0)) {
        c->slot = (int32_t)idx;
        c->len = (int32_t)got;
        return MP_PACKET;
      }
      const uint32_t b = cur + 1;
      const uint64_t off = (uint64_t)(b - s->base_block) * s->blksize;
      const uint64_t len = s->end - off < s->blksize ? s->end - off : s->blksize;
      memcpy(&to, &s->peer0, 8);
      hdr[2] = (uint8_t)(b >> 8);
      hdr[3] = (uint8_t)b;
      iov[1].iov_base = (void *)(uintptr_t)(s->base + off);
      iov[1].iov_len = len;
      if (sendmsg(s->fd, &mh, MSG_DONTWAIT) < 0) c->err = errno;
      s->cur = b;
      s->rounds++;
      s->bytes_in += (uint32_t)got;
      s->bytes_out += (uint32_t)(4 + len);
      s->rtt_ns = t - s->sent_ns;
      s->sent_ns = t;
      c->rounds++;
      c->bytes_out += 4 + len;
    }
    t = now_ns();
    if (t - start >= c->slice_ns) return MP_YIELD;
  }
}

static napi_value many(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  int64_t addr = 0;
  int status = MP_BAD;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_int64(env, argv[0], &addr) == napi_ok && addr != 0 && (addr & 7) == 0) {
    status = run_many((struct mp_ctl *)(uintptr_t)addr);
  }
  napi_create_int32(env, status, &result);
  return result;
}

static napi_value lockstep(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  int64_t addr = 0;
  int status = LS_BAD;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_int64(env, argv[0], &addr) == napi_ok && addr != 0 && (addr & 7) == 0) {
    status = run((struct ls_ctl *)(uintptr_t)addr);
  }
  napi_create_int32(env, status, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_value size;
  if (napi_create_function(env, "lockstep", NAPI_AUTO_LENGTH, lockstep, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "lockstep", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "many", NAPI_AUTO_LENGTH, many, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "many", fn) != napi_ok) return NULL;
  napi_value abi;
  napi_create_uint32(env, (uint32_t)sizeof(struct ls_ctl), &size);
  napi_set_named_property(env, exports, "ctlBytes", size);
  // Raised whenever struct ls_ctl or the LS_* codes change (src/tftp/native.ts checks it).
  napi_create_uint32(env, 2, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  return exports;
}

NAPI_MODULE(tftp_fast, init)
