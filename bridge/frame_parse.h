/* frame_parse: what a client frame asks for, read without side effects (frames.c acts on it). */
#ifndef PGRT_FRAME_PARSE_H
#define PGRT_FRAME_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

#define FRAME_MAX_REF_CHARS PROTOCOL_MAX_REF_CHARS
#define FRAME_MAX_ROOM_BYTES PROTOCOL_MAX_ROOM_BYTES

enum frame_kind {
    FRAME_MALFORMED, /* not JSON, not an object, a bad ref */
    FRAME_INVALID,   /* no type, a missing ref, an unknown type, no token */
    FRAME_PING,      /* answered by the bridge */
    FRAME_AUTH,      /* a token refresh, answered by the bridge */
    FRAME_DB,        /* goes verbatim to rt.batch */
};

/* One client frame as the bridge reads it: routing facts only, every rule is SQL's. */
struct frame_request {
    enum frame_kind kind;
    json_t *frame;     /* the parsed frame (owned; NULL when it is not JSON) */
    json_t *ref;       /* a string of at most FRAME_MAX_REF_CHARS, or NULL; borrowed from frame or lenient */
    json_t *lenient;   /* the lenient reparse of an unparsable frame, kept for ref (owned) */
    const char *type;  /* the client's "type" string (borrowed), or NULL */
    const char *label; /* the command type metrics count a refusal under ("other" when none fits) */
    const char *token; /* FRAME_AUTH: the new token (borrowed) */
    char room[FRAME_MAX_ROOM_BYTES + 8]; /* FRAME_DB: "" unless a valid room string */
    long long since;   /* FRAME_DB: -1 unless a non-negative integer */
    char error[200];   /* FRAME_MALFORMED and FRAME_INVALID: the BAD_REQUEST message */
};

/*
 * Reads one complete client frame (text, not NUL-terminated). Always fills *req; release it with
 * frame_request_free. A frame jansson refuses is read again leniently just to find its ref.
 */
void frame_parse(const char *text, size_t len, struct frame_request *req);
void frame_request_free(struct frame_request *req);

/*
 * The first frame of a connection that asked to authenticate by frame (docs/protocol.md
 * "Connecting"): {"type":"auth","token":JWT}, read with frame_parse's rules (a `ref` is allowed and
 * not needed: `welcome` answers it). Returns the token, borrowed from req->frame, or NULL when the
 * frame is anything else. Always fills *req; release it with frame_request_free.
 */
const char *frame_parse_first_auth(const char *text, size_t len, struct frame_request *req);

#endif
