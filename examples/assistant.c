/* assistant: an example AI worker on libpq alone. It LISTENs to the rt channels and answers every
 * new `message` in the conversation rooms it is a `service` member of with an `ai_response`,
 * moving the room's state machine LISTENING -> PROCESSING -> SPEAKING -> WAITING_FOR_USER around
 * it. The replies are canned (deterministic, no model); the flow is the one a real worker needs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

#define MAX_ROOMS 1024
#define MAX_JOBS 256
#define MAX_BODY 2000

enum room_kind { ROOM_UNKNOWN, ROOM_SERVED, ROOM_IGNORED };

/* What the assistant knows about one room; rooms it never heard of are looked up once. */
struct room {
    char id[65];
    enum room_kind kind;
    long long last_seq; /* newest seq seen here: after a reconnect, messages past it are answered */
};

enum step { STEP_THINK, STEP_SPEAK, STEP_DONE };

/* One message being answered; each room answers its messages one after the other. */
struct job {
    char room[65];
    long long seq;
    char body[MAX_BODY + 1];
    enum step step;
    int64_t due_ms;
};

struct assistant {
    const char *user;
    int delay_ms;
    struct room rooms[MAX_ROOMS];
    int nrooms;
    struct job jobs[MAX_JOBS];
    int njobs;
};

static struct room *room_get(struct assistant *a, const char *id)
{
    for (int i = 0; i < a->nrooms; i++)
        if (strcmp(a->rooms[i].id, id) == 0)
            return &a->rooms[i];
    if (a->nrooms == MAX_ROOMS) { /* forget the oldest: it is looked up again if it comes back */
        memmove(&a->rooms[0], &a->rooms[1], sizeof a->rooms[0] * (MAX_ROOMS - 1));
        a->nrooms--;
    }
    struct room *r = &a->rooms[a->nrooms++];
    /* id may be the forgotten slot's own text (a caller's pointer into rooms[]): copy with memmove. */
    size_t n = strnlen(id, sizeof r->id - 1);
    memmove(r->id, id, n);
    memset(r->id + n, 0, sizeof r->id - n);
    memset((char *)r + sizeof r->id, 0, sizeof *r - sizeof r->id);
    return r;
}

/* Is this a conversation room where we are a member? The first event (room_created) names the kind;
 * FORBIDDEN means we are not a member. If retention pruned room_created, trying the state machine
 * decides (a room without one refuses every move). */
static enum room_kind classify(struct service *svc, struct assistant *a, const char *room)
{
    const char *params[] = {room, a->user};
    PGresult *res = service_call(svc,
                                 "SELECT e->>'event', e->'data'->>'kind' FROM rt.events_since($1, 0, 1, $2) e",
                                 2, params);
    if (!res)
        return service_disconnected(svc) || strcmp(svc->sqlstate, "RT403") != 0 ? ROOM_UNKNOWN : ROOM_IGNORED;
    enum room_kind kind = ROOM_SERVED;
    if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "room_created") == 0 &&
        strcmp(PQgetvalue(res, 0, 1), "conversation") != 0)
        kind = ROOM_IGNORED;
    PQclear(res);
    service_log(svc, "debug", "room %s: %s", room, kind == ROOM_SERVED ? "served" : "ignored");
    return kind;
}

static void enqueue(struct service *svc, struct assistant *a, const char *room, long long seq, const char *body)
{
    if (a->njobs == MAX_JOBS) {
        service_log(svc, "warn", "too many messages waiting; not answering %s/%lld", room, seq);
        return;
    }
    struct job *j = &a->jobs[a->njobs++];
    memset(j, 0, sizeof *j);
    snprintf(j->room, sizeof j->room, "%s", room);
    snprintf(j->body, sizeof j->body, "%s", body);
    j->seq = seq;
    j->step = STEP_THINK;
    j->due_ms = service_now_ms();
}

static bool room_busy(const struct assistant *a, const struct job *self)
{
    for (const struct job *j = a->jobs; j < self; j++)
        if (strcmp(j->room, self->room) == 0)
            return true;
    return false;
}

