/* occupancy: the latest signal per room wins, at most one delivery per room per tick, a flush of one
 * room delivers it at once, no coalescing with interval 0, notify_parse routes the signal, and a room
 * with thousands of members joined gets its count less often (one interval per 1,000). */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../../bridge/notify_parse.h"
#include "../../bridge/occupancy.h"
#include "check.h"

struct seen {
    int n;
    char room[8][16];
    char text[8][128];
};

static void record(void *ctx, const char *room, struct outbuf *ob)
{
    struct seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->room[s->n], sizeof s->room[0], "%s", room);
        snprintf(s->text[s->n], sizeof s->text[0], "%.*s", (int)ob->len, (const char *)outbuf_payload(ob));
    }
    s->n++;
}

/* A room "big" of 5,000 members and any other of 10. */
static unsigned members(void *ctx, const char *room)
{
    (void)ctx;
    return strcmp(room, "big") == 0 ? 5000 : 10;
}

static void stop_loop(uv_timer_t *t) { uv_stop(t->loop); }

/* Runs the loop for about ms milliseconds. */
static void run_for(uv_loop_t *loop, int ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, stop_loop, (uint64_t)ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

#define SIG(n) "{\"type\":\"event\",\"room\":\"r\",\"event\":\"occupancy\",\"actor\":null,\"data\":{\"occupancy\":" #n "}}"

int main(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    struct occupancy *o = occupancy_new(&loop, 50, record, &s);
    CHECK(o != NULL, "created");

    for (int i = 1; i <= 100; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"event\":\"occupancy\",\"data\":{\"occupancy\":%d}}", i);
        occupancy_queue(o, "r", text, strlen(text));
    }
    occupancy_queue(o, "q", SIG(7), strlen(SIG(7)));
    CHECK(s.n == 0, "nothing is delivered before the tick");
    CHECK(occupancy_pending(o) == 2, "two rooms wait");
    run_for(&loop, 80);
    CHECK(s.n == 2, "one delivery per room per tick");
    int r = strcmp(s.room[0], "r") == 0 ? 0 : 1;
    CHECK_STR(s.text[r], "{\"event\":\"occupancy\",\"data\":{\"occupancy\":100}}", "the latest count wins");
    CHECK_STR(s.room[1 - r], "q", "the other room");
    CHECK(occupancy_pending(o) == 0, "nothing waits after the tick");
    run_for(&loop, 120);
    CHECK(s.n == 2, "an idle interval delivers nothing");

    occupancy_queue(o, "r", SIG(5), strlen(SIG(5)));
    occupancy_flush_room(o, "q");
    CHECK(s.n == 2, "flushing a room with nothing waiting delivers nothing");
    occupancy_flush_room(o, "r");
    CHECK(s.n == 3 && strstr(s.text[2], "\"occupancy\":5"), "flushing a room delivers its signal at once");
    run_for(&loop, 80);
    CHECK(s.n == 3, "and it is not delivered again");

    occupancy_queue(o, "r", SIG(6), strlen(SIG(6)));
    occupancy_stop(o);
    CHECK(s.n == 4, "stop flushes what waits");
    uv_run(&loop, UV_RUN_NOWAIT);
    occupancy_free(o);

    struct seen now = {0};
    struct occupancy *direct = occupancy_new(&loop, 0, record, &now);
    occupancy_queue(direct, "r", SIG(1), strlen(SIG(1)));
    occupancy_queue(direct, "r", SIG(2), strlen(SIG(2)));
    CHECK(now.n == 2, "interval 0: each signal at once");
    occupancy_stop(direct);
    occupancy_free(direct);
    CHECK(uv_loop_close(&loop) == 0, "no handle left open");

    CHECK(occupancy_interval_for(500, 0) == 500 && occupancy_interval_for(500, 1000) == 500,
          "up to 1,000 members: the plain interval");
    CHECK(occupancy_interval_for(500, 1001) == 1000 && occupancy_interval_for(500, 5000) == 2500 &&
              occupancy_interval_for(500, 10000) == 5000,
          "one interval per started 1,000 members");

    uv_loop_init(&loop);
    struct seen sc = {0};
    struct occupancy *scaled = occupancy_new(&loop, 20, record, &sc);
    occupancy_scale_by(scaled, members, NULL); /* big: every 100 ms, small: every 20 ms */
    occupancy_queue(scaled, "big", SIG(1), strlen(SIG(1)));
    occupancy_queue(scaled, "small", SIG(1), strlen(SIG(1)));
    run_for(&loop, 30);
    CHECK(sc.n == 2, "a room's first count goes at the next tick, whatever its size");
    occupancy_queue(scaled, "big", SIG(2), strlen(SIG(2)));
    occupancy_queue(scaled, "big", SIG(3), strlen(SIG(3)));
    occupancy_queue(scaled, "small", SIG(2), strlen(SIG(2)));
    run_for(&loop, 40);
    CHECK(sc.n == 3 && strcmp(sc.room[2], "small") == 0, "the small room's next count goes a tick later");
    CHECK(occupancy_pending(scaled) == 1, "the big room's waits for its longer interval");
    run_for(&loop, 150);
    CHECK(sc.n == 4 && strcmp(sc.room[3], "big") == 0 && strstr(sc.text[3], "\"occupancy\":3"),
          "then it goes, the latest count");
    occupancy_queue(scaled, "big", SIG(4), strlen(SIG(4)));
    occupancy_flush_room(scaled, "big");
    CHECK(sc.n == 5, "a flush does not wait for the interval");
    occupancy_stop(scaled);
    uv_run(&loop, UV_RUN_NOWAIT);
    occupancy_free(scaled);
    CHECK(uv_loop_close(&loop) == 0, "no handle left open");

    struct notify_facts f;
    notify_parse(SIG(3), strlen(SIG(3)), &f);
    CHECK(f.route == NOTIFY_OCCUPANCY, "an occupancy signal is routed to the coalescer");
    notify_facts_free(&f);
    const char *odd = "{\"type\":\"event\",\"room\":\"r\",\"event\":\"occupancy\",\"data\":{\"occupancy\":\"x\"}}";
    notify_parse(odd, strlen(odd), &f);
    CHECK(f.route == NOTIFY_SIGNAL, "one of an unexpected shape is forwarded as a plain signal");
    notify_facts_free(&f);
    return check_done();
}
