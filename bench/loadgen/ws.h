/* ws: a lean WebSocket client for many connections on one epoll loop — non-blocking connect,
 * HTTP upgrade, masked text frames out, unmasked frames in (fragments reassembled, pings
 * answered). It knows nothing of pgrt's frames: complete text messages go to the handlers. */
#ifndef LG_WS_H
#define LG_WS_H
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_UPGRADING, CONN_OPEN, CONN_CLOSED };

/* One of these per simulated client. The scenario owns the array; ws owns the buffers. */
struct conn {
  int fd;
  enum conn_state state;
  uint32_t idx;            /* position in the scenario's array: user, room and target derive from it */
  bool joined;
  int64_t last_seq;        /* newest seq delivered in its room: order and duplicates are checked on it */
  uint32_t inflight;       /* sends not yet answered (closed-loop mode) */
  char *in;                /* bytes of a frame (or of the upgrade response) not yet complete */
  size_t in_len, in_cap;
  char *msg;               /* a fragmented message being reassembled */
  size_t msg_len, msg_cap;
  char *out;               /* bytes the socket would not take yet */
  size_t out_off, out_len, out_cap;
};

struct ws_handlers {
  void (*opened)(void *ctx, struct conn *c);                       /* upgrade accepted */
  void (*text)(void *ctx, struct conn *c, const char *p, size_t n); /* one complete text message */
  void (*closed)(void *ctx, struct conn *c, const char *why);       /* once, for any reason */
  void *ctx;
};

struct ws_loop {
  int epfd;
  struct ws_handlers h;
  char *scratch;           /* one read buffer shared by all connections */
  size_t scratch_cap;
  uint64_t bytes_in, bytes_out;
  /* When the bytes being handled reached the client's socket (the kernel's receive timestamp of
   * the newest segment in the read, as CLOCK_MONOTONIC ns; 0 if none came): what a client with a
   * thread of its own would see, however long this one loop took to get to the socket. */
  uint64_t rx_ns;
  int64_t real_minus_mono;   /* CLOCK_REALTIME - CLOCK_MONOTONIC at init, to convert the timestamps */
};

int ws_loop_init(struct ws_loop *loop, struct ws_handlers h);
void ws_loop_free(struct ws_loop *loop);
/* Starts connecting c to dst from source address src (0: any), sending `request` (the upgrade). */
int ws_connect(struct ws_loop *loop, struct conn *c, const struct sockaddr_in *dst, in_addr_t src,
               const char *request, size_t len);
/* Queues one masked text frame; false if the connection is not open or its backlog is full. */
bool ws_send_text(struct ws_loop *loop, struct conn *c, const char *payload, size_t len);
/* Waits up to timeout_ms and handles whatever is ready. */
void ws_poll(struct ws_loop *loop, int timeout_ms);
void ws_close(struct ws_loop *loop, struct conn *c, const char *why);
#endif
