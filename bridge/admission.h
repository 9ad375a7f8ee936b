/*
 * admission: whether a token may hold a WebSocket connection on this bridge. One decision for both
 * ways a client authenticates (docs/protocol.md "Connecting"): the token of the upgrade (ws.c,
 * which answers with an HTTP status) and the first frame of a `pgrt.auth` connection (session.c,
 * which answers with a close code). Neither path has rules of its own.
 */
#ifndef PGRT_ADMISSION_H
#define PGRT_ADMISSION_H

#include "auth.h"

struct bridge;

enum admission_verdict {
    ADMIT_OK,
    ADMIT_BAD_TOKEN,    /* HTTP 401; close 4001 */
    ADMIT_RATE_LIMITED, /* closed with 4029 moments ago: HTTP 429 with Retry-After; close 4029 */
    ADMIT_PER_USER,     /* --max-connections-per-user reached: HTTP 429; close 4029 */
};

struct admission {
    enum admission_verdict verdict;
    enum auth_result auth;         /* ADMIT_BAD_TOKEN: why */
    unsigned long long retry_after; /* ADMIT_RATE_LIMITED: whole seconds, at least 1 */
    struct auth_claims claims;     /* ADMIT_OK (and the two 429s): the verified claims */
};

/*
 * Verifies token (NULL: none was sent) with every check of docs/protocol.md "Connecting" — the
 * signature, algorithm, exp/nbf, --jwt-max-lifetime, issuer, audience — then the user's rate
 * penalty and per-user cap. Logs and counts a refusal (pgrt_upgrades_refused_total); `via`
 * ("upgrade" or "frame") goes into the log line.
 */
void admission_check(struct bridge *br, const char *token, const char *via, struct admission *out);

#endif
