/* json_scan: a one-pass walk over the top level of a JSON object (see json_scan.h). */
#include "json_scan.h"
#include <string.h>

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
  return p;
}

/* p is at an opening quote: returns the closing quote, or NULL. */
static const char *string_end(const char *p, const char *end) {
  for (p++; p < end; p++) {
    if (*p == '\\') p++;
    else if (*p == '"') return p;
  }
  return NULL;
}

/* Skips one value (any type, any depth); returns the first byte after it, or NULL. */
static const char *value_end(const char *p, const char *end) {
  if (p >= end) return NULL;
  if (*p == '"') {
    const char *q = string_end(p, end);
    return q ? q + 1 : NULL;
  }
  if (*p == '{' || *p == '[') {
    int depth = 0;
    for (; p < end; p++) {
      if (*p == '"') {
        p = string_end(p, end);
        if (!p) return NULL;
      } else if (*p == '{' || *p == '[') {
        depth++;
      } else if (*p == '}' || *p == ']') {
        if (--depth == 0) return p + 1;
      }
    }
    return NULL;
  }
  while (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\n') p++;
  return p;
}

bool json_members(const char *text, size_t len, const char *const *names, size_t n, struct json_span *out) {
  const char *p = text, *end = text + len;
  for (size_t i = 0; i < n; i++) out[i] = (struct json_span){NULL, 0};
  p = skip_ws(p, end);
  if (p >= end || *p != '{') return false;
  p = skip_ws(p + 1, end);
  while (p < end && *p != '}') {
    if (*p != '"') return false;
    const char *kend = string_end(p, end);
    if (!kend) return false;
    const char *key = p + 1;
    size_t klen = (size_t)(kend - key);
    p = skip_ws(kend + 1, end);
    if (p >= end || *p != ':') return false;
    p = skip_ws(p + 1, end);
    const char *vend = value_end(p, end);
    if (!vend) return false;
    for (size_t i = 0; i < n; i++) {
      if (strlen(names[i]) == klen && memcmp(names[i], key, klen) == 0) {
        out[i] = *p == '"' ? (struct json_span){p + 1, (size_t)(vend - p - 2)}
                           : (struct json_span){p, (size_t)(vend - p)};
      }
    }
    p = skip_ws(vend, end);
    if (p < end && *p == ',') p = skip_ws(p + 1, end);
  }
  return p < end && *p == '}';   /* a frame cut short is not an object */
}

bool json_span_is(struct json_span s, const char *literal) {
  return s.p && strlen(literal) == s.len && memcmp(s.p, literal, s.len) == 0;
}

bool json_span_int(struct json_span s, int64_t *out) {
  if (!s.p || s.len == 0 || s.len > 18) return false;
  int64_t v = 0;
  for (size_t i = 0; i < s.len; i++) {
    if (s.p[i] < '0' || s.p[i] > '9') return false;
    v = v * 10 + (s.p[i] - '0');
  }
  *out = v;
  return true;
}
