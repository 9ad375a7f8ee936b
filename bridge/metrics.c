/*
 * metrics: plain counters (one process, one thread: no atomics needed) and two histograms, written
 * in the Prometheus text exposition format with base units and _total/_seconds suffixes.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"

/* Command types are protocol.c's frame types plus "other" (anything unknown), counted in one row each. */
#define NTYPES_MAX 32
#define NTYPES (protocol_nframe_types + 1)
static const char *const outcomes[] = {"ok", "BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND",
                                       "CONFLICT", "INVALID_TRANSITION", "TOO_LARGE", "RATE_LIMITED",
                                       "UNAVAILABLE", "INTERNAL"};
#define NOUTCOMES (sizeof outcomes / sizeof outcomes[0])

static const double bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

struct histogram {
    unsigned long long buckets[NBOUNDS + 1];
    unsigned long long count;
    double sum;
};

static struct {
    unsigned long long frames_in, frames_out, socket_writes, socket_write_waits, batches, batched_commands, db_reconnects, slow_consumer_closes,
        rate_limited, gap_fills, notifications, handshakes_pending, handshakes_abandoned, gap_fills_unresolved,
        gap_fills_deferred, batches_split, batch_split_commands;
    unsigned long long upgrades_refused[REFUSED_AUTH_TIMEOUT + 1];
    unsigned long long notify_auth[4]; /* by notify_auth_result: ok, unsigned, unknown_key, bad_tag */
    unsigned long long commands[NTYPES_MAX][NOUTCOMES];
    struct histogram latency, notify_lag;
} m;

unsigned long long metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000ull;
}

static void observe(struct histogram *h, double seconds)
{
    size_t i = 0;
    while (i < NBOUNDS && seconds > bounds[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum += seconds;
}

static size_t type_index(const char *type, size_t len)
{
    size_t i = protocol_frame_index(type, len);
    return i < NTYPES_MAX ? i : NTYPES_MAX - 1; /* test_protocol keeps the table below NTYPES_MAX */
}

static const char *type_name(size_t i) { return i < protocol_nframe_types ? protocol_frame_types[i].name : "other"; }

static size_t outcome_index(const char *code, size_t len)
{
    for (size_t i = 1; i < NOUTCOMES; i++)
        if (strlen(outcomes[i]) == len && strncmp(outcomes[i], code, len) == 0)
            return i;
    return NOUTCOMES - 1;
}

/* The value of a top-level "key": "string" pair in JSON text, without a full parse. */
static const char *string_field(const char *text, size_t text_len, const char *key, size_t *len)
{
    char pattern[32];
    int n = snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *end = text + text_len, *p = text;
    while ((p = memmem(p, (size_t)(end - p), pattern, (size_t)n))) {
        p += n;
        while (p < end && (*p == ' ' || *p == ':'))
            p++;
        if (p < end && *p == '"') {
            const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
            if (q) {
                *len = (size_t)(q - p - 1);
                return p + 1;
            }
        }
    }
    return NULL;
}

void metrics_frame_in(void) { m.frames_in++; }
void metrics_frame_out(void) { m.frames_out++; }
void metrics_socket_write(void) { m.socket_writes++; }
void metrics_socket_write_wait(void) { m.socket_write_waits++; }
void metrics_db_reconnect(void) { m.db_reconnects++; }
void metrics_slow_consumer(void) { m.slow_consumer_closes++; }
void metrics_rate_limited(void) { m.rate_limited++; }
void metrics_gap_fill(void) { m.gap_fills++; }
void metrics_gap_fill_unresolved(void) { m.gap_fills_unresolved++; }
void metrics_gap_fill_deferred(void) { m.gap_fills_deferred++; }

void metrics_upgrade_refused(enum refusal why) { m.upgrades_refused[why]++; }
void metrics_handshake_begin(void) { m.handshakes_pending++; }

void metrics_notify_auth(int result)
{
    if (result >= 0 && result < 4)
        m.notify_auth[result]++;
}

void metrics_handshake_end(bool abandoned)
{
    if (m.handshakes_pending)
        m.handshakes_pending--;
    m.handshakes_abandoned += abandoned;
}

void metrics_batch_split(unsigned commands)
{
    m.batches_split++;
    m.batch_split_commands += commands;
}

void metrics_batch(unsigned commands)
{
    m.batches++;
    m.batched_commands += commands;
}

void metrics_command_done(const char *frame, size_t frame_len, bool ok, const char *body,
                          unsigned long long started_us)
{
    size_t tlen = 0, clen = 0;
    const char *type = string_field(frame, frame_len, "type", &tlen);
    const char *code = ok ? NULL : string_field(body, strlen(body), "code", &clen);
    m.commands[type ? type_index(type, tlen) : NTYPES - 1][ok ? 0 : code ? outcome_index(code, clen) : NOUTCOMES - 1]++;
    unsigned long long now = metrics_now_us();
    if (started_us && now >= started_us)
        observe(&m.latency, (double)(now - started_us) / 1e6);
}

void metrics_command_local(const char *type, const char *outcome)
{
    m.commands[type_index(type, strlen(type))][strcmp(outcome, "ok") == 0 ? 0 : outcome_index(outcome, strlen(outcome))]++;
}

void metrics_notify(json_t *frame)
{
    m.notifications++;
    json_t *at = json_object_get(frame, "at");
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *s = json_string_value(at);
    char *rest = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!rest)
        return;
    double frac = 0;
    if (*rest == '.')
        frac = strtod(rest, NULL);
    double committed = (double)timegm(&tm) + frac, now = (double)metrics_now_us() / 1e6;
    if (now >= committed)
        observe(&m.notify_lag, now - committed);
}

struct out {
    char *buf;
    size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)(n > 0 ? n : 0);
        char *grown = realloc(o->buf, cap);
        if (!grown)
            return;
        o->buf = grown;
        o->cap = cap;
    }
}

