/* json_scan: finds top-level members of one JSON object without building a tree — the generator
 * reads hundreds of thousands of frames a second and needs four fields of each. */
#ifndef LG_JSON_SCAN_H
#define LG_JSON_SCAN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_span { const char *p; size_t len; };   /* raw value text (strings without quotes) */

/* For each name in `names` (n of them), sets out[i] to that top-level member's value, or
 * {NULL,0} if absent. Returns false if `text` is not an object it can walk. */
bool json_members(const char *text, size_t len, const char *const *names, size_t n, struct json_span *out);
bool json_span_is(struct json_span s, const char *literal);
bool json_span_int(struct json_span s, int64_t *out);
#endif
