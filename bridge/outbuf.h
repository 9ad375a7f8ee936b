/* outbuf: one outgoing WebSocket text frame, built once and shared (refcounted) by every receiver. */
#ifndef PGRT_OUTBUF_H
#define PGRT_OUTBUF_H

#include <libwebsockets.h>
#include <stddef.h>

struct outbuf {
    unsigned refs;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom for lws, then len bytes of payload */
};

/* A new buffer holding a copy of text, with one reference owned by the caller. */
struct outbuf *outbuf_new(const char *text, size_t len);
/* Takes ownership of a jansson-encoded object; NULL when encoding fails. */
struct outbuf *outbuf_from_json(void *json_object);
struct outbuf *outbuf_ref(struct outbuf *ob);
void outbuf_unref(struct outbuf *ob);

static inline unsigned char *outbuf_payload(struct outbuf *ob) { return ob->data + LWS_PRE; }

#endif
