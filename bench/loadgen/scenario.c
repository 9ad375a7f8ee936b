/* scenario: phases, rate control and delivery accounting of one run (see scenario.h). */
#include "scenario.h"
#include "json_scan.h"
#include "proc_stats.h"
#include "ws.h"
#include <arpa/inet.h>
#include <inttypes.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HANDSHAKES 512   /* connections between connect() and their join reply, at most */

struct run {
  const struct lg_config *cfg;
  struct lg_result *res;
  struct ws_loop loop;
  struct conn *conns;
  uint32_t *joined_in_room;  /* connections joined per room: the deliveries a send there should make */
  uint32_t started, pending, settled;  /* connects started; not yet joined; joined or failed */
  /* Per message (global id g): when sent, how many deliveries it should make and has made. */
  uint64_t *sent_at;
  uint16_t *want, *got;
  uint8_t *answered;         /* 0: no reply yet, 1: acknowledged, 2: refused */
  uint64_t max_msgs;
  bool finished;             /* the run is over: closes are ours, not failures */
  bool sending;              /* closed loop: an ack triggers the next send while this holds */
  uint32_t next_sender;
  uint64_t first_send, last_event, last_frame;
  uint64_t first_connect, last_join;
  char nonce[16];
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t room_of(const struct run *run, const struct conn *c) { return c->idx % run->cfg->rooms; }

static void note_error(struct run *run, const char *p, size_t n) {
  if (run->res->first_error[0]) return;
  if (n >= sizeof run->res->first_error) n = sizeof run->res->first_error - 1;
  for (size_t i = 0; i < n; i++) run->res->first_error[i] = p[i] == ' ' ? '_' : p[i];
  run->res->first_error[n] = '\0';
}

static char *token_for(const char *secret, const char *sub) {
  jwt_t *jwt = NULL;
  char *out = NULL;
  if (jwt_new(&jwt) == 0 && jwt_add_grant(jwt, "sub", sub) == 0 &&
      jwt_add_grant_int(jwt, "exp", (long)time(NULL) + 86400) == 0 &&
      jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) == 0)
    out = jwt_encode_str(jwt);
  jwt_free(jwt);
  return out;
}

static int start_connect(struct run *run, struct conn *c) {
  const struct lg_config *cfg = run->cfg;
  char sub[96], req[1024];
  snprintf(sub, sizeof sub, "%s%u", cfg->user_prefix, c->idx);
  char *tok = token_for(cfg->secret, sub);
  if (!tok) return -1;
  int port = cfg->ports[c->idx % (uint32_t)cfg->nports];
  int n = snprintf(req, sizeof req,
                   "GET /ws?token=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   tok, cfg->host, port);
  free(tok);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, cfg->host, &dst.sin_addr) != 1 || n <= 0 || (size_t)n >= sizeof req) return -1;
  in_addr_t src = 0;
  if (ntohl(dst.sin_addr.s_addr) == 0x7f000001u) src = htonl(0x7f000002u + c->idx % 32u);
  return ws_connect(&run->loop, c, &dst, src, req, (size_t)n);
}

/* Sends one stamped message from c; false when the run's message table is full or c cannot send. */
static bool send_one(struct run *run, struct conn *c) {
  if (run->res->sent >= run->max_msgs || !c->joined) return false;
  uint64_t g = run->res->sent, t = now_ns();
  char body[4096], frame[4400];
  int bl = snprintf(body, sizeof body, "lg%s:%u:%" PRIu64 ":%" PRIu64 ":", run->nonce, c->idx, g, t);
  while ((uint32_t)bl < run->cfg->body_bytes && bl < (int)sizeof body - 1) body[bl++] = '.';
  body[bl] = '\0';
  int n = snprintf(frame, sizeof frame, "{\"type\":\"send\",\"room\":\"%s%u\",\"ref\":\"%" PRIu64 "\",\"body\":\"%s\"}",
                   run->cfg->room_prefix, room_of(run, c), g, body);
  if (!ws_send_text(&run->loop, c, frame, (size_t)n)) return false;
  if (!run->first_send) run->first_send = t;
  run->sent_at[g] = t;
  uint32_t want = run->joined_in_room[room_of(run, c)];
  run->want[g] = (uint16_t)(want > UINT16_MAX ? UINT16_MAX : want);
  run->res->expected += run->want[g];
  run->res->sent++;
  c->inflight++;
  return true;
}

