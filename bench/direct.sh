#!/bin/sh
# bench/direct.sh [BUILD_DIR] — agent-to-agent paths measured in the NAT lab (network
# namespaces, tests/nat_lib.sh; root): time to a direct path (median of 20 attempts, each a
# fresh consumer agent), and throughput (iperf3, one stream each way) and RTT (proxyctl ping)
# over the direct path against the relay, with the lab's own path (a -> pub, no proxyd) as the
# reference. Needs iperf3 (scripts/install-deps.sh --bench). Not part of `make check`: numbers
# on a shared machine vary; compare within one run.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
PROXYD=$top_builddir/proxyd
PROXYCTL=$top_builddir/proxyctl
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
ATTEMPTS=${BENCH_ATTEMPTS:-20}
FIXTURE_DIR=$top_builddir/tests/fixtures/.libs
export top_srcdir top_builddir PROXYD PROXYCTL FIXTURE_DIR
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/nat_lib.sh"
. "$top_srcdir/tests/peer_nat_lib.sh"
require_cmd iperf3
nat_require

pn_setup cone cone
# agent-1 also serves iperf3; agent-2 reaches it twice: preferring the direct path, and
# through the relay only (direct = false).
_pn_agent_conf agent-1 "$NAT_PUB:3478" 'services = ( { name = "echo"; address = "127.0.0.1:7001"; },
               { name = "iperf"; address = "127.0.0.1:7003"; } );
  allow = ( { from = "agent-2"; } );'
_pn_agent_conf agent-2 "$NAT_PUB:3478" 'connect = ( { agent = "agent-1"; service = "echo"; listen = "127.0.0.1:7101"; },
              { agent = "agent-1"; service = "iperf"; listen = "127.0.0.1:7104"; },
              { agent = "agent-1"; service = "iperf"; listen = "127.0.0.1:7105"; direct = false; } );'
sed -i 's/level = "debug"/level = "info"/' "$TMP"/*.conf
nat_start_bg "$TMP/iperf-b.log" b iperf3 -s -p 7003
nat_start_bg "$TMP/iperf-pub.log" pub iperf3 -s -B "$NAT_PUB" -p 5201
pn_start
pn_wait_direct 10

# iperf_run PORT HOST [-R]: "Gbit/s" the receiver got, one stream, from namespace a.
iperf_run() {
	in_a iperf3 -c "$2" -p "$1" -t "$SECONDS_PER_RUN" ${3:-} -J >"$TMP/iperf.json" 2>&1 || {
		echo "0"
		return
	}
	"$NAT_PYTHON" - "$TMP/iperf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["end"]["sum_received"]
print("%.2f" % (r["bits_per_second"] / 1e9))
PY
}

# ping_avg VIA: "min avg" ms of 20 proxyctl pings over that path.
ping_avg() {
	pn_ctl 2 ping -c 20 --via "$1" --json agent-1 >"$TMP/ping.json" 2>&1 || {
		echo "- -"
		return
	}
	"$NAT_PYTHON" - "$TMP/ping.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%.3f %.3f" % (r["min_ms"], r["avg_ms"]))
PY
}

echo "== throughput, one stream, $SECONDS_PER_RUN s each (Gbit/s)"
lab_up=$(iperf_run 5201 "$NAT_PUB")
lab_down=$(iperf_run 5201 "$NAT_PUB" -R)
direct_up=$(iperf_run 7104 127.0.0.1)
direct_down=$(iperf_run 7104 127.0.0.1 -R)
relay_up=$(iperf_run 7105 127.0.0.1)
relay_down=$(iperf_run 7105 127.0.0.1 -R)
printf '%-34s %8s %8s\n' "" up down
printf '%-34s %8s %8s\n' "lab path a -> pub (no proxyd)" "$lab_up" "$lab_down"
printf '%-34s %8s %8s\n' "direct path (QUIC over punched UDP)" "$direct_up" "$direct_down"
printf '%-34s %8s %8s\n' "relay (TLS to the server and back)" "$relay_up" "$relay_down"
awk -v d="$direct_up" -v r="$relay_up" -v dd="$direct_down" -v rd="$relay_down" \
	'BEGIN { if (r > 0 && rd > 0) printf "direct / relay: up %.2fx, down %.2fx\n", d / r, dd / rd }'

echo "== round trip, 20 pings (ms)"
lab_rtt=$(in_a ping -c 20 -i 0.05 -q "$NAT_PUB" 2>/dev/null | sed -n 's|.*= \([0-9.]*\)/\([0-9.]*\)/.*|\1 \2|p')
[ -n "$lab_rtt" ] || lab_rtt="- -" # no ping (iputils-ping)
printf '%-34s %8s %8s\n' "" min avg
printf '%-34s %8s %8s\n' "ICMP a -> pub (no proxyd)" $lab_rtt
printf '%-34s %8s %8s\n' "proxyctl ping, direct" $(ping_avg direct)
printf '%-34s %8s %8s\n' "proxyctl ping, relay" $(ping_avg relay)

echo "== time to a direct path, $ATTEMPTS attempts (a new consumer agent each)"
: >"$TMP/took.txt"
i=0
while [ $i -lt "$ATTEMPTS" ]; do
	kill -TERM "$AGENT2_PID" 2>/dev/null
	wait_exit 10 "$AGENT2_PID" || kill -KILL "$AGENT2_PID" 2>/dev/null
	t0=$(date +%s%N)
	nat_start_bg "$TMP/agent-2.log" a "$PROXYD" -f -c "$TMP/agent-2.conf" $PN_PLUGINS
	AGENT2_PID=$BG_PID
	if wait_for 15 grep -q "direct path to agent-1 is up" "$TMP/agent-2.log"; then
		t1=$(date +%s%N)
		ms=$(sed -n 's/.*direct path to agent-1 is up after \([0-9]*\) ms.*/\1/p' "$TMP/agent-2.log" | head -1)
		echo "$ms $(((t1 - t0) / 1000000))" >>"$TMP/took.txt"
	else
		echo "fail fail" >>"$TMP/took.txt"
	fi
	i=$((i + 1))
done
"$NAT_PYTHON" - "$TMP/took.txt" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ok = [(int(a), int(b)) for a, b in rows if a != "fail"]
print("succeeded: %d of %d" % (len(ok), len(rows)))
if ok:
    att = sorted(a for a, _ in ok)
    wall = sorted(b for _, b in ok)
    print("attempt (gather, rendezvous, punch, QUIC): median %d ms, min %d, max %d" % (statistics.median(att), att[0], att[-1]))
    print("from agent start (incl. its TLS session):  median %d ms, min %d, max %d" % (statistics.median(wall), wall[0], wall[-1]))
PY
exit 0
