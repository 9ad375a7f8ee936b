/*
 * router: the room <-> connection index and the delivery rules that make each joined connection see a
 * room's persisted events exactly once, in seq order, with no gap.
 *
 * Room level: `last_seq` is the newest seq forwarded from the live stream. NOTIFY delivers a room's
 * events in commit order, which is seq order, so the next live event is normally last_seq + 1.
 * Anything else (a reference to a large event, a skipped seq, a LISTEN reconnect) switches the room
 * to filling: the missing range is read from the event log, in order, before live delivery resumes.
 *
 * Connection level: a (connection, room) pair ("sub") starts in JOINING (no delivery until the join
 * committed), then REPLAYING (reads seq > since from the log, page by page, until it has caught up
 * with the room), then LIVE. A sub forwards event N only when it holds N - 1, so the join reply's
 * snapshot, the replay and the live stream can overlap without a duplicate or a hole.
 *
 * Longer than 500 lines on purpose: this is one state machine (room fill, per-connection replay,
 * live delivery) whose invariant — forward N only to a sub holding N - 1 — spans all of it. What is
 * not that machine lives elsewhere: presence.c, fanout.c (system frames), eventlog.c (the SQL).
 * tests/unit/test_router.c drives it through a fake sink and a fake log.
 */
#include "router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

#define ROOM_BUCKETS 16384
#define FETCH_PAGE_MAX 1000 /* events per read of the log, at most */

enum sub_state { SUB_JOINING, SUB_REPLAYING, SUB_LIVE };

struct room;

/* One of these exists for each (connection, room) the connection joined. */
struct sub {
    struct room *room;
    struct member *member; /* NULL once detached */
    void *conn;            /* member->conn, here so that delivery reads one pointer */
    unsigned room_index;
    long long last_seq;
    long long head; /* the room's latest seq when the join committed */
    enum sub_state state;
    int page;          /* events per replay read: sized so one page fits half the send queue */
    bool fetching;
    bool waiting_drain; /* replay paused until the connection's send queue drains */
    bool detached; /* removed while a fetch was in flight: the fetch callback frees it */
};

/* A connection's rooms, at most cfg.max_rooms_per_connection (frames.c checks before joining). */
struct member {
    void *conn;
    struct sub **subs;
    unsigned nsubs, cap;
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
    long long seen_at_read; /* seen_max when the fill in flight was sent */
    unsigned fill_budget;   /* fills left until the next router_tick (ROOM_FILLS_PER_TICK) */
    bool known; /* last_seq is set (the first join completed) */
    bool filling;
    bool fetching;
    int page;
};

struct router {
    struct router_sink sink;
    struct router_log log;
    size_t max_queue_bytes;
    struct room *buckets[ROOM_BUCKETS];
    unsigned nrooms;
};

/*
 * Reads of one room's log per router_tick (once a second) at most: a backlog is read in pages of
 * up to FETCH_PAGE_MAX events, so this still fills thousands of events a second, while whatever
 * announces seqs the log never gets (a payload that lied, a seq since pruned) costs a bounded
 * number of queries and can never crowd client commands out of the pool.
 */
#define ROOM_FILLS_PER_TICK 200

static void sub_catch_up(struct sub *sub);
static void room_fill(struct room *room);

static unsigned hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % ROOM_BUCKETS;
}

static struct room *room_find(const struct router *r, const char *id)
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
    room->fill_budget = ROOM_FILLS_PER_TICK;
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
    if (room->nsubs || room->fetching)
        return;
    struct router *r = room->router;
    struct room **p = &r->buckets[hash(room->id)];
    while (*p && *p != room)
        p = &(*p)->hash_next;
    if (*p)
        *p = room->hash_next;
    r->nrooms--;
    free(room->subs);
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

static struct sub *member_sub(const struct member *m, const char *room)
{
    for (unsigned i = 0; i < m->nsubs; i++)
        if (strcmp(m->subs[i]->room->id, room) == 0)
            return m->subs[i];
    return NULL;
}