static void counter(struct out *o, const char *name, const char *help, unsigned long long v)
{
    put(o, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void gauge(struct out *o, const char *name, const char *help, double v)
{
    put(o, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

static void histogram(struct out *o, const char *name, const char *help, const struct histogram *h)
{
    put(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    unsigned long long cumulative = 0;
    for (size_t i = 0; i < NBOUNDS; i++) {
        cumulative += h->buckets[i];
        put(o, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], cumulative);
    }
    put(o, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name, h->count, name, h->sum, name, h->count);
}

char *metrics_render(const struct metrics_gauges *g, size_t *len)
{
    struct out o = {malloc(16384), 0, 16384};
    if (!o.buf)
        return NULL;
    gauge(&o, "pgrt_connections", "Open WebSocket connections (not counting those being closed).", g->connections);
    gauge(&o, "pgrt_rooms", "Rooms with at least one connection joined on this bridge.", g->rooms);
    gauge(&o, "pgrt_db_up", "1 while the database is reachable.", g->db_up ? 1 : 0);
    gauge(&o, "pgrt_commands_pending", "Client commands queued or in flight to the database.", g->commands_pending);
    counter(&o, "pgrt_frames_received_total", "WebSocket frames received from clients.", m.frames_in);
    counter(&o, "pgrt_frames_sent_total", "WebSocket frames sent to clients.", m.frames_out);
    counter(&o, "pgrt_socket_writes_total", "Writes of queued frames to client sockets (one carries every frame waiting).",
            m.socket_writes);
    counter(&o, "pgrt_socket_write_waits_total",
            "Times frames waited for a client's socket to take more (a client reading slower than it is sent to).",
            m.socket_write_waits);
    put(&o, "# HELP pgrt_commands_total Client commands by type and outcome (ok or the error code).\n"
            "# TYPE pgrt_commands_total counter\n");
    for (size_t t = 0; t < NTYPES; t++)
        for (size_t c = 0; c < NOUTCOMES; c++)
            if (m.commands[t][c])
                put(&o, "pgrt_commands_total{type=\"%s\",outcome=\"%s\"} %llu\n", type_name(t), outcomes[c],
                    m.commands[t][c]);
    histogram(&o, "pgrt_command_duration_seconds", "From a command's arrival to its reply (after commit).", &m.latency);
    histogram(&o, "pgrt_notify_lag_seconds", "From an event's commit timestamp to its NOTIFY arriving here.",
              &m.notify_lag);
    counter(&o, "pgrt_notifications_total", "NOTIFY payloads received.", m.notifications);
    counter(&o, "pgrt_db_batches_total", "rt.batch calls sent.", m.batches);
    counter(&o, "pgrt_db_batched_commands_total", "Client commands sent inside rt.batch calls.", m.batched_commands);
    counter(&o, "pgrt_db_batches_split_total",
            "rt.batch calls that failed as a whole; their commands were retried one by one so only the guilty one failed.",
            m.batches_split);
    counter(&o, "pgrt_db_reconnects_total", "Database connections lost (each is retried with backoff).",
            m.db_reconnects + g->listen_reconnects);
    counter(&o, "pgrt_slow_consumer_closes_total", "Connections closed with 4008 (send queue full).",
            m.slow_consumer_closes);
    counter(&o, "pgrt_rate_limited_total", "Frames refused with RATE_LIMITED.", m.rate_limited);
    static const char *const refusal_names[] = {"full",       "per_user",        "auth",        "origin",
                                                "maintenance", "rate_limit",     "unauthenticated", "first_frame",
                                                "auth_timeout"};
    put(&o, "# HELP pgrt_upgrades_refused_total WebSocket upgrades refused, by reason (full: 503 at --max-connections; "
            "per_user: 429 at --max-connections-per-user; auth: 401; origin: 403; maintenance: 503; rate_limit: 429; "
            "unauthenticated: 503 at --max-unauthenticated-connections); a pgrt.auth connection refused at its auth "
            "frame counts under the same reasons, and first_frame (4000) and auth_timeout (4008).\n"
            "# TYPE pgrt_upgrades_refused_total counter\n");
    for (size_t i = 0; i < sizeof refusal_names / sizeof refusal_names[0]; i++)
        put(&o, "pgrt_upgrades_refused_total{reason=\"%s\"} %llu\n", refusal_names[i], m.upgrades_refused[i]);
    gauge(&o, "pgrt_connections_unauthenticated",
          "pgrt.auth connections waiting for their auth frame (at most --max-unauthenticated-connections).",
          g->unauthenticated);
    gauge(&o, "pgrt_handshakes_pending", "Accepted connections whose first HTTP request or upgrade is not complete yet.",
          (double)m.handshakes_pending);
    counter(&o, "pgrt_handshakes_abandoned_total",
            "Connections closed before completing their first request (--handshake-timeout, or the peer gave up).",
            m.handshakes_abandoned);
    put(&o, "# HELP pgrt_notifications_rejected_total NOTIFY payloads dropped because their tag did not verify "
            "(unsigned, unknown_key, bad_tag): sent by a role other than pgrt's functions.\n"
            "# TYPE pgrt_notifications_rejected_total counter\n");
    static const char *const rejections[] = {NULL, "unsigned", "unknown_key", "bad_tag"}; /* notify_auth.h order */
    for (int r = 1; r < 4; r++)
        put(&o, "pgrt_notifications_rejected_total{reason=\"%s\"} %llu\n", rejections[r], m.notify_auth[r]);
    counter(&o, "pgrt_gap_fills_total", "Reads of a room's event log to fill a gap in the live stream.", m.gap_fills);
    counter(&o, "pgrt_gap_fills_unresolved_total",
            "Gap fills that found no event for an announced seq (the log does not hold it): the room stopped filling.",
            m.gap_fills_unresolved);
    counter(&o, "pgrt_gap_fills_deferred_total",
            "Gap fills postponed to the next second: the room had used its 200 reads of this second.", m.gap_fills_deferred);
    *len = o.len;
    return o.buf;
}
