/*
 * frame_parse: the bridge reads only what routing needs (type, ref, room, since, an auth token) and
 * leaves every rule to SQL. Pure: no session, no I/O, so the fuzzer calls exactly what frames.c does.
 */
#include "frame_parse.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool valid_ref(json_t *ref) { return json_is_string(ref) && json_string_length(ref) <= FRAME_MAX_REF_CHARS; }

static void refuse(struct frame_request *req, enum frame_kind kind, const char *label, const char *msg)
{
    req->kind = kind;
    req->label = label;
    snprintf(req->error, sizeof req->error, "%s", msg);
}

/*
 * A frame jansson refuses may still be an object whose only fault is a \u0000 or an integer beyond
 * 64 bits: parse it leniently just to find its ref, so the client gets a reply it can match.
 */
static void refuse_unparsable(struct frame_request *req, const char *text, size_t len, const json_error_t *jerr)
{
    req->lenient = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
    json_t *ref = json_object_get(req->lenient, "ref");
    req->ref = valid_ref(ref) ? ref : NULL;
    req->kind = FRAME_MALFORMED;
    req->label = "other";
    if (json_is_object(req->lenient))
        snprintf(req->error, sizeof req->error, "%s",
                 strstr(jerr->text, "NUL") || strstr(jerr->text, "\\u0000") ? "strings must not contain \\u0000"
                                                                           : "a number is out of range");
    else
        snprintf(req->error, sizeof req->error, "frame is not valid JSON for pgrt: %s", jerr->text);
}

/*
 * A raw NUL byte anywhere in a frame. jansson reads past one after a number, but libpq passes
 * parameters as C strings: inside rt.batch the frame would be cut there and every other command of
 * the batch would fail with it. Refused before parsing; its ref is read from a copy in which each
 * NUL became a space, so the client still gets a reply it can match.
 */
static void refuse_nul(struct frame_request *req, const char *text, size_t len)
{
    char *copy = malloc(len);
    if (copy) {
        for (size_t i = 0; i < len; i++)
            copy[i] = text[i] ? text[i] : ' ';
        req->lenient = json_loadb(copy, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        free(copy);
    }
    json_t *ref = json_object_get(req->lenient, "ref");
    req->ref = valid_ref(ref) ? ref : NULL;
    refuse(req, FRAME_MALFORMED, "other", "a frame must not contain a NUL byte");
}

#define PG_NUMERIC_DSCALE_MAX 16383 /* digits after the point a PostgreSQL numeric (so jsonb) can hold */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/*
 * Whether PostgreSQL's jsonb can hold every number of a frame jansson accepted. jansson reads a
 * number too small for a double (1e-20000) as 0, but jsonb refuses more than 16383 digits after
 * the point, or an exponent beyond its int range. A database frame travels to rt.batch as jsonb
 * text together with other connections' commands, so one such number would fail their whole
 * batch: refuse it here, like an integer beyond 64 bits. `text` is valid JSON.
 */
static bool numbers_fit_jsonb(const char *text, size_t len)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (text[i] == '\\')
                i++;
            else if (text[i] == '"')
                in_string = false;
            continue;
        }
        if (text[i] == '"')
            in_string = true;
        if (text[i] != '-' && !is_digit(text[i]))
            continue; /* outside strings, only numbers hold '-' or digits */
        i += text[i] == '-';
        while (i < len && is_digit(text[i]))
            i++;
        long long frac = 0, exp = 0;
        if (i < len && text[i] == '.')
            for (i++; i < len && is_digit(text[i]); i++)
                frac++;
        if (i < len && (text[i] == 'e' || text[i] == 'E')) {
            bool negative = ++i < len && text[i] == '-';
            i += i < len && (text[i] == '-' || text[i] == '+');
            for (; i < len && is_digit(text[i]); i++)
                if (exp < INT_MAX) /* saturates: anything this large is refused anyway */
                    exp = exp * 10 + (text[i] - '0');
            exp = negative ? -exp : exp;
        }
        if (frac - exp > PG_NUMERIC_DSCALE_MAX || exp >= INT_MAX / 2 || exp <= -(INT_MAX / 2))
            return false;
        i--; /* the loop steps past the number's last character */
    }
    return true;
}

static void read_db_frame(struct frame_request *req, const char *type)
{
    req->kind = FRAME_DB;
    req->label = type;
    json_t *room = json_object_get(req->frame, "room");
    if (json_is_string(room) && json_string_length(room) >= 1 && json_string_length(room) <= FRAME_MAX_ROOM_BYTES)
        snprintf(req->room, sizeof req->room, "%s", json_string_value(room));
    json_t *since = json_object_get(req->frame, "since");
    if (json_is_integer(since) && json_integer_value(since) >= 0)
        req->since = json_integer_value(since);
}

void frame_parse(const char *text, size_t len, struct frame_request *req)
{
    memset(req, 0, sizeof *req);
    req->since = -1;
    if (memchr(text, '\0', len)) {
        refuse_nul(req, text, len);
        return;
    }
    json_error_t jerr;
    req->frame = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req->frame) {
        refuse_unparsable(req, text, len, &jerr);
        return;
    }
    if (!json_is_object(req->frame)) {
        refuse(req, FRAME_MALFORMED, "other", "frame must be a JSON object");
        return;
    }
    json_t *ref = json_object_get(req->frame, "ref");
    json_t *type = json_object_get(req->frame, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : NULL;
    if (ref && !valid_ref(ref)) {
        refuse(req, FRAME_MALFORMED, "other", "\"ref\" must be a string of at most 128 characters");
        return;
    }
    req->ref = ref;
    if (!numbers_fit_jsonb(text, len)) {
        refuse(req, FRAME_MALFORMED, "other", "a number is out of range");
        return;
    }
    req->type = t;
    req->label = t ? t : "other";
    const struct frame_type *ft = NULL;
    if (!t) {
        refuse(req, FRAME_INVALID, "other", "\"type\" must be a string");
    } else if (!ref && (ft = protocol_frame_type(t, strlen(t))) && ft->needs_ref) {
        char msg[80];
        snprintf(msg, sizeof msg, "a %s frame needs a \"ref\" to reply to", t);
        refuse(req, FRAME_INVALID, t, msg);
    } else if (strcmp(t, "ping") == 0) {
        req->kind = FRAME_PING;
    } else if (strcmp(t, "auth") == 0) {
        json_t *token = json_object_get(req->frame, "token");
        if (json_is_string(token)) {
            req->kind = FRAME_AUTH;
            req->token = json_string_value(token);
        } else {
            refuse(req, FRAME_INVALID, "auth", "\"token\" must be a string");
        }
    } else if ((ft = protocol_frame_type(t, strlen(t))) && ft->handler == FRAME_BY_DATABASE) {
        read_db_frame(req, ft->name);
    } else {
        refuse(req, FRAME_INVALID, "other", "unknown frame type");
    }
}

const char *frame_parse_first_auth(const char *text, size_t len, struct frame_request *req)
{
    frame_parse(text, len, req);
    /* FRAME_INVALID too: an auth frame without a ref is only refused as a later frame. */
    if (req->kind == FRAME_MALFORMED || !req->type || strcmp(req->type, "auth") != 0)
        return NULL;
    json_t *token = json_object_get(req->frame, "token");
    return json_is_string(token) ? json_string_value(token) : NULL;
}

void frame_request_free(struct frame_request *req)
{
    json_decref(req->frame);
    json_decref(req->lenient);
    memset(req, 0, sizeof *req);
}
