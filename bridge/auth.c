/* auth: libjwt decodes and checks the signature; every claim rule libjwt 1.10 lacks is here. */
#include "auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (n + 1 == cap) {
            if (cap >= 1 << 20) {
                snprintf(err, errlen, "%s is larger than 1 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        if (!*err)
            snprintf(err, errlen, "out of memory reading %s", path);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int auth_keys_load(struct auth_keys *keys, const struct config *cfg, char *err, size_t errlen)
{
    memset(keys, 0, sizeof *keys);
    err[0] = '\0';
    keys->alg = jwt_str_alg(cfg->jwt_alg);
    if (keys->alg == JWT_ALG_INVAL || keys->alg == JWT_ALG_NONE) {
        snprintf(err, errlen, "unsupported JWT algorithm %s", cfg->jwt_alg);
        return -1;
    }
    snprintf(keys->alg_name, sizeof keys->alg_name, "%s", cfg->jwt_alg);
    bool hmac = cfg->jwt_alg[0] == 'H';
    if (hmac) {
        if (cfg->jwt_secret) {
            keys->key = (unsigned char *)strdup(cfg->jwt_secret);
            keys->key_len = strlen(cfg->jwt_secret);
        } else if (cfg->jwt_secret_file) {
            keys->key = (unsigned char *)read_file(cfg->jwt_secret_file, &keys->key_len, err, errlen);
            if (!keys->key)
                return -1;
            while (keys->key_len && (keys->key[keys->key_len - 1] == '\n' || keys->key[keys->key_len - 1] == '\r'))
                keys->key[--keys->key_len] = '\0';
        } else {
            snprintf(err, errlen, "%s needs a secret: set RT_JWT_SECRET or --jwt-secret-file", cfg->jwt_alg);
            return -1;
        }
        if (keys->key_len == 0) {
            snprintf(err, errlen, "the JWT secret is empty");
            auth_keys_free(keys);
            return -1;
        }
    } else {
        if (!cfg->jwt_public_key_file) {
            snprintf(err, errlen, "%s needs --jwt-public-key-file (a PEM public key)", cfg->jwt_alg);
            return -1;
        }
        keys->key = (unsigned char *)read_file(cfg->jwt_public_key_file, &keys->key_len, err, errlen);
        if (!keys->key)
            return -1;
        if (!strstr((char *)keys->key, "-----BEGIN PUBLIC KEY-----")) {
            snprintf(err, errlen, "%s is not a PEM public key", cfg->jwt_public_key_file);
            auth_keys_free(keys);
            return -1;
        }
    }
    keys->issuer = cfg->jwt_issuer ? strdup(cfg->jwt_issuer) : NULL;
    keys->audience = cfg->jwt_audience ? strdup(cfg->jwt_audience) : NULL;
    keys->max_lifetime = cfg->jwt_max_lifetime_seconds;
    return 0;
}

void auth_keys_free(struct auth_keys *keys)
{
    if (keys->key)
        memset(keys->key, 0, keys->key_len);
    free(keys->key);
    free(keys->issuer);
    free(keys->audience);
    memset(keys, 0, sizeof *keys);
}

/* header.payload.signature, each non-empty base64url. */
static bool looks_like_jwt(const char *t)
{
    int dots = 0;
    size_t seg = 0;
    for (; *t; t++) {
        if (*t == '.') {
            if (seg == 0)
                return false;
            dots++;
            seg = 0;
        } else if ((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') ||
                   *t == '-' || *t == '_' || *t == '=') {
            seg++;
        } else {
            return false;
        }
    }
    return dots == 2 && seg > 0;
}

static bool valid_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* A NumericDate: an integer or a real, finite number of seconds. */
static bool numeric_date(json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && isfinite(json_real_value(v)) && fabs(json_real_value(v)) < 1e15) {
        *out = (long long)floor(json_real_value(v));
        return true;
    }
    return false;
}

static bool audience_matches(json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud))
        return false;
    size_t i;
    json_t *item;
    json_array_foreach(aud, i, item) if (json_is_string(item) && strcmp(json_string_value(item), want) == 0) return true;
    return false;
}

