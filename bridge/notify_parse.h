/* notify_parse: what a NOTIFY payload on the rt channels means for routing, read without side effects. */
#ifndef PGRT_NOTIFY_PARSE_H
#define PGRT_NOTIFY_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum notify_route {
    NOTIFY_NOT_A_FRAME, /* not a JSON object with a string "type": ignored (and logged) */
    NOTIFY_UNROUTED,    /* a frame that reaches no room: no "room", or a ref without a seq */
    NOTIFY_SYSTEM,      /* to every connection, or to one user's */
    NOTIFY_PERSISTED,   /* a room's event with its seq (or a reference to one too large to carry) */
    NOTIFY_PRESENCE,    /* a presence change, coalesced per room */
    NOTIFY_SIGNAL,      /* ephemeral, to the room's joined connections as is */
    NOTIFY_OCCUPANCY,   /* a room's occupancy count (above its presence threshold), coalesced per room */
};

struct notify_facts {
    enum notify_route route;
    json_t *obj;              /* the parsed payload (owned), or NULL */
    const char *type;         /* the strings below are borrowed from obj */
    const char *room;         /* NULL when absent */
    const char *event;        /* "" when absent */
    long long seq;            /* -1: none */
    bool is_ref;              /* type "ref": the event itself must be read from the log */
    const char *removed_user; /* a member_removed event: whose connections stop receiving the room */
    const char *presence_user; /* NOTIFY_PRESENCE */
    bool presence_joined;      /* NOTIFY_PRESENCE: status "joined" (anything else counts as left) */
    bool system_everyone;      /* NOTIFY_SYSTEM without "user" */
    const char *system_user;   /* NOTIFY_SYSTEM: the one user it is for (NULL and !everyone: nobody) */
    bool maintenance;          /* NOTIFY_SYSTEM event "maintenance": re-read the switch */
};

/* Reads one payload (not NUL-terminated). Always fills *f; release it with notify_facts_free. */
void notify_parse(const char *payload, size_t len, struct notify_facts *f);
void notify_facts_free(struct notify_facts *f);

#endif
