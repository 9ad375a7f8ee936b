/* wsframe: the header of an unmasked, final WebSocket text frame (RFC 6455 §5.2), the only kind a
 * server sends. session.c frames several queued messages itself to send them in one write. */
#ifndef PGRT_WSFRAME_H
#define PGRT_WSFRAME_H

#include <stddef.h>

#define WSFRAME_MAX_HEADER 10

/* Writes the header for a payload of len bytes into out (room for WSFRAME_MAX_HEADER); returns
 * its length: 2, 4 or 10 bytes. */
size_t wsframe_text_header(unsigned char *out, size_t len);

#endif
