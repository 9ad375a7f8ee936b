/*
 * Unit tests of the pure parsers the fuzzers drive (frame_parse, notify_parse, http_input): the
 * decisions the bridge acts on, including the inputs the fuzzing work found mishandled.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame_parse.h"
#include "http_input.h"
#include "notify_parse.h"

static struct frame_request parse(const char *text)
{
    struct frame_request req;
    frame_parse(text, strlen(text), &req);
    return req;
}

static void test_frame_kinds(void)
{
    struct frame_request r = parse("{\"type\":\"join\",\"room\":\"r1\",\"ref\":\"1\",\"since\":4}");
    CHECK(r.kind == FRAME_DB && strcmp(r.label, "join") == 0, "join is a database frame");
    CHECK_STR(r.room, "r1", "join: room read");
    CHECK(r.since == 4, "join: since read");
    frame_request_free(&r);

    r = parse("{\"type\":\"ping\"}");
    CHECK(r.kind == FRAME_PING && !r.ref, "ping without ref");
    frame_request_free(&r);

    r = parse("{\"type\":\"auth\",\"ref\":\"a\",\"token\":\"x.y.z\"}");
    CHECK(r.kind == FRAME_AUTH && strcmp(r.token, "x.y.z") == 0, "auth carries its token");
    frame_request_free(&r);

    r = parse("{\"type\":\"auth\",\"ref\":\"a\",\"token\":1}");
    CHECK(r.kind == FRAME_INVALID && strcmp(r.label, "auth") == 0 && r.ref, "auth without a string token");
    frame_request_free(&r);

    r = parse("{\"type\":\"join\",\"room\":\"r1\"}");
    CHECK(r.kind == FRAME_INVALID && strstr(r.error, "needs a \"ref\""), "join without ref is refused");
    frame_request_free(&r);

    r = parse("{\"type\":\"ping\",\"ref\":5}");
    CHECK(r.kind == FRAME_MALFORMED && !r.ref, "a numeric ref is malformed, not echoed");
    frame_request_free(&r);

    r = parse("{\"type\":\"send\",\"ref\":\"n\",\"body\":\"a\\u0000b\"}");
    CHECK(r.kind == FRAME_MALFORMED && r.ref && strstr(r.error, "\\u0000"), "\\u0000: refused, ref found leniently");
    frame_request_free(&r);

    static const char nul_after_number[] = "{\"type\":\"history\",\"ref\":\"z\",\"room\":\"r\",\"limit\":1\0}";
    frame_parse(nul_after_number, sizeof nul_after_number - 1, &r);
    CHECK(r.kind == FRAME_MALFORMED && r.ref && strstr(r.error, "NUL byte"), "a raw NUL after a number: refused, ref found");
    frame_request_free(&r);

    r = parse("{\"type\":\"join\",\"ref\":\"l\",\"room\":\"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\"}");
    CHECK(r.kind == FRAME_DB && r.room[0] == '\0', "a 65-byte room is not routed (SQL refuses it)");
    frame_request_free(&r);
}

/* Found while fuzzing: jansson reads 1e-20000 as 0, PostgreSQL's jsonb refuses it, and the frame
 * used to fail the whole rt.batch it shared with other connections' commands. */
static void test_frame_numbers_postgres_cannot_hold(void)
{
    struct frame_request r = parse("{\"type\":\"send\",\"room\":\"r\",\"ref\":\"u\",\"body\":\"b\",\"x\":1e-20000}");
    CHECK(r.kind == FRAME_MALFORMED && r.ref && strcmp(r.error, "a number is out of range") == 0,
          "1e-20000: refused with its ref");
    frame_request_free(&r);

    r = parse("{\"type\":\"send\",\"room\":\"r\",\"ref\":\"u\",\"x\":1e-16383}");
    CHECK(r.kind == FRAME_DB, "1e-16383 fits a numeric");
    frame_request_free(&r);

    r = parse("{\"type\":\"send\",\"room\":\"r\",\"ref\":\"u\",\"x\":[1E-16384]}");
    CHECK(r.kind == FRAME_MALFORMED, "1E-16384 (in an array) does not");
    frame_request_free(&r);

    r = parse("{\"type\":\"send\",\"room\":\"r\",\"ref\":\"u\",\"x\":{\"y\":0e2000000000}}");
    CHECK(r.kind == FRAME_MALFORMED, "an exponent beyond PostgreSQL's int range");
    frame_request_free(&r);

    static const char head[] = "{\"type\":\"send\",\"ref\":\"u\",\"x\":0.";
    size_t n = strlen(head);
    char *many = malloc(n + 16384 + 2);
    memcpy(many, head, n);
    memset(many + n, '0', 16384);
    strcpy(many + n + 16384, "}");
    r = parse(many);
    CHECK(r.kind == FRAME_MALFORMED, "16384 digits after the point");
    frame_request_free(&r);
    strcpy(many + n + 16383, "}");
    r = parse(many);
    CHECK(r.kind == FRAME_DB, "16383 digits after the point fit");
    frame_request_free(&r);
    free(many);

    r = parse("{\"type\":\"send\",\"room\":\"r\",\"ref\":\"-1e-99999\",\"body\":\"1e-99999 \\\" 2e-99999\",\"n\":-12.5e+3}");
    CHECK(r.kind == FRAME_DB, "numbers inside strings are text, not numbers");
    frame_request_free(&r);
}

