/* frames: parse a client frame, answer the ones the bridge owns (ping), refuse malformed ones. */
#include "frames.h"

#include <jansson.h>
#include <string.h>

#include "session.h"

static void handle_ping(struct session *s, json_t *ref)
{
    if (ref)
        session_send_json(s, json_pack("{s:s, s:O}", "type", "pong", "ref", ref));
    else
        session_send_json(s, json_pack("{s:s}", "type", "pong"));
}

void frames_handle(struct session *s, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *frame = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!frame) {
        session_send_error(s, NULL, "BAD_REQUEST", "frame is not valid JSON", false);
        return;
    }
    if (!json_is_object(frame)) {
        session_send_error(s, NULL, "BAD_REQUEST", "frame must be a JSON object", false);
        json_decref(frame);
        return;
    }
    json_t *ref = json_object_get(frame, "ref");
    if (ref && !json_is_string(ref)) {
        session_send_error(s, NULL, "BAD_REQUEST", "\"ref\" must be a string", false);
        json_decref(frame);
        return;
    }
    if (ref && json_string_length(ref) > 128) {
        session_send_error(s, NULL, "BAD_REQUEST", "\"ref\" must be at most 128 characters", false);
        json_decref(frame);
        return;
    }
    json_t *type = json_object_get(frame, "type");
    if (!json_is_string(type)) {
        session_send_error(s, ref, "BAD_REQUEST", "\"type\" must be a string", false);
    } else if (strcmp(json_string_value(type), "ping") == 0) {
        handle_ping(s, ref);
    } else {
        session_send_error(s, ref, "BAD_REQUEST", "unknown frame type", false);
    }
    json_decref(frame);
}
