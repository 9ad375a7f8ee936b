/* Unit tests of the settings table: defaults, environment, flags, precedence and every refusal. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"

static const char *fake_env[16][2];

static const char *lookup(const char *name)
{
    for (int i = 0; i < 16 && fake_env[i][0]; i++)
        if (strcmp(fake_env[i][0], name) == 0)
            return fake_env[i][1];
    return NULL;
}

static void set_env(int i, const char *name, const char *value)
{
    fake_env[i][0] = name;
    fake_env[i][1] = value;
    fake_env[i + 1][0] = NULL;
}

static int load(struct config *cfg, int argc, char **argv, char *err)
{
    return config_load(cfg, argc, argv, lookup, err, 256);
}

static void test_defaults(void)
{
    struct config cfg;
    char err[256];
    fake_env[0][0] = NULL;
    CHECK(load(&cfg, 0, NULL, err) == 0, "defaults load");
    CHECK(cfg.port == 8080, "default port is 8080");
    CHECK_STR(cfg.host, "0.0.0.0", "default host");
    CHECK_STR(cfg.jwt_alg, "HS256", "default algorithm is HS256");
    CHECK(cfg.jwt_secret == NULL, "no default secret");
    CHECK(cfg.database_url == NULL, "database from PG* variables by default");
    CHECK(cfg.max_frame_bytes == 131072, "default frame limit");
    config_free(&cfg);
}

static void test_precedence(void)
{
    struct config cfg;
    char err[256];
    set_env(0, "RT_PORT", "9000");
    set_env(1, "RT_JWT_SECRET", "from-env");
    CHECK(load(&cfg, 0, NULL, err) == 0, "environment loads");
    CHECK(cfg.port == 9000, "environment overrides the default");
    CHECK_STR(cfg.jwt_secret, "from-env", "string from the environment");
    config_free(&cfg);

    char *argv[] = {"--port", "9100", "--jwt-secret=from-flag"};
    CHECK(load(&cfg, 3, argv, err) == 0, "flags load");
    CHECK(cfg.port == 9100, "a flag overrides the environment (--name value)");
    CHECK_STR(cfg.jwt_secret, "from-flag", "a flag overrides the environment (--name=value)");
    config_free(&cfg);

    set_env(0, "RT_PORT", "");
    CHECK(load(&cfg, 0, NULL, err) == 0 && cfg.port == 8080, "an empty environment variable counts as unset");
    config_free(&cfg);
    fake_env[0][0] = NULL;
}

static void expect_refusal(int argc, char **argv, const char *needle, const char *name)
{
    struct config cfg;
    char err[256] = "";
    int rc = load(&cfg, argc, argv, err);
    CHECK(rc == -1 && strstr(err, needle) != NULL, name);
    if (rc == 0)
        config_free(&cfg);
}

static void test_refusals(void)
{
    fake_env[0][0] = NULL;
    expect_refusal(2, (char *[]){"--port", "eighty"}, "--port", "a non-integer is refused, naming the setting");
    expect_refusal(2, (char *[]){"--port", "70000"}, "out of range", "an out-of-range integer is refused");
    expect_refusal(2, (char *[]){"--port", "80x"}, "not an integer", "trailing garbage is refused");
    expect_refusal(2, (char *[]){"--port", " 80"}, "not an integer", "leading space is refused");
    expect_refusal(2, (char *[]){"--port", ""}, "not an integer", "an empty integer is refused");
    expect_refusal(1, (char *[]){"--port"}, "needs a value", "a flag without its value is refused");
    expect_refusal(2, (char *[]){"--no-such", "1"}, "unknown setting", "an unknown flag is refused");
    expect_refusal(1, (char *[]){"stray"}, "unexpected argument", "a stray argument is refused");
    expect_refusal(2, (char *[]){"--jwt-alg", "none"}, "--jwt-alg", "alg none cannot be configured");
    expect_refusal(2, (char *[]){"--jwt-alg", "hs256"}, "--jwt-alg", "algorithm names are exact");
    expect_refusal(2, (char *[]){"--log-level", "loud"}, "--log-level", "an unknown log level is refused");
    expect_refusal(2, (char *[]){"--bridge-id", "a b"}, "--bridge-id", "a bridge id with a space is refused");
    expect_refusal(4, (char *[]){"--jwt-secret", "a", "--jwt-secret-file", "/x"}, "choose one",
                   "secret and secret file together are refused");
    expect_refusal(2, (char *[]){"--tls-cert-file", "/x.pem"}, "go together", "a TLS certificate without its key is refused");
    expect_refusal(2, (char *[]){"--allowed-origins", "a\tb"}, "--allowed-origins", "control characters in origins are refused");
    set_env(0, "RT_MAX_CONNECTIONS", "0");
    expect_refusal(0, NULL, "environment for --max-connections", "a bad environment value names its origin");
    fake_env[0][0] = NULL;
}

static void count_setting(const char *flag, const char *env, void *arg)
{
    int *n = arg;
    if (flag && env && strncmp(env, "RT_", 3) == 0)
        (*n)++;
}

static void test_each(void)
{
    int n = 0;
    config_each(count_setting, &n);
    CHECK(n >= 15, "config_each visits every setting with an RT_ variable");
}

int main(void)
{
    test_defaults();
    test_precedence();
    test_refusals();
    test_each();
    return check_done();
}
