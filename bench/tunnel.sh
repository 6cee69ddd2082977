#!/bin/sh
# bench/tunnel.sh [BUILD_DIR] — the tunnel measured against direct, in one run, on loopback,
# once per transport built (TLS over TCP, QUIC): the transport's handshake (median of 200
# `proxyd --probe` dials), single-stream iperf3 throughput each way with CPU seconds per GiB
# on each proxyd, and the RSS of server and agent idle and while 1000 streams are open.
# BENCH_TRANSPORTS="tcp quic" chooses which.
# Needs iperf3 and python3 (scripts/install-deps.sh --bench). Not part of `make check`:
# numbers on a shared 2-core machine vary run to run; compare within one run.
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
PROXYD=$top_builddir/proxyd
PROXYCTL=$top_builddir/proxyctl
FIXTURE_DIR=$top_builddir/tests/fixtures/.libs
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
export top_srcdir top_builddir PROXYD PROXYCTL FIXTURE_DIR
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
require_cmd iperf3

# Open file descriptors: 1000 streams need ~1000 sockets in each process and the client.
ulimit -n 8192 2>/dev/null || true

make_pki
start_echo_service
start_bg "$TMP/iperf-server.log" iperf3 -s -p "$LOCAL_BULK_PORT"

cpu_ticks() { # utime+stime of a pid, in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat"
}
HZ=$(getconf CLK_TCK)

# iperf_run PORT [-R]: prints "Gbit/s GiB" of what the receiver got.
iperf_run() {
	iperf3 -c 127.0.0.1 -p "$1" -t "$SECONDS_PER_RUN" ${2:-} -J >"$TMP/iperf.json" 2>&1 || {
		echo "0 0"
		return
	}
	python3 - "$TMP/iperf.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["end"]["sum_received"]
print("%.2f %.3f" % (r["bits_per_second"] / 1e9, r["bytes"] / 2**30))
PY
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait_exit 10 "$1" || kill -KILL "$1" 2>/dev/null
}

echo "== single stream, iperf3 ${SECONDS_PER_RUN}s each, direct (same run)"
printf '%-28s %10s %10s %16s %16s\n' path Gbit/s MB/s "server cpu s/GiB" "agent cpu s/GiB"
for dir in upload download; do
	flag=
	[ $dir = download ] && flag=-R
	set -- $(iperf_run "$LOCAL_BULK_PORT" $flag)
	eval "direct_$dir=$1"
	printf '%-28s %10s %10.0f %16s %16s\n' "direct $dir" "$1" "$(echo "$1 * 1000 / 8" | bc -l)" - -
done

for TRANSPORT in ${BENCH_TRANSPORTS:-tcp quic}; do
	if ! ls "$top_builddir/plugins/transport-$TRANSPORT/.libs/"*.so >/dev/null 2>&1; then
		echo
		echo "== $TRANSPORT: transport-$TRANSPORT is not built; skipped"
		continue
	fi
	PLUGIN_DIRS="--plugin-dir $top_builddir/plugins/transport-$TRANSPORT/.libs"
	write_server_conf
	sed -i 's/level = "debug"/level = "info"/' "$TMP/server.conf"
	write_agent_conf agent-1
	sed -i 's/level = "debug"/level = "info"/' "$TMP/agent-agent-1.conf"
	start_server
	echo
	echo "== $TRANSPORT: handshake, 200 dials one after another (proxyd --probe=200)"
	"$PROXYD" --probe=200 -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS >"$TMP/probe.txt" 2>&1 ||
		echo "probe failed: $(tail -3 "$TMP/probe.txt")"
	tail -1 "$TMP/probe.txt"
	start_proxyd "$TMP/agent-agent-1.log" -f -c "$TMP/agent-agent-1.conf" $PLUGIN_DIRS
	AGENT_PID=$PROXYD_PID
	wait_for 15 eval "'$PROXYCTL' status --json -s '$TMP/server.sock' 2>/dev/null | grep -q agent-1" ||
		fail "agent registered" "agent-1 in status" "$(cat "$TMP/server.log" "$TMP/agent-agent-1.log")"
	sleep 0.5
	echo "== $TRANSPORT: single stream through the tunnel"
	for dir in upload download; do
		flag=
		[ $dir = download ] && flag=-R
		s0=$(cpu_ticks "$SERVER_PID") a0=$(cpu_ticks "$AGENT_PID")
		set -- $(iperf_run "$BULK_PORT" $flag)
		s1=$(cpu_ticks "$SERVER_PID") a1=$(cpu_ticks "$AGENT_PID")
		sc=$(echo "($s1 - $s0) / $HZ / ($2 + 0.000001)" | bc -l)
		ac=$(echo "($a1 - $a0) / $HZ / ($2 + 0.000001)" | bc -l)
		eval "direct=\$direct_$dir"
		printf '%-28s %10s %10.0f %16.2f %16.2f   (%.2fx direct)\n' "$TRANSPORT tunnel $dir" "$1" \
			"$(echo "$1 * 1000 / 8" | bc -l)" "$sc" "$ac" "$(echo "$1 / $direct" | bc -l)"
	done
	echo "== $TRANSPORT: memory"
	echo "idle: server $(rss_kb "$SERVER_PID") kB, agent $(rss_kb "$AGENT_PID") kB"
	python3 - "$ECHO_PORT" "$SERVER_PID" "$AGENT_PID" <<'PY'
import socket, sys, time
port, spid, apid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def rss(pid):
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
base = (rss(spid), rss(apid))
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"x")
    socks.append(s)
for s in socks:
    if s.recv(1) != b"x":
        sys.exit("stream did not echo")
time.sleep(0.5)
now = (rss(spid), rss(apid))
print("1000 open streams: server %d kB, agent %d kB (+%.1f kB per stream across both)" % (
    now[0], now[1], (now[0] + now[1] - base[0] - base[1]) / 1000.0))
for s in socks:
    s.close()
PY
	stop_pid "$AGENT_PID"
	stop_pid "$SERVER_PID"
done
exit 0