static void on_delivery(struct run *run, struct conn *c, struct json_span seq, struct json_span data, uint64_t t) {
  static const char *const names[] = {"body"};
  struct json_span body;
  int64_t s;
  if (json_span_int(seq, &s)) {
    if (s <= c->last_seq) run->res->out_of_order++;
    c->last_seq = s;
  }
  size_t nl = strlen(run->nonce);
  if (!data.p || !json_members(data.p, data.len, names, 1, &body) || !body.p || body.len < 3 + nl ||
      memcmp(body.p, "lg", 2) != 0 || memcmp(body.p + 2, run->nonce, nl) != 0) {
    run->res->foreign++;
    return;
  }
  unsigned long long sender, g, sent;
  char tmp[96];
  size_t n = body.len < sizeof tmp - 1 ? body.len : sizeof tmp - 1;
  memcpy(tmp, body.p, n);
  tmp[n] = '\0';
  if (sscanf(tmp + 2 + nl, ":%llu:%llu:%llu:", &sender, &g, &sent) != 3 || g >= run->res->sent) {
    run->res->foreign++;
    return;
  }
  if (run->got[g] >= run->want[g]) run->res->duplicates++;
  else run->res->delivered++;
  if (run->got[g] < UINT16_MAX) run->got[g]++;
  hist_add(run->res->latency, t > sent ? t - sent : 0);
  run->last_event = t;
}

/* When the frame being handled reached its socket (ws.h rx_ns): latencies are measured to that
 * moment, not to when this one thread, reading 5,000 clients' sockets in turn, got to it; the
 * difference is the generator's own lag (lag_p99_ms). */
static uint64_t arrived(const struct run *run) {
  uint64_t now = now_ns(), rx = run->loop.rx_ns;
  return rx && rx <= now ? rx : now;
}

static void on_reply(struct run *run, struct conn *c, struct json_span ref, struct json_span ok, const char *text, size_t len) {
  static const char *const err_names[] = {"error"}, *const code_names[] = {"code"};
  struct json_span err, code;
  bool good = json_span_is(ok, "true");
  if (!good && json_members(text, len, err_names, 1, &err) && err.p &&
      json_members(err.p, err.len, code_names, 1, &code) && code.p)
    note_error(run, code.p, code.len);
  if (json_span_is(ref, "j")) {
    run->pending--;
    run->settled++;
    run->res->join_reply_bytes += len;
    run->last_join = now_ns();
    if (good) {
      static const char *const data_names[] = {"data"}, *const occ_names[] = {"occupancy"};
      struct json_span data, occ;
      int64_t n;
      if (json_members(text, len, data_names, 1, &data) && data.p && json_members(data.p, data.len, occ_names, 1, &occ) &&
          json_span_int(occ, &n))
        run->res->last_occupancy = n;
      c->joined = true;
      run->joined_in_room[room_of(run, c)]++;
    } else {
      run->res->join_fail++;
      ws_close(&run->loop, c, "join refused");
    }
    return;
  }
  int64_t g;
  if (!json_span_int(ref, &g) || (uint64_t)g >= run->res->sent) return;
  uint64_t t = arrived(run);
  if (run->answered[g]) return;
  if (good) {
    run->answered[g] = 1;
    run->res->acked++;
    hist_add(run->res->ack, t - run->sent_at[g]);
  } else {
    run->answered[g] = 2;   /* refused: nothing was stored, nothing is due */
    run->res->send_err++;
    run->res->expected -= run->want[g];
    run->want[g] = 0;
  }
  run->last_event = t;
  if (c->inflight) c->inflight--;
  if (run->sending && run->cfg->window) send_one(run, c);
}

static void on_text(void *ctx, struct conn *c, const char *p, size_t n) {
  static const char *const names[] = {"type", "ref", "ok", "event", "seq", "data"};
  struct run *run = ctx;
  struct json_span v[6];
  uint64_t t = now_ns();
  run->last_frame = t;
  if (!json_members(p, n, names, 6, v)) return;
  if (json_span_is(v[0], "event")) {
    if (json_span_is(v[3], "message")) {
      uint64_t at = arrived(run);
      hist_add(run->res->lag, t - at);
      on_delivery(run, c, v[4], v[5], at);
    } else if (json_span_is(v[3], "presence") || json_span_is(v[3], "presence_batch") || json_span_is(v[3], "occupancy")) {
      static const char *const occ_names[] = {"occupancy"};
      struct json_span occ;
      int64_t count;
      run->res->presence_frames++;
      run->res->presence_bytes += n;
      if (v[5].p && json_members(v[5].p, v[5].len, occ_names, 1, &occ) && json_span_int(occ, &count))
        run->res->last_occupancy = count;
    }
  } else if (json_span_is(v[0], "reply")) {
    on_reply(run, c, v[1], v[2], p, n);
  } else if (json_span_is(v[0], "welcome")) {
    char frame[256];
    int len = snprintf(frame, sizeof frame, "{\"type\":\"join\",\"room\":\"%s%u\",\"ref\":\"j\"}",
                       run->cfg->room_prefix, room_of(run, c));
    ws_send_text(&run->loop, c, frame, (size_t)len);
  } else if (json_span_is(v[0], "error")) {
    static const char *const code_names[] = {"code"};
    struct json_span code;
    if (json_members(p, n, code_names, 1, &code) && code.p) note_error(run, code.p, code.len);
  }
}

