/* histogram: log-linear latency buckets (see histogram.h). */
#include "histogram.h"

/* Values below 2*HIST_SUB get a bucket each; above, the top log2(HIST_SUB)+1 bits pick one. */
static unsigned bucket_of(uint64_t v) {
  if (v < 2 * HIST_SUB) return (unsigned)v;
  unsigned msb = 63u - (unsigned)__builtin_clzll(v);
  unsigned shift = msb - 5u;                 /* v >> shift is in [32, 63] */
  unsigned b = 2 * HIST_SUB + (shift - 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
  return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The middle of a bucket's range: what a quantile falling into it reports. */
static uint64_t value_of(unsigned b) {
  if (b < 2 * HIST_SUB) return b;
  unsigned shift = (b - 2 * HIST_SUB) / HIST_SUB + 1;
  uint64_t top = (b - 2 * HIST_SUB) % HIST_SUB + HIST_SUB;
  return (top << shift) + ((uint64_t)1 << (shift - 1));
}

void hist_add(struct histogram *h, uint64_t ns) {
  h->count[bucket_of(ns)]++;
  h->total++;
  if (ns > h->max) h->max = ns;
}

uint64_t hist_quantile(const struct histogram *h, double quantile) {
  if (h->total == 0) return 0;
  uint64_t want = (uint64_t)(quantile * (double)h->total);
  if (want >= h->total) want = h->total - 1;
  uint64_t seen = 0;
  for (unsigned b = 0; b < HIST_BUCKETS; b++) {
    seen += h->count[b];
    if (seen > want) {
      uint64_t v = value_of(b);
      return v > h->max ? h->max : v;
    }
  }
  return h->max;
}
