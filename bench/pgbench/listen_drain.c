/* listen_drain: a benchmark listener. LISTENs to COUNT channels named PREFIX0..PREFIX<COUNT-1>,
 * drains notifications as fast as they come for SECONDS, then prints how many it received.
 * Connection parameters come from the PG* environment (libpq defaults).
 *
 *   cc -O2 -o listen_drain listen_drain.c -I$(pg_config --includedir) -lpq
 *   ./listen_drain PREFIX COUNT SECONDS
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PREFIX COUNT SECONDS\n", argv[0]);
        return 2;
    }
    const char *prefix = argv[1];
    long count = atol(argv[2]);
    double seconds = atof(argv[3]);

    PGconn *conn = PQconnectdb("");
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "listen_drain: %s", PQerrorMessage(conn));
        return 1;
    }
    /* LISTEN in batches of 500 statements per round trip. */
    size_t cap = 64 * 512, len = 0;
    char *sql = malloc(cap);
    for (long i = 0; i < count; i++) {
        len += (size_t)snprintf(sql + len, cap - len, "LISTEN %s%ld;", prefix, i);
        if ((i + 1) % 500 == 0 || i + 1 == count) {
            PGresult *res = PQexec(conn, sql);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                fprintf(stderr, "listen_drain: %s", PQerrorMessage(conn));
                return 1;
            }
            PQclear(res);
            len = 0;
        }
    }
    free(sql);
    printf("ready\n");
    fflush(stdout);

    long received = 0;
    double end = now_s() + seconds;
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    while (now_s() < end) {
        if (poll(&pfd, 1, 100) < 0)
            break;
        if (!PQconsumeInput(conn)) {
            fprintf(stderr, "listen_drain: %s", PQerrorMessage(conn));
            return 1;
        }
        PGnotify *n;
        while ((n = PQnotifies(conn)) != NULL) {
            received++;
            PQfreemem(n);
        }
    }
    printf("%ld\n", received);
    PQfinish(conn);
    return 0;
}
