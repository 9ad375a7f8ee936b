/* meeting-sim: an example meeting pipeline on libpq alone. When someone in a meeting room where it
 * is a `service` member sends the `speech_event` signal {"action":"start"} (the demo's "Start
 * meeting" button), it plays a scripted meeting through the rt functions: `status` stages,
 * interim transcript text as `transcript_interim` signals (live only), each finished segment as a
 * `transcript` event (stored), and a `summary`. `--once ROOM` plays one meeting and exits. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "service.h"

#define MAX_RUNS 64

struct line {
    const char *speaker, *text;
};

static const struct line script[] = {
    {"alice", "Good morning everyone, let's start with the release status."},
    {"bob", "The bridge protocol landed yesterday and the end to end tests are green."},
    {"alice", "Great. What is left before we can tag the release?"},
    {"bob", "The browser client docs and one more round of load testing on two bridges."},
    {"alice", "Then let's aim for Thursday and review the benchmark numbers on Wednesday."},
    {"bob", "Sounds good, I will share the load test results by Wednesday noon."},
};
#define NLINES (int)(sizeof script / sizeof script[0])

static const char *const summary_text =
    "The bridge protocol is done and tested. Remaining before the release: client documentation and "
    "a load test on two bridges. Release planned for Thursday, after a benchmark review on Wednesday.";
static const char *const action_items = "[\"bob: share load test results by Wednesday noon\", "
                                        "\"alice: review benchmark numbers on Wednesday\", "
                                        "\"team: tag the release on Thursday\"]";

enum phase { JOINING, LIVE, RECORDING, TRANSCRIBING, SUMMARIZING, SUMMARY, DONE, FINISHED };

/* One meeting being played in one room. */
struct run {
    char room[65];
    long long id;  /* in every payload, so a page tells one meeting from the next */
    enum phase phase;
    int line;      /* segment being spoken (RECORDING) */
    int words;     /* words of it heard so far */
    int64_t due_ms;
};

struct sim {
    const char *user;
    const char *once_room;
    int pace_ms;
    struct run runs[MAX_RUNS];
    int nruns;
    int played;
};

static bool start_run(struct service *svc, struct sim *s, const char *room)
{
    for (int i = 0; i < s->nruns; i++)
        if (strcmp(s->runs[i].room, room) == 0) {
            service_log(svc, "info", "room %s: a meeting is already running", room);
            return false;
        }
    if (s->nruns == MAX_RUNS) {
        service_log(svc, "warn", "room %s: too many meetings at once", room);
        return false;
    }
    struct run *r = &s->runs[s->nruns++];
    memset(r, 0, sizeof *r);
    snprintf(r->room, sizeof r->room, "%s", room);
    r->id = (long long)time(NULL);
    r->phase = JOINING;
    r->due_ms = service_now_ms();
    service_log(svc, "info", "room %s: meeting %lld starts", room, r->id);
    return true;
}

/* Number of bytes of `text` that hold its first `words` words. */
static int prefix_len(const char *text, int words)
{
    const char *p = text;
    for (int w = 0; *p && w < words; w++) {
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    return (int)(p - text);
}

static int word_count(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        if (*p != ' ' && (p == text || p[-1] == ' '))
            n++;
    return n;
}

/* ---- publishing: the JSON is built by PostgreSQL (jsonb_build_object), never by hand ---------- */

static bool call(struct service *svc, const struct run *r, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = service_call(svc, sql, nparams, params);
    if (res) {
        PQclear(res);
        return true;
    }
    if (!service_disconnected(svc))
        service_log(svc, "warn", "room %s: %s", r->room, svc->error);
    return false;
}

static bool publish_status(struct service *svc, struct sim *s, const struct run *r, const char *stage,
                           const char *label)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", r->id);
    const char *params[] = {r->room, s->user, id, stage, label};
    return call(svc, r,
                "SELECT rt.publish($1, $2, 'status', jsonb_build_object('run', $3::bigint, 'stage', $4::text, "
                "'label', $5::text))",
                5, params);
}

