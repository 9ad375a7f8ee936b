/*
 * pool: the bridge's command path to PostgreSQL.
 *
 * Each connection runs in libpq pipeline mode. A "unit" is one pipeline segment: one statement and
 * a Sync, so a failure never aborts another unit, and a unit's results are acted on only when its
 * PGRES_PIPELINE_SYNC arrives, i.e. after its implicit transaction committed. Client commands that
 * wait for a free slot are sent together through rt.batch (one commit for many commands, each
 * isolated in SQL); a lone command on an idle pool still goes out at once, one round trip.
 *
 * A little over 500 lines: the unit queues are shared by the send path, the result path and the
 * three failure paths (a lost connection, a failed send, shutdown); splitting them would expose
 * the queues. Nothing here knows a session: each command's completion is its own callback.
 */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log.h"
#include "metrics.h"
#include "pgconn.h"
#include "protocol.h"
#include "server.h"
#include "statements.h"

#define POOL_MAX_CONNS 16
/*
 * One unit in flight per connection: a unit queued behind a slow one on the same connection would
 * wait for it, so work goes only to idle connections and one slow statement stalls no one else.
 * Whatever arrives meanwhile is batched into the next unit, which keeps the throughput.
 */
#define PIPELINE_DEPTH 1

static const char UNAVAILABLE_BODY[] =
    "{\"code\":\"UNAVAILABLE\",\"message\":\"the database is unreachable; retry\",\"retry\":true}";

struct unit {
    struct unit *next;
    struct command *cmds; /* a batch of client commands, or NULL for a query */
    query_done_fn done;
    void *ctx;
    char *stmt;
    int nparams;
    char *params[4];
    PGresult *result;
    bool prepare; /* the statement preparation sent when a connection comes up */
};

struct dbconn {
    struct pool *pool;
    struct pgconn *pc;
    struct unit *inflight_head, *inflight_tail;
    int inflight;
    bool usable; /* connected, in pipeline mode, statements prepared (or being prepared) */
};

struct pool {
    struct bridge *br;
    int nconns;
    struct dbconn conns[POOL_MAX_CONNS];
    struct command *cmd_head, *cmd_tail;
    unsigned cmd_queued;
    struct unit *query_head, *query_tail;
    unsigned query_queued;
    unsigned inflight_cmds;
    /* Set while the pool itself is on the stack (pump, on_io, on_lost, pool_free): a completion
     * callback that submits more work only queues it, and the pool sends it once it returns. So
     * pump() never runs inside pump(), and no callback sees the pool half way through a step. */
    bool busy;
};

static void pump(struct pool *p);

void command_free(struct command *cmd)
{
    if (!cmd)
        return;
    free(cmd->frame);
    free(cmd);
}

static void unit_free(struct unit *u)
{
    for (int i = 0; i < u->nparams; i++)
        free(u->params[i]);
    free(u->stmt);
    if (u->result)
        PQclear(u->result);
    free(u);
}

/* Every command's single completion: counted (by its type and outcome), then handed back. */
static void complete(struct command *c, bool ok, const char *body, size_t len)
{
    metrics_command_done(c->frame, c->frame_len, ok, body, c->started_us);
    c->done(c, ok, body, len);
}

/* Completes (and frees) every command of a list with the same outcome: no rows came back. */
static void fail_commands(struct command *cmds, const char *body)
{
    while (cmds) {
        struct command *next = cmds->next;
        complete(cmds, false, body, strlen(body));
        command_free(cmds);
        cmds = next;
    }
}

static unsigned count_commands(const struct command *c)
{
    unsigned n = 0;
    for (; c; c = c->next)
        n++;
    return n;
}

/*
 * rt.batch failed as a whole: something outside its per-command isolation (a commit-time error, a
 * command whose text PostgreSQL refused) rolled the whole transaction back, so nothing of it was
 * committed. Each command goes back to the head of the queue, in order, to be sent on its own:
 * only the guilty one fails (docs/protocol.md "Delivery guarantees", bad input).
 */
static void retry_alone(struct pool *p, struct command *cmds, unsigned n)
{
    struct command *last = cmds;
    for (struct command *c = cmds; c; c = c->next) {
        c->alone = true;
        last = c;
    }
    last->next = p->cmd_head;
    p->cmd_head = cmds;
    if (!p->cmd_tail)
        p->cmd_tail = last;
    p->cmd_queued += n;
    p->inflight_cmds -= n;
    metrics_batch_split(n);
}

