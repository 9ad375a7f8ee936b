/* protocol: the frame type table (see protocol.h). */
#include "protocol.h"

#include <string.h>

const struct frame_type protocol_frame_types[] = {
    {"join", FRAME_BY_DATABASE, true},     {"leave", FRAME_BY_DATABASE, true},
    {"send", FRAME_BY_DATABASE, true},     {"publish", FRAME_BY_DATABASE, true},
    {"signal", FRAME_BY_DATABASE, false},  {"state", FRAME_BY_DATABASE, true},
    {"edit", FRAME_BY_DATABASE, true},     {"delete", FRAME_BY_DATABASE, true},
    {"read", FRAME_BY_DATABASE, false},    {"history", FRAME_BY_DATABASE, true},
    {"roster", FRAME_BY_DATABASE, true},   {"search", FRAME_BY_DATABASE, true},
    {"auth", FRAME_BY_BRIDGE, true},       {"ping", FRAME_BY_BRIDGE, false},
};
const unsigned protocol_nframe_types = sizeof protocol_frame_types / sizeof protocol_frame_types[0];

unsigned protocol_frame_index(const char *name, size_t len)
{
    unsigned i = 0;
    while (i < protocol_nframe_types &&
           !(strlen(protocol_frame_types[i].name) == len && memcmp(protocol_frame_types[i].name, name, len) == 0))
        i++;
    return i;
}

const struct frame_type *protocol_frame_type(const char *name, size_t len)
{
    unsigned i = protocol_frame_index(name, len);
    return i < protocol_nframe_types ? &protocol_frame_types[i] : NULL;
}
