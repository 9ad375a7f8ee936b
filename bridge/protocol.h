/*
 * protocol: the facts of docs/protocol.md the bridge's C code needs, each defined once — the frame
 * types (who answers each, which need a ref), the batch cap shared with rt.batch, the limits of
 * a ref and a room id. frame_parse.c, frames.c, metrics.c, config.c and pool.c read them from
 * here; tests/unit/test_protocol.c checks them against sql/210_dispatch.sql, sql/220_batch.sql and
 * docs/protocol.md, so a type added on one side and not the other fails a test.
 */
#ifndef PGRT_PROTOCOL_H
#define PGRT_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>

enum frame_handler {
    FRAME_BY_BRIDGE,   /* answered by the bridge itself (frames.c) */
    FRAME_BY_DATABASE, /* sent verbatim to rt.batch, which dispatches it (sql/210_dispatch.sql) */
};

struct frame_type {
    const char *name;
    enum frame_handler handler;
    bool needs_ref; /* its reply is its whole point: refused without a ref */
};

/* Every client frame type of docs/protocol.md "Client frames", in the order metrics lists them. */
extern const struct frame_type protocol_frame_types[];
extern const unsigned protocol_nframe_types;

/* The entry for a type name of len bytes, or NULL for an unknown type. */
const struct frame_type *protocol_frame_type(const char *name, size_t len);
/* The index of a type in protocol_frame_types, or protocol_nframe_types ("other") when unknown. */
unsigned protocol_frame_index(const char *name, size_t len);

/* rt.batch refuses more commands than this (one subtransaction id cache of PostgreSQL). */
#define PROTOCOL_BATCH_MAX 64
/* A ref is a string of at most this many characters (docs/protocol.md "Frames"). */
#define PROTOCOL_MAX_REF_CHARS 128
/* Room ids the bridge routes are 1 to this many bytes (rt.create_room enforces the same). */
#define PROTOCOL_MAX_ROOM_BYTES 64

#endif