/* Hands each row of rt.batch's result to its command, by index. */
static void finish_batch(struct pool *p, struct unit *u)
{
    struct command *by_index[PROTOCOL_BATCH_MAX]; /* take_batch never takes more (config.c caps batch_max) */
    int n = 0;
    for (struct command *c = u->cmds; c && n < PROTOCOL_BATCH_MAX; c = c->next)
        by_index[n++] = c;
    PGresult *r = u->result;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != n) {
        char why[LOG_QUOTED_TEXT];
        log_error("batch_failed", "commands=%d status=%s error=%s", n, r ? PQresStatus(PQresultStatus(r)) : "none",
                  log_quote(why, sizeof why, r ? PQresultErrorMessage(r) : "no result"));
        if (n > 1 && r && PQresultStatus(r) == PGRES_FATAL_ERROR) {
            retry_alone(p, u->cmds, (unsigned)n);
        } else {
            p->inflight_cmds -= (unsigned)n;
            fail_commands(u->cmds, "{\"code\":\"INTERNAL\",\"message\":\"the command could not be executed\",\"retry\":true}");
        }
        u->cmds = NULL;
        return;
    }
    for (int row = 0; row < n; row++) {
        int i = atoi(PQgetvalue(r, row, 0));
        if (i < 0 || i >= n || !by_index[i])
            continue;
        struct command *c = by_index[i];
        by_index[i] = NULL;
        bool ok = PQgetvalue(r, row, 1)[0] == 't';
        p->inflight_cmds--;
        complete(c, ok, PQgetvalue(r, row, 2), (size_t)PQgetlength(r, row, 2));
    }
    /* Rows that never came (should not happen) still get exactly one reply each. */
    for (int i = 0; i < n; i++)
        if (by_index[i]) {
            p->inflight_cmds--;
            complete(by_index[i], false, UNAVAILABLE_BODY, sizeof UNAVAILABLE_BODY - 1);
        }
    for (struct command *c = u->cmds; c;) {
        struct command *next = c->next;
        command_free(c);
        c = next;
    }
    u->cmds = NULL;
}

static void finish_unit(struct pool *p, struct unit *u, bool lost)
{
    if (u->cmds) {
        if (lost) {
            p->inflight_cmds -= count_commands(u->cmds);
            fail_commands(u->cmds, UNAVAILABLE_BODY);
        } else
            finish_batch(p, u);
        u->cmds = NULL;
    } else if (u->done) {
        u->done(u->ctx, lost ? NULL : u->result);
    }
    unit_free(u);
}

static void inflight_push(struct dbconn *dc, struct unit *u)
{
    u->next = NULL;
    if (dc->inflight_tail)
        dc->inflight_tail->next = u;
    else
        dc->inflight_head = u;
    dc->inflight_tail = u;
    dc->inflight++;
}

static struct unit *inflight_pop(struct dbconn *dc)
{
    struct unit *u = dc->inflight_head;
    if (u) {
        dc->inflight_head = u->next;
        if (!dc->inflight_head)
            dc->inflight_tail = NULL;
        dc->inflight--;
    }
    return u;
}

static void flush(struct dbconn *dc)
{
    PGconn *conn = pgconn_pg(dc->pc);
    int r = PQflush(conn);
    if (r < 0)
        pgconn_fail(dc->pc, PQerrorMessage(conn));
    else
        pgconn_want_write(dc->pc, r == 1);
}

static bool is_prepared_name(const char *stmt) { return strncmp(stmt, "SELECT", 6) != 0 && strchr(stmt, ' ') == NULL; }

/* Sends one unit as its own pipeline segment. */
static bool send_unit(struct dbconn *dc, struct unit *u)
{
    PGconn *conn = pgconn_pg(dc->pc);
    int ok;
    if (u->prepare)
        ok = PQsendPrepare(conn, SQL_BATCH_NAME, SQL_BATCH, 2, NULL);
    else if (is_prepared_name(u->stmt))
        ok = PQsendQueryPrepared(conn, u->stmt, u->nparams, (const char *const *)u->params, NULL, NULL, 0);
    else
        ok = PQsendQueryParams(conn, u->stmt, u->nparams, NULL, (const char *const *)u->params, NULL, NULL, 0);
    if (!ok || !PQpipelineSync(conn))
        return false;
    inflight_push(dc, u);
    return true;
}

