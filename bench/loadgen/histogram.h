/* histogram: latencies in nanoseconds in fixed log-linear buckets (32 per power of two, ~3 %
 * precision), so memory stays bounded however many samples arrive. */
#ifndef LG_HISTOGRAM_H
#define LG_HISTOGRAM_H
#include <stdint.h>

#define HIST_SUB 32                         /* buckets per power of two */
#define HIST_BUCKETS (2 * HIST_SUB + 58 * HIST_SUB)

struct histogram {
  uint64_t count[HIST_BUCKETS];
  uint64_t total;
  uint64_t max;
};

void hist_add(struct histogram *h, uint64_t ns);
/* The value below which `quantile` (0..1) of the samples lie; 0 without samples. */
uint64_t hist_quantile(const struct histogram *h, double quantile);
#endif
