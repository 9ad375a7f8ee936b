/*
 * fuzz_jwt: tokens through auth_verify (the shape check, libjwt's decoding, the algorithm pin and
 * every claim rule libjwt 1.10 lacks). Random bytes never carry a valid signature, so most modes
 * build a correctly signed token around the fuzzed header or claims. The first byte picks:
 *   0  the rest is a token as a client sends it, checked against an HS256 and an RS256 key
 *   1  the rest is the claims JSON of an HS256 token signed with the right secret
 *   2  the rest is "header JSON \n claims JSON", signed HS256 with the right secret
 *   3  as 1, against a key that also requires an issuer and an audience
 *   4  as 2, but HMAC'd with the RS256 public key's PEM text (the algorithm confusion attack)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

#define NOW 1700000000
#define SECRET "fuzz-secret"

static struct auth_keys hs_keys, hs_claims_keys, rs_keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    struct config hs = {.jwt_alg = "HS256", .jwt_secret = SECRET};
    struct config hs_claims = {.jwt_alg = "HS256", .jwt_secret = SECRET, .jwt_issuer = "pgrt", .jwt_audience = "rt"};
    struct config rs = {.jwt_alg = "RS256", .jwt_public_key_file = FIXTURES "/rsa-public.pem"};
    if (auth_keys_load(&hs_keys, &hs, err, sizeof err) || auth_keys_load(&hs_claims_keys, &hs_claims, err, sizeof err) ||
        auth_keys_load(&rs_keys, &rs, err, sizeof err))
        abort();
    return 0;
}

/* base64url without padding, as JWS uses it; returns the end of what it wrote. */
static char *b64url(char *out, const unsigned char *in, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
        *out++ = abc[v >> 18 & 63];
        *out++ = abc[v >> 12 & 63];
        if (i + 1 < len)
            *out++ = abc[v >> 6 & 63];
        if (i + 2 < len)
            *out++ = abc[v & 63];
    }
    return out;
}

/* header.claims.HMAC-SHA256(key) */
static char *sign(const char *header, size_t hlen, const char *claims, size_t clen, const void *key, size_t klen)
{
    char *token = malloc((hlen + clen) * 4 / 3 + 128);
    if (!token)
        return NULL;
    char *p = b64url(token, (const unsigned char *)header, hlen);
    *p++ = '.';
    p = b64url(p, (const unsigned char *)claims, clen);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)token, (size_t)(p - token), mac, &maclen);
    *p++ = '.';
    p = b64url(p, mac, maclen);
    *p = '\0';
    return token;
}

static void require_sound(enum auth_result r, const struct auth_claims *c)
{
    if (r != AUTH_OK)
        return;
    size_t n = strlen(c->sub);
    REQUIRE(n >= 1 && n <= AUTH_MAX_SUB_BYTES && strlen(c->role) <= AUTH_MAX_ROLE_BYTES);
    for (size_t i = 0; i < n; i++)
        REQUIRE((unsigned char)c->sub[i] >= 0x20 && c->sub[i] != 0x7f);
    REQUIRE(c->exp > NOW);
}

/* The header's own alg, as a verifier that trusted it would read it. */
static bool header_alg_is(const char *header, size_t len, const char *alg)
{
    json_t *h = json_loadb(header, len, 0, NULL);
    json_t *a = json_object_get(h, "alg");
    bool is = json_is_string(a) && strcmp(json_string_value(a), alg) == 0;
    json_decref(h);
    return is;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 3 * AUTH_MAX_TOKEN_BYTES)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    static const char default_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    const char *header = default_header, *claims = in;
    size_t hlen = strlen(default_header), clen = len;
    unsigned mode = data[0] % 5;
    if (mode == 2 || mode == 4) {
        const char *nl = memchr(in, '\n', len);
        if (!nl)
            return 0;
        header = in;
        hlen = (size_t)(nl - in);
        claims = nl + 1;
        clen = len - hlen - 1;
    }
    struct auth_claims c;
    enum auth_result r;
    char *token;
    if (mode == 0) {
        token = malloc(len + 1);
        if (!token)
            return 0;
        memcpy(token, in, len);
        token[len] = '\0';
        require_sound(auth_verify(&hs_keys, token, NOW, &c), &c);
        r = auth_verify(&rs_keys, token, NOW, &c);
        REQUIRE(r != AUTH_OK); /* nobody here holds the RSA private key */
    } else if (mode == 4) {
        token = sign(header, hlen, claims, clen, rs_keys.key, rs_keys.key_len);
        if (!token)
            return 0;
        REQUIRE(auth_verify(&rs_keys, token, NOW, &c) != AUTH_OK);
    } else {
        token = sign(header, hlen, claims, clen, SECRET, strlen(SECRET));
        if (!token)
            return 0;
        r = auth_verify(mode == 3 ? &hs_claims_keys : &hs_keys, token, NOW, &c);
        require_sound(r, &c);
        if (r == AUTH_OK)
            REQUIRE(header_alg_is(header, hlen, "HS256"));
    }
    free(token);
    return 0;
}