/* ---- replies ------------------------------------------------------------------------------- */

static bool contains_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; (p = strcasestr(p, word)) != NULL; p += n) {
        bool start = p == text || !((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z');
        bool end = !((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z');
        if (start && end)
            return true;
    }
    return false;
}

/* Deterministic answers: enough to watch the flow; a real worker calls its model here. */
static void compose_reply(const char *body, char *out, size_t size)
{
    if (contains_word(body, "hello") || contains_word(body, "hi") || contains_word(body, "hey"))
        snprintf(out, size, "Hello! I am the example assistant. Every answer I give goes through rt.publish, "
                            "and the state chips above show what I am doing.");
    else if (contains_word(body, "help"))
        snprintf(out, size, "I answer every message in this room. Try asking how pgrt works, or move the "
                            "state machine yourself with the buttons.");
    else if (contains_word(body, "pgrt") || contains_word(body, "how"))
        snprintf(out, size, "Everything here lives in PostgreSQL: your message was a row in rt.events, "
                            "NOTIFY told me about it, and my answer is another event. The bridge only "
                            "forwards.");
    else if (strchr(body, '?'))
        snprintf(out, size, "Good question. I am a canned example, so here is an honest answer: I do not know, "
                            "but a real model would be called at exactly this point.");
    else
        snprintf(out, size, "You said: \"%.*s\". Noted.", (int)(size > 64 ? size - 64 : 0), body);
}

/* ---- the state machine ---------------------------------------------------------------------- */

/* One move; "ok" when done, "invalid" when the machine refuses it from the current state, else
 * "stop" (FORBIDDEN, room ended, no connection). */
enum move_result { MOVE_OK, MOVE_INVALID, MOVE_STOP };

static enum move_result move(struct service *svc, struct assistant *a, const char *room, const char *to)
{
    const char *params[] = {room, a->user, to};
    PGresult *res = service_call(svc, "SELECT rt.transition($1, $2, $3)", 3, params);
    if (res) {
        PQclear(res);
        service_log(svc, "debug", "room %s: -> %s", room, to);
        return MOVE_OK;
    }
    if (strcmp(svc->sqlstate, "RT422") == 0)
        return MOVE_INVALID;
    if (!service_disconnected(svc))
        service_log(svc, "warn", "room %s: cannot move to %s: %s", room, to, svc->error);
    return MOVE_STOP;
}

/* Reaches PROCESSING from whatever state the room is in, without reading it: try the shortest
 * paths in turn; a refused move writes nothing. Returns MOVE_INVALID for a room without states. */
static enum move_result reach_processing(struct service *svc, struct assistant *a, const char *room)
{
    static const char *const paths[][4] = {
        {"PROCESSING", NULL},                        /* from LISTENING or SPEAKING */
        {"LISTENING", "PROCESSING", NULL},           /* from IDLE, WAITING_FOR_USER, PROCESSING */
        {"IDLE", "LISTENING", "PROCESSING", NULL},   /* from ERROR */
    };
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        enum move_result r = MOVE_OK;
        for (int i = 0; paths[p][i] && r == MOVE_OK; i++)
            r = move(svc, a, room, paths[p][i]);
        if (r != MOVE_INVALID)
            return r;
    }
    return MOVE_INVALID;
}

static bool publish_reply(struct service *svc, struct assistant *a, const struct job *j)
{
    char text[MAX_BODY + 256], seq[24];
    compose_reply(j->body, text, sizeof text);
    snprintf(seq, sizeof seq, "%lld", j->seq);
    const char *params[] = {j->room, a->user, text, seq};
    PGresult *res = service_call(svc,
                                 "SELECT rt.publish($1, $2, 'ai_response', jsonb_build_object("
                                 "'text', $3::text, 'in_reply_to', $4::bigint, 'model', 'canned-example'))",
                                 4, params);
    if (!res) {
        if (!service_disconnected(svc))
            service_log(svc, "warn", "room %s: cannot publish: %s", j->room, svc->error);
        return false;
    }
    PQclear(res);
    service_log(svc, "info", "room %s: answered message %lld", j->room, j->seq);
    return true;
}

/* Runs one step of a job. Returns false when the job is over. A lost connection leaves the step
 * as it was, to be run again after the reconnect. */
static bool run_step(struct service *svc, struct assistant *a, struct job *j, int64_t now)
{
    enum move_result r;
    switch (j->step) {
    case STEP_THINK:
        r = reach_processing(svc, a, j->room);
        if (service_disconnected(svc))
            return true;
        if (r == MOVE_INVALID) {
            room_get(a, j->room)->kind = ROOM_IGNORED; /* no state machine: not a conversation */
            return false;
        }
        if (r == MOVE_STOP)
            return false;
        j->step = STEP_SPEAK;
        j->due_ms = now + a->delay_ms;
        return true;
    case STEP_SPEAK:
        /* If someone moved the state meanwhile, the answer still goes out. */
        move(svc, a, j->room, "SPEAKING");
        if (!service_disconnected(svc) && publish_reply(svc, a, j)) {
            j->step = STEP_DONE;
            j->due_ms = now + a->delay_ms;
            return true;
        }
        return service_disconnected(svc);
    case STEP_DONE:
        move(svc, a, j->room, "WAITING_FOR_USER");
        return service_disconnected(svc);
    }
    return false;
}

/* ---- service hooks ---------------------------------------------------------------------------- */

static void on_message(struct service *svc, struct assistant *a, const char *room, long long seq, const char *actor,
                       const char *body)
{
    struct room *r = room_get(a, room);
    if (r->kind == ROOM_UNKNOWN && strcmp(actor, a->user) != 0)
        r->kind = classify(svc, a, room);
    if (service_disconnected(svc)) {
        /* Could not tell: resume from just before this message once reconnected. */
        if (r->last_seq == 0 || seq - 1 < r->last_seq)
            r->last_seq = seq - 1;
        return;
    }
    if (seq > r->last_seq)
        r->last_seq = seq;
    if (r->kind == ROOM_SERVED && strcmp(actor, a->user) != 0)
        enqueue(svc, a, room, seq, body);
}

/* Parsing JSON is PostgreSQL's job here (libpq only): one statement reads the fields, and resolves
 * a {"type":"ref"} (an event too large for NOTIFY) through rt.events_since as this user. */
static void notified(struct service *svc, const char *payload, void *ctx)
{
    struct assistant *a = ctx;
    /* Cheap filter first: every event we act on names one of these, whatever the JSON spacing. */
    if (!strstr(payload, "\"message\"") && !strstr(payload, "\"ref\"") && !strstr(payload, "\"member_"))
        return;
    const char *params[] = {payload, a->user};
    PGresult *res = service_call(svc,
        "WITH p AS (SELECT $1::jsonb AS p), "
        "e AS (SELECT CASE WHEN p->>'type' = 'ref' "
        "  THEN (SELECT x FROM rt.events_since(p->>'room', (p->>'seq')::bigint - 1, 1, $2) x) ELSE p END AS e FROM p) "
        "SELECT e->>'room', coalesce(e->>'seq', '0'), e->>'event', coalesce(e->>'actor', ''), "
        "       coalesce(e->'data'->>'body', ''), coalesce(e->'data'->>'user', '') FROM e WHERE e IS NOT NULL",
        2, params);
    if (!res) {
        if (!service_disconnected(svc) && strcmp(svc->sqlstate, "RT403") != 0)
            service_log(svc, "warn", "unreadable notification: %s", svc->error);
        return;
    }
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        const char *room = PQgetvalue(res, 0, 0), *event = PQgetvalue(res, 0, 2);
        long long seq = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        if (strcmp(event, "message") == 0)
            on_message(svc, a, room, seq, PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
        else if (strncmp(event, "member_", 7) == 0 && strcmp(PQgetvalue(res, 0, 5), a->user) == 0)
            room_get(a, room)->kind = ROOM_UNKNOWN; /* added or removed: look again next time */
    }
    PQclear(res);
}

/* After a reconnect: answer the messages posted while we were away, in the rooms we serve. */
static void connected(struct service *svc, void *ctx)
{
    struct assistant *a = ctx;
    for (int i = 0; i < a->nrooms && !service_disconnected(svc); i++) {
        struct room *r = &a->rooms[i];
        if (r->kind == ROOM_UNKNOWN && r->last_seq > 0)
            r->kind = classify(svc, a, r->id);
        if (r->kind != ROOM_SERVED || r->last_seq == 0)
            continue;
        char since[24];
        snprintf(since, sizeof since, "%lld", r->last_seq);
        const char *params[] = {r->id, since, a->user};
        PGresult *res = service_call(svc,
            "SELECT (e->>'seq'), e->>'event', coalesce(e->>'actor', ''), coalesce(e->'data'->>'body', '') "
            "FROM rt.events_since($1, $2::bigint, 100, $3) e",
            3, params);
        if (!res)
            continue;
        for (int row = 0; row < PQntuples(res); row++) {
            long long seq = strtoll(PQgetvalue(res, row, 0), NULL, 10);
            if (strcmp(PQgetvalue(res, row, 1), "message") == 0)
                on_message(svc, a, r->id, seq, PQgetvalue(res, row, 2), PQgetvalue(res, row, 3));
            else if (seq > r->last_seq)
                r->last_seq = seq;
        }
        PQclear(res);
    }
}

static int64_t tick(struct service *svc, int64_t now, void *ctx)
{
    struct assistant *a = ctx;
    int64_t next = -1;
    for (int i = 0; i < a->njobs && !service_disconnected(svc);) {
        struct job *j = &a->jobs[i];
        if (room_busy(a, j)) {
            i++;
            continue;
        }
        if (j->due_ms <= now && !run_step(svc, a, j, now)) {
            memmove(j, j + 1, sizeof *j * (size_t)(a->njobs - i - 1));
            a->njobs--;
            continue;
        }
        if (next < 0 || j->due_ms - now < next)
            next = j->due_ms > now ? j->due_ms - now : 0;
        i++;
    }
    return next;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: assistant [options]\n"
            "An example pgrt service: answers each new message in the conversation rooms where it is a\n"
            "`service` member with an ai_response, moving the room's state machine around it.\n"
            "Uses libpq only; the database comes from --database-url or the PG* environment variables.\n"
            "\n"
            "  -d, --database-url URL   libpq connection string or URI (default: PG* variables)\n"
            "  -u, --user ID            the member id it acts as (default: assistant)\n"
            "      --delay-ms N         pause in PROCESSING and SPEAKING, so people see it (default: 700)\n"
            "  -v, --verbose            log every step\n"
            "  -h, --help               this text\n"
            "\n"
            "Add it to a room first:  SELECT rt.add_member('ROOM', 'assistant', 'service');\n"
            "It reconnects with backoff when the database goes away, and exits 0 on SIGTERM or SIGINT.\n");
}

int main(int argc, char **argv)
{
    static struct assistant a = {.user = "assistant", .delay_ms = 700};
    struct service svc = {.name = "assistant"};
    static const struct option options[] = {
        {"database-url", required_argument, NULL, 'd'}, {"user", required_argument, NULL, 'u'},
        {"delay-ms", required_argument, NULL, 'D'},     {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},               {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "d:u:vh", options, NULL)) != -1) {
        switch (c) {
        case 'd': svc.conninfo = optarg; break;
        case 'u': a.user = optarg; break;
        case 'D':
            a.delay_ms = (int)strtol(optarg, &end, 10);
            if (*end || a.delay_ms < 0 || a.delay_ms > 60000) {
                fprintf(stderr, "assistant: --delay-ms must be 0..60000\n");
                return 2;
            }
            break;
        case 'v': svc.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !*a.user || strlen(a.user) > 128) {
        usage(stderr);
        return 2;
    }
    static const struct service_hooks hooks = {.connected = connected, .notified = notified, .tick = tick};
    service_log(&svc, "info", "answering as %s", a.user);
    return service_run(&svc, &hooks, &a);
}
