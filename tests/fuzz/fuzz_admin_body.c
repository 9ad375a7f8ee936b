/* fuzz_admin_body: the body of POST /admin/broadcast through http_broadcast_body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http_input.h"

#define REQUIRE(cond)                                                                                        \
    do {                                                                                                     \
        if (!(cond))                                                                                         \
            abort();                                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HTTP_ADMIN_MAX_BODY) /* admin.c answers 413 before parsing */
        return 0;
    /* admin.c hands over its reassembled body, NUL-terminated after len bytes */
    char *body = malloc(size + 1);
    if (!body)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    char *event, *data_json;
    if (http_broadcast_body(body, size, &event, &data_json)) {
        /* what goes to rt.broadcast($1, $2::jsonb): a C string and a JSON object's text */
        json_t *reparsed = json_loads(data_json, 0, NULL);
        REQUIRE(json_is_object(reparsed));
        json_decref(reparsed);
        REQUIRE(strlen(event) <= size);
        free(event);
        free(data_json);
    } else {
        REQUIRE(event == NULL && data_json == NULL);
    }
    free(body);
    return 0;
}