/* Builds [{"conn":C,"user":U,"frame":F},...] from commands that are already valid JSON pieces. */
static char *batch_json(struct command *cmds)
{
    size_t size = 2;
    for (struct command *c = cmds; c; c = c->next)
        size += 40 + strlen(c->conn_id) + strlen(c->user_json) + c->frame_len;
    char *buf = malloc(size + 1), *o = buf;
    if (!buf)
        return NULL;
    *o++ = '[';
    for (struct command *c = cmds; c; c = c->next) {
        o += sprintf(o, "%s{\"conn\":\"%s\",\"user\":%s,\"frame\":", c == cmds ? "" : ",", c->conn_id, c->user_json);
        memcpy(o, c->frame, c->frame_len);
        o += c->frame_len;
        *o++ = '}';
    }
    *o++ = ']';
    *o = '\0';
    return buf;
}

static struct unit *take_batch(struct pool *p)
{
    int max = p->br->cfg.batch_max;
    struct unit *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    struct command *tail = NULL;
    unsigned n = 0;
    for (; n < (unsigned)max && p->cmd_head; n++) {
        struct command *c = p->cmd_head;
        if (n > 0 && (c->alone || tail->alone))
            break; /* a command retried after its batch failed travels alone */
        p->cmd_head = c->next;
        p->cmd_queued--;
        c->next = NULL;
        if (tail)
            tail->next = c;
        else
            u->cmds = c;
        tail = c;
        p->inflight_cmds++;
    }
    if (!p->cmd_head)
        p->cmd_tail = NULL;
    u->stmt = strdup(SQL_BATCH_NAME);
    u->nparams = 2;
    u->params[0] = strdup(p->br->id);
    u->params[1] = batch_json(u->cmds);
    metrics_batch(n);
    return u;
}

static struct dbconn *least_loaded(struct pool *p)
{
    struct dbconn *best = NULL;
    for (int i = 0; i < p->nconns; i++) {
        struct dbconn *dc = &p->conns[i];
        if (dc->usable && dc->inflight < PIPELINE_DEPTH && (!best || dc->inflight < best->inflight))
            best = dc;
    }
    return best;
}

static bool send_or_fail(struct pool *p, struct dbconn *dc, struct unit *u)
{
    if (send_unit(dc, u)) {
        flush(dc);
        return true;
    }
    pgconn_fail(dc->pc, PQerrorMessage(pgconn_pg(dc->pc)));
    finish_unit(p, u, true);
    return false;
}

/* Fills idle connections: generic queries first (replay pages are small), then a batch. */
static void pump(struct pool *p)
{
    if (p->busy)
        return; /* the pool's own caller pumps when it is done */
    p->busy = true;
    struct dbconn *dc;
    while ((p->query_head || p->cmd_head) && (dc = least_loaded(p))) {
        struct unit *u;
        if (p->query_head) {
            u = p->query_head;
            p->query_head = u->next;
            if (!p->query_head)
                p->query_tail = NULL;
            p->query_queued--;
        } else if (!(u = take_batch(p))) {
            break;
        }
        send_or_fail(p, dc, u);
    }
    p->busy = false;
}

/* Reads what arrived and completes every unit whose Sync came back. */
static void on_io(struct pgconn *pc, int events)
{
    struct dbconn *dc = pgconn_user(pc);
    struct pool *p = dc->pool;
    PGconn *conn = pgconn_pg(pc);
    if ((events & UV_WRITABLE))
        flush(dc);
    if (!(events & UV_READABLE))
        return;
    if (!PQconsumeInput(conn)) {
        pgconn_fail(pc, PQerrorMessage(conn));
        return;
    }
    p->busy = true;
    while (dc->inflight_head && !PQisBusy(conn)) {
        PGresult *r = PQgetResult(conn);
        struct unit *u = dc->inflight_head;
        if (!r)
            continue; /* end of one statement's results; its Sync follows */
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            finish_unit(p, inflight_pop(dc), false);
            continue;
        }
        if (u->result)
            PQclear(u->result);
        u->result = r;
        if (u->prepare && st != PGRES_COMMAND_OK) {
            char why[LOG_QUOTED_TEXT];
            log_error("db_prepare_failed", "error=%s", log_quote(why, sizeof why, PQresultErrorMessage(r)));
        }
    }
    p->busy = false;
    if (PQstatus(conn) == CONNECTION_BAD) {
        pgconn_fail(pc, "connection lost");
        return;
    }
    pump(p);
}

