/* scenario: one measured run — connect N clients over R rooms at a bounded rate, join, then either
 * hold them idle or send at a fixed rate (open loop) or with W sends in flight per sender (closed
 * loop), and account for every delivery: expected, received, lost, duplicated, out of order, and
 * how late. */
#ifndef LG_SCENARIO_H
#define LG_SCENARIO_H
#include "histogram.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LG_MAX_BRIDGES 8

struct lg_config {
  const char *host;                 /* bridge address (IPv4) */
  int ports[LG_MAX_BRIDGES];        /* connection i goes to ports[i % nports] */
  int nports;
  pid_t bridge_pids[LG_MAX_BRIDGES];/* measured for RSS and CPU; 0: not measured */
  int npids;
  pid_t pg_pid;                     /* postmaster: its children's CPU is PostgreSQL's CPU */
  const char *secret;               /* HS256 secret the bridges accept */
  const char *room_prefix;          /* room r is <room_prefix><r> */
  const char *user_prefix;          /* user i is <user_prefix><i>, member of room i % rooms */
  uint32_t conns, rooms;
  uint32_t connect_rate;            /* new connections per second */
  uint32_t senders;                 /* connections 0 .. senders-1 send */
  double rate;                      /* open loop: sends per second, all senders together */
  uint32_t window;                  /* closed loop (if > 0): sends in flight per sender */
  double join_timeout;              /* seconds beyond conns / connect_rate for every join to be answered */
  double duration, settle, drain;   /* seconds: sending (or idling), quiet after joins, waiting at the end */
  uint32_t body_bytes;              /* message body length (at least the ~40 bytes of stamp) */
};

struct lg_result {
  uint32_t connected, connect_fail, join_fail, closed_early;
  uint64_t sent, acked, send_err, unanswered, expected, delivered, lost, duplicates, out_of_order, foreign;
  char first_error[64];             /* the first error code a send got, or the first close reason */
  struct histogram *latency;        /* send -> delivery, every receiver */
  struct histogram *ack;            /* send -> reply */
  struct histogram *lag;            /* a delivery's arrival in its socket -> the generator read it */
  double send_seconds;              /* first send .. last delivery or reply */
  long rss_before_kib, rss_joined_kib, rss_end_kib;   /* bridges, summed */
  double bridge_cpu, pg_cpu, self_cpu;                 /* seconds during the measured phase */
  double wall;                                         /* seconds of the measured phase */
  /* The join phase (the join storm): first connect started .. last join reply, the bytes of every
   * join reply, and the presence traffic (presence, presence_batch, occupancy frames) until the
   * measured phase ends. */
  double join_all_seconds, join_bridge_cpu, join_pg_cpu;  /* CPU seconds from the first connect to the quiet after the joins */
  uint64_t join_reply_bytes, presence_frames, presence_bytes;
  int64_t last_occupancy;                              /* the last occupancy a join reply or signal said, -1: none */
};

int scenario_run(const struct lg_config *cfg, struct lg_result *res);
#endif
