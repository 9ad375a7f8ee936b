/* report: one `key=value ...` line per run (what bench/run-all.sh parses), and a readable summary. */
#ifndef LG_REPORT_H
#define LG_REPORT_H
#include "scenario.h"
#include <stdio.h>

void report_line(FILE *out, const struct lg_config *cfg, const struct lg_result *r);
void report_summary(FILE *out, const struct lg_config *cfg, const struct lg_result *r);
#endif
