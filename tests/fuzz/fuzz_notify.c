/*
 * fuzz_notify: a NOTIFY payload on the rt channels through notify_parse (room, seq, event, a
 * reference to resolve, presence, system frames), the notification-lag reader of metrics, and
 * fanout_notify into a real router, presence and occupancy (no rooms joined, no database: every path that needs neither).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "log.h"
#include "metrics.h"
#include "notify_parse.h"
#include "presence.h"
#include "occupancy.h"
#include "router.h"
#include "server.h"

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

static struct bridge br; /* presence_interval_ms 0: no timer, so no loop is needed */

/* No connection is joined and no log is read: these are never called with a room to serve. */
static bool offer(void *conn, struct outbuf *ob) { (void)conn; (void)ob; return true; }
static size_t queued(const void *conn) { (void)conn; return 0; }
static const char *user(const void *conn) { (void)conn; return ""; }
static void want_drain(void *conn) { (void)conn; }
static bool read_log(void *ctx, const char *room, long long after, int limit, const char *u, log_done_fn done,
                     void *cb)
{
    (void)ctx; (void)room; (void)after; (void)limit; (void)u; (void)done; (void)cb;
    return false;
}
static void deliver(void *ctx, const char *room, struct outbuf *ob)
{
    router_offer_joined(((struct bridge *)ctx)->router, room, ob);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR); /* "notify_ignored" on every bad input would drown the fuzzer's output */
    struct router_sink sink = {offer, queued, user, want_drain};
    struct router_log log = {read_log, NULL};
    br.router = router_new(&sink, &log, 1 << 20);
    br.presence = presence_new(NULL, 0, deliver, &br);
    br.occupancy = occupancy_new(NULL, 0, deliver, &br);
    return br.router && br.presence && br.occupancy ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *payload = (const char *)data;
    struct notify_facts f;
    notify_parse(payload, size, &f);
    REQUIRE(f.event != NULL);
    switch (f.route) {
    case NOTIFY_NOT_A_FRAME:
        REQUIRE(f.type == NULL);
        break;
    case NOTIFY_SYSTEM:
        REQUIRE(strcmp(f.type, "system") == 0);
        REQUIRE(!(f.system_everyone && f.system_user));
        break;
    case NOTIFY_PERSISTED:
        REQUIRE(f.room && f.seq >= 0);
        break;
    case NOTIFY_PRESENCE:
        REQUIRE(f.room && f.presence_user && strcmp(f.event, "presence") == 0 && !f.is_ref);
        break;
    case NOTIFY_SIGNAL:
        REQUIRE(f.room && f.seq < 0 && !f.is_ref);
        break;
    case NOTIFY_OCCUPANCY:
        REQUIRE(f.room && f.seq < 0 && !f.is_ref && strcmp(f.event, "occupancy") == 0);
        break;
    case NOTIFY_UNROUTED:
        REQUIRE(!f.room || (f.is_ref && f.seq < 0));
        break;
    default:
        abort();
    }
    if (f.obj)
        metrics_notify(f.obj);
    notify_facts_free(&f);
    fanout_notify(&br, payload, size);
    return 0;
}
