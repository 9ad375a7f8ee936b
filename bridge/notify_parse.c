/*
 * notify_parse: a payload the database sent on an rt channel (or an event row read from the log)
 * becomes routing facts. The database is trusted to send frames, but a payload is read defensively
 * all the same: anything unexpected routes nowhere rather than somewhere wrong.
 */
#include "notify_parse.h"

#include <string.h>

static const char *string_or(json_t *v, const char *otherwise)
{
    return json_is_string(v) ? json_string_value(v) : otherwise;
}

static void read_system(struct notify_facts *f)
{
    json_t *user = json_object_get(f->obj, "user");
    f->route = NOTIFY_SYSTEM;
    f->maintenance = strcmp(f->event, "maintenance") == 0;
    f->system_everyone = user == NULL;
    f->system_user = string_or(user, NULL);
}

static void read_room_frame(struct notify_facts *f)
{
    if (!f->room) {
        f->route = NOTIFY_UNROUTED;
    } else if (f->seq >= 0) {
        f->route = NOTIFY_PERSISTED;
    } else if (f->is_ref) {
        f->route = NOTIFY_UNROUTED;
    } else if (strcmp(f->event, "presence") == 0) {
        json_t *data = json_object_get(f->obj, "data");
        const char *user = string_or(json_object_get(data, "user"), NULL),
                   *status = string_or(json_object_get(data, "status"), NULL);
        /* a presence frame of an unexpected shape is forwarded as it came, like any signal */
        f->route = user && status ? NOTIFY_PRESENCE : NOTIFY_SIGNAL;
        f->presence_user = user;
        f->presence_joined = status && strcmp(status, "joined") == 0;
    } else if (strcmp(f->event, "occupancy") == 0) {
        /* a count of an unexpected shape is forwarded as it came, like any signal */
        f->route = json_is_integer(json_object_get(json_object_get(f->obj, "data"), "occupancy")) ? NOTIFY_OCCUPANCY
                                                                                                 : NOTIFY_SIGNAL;
    } else {
        f->route = NOTIFY_SIGNAL;
    }
}

void notify_parse(const char *payload, size_t len, struct notify_facts *f)
{
    memset(f, 0, sizeof *f);
    f->seq = -1;
    f->event = "";
    f->obj = json_loadb(payload, len, 0, NULL);
    json_t *type = json_object_get(f->obj, "type"), *seq = json_object_get(f->obj, "seq");
    if (!json_is_object(f->obj) || !json_is_string(type)) {
        f->route = NOTIFY_NOT_A_FRAME;
        return;
    }
    f->type = json_string_value(type);
    f->room = string_or(json_object_get(f->obj, "room"), NULL);
    f->event = string_or(json_object_get(f->obj, "event"), "");
    f->seq = json_is_integer(seq) ? json_integer_value(seq) : -1;
    f->is_ref = strcmp(f->type, "ref") == 0;
    if (strcmp(f->event, "member_removed") == 0)
        f->removed_user = string_or(json_object_get(json_object_get(f->obj, "data"), "user"), NULL);
    if (strcmp(f->type, "system") == 0)
        read_system(f);
    else
        read_room_frame(f);
}

void notify_facts_free(struct notify_facts *f)
{
    json_decref(f->obj);
    memset(f, 0, sizeof *f);
}
