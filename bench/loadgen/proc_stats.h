/* proc_stats: what the other processes cost, read from /proc — RSS and CPU time of the bridges, and
 * CPU time of every PostgreSQL backend (the postmaster's children). */
#ifndef LG_PROC_STATS_H
#define LG_PROC_STATS_H
#include <sys/types.h>

/* Resident set size in KiB, or -1 if the process is gone. */
long proc_rss_kib(pid_t pid);
/* user + system CPU seconds of one process, or -1. */
double proc_cpu_seconds(pid_t pid);
/* Sum of user + system CPU seconds of the direct children of `parent` (plus the parent). */
double proc_tree_cpu_seconds(pid_t parent);
/* This process's own user + system CPU seconds. */
double self_cpu_seconds(void);
#endif
