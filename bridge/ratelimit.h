/* ratelimit: one token bucket per user on this bridge, shared by all of that user's connections and
 * kept after the last one closes until it has refilled. Reconnecting therefore buys no fresh burst:
 * a client that floods, is closed with 4029 and comes straight back finds its bucket still empty. */
#ifndef PGRT_RATELIMIT_H
#define PGRT_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rate_table;
struct rate_bucket;

/* rate: tokens per second; burst: bucket depth; max_users: the most buckets kept at once. */
struct rate_table *rate_table_new(double rate, double burst, size_t max_users);
void rate_table_free(struct rate_table *t);

/* The user's bucket, created full if the user has none; counts one more connection on it.
 * NULL when out of memory or when max_users buckets are all in use by connections. */
struct rate_bucket *rate_attach(struct rate_table *t, const char *user, uint64_t now_ms);
/* One connection fewer; the bucket stays until rate_sweep finds it full again. */
void rate_detach(struct rate_table *t, struct rate_bucket *b);
/* Takes one token if there is one. */
bool rate_take(struct rate_table *t, struct rate_bucket *b, uint64_t now_ms);
/* The user was closed for flooding: new connections are refused until the bucket has refilled
 * (burst / rate seconds, at least one). */
void rate_penalize(struct rate_table *t, struct rate_bucket *b, uint64_t now_ms);
/* Milliseconds until the user may connect again; 0 when they may now. */
uint64_t rate_penalty_left(struct rate_table *t, const char *user, uint64_t now_ms);
/* How many connections the user holds now (those attached to the user's bucket). */
unsigned rate_user_connections(struct rate_table *t, const char *user);
/* Forgets buckets without connections that have refilled (they are as good as new). */
void rate_sweep(struct rate_table *t, uint64_t now_ms);
size_t rate_table_size(const struct rate_table *t);

#endif
