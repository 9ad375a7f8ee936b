/* notify_auth: the tag of a NOTIFY payload, cut off and checked (see notify_auth.h). */
#include "notify_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#define TAG_PREFIX ", \"sig\": \"" /* what rt.notify_sign writes before KEY_ID.HEX */
#define HEX_DIGITS 64              /* HMAC-SHA256 */
#define MAX_ID_DIGITS 9

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool decode_hex(const char *hex, size_t digits, unsigned char *out)
{
    for (size_t i = 0; i < digits / 2; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

bool notify_keyring_add(struct notify_keyring *ring, long id, const char *hex)
{
    if (ring->n >= NOTIFY_MAX_KEYS || !hex || strlen(hex) != 2 * NOTIFY_KEY_BYTES)
        return false;
    if (!decode_hex(hex, 2 * NOTIFY_KEY_BYTES, ring->keys[ring->n].secret))
        return false;
    ring->keys[ring->n++].id = id;
    return true;
}

/* payload ends with TAG_PREFIX KEY_ID "." 64-HEX "\"}": finds where the tag starts, reads the rest. */
static bool parse_tag(const char *p, size_t len, size_t *start, long *id, unsigned char mac[HEX_DIGITS / 2])
{
    size_t prefix = sizeof TAG_PREFIX - 1;
    if (len < prefix + 1 + 1 + HEX_DIGITS + 2 || p[len - 1] != '}' || p[len - 2] != '"')
        return false;
    size_t hex = len - 2 - HEX_DIGITS;
    if (p[hex - 1] != '.' || !decode_hex(p + hex, HEX_DIGITS, mac))
        return false;
    size_t digits_end = hex - 1, i = digits_end;
    while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9' && digits_end - i < MAX_ID_DIGITS)
        i--;
    if (i == digits_end || i < prefix + 1 || memcmp(p + i - prefix, TAG_PREFIX, prefix) != 0)
        return false;
    long v = 0;
    for (size_t k = i; k < digits_end; k++)
        v = v * 10 + (p[k] - '0');
    *id = v;
    *start = i - prefix;
    return true;
}

enum notify_auth_result notify_auth_check(const struct notify_keyring *ring, char *payload, size_t *len)
{
    size_t start;
    long id;
    unsigned char want[HEX_DIGITS / 2], got[EVP_MAX_MD_SIZE];
    if (!parse_tag(payload, *len, &start, &id, want))
        return NOTIFY_AUTH_UNSIGNED;
    const unsigned char *key = NULL;
    for (unsigned i = 0; i < ring->n && !key; i++)
        if (ring->keys[i].id == id)
            key = ring->keys[i].secret;
    if (!key)
        return NOTIFY_AUTH_UNKNOWN_KEY;
    payload[start] = '}'; /* the frame as rt emitted it: the tag was appended before its last brace */
    payload[start + 1] = '\0';
    unsigned got_len = 0;
    if (!HMAC(EVP_sha256(), key, NOTIFY_KEY_BYTES, (const unsigned char *)payload, start + 1, got, &got_len) ||
        got_len != sizeof want || CRYPTO_memcmp(got, want, sizeof want) != 0)
        return NOTIFY_AUTH_BAD_TAG;
    *len = start + 1;
    return NOTIFY_AUTH_OK;
}

long notify_auth_key_id(const char *payload, size_t len)
{
    size_t start;
    long id;
    unsigned char mac[HEX_DIGITS / 2];
    return parse_tag(payload, len, &start, &id, mac) ? id : -1;
}

const char *notify_auth_result_name(enum notify_auth_result r)
{
    switch (r) {
    case NOTIFY_AUTH_OK: return "ok";
    case NOTIFY_AUTH_UNSIGNED: return "unsigned";
    case NOTIFY_AUTH_UNKNOWN_KEY: return "unknown_key";
    case NOTIFY_AUTH_BAD_TAG: return "bad_tag";
    }
    return "unknown";
}
