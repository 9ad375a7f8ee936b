/*
 * bridge/protocol.c is the one table of frame types and limits in C; this keeps it equal to the
 * other places the same facts are written: rt.dispatch's type list (sql/210_dispatch.sql), rt.batch's
 * cap (sql/220_batch.sql) and docs/protocol.md "Frames". A type added on one side only fails here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "protocol.h"

static char *slurp(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The quoted names ('a', 'b' or `a`, `b`) in text from `start` to the first `end` after it. */
static int names_in(const char *text, const char *start, const char *end, char quote, char names[][32], int max)
{
    const char *p = text ? strstr(text, start) : NULL;
    if (!p)
        return -1;
    p += strlen(start);
    const char *stop = strstr(p, end);
    int n = 0;
    while (p && stop && p < stop && n < max) {
        const char *a = memchr(p, quote, (size_t)(stop - p));
        if (!a)
            break;
        const char *b = memchr(a + 1, quote, (size_t)(stop - a - 1));
        if (!b || b - a - 1 >= 32)
            break;
        memcpy(names[n], a + 1, (size_t)(b - a - 1));
        names[n][b - a - 1] = '\0';
        n++;
        p = b + 1;
    }
    return n;
}

static bool same_set(char names[][32], int n, bool (*want)(const struct frame_type *))
{
    int expected = 0;
    for (unsigned i = 0; i < protocol_nframe_types; i++)
        if (want(&protocol_frame_types[i])) {
            expected++;
            bool found = false;
            for (int j = 0; j < n; j++)
                found = found || strcmp(names[j], protocol_frame_types[i].name) == 0;
            if (!found) {
                printf("# missing: %s\n", protocol_frame_types[i].name);
                return false;
            }
        }
    return n == expected;
}

static bool by_database(const struct frame_type *t) { return t->handler == FRAME_BY_DATABASE; }
static bool needs_ref(const struct frame_type *t) { return t->needs_ref; }

int main(void)
{
    char *dispatch = slurp("sql/210_dispatch.sql"), *batch = slurp("sql/220_batch.sql"),
         *doc = slurp("docs/protocol.md"), *validate = slurp("sql/030_validate.sql");
    CHECK(dispatch && batch && doc && validate, "the SQL and the protocol document are readable");

    char names[64][32];
    int n = names_in(dispatch, "v_type NOT IN (", ")", '\'', names, 64);
    CHECK(n > 0 && same_set(names, n, by_database),
          "rt.dispatch accepts exactly the types protocol.c sends to the database");

    n = names_in(doc, "**must** carry one (", ")", '`', names, 64);
    CHECK(n > 0 && same_set(names, n, needs_ref), "docs/protocol.md's types that need a ref are protocol.c's");

    bool all_documented = doc != NULL;
    for (unsigned i = 0; doc && i < protocol_nframe_types; i++) {
        char pattern[64];
        snprintf(pattern, sizeof pattern, "`{\"type\":\"%s\"", protocol_frame_types[i].name);
        if (!strstr(doc, pattern)) {
            printf("# not in docs/protocol.md's frame table: %s\n", protocol_frame_types[i].name);
            all_documented = false;
        }
    }
    CHECK(all_documented, "every frame type has its row in docs/protocol.md \"Frames\"");

    char *arch = slurp("docs/architecture.md");
    bool all_mapped = arch != NULL;
    for (unsigned i = 0; arch && i < protocol_nframe_types; i++) {
        char row[64];
        snprintf(row, sizeof row, "`%s`", protocol_frame_types[i].name);
        const char *table = strstr(arch, "## Where is frame X handled?");
        const char *end = table ? strstr(table, "\n## ") : NULL;
        const char *hit = table ? strstr(table, row) : NULL;
        if (!hit || (end && hit > end)) {
            printf("# not in docs/architecture.md \"Where is frame X handled?\": %s\n", protocol_frame_types[i].name);
            all_mapped = false;
        }
    }
    CHECK(all_mapped, "docs/architecture.md says where every frame type is handled");
    free(arch);

    char cap[64];
    snprintf(cap, sizeof cap, "IF v_n > %d THEN", PROTOCOL_BATCH_MAX);
    CHECK(batch && strstr(batch, cap), "rt.batch's cap is PROTOCOL_BATCH_MAX");
    char ref[64];
    snprintf(ref, sizeof ref, "at most %d characters", PROTOCOL_MAX_REF_CHARS);
    CHECK(doc && strstr(doc, ref), "the ref limit is the documented one");

    char room[64];
    /* The length is checked apart from the pattern (a bounded repetition is slow in PostgreSQL's regex). */
    snprintf(room, sizeof room, "char_length(room) NOT BETWEEN 1 AND %d", PROTOCOL_MAX_ROOM_BYTES);
    CHECK(validate && strstr(validate, room), "a room id is as long as rt.check_room_id allows (sql/030_validate.sql)");

    CHECK(protocol_nframe_types < 32, "metrics.c has a row for every type (NTYPES_MAX)");
    CHECK(protocol_frame_index("send", 4) < protocol_nframe_types &&
              protocol_frame_index("sendx", 5) == protocol_nframe_types && protocol_frame_type("sen", 3) == NULL,
          "lookups are by the exact name");
    free(dispatch);
    free(batch);
    free(doc);
    free(validate);
    return check_done();
}