static enum auth_result check_claims(const struct auth_keys *keys, json_t *grants, time_t now,
                                     struct auth_claims *claims)
{
    json_t *sub = json_object_get(grants, "sub"), *role = json_object_get(grants, "role");
    long long exp, nbf;
    if (!json_is_string(sub) || !valid_text(json_string_value(sub), AUTH_MAX_SUB_BYTES))
        return AUTH_BAD_CLAIMS;
    if (!numeric_date(json_object_get(grants, "exp"), &exp))
        return AUTH_BAD_CLAIMS;
    if (exp <= (long long)now)
        return AUTH_EXPIRED;
    json_t *nbf_v = json_object_get(grants, "nbf");
    if (nbf_v) {
        if (!numeric_date(nbf_v, &nbf))
            return AUTH_BAD_CLAIMS;
        if (nbf > (long long)now)
            return AUTH_NOT_YET_VALID;
    }
    if (keys->max_lifetime > 0) {
        /* A stolen long-lived token stays useful for its whole life: cap it. Measured from `iat`
         * when the token has one (a token minted long ago cannot hide its age), else from now. */
        long long iat;
        json_t *iat_v = json_object_get(grants, "iat");
        if (iat_v && !numeric_date(iat_v, &iat))
            return AUTH_BAD_CLAIMS;
        long long from = iat_v ? iat : (long long)now;
        if (exp - from > keys->max_lifetime || exp - (long long)now > keys->max_lifetime)
            return AUTH_LIFETIME_TOO_LONG;
    }
    if (role && !(json_is_string(role) && valid_text(json_string_value(role), AUTH_MAX_ROLE_BYTES)))
        return AUTH_BAD_CLAIMS;
    if (keys->issuer) {
        json_t *iss = json_object_get(grants, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), keys->issuer) != 0)
            return AUTH_BAD_CLAIMS;
    }
    if (keys->audience && !audience_matches(json_object_get(grants, "aud"), keys->audience))
        return AUTH_BAD_CLAIMS;
    snprintf(claims->sub, sizeof claims->sub, "%s", json_string_value(sub));
    snprintf(claims->role, sizeof claims->role, "%s", role ? json_string_value(role) : "");
    claims->exp = exp;
    return AUTH_OK;
}

enum auth_result auth_verify(const struct auth_keys *keys, const char *token, time_t now,
                             struct auth_claims *claims)
{
    if (!token || !*token)
        return AUTH_MISSING;
    if (strnlen(token, AUTH_MAX_TOKEN_BYTES + 1) > AUTH_MAX_TOKEN_BYTES)
        return AUTH_TOO_LONG;
    if (!looks_like_jwt(token))
        return AUTH_MALFORMED;
    if (!keys->key) /* libjwt treats a NULL key as "accept alg none": never let that happen */
        return AUTH_BAD_SIGNATURE;

    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, keys->key, (int)keys->key_len) != 0 || !jwt)
        return AUTH_BAD_SIGNATURE;
    /* libjwt verifies with whatever alg the header names (algorithm confusion): pin it. */
    if ((int)jwt_get_alg(jwt) != keys->alg) {
        jwt_free(jwt);
        return AUTH_WRONG_ALG;
    }
    char *text = jwt_get_grants_json(jwt, NULL);
    jwt_free(jwt);
    if (!text)
        return AUTH_BAD_CLAIMS;
    json_t *grants = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    enum auth_result r = json_is_object(grants) ? check_claims(keys, grants, now, claims) : AUTH_BAD_CLAIMS;
    json_decref(grants);
    return r;
}

const char *auth_result_name(enum auth_result r)
{
    switch (r) {
    case AUTH_OK: return "ok";
    case AUTH_MISSING: return "missing";
    case AUTH_TOO_LONG: return "too_long";
    case AUTH_MALFORMED: return "malformed";
    case AUTH_BAD_SIGNATURE: return "bad_signature";
    case AUTH_WRONG_ALG: return "wrong_alg";
    case AUTH_EXPIRED: return "expired";
    case AUTH_NOT_YET_VALID: return "not_yet_valid";
    case AUTH_BAD_CLAIMS: return "bad_claims";
    case AUTH_LIFETIME_TOO_LONG: return "lifetime_too_long";
    }
    return "unknown";
}

bool auth_is_admin(const struct auth_claims *claims) { return strcmp(claims->role, "admin") == 0; }
