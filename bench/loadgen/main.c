/* rt-loadgen: the benchmark instrument. Parses the command line into one scenario, runs it, and
 * prints one `key=value` line (stdout) and a readable summary (stderr). See docs/benchmarks.md. */
#include "report.h"
#include "scenario.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void usage(FILE *out) {
  fputs("usage: rt-loadgen --ports P[,P...] --secret S [options]\n"
        "  --host ADDR           bridge address (127.0.0.1)\n"
        "  --ports P,P           bridge ports; connection i uses the (i mod n)-th\n"
        "  --bridge-pids PID,PID bridges to measure (RSS, CPU)\n"
        "  --pg-pid PID          postmaster; its children's CPU is PostgreSQL's\n"
        "  --secret S            HS256 secret of the bridges\n"
        "  --room-prefix P       rooms are P0 .. P<rooms-1> (bench_r)\n"
        "  --user-prefix P       users are P0 .. P<conns-1>; user i is a member of room i mod rooms (bench_u)\n"
        "  --conns N --rooms R   connections and rooms (100, 10)\n"
        "  --connect-rate N      connections started per second (2000)\n"
        "  --senders N           connections 0..N-1 send (all)\n"
        "  --rate N              open loop: sends per second in all (0: idle)\n"
        "  --window W            closed loop: W sends in flight per sender\n"
        "  --duration S --settle S --drain S   sending/idle time, longest wait for quiet after the joins, wait at the end (10, 30, 5)\n"
        "  --join-timeout S      seconds beyond conns/connect-rate for all joins to be answered (60)\n"
        "  --body-bytes N        message body length (48)\n",
        out);
}

static int parse_list(const char *s, int *out, int max) {
  int n = 0;
  for (char *end; *s && n < max; s = *end ? end + 1 : end) {
    long v = strtol(s, &end, 10);
    if (end == s || v <= 0 || (*end && *end != ',')) return -1;
    out[n++] = (int)v;
  }
  return n;
}

int main(int argc, char **argv) {
  struct lg_config cfg = {.host = "127.0.0.1", .room_prefix = "bench_r", .user_prefix = "bench_u", .conns = 100,
                          .rooms = 10, .connect_rate = 2000, .join_timeout = 60, .duration = 10, .settle = 30, .drain = 5, .body_bytes = 48};
  static const struct option opts[] = {
      {"host", 1, 0, 'h'}, {"ports", 1, 0, 'p'}, {"bridge-pids", 1, 0, 'b'}, {"pg-pid", 1, 0, 'g'},
      {"secret", 1, 0, 's'}, {"room-prefix", 1, 0, 'R'}, {"user-prefix", 1, 0, 'U'}, {"conns", 1, 0, 'n'},
      {"rooms", 1, 0, 'r'}, {"connect-rate", 1, 0, 'c'}, {"senders", 1, 0, 'S'}, {"rate", 1, 0, 'a'},
      {"window", 1, 0, 'w'}, {"duration", 1, 0, 'd'}, {"settle", 1, 0, 't'}, {"drain", 1, 0, 'D'},
      {"body-bytes", 1, 0, 'B'}, {"join-timeout", 1, 0, 'J'}, {"help", 0, 0, '?'}, {0, 0, 0, 0}};
  int pids[LG_MAX_BRIDGES], o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'h': cfg.host = optarg; break;
    case 'p': cfg.nports = parse_list(optarg, cfg.ports, LG_MAX_BRIDGES); break;
    case 'b':
      cfg.npids = parse_list(optarg, pids, LG_MAX_BRIDGES);
      for (int i = 0; i < cfg.npids; i++) cfg.bridge_pids[i] = pids[i];
      break;
    case 'g': cfg.pg_pid = atoi(optarg); break;
    case 's': cfg.secret = optarg; break;
    case 'R': cfg.room_prefix = optarg; break;
    case 'U': cfg.user_prefix = optarg; break;
    case 'n': cfg.conns = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'r': cfg.rooms = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'c': cfg.connect_rate = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'S': cfg.senders = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'a': cfg.rate = atof(optarg); break;
    case 'w': cfg.window = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'd': cfg.duration = atof(optarg); break;
    case 't': cfg.settle = atof(optarg); break;
    case 'D': cfg.drain = atof(optarg); break;
    case 'J': cfg.join_timeout = atof(optarg); break;
    case 'B': cfg.body_bytes = (uint32_t)strtoul(optarg, NULL, 10); break;
    case '?': usage(o == '?' && optopt == 0 ? stdout : stderr); return optopt == 0 ? 0 : 2;
    default: usage(stderr); return 2;
    }
  }
  if (cfg.nports <= 0 || cfg.npids < 0 || !cfg.secret || cfg.conns == 0 || cfg.rooms == 0 || cfg.rooms > cfg.conns ||
      cfg.connect_rate == 0 || cfg.duration <= 0 || cfg.rate < 0 || cfg.body_bytes > 4000) {
    usage(stderr);
    return 2;
  }
  /* Every connection is a descriptor: take all the kernel allows this process. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < cfg.conns + 64) {
    fprintf(stderr, "rt-loadgen: %u connections need more descriptors than RLIMIT_NOFILE (%lu)\n", cfg.conns,
            (unsigned long)rl.rlim_cur);
    return 2;
  }
  struct lg_result res;
  if (scenario_run(&cfg, &res) != 0) return 1;
  report_line(stdout, &cfg, &res);
  report_summary(stderr, &cfg, &res);
  free(res.latency);
  free(res.ack);
  free(res.lag);
  return 0;
}
