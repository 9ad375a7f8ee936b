/* proc_stats: /proc readers (see proc_stats.h). */
#include "proc_stats.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

long proc_rss_kib(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  long kib = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) { kib = strtol(line + 6, NULL, 10); break; }
  }
  fclose(f);
  return kib;
}

/* Fields of /proc/PID/stat after the command name, which may hold spaces: ppid is field 4,
 * utime 14, stime 15. */
static int read_stat(pid_t pid, pid_t *ppid, double *cpu) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  int parent = 0;
  unsigned long ut = 0, st = 0;
  if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &parent, &ut, &st) != 3) return -1;
  *ppid = parent;
  *cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
  return 0;
}

double proc_cpu_seconds(pid_t pid) {
  pid_t ppid;
  double cpu;
  return read_stat(pid, &ppid, &cpu) == 0 ? cpu : -1;
}

double proc_tree_cpu_seconds(pid_t parent) {
  DIR *d = opendir("/proc");
  if (!d) return -1;
  double sum = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char *endp;
    long pid = strtol(e->d_name, &endp, 10);
    if (*endp || pid <= 0) continue;
    pid_t ppid;
    double cpu;
    if (read_stat((pid_t)pid, &ppid, &cpu) == 0 && (ppid == parent || pid == parent)) sum += cpu;
  }
  closedir(d);
  return sum;
}

double self_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
