/*
 * fuzz_http: the HTTP request values the bridge reads itself (lws parses the request line and
 * headers; these are what the bridge does with their values). The first byte picks one:
 *   0  an Authorization header value -> http_bearer_token, then auth_verify of what it found
 *   1  "--allowed-origins list" NUL "Origin value" -> http_origin_allowed
 *   2  a request path -> http_safe_path, then http_mime_type of a path it admits
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "http_input.h"

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

static struct auth_keys keys;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct config cfg = {.jwt_alg = "HS256", .jwt_secret = "fuzz-secret"};
    char err[256];
    return auth_keys_load(&keys, &cfg, err, sizeof err);
}

static void bearer(const char *value)
{
    const char *token = http_bearer_token(value);
    if (!token)
        return;
    REQUIRE(token >= value + 7 && token <= value + strlen(value) && *token != ' ');
    struct auth_claims claims;
    /* only the key's owner signs valid tokens: whatever the header holds, nothing passes */
    REQUIRE(auth_verify(&keys, token, 1700000000, &claims) != AUTH_OK);
}

static void origin(const char *text, size_t size)
{
    /* no separator: the request has no Origin header */
    const char *list = text, *value = memchr(text, '\0', size) ? text + strlen(text) + 1 : NULL;
    bool allowed = http_origin_allowed(list, value);
    if (allowed && value && !http_origins_open(list))
        REQUIRE(value[0] != '\0' && strstr(list, value) != NULL);
    if (!value || http_origins_open(list))
        REQUIRE(allowed);
}

static void path(const char *uri)
{
    if (!http_safe_path(uri))
        return;
    REQUIRE(uri[0] == '/' && strlen(uri) <= 200 && !strstr(uri, "/."));
    REQUIRE(strspn(uri, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.") == strlen(uri));
    const char *mime = http_mime_type(uri);
    REQUIRE(!mime || strchr(uri, '.'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* lws hands the bridge NUL-terminated copies; the buffer ends with one more NUL */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    text[size] = '\0';
    switch (data[0] % 3) {
    case 0: bearer(text); break;
    case 1: origin(text, size - 1); break;
    default: path(text); break;
    }
    free(text);
    return 0;
}
