/*
 * fanout: the path of a NOTIFY to every socket (docs/architecture.md). notify_parse.c reads what
 * the payload is; this file sends each kind to the module that owns its rules:
 *   a persisted event (or a reference)  -> router.c: in seq order, gaps filled from the log
 *   a signal                            -> router.c: to the room's joined connections, as is
 *   a presence change                   -> presence.c: coalesced per room, then to the room
 *   an occupancy count                  -> occupancy.c: the latest per room per interval, then to the room
 *   a system frame                      -> session.c: to one user's connections, or to all
 */
#include "fanout.h"

#include "log.h"
#include "maintenance.h"
#include "metrics.h"
#include "notify_parse.h"
#include "occupancy.h"
#include "outbuf.h"
#include "presence.h"
#include "router.h"
#include "server.h"
#include "session.h"

static void route_system(struct bridge *br, const struct notify_facts *f, const char *payload, size_t len)
{
    if (f->maintenance)
        maintenance_refresh(br); /* the switch is read from the table, never from the frame */
    if (!f->system_everyone && !f->system_user)
        return;
    struct outbuf *ob = outbuf_new(payload, len);
    session_broadcast(br, f->system_everyone ? NULL : f->system_user, ob);
    outbuf_unref(ob);
}

void fanout_notify(struct bridge *br, const char *payload, size_t len)
{
    struct notify_facts f;
    notify_parse(payload, len, &f);
    if (f.route == NOTIFY_NOT_A_FRAME) {
        log_warn("notify_ignored", "reason=\"not a frame\" bytes=%zu", len);
        notify_facts_free(&f);
        return;
    }
    metrics_notify(f.obj);
    /* A room without a local subscriber is ignored by each (the router looks it up once). */
    if (f.route == NOTIFY_SYSTEM) {
        route_system(br, &f, payload, len);
    } else if (f.route == NOTIFY_PERSISTED && f.room) {
        router_persisted(br->router, &f, payload, len);
    } else if (f.route == NOTIFY_PRESENCE && f.room && router_has_room(br->router, f.room)) {
        occupancy_flush_room(br->occupancy, f.room); /* a count announced before this change goes first */
        presence_queue(br->presence, f.room, f.presence_user, f.presence_joined, payload, len);
    } else if (f.route == NOTIFY_OCCUPANCY && f.room && router_has_room(br->router, f.room)) {
        presence_flush_room(br->presence, f.room); /* changes announced before this count go first */
        occupancy_queue(br->occupancy, f.room, payload, len);
    } else if (f.route == NOTIFY_SIGNAL && f.room) {
        struct outbuf *ob = outbuf_new(payload, len);
        router_offer_joined(br->router, f.room, ob);
        outbuf_unref(ob);
    }
    notify_facts_free(&f);
}
