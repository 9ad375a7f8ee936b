/*
 * router: the room <-> session index and the delivery rules that make each joined connection see a
 * room's persisted events exactly once, in seq order, with no gap.
 *
 * Room level: `last_seq` is the newest seq forwarded from the live stream. NOTIFY delivers a room's
 * events in commit order, which is seq order, so the next live event is normally last_seq + 1.
 * Anything else (a reference to a large event, a skipped seq, a LISTEN reconnect) switches the room
 * to filling: the missing range is read from the event log, in order, before live delivery resumes.
 *
 * Session level: a (session, room) pair ("sub") starts in JOINING (no delivery until the join
 * committed), then REPLAYING (reads seq > since from the log, page by page, until it has caught up
 * with the room), then LIVE. A sub forwards event N only when it holds N - 1, so the join reply's
 * snapshot, the replay and the live stream can overlap without a duplicate or a hole.
 */
#include "router.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "log.h"
#include "maintenance.h"
#include "metrics.h"
#include "notify_parse.h"
#include "outbuf.h"
#include "pool.h"
#include "server.h"
#include "session.h"

#define ROOM_BUCKETS 16384
#define FETCH_PAGE_MAX 1000 /* events per read of the log, at most */

enum sub_state { SUB_JOINING, SUB_REPLAYING, SUB_LIVE };

struct room;

/* One of these exists for each (session, room) the session joined. */
struct sub {
    struct room *room;
    struct session *session;
    unsigned room_index;
    long long last_seq;
    long long head; /* the room's latest seq when the join committed */
    enum sub_state state;
    int page;          /* events per replay read: sized so one page fits half the send queue */
    bool fetching;
    bool waiting_drain; /* replay paused until the session's send queue drains */
    bool detached; /* removed while a fetch was in flight: the fetch callback frees it */
};

/* One of these exists for each room that has at least one local sub (or a fetch in flight). */
struct room {
    struct room *hash_next;
    struct router *router;
    char id[72];
    struct sub **subs;
    unsigned nsubs, cap;
    long long last_seq;
    long long seen_max;
    bool known; /* last_seq is set (the first join completed) */
    bool filling;
    bool fetching;
    int page;
    struct presence_change *presence; /* per user: the latest status waiting for the next flush */
    unsigned npresence, presence_cap;
    struct outbuf *recent[8];         /* the first changes of the interval, as sent, in order */
    unsigned nrecent, nchanges;
    struct room *dirty_next;          /* in router->dirty while presence is pending */
    bool dirty;
};

/* One user's latest presence status within the current coalescing interval. */
struct presence_change {
    char user[132];
    bool joined;
};

struct router {
    struct bridge *br;
    struct room *buckets[ROOM_BUCKETS];
    unsigned nrooms;
    struct room *dirty; /* rooms with presence changes to flush */
    uv_timer_t presence_timer;
    bool timer_ready;
};

#define PRESENCE_SINGLE_MAX 8 /* up to this many changes per interval go out as plain presence frames */
#define PRESENCE_MAX_PENDING 4096

static void sub_catch_up(struct sub *sub);
static void room_fill(struct room *room);

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % ROOM_BUCKETS;
}

static struct room *room_find(struct router *r, const char *id)
{
    for (struct room *room = r->buckets[hash(id)]; room; room = room->hash_next)
        if (strcmp(room->id, id) == 0)
            return room;
    return NULL;
}

static struct room *room_get(struct router *r, const char *id)
{
    struct room *room = room_find(r, id);
    if (room)
        return room;
    room = calloc(1, sizeof *room);
    if (!room)
        return NULL;
    room->router = r;
    snprintf(room->id, sizeof room->id, "%s", id);
    unsigned h = hash(id);
    room->hash_next = r->buckets[h];
    r->buckets[h] = room;
    r->nrooms++;
    return room;
}

