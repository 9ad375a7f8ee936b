/*
 * maintenance: the switch lives in the database (rt.set_maintenance), so every bridge follows one
 * operator action without a restart. A `maintenance` system frame (forwarded to clients as is)
 * only prompts a re-read: the bridge acts on the table, never on a frame's payload.
 */
#include "maintenance.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "statements.h"
#include "pool.h"
#include "server.h"

static void on_state(void *ctx, PGresult *res)
{
    struct bridge *br = ctx;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return;
    json_t *state = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    json_t *active = json_object_get(state, "active");
    if (json_is_boolean(active)) {
        bool on = json_is_true(active);
        if (on != br->maintenance)
            log_info(on ? "maintenance_on" : "maintenance_off", "bridge=%s", br->id);
        br->maintenance = on;
    }
    json_decref(state);
}

void maintenance_refresh(struct bridge *br)
{
    if (br->pool)
        pool_query(br->pool, SQL_MAINTENANCE, 0, NULL, on_state, br);
}