static void test_notify(void)
{
    struct notify_facts f;
    const char *p = "{\"type\":\"ref\",\"room\":\"r1\",\"seq\":8}";
    notify_parse(p, strlen(p), &f);
    CHECK(f.route == NOTIFY_PERSISTED && f.is_ref && f.seq == 8, "a ref is resolved from the log");
    notify_facts_free(&f);

    p = "{\"type\":\"event\",\"room\":\"r1\",\"event\":\"presence\",\"data\":{\"user\":\"u\",\"status\":\"joined\"}}";
    notify_parse(p, strlen(p), &f);
    CHECK(f.route == NOTIFY_PRESENCE && f.presence_joined && strcmp(f.presence_user, "u") == 0, "presence");
    notify_facts_free(&f);

    p = "{\"type\":\"event\",\"room\":\"r1\",\"event\":\"presence\",\"data\":{\"user\":7}}";
    notify_parse(p, strlen(p), &f);
    CHECK(f.route == NOTIFY_SIGNAL, "odd presence is forwarded like a signal");
    notify_facts_free(&f);

    p = "{\"type\":\"system\",\"event\":\"maintenance\",\"user\":3}";
    notify_parse(p, strlen(p), &f);
    CHECK(f.route == NOTIFY_SYSTEM && f.maintenance && !f.system_everyone && !f.system_user,
          "a system frame with a non-string user reaches nobody");
    notify_facts_free(&f);

    p = "[1]";
    notify_parse(p, strlen(p), &f);
    CHECK(f.route == NOTIFY_NOT_A_FRAME, "not a frame");
    notify_facts_free(&f);
}

static void test_http_input(void)
{
    CHECK_STR(http_bearer_token("bearer   abc"), "abc", "bearer: scheme case-insensitive, spaces skipped");
    CHECK(http_bearer_token("Basic abc") == NULL, "another scheme has no bearer token");
    CHECK(http_origin_allowed("https://a, https://b", "https://b"), "listed origin");
    CHECK(!http_origin_allowed("https://a", "https://a.evil"), "a prefix is not a match");
    CHECK(!http_origin_allowed("https://a,", ""), "a trailing comma does not admit an empty Origin");
    CHECK(http_origin_allowed("*", "anything") && http_origin_allowed(NULL, "x"), "open lists");
    CHECK(http_safe_path("/client/pgrt.js") && !http_safe_path("/../x") && !http_safe_path("/a/.git"), "paths");

    char *event, *data;
    const char *body = "{\"event\":\"notice\"}";
    CHECK(http_broadcast_body(body, strlen(body), &event, &data) && strcmp(data, "{}") == 0, "broadcast: no data");
    free(event);
    free(data);
    body = "{\"event\":\"notice\",\"data\":[]}";
    CHECK(!http_broadcast_body(body, strlen(body), &event, &data) && !event, "broadcast: data must be an object");
}

static void test_first_auth(void)
{
    struct frame_request r;
    const char *t = "{\"type\":\"auth\",\"token\":\"x.y.z\"}";
    const char *token = frame_parse_first_auth(t, strlen(t), &r); /* CHECK_STR reads its argument twice */
    CHECK_STR(token, "x.y.z", "first auth frame: no ref needed");
    frame_request_free(&r);
    static const char *const refused[] = {
        "{\"type\":\"auth\",\"ref\":\"a\",\"token\":\"x.y.z\"",   /* not JSON */
        "{\"type\":\"join\",\"ref\":\"a\",\"room\":\"r\"}",         /* a command before authentication */
        "{\"type\":\"auth\",\"token\":7}",                       /* no string token */
        "{\"type\":\"auth\",\"token\":\"a\",\"token\":\"b\"}",       /* duplicate keys */
        "{\"type\":\"auth\",\"ref\":5,\"token\":\"x.y.z\"}",          /* a bad ref */
        "[\"auth\"]",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(!frame_parse_first_auth(refused[i], strlen(refused[i]), &r), refused[i]);
        frame_request_free(&r);
    }
    static const char nul[] = "{\"type\":\"auth\",\"token\":\"x\"}\0";
    CHECK(!frame_parse_first_auth(nul, sizeof nul - 1, &r), "first auth frame with a raw NUL byte");
    frame_request_free(&r);
}

static void test_protocol_listed(void)
{
    CHECK(http_protocol_listed("pgrt.auth", "pgrt.auth"), "the only entry");
    CHECK(http_protocol_listed("chat, pgrt.auth ,x", "pgrt.auth"), "among others, with spaces");
    CHECK(!http_protocol_listed("pgrt.authx, pgrt", "pgrt.auth"), "a longer name is not a match");
    CHECK(!http_protocol_listed("PGRT.AUTH", "pgrt.auth"), "case-sensitive");
    CHECK(!http_protocol_listed(", ,", "pgrt.auth") && !http_protocol_listed(NULL, "pgrt.auth"), "empty lists");
    CHECK(!http_protocol_listed("pgrt", "pgrt.auth"), "a prefix is not a match");
}

int main(void)
{
    test_first_auth();
    test_protocol_listed();
    test_frame_kinds();
    test_frame_numbers_postgres_cannot_hold();
    test_notify();
    test_http_input();
    return check_done();
}