/* Frees an empty room unless a fetch still points at it. */
static void room_release(struct room *room)
{
    if (room->nsubs || room->fetching || room->dirty)
        return;
    struct router *r = room->router;
    struct room **p = &r->buckets[hash(room->id)];
    while (*p && *p != room)
        p = &(*p)->hash_next;
    if (*p)
        *p = room->hash_next;
    r->nrooms--;
    free(room->subs);
    free(room->presence);
    free(room);
}

static bool room_add_sub(struct room *room, struct sub *sub)
{
    if (room->nsubs == room->cap) {
        unsigned cap = room->cap ? room->cap * 2 : 4;
        struct sub **grown = realloc(room->subs, cap * sizeof *grown);
        if (!grown)
            return false;
        room->subs = grown;
        room->cap = cap;
    }
    sub->room_index = room->nsubs;
    room->subs[room->nsubs++] = sub;
    return true;
}

static void room_remove_sub(struct room *room, struct sub *sub)
{
    unsigned i = sub->room_index;
    room->subs[i] = room->subs[--room->nsubs];
    room->subs[i]->room_index = i;
}

static struct sub *session_sub(const struct session *s, const char *room)
{
    for (unsigned i = 0; i < s->nsubs; i++)
        if (strcmp(s->subs[i]->room->id, room) == 0)
            return s->subs[i];
    return NULL;
}

bool router_joined(const struct session *s, const char *room) { return session_sub(s, room) != NULL; }
const char *router_sub_room(const struct sub *sub) { return sub->room->id; }

/*
 * Unlinks a sub from its room and session; frees it now or when its fetch returns. With
 * release false the caller is still walking the room and releases it itself.
 */
static void sub_unlink(struct sub *sub, bool release)
{
    struct session *s = sub->session;
    for (unsigned i = 0; i < s->nsubs; i++)
        if (s->subs[i] == sub) {
            s->subs[i] = s->subs[--s->nsubs];
            break;
        }
    struct room *room = sub->room;
    room_remove_sub(room, sub);
    if (sub->fetching) {
        sub->detached = true;
        sub->session = NULL;
    } else {
        free(sub);
    }
    if (release)
        room_release(room);
}

static void sub_remove(struct sub *sub) { sub_unlink(sub, true); }

struct sub *router_join_begin(struct router *r, struct session *s, const char *room_id)
{
    struct sub *sub = session_sub(s, room_id);
    if (sub) { /* a rejoin: start over from the new join's snapshot */
        sub->state = SUB_JOINING;
        return sub;
    }
    if (s->nsubs == s->subs_cap) {
        unsigned cap = s->subs_cap ? s->subs_cap * 2 : 4;
        struct sub **grown = realloc(s->subs, cap * sizeof *grown);
        if (!grown)
            return NULL;
        s->subs = grown;
        s->subs_cap = cap;
    }
    struct room *room = room_get(r, room_id);
    sub = room ? calloc(1, sizeof *sub) : NULL;
    if (!sub || !room_add_sub(room, sub)) {
        free(sub);
        if (room)
            room_release(room);
        return NULL;
    }
    sub->room = room;
    sub->session = s;
    sub->state = SUB_JOINING;
    s->subs[s->nsubs++] = sub;
    return sub;
}

void router_join_done(struct router *r, struct session *s, const char *room_id, long long head, long long since)
{
    (void)r;
    struct sub *sub = session_sub(s, room_id);
    if (!sub)
        return;
    struct room *room = sub->room;
    if (!room->known) {
        room->known = true;
        room->last_seq = head;
        if (room->seen_max < head)
            room->seen_max = head;
    }
    sub->head = head;
    sub->last_seq = (since < 0 || since > head) ? head : since;
    sub->state = SUB_REPLAYING;
    sub_catch_up(sub);
}

void router_leave(struct router *r, struct session *s, const char *room_id)
{
    (void)r;
    struct sub *sub = session_sub(s, room_id);
    if (sub)
        sub_remove(sub);
}

void router_session_gone(struct router *r, struct session *s)
{
    (void)r;
    while (s->nsubs)
        sub_remove(s->subs[s->nsubs - 1]);
    free(s->subs);
    s->subs = NULL;
    s->subs_cap = 0;
}

