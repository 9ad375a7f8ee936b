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

/* Quotes s as a logfmt value into buf (always NUL-terminated, truncated to fit). */
const char *log_quote(char *buf, size_t size, const char *s);

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

#endif
