/*
 * eventlog: reads a page of a room's events for the router — as the trusted bridge for a gap fill,
 * or as the connection's user for a replay, so that rt.events_since checks the user may still read
 * the room (RT403 otherwise: docs/sql-api.md "rt.events_since").
 */
#include "eventlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "statements.h"

struct read_ctx {
    log_done_fn done;
    void *cb_ctx;
};

static void row(const struct log_page *page, int i, const char **text, size_t *len, long long *seq)
{
    PGresult *res = (PGresult *)page->impl;
    *text = PQgetvalue(res, i, 0);
    *len = (size_t)PQgetlength(res, i, 0);
    *seq = atoll(PQgetvalue(res, i, 1));
}

static void on_result(void *ctx, PGresult *res)
{
    struct read_ctx rc = *(struct read_ctx *)ctx;
    free(ctx);
    struct log_page page = {.status = LOG_FAILED, .row = row, .impl = res};
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        page.status = LOG_OK;
        page.rows = PQntuples(res);
    } else if (res) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (state && strcmp(state, "RT403") == 0)
            page.status = LOG_FORBIDDEN;
        page.error = PQresultErrorMessage(res);
    }
    rc.done(rc.cb_ctx, &page);
}

bool eventlog_read(void *pool, const char *room, long long after, int limit, const char *user, log_done_fn done,
                   void *cb_ctx)
{
    struct read_ctx *rc = malloc(sizeof *rc);
    if (!rc)
        return false;
    rc->done = done;
    rc->cb_ctx = cb_ctx;
    char after_s[32], limit_s[16];
    snprintf(after_s, sizeof after_s, "%lld", after);
    snprintf(limit_s, sizeof limit_s, "%d", limit);
    const char *params[] = {room, after_s, limit_s, user};
    if (!pool_query(pool, user ? SQL_EVENTS_SINCE_AS_USER : SQL_EVENTS_SINCE, user ? 4 : 3, params, on_result, rc)) {
        free(rc);
        return false;
    }
    return true;
}
