/* ws: the WebSocket client side of the generator (see ws.h). */
#include "ws.h"
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BACKLOG (4u << 20)    /* bytes queued per connection before sends are refused */
#define MAX_MESSAGE (1u << 20)    /* largest incoming message (a frame or its fragments) */
#define SCRATCH (256u << 10)

static bool append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
  if (*len + n > *cap) {
    size_t want = *cap ? *cap : 256;
    while (want < *len + n) want *= 2;
    char *b = realloc(*buf, want);
    if (!b) return false;
    *buf = b;
    *cap = want;
  }
  memcpy(*buf + *len, p, n);
  *len += n;
  return true;
}

static void set_events(struct ws_loop *loop, struct conn *c, bool want_write) {
  struct epoll_event ev = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

int ws_loop_init(struct ws_loop *loop, struct ws_handlers h) {
  memset(loop, 0, sizeof *loop);
  loop->h = h;
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  loop->scratch_cap = SCRATCH + MAX_MESSAGE + 16;
  loop->scratch = malloc(loop->scratch_cap);
  struct timespec real, mono;
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  loop->real_minus_mono = ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
  return loop->epfd >= 0 && loop->scratch ? 0 : -1;
}

void ws_loop_free(struct ws_loop *loop) {
  if (loop->epfd >= 0) close(loop->epfd);
  free(loop->scratch);
}

void ws_close(struct ws_loop *loop, struct conn *c, const char *why) {
  if (c->state == CONN_CLOSED || c->state == CONN_IDLE) return;
  epoll_ctl(loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = CONN_CLOSED;
  free(c->in); free(c->msg); free(c->out);
  c->in = c->msg = c->out = NULL;
  c->in_len = c->in_cap = c->msg_len = c->msg_cap = c->out_off = c->out_len = c->out_cap = 0;
  loop->h.closed(loop->h.ctx, c, why);
}

/* Writes what the socket takes now, keeps the rest, and asks for EPOLLOUT while any is left. */
static void flush(struct ws_loop *loop, struct conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      ws_close(loop, c, "write failed");
      return;
    }
    c->out_off += (size_t)n;
    loop->bytes_out += (uint64_t)n;
  }
  bool pending = c->out_off < c->out_len;
  if (!pending) c->out_off = c->out_len = 0;
  set_events(loop, c, pending || c->state == CONN_CONNECTING);
}

/* Sends at once when nothing is queued (the common case: no copy), else appends. */
static bool write_or_queue(struct ws_loop *loop, struct conn *c, const char *p, size_t n) {
  if (c->out_len - c->out_off + n > MAX_BACKLOG) return false;
  if (c->out_len == c->out_off && c->state == CONN_OPEN) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      ws_close(loop, c, "write failed");
      return false;
    }
    if (w > 0) { loop->bytes_out += (uint64_t)w; p += w; n -= (size_t)w; }
    if (n == 0) return true;
  }
  if (!append(&c->out, &c->out_len, &c->out_cap, p, n)) return false;
  set_events(loop, c, true);
  return true;
}

static bool send_frame(struct ws_loop *loop, struct conn *c, int opcode, const char *payload, size_t len) {
  char stack[2048];
  size_t hdr = len < 126 ? 6 : len < 65536 ? 8 : 14;
  char *f = hdr + len <= sizeof stack ? stack : malloc(hdr + len);
  if (!f) return false;
  /* The mask must be present; its value only matters against proxies, and there are none here. */
  static const unsigned char key[4] = {0x5a, 0x17, 0xc3, 0x9e};
  f[0] = (char)(0x80 | opcode);
  if (len < 126) {
    f[1] = (char)(0x80 | len);
  } else if (len < 65536) {
    f[1] = (char)(0x80 | 126);
    f[2] = (char)(len >> 8); f[3] = (char)len;
  } else {
    f[1] = (char)(0x80 | 127);
    for (int i = 0; i < 8; i++) f[2 + i] = (char)((uint64_t)len >> (56 - 8 * i));
  }
  memcpy(f + hdr - 4, key, 4);
  for (size_t i = 0; i < len; i++) f[hdr + i] = (char)(payload[i] ^ key[i & 3]);
  bool ok = write_or_queue(loop, c, f, hdr + len);
  if (f != stack) free(f);
  return ok;
}

bool ws_send_text(struct ws_loop *loop, struct conn *c, const char *payload, size_t len) {
  return c->state == CONN_OPEN && send_frame(loop, c, 0x1, payload, len);
}

int ws_connect(struct ws_loop *loop, struct conn *c, const struct sockaddr_in *dst, in_addr_t src,
               const char *request, size_t len) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);  /* loop->rx_ns */
  if (src) {
    /* Many source addresses: each has its own ephemeral port range, so 10k+ connections (and the
     * TIME_WAITs of earlier runs) do not exhaust one. The port is picked at connect(). */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = src};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { close(fd); return -1; }
  }
  if (connect(fd, (const struct sockaddr *)dst, sizeof *dst) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  c->fd = fd;
  c->state = CONN_CONNECTING;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ||
      !append(&c->out, &c->out_len, &c->out_cap, request, len)) {
    close(fd);
    c->fd = -1;
    c->state = CONN_IDLE;
    return -1;
  }
  return 0;
}