bool router_joined(const struct member *m, const char *room) { return member_sub(m, room) != NULL; }
unsigned router_member_rooms(const struct member *m) { return m->nsubs; }
const char *router_member_room(const struct member *m, unsigned i) { return m->subs[i]->room->id; }

/* The sub stops receiving until its replay may go on: the connection tells us when its queue drained. */
static void wait_drain(struct router *r, struct sub *sub)
{
    sub->waiting_drain = true;
    r->sink.want_drain(sub->conn);
}

/*
 * Unlinks a sub from its room and member; frees it now or when its fetch returns. With
 * release false the caller is still walking the room and releases it itself.
 */
static void sub_unlink(struct sub *sub, bool release)
{
    struct member *m = sub->member;
    for (unsigned i = 0; i < m->nsubs; i++)
        if (m->subs[i] == sub) {
            m->subs[i] = m->subs[--m->nsubs];
            break;
        }
    struct room *room = sub->room;
    room_remove_sub(room, sub);
    if (sub->fetching) {
        sub->detached = true;
        sub->member = NULL;
        sub->conn = NULL;
    } else {
        free(sub);
    }
    if (release)
        room_release(room);
}

static void sub_remove(struct sub *sub) { sub_unlink(sub, true); }

struct member *router_member_new(struct router *r, void *conn)
{
    (void)r;
    struct member *m = calloc(1, sizeof *m);
    if (m)
        m->conn = conn;
    return m;
}

void router_leave_all(struct router *r, struct member *m)
{
    (void)r;
    while (m->nsubs)
        sub_remove(m->subs[m->nsubs - 1]);
}

bool router_member_free(struct router *r, struct member *m)
{
    if (!m)
        return false;
    bool had_rooms = m->nsubs > 0;
    router_leave_all(r, m);
    free(m->subs);
    free(m);
    return had_rooms;
}

bool router_join_begin(struct router *r, struct member *m, const char *room_id)
{
    struct sub *sub = member_sub(m, room_id);
    if (sub) { /* a rejoin: start over from the new join's snapshot */
        sub->state = SUB_JOINING;
        return true;
    }
    if (m->nsubs == m->cap) {
        unsigned cap = m->cap ? m->cap * 2 : 4;
        struct sub **grown = realloc(m->subs, cap * sizeof *grown);
        if (!grown)
            return false;
        m->subs = grown;
        m->cap = cap;
    }
    struct room *room = room_get(r, room_id);
    sub = room ? calloc(1, sizeof *sub) : NULL;
    if (!sub || !room_add_sub(room, sub)) {
        free(sub);
        if (room)
            room_release(room);
        return false;
    }
    sub->room = room;
    sub->member = m;
    sub->conn = m->conn;
    sub->state = SUB_JOINING;
    m->subs[m->nsubs++] = sub;
    return true;
}

void router_join_done(struct router *r, struct member *m, const char *room_id, long long head, long long since)
{
    (void)r;
    struct sub *sub = member_sub(m, room_id);
    if (!sub)
        return;
    struct room *room = sub->room;
    bool first = !room->known;
    if (first) {
        room->known = true;
        room->last_seq = head;
        if (room->seen_max < head)
            room->seen_max = head;
    }
    sub->head = head;
    sub->last_seq = (since < 0 || since > head) ? head : since;
    sub->state = SUB_REPLAYING;
    sub_catch_up(sub);
    /* Events that committed after the join and were notified before its reply came back (two
     * connections: no order between them) were dropped while the room was unknown: read them. */
    if (first && room->seen_max > room->last_seq)
        room_fill(room);
}

void router_leave(struct router *r, struct member *m, const char *room_id)
{
    (void)r;
    struct sub *sub = member_sub(m, room_id);
    if (sub)
        sub_remove(sub);
}

/* A member_removed event: that user's connections here stop receiving the room at once. */
static void drop_removed_user(struct room *room, const char *user)
{
    for (unsigned i = room->nsubs; i-- > 0;) {
        struct sub *sub = room->subs[i];
        if (strcmp(room->router->sink.user(sub->conn), user) == 0)
            sub_unlink(sub, false);
    }
}

