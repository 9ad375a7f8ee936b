/*
 * pgconn: async connect (PQconnectStartParams/PQconnectPoll), readiness from a uv_poll_t, and a
 * single teardown path that schedules the next attempt with capped exponential backoff and jitter.
 *
 * The poll handle watches a dup() of libpq's socket: libpq closes its own fd when it sees EOF, and
 * a poll on a closed (possibly reused) fd number would watch the wrong socket.
 */
#include "pgconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

enum pgconn_state { PGCONN_WAITING, PGCONN_CONNECTING, PGCONN_READY, PGCONN_CLOSING };

struct watch {
    uv_poll_t poll;
    int fd;
};

struct pgconn {
    uv_loop_t *loop;
    struct pgconn_options opt;
    const struct pgconn_ops *ops;
    void *user;
    PGconn *conn;
    struct watch *watch;
    int watched_pg_fd;
    int events;
    enum pgconn_state state;
    uv_timer_t retry_timer;   /* backoff between attempts */
    uv_timer_t connect_timer; /* connect timeout */
    int backoff_ms;
    bool ever_ready;
    unsigned long reconnects;
    int pending_closes;
};

static void on_poll(uv_poll_t *handle, int status, int events);
static void schedule_retry(struct pgconn *pc);

static void watch_closed(uv_handle_t *h)
{
    struct watch *w = (struct watch *)h; /* poll is the first member */
    close(w->fd);
    free(w);
}

static void unwatch(struct pgconn *pc)
{
    if (!pc->watch)
        return;
    uv_poll_stop(&pc->watch->poll);
    uv_close((uv_handle_t *)&pc->watch->poll, watch_closed);
    pc->watch = NULL;
    pc->watched_pg_fd = -1;
}

/* Points the poll handle at libpq's current socket with the given events. */
static int watch(struct pgconn *pc, int events)
{
    int fd = PQsocket(pc->conn);
    if (fd < 0)
        return -1;
    if (pc->watch && pc->watched_pg_fd != fd)
        unwatch(pc);
    if (!pc->watch) {
        struct watch *w = calloc(1, sizeof *w);
        if (!w)
            return -1;
        w->fd = dup(fd);
        if (w->fd < 0 || uv_poll_init(pc->loop, &w->poll, w->fd) != 0) {
            if (w->fd >= 0)
                close(w->fd);
            free(w);
            return -1;
        }
        w->poll.data = pc;
        pc->watch = w;
        pc->watched_pg_fd = fd;
        pc->events = 0;
    }
    if (events != pc->events) {
        uv_poll_start(&pc->watch->poll, events, on_poll);
        pc->events = events;
    }
    return 0;
}

/* The one teardown path for a connection attempt or a live connection. */
static void drop(struct pgconn *pc, const char *reason)
{
    char why[256]; /* reason often points into the PGconn freed below */
    snprintf(why, sizeof why, "%s", reason ? reason : "");
    for (char *c = why; *c; c++)
        if (*c == '\n' || *c == '"')
            *c = ' ';
    bool was_ready = pc->state == PGCONN_READY;
    unwatch(pc);
    uv_timer_stop(&pc->connect_timer);
    if (pc->conn) {
        PQfinish(pc->conn);
        pc->conn = NULL;
    }
    pc->state = PGCONN_WAITING;
    if (was_ready) {
        log_warn("db_lost", "app=%s reason=\"%.200s\"", pc->opt.application, why);
        if (pc->ops->lost)
            pc->ops->lost(pc, why);
    } else {
        log_debug("db_connect_failed", "app=%s reason=\"%.200s\"", pc->opt.application, why);
    }
    if (pc->state == PGCONN_WAITING)
        schedule_retry(pc);
}

static const char *error_text(struct pgconn *pc, char *buf, size_t size)
{
    const char *m = pc->conn ? PQerrorMessage(pc->conn) : "out of memory";
    size_t n = 0;
    for (; m[n] && n + 1 < size; n++)
        buf[n] = (m[n] == '\n' || m[n] == '"') ? ' ' : m[n];
    buf[n] = '\0';
    return buf;
}

static void became_ready(struct pgconn *pc)
{
    uv_timer_stop(&pc->connect_timer);
    if (PQsetnonblocking(pc->conn, 1) != 0) {
        drop(pc, "cannot set non-blocking mode");
        return;
    }
    if (pc->ever_ready)
        pc->reconnects++;
    pc->ever_ready = true;
    pc->backoff_ms = 0;
    pc->state = PGCONN_READY;
    if (watch(pc, UV_READABLE) != 0) {
        drop(pc, "cannot watch the socket");
        return;
    }
    if (pc->ops->ready)
        pc->ops->ready(pc);
}

