/* service: connection, LISTEN, notification and timer loop shared by the example services. */
#include "service.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
/* A LISTEN-only connection can die without a sound (a dropped network path): probe it when idle. */
#define IDLE_PROBE_MS 30000

static struct service *running; /* the one service of this process, for the signal handler */

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        running->stop = 1;
}

int64_t service_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void service_log(const struct service *svc, const char *level, const char *fmt, ...)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (strcmp(level, "debug") == 0 && !svc->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s %s: ", when, svc->name, level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* libpq messages end in a newline and may run over several lines: keep the first, for one-line logs. */
static const char *first_line(const char *msg, char *buf, size_t size)
{
    snprintf(buf, size, "%s", msg ? msg : "");
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

void service_stop(struct service *svc)
{
    svc->stop = 1;
}

bool service_disconnected(const struct service *svc)
{
    return svc->conn == NULL;
}

static void drop_connection(struct service *svc, const char *why)
{
    if (!svc->conn)
        return;
    service_log(svc, "warn", "database connection lost (%s); reconnecting", why);
    PQfinish(svc->conn);
    svc->conn = NULL;
}

PGresult *service_call(struct service *svc, const char *sql, int nparams, const char *const *params)
{
    svc->sqlstate[0] = '\0';
    svc->error[0] = '\0';
    if (!svc->conn) {
        snprintf(svc->error, sizeof svc->error, "not connected");
        return NULL;
    }
    PGresult *res = PQexecParams(svc->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    snprintf(svc->sqlstate, sizeof svc->sqlstate, "%s", state ? state : "");
    first_line(msg ? msg : PQerrorMessage(svc->conn), svc->error, sizeof svc->error);
    PQclear(res);
    if (PQstatus(svc->conn) != CONNECTION_OK)
        drop_connection(svc, svc->error);
    return NULL;
}

/* Waits up to timeout_ms (-1: forever) for the socket (fd >= 0) or a signal. SIGTERM and SIGINT are
 * blocked everywhere else, so they can only land here and can never be missed between a check of
 * svc->stop and the wait. Returns poll's revents, 0 on timeout or signal. */
static short wait_for(int fd, int64_t timeout_ms, const sigset_t *unblocked)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    struct timespec ts, *tsp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (timeout_ms % 1000) * 1000000;
        tsp = &ts;
    }
    int n = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, tsp, unblocked);
    return n > 0 ? pfd.revents : 0;
}

static bool listen_all(struct service *svc)
{
    PGresult *res = service_call(svc, "SELECT rt.channels()", 0, NULL);
    if (!res)
        return false;
    bool ok = true;
    for (int i = 0; ok && i < PQntuples(res); i++) {
        char *ident = PQescapeIdentifier(svc->conn, PQgetvalue(res, i, 0), strlen(PQgetvalue(res, i, 0)));
        char sql[128];
        snprintf(sql, sizeof sql, "LISTEN %s", ident ? ident : "\"\"");
        PQfreemem(ident);
        PGresult *r = service_call(svc, sql, 0, NULL);
        ok = r != NULL;
        PQclear(r);
    }
    PQclear(res);
    return ok;
}

/* Server notices (e.g. "terminating connection due to administrator command") go to our log. */
static void on_notice(void *arg, const char *message)
{
    char line[256];
    service_log(arg, "debug", "server: %s", first_line(message, line, sizeof line));
}

static bool connect_once(struct service *svc)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *values[] = {svc->conninfo, svc->name, "5", NULL};
    svc->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(svc->conn) != CONNECTION_OK) {
        char line[256];
        service_log(svc, "warn", "cannot connect: %s", first_line(PQerrorMessage(svc->conn), line, sizeof line));
        PQfinish(svc->conn);
        svc->conn = NULL;
        return false;
    }
    PQsetNoticeProcessor(svc->conn, on_notice, svc);
    if (!listen_all(svc)) {
        service_log(svc, "error", "LISTEN failed: %s (is the rt schema migrated?)", svc->error);
        if (svc->conn) {
            PQfinish(svc->conn);
            svc->conn = NULL;
        }
        return false;
    }
    service_log(svc, "info", "connected to %s:%s/%s, listening", PQhost(svc->conn), PQport(svc->conn),
                PQdb(svc->conn));
    return true;
}

/* Connects, doubling the pause after each failure up to BACKOFF_MAX_MS, half of it random so that
 * many services do not knock on a recovering database in step. */
static bool reconnect(struct service *svc, const sigset_t *unblocked)
{
    int64_t backoff = BACKOFF_FIRST_MS;
    while (!svc->stop) {
        if (connect_once(svc))
            return true;
        int64_t pause = backoff / 2 + rand() % (backoff / 2 + 1);
        service_log(svc, "info", "retrying in %lld ms", (long long)pause);
        wait_for(-1, pause, unblocked);
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return false;
}

/* Hands every buffered notification to the program; returns how many there were. */
static int drain_notifications(struct service *svc, const struct service_hooks *hooks, void *ctx)
{
    PGnotify *n;
    int count = 0;
    while (svc->conn && (n = PQnotifies(svc->conn)) != NULL) {
        count++;
        if (hooks->notified && strncmp(n->relname, "rt_rooms_", 9) == 0)
            hooks->notified(svc, n->extra, ctx);
        PQfreemem(n);
        if (svc->conn)
            PQconsumeInput(svc->conn);
    }
    return count;
}

int service_run(struct service *svc, const struct service_hooks *hooks, void *ctx)
{
    sigset_t blocked, unblocked;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    running = svc;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, &unblocked);
    sigdelset(&unblocked, SIGTERM);
    sigdelset(&unblocked, SIGINT);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());

    int64_t last_activity = service_now_ms();
    while (!svc->stop) {
        if (!svc->conn) {
            if (!reconnect(svc, &unblocked))
                break;
            if (hooks->connected)
                hooks->connected(svc, ctx);
            last_activity = service_now_ms();
            continue;
        }
        /* Notifications that arrived while a statement ran are buffered in libpq, not on the socket:
         * hand them over, then run due work, and only wait once neither produced anything new. */
        if (drain_notifications(svc, hooks, ctx) > 0)
            continue;
        int64_t now = service_now_ms();
        int64_t timeout = hooks->tick ? hooks->tick(svc, now, ctx) : -1;
        if (!svc->conn || svc->stop || drain_notifications(svc, hooks, ctx) > 0)
            continue;
        int64_t probe_in = IDLE_PROBE_MS - (now - last_activity);
        if (timeout < 0 || timeout > probe_in)
            timeout = probe_in > 0 ? probe_in : 0;
        short revents = wait_for(PQsocket(svc->conn), timeout, &unblocked);
        if (revents) {
            last_activity = service_now_ms();
            if (!PQconsumeInput(svc->conn)) {
                char line[256];
                drop_connection(svc, first_line(PQerrorMessage(svc->conn), line, sizeof line));
                continue;
            }
            drain_notifications(svc, hooks, ctx);
        } else if (service_now_ms() - last_activity >= IDLE_PROBE_MS) {
            PQclear(service_call(svc, "SELECT 1", 0, NULL));
            last_activity = service_now_ms();
            drain_notifications(svc, hooks, ctx);
        }
    }
    if (svc->conn) {
        PQfinish(svc->conn);
        svc->conn = NULL;
    }
    service_log(svc, "info", "stopped");
    running = NULL;
    return 0;
}
