/*
 * fuzz_frame: a client's WebSocket text frame through frame_parse (the strict parse, the lenient
 * reparse that finds `ref`, the routing facts) and the metrics reader that scans a frame's "type"
 * without parsing it, and frame_parse_first_auth (session.c's auth frame). Checks what frames.c relies on: a ref is a short string, a room fits, a
 * database frame is one of the types bridge/protocol.c sends to the database, every refusal has a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_parse.h"
#include "metrics.h"
#include "protocol.h"

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct frame_request req;
    frame_parse(text, size, &req);

    REQUIRE(req.label != NULL);
    if (req.ref)
        REQUIRE(json_is_string(req.ref) && json_string_length(req.ref) <= FRAME_MAX_REF_CHARS);
    REQUIRE(strlen(req.room) <= FRAME_MAX_ROOM_BYTES);
    REQUIRE(req.since >= -1);
    switch (req.kind) {
    case FRAME_MALFORMED:
    case FRAME_INVALID:
        REQUIRE(req.error[0] != '\0');
        REQUIRE(req.room[0] == '\0' && req.since == -1);
        break;
    case FRAME_PING:
        REQUIRE(strcmp(req.type, "ping") == 0);
        break;
    case FRAME_AUTH:
        REQUIRE(req.ref && req.token && strcmp(req.type, "auth") == 0);
        break;
    case FRAME_DB: {
        /* The database's frame types are those of bridge/protocol.c (this list was once written out
         * here, and went stale when roster and search were added). */
        const struct frame_type *ft = protocol_frame_type(req.label, strlen(req.label));
        REQUIRE(ft && ft->handler == FRAME_BY_DATABASE && strcmp(req.label, req.type) == 0);
        REQUIRE(req.ref || !ft->needs_ref);
        break;
    }
    default:
        abort();
    }
    /* What frames.c does with a parsed frame that can still go wrong on odd input. */
    if (req.ref) {
        char *ref_json = json_dumps(req.ref, JSON_ENCODE_ANY);
        REQUIRE(ref_json != NULL);
        free(ref_json);
    }
    metrics_command_local(req.label, "BAD_REQUEST");
    metrics_command_done(text, size, false, "{\"code\":\"BAD_REQUEST\",\"message\":\"x\"}", 0);
    frame_request_free(&req);

    /* The first frame of a pgrt.auth connection: a token only from a well-formed auth frame. */
    const char *token = frame_parse_first_auth(text, size, &req);
    if (token)
        REQUIRE(req.frame && strcmp(req.type, "auth") == 0 && req.kind != FRAME_MALFORMED && !memchr(text, '\0', size));
    frame_request_free(&req);
    return 0;
}