static bool send_segment(struct service *svc, struct sim *s, const struct run *r, bool final)
{
    const struct line *l = &script[r->line];
    char id[24], seg[16], text[512], start[24], end[24];
    snprintf(id, sizeof id, "%lld", r->id);
    snprintf(seg, sizeof seg, "%d", r->line);
    snprintf(text, sizeof text, "%.*s", final ? (int)strlen(l->text) : prefix_len(l->text, r->words), l->text);
    snprintf(start, sizeof start, "%d", r->line * 4000);
    snprintf(end, sizeof end, "%d", r->line * 4000 + 3500);
    if (!final) {
        const char *params[] = {r->room, s->user, id, seg, l->speaker, text};
        return call(svc, r,
                    "SELECT rt.signal($1, $2, 'transcript_interim', jsonb_build_object('run', $3::bigint, "
                    "'segment', $4::int, 'speaker', $5::text, 'text', $6::text))",
                    6, params);
    }
    const char *params[] = {r->room, s->user, id, seg, l->speaker, text, start, end};
    return call(svc, r,
                "SELECT rt.publish($1, $2, 'transcript', jsonb_build_object('run', $3::bigint, 'segment', $4::int, "
                "'speaker', $5::text, 'text', $6::text, 'start_ms', $7::int, 'end_ms', $8::int))",
                8, params);
}

static bool publish_summary(struct service *svc, struct sim *s, const struct run *r)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", r->id);
    const char *params[] = {r->room, s->user, id, summary_text, action_items};
    return call(svc, r,
                "SELECT rt.publish($1, $2, 'summary', jsonb_build_object('run', $3::bigint, 'text', $4::text, "
                "'action_items', $5::jsonb))",
                5, params);
}

/* ---- the meeting, one step per call ------------------------------------------------------------ */

/* Plays the next step of a run. Returns false when the run is over (finished, or refused: FORBIDDEN,
 * room ended). After a lost connection the step is played again once reconnected. */
static bool step(struct service *svc, struct sim *s, struct run *r, int64_t now)
{
    bool ok = true;
    int64_t wait = s->pace_ms;
    switch (r->phase) {
    case JOINING:
        ok = publish_status(svc, s, r, "joining", "Joining the call…");
        wait = 2 * s->pace_ms;
        break;
    case LIVE:
        ok = publish_status(svc, s, r, "recording", "Recording: live transcript below");
        break;
    case RECORDING:
        r->words += 3;
        if (r->words < word_count(script[r->line].text)) {
            if (send_segment(svc, s, r, false))
                return r->due_ms = now + s->pace_ms, true;
            r->words -= 3;
            ok = false;
            break;
        }
        if (!send_segment(svc, s, r, true)) {
            r->words -= 3;
            ok = false;
            break;
        }
        r->line++;
        r->words = 0;
        if (r->line < NLINES)
            return r->due_ms = now + s->pace_ms, true;
        break;
    case TRANSCRIBING:
        ok = publish_status(svc, s, r, "transcribing", "Finalizing the transcript");
        wait = 3 * s->pace_ms;
        break;
    case SUMMARIZING:
        ok = publish_status(svc, s, r, "summarizing", "Writing the summary");
        wait = 4 * s->pace_ms;
        break;
    case SUMMARY:
        ok = publish_summary(svc, s, r);
        break;
    case DONE:
        ok = publish_status(svc, s, r, "done", "Meeting summarized");
        break;
    case FINISHED:
        return false;
    }
    if (!ok)
        return service_disconnected(svc);
    r->phase++;
    r->due_ms = now + wait;
    if (r->phase == FINISHED) {
        service_log(svc, "info", "room %s: meeting %lld done", r->room, r->id);
        s->played++;
        return false;
    }
    return true;
}

/* ---- service hooks ------------------------------------------------------------------------------- */

