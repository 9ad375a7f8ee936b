/* ratelimit: per-user token buckets in a chained hash table sized once from max_users. */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

struct rate_bucket {
    struct rate_bucket *next; /* in its hash chain */
    double tokens;
    uint64_t at_ms; /* when tokens was last brought up to date */
    uint64_t penalty_until_ms; /* closed for flooding: no new connection before this */
    unsigned connections;
    char user[]; /* NUL-terminated */
};

struct rate_table {
    double rate, burst;
    size_t max_users, size, nheads;
    struct rate_bucket **heads;
};

static size_t hash(const char *s)
{
    size_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct rate_table *rate_table_new(double rate, double burst, size_t max_users)
{
    struct rate_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->rate = rate;
    t->burst = burst;
    t->max_users = max_users;
    t->nheads = 64;
    while (t->nheads < max_users && t->nheads < ((size_t)1 << 20))
        t->nheads *= 2;
    if (!(t->heads = calloc(t->nheads, sizeof *t->heads))) {
        free(t);
        return NULL;
    }
    return t;
}

void rate_table_free(struct rate_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nheads; i++)
        for (struct rate_bucket *b = t->heads[i], *next; b; b = next) {
            next = b->next;
            free(b);
        }
    free(t->heads);
    free(t);
}

static void refill(const struct rate_table *t, struct rate_bucket *b, uint64_t now_ms)
{
    if (now_ms > b->at_ms) {
        b->tokens += (double)(now_ms - b->at_ms) * t->rate / 1000.0;
        if (b->tokens > t->burst)
            b->tokens = t->burst;
    }
    b->at_ms = now_ms;
}

/* Removes buckets without connections: all of them (evict_any) or the refilled ones. */
static void sweep(struct rate_table *t, uint64_t now_ms, bool evict_any)
{
    for (size_t i = 0; i < t->nheads; i++)
        for (struct rate_bucket **link = &t->heads[i]; *link;) {
            struct rate_bucket *b = *link;
            if (b->connections == 0) {
                refill(t, b, now_ms);
                if (evict_any || (b->tokens >= t->burst && b->penalty_until_ms <= now_ms)) {
                    *link = b->next;
                    free(b);
                    t->size--;
                    continue;
                }
            }
            link = &b->next;
        }
}

static struct rate_bucket *find(const struct rate_table *t, const char *user, size_t slot)
{
    for (struct rate_bucket *b = t->heads[slot]; b; b = b->next)
        if (strcmp(b->user, user) == 0)
            return b;
    return NULL;
}

struct rate_bucket *rate_attach(struct rate_table *t, const char *user, uint64_t now_ms)
{
    size_t slot = hash(user) & (t->nheads - 1);
    struct rate_bucket *found = find(t, user, slot);
    if (found) {
        found->connections++;
        return found;
    }
    if (t->size >= t->max_users)
        sweep(t, now_ms, false);
    if (t->size >= t->max_users) /* full of recently closed users: forgetting one early is the lesser harm */
        sweep(t, now_ms, true);
    if (t->size >= t->max_users)
        return NULL;
    size_t len = strlen(user);
    struct rate_bucket *b = malloc(sizeof *b + len + 1);
    if (!b)
        return NULL;
    memcpy(b->user, user, len + 1);
    b->tokens = t->burst;
    b->at_ms = now_ms;
    b->penalty_until_ms = 0;
    b->connections = 1;
    b->next = t->heads[slot];
    t->heads[slot] = b;
    t->size++;
    return b;
}

void rate_detach(struct rate_table *t, struct rate_bucket *b)
{
    (void)t;
    if (b && b->connections > 0)
        b->connections--;
}

bool rate_take(struct rate_table *t, struct rate_bucket *b, uint64_t now_ms)
{
    refill(t, b, now_ms);
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void rate_penalize(struct rate_table *t, struct rate_bucket *b, uint64_t now_ms)
{
    double refill_ms = t->burst / t->rate * 1000.0;
    b->penalty_until_ms = now_ms + (refill_ms < 1000.0 ? 1000 : (uint64_t)refill_ms);
}

uint64_t rate_penalty_left(struct rate_table *t, const char *user, uint64_t now_ms)
{
    const struct rate_bucket *b = find(t, user, hash(user) & (t->nheads - 1));
    return b && b->penalty_until_ms > now_ms ? b->penalty_until_ms - now_ms : 0;
}

unsigned rate_user_connections(struct rate_table *t, const char *user)
{
    const struct rate_bucket *b = find(t, user, hash(user) & (t->nheads - 1));
    return b ? b->connections : 0;
}

void rate_sweep(struct rate_table *t, uint64_t now_ms) { sweep(t, now_ms, false); }

size_t rate_table_size(const struct rate_table *t) { return t->size; }