static void on_ready(struct pgconn *pc)
{
    struct dbconn *dc = pgconn_user(pc);
    PGconn *conn = pgconn_pg(pc);
    if (!PQenterPipelineMode(conn)) {
        pgconn_fail(pc, "cannot enter pipeline mode");
        return;
    }
    struct unit *u = calloc(1, sizeof *u);
    if (!u) {
        pgconn_fail(pc, "out of memory");
        return;
    }
    u->prepare = true;
    if (!send_unit(dc, u)) {
        unit_free(u);
        pgconn_fail(pc, PQerrorMessage(conn));
        return;
    }
    dc->usable = true;
    flush(dc);
    pump(dc->pool);
}

/* Fails everything queued (the pool is down, or being freed); callbacks may queue more: that too. */
static void fail_queued(struct pool *p)
{
    while (p->cmd_head || p->query_head) {
        struct command *c = p->cmd_head;
        p->cmd_head = p->cmd_tail = NULL;
        p->cmd_queued = 0;
        fail_commands(c, UNAVAILABLE_BODY);
        struct unit *u;
        while ((u = p->query_head)) {
            p->query_head = u->next;
            if (!p->query_head)
                p->query_tail = NULL;
            p->query_queued--;
            finish_unit(p, u, true);
        }
    }
}

static void on_lost(struct pgconn *pc, const char *why)
{
    struct dbconn *dc = pgconn_user(pc);
    struct pool *p = dc->pool;
    (void)why;
    dc->usable = false;
    bool nested = p->busy; /* lost while sending (send_or_fail in pump) */
    p->busy = true;
    struct unit *u;
    while ((u = inflight_pop(dc)))
        finish_unit(p, u, true);
    metrics_db_reconnect();
    /* With no connection left, queued work fails now rather than wait for an outage of unknown
     * length; with one left, it carries on there. */
    if (!pool_up(p)) {
        fail_queued(p);
    }
    p->busy = nested;
    if (!nested)
        pump(p); /* work that completions queued goes to the connections left */
}

static const struct pgconn_ops pool_ops = {on_ready, on_io, on_lost};

struct pool *pool_new(struct bridge *br)
{
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->br = br;
    p->nconns = br->cfg.db_pool_size;
    struct pgconn_options opt = {
        .conninfo = br->cfg.database_url,
        .application = "rt-bridge",
        .retry_max_ms = br->cfg.db_retry_max_ms,
    };
    for (int i = 0; i < p->nconns; i++) {
        p->conns[i].pool = p;
        p->conns[i].pc = pgconn_new(&br->loop, &opt, &pool_ops, &p->conns[i]);
        if (!p->conns[i].pc) {
            pool_free(p);
            return NULL;
        }
    }
    return p;
}

void pool_start(struct pool *p)
{
    for (int i = 0; i < p->nconns; i++)
        pgconn_start(p->conns[i].pc);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    p->busy = true;
    for (int i = 0; i < p->nconns; i++) {
        struct dbconn *dc = &p->conns[i];
        struct unit *u;
        while ((u = inflight_pop(dc)))
            finish_unit(p, u, true);
        pgconn_close(dc->pc);
        dc->usable = false;
    }
    fail_queued(p);
    free(p);
}

bool pool_up(const struct pool *p)
{
    for (int i = 0; p && i < p->nconns; i++)
        if (p->conns[i].usable)
            return true;
    return false;
}

unsigned pool_pending(const struct pool *p) { return p->cmd_queued + p->inflight_cmds + p->query_queued; }

bool pool_submit(struct pool *p, struct command *cmd)
{
    if (!pool_up(p) || p->cmd_queued >= (unsigned)p->br->cfg.max_pending_commands)
        return false;
    cmd->next = NULL;
    if (p->cmd_tail)
        p->cmd_tail->next = cmd;
    else
        p->cmd_head = cmd;
    p->cmd_tail = cmd;
    p->cmd_queued++;
    pump(p);
    return true;
}

bool pool_query(struct pool *p, const char *stmt, int nparams, const char *const *params, query_done_fn done,
                void *ctx)
{
    if (!pool_up(p) || nparams > 4 || p->query_queued >= (unsigned)p->br->cfg.max_pending_commands)
        return false;
    struct unit *u = calloc(1, sizeof *u);
    if (!u)
        return false;
    u->stmt = strdup(stmt);
    u->nparams = nparams;
    for (int i = 0; i < nparams; i++)
        u->params[i] = params[i] ? strdup(params[i]) : NULL;
    u->done = done;
    u->ctx = ctx;
    if (p->query_tail)
        p->query_tail->next = u;
    else
        p->query_head = u;
    p->query_tail = u;
    p->query_queued++;
    pump(p);
    return true;
}
