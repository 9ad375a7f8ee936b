/* auth: verifies a JWT against the one configured algorithm and key, and returns its claims. */
#ifndef PGRT_AUTH_H
#define PGRT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

#define AUTH_MAX_TOKEN_BYTES 8192 /* libjwt base64-decodes onto the stack: cap before it sees a token */
#define AUTH_MAX_SUB_BYTES 128
#define AUTH_MAX_ROLE_BYTES 32

struct auth_keys {
    int alg;            /* libjwt's jwt_alg_t */
    char alg_name[8];
    unsigned char *key; /* HMAC: the secret; RSA or EC: PEM public key text */
    size_t key_len;
    char *issuer;       /* NULL: not checked */
    char *audience;     /* NULL: not checked */
    long long max_lifetime; /* seconds; 0: not checked */
};

struct auth_claims {
    char sub[AUTH_MAX_SUB_BYTES + 1];
    char role[AUTH_MAX_ROLE_BYTES + 1]; /* "" when absent */
    long long exp;                      /* seconds since the epoch */
};

enum auth_result {
    AUTH_OK,
    AUTH_MISSING,
    AUTH_TOO_LONG,
    AUTH_MALFORMED,
    AUTH_BAD_SIGNATURE,
    AUTH_WRONG_ALG,
    AUTH_EXPIRED,
    AUTH_NOT_YET_VALID,
    AUTH_BAD_CLAIMS,
    AUTH_LIFETIME_TOO_LONG,
};

/* Reads the key material named by cfg. Returns 0, or -1 with a reason in err. */
int auth_keys_load(struct auth_keys *keys, const struct config *cfg, char *err, size_t errlen);
void auth_keys_free(struct auth_keys *keys);

/*
 * Verifies token (NUL-terminated) at time `now`. On AUTH_OK fills *claims. Never trusts the
 * token's own `alg`: it must equal the configured one, which also refuses `none`.
 */
enum auth_result auth_verify(const struct auth_keys *keys, const char *token, time_t now,
                             struct auth_claims *claims);

/* A short stable name for logs and metrics, e.g. "expired". */
const char *auth_result_name(enum auth_result r);

/* True when claims carry admin powers (`role` = "admin"). */
bool auth_is_admin(const struct auth_claims *claims);

#endif
