/*
 * fuzz_config: settings from flags and RT_* environment values through config_load (integers and
 * their ranges, strings, the cross-field rules: algorithm, log level, origins list, bridge id),
 * then, when the settings name no key file, auth_keys_load on the result.
 *
 * Input: NUL-separated words. "RT_NAME=value" words form the environment; every other word is
 * one argv entry (flags and their values).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "log.h"

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

#define MAX_WORDS 64

static char *env_words[MAX_WORDS];
static int n_env;

static const char *fuzz_getenv(const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    for (int i = 0; i < n_env; i++) /* the last one wins, as in a real environment built by `env` */
        if (strncmp(env_words[i], name, n) == 0 && env_words[i][n] == '=')
            found = env_words[i] + n + 1;
    return found;
}

static bool in_range(int v, int lo, int hi) { return v >= lo && v <= hi; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[MAX_WORDS];
    int argc = 0;
    n_env = 0;
    for (char *w = copy; w <= copy + size && argc < MAX_WORDS && n_env < MAX_WORDS; w += strlen(w) + 1) {
        if (strncmp(w, "RT_", 3) == 0 && strchr(w, '='))
            env_words[n_env++] = w;
        else if (w < copy + size)
            argv[argc++] = w;
    }
    struct config cfg;
    char err[256] = "";
    if (config_load(&cfg, argc, argv, fuzz_getenv, err, sizeof err) == 0) {
        REQUIRE(cfg.host && cfg.jwt_alg && cfg.log_level && cfg.web_root);
        REQUIRE(in_range(cfg.port, 1, 65535) && in_range(cfg.max_frame_bytes, 1024, 16777216));
        REQUIRE(in_range(cfg.db_pool_size, 1, 16) && in_range(cfg.batch_max, 1, 64));
        REQUIRE(in_range(cfg.max_queue_bytes, 65536, 1073741824) && in_range(cfg.presence_interval_ms, 0, 10000));
        REQUIRE(log_level_parse(cfg.log_level) >= 0);
        REQUIRE(!(cfg.jwt_secret && cfg.jwt_secret_file));
        REQUIRE(!cfg.tls_cert_file == !cfg.tls_key_file);
        if (!cfg.jwt_secret_file && !cfg.jwt_public_key_file) { /* no file reads from fuzz input */
            struct auth_keys keys;
            char kerr[256];
            if (auth_keys_load(&keys, &cfg, kerr, sizeof kerr) == 0) {
                REQUIRE(keys.key && keys.key_len > 0);
                auth_keys_free(&keys);
            } else {
                REQUIRE(kerr[0] != '\0');
            }
        }
        config_free(&cfg);
    } else {
        REQUIRE(err[0] != '\0');
        REQUIRE(cfg.host == NULL && cfg.jwt_alg == NULL); /* a refused load leaves nothing to free */
    }
    free(copy);
    return 0;
}