/*
 * Delivers persisted event `seq` of a room to every live sub that holds seq - 1. The room may be
 * left without subs (a member_removed event): the caller releases it when done with it.
 */
static void deliver(struct room *room, long long seq, struct outbuf *ob, const char *removed_user)
{
    struct router *r = room->router;
    bool (*offer)(void *, struct outbuf *) = r->sink.offer;
    for (unsigned i = 0; i < room->nsubs; i++) {
        struct sub *sub = room->subs[i];
        if (sub->state != SUB_LIVE)
            continue;
        if (sub->last_seq == seq - 1) {
            if (offer(sub->conn, ob)) {
                sub->last_seq = seq;
            } else { /* the client is behind: it continues from the log at its own pace */
                sub->state = SUB_REPLAYING;
                wait_drain(r, sub);
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

static size_t page_bytes(const struct log_page *page)
{
    size_t bytes = 0;
    for (int i = 0; i < page->rows; i++) {
        const char *text;
        size_t len;
        long long seq;
        page->row(page, i, &text, &len, &seq);
        bytes += len;
    }
    return bytes;
}

static void fill_row(struct room *room, long long seq, const char *text, size_t len)
{
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

static void on_fill(void *ctx, const struct log_page *page)
{
    struct room *room = ctx;
    room->fetching = false;
    int asked = room->page;
    if (page->status != LOG_OK) {
        if (page->error) { /* else the database went away, which the listener reports */
            char id[LOG_QUOTED_ID], error[LOG_QUOTED_TEXT];
            log_warn("room_fill_failed", "room=%s error=%s", log_quote(id, sizeof id, room->id),
                     log_quote(error, sizeof error, page->error));
        }
        room_release(room); /* router_tick retries while the room still has subs */
        return;
    }
    for (int i = 0; i < page->rows; i++) {
        const char *text;
        size_t len;
        long long seq;
        page->row(page, i, &text, &len, &seq);
        fill_row(room, seq, text, len);
    }
    room->page = next_page(page->rows, page_bytes(page), room->router->max_queue_bytes / 4);
    if (page->rows == asked) { /* a full page: there may be more */
        room_fill(room);
    } else if (room->seen_max > room->last_seq && room->seen_max > room->seen_at_read) {
        room_fill(room); /* announced while this read was in flight: it may have missed it */
    } else {
        if (room->seen_max > room->last_seq) {
            /* Announced before the read was sent, committed before it was announced, yet not in the
             * log: never coming. Reading again would loop; the next real event resumes the room. */
            metrics_gap_fill_unresolved();
            room->seen_max = room->last_seq;
        }
        room->filling = false;
    }
    room_release(room);
}

/* Reads the room's events after last_seq from the log (as the trusted bridge: no actor). */
static void room_fill(struct room *room)
{
    room->filling = true;
    if (room->fetching || !room->known || room->nsubs == 0)
        return;
    if (room->page <= 0)
        room->page = 16;
    if (room->fill_budget == 0) {
        metrics_gap_fill_deferred(); /* router_tick resumes it */
        return;
    }
    struct router *r = room->router;
    room->fill_budget--;
    room->seen_at_read = room->seen_max;
    room->fetching = true;
    metrics_gap_fill();
    if (!r->log.read(r->log.ctx, room->id, room->last_seq, room->page, NULL, on_fill, room))
        room->fetching = false;
}

static void on_catch_up(void *ctx, const struct log_page *page)
{
    struct sub *sub = ctx;
    sub->fetching = false;
    if (sub->detached) {
        free(sub);
        return;
    }
    if (page->status == LOG_FORBIDDEN) { /* no longer allowed to read: stop delivering */
        sub_remove(sub);
        return;
    }
    if (page->status != LOG_OK)
        return; /* the database went away: router_tick retries */
    struct router *r = sub->room->router;
    for (int i = 0; i < page->rows && !sub->waiting_drain; i++) {
        const char *text;
        size_t len;
        long long seq;
        page->row(page, i, &text, &len, &seq);
        if (seq <= sub->last_seq)
            continue;
        struct outbuf *ob = outbuf_new(text, len);
        if (ob && r->sink.offer(sub->conn, ob))
            sub->last_seq = seq;
        else if (ob) /* the rest of the page is read again once the client has caught up with its queue */
            wait_drain(r, sub);
        outbuf_unref(ob);
        if (!ob)
            break;
    }
    sub->page = next_page(page->rows, page_bytes(page), r->max_queue_bytes / 2);
    if (sub->state == SUB_REPLAYING && !sub->waiting_drain)
        sub_catch_up(sub);
}

/* Replays from the log until the sub holds everything the room has forwarded (and its join head). */
static void sub_catch_up(struct sub *sub)
{
    if (sub->fetching || sub->state != SUB_REPLAYING)
        return;
    struct room *room = sub->room;
    struct router *r = room->router;
    long long target = room->last_seq > sub->head ? room->last_seq : sub->head;
    if (sub->last_seq >= target) {
        sub->state = SUB_LIVE;
        return;
    }
    /* Pace the replay by the client: the next page waits until half the send queue is free. */
    if (r->sink.queued_bytes(sub->conn) > r->max_queue_bytes / 2) {
        wait_drain(r, sub);
        return;
    }
    if (sub->page <= 0)
        sub->page = 16;
    sub->fetching = true;
    if (!r->log.read(r->log.ctx, room->id, sub->last_seq, sub->page, r->sink.user(sub->conn), on_catch_up, sub))
        sub->fetching = false;
}

/* ---- live notifications ------------------------------------------------------------------- */

/* Ephemeral frames (signals, presence): a client whose queue is full does without this one. */
void router_offer_joined(struct router *r, const char *room_id, struct outbuf *ob)
{
    struct room *room = room_find(r, room_id);
    for (unsigned i = 0; ob && room && i < room->nsubs; i++)
        if (room->subs[i]->state != SUB_JOINING)
            r->sink.offer(room->subs[i]->conn, ob);
}

bool router_has_room(const struct router *r, const char *room) { return room_find(r, room) != NULL; }

unsigned router_room_members(const struct router *r, const char *room)
{
    const struct room *rm = room_find(r, room);
    return rm ? rm->nsubs : 0;
}

void router_persisted(struct router *r, const struct notify_facts *f, const char *payload, size_t len)
{
    struct room *room = f->room ? room_find(r, f->room) : NULL;
    if (!room)
        return; /* no local subscriber */
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

void router_resync(struct router *r)
{
    for (unsigned b = 0; b < ROOM_BUCKETS; b++)
        for (struct room *room = r->buckets[b]; room; room = room->hash_next)
            if (room->known)
                room_fill(room);
}

void router_tick(struct router *r)
{
    for (unsigned b = 0; b < ROOM_BUCKETS; b++)
        for (struct room *room = r->buckets[b]; room; room = room->hash_next) {
            room->fill_budget = ROOM_FILLS_PER_TICK;
            if (room->filling && !room->fetching)
                room_fill(room);
            for (unsigned i = 0; i < room->nsubs; i++)
                if (room->subs[i]->state == SUB_REPLAYING && !room->subs[i]->fetching)
                    sub_catch_up(room->subs[i]);
        }
}

struct router *router_new(const struct router_sink *sink, const struct router_log *log, size_t max_queue_bytes)
{
    struct router *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->sink = *sink;
    r->log = *log;
    r->max_queue_bytes = max_queue_bytes;
    return r;
}

void router_free(struct router *r)
{
    if (!r)
        return;
    for (unsigned b = 0; b < ROOM_BUCKETS; b++) {
        struct room *room = r->buckets[b];
        while (room) {
            struct room *next = room->hash_next;
            for (unsigned i = 0; i < room->nsubs; i++) /* their members are gone (router_member_free) */
                free(room->subs[i]);
            free(room->subs);
            free(room);
            room = next;
        }
    }
    free(r);
}

unsigned router_rooms(const struct router *r) { return r->nrooms; }

void router_member_drained(struct member *m)
{
    for (unsigned i = 0; i < m->nsubs; i++)
        if (m->subs[i]->waiting_drain) {
            m->subs[i]->waiting_drain = false;
            sub_catch_up(m->subs[i]);
        }
}
