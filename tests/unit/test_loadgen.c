/* Unit tests of rt-loadgen's measuring parts: the latency histogram's quantiles and bounds, and the
 * top-level JSON member scanner on the frames the bridge sends (and on broken ones). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "histogram.h"
#include "json_scan.h"

static int within(uint64_t got, uint64_t want, double tolerance)
{
    double d = (double)got - (double)want;
    return (d < 0 ? -d : d) <= tolerance * (double)want;
}

static void test_histogram(void)
{
    struct histogram *h = calloc(1, sizeof *h);
    CHECK(hist_quantile(h, 0.5) == 0, "an empty histogram reports 0");
    for (uint64_t v = 1; v <= 100000; v++)
        hist_add(h, v * 1000); /* 1 us .. 100 ms, uniform */
    CHECK(h->total == 100000, "every sample is counted");
    CHECK(within(hist_quantile(h, 0.50), 50000000, 0.04), "p50 of a uniform 1..100 ms is ~50 ms");
    CHECK(within(hist_quantile(h, 0.99), 99000000, 0.04), "p99 is ~99 ms");
    CHECK(hist_quantile(h, 1.0) <= h->max && h->max == 100000000, "no quantile exceeds the maximum");
    CHECK(hist_quantile(h, 0.0) <= 1100, "p0 is the smallest bucket");

    memset(h, 0, sizeof *h);
    for (int i = 0; i < 99; i++)
        hist_add(h, 5);
    hist_add(h, 10ull * 1000 * 1000 * 1000 * 1000 * 1000); /* beyond the top bucket */
    CHECK(hist_quantile(h, 0.5) == 5, "small values are exact");
    CHECK(h->max == 10ull * 1000 * 1000 * 1000 * 1000 * 1000, "a huge value lands in the last bucket and sets max");
    free(h);
}

static void test_json_members(void)
{
    static const char *const names[] = {"type", "ref", "ok", "seq", "data"};
    struct json_span v[5], body;
    static const char *const body_name[] = {"body"};
    const char *event = "{\"at\": \"2026-12-01T22:52:50.041187Z\", \"seq\": 2, \"data\": {\"body\": \"lg1:2:3:4:\", "
                        "\"meta\": {\"type\": \"nested\"}, \"media_url\": null}, \"room\": \"r1\", \"type\": \"event\"}";
    CHECK(json_members(event, strlen(event), names, 5, v), "an event frame is walked");
    CHECK(json_span_is(v[0], "event"), "the top-level type, not the nested one");
    int64_t seq = 0;
    CHECK(json_span_int(v[3], &seq) && seq == 2, "seq is read as an integer");
    CHECK(v[1].p == NULL && v[2].p == NULL, "absent members are NULL");
    CHECK(v[4].p && v[4].p[0] == '{', "an object value spans its braces");
    CHECK(json_members(v[4].p, v[4].len, body_name, 1, &body) && json_span_is(body, "lg1:2:3:4:"),
          "a member of the nested object");

    const char *reply = "{\"type\":\"reply\",\"ref\":\"17\",\"ok\":false,\"error\":{\"code\":\"RATE_LIMITED\",\"message\":\"a \\\"quoted\\\" }\"}}";
    CHECK(json_members(reply, strlen(reply), names, 5, v), "a reply with escapes in strings is walked");
    CHECK(json_span_is(v[1], "17") && json_span_is(v[2], "false"), "ref and ok of a reply");

    CHECK(!json_members("[1,2]", 5, names, 5, v), "an array is refused");
    CHECK(!json_members("{\"type\":\"ev", 11, names, 5, v), "a truncated string is refused");
    CHECK(!json_members("{\"a\":{\"b\":1}", 12, names, 5, v), "an unclosed object is refused");
    CHECK(!json_span_int((struct json_span){"12x", 3}, &seq), "a non-number is not an integer");
}

int main(void)
{
    test_histogram();
    test_json_members();
    return check_done();
}
