/* outbuf: refcounted frames with LWS_PRE headroom, so fan-out never copies a payload. */
#include "outbuf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct outbuf *outbuf_new(const char *text, size_t len)
{
    struct outbuf *ob = malloc(sizeof *ob + LWS_PRE + len + 1);
    if (!ob)
        return NULL;
    ob->refs = 1;
    ob->len = len;
    memcpy(ob->data + LWS_PRE, text, len);
    ob->data[LWS_PRE + len] = '\0';
    return ob;
}

struct outbuf *outbuf_from_json(void *json_object)
{
    json_t *obj = json_object;
    if (!obj)
        return NULL;
    size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    struct outbuf *ob = len ? malloc(sizeof *ob + LWS_PRE + len + 1) : NULL;
    if (ob) {
        ob->refs = 1;
        ob->len = json_dumpb(obj, (char *)ob->data + LWS_PRE, len, JSON_COMPACT);
        ob->data[LWS_PRE + ob->len] = '\0';
    }
    json_decref(obj);
    return ob;
}

struct outbuf *outbuf_ref(struct outbuf *ob)
{
    ob->refs++;
    return ob;
}

void outbuf_unref(struct outbuf *ob)
{
    if (ob && --ob->refs == 0)
        free(ob);
}