static void notified(struct service *svc, const char *payload, void *ctx)
{
    struct sim *s = ctx;
    if (s->once_room || !strstr(payload, "\"speech_event\""))
        return;
    const char *params[] = {payload};
    PGresult *res = service_call(svc,
                                 "SELECT p->>'room', coalesce(p->>'actor', ''), coalesce(p->'data'->>'action', '') "
                                 "FROM (SELECT $1::jsonb AS p) x WHERE p->>'event' = 'speech_event'",
                                 1, params);
    if (!res)
        return;
    if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 2), "start") == 0 &&
        strcmp(PQgetvalue(res, 0, 1), s->user) != 0) {
        /* Any room's signal reaches us; only meeting rooms we are a member of are ours. */
        const char *room = PQgetvalue(res, 0, 0);
        const char *p2[] = {room, s->user};
        PGresult *kind = service_call(svc, "SELECT e->>'event', e->'data'->>'kind' FROM rt.events_since($1, 0, 1, $2) e",
                                      2, p2);
        if (kind && !(PQntuples(kind) == 1 && strcmp(PQgetvalue(kind, 0, 0), "room_created") == 0 &&
                      strcmp(PQgetvalue(kind, 0, 1), "meeting") != 0))
            start_run(svc, s, room);
        else if (!kind && !service_disconnected(svc))
            service_log(svc, "debug", "room %s: not ours (%s)", room, svc->error);
        PQclear(kind);
    }
    PQclear(res);
}

static void connected(struct service *svc, void *ctx)
{
    struct sim *s = ctx;
    if (s->once_room && s->played == 0 && s->nruns == 0)
        start_run(svc, s, s->once_room);
}

static int64_t tick(struct service *svc, int64_t now, void *ctx)
{
    struct sim *s = ctx;
    int64_t next = -1;
    for (int i = 0; i < s->nruns && !service_disconnected(svc);) {
        struct run *r = &s->runs[i];
        if (r->due_ms <= now && !step(svc, s, r, now)) {
            memmove(r, r + 1, sizeof *r * (size_t)(s->nruns - i - 1));
            s->nruns--;
            continue;
        }
        if (next < 0 || r->due_ms - now < next)
            next = r->due_ms > now ? r->due_ms - now : 0;
        i++;
    }
    if (s->once_room && s->nruns == 0 && !service_disconnected(svc))
        service_stop(svc);
    return next;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: meeting-sim [options]\n"
            "An example pgrt meeting pipeline: in meeting rooms where it is a `service` member, a\n"
            "speech_event signal {\"action\":\"start\"} plays a scripted meeting: status stages, interim\n"
            "transcript signals, final transcript events and a summary.\n"
            "Uses libpq only; the database comes from --database-url or the PG* environment variables.\n"
            "\n"
            "  -d, --database-url URL   libpq connection string or URI (default: PG* variables)\n"
            "  -u, --user ID            the member id it acts as (default: meeting-bot)\n"
            "      --once ROOM          play one meeting in ROOM now, then exit (no signal needed)\n"
            "      --pace-ms N          time between two transcript updates (default: 350)\n"
            "  -v, --verbose            log every step\n"
            "  -h, --help               this text\n"
            "\n"
            "Add it to a room first:  SELECT rt.add_member('ROOM', 'meeting-bot', 'service');\n"
            "It reconnects with backoff when the database goes away, and exits 0 on SIGTERM or SIGINT.\n");
}

int main(int argc, char **argv)
{
    static struct sim s = {.user = "meeting-bot", .pace_ms = 350};
    struct service svc = {.name = "meeting-sim"};
    static const struct option options[] = {
        {"database-url", required_argument, NULL, 'd'}, {"user", required_argument, NULL, 'u'},
        {"once", required_argument, NULL, 'o'},         {"pace-ms", required_argument, NULL, 'p'},
        {"verbose", no_argument, NULL, 'v'},            {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "d:u:vh", options, NULL)) != -1) {
        switch (c) {
        case 'd': svc.conninfo = optarg; break;
        case 'u': s.user = optarg; break;
        case 'o': s.once_room = optarg; break;
        case 'p':
            s.pace_ms = (int)strtol(optarg, &end, 10);
            if (*end || s.pace_ms < 1 || s.pace_ms > 60000) {
                fprintf(stderr, "meeting-sim: --pace-ms must be 1..60000\n");
                return 2;
            }
            break;
        case 'v': svc.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || !*s.user || strlen(s.user) > 128 || (s.once_room && strlen(s.once_room) > 64)) {
        usage(stderr);
        return 2;
    }
    static const struct service_hooks hooks = {.connected = connected, .notified = notified, .tick = tick};
    service_log(&svc, "info", s.once_room ? "playing one meeting in %s" : "waiting for meetings as %s",
                s.once_room ? s.once_room : s.user);
    int status = service_run(&svc, &hooks, &s);
    /* --once: success means the meeting was played to its end. */
    return s.once_room && s.played == 0 ? 1 : status;
}
