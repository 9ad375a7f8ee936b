/* Per-user token buckets: shared by a user's connections, kept across reconnects until refilled,
 * bounded in number. */
#include <stdio.h>

#include "check.h"
#include "ratelimit.h"

static int take_all(struct rate_table *t, struct rate_bucket *b, uint64_t now)
{
    int n = 0;
    while (n < 100000 && rate_take(t, b, now))
        n++;
    return n;
}

int main(void)
{
    struct rate_table *t = rate_table_new(100, 200, 4);
    CHECK(t != NULL, "a table");

    struct rate_bucket *a1 = rate_attach(t, "alice", 1000);
    CHECK(a1 != NULL, "alice's first connection gets a bucket");
    CHECK(take_all(t, a1, 1000) == 200, "a new bucket holds the burst");
    CHECK(!rate_take(t, a1, 1000), "an empty bucket refuses");
    CHECK(take_all(t, a1, 1100) == 10, "100 per second refill: 10 tokens after 100 ms");

    struct rate_bucket *a2 = rate_attach(t, "alice", 1100);
    CHECK(a2 == a1, "a second connection of the same user shares the bucket");
    CHECK(!rate_take(t, a2, 1100), "so it starts empty too");

    rate_detach(t, a1);
    rate_detach(t, a2);
    rate_sweep(t, 1200);
    CHECK(rate_table_size(t) == 1, "a closed user's bucket is kept while it is not full");
    struct rate_bucket *again = rate_attach(t, "alice", 1200);
    CHECK(take_all(t, again, 1200) == 10, "reconnecting buys no fresh burst");
    rate_detach(t, again);
    rate_sweep(t, 1200 + 2000);
    CHECK(rate_table_size(t) == 0, "a refilled bucket without connections is forgotten");

    struct rate_bucket *bob = rate_attach(t, "bob", 5000);
    CHECK(bob != NULL && take_all(t, bob, 5000) == 200, "another user has a bucket of his own");
    CHECK(take_all(t, rate_attach(t, "carol", 5000), 5000) == 200, "and so does carol");

    /* Bounds: four users at most. Connected users are never evicted; closed ones are, if needed. */
    struct rate_bucket *d = rate_attach(t, "dave", 5000), *e = rate_attach(t, "erin", 5000);
    CHECK(d != NULL && e != NULL, "four users fit");
    CHECK(rate_attach(t, "frank", 5000) == NULL, "a fifth does not while all four are connected");
    rate_detach(t, d);
    struct rate_bucket *f = rate_attach(t, "frank", 5000);
    CHECK(f != NULL && rate_table_size(t) == 4, "a closed user's bucket makes room, even before it refilled");

    /* Penalty: closed for flooding, no new connection until the bucket has refilled (2 s here). */
    struct rate_table *p = rate_table_new(100, 200, 4);
    struct rate_bucket *m = rate_attach(p, "mallory", 0);
    CHECK(rate_penalty_left(p, "mallory", 0) == 0, "no penalty before any flood");
    rate_penalize(p, m, 1000);
    rate_detach(p, m);
    CHECK(rate_penalty_left(p, "mallory", 1000) == 2000, "a penalty lasts burst / rate");
    rate_sweep(p, 2500);
    CHECK(rate_penalty_left(p, "mallory", 2500) == 500, "a sweep keeps a penalized bucket though it refilled");
    CHECK(rate_penalty_left(p, "trent", 2500) == 0, "other users are not penalized");
    rate_sweep(p, 3000);
    CHECK(rate_table_size(p) == 0 && rate_penalty_left(p, "mallory", 3000) == 0, "then it is forgotten");
    struct rate_table *fast = rate_table_new(1000, 10, 4);
    struct rate_bucket *q = rate_attach(fast, "quick", 0);
    rate_penalize(fast, q, 0);
    CHECK(rate_penalty_left(fast, "quick", 0) == 1000, "a penalty lasts at least a second");
    rate_table_free(fast);
    rate_table_free(p);

    char user[300];
    memset(user, 'x', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    rate_detach(t, f);
    CHECK(rate_attach(t, user, 5000) != NULL, "long user names are kept whole");

    rate_table_free(t);
    return check_done();
}
