/* log: one logfmt line per event worth knowing, to stderr. */
#ifndef PGRT_LOG_H
#define PGRT_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parses "debug", "info", "warn" or "error"; returns -1 for anything else. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/*
 * Writes `ts=… level=… event=EVENT` followed by the formatted key=value pairs.
 * Values that may hold spaces or quotes must go through log_quote() first.
 */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Quotes s as a logfmt value into buf (always NUL-terminated, truncated to fit). Every value a
 * client or another database role chose (a user id, a room, an error text quoting them) goes
 * through it: unquoted, a `sub` of `a" x=1` would add a field of the attacker's choosing.
 */
const char *log_quote(char *buf, size_t size, const char *s);

/* Room for a quoted user id or room id: every byte escaped, the quotes and the NUL. */
#define LOG_QUOTED_ID 300
/* Room for a quoted error text (longer texts are cut). */
#define LOG_QUOTED_TEXT 256

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

#endif