/* A member_removed event: that user's connections here stop receiving the room at once. */
static void drop_removed_user(struct room *room, const char *user)
{
    for (unsigned i = room->nsubs; i-- > 0;) {
        struct sub *sub = room->subs[i];
        if (strcmp(sub->session->claims.sub, user) == 0)
            sub_unlink(sub, false);
    }
}

/*
 * Delivers persisted event `seq` of a room to every live sub that holds seq - 1. The room may be
 * left without subs (a member_removed event): the caller releases it when done with it.
 */
static void deliver(struct room *room, long long seq, struct outbuf *ob, const char *removed_user)
{
    for (unsigned i = 0; i < room->nsubs; i++) {
        struct sub *sub = room->subs[i];
        if (sub->state != SUB_LIVE)
            continue;
        if (sub->last_seq == seq - 1) {
            if (session_offer(sub->session, ob)) {
                sub->last_seq = seq;
            } else { /* the client is behind: it continues from the log at its own pace */
                sub->state = SUB_REPLAYING;
                sub->waiting_drain = true;
                sub->session->drain_waiters = true;
            }
        } else if (sub->last_seq < seq - 1) { /* cannot happen while the room is in order; heal anyway */
            sub->state = SUB_REPLAYING;
            sub_catch_up(sub);
        }
    }
    if (removed_user)
        drop_removed_user(room, removed_user);
}

/* ---- fetching from the log ---------------------------------------------------------------- */

/*
 * The next page size: as many events as fit `budget` bytes at the size the last page's events
 * had. Replay never outruns what a client's send queue may hold, whatever the events weigh.
 */
static int next_page(int rows, size_t bytes, size_t budget)
{
    if (rows <= 0 || bytes == 0)
        return 16;
    size_t avg = bytes / (size_t)rows + 1, n = budget / avg;
    return n < 1 ? 1 : n > FETCH_PAGE_MAX ? FETCH_PAGE_MAX : (int)n;
}

static size_t result_bytes(PGresult *res)
{
    size_t bytes = 0;
    for (int i = 0; res && i < PQntuples(res); i++)
        bytes += (size_t)PQgetlength(res, i, 0);
    return bytes;
}

struct fetch {
    struct router *router;
    struct room *room; /* room fill */
    struct sub *sub;   /* sub catch-up */
};

