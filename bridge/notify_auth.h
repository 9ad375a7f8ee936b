/*
 * notify_auth: verifies the tag rt.notify_sign appends to every NOTIFY payload (docs/operations.md
 * "Trust model"). Any role that can connect may NOTIFY a room channel; only a payload whose
 * HMAC-SHA256 verifies under one of the database's keys came from pgrt's own functions. Pure: no
 * I/O, so unit tests and the fuzzer call exactly what the listener does.
 */
#ifndef PGRT_NOTIFY_AUTH_H
#define PGRT_NOTIFY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define NOTIFY_KEY_BYTES 64
#define NOTIFY_MAX_KEYS 8

/* The keys of rt.notify_keys_for_bridge(): the signing one, its predecessor, one in its grace. */
struct notify_keyring {
    unsigned n;
    struct {
        long id;
        unsigned char secret[NOTIFY_KEY_BYTES];
    } keys[NOTIFY_MAX_KEYS];
};

enum notify_auth_result {
    NOTIFY_AUTH_OK,
    NOTIFY_AUTH_UNSIGNED,    /* no tag where rt.notify_sign puts it */
    NOTIFY_AUTH_UNKNOWN_KEY, /* a tag naming a key this bridge does not hold (yet) */
    NOTIFY_AUTH_BAD_TAG,     /* the HMAC does not match: forged or altered */
};
#define NOTIFY_AUTH_RESULTS 4

/* Adds key `id` given as 128 hex digits; false when malformed or the ring is full. */
bool notify_keyring_add(struct notify_keyring *ring, long id, const char *hex);

/*
 * Checks the tag at the end of payload[0..*len). On NOTIFY_AUTH_OK the payload is rewritten in
 * place to the frame rt emitted (the tag cut off, the closing brace restored, NUL-terminated) and
 * *len is its length: forwarded as is, never re-encoded. On failure the buffer may be altered.
 * The comparison takes the same time whatever bytes differ.
 */
enum notify_auth_result notify_auth_check(const struct notify_keyring *ring, char *payload, size_t *len);

/* The key id a tagged payload names (-1 without a tag). */
long notify_auth_key_id(const char *payload, size_t len);

/* "ok", "unsigned", "unknown_key" or "bad_tag" (metrics labels and logs). */
const char *notify_auth_result_name(enum notify_auth_result r);

#endif
