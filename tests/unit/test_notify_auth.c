/*
 * Unit tests of notify_auth: a payload tagged the way rt.notify_sign tags it verifies and comes out
 * as the original frame; anything else (untagged, altered, another key, an unknown key, a tag of the
 * wrong shape) is refused. The expected MAC was computed with `openssl dgst -sha256 -mac HMAC`.
 * Also times the check, the bridge's cost per event of authentication (docs/operations.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "notify_auth.h"

static const char FRAME[] = "{\"type\": \"event\", \"room\": \"r1\", \"seq\": 7}";
static const char MAC[] = "fb75259f65de3e3d962db7735f83fa94ce7a18a1d997ec4f84abed206b9eb845";

static struct notify_keyring ring_with_key(long id)
{
    struct notify_keyring ring;
    memset(&ring, 0, sizeof ring);
    char hex[2 * NOTIFY_KEY_BYTES + 1];
    for (int i = 0; i < NOTIFY_KEY_BYTES; i++)
        snprintf(hex + 2 * i, 3, "%02x", i);
    notify_keyring_add(&ring, id, hex);
    return ring;
}

/* The frame with its tag, as rt.notify_sign writes it. */
static size_t tagged(char *buf, size_t size, const char *id, const char *mac)
{
    return (size_t)snprintf(buf, size, "%.*s, \"sig\": \"%s.%s\"}", (int)strlen(FRAME) - 1, FRAME, id, mac);
}

static enum notify_auth_result check(const struct notify_keyring *ring, const char *id, const char *mac, char *out)
{
    char buf[512];
    size_t len = tagged(buf, sizeof buf, id, mac);
    enum notify_auth_result r = notify_auth_check(ring, buf, &len);
    if (out)
        snprintf(out, 512, "%.*s", (int)len, buf);
    return r;
}

static void test_verdicts(void)
{
    struct notify_keyring ring = ring_with_key(3);
    char out[512];
    CHECK(check(&ring, "3", MAC, out) == NOTIFY_AUTH_OK, "a payload tagged with key 3 verifies");
    CHECK(strcmp(out, FRAME) == 0, "the tag is cut off and the frame restored byte for byte");
    CHECK(check(&ring, "4", MAC, NULL) == NOTIFY_AUTH_UNKNOWN_KEY, "a key the ring lacks is unknown_key");
    char wrong[65];
    snprintf(wrong, sizeof wrong, "%s", MAC);
    wrong[10] = wrong[10] == '0' ? '1' : '0';
    CHECK(check(&ring, "3", wrong, NULL) == NOTIFY_AUTH_BAD_TAG, "one changed digit of the MAC is bad_tag");
    struct notify_keyring other = ring_with_key(3);
    other.keys[0].secret[63] ^= 1;
    CHECK(check(&other, "3", MAC, NULL) == NOTIFY_AUTH_BAD_TAG, "another secret under the same id is bad_tag");

    char buf[512];
    size_t len = tagged(buf, sizeof buf, "3", MAC);
    buf[20] = 'X'; /* the frame altered after signing */
    CHECK(notify_auth_check(&ring, buf, &len) == NOTIFY_AUTH_BAD_TAG, "an altered frame is bad_tag");

    const char *shapes[] = {FRAME, "{}", "", "{\"sig\": \"3.abc\"}", "not json at all, \"sig\": \"3.\"}"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        snprintf(buf, sizeof buf, "%s", shapes[i]);
        len = strlen(buf);
        CHECK(notify_auth_check(&ring, buf, &len) == NOTIFY_AUTH_UNSIGNED, "a payload without a well-formed tag is unsigned");
    }
    CHECK(check(&ring, "", MAC, NULL) == NOTIFY_AUTH_UNSIGNED, "a tag without a key id is unsigned");
    CHECK(check(&ring, "1234567890", MAC, NULL) == NOTIFY_AUTH_UNSIGNED, "a key id over 9 digits is unsigned");
    CHECK(notify_auth_key_id(buf, tagged(buf, sizeof buf, "42", MAC)) == 42, "the key id a tag names");
    CHECK(!notify_keyring_add(&ring, 9, "00"), "a short secret is refused");
}

/* What verifying costs per event: a 300-byte event, median of 3 runs of 200,000. */
static void time_verification(void)
{
    struct notify_keyring ring = ring_with_key(3);
    char frame[300], buf[512];
    memset(frame, 'x', sizeof frame);
    memcpy(frame, "{\"a\": \"", 7);
    memcpy(frame + sizeof frame - 2, "\"}", 2);
    double runs[3];
    for (int r = 0; r < 3; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 200000; i++) {
            size_t len = (size_t)snprintf(buf, sizeof buf, "%.*s, \"sig\": \"3.%s\"}", (int)sizeof frame - 1, frame, MAC);
            notify_auth_check(&ring, buf, &len);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        runs[r] = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 200000;
    }
    double lo = runs[0] < runs[1] ? runs[0] : runs[1], hi = runs[0] < runs[1] ? runs[1] : runs[0];
    double median = runs[2] < lo ? lo : runs[2] > hi ? hi : runs[2];
    printf("# notify_auth_check of a 300-byte event: median %.0f ns (runs %.0f %.0f %.0f)\n", median, runs[0], runs[1], runs[2]);
    CHECK(median < 100000, "verifying one event takes well under 0.1 ms");
}

int main(void)
{
    test_verdicts();
    time_verification();
    return check_done();
}