/* Walks rows of (event text, seq) in order, handing each to fn; returns the row count or -1. */
static int each_row(PGresult *res, void (*fn)(struct fetch *, long long, const char *, size_t), struct fetch *f)
{
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        return -1;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        fn(f, atoll(PQgetvalue(res, i, 1)), PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
    return n;
}

static void fill_row(struct fetch *f, long long seq, const char *text, size_t len)
{
    struct room *room = f->room;
    if (seq <= room->last_seq)
        return;
    struct notify_facts facts;
    notify_parse(text, len, &facts);
    struct outbuf *ob = outbuf_new(text, len);
    room->last_seq = seq;
    if (ob)
        deliver(room, seq, ob, facts.removed_user);
    outbuf_unref(ob);
    notify_facts_free(&facts);
}

static void on_fill(void *ctx, PGresult *res)
{
    struct fetch *f = ctx;
    struct room *room = f->room;
    free(f);
    room->fetching = false;
    struct fetch row_ctx = {room->router, room, NULL};
    int asked = room->page;
    int n = each_row(res, fill_row, &row_ctx);
    if (n < 0) {
        if (res) {
            char id[LOG_QUOTED_ID], error[LOG_QUOTED_TEXT];
            log_warn("room_fill_failed", "room=%s error=%s", log_quote(id, sizeof id, room->id),
                     log_quote(error, sizeof error, PQresultErrorMessage(res)));
        }
        room_release(room); /* router_tick retries while the room still has subs */
        return;
    }
    room->page = next_page(n, result_bytes(res), (size_t)room->router->br->cfg.max_queue_bytes / 4);
    if (n == asked || room->seen_max > room->last_seq)
        room_fill(room);
    else
        room->filling = false;
    room_release(room);
}

/* Reads the room's events after last_seq from the log (as the trusted bridge: no actor). */
static void room_fill(struct room *room)
{
    room->filling = true;
    if (room->fetching || !room->known || room->nsubs == 0)
        return;
    struct fetch *f = calloc(1, sizeof *f);
    if (!f)
        return;
    f->router = room->router;
    f->room = room;
    char after[32], page[16];
    if (room->page <= 0)
        room->page = 16;
    snprintf(after, sizeof after, "%lld", room->last_seq);
    snprintf(page, sizeof page, "%d", room->page);
    const char *params[] = {room->id, after, page};
    room->fetching = true;
    metrics_gap_fill();
    if (!pool_query(room->router->br->pool,
                    "SELECT e::text, (e ->> 'seq')::bigint FROM rt.events_since($1, $2::bigint, $3::int) AS e", 3,
                    params, on_fill, f)) {
        room->fetching = false;
        free(f);
    }
}

static void catch_up_row(struct fetch *f, long long seq, const char *text, size_t len)
{
    struct sub *sub = f->sub;
    if (sub->detached || sub->waiting_drain || seq <= sub->last_seq)
        return;
    struct outbuf *ob = outbuf_new(text, len);
    if (session_offer(sub->session, ob)) {
        sub->last_seq = seq;
    } else { /* the rest of the page is read again once the client has caught up with its queue */
        sub->waiting_drain = true;
        sub->session->drain_waiters = true;
    }
    outbuf_unref(ob);
}

static void on_catch_up(void *ctx, PGresult *res)
{
    struct fetch *f = ctx;
    struct sub *sub = f->sub;
    free(f);
    sub->fetching = false;
    if (sub->detached) {
        free(sub);
        return;
    }
    struct fetch row_ctx = {NULL, NULL, sub};
    int n = each_row(res, catch_up_row, &row_ctx);
    if (n >= 0)
        sub->page = next_page(n, result_bytes(res), (size_t)sub->room->router->br->cfg.max_queue_bytes / 2);
    if (n < 0) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state && strcmp(state, "RT403") == 0) { /* no longer allowed to read: stop delivering */
            sub_remove(sub);
            return;
        }
        return; /* the database went away: router_tick retries */
    }
    if (sub->state == SUB_REPLAYING && !sub->waiting_drain)
        sub_catch_up(sub);
}

/* Replays from the log until the sub holds everything the room has forwarded (and its join head). */
static void sub_catch_up(struct sub *sub)
{
    if (sub->fetching || sub->state != SUB_REPLAYING)
        return;
    struct room *room = sub->room;
    long long target = room->last_seq > sub->head ? room->last_seq : sub->head;
    if (sub->last_seq >= target) {
        sub->state = SUB_LIVE;
        return;
    }
    /* Pace the replay by the client: the next page waits until half the send queue is free. */
    if (sub->session->q_bytes > (size_t)room->router->br->cfg.max_queue_bytes / 2) {
        sub->waiting_drain = true;
        sub->session->drain_waiters = true;
        return;
    }
    struct fetch *f = calloc(1, sizeof *f);
    if (!f)
        return;
    f->sub = sub;
    char after[32], page[16];
    if (sub->page <= 0)
        sub->page = 16;
    snprintf(after, sizeof after, "%lld", sub->last_seq);
    snprintf(page, sizeof page, "%d", sub->page);
    const char *params[] = {room->id, after, page, sub->session->claims.sub};
    sub->fetching = true;
    if (!pool_query(room->router->br->pool,
                    "SELECT e::text, (e ->> 'seq')::bigint FROM rt.events_since($1, $2::bigint, $3::int, $4) AS e", 4,
                    params, on_catch_up, f)) {
        sub->fetching = false;
        free(f);
    }
}

/* ---- live notifications ------------------------------------------------------------------- */

/* Signals are ephemeral: a client whose queue is full does without this one. */
static void send_to_joined(struct room *room, struct outbuf *ob)
{
    for (unsigned i = 0; ob && i < room->nsubs; i++)
        if (room->subs[i]->state != SUB_JOINING)
            session_offer(room->subs[i]->session, ob);
}