static void on_opened(void *ctx, struct conn *c) { (void)ctx; (void)c; }

static void on_closed(void *ctx, struct conn *c, const char *why) {
  struct run *run = ctx;
  if (run->finished) return;
  if (c->joined) {
    c->joined = false;
    run->joined_in_room[room_of(run, c)]--;
    run->res->closed_early++;
    note_error(run, why, strlen(why));
  } else if (strcmp(why, "join refused") != 0) {
    run->res->connect_fail++;
    run->pending--;
    run->settled++;
    note_error(run, why, strlen(why));
  }
}

static void sample_bridges(const struct lg_config *cfg, long *rss, double *cpu) {
  *rss = 0;
  *cpu = 0;
  for (int i = 0; i < cfg->npids; i++) {
    long r = proc_rss_kib(cfg->bridge_pids[i]);
    double u = proc_cpu_seconds(cfg->bridge_pids[i]);
    if (r > 0) *rss += r;
    if (u > 0) *cpu += u;
  }
}

/* Connects every client at the configured rate, keeping at most MAX_HANDSHAKES in progress. */
static void connect_all(struct run *run) {
  const struct lg_config *cfg = run->cfg;
  uint64_t t0 = now_ns();
  uint64_t deadline = t0 + (uint64_t)((cfg->conns / (double)cfg->connect_rate + cfg->join_timeout) * 1e9);
  while (run->settled < cfg->conns && now_ns() < deadline) {
    double elapsed = (double)(now_ns() - t0) / 1e9;
    while (run->started < cfg->conns && run->pending < MAX_HANDSHAKES && run->started < elapsed * cfg->connect_rate + 1) {
      struct conn *c = &run->conns[run->started++];
      if (!run->first_connect) run->first_connect = now_ns();
      run->pending++;
      if (start_connect(run, c) != 0) {
        run->pending--;
        run->settled++;
        run->res->connect_fail++;
        note_error(run, "connect() failed", 16);
      }
    }
    ws_poll(&run->loop, 1);
  }
}

static void poll_for(struct run *run, double seconds) {
  uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
  while (now_ns() < end) ws_poll(&run->loop, 10);
}

/* Waits until no frame has arrived for a second (the presence of everybody joining has reached
 * everybody, and the bridge is idle again), but at most `seconds`. */
static void settle(struct run *run, double seconds) {
  uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
  while (now_ns() < end && now_ns() - run->last_frame < 1000000000u) ws_poll(&run->loop, 10);
}

/* Open loop: the number of sends due is rate x elapsed, whatever the replies do; the senders take
 * turns. Closed loop: each sender starts `window` sends and every reply starts the next. */
static void send_phase(struct run *run) {
  const struct lg_config *cfg = run->cfg;
  uint64_t t0 = now_ns(), end = t0 + (uint64_t)(cfg->duration * 1e9);
  uint32_t senders = cfg->senders ? cfg->senders : cfg->conns;
  if (senders > cfg->conns) senders = cfg->conns;
  run->sending = true;
  if (cfg->window) {
    for (uint32_t w = 0; w < cfg->window; w++)
      for (uint32_t i = 0; i < senders; i++) send_one(run, &run->conns[i]);
  }
  uint64_t attempts = 0;
  while (now_ns() < end) {
    if (!cfg->window) {
      uint64_t due = (uint64_t)(cfg->rate * (double)(now_ns() - t0) / 1e9);
      uint32_t tries = 0;
      while (attempts < due && tries < senders) {
        struct conn *c = &run->conns[run->next_sender];
        run->next_sender = (run->next_sender + 1) % senders;
        if (send_one(run, c)) attempts++;
        else tries++;   /* a closed or refused sender skips its turn */
      }
      if (tries >= senders) attempts = due;  /* nobody can send: do not build a burst */
    }
    ws_poll(&run->loop, 1);
  }
  run->sending = false;
}