/* The upgrade response: headers end with an empty line; anything after it is already frames. */
static size_t handle_upgrade(struct ws_loop *loop, struct conn *c, const char *p, size_t n) {
  const char *end = memmem(p, n, "\r\n\r\n", 4);
  if (!end) {
    if (n > 8192) ws_close(loop, c, "upgrade response too long");
    return 0;
  }
  if (n < 12 || memcmp(p, "HTTP/1.1 101", 12) != 0) {
    ws_close(loop, c, n >= 12 && memcmp(p + 9, "503", 3) == 0 ? "refused: 503" : "upgrade refused");
    return n;
  }
  c->state = CONN_OPEN;
  loop->h.opened(loop->h.ctx, c);
  return (size_t)(end + 4 - p);
}

static void handle_message(struct ws_loop *loop, struct conn *c, int opcode, bool fin, const char *p, size_t n) {
  switch (opcode) {
  case 0x0:  /* continuation */
  case 0x1:  /* text */
  case 0x2:  /* binary: not part of the protocol, but reassembled the same way */
    if (fin && c->msg_len == 0 && opcode != 0x0) {
      loop->h.text(loop->h.ctx, c, p, n);
      return;
    }
    if (c->msg_len + n > MAX_MESSAGE || !append(&c->msg, &c->msg_len, &c->msg_cap, p, n)) {
      ws_close(loop, c, "message too large");
      return;
    }
    if (fin) {
      loop->h.text(loop->h.ctx, c, c->msg, c->msg_len);
      c->msg_len = 0;
    }
    return;
  case 0x8:
    ws_close(loop, c, "closed by the bridge");
    return;
  case 0x9:
    send_frame(loop, c, 0xA, p, n);
    return;
  default:
    return;  /* pong */
  }
}

/* Parses as many complete frames as `p` holds; returns the bytes consumed. */
static size_t handle_frames(struct ws_loop *loop, struct conn *c, const char *buf, size_t n) {
  const unsigned char *p = (const unsigned char *)buf;
  size_t used = 0;
  while (c->state == CONN_OPEN && n - used >= 2) {
    const unsigned char *f = p + used;
    size_t avail = n - used, hdr = 2;
    uint64_t len = f[1] & 0x7f;
    if (len == 126) {
      if (avail < 4) break;
      len = (uint64_t)f[2] << 8 | f[3];
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | f[2 + i];
      hdr = 10;
    }
    if (f[1] & 0x80 || len > MAX_MESSAGE) {
      ws_close(loop, c, "bad frame from the bridge");
      return n;
    }
    if (avail < hdr + len) break;
    handle_message(loop, c, f[0] & 0x0f, f[0] & 0x80, (const char *)f + hdr, (size_t)len);
    used += hdr + (size_t)len;
  }
  return c->state == CONN_OPEN || c->state == CONN_UPGRADING ? used : n;
}

static void on_readable(struct ws_loop *loop, struct conn *c) {
  char *buf = loop->scratch;
  size_t have = c->in_len;
  if (have) memcpy(buf, c->in, have);
  struct iovec iov = {.iov_base = buf + have, .iov_len = SCRATCH};
  union { char buf[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } ctl;
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  ssize_t r = recvmsg(c->fd, &mh, 0);
  loop->rx_ns = 0;
  for (struct cmsghdr *cm = r > 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm; cm = CMSG_NXTHDR(&mh, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(cm), sizeof ts);
      loop->rx_ns = (uint64_t)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - loop->real_minus_mono);
    }
  if (r <= 0) {
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    ws_close(loop, c, r == 0 ? "connection closed by the bridge" : "read failed");
    return;
  }
  loop->bytes_in += (uint64_t)r;
  size_t n = have + (size_t)r, used = 0;
  if (c->state == CONN_UPGRADING) used = handle_upgrade(loop, c, buf, n);
  if (c->state == CONN_OPEN) used += handle_frames(loop, c, buf + used, n - used);
  if (c->state != CONN_OPEN && c->state != CONN_UPGRADING) return;
  c->in_len = 0;
  if (used < n && !append(&c->in, &c->in_len, &c->in_cap, buf + used, n - used)) ws_close(loop, c, "out of memory");
}

static void on_writable(struct ws_loop *loop, struct conn *c) {
  if (c->state == CONN_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      ws_close(loop, c, "connect failed");
      return;
    }
    c->state = CONN_UPGRADING;
  }
  flush(loop, c);
}

void ws_poll(struct ws_loop *loop, int timeout_ms) {
  struct epoll_event evs[256];
  int n = epoll_wait(loop->epfd, evs, 256, timeout_ms);
  for (int i = 0; i < n; i++) {
    struct conn *c = evs[i].data.ptr;
    if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP) && c->state != CONN_CLOSED) on_writable(loop, c);
    if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) && c->state != CONN_CLOSED &&
        c->state != CONN_CONNECTING) on_readable(loop, c);
  }
}