static void route_signal(struct room *room, const char *payload, size_t len)
{
    struct outbuf *ob = outbuf_new(payload, len);
    send_to_joined(room, ob);
    outbuf_unref(ob);
}

/*
 * Presence is coalesced per room over --presence-interval-ms. A quiet room sees every change as
 * its own `presence` frame, in order, as the contract shapes it; a burst (a room filling up: more
 * than PRESENCE_SINGLE_MAX changes in one interval) goes out as one `presence_batch` event with
 * each user's latest status, instead of one frame per change per member.
 */
static void queue_presence(struct router *r, struct room *room, const struct notify_facts *f, const char *payload,
                           size_t len)
{
    if (!r->timer_ready) {
        route_signal(room, payload, len);
        return;
    }
    struct presence_change *c = NULL;
    for (unsigned i = 0; i < room->npresence && !c; i++)
        if (strcmp(room->presence[i].user, f->presence_user) == 0)
            c = &room->presence[i];
    if (!c) {
        if (room->npresence == PRESENCE_MAX_PENDING) {
            route_signal(room, payload, len);
            return;
        }
        if (room->npresence == room->presence_cap) {
            unsigned cap = room->presence_cap ? room->presence_cap * 2 : 8;
            struct presence_change *grown = realloc(room->presence, cap * sizeof *grown);
            if (!grown) {
                route_signal(room, payload, len);
                return;
            }
            room->presence = grown;
            room->presence_cap = cap;
        }
        c = &room->presence[room->npresence++];
        memset(c, 0, sizeof *c);
        snprintf(c->user, sizeof c->user, "%s", f->presence_user);
    }
    c->joined = f->presence_joined;
    if (room->nrecent < PRESENCE_SINGLE_MAX)
        room->recent[room->nrecent++] = outbuf_new(payload, len);
    room->nchanges++;
    if (!room->dirty) {
        room->dirty = true;
        room->dirty_next = r->dirty;
        r->dirty = room;
    }
}

