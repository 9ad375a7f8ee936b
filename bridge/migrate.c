/*
 * migrate: the deploy path for the database.
 *
 * Every NNNN_name.sql of the migrations directory is applied once, in version order, in its own
 * transaction, and recorded in rt.schema_migrations with the md5 of its text (computed by the
 * server, so no crypto library is needed here). An applied file whose text changed is refused,
 * unless migrations/amended.txt lists that exact change (a released file whose comments were
 * corrected): then the recorded checksum is moved forward and nothing is re-applied.
 * Then every *.sql file of the sql directory (function definitions) is re-applied in one
 * transaction. A session-level advisory lock serializes concurrent runs: a second bridge that
 * starts at the same moment waits, then finds nothing left to do.
 */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MIGRATE_LOCK_KEY "7283601451734902" /* arbitrary, fixed: "pgrt migrate" */
#define MAX_FILES 10000
#define MAX_FILE_BYTES (16 * 1024 * 1024)

struct file_list {
    char **names;
    size_t count;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void file_list_free(struct file_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->count = 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The *.sql files of dir, sorted by name. */
static int list_sql_files(const char *dir, struct file_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        log_error("migrate_failed", "dir=\"%s\" reason=\"%s\"", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".sql"))
            continue;
        if (out->count == MAX_FILES)
            break;
        char **grown = realloc(out->names, (out->count + 1) * sizeof *grown);
        if (!grown || !(grown[out->count] = strdup(e->d_name))) {
            out->names = grown ? grown : out->names;
            closedir(d);
            file_list_free(out);
            return -1;
        }
        out->names = grown;
        out->count++;
    }
    closedir(d);
    if (out->count)
        qsort(out->names, out->count, sizeof *out->names, cmp_names);
    return 0;
}

static char *slurp(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        log_error("migrate_failed", "file=\"%s\" reason=\"%s\"", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_FILE_BYTES) {
        log_error("migrate_failed", "file=\"%s\" reason=\"larger than 16 MiB\"", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        log_error("migrate_failed", "file=\"%s\" reason=\"contains a NUL byte\"", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* NNNN_name.sql with a lowercase name; returns the version or -1. */
static int migration_version(const char *name)
{
    size_t n = strlen(name);
    if (n < 10 || !has_suffix(name, ".sql") || name[4] != '_')
        return -1;
    for (int i = 0; i < 4; i++)
        if (name[i] < '0' || name[i] > '9')
            return -1;
    for (size_t i = 5; i < n - 4; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return -1;
    int v = atoi(name);
    return v > 0 ? v : -1;
}

/* Flattens a server error to one line: message, then detail/hint/position when present. */
static void log_pg_error(const char *what, const char *file, PGconn *conn, const PGresult *res)
{
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
    char quoted[1024];
    log_error("migrate_failed", "step=%s file=\"%s\" sqlstate=%s position=%s error=%s", what, file ? file : "",
              state ? state : "-", pos ? pos : "-",
              log_quote(quoted, sizeof quoted, msg ? msg : PQerrorMessage(conn)));
}

static bool exec_ok(PGconn *conn, const char *sql, const char *what, const char *file)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(r);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
    if (!ok)
        log_pg_error(what, file, conn, r);
    PQclear(r);
    return ok;
}

#define AMENDMENTS_FILE "amended.txt"

/*
 * True when dir/amended.txt has the line "NAME APPLIED_MD5 FILE_MD5": a reviewed change of a
 * released migration that does not change what it does. Lines starting with '#' are comments.
 */
static bool amendment_listed(const char *dir, const char *name, const char *applied_md5, const char *file_md5)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, AMENDMENTS_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[512], fname[256], from[64], to[64];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%255s %63s %63s", fname, from, to) != 3)
            continue;
        found = strcmp(fname, name) == 0 && strcmp(from, applied_md5) == 0 && strcmp(to, file_md5) == 0;
    }
    fclose(f);
    return found;
}

static bool record_amendment(PGconn *conn, int version, const char *name, const char *applied_md5,
                             const char *file_md5)
{
    char vbuf[16];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    const char *params[] = {vbuf, applied_md5, file_md5};
    PGresult *r = PQexecParams(conn,
                               "UPDATE rt.schema_migrations SET checksum = $3 WHERE version = $1::int AND checksum = $2",
                               3, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0;
    if (!ok)
        log_pg_error("amend", name, conn, r);
    else
        log_info("migration_amended", "file=\"%s\" applied_md5=%s file_md5=%s", name, applied_md5, file_md5);
    PQclear(r);
    return ok;
}

/* Returns 1 if applied with the same checksum, 0 if not applied, -1 on error or mismatch. */
static int applied_state(PGconn *conn, const char *dir, bool have_table, int version, const char *name,
                         const char *text)
{
    if (!have_table)
        return 0;
    char vbuf[16];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    const char *params[] = {vbuf, text};
    PGresult *r = PQexecParams(conn,
                               "SELECT name, checksum, md5($2) FROM rt.schema_migrations WHERE version = $1::int",
                               2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_pg_error("read_bookkeeping", name, conn, r);
        PQclear(r);
        return -1;
    }
    int state = 0;
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 0), name) != 0) {
            log_error("migrate_failed", "file=\"%s\" reason=\"version %d was applied as %s\"", name, version,
                      PQgetvalue(r, 0, 0));
            state = -1;
        } else if (strcmp(PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2)) != 0 &&
                   amendment_listed(dir, name, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2))) {
            state = record_amendment(conn, version, name, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2)) ? 1 : -1;
        } else if (strcmp(PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2)) != 0) {
            log_error("migrate_failed",
                      "file=\"%s\" reason=\"changed after it was applied: add a new migration instead\" "
                      "applied_md5=%s file_md5=%s",
                      name, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
            state = -1;
        } else {
            state = 1;
        }
    }
    PQclear(r);
    return state;
}

