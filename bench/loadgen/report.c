/* report: prints a run's figures (see report.h). */
#include "report.h"

static double ms(uint64_t ns) { return (double)ns / 1e6; }
static double per10k(double cpu, uint64_t n) { return n ? cpu / (double)n * 10000.0 : 0; }

void report_line(FILE *out, const struct lg_config *cfg, const struct lg_result *r) {
  double secs = r->send_seconds > 0 ? r->send_seconds : 1;
  long per_conn_b = r->connected ? (r->rss_joined_kib - r->rss_before_kib) * 1024 / (long)r->connected : 0;
  fprintf(out,
          "conns=%u rooms=%u connected=%u connect_fail=%u join_fail=%u closed_early=%u "
          "sent=%llu acked=%llu send_err=%llu unanswered=%llu expected=%llu delivered=%llu lost=%llu dup=%llu ooo=%llu "
          "p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f ack_p50_ms=%.3f ack_p99_ms=%.3f lag_p50_ms=%.3f lag_p99_ms=%.3f "
          "sends_per_s=%.0f deliveries_per_s=%.0f "
          "bridge_rss_kib=%ld bridge_rss_per_conn_b=%ld bridge_cpu_per_10k=%.4f pg_cpu_per_10k=%.4f "
          "gen_cpu_per_10k=%.4f bridge_cpu_pct=%.0f pg_cpu_pct=%.0f gen_cpu_pct=%.0f "
          "join_all_ms=%.0f join_bridge_cpu_s=%.2f join_pg_cpu_s=%.2f join_reply_bytes=%llu presence_frames=%llu presence_bytes=%llu last_occupancy=%lld first_error=%s\n",
          cfg->conns, cfg->rooms, r->connected, r->connect_fail, r->join_fail, r->closed_early,
          (unsigned long long)r->sent, (unsigned long long)r->acked, (unsigned long long)r->send_err,
          (unsigned long long)r->unanswered, (unsigned long long)r->expected, (unsigned long long)r->delivered, (unsigned long long)r->lost,
          (unsigned long long)r->duplicates, (unsigned long long)r->out_of_order,
          ms(hist_quantile(r->latency, 0.50)), ms(hist_quantile(r->latency, 0.95)),
          ms(hist_quantile(r->latency, 0.99)), ms(r->latency->max),
          ms(hist_quantile(r->ack, 0.50)), ms(hist_quantile(r->ack, 0.99)),
          ms(hist_quantile(r->lag, 0.50)), ms(hist_quantile(r->lag, 0.99)),
          (double)r->acked / secs, (double)r->delivered / secs,
          r->rss_joined_kib > r->rss_end_kib ? r->rss_joined_kib : r->rss_end_kib, per_conn_b,
          per10k(r->bridge_cpu, r->delivered), per10k(r->pg_cpu, r->delivered), per10k(r->self_cpu, r->delivered),
          r->wall > 0 ? 100 * r->bridge_cpu / r->wall : 0, r->wall > 0 ? 100 * r->pg_cpu / r->wall : 0,
          r->wall > 0 ? 100 * r->self_cpu / r->wall : 0, r->join_all_seconds * 1000, r->join_bridge_cpu, r->join_pg_cpu, (unsigned long long)r->join_reply_bytes,
          (unsigned long long)r->presence_frames, (unsigned long long)r->presence_bytes, (long long)r->last_occupancy,
          r->first_error[0] ? r->first_error : "-");
}

void report_summary(FILE *out, const struct lg_config *cfg, const struct lg_result *r) {
  double secs = r->send_seconds > 0 ? r->send_seconds : 1;
  fprintf(out, "%u connections over %u rooms: %u connected, %u failed to connect, %u failed to join, %u closed early\n",
          cfg->conns, cfg->rooms, r->connected, r->connect_fail, r->join_fail, r->closed_early);
  fprintf(out, "sends: %llu sent, %llu acknowledged (%.0f/s), %llu refused, %llu unanswered at the end%s%s\n",
          (unsigned long long)r->sent, (unsigned long long)r->acked, (double)r->acked / secs,
          (unsigned long long)r->send_err, (unsigned long long)r->unanswered,
          r->first_error[0] ? ", first: " : "", r->first_error);
  fprintf(out, "deliveries: %llu expected, %llu received (%.0f/s), %llu lost, %llu duplicated, %llu out of order\n",
          (unsigned long long)r->expected, (unsigned long long)r->delivered, (double)r->delivered / secs,
          (unsigned long long)r->lost, (unsigned long long)r->duplicates, (unsigned long long)r->out_of_order);
  fprintf(out, "latency send->delivery: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms; send->reply p50 %.2f ms, p99 %.2f ms\n",
          ms(hist_quantile(r->latency, 0.5)), ms(hist_quantile(r->latency, 0.95)), ms(hist_quantile(r->latency, 0.99)),
          ms(r->latency->max), ms(hist_quantile(r->ack, 0.5)), ms(hist_quantile(r->ack, 0.99)));
  fprintf(out, "generator lag (a delivery in its socket until read): p50 %.2f ms, p99 %.2f ms\n",
          ms(hist_quantile(r->lag, 0.5)), ms(hist_quantile(r->lag, 0.99)));
  fprintf(out, "joins: CPU until quiet: bridge %.2f s, PostgreSQL %.2f s\n", r->join_bridge_cpu, r->join_pg_cpu);
  fprintf(out, "joins: all answered %.0f ms after the first connect, %llu bytes of join replies; %llu presence frames "
          "(%llu bytes), last occupancy %lld\n",
          r->join_all_seconds * 1000, (unsigned long long)r->join_reply_bytes, (unsigned long long)r->presence_frames,
          (unsigned long long)r->presence_bytes, (long long)r->last_occupancy);
  fprintf(out, "bridge RSS: %ld KiB before, %ld KiB joined, %ld KiB at the end; CPU over %.1f s: bridge %.2f s, "
          "PostgreSQL %.2f s, generator %.2f s\n",
          r->rss_before_kib, r->rss_joined_kib, r->rss_end_kib, r->wall, r->bridge_cpu, r->pg_cpu, r->self_cpu);
}
