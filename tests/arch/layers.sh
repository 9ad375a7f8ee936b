#!/usr/bin/env bash
# The bridge's layering, checked from the compiled objects (docs/architecture.md, "Layers").
#
#   tests/arch/layers.sh OBJDIR        OBJDIR holds bridge/*.c.o (the pgrt_core objects)
#   tests/arch/layers.sh --graph OBJDIR  prints the file-level call graph and exits
#
# An edge A -> B means A.o references a symbol that B.o defines (nm: undefined in A, defined in B):
# a call or a use of B's data. Calls through function pointers (the ops/callback structs that
# server.c wires) are not edges, which is the point of them. Fails when
#   - a bridge/*.c file has no layer below (a new file must be placed),
#   - an edge goes up a layer (a lower layer may not know a higher one),
#   - the graph has a cycle (within a layer too), printed as A -> B -> ... -> A.
set -euo pipefail

# Lower numbers are lower layers. Edges may go to the same layer or below, never above.
declare -A LAYER=(
  # 0: leaves, knowing no other module of the bridge
  [log]=0 [config]=0 [auth]=0 [outbuf]=0 [wsframe]=0 [ratelimit]=0 [frame_parse]=0 [notify_parse]=0
  [http_input]=0 [metrics]=0 [protocol]=0 [http_reply]=0 [notify_auth]=0
  # 1: transport (WebSocket connections) and database (libpq connections): neither knows rooms or commands
  [session]=1 [admission]=1 [ws]=1 [acceptor]=1 [pgconn]=1 [pool]=1 [listener]=1 [migrate]=1
  # 2: what the bridge does with them: rooms and delivery, commands, presence, the bridge's own rows
  [router]=2 [presence]=2 [occupancy]=2 [eventlog]=2 [frames]=2 [registry]=2 [maintenance]=2
  # 3: entry points that dispatch into layer 2: a NOTIFY's fan-out, the HTTP routes
  [fanout]=3 [http]=3 [admin]=3
  # 4: wiring: builds every module and connects them through their ops structs
  [server]=4 [main]=4
)

graph_only=0
if [ "${1:-}" = --graph ]; then graph_only=1; shift; fi
objdir=${1:?usage: tests/arch/layers.sh [--graph] OBJDIR}
shopt -s nullglob
objs=("$objdir"/*.c.o)
[ ${#objs[@]} -gt 0 ] || { echo "layers: no objects in $objdir" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# One nm per kind over every object: "path/x.c.o: ... SYMBOL" lines, reduced to "SYMBOL x".
nm -A --defined-only -g "${objs[@]}" | awk '{f = $1; sub(/\.c\.o:.*/, "", f); sub(/.*\//, "", f); print $NF, f}' >"$tmp/defs"
nm -A --undefined-only "${objs[@]}" | awk '{f = $1; sub(/\.c\.o:.*/, "", f); sub(/.*\//, "", f); print $NF, f}' >"$tmp/uses"
# symbol -> defining file, joined with symbol -> using file: "user definer" pairs
sort -k1,1 "$tmp/defs" >"$tmp/defs.s"
sort -k1,1 "$tmp/uses" >"$tmp/uses.s"
join "$tmp/uses.s" "$tmp/defs.s" | awk '$2 != $3 {print $2, $3}' | sort -u >"$tmp/edges"

if [ "$graph_only" = 1 ]; then
  cat "$tmp/edges"
  exit 0
fi

status=0
for o in "${objs[@]}"; do
  f=$(basename "$o" .c.o)
  if [ -z "${LAYER[$f]+x}" ]; then
    echo "layers: bridge/$f.c has no layer: add it to LAYER in tests/arch/layers.sh and docs/architecture.md"
    status=1
  fi
done
while read -r a b; do
  la=${LAYER[$a]:-}
  lb=${LAYER[$b]:-}
  if [ -n "$la" ] && [ -n "$lb" ] && [ "$lb" -gt "$la" ]; then
    echo "layers: bridge/$a.c (layer $la) calls bridge/$b.c (layer $lb): a lower layer may not know a higher one"
    status=1
  fi
done <"$tmp/edges"

# Depth-first search for a cycle; prints the first one found.
awk '
  { adj[$1] = adj[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
  function visit(n,    k, m, parts, i, j) {
    color[n] = 1; stack[++depth] = n
    k = split(adj[n], parts, " ")
    for (i = 1; i <= k; i++) {
      m = parts[i]
      if (color[m] == 1) {
        for (j = 1; j <= depth; j++) if (stack[j] == m) start = j
        out = ""
        for (j = start; j <= depth; j++) out = out stack[j] ".c -> "
        print "layers: cycle: " out m ".c"
        found = 1
        return 1
      }
      if (!color[m] && visit(m)) return 1
    }
    color[n] = 2; depth--
    return 0
  }
  END {
    for (n in nodes) if (!color[n] && visit(n)) break
    exit found ? 1 : 0
  }' "$tmp/edges" || status=1

if [ "$status" = 0 ]; then
  echo "layers: $(wc -l <"$tmp/edges") call edges among ${#objs[@]} files, no cycle, none going up a layer"
fi
exit $status