static void continue_connect(struct pgconn *pc)
{
    char err[256];
    switch (PQconnectPoll(pc->conn)) {
    case PGRES_POLLING_OK:
        became_ready(pc);
        return;
    case PGRES_POLLING_READING:
        if (watch(pc, UV_READABLE) != 0)
            drop(pc, "cannot watch the socket");
        return;
    case PGRES_POLLING_WRITING:
        if (watch(pc, UV_WRITABLE) != 0)
            drop(pc, "cannot watch the socket");
        return;
    default:
        drop(pc, error_text(pc, err, sizeof err));
        return;
    }
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    struct pgconn *pc = handle->data;
    if (pc->state == PGCONN_CONNECTING) {
        continue_connect(pc);
        return;
    }
    if (pc->state != PGCONN_READY)
        return;
    if (status < 0)
        events = UV_READABLE; /* let libpq read and report the error itself */
    pc->ops->io(pc, events);
}

static void start_attempt(struct pgconn *pc)
{
    char err[256];
    /* Later entries override earlier ones, so the user's conninfo (last) wins over our defaults. */
    const char *keys[] = {"application_name", "keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "options", "dbname", NULL};
    const char *vals[] = {pc->opt.application, "1", "10", "5", "3", "15000",
                          pc->opt.idle_listener ? "-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0" : "",
                          pc->opt.conninfo ? pc->opt.conninfo : "", NULL};
    pc->conn = PQconnectStartParams(keys, vals, 1);
    if (!pc->conn || PQstatus(pc->conn) == CONNECTION_BAD) {
        drop(pc, error_text(pc, err, sizeof err));
        return;
    }
    pc->state = PGCONN_CONNECTING;
    continue_connect(pc);
}

static void on_connect_timeout(uv_timer_t *t)
{
    struct pgconn *pc = t->data;
    if (pc->state == PGCONN_CONNECTING)
        drop(pc, "connect timed out");
}

static void on_retry(uv_timer_t *t)
{
    struct pgconn *pc = t->data;
    if (pc->state != PGCONN_WAITING)
        return;
    start_attempt(pc);
    if (pc->state == PGCONN_CONNECTING)
        uv_timer_start(&pc->connect_timer, on_connect_timeout, (uint64_t)pc->opt.connect_timeout_ms, 0);
}

static void schedule_retry(struct pgconn *pc)
{
    int cap = pc->opt.retry_max_ms;
    pc->backoff_ms = pc->backoff_ms ? pc->backoff_ms * 2 : 100;
    if (pc->backoff_ms > cap)
        pc->backoff_ms = cap;
    /* Full jitter over the upper half keeps many bridges from reconnecting in lockstep. */
    int delay = pc->backoff_ms / 2 + rand() % (pc->backoff_ms / 2 + 1);
    uv_timer_start(&pc->retry_timer, on_retry, (uint64_t)delay, 0);
}

struct pgconn *pgconn_new(uv_loop_t *loop, const struct pgconn_options *opt, const struct pgconn_ops *ops,
                          void *user)
{
    struct pgconn *pc = calloc(1, sizeof *pc);
    if (!pc)
        return NULL;
    pc->loop = loop;
    pc->opt = *opt;
    pc->opt.conninfo = opt->conninfo ? strdup(opt->conninfo) : NULL;
    pc->opt.application = strdup(opt->application ? opt->application : "rt-bridge");
    if (pc->opt.connect_timeout_ms <= 0)
        pc->opt.connect_timeout_ms = 10000;
    pc->ops = ops;
    pc->user = user;
    pc->watched_pg_fd = -1;
    pc->state = PGCONN_WAITING;
    uv_timer_init(loop, &pc->retry_timer);
    uv_timer_init(loop, &pc->connect_timer);
    pc->retry_timer.data = pc;
    pc->connect_timer.data = pc;
    return pc;
}

void pgconn_start(struct pgconn *pc)
{
    if (pc->state != PGCONN_WAITING)
        return;
    uv_timer_stop(&pc->retry_timer);
    on_retry(&pc->retry_timer);
}

void pgconn_fail(struct pgconn *pc, const char *why)
{
    if (pc->state == PGCONN_READY || pc->state == PGCONN_CONNECTING)
        drop(pc, why);
}

void pgconn_want_write(struct pgconn *pc, bool on)
{
    if (pc->state != PGCONN_READY)
        return;
    if (watch(pc, UV_READABLE | (on ? UV_WRITABLE : 0)) != 0)
        drop(pc, "cannot watch the socket");
}

static void timer_closed(uv_handle_t *h)
{
    struct pgconn *pc = h->data;
    if (--pc->pending_closes == 0) {
        free((char *)pc->opt.conninfo);
        free((char *)pc->opt.application);
        free(pc);
    }
}

void pgconn_close(struct pgconn *pc)
{
    if (!pc)
        return;
    pc->state = PGCONN_CLOSING;
    unwatch(pc);
    if (pc->conn) {
        PQfinish(pc->conn);
        pc->conn = NULL;
    }
    pc->pending_closes = 2;
    uv_close((uv_handle_t *)&pc->retry_timer, timer_closed);
    uv_close((uv_handle_t *)&pc->connect_timer, timer_closed);
}

bool pgconn_ready(const struct pgconn *pc) { return pc->state == PGCONN_READY; }
PGconn *pgconn_pg(struct pgconn *pc) { return pc->conn; }
void *pgconn_user(struct pgconn *pc) { return pc->user; }
unsigned long pgconn_reconnects(const struct pgconn *pc) { return pc->reconnects; }
