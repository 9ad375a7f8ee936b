/* admission: one token check for both ways a WebSocket client authenticates (admission.h). */
#include "admission.h"

#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "server.h"

void admission_check(struct bridge *br, const char *token, const char *via, struct admission *out)
{
    memset(out, 0, sizeof *out);
    out->auth = auth_verify(&br->keys, token, time(NULL), &out->claims);
    if (out->auth != AUTH_OK) {
        out->verdict = ADMIT_BAD_TOKEN;
        log_info("auth_refused", "reason=%s via=%s", auth_result_name(out->auth), via);
        metrics_upgrade_refused(REFUSED_AUTH);
        return;
    }
    char user[LOG_QUOTED_ID];
    uint64_t penalty_ms = rate_penalty_left(br->rates, out->claims.sub, uv_now(&br->loop));
    if (penalty_ms > 0) { /* closed with 4029 moments ago: reconnecting is no way around the limit */
        out->verdict = ADMIT_RATE_LIMITED;
        out->retry_after = (penalty_ms + 999) / 1000;
        log_info("upgrade_refused", "reason=rate_limit user=%s retry_after=%llu via=%s",
                 log_quote(user, sizeof user, out->claims.sub), out->retry_after, via);
        metrics_upgrade_refused(REFUSED_RATE_LIMIT);
        return;
    }
    unsigned held = rate_user_connections(br->rates, out->claims.sub);
    if (held >= (unsigned)br->cfg.max_connections_per_user) {
        /* 429, not 503: the bridge has room, this user has used their share (docs/configuration.md). */
        out->verdict = ADMIT_PER_USER;
        log_info("upgrade_refused", "reason=per_user user=%s connections=%u via=%s",
                 log_quote(user, sizeof user, out->claims.sub), held, via);
        metrics_upgrade_refused(REFUSED_PER_USER);
        return;
    }
    out->verdict = ADMIT_OK;
}