static int apply_migration(PGconn *conn, int version, const char *name, const char *text)
{
    char vbuf[16];
    snprintf(vbuf, sizeof vbuf, "%d", version);
    if (!exec_ok(conn, "BEGIN", "begin", name))
        return -1;
    if (!exec_ok(conn, text, "apply", name)) {
        exec_ok(conn, "ROLLBACK", "rollback", name);
        return -1;
    }
    const char *params[] = {vbuf, name, text};
    PGresult *r = PQexecParams(conn,
                               "INSERT INTO rt.schema_migrations (version, name, checksum) VALUES ($1::int, $2, md5($3))",
                               3, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        log_pg_error("record", name, conn, r);
    PQclear(r);
    if (!ok || !exec_ok(conn, "COMMIT", "commit", name)) {
        exec_ok(conn, "ROLLBACK", "rollback", name);
        return -1;
    }
    log_info("migration_applied", "file=\"%s\"", name);
    return 0;
}

static bool bookkeeping_exists(PGconn *conn)
{
    PGresult *r = PQexec(conn, "SELECT to_regclass('rt.schema_migrations') IS NOT NULL");
    bool yes = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return yes;
}

static int apply_migrations(PGconn *conn, const char *dir, int *applied)
{
    struct file_list files;
    if (list_sql_files(dir, &files) != 0)
        return -1;
    int rc = 0, last_version = 0;
    for (size_t i = 0; i < files.count && rc == 0; i++) {
        const char *name = files.names[i];
        int version = migration_version(name);
        if (version < 0) {
            log_error("migrate_failed", "file=\"%s\" reason=\"migration names are NNNN_lowercase_name.sql\"", name);
            rc = -1;
            break;
        }
        if (version == last_version) {
            log_error("migrate_failed", "file=\"%s\" reason=\"two migrations share version %d\"", name, version);
            rc = -1;
            break;
        }
        last_version = version;
        char *text = slurp(dir, name);
        if (!text) {
            rc = -1;
            break;
        }
        int state = applied_state(conn, dir, bookkeeping_exists(conn), version, name, text);
        if (state < 0)
            rc = -1;
        else if (state == 0 && (rc = apply_migration(conn, version, name, text)) == 0)
            (*applied)++;
        free(text);
    }
    file_list_free(&files);
    return rc;
}

static int apply_functions(PGconn *conn, const char *dir, int *count)
{
    struct file_list files;
    if (list_sql_files(dir, &files) != 0)
        return -1;
    int rc = exec_ok(conn, "BEGIN", "begin", dir) ? 0 : -1;
    for (size_t i = 0; i < files.count && rc == 0; i++) {
        char *text = slurp(dir, files.names[i]);
        if (!text || !exec_ok(conn, text, "functions", files.names[i]))
            rc = -1;
        free(text);
        if (rc == 0)
            (*count)++;
    }
    if (rc == 0 && !exec_ok(conn, "COMMIT", "commit", dir))
        rc = -1;
    if (rc != 0)
        exec_ok(conn, "ROLLBACK", "rollback", dir);
    file_list_free(&files);
    return rc;
}

int migrate_run(const struct config *cfg)
{
    const char *keys[] = {"application_name", "dbname", NULL};
    const char *vals[] = {"rt-bridge migrate", cfg->database_url ? cfg->database_url : "", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        char quoted[512];
        log_error("migrate_failed", "step=connect error=%s", log_quote(quoted, sizeof quoted, PQerrorMessage(conn)));
        PQfinish(conn);
        return -1;
    }
    int applied = 0, functions = 0, rc = -1;
    if (exec_ok(conn, "SET client_min_messages = warning", "settings", NULL) &&
        exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "lock", NULL)) {
        rc = apply_migrations(conn, cfg->migrations_dir, &applied);
        if (rc == 0)
            rc = apply_functions(conn, cfg->sql_dir, &functions);
        exec_ok(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", "unlock", NULL);
    }
    if (rc == 0)
        log_info("migrate_done", "migrations_applied=%d function_files=%d", applied, functions);
    PQfinish(conn);
    return rc;
}