static void flush_room_presence(struct room *room)
{
    if (room->nchanges <= PRESENCE_SINGLE_MAX) {
        for (unsigned i = 0; i < room->nrecent; i++)
            send_to_joined(room, room->recent[i]);
    } else {
        json_t *joined = json_array(), *left = json_array();
        for (unsigned i = 0; i < room->npresence; i++)
            json_array_append_new(room->presence[i].joined ? joined : left, json_string(room->presence[i].user));
        char at[40];
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(at, 24, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(at + 19, sizeof at - 19, ".%06ldZ", ts.tv_nsec / 1000);
        struct outbuf *ob = outbuf_from_json(json_pack("{s:s, s:s, s:s, s:n, s:s, s:{s:o, s:o}}", "type", "event", "room",
                                                       room->id, "event", "presence_batch", "actor", "at", at, "data",
                                                       "joined", joined, "left", left));
        send_to_joined(room, ob);
        outbuf_unref(ob);
    }
    for (unsigned i = 0; i < room->nrecent; i++)
        outbuf_unref(room->recent[i]);
    room->nrecent = room->nchanges = room->npresence = 0;
}

static void on_presence_timer(uv_timer_t *t)
{
    struct router *r = t->data;
    struct room *room = r->dirty;
    r->dirty = NULL;
    while (room) {
        struct room *next = room->dirty_next;
        room->dirty = false;
        room->dirty_next = NULL;
        flush_room_presence(room);
        room_release(room);
        room = next;
    }
}

static void route_persisted(struct room *room, const struct notify_facts *f, const char *payload, size_t len)
{
    if (f->seq > room->seen_max)
        room->seen_max = f->seq;
    if (!room->known || room->filling || f->seq <= room->last_seq)
        return; /* not joined yet (the join's replay covers it), being filled, or already sent */
    if (f->seq == room->last_seq + 1 && !f->is_ref) {
        struct outbuf *ob = outbuf_new(payload, len);
        room->last_seq = f->seq;
        if (ob)
            deliver(room, f->seq, ob, f->removed_user);
        outbuf_unref(ob);
        room_release(room);
        return;
    }
    room_fill(room); /* a reference to a large event, or a gap: read the log */
}

/* A system frame: to every connection of one user, or to every connection. */
static void route_system(struct router *r, const struct notify_facts *f, const char *payload, size_t len)
{
    if (f->maintenance)
        maintenance_refresh(r->br);
    struct outbuf *ob = outbuf_new(payload, len);
    for (struct session *s = r->br->sessions; ob && s; s = s->next)
        if (f->system_everyone || (f->system_user && strcmp(s->claims.sub, f->system_user) == 0))
            session_offer(s, ob);
    outbuf_unref(ob);
}

void router_notify(struct router *r, const char *payload, size_t len)
{
    struct notify_facts f;
    notify_parse(payload, len, &f);
    if (f.route == NOTIFY_NOT_A_FRAME) {
        log_warn("notify_ignored", "reason=\"not a frame\" bytes=%zu", len);
        notify_facts_free(&f);
        return;
    }
    metrics_notify(f.obj);
    struct room *room = f.route == NOTIFY_SYSTEM || !f.room ? NULL : room_find(r, f.room);
    if (f.route == NOTIFY_SYSTEM)
        route_system(r, &f, payload, len);
    else if (room && f.route == NOTIFY_PERSISTED)
        route_persisted(room, &f, payload, len);
    else if (room && f.route == NOTIFY_PRESENCE)
        queue_presence(r, room, &f, payload, len);
    else if (room && f.route == NOTIFY_SIGNAL)
        route_signal(room, payload, len);
    notify_facts_free(&f);
}

void router_resync(struct router *r)
{
    for (unsigned b = 0; b < ROOM_BUCKETS; b++)
        for (struct room *room = r->buckets[b]; room; room = room->hash_next)
            if (room->known)
                room_fill(room);
}

void router_tick(struct router *r)
{
    if (!pool_up(r->br->pool))
        return;
    for (unsigned b = 0; b < ROOM_BUCKETS; b++)
        for (struct room *room = r->buckets[b]; room; room = room->hash_next) {
            if (room->filling && !room->fetching)
                room_fill(room);
            for (unsigned i = 0; i < room->nsubs; i++)
                if (room->subs[i]->state == SUB_REPLAYING && !room->subs[i]->fetching)
                    sub_catch_up(room->subs[i]);
        }
}

struct router *router_new(struct bridge *br)
{
    struct router *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->br = br;
    if (br->cfg.presence_interval_ms > 0) {
        uv_timer_init(&br->loop, &r->presence_timer);
        r->presence_timer.data = r;
        uv_timer_start(&r->presence_timer, on_presence_timer, (uint64_t)br->cfg.presence_interval_ms,
                       (uint64_t)br->cfg.presence_interval_ms);
        r->timer_ready = true;
    }
    return r;
}

void router_stop(struct router *r)
{
    if (r && r->timer_ready) {
        r->timer_ready = false;
        on_presence_timer(&r->presence_timer);
        uv_close((uv_handle_t *)&r->presence_timer, NULL);
    }
}

void router_free(struct router *r)
{
    if (!r)
        return;
    for (unsigned b = 0; b < ROOM_BUCKETS; b++) {
        struct room *room = r->buckets[b];
        while (room) {
            struct room *next = room->hash_next;
            for (unsigned i = 0; i < room->nsubs; i++)
                free(room->subs[i]);
            for (unsigned i = 0; i < room->nrecent; i++)
                outbuf_unref(room->recent[i]);
            free(room->subs);
            free(room->presence);
            free(room);
            room = next;
        }
    }
    free(r);
}

unsigned router_rooms(const struct router *r) { return r->nrooms; }

void router_session_drained(struct session *s)
{
    s->drain_waiters = false;
    for (unsigned i = 0; i < s->nsubs; i++)
        if (s->subs[i]->waiting_drain) {
            s->subs[i]->waiting_drain = false;
            sub_catch_up(s->subs[i]);
        }
}
