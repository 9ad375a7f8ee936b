/* Unit tests of JWT verification: valid HS256/RS256/ES256, and every way a token must be refused. */
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "check.h"

#ifndef FIXTURES
#define FIXTURES "tests/unit/fixtures"
#endif

static const char *SECRET = "unit-test-secret-0123456789abcdef";

static char *read_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 16384);
    size_t n = fread(buf, 1, 16383, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Signs claims with libjwt; key is the secret for HS*, the private PEM for RS or ES. */
static char *sign(jwt_alg_t alg, const char *key, const char *sub, long long exp, const char *extra_json)
{
    jwt_t *jwt = NULL;
    jwt_new(&jwt);
    if (sub)
        jwt_add_grant(jwt, "sub", sub);
    if (exp)
        jwt_add_grant_int(jwt, "exp", (long)exp);
    if (extra_json)
        jwt_add_grants_json(jwt, extra_json);
    jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0);
    char *token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

static struct auth_keys keys_for(const char *alg, const char *secret, const char *public_key_file)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.jwt_alg = (char *)alg;
    cfg.jwt_secret = (char *)secret;
    char path[512];
    if (public_key_file) {
        snprintf(path, sizeof path, "%s/%s", FIXTURES, public_key_file);
        cfg.jwt_public_key_file = path;
    }
    struct auth_keys keys;
    char err[256];
    if (auth_keys_load(&keys, &cfg, err, sizeof err) != 0)
        printf("# auth_keys_load: %s\n", err);
    return keys;
}

static enum auth_result verify(const struct auth_keys *keys, const char *token, struct auth_claims *claims)
{
    return auth_verify(keys, token, time(NULL), claims);
}

static void test_hs256(void)
{
    struct auth_keys keys = keys_for("HS256", SECRET, NULL);
    struct auth_claims c;
    long long later = time(NULL) + 600;
    char *t;

    t = sign(JWT_ALG_HS256, SECRET, "alice", later, "{\"role\":\"admin\"}");
    CHECK(verify(&keys, t, &c) == AUTH_OK, "valid HS256 token is accepted");
    CHECK_STR(c.sub, "alice", "sub is returned");
    CHECK(auth_is_admin(&c), "role admin gives admin powers");
    CHECK(c.exp == later, "exp is returned");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, "bob", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_OK && !auth_is_admin(&c), "no role: not admin");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, "alice", time(NULL) - 1, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_EXPIRED, "expired token is refused");
    free(t);

    t = sign(JWT_ALG_HS256, "a-different-secret-of-enough-length", "alice", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_BAD_SIGNATURE, "wrong signature is refused");
    free(t);

    t = sign(JWT_ALG_HS512, SECRET, "alice", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_WRONG_ALG, "another HMAC algorithm is refused");
    free(t);

    t = sign(JWT_ALG_NONE, NULL, "alice", later, NULL);
    CHECK(t && verify(&keys, t, &c) != AUTH_OK, "alg none is refused");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, NULL, later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_BAD_CLAIMS, "missing sub is refused");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, "alice", 0, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_BAD_CLAIMS, "missing exp is refused");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, "alice", 0, "{\"exp\":\"tomorrow\"}");
    CHECK(verify(&keys, t, &c) == AUTH_BAD_CLAIMS, "a string exp is refused");
    free(t);

    char extra[64];
    snprintf(extra, sizeof extra, "{\"exp\":%lld.5}", later);
    t = sign(JWT_ALG_HS256, SECRET, "alice", 0, extra);
    CHECK(verify(&keys, t, &c) == AUTH_OK && c.exp == later, "a real-valued exp is read as seconds");
    free(t);

    snprintf(extra, sizeof extra, "{\"nbf\":%lld}", (long long)time(NULL) + 300);
    t = sign(JWT_ALG_HS256, SECRET, "alice", later, extra);
    CHECK(verify(&keys, t, &c) == AUTH_NOT_YET_VALID, "a future nbf is refused");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, "alice", later, "{\"sub\":42}");
    CHECK(t == NULL || verify(&keys, t, &c) != AUTH_OK, "a non-string sub is refused");
    free(t);

    t = sign(JWT_ALG_HS256, SECRET, "line\nbreak", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_BAD_CLAIMS, "a sub with control characters is refused");
    free(t);

    CHECK(verify(&keys, NULL, &c) == AUTH_MISSING, "no token");
    CHECK(verify(&keys, "", &c) == AUTH_MISSING, "empty token");
    CHECK(verify(&keys, "abc", &c) == AUTH_MALFORMED, "one segment is malformed");
    CHECK(verify(&keys, "a.b", &c) == AUTH_MALFORMED, "two segments are malformed");
    CHECK(verify(&keys, "a..c", &c) == AUTH_MALFORMED, "an empty segment is malformed");
    CHECK(verify(&keys, "a.b.c d", &c) == AUTH_MALFORMED, "a space is malformed");
    CHECK(verify(&keys, "a.b.c", &c) == AUTH_BAD_SIGNATURE, "garbage segments do not verify");

    char *huge = malloc(AUTH_MAX_TOKEN_BYTES + 10);
    memset(huge, 'a', AUTH_MAX_TOKEN_BYTES + 9);
    huge[AUTH_MAX_TOKEN_BYTES + 9] = '\0';
    huge[10] = '.';
    huge[20] = '.';
    CHECK(verify(&keys, huge, &c) == AUTH_TOO_LONG, "an oversized token is refused before libjwt sees it");
    free(huge);
    auth_keys_free(&keys);
}