static bool all_settled(const struct run *run) {
  return run->res->acked + run->res->send_err >= run->res->sent && run->res->delivered >= run->res->expected;
}

int scenario_run(const struct lg_config *cfg, struct lg_result *res) {
  struct run run = {.cfg = cfg, .res = res};
  struct ws_handlers h = {.opened = on_opened, .text = on_text, .closed = on_closed, .ctx = &run};
  memset(res, 0, sizeof *res);
  res->last_occupancy = -1;
  res->latency = calloc(1, sizeof *res->latency);
  res->ack = calloc(1, sizeof *res->ack);
  res->lag = calloc(1, sizeof *res->lag);
  double per_s = cfg->window ? 200000.0 : cfg->rate;
  run.max_msgs = (uint64_t)(per_s * cfg->duration * 1.2) + 10000;
  run.conns = calloc(cfg->conns, sizeof *run.conns);
  run.joined_in_room = calloc(cfg->rooms, sizeof *run.joined_in_room);
  run.sent_at = calloc(run.max_msgs, sizeof *run.sent_at);
  run.want = calloc(run.max_msgs, sizeof *run.want);
  run.got = calloc(run.max_msgs, sizeof *run.got);
  run.answered = calloc(run.max_msgs, sizeof *run.answered);
  if (!run.answered || !res->latency || !res->ack || !res->lag || !run.conns || !run.joined_in_room || !run.sent_at || !run.want || !run.got ||
      ws_loop_init(&run.loop, h) != 0) {
    fprintf(stderr, "rt-loadgen: out of memory\n");
    return -1;
  }
  snprintf(run.nonce, sizeof run.nonce, "%x", (unsigned)(now_ns() & 0xffffff));
  for (uint32_t i = 0; i < cfg->conns; i++) run.conns[i] = (struct conn){.fd = -1, .idx = i};

  double cpu, join_pg0 = cfg->pg_pid ? proc_tree_cpu_seconds(cfg->pg_pid) : 0;
  sample_bridges(cfg, &res->rss_before_kib, &cpu);
  double join_bridge0 = cpu;
  connect_all(&run);
  for (uint32_t i = 0; i < cfg->conns; i++) res->connected += run.conns[i].joined;
  if (run.last_join > run.first_connect) res->join_all_seconds = (double)(run.last_join - run.first_connect) / 1e9;
  fprintf(stderr, "connect phase: %u started, %u settled, %u still pending, %u joined\n", run.started, run.settled,
          run.pending, res->connected);
  settle(&run, cfg->settle);
  sample_bridges(cfg, &res->rss_joined_kib, &cpu);
  res->join_bridge_cpu = cpu - join_bridge0;
  res->join_pg_cpu = cfg->pg_pid ? proc_tree_cpu_seconds(cfg->pg_pid) - join_pg0 : 0;

  double bridge0 = cpu, pg0 = cfg->pg_pid ? proc_tree_cpu_seconds(cfg->pg_pid) : 0, self0 = self_cpu_seconds();
  uint64_t t0 = now_ns();
  if (cfg->rate > 0 || cfg->window) {
    send_phase(&run);
    uint64_t end = now_ns() + (uint64_t)(cfg->drain * 1e9);
    while (!all_settled(&run) && now_ns() < end) ws_poll(&run.loop, 5);
  } else {
    poll_for(&run, cfg->duration);
  }
  uint64_t t1 = now_ns();
  sample_bridges(cfg, &res->rss_end_kib, &cpu);
  res->bridge_cpu = cpu - bridge0;
  res->pg_cpu = cfg->pg_pid ? proc_tree_cpu_seconds(cfg->pg_pid) - pg0 : 0;
  res->self_cpu = self_cpu_seconds() - self0;
  res->wall = (double)(t1 - t0) / 1e9;
  if (run.first_send && run.last_event > run.first_send) res->send_seconds = (double)(run.last_event - run.first_send) / 1e9;
  /* Lost: committed (acknowledged) but not delivered to every member. A send still unanswered when
   * the drain ends is late, not lost: it is counted apart. */
  for (uint64_t g = 0; g < res->sent; g++) {
    if (run.answered[g] == 1 && run.got[g] < run.want[g]) res->lost += run.want[g] - run.got[g];
    if (run.answered[g] == 0) res->unanswered++;
  }

  run.finished = true;
  for (uint32_t i = 0; i < cfg->conns; i++) ws_close(&run.loop, &run.conns[i], "done");
  ws_loop_free(&run.loop);
  free(run.conns); free(run.joined_in_room); free(run.sent_at); free(run.want); free(run.got); free(run.answered);
  return 0;
}