static void test_issuer_audience(void)
{
    struct auth_keys keys = keys_for("HS256", SECRET, NULL);
    keys.issuer = strdup("https://issuer.example");
    keys.audience = strdup("pgrt");
    struct auth_claims c;
    long long later = time(NULL) + 600;
    char *t = sign(JWT_ALG_HS256, SECRET, "a", later, "{\"iss\":\"https://issuer.example\",\"aud\":[\"x\",\"pgrt\"]}");
    CHECK(verify(&keys, t, &c) == AUTH_OK, "matching iss and aud (in an array) are accepted");
    free(t);
    t = sign(JWT_ALG_HS256, SECRET, "a", later, "{\"iss\":\"https://evil.example\",\"aud\":\"pgrt\"}");
    CHECK(verify(&keys, t, &c) == AUTH_BAD_CLAIMS, "another issuer is refused");
    free(t);
    t = sign(JWT_ALG_HS256, SECRET, "a", later, "{\"iss\":\"https://issuer.example\"}");
    CHECK(verify(&keys, t, &c) == AUTH_BAD_CLAIMS, "a missing audience is refused");
    free(t);
    auth_keys_free(&keys);
}

static void test_rs256_and_confusion(void)
{
    struct auth_keys keys = keys_for("RS256", NULL, "rsa-public.pem");
    char *priv = read_text("rsa-private.pem"), *other = read_text("rsa-other-private.pem"),
         *pub = read_text("rsa-public.pem");
    struct auth_claims c;
    long long later = time(NULL) + 600;
    CHECK(priv && other && pub && keys.key, "RSA fixtures load");

    char *t = sign(JWT_ALG_RS256, priv, "carol", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_OK && strcmp(c.sub, "carol") == 0, "valid RS256 token is accepted");
    free(t);

    t = sign(JWT_ALG_RS256, other, "carol", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_BAD_SIGNATURE, "RS256 signed by another key is refused");
    free(t);

    t = sign(JWT_ALG_RS256, priv, "carol", time(NULL) - 5, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_EXPIRED, "expired RS256 token is refused");
    free(t);

    /* The classic confusion attack: HMAC with the public key text as the secret. */
    t = sign(JWT_ALG_HS256, pub, "mallory", later, NULL);
    enum auth_result r = verify(&keys, t, &c);
    CHECK(r == AUTH_WRONG_ALG || r == AUTH_BAD_SIGNATURE, "HS256 signed with the RS256 public key is refused");
    free(t);

    t = sign(JWT_ALG_NONE, NULL, "mallory", later, NULL);
    CHECK(t && verify(&keys, t, &c) != AUTH_OK, "alg none is refused by an RS256 bridge");
    free(t);

    free(priv);
    free(other);
    free(pub);
    auth_keys_free(&keys);
}

static void test_es256(void)
{
    struct auth_keys keys = keys_for("ES256", NULL, "ec-public.pem");
    char *priv = read_text("ec-private.pem"), *rsa = read_text("rsa-private.pem");
    struct auth_claims c;
    long long later = time(NULL) + 600;
    char *t = sign(JWT_ALG_ES256, priv, "dave", later, NULL);
    CHECK(verify(&keys, t, &c) == AUTH_OK, "valid ES256 token is accepted");
    free(t);
    t = sign(JWT_ALG_RS256, rsa, "dave", later, NULL);
    CHECK(verify(&keys, t, &c) != AUTH_OK, "an RS256 token is refused by an ES256 bridge");
    free(t);
    free(priv);
    free(rsa);
    auth_keys_free(&keys);
}

static void test_key_loading(void)
{
    struct config cfg;
    struct auth_keys keys;
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.jwt_alg = "HS256";
    CHECK(auth_keys_load(&keys, &cfg, err, sizeof err) == -1 && strstr(err, "secret"), "HS256 without a secret is refused");
    cfg.jwt_alg = "RS256";
    CHECK(auth_keys_load(&keys, &cfg, err, sizeof err) == -1 && strstr(err, "public-key"), "RS256 without a key is refused");
    cfg.jwt_public_key_file = "/nonexistent/key.pem";
    CHECK(auth_keys_load(&keys, &cfg, err, sizeof err) == -1 && strstr(err, "cannot open"), "a missing key file is refused");
    char path[512];
    snprintf(path, sizeof path, "%s/rsa-private.pem", FIXTURES);
    cfg.jwt_public_key_file = path;
    CHECK(auth_keys_load(&keys, &cfg, err, sizeof err) == -1 && strstr(err, "not a PEM public key"),
          "a private key where a public key belongs is refused");
    cfg.jwt_alg = "HS256";
    cfg.jwt_public_key_file = NULL;
    cfg.jwt_secret = "";
    CHECK(auth_keys_load(&keys, &cfg, err, sizeof err) == -1, "an empty secret is refused");
}

int main(void)
{
    test_hs256();
    test_issuer_audience();
    test_rs256_and_confusion();
    test_es256();
    test_key_loading();
    return check_done();
}
