#!/bin/sh
# bench/compare.sh [BUILD_DIR] — proxyd against its peers, in one run, with the same load, on
# loopback (`make bench` runs it from the build directory). Four paths to the same backends
# (nginx serving a static 100-byte file and a 10 MiB file, access_log off; iperf3 -s):
#
#   direct    the client talks to the backend itself
#   haproxy   haproxy (Debian's 2.6), no tunnel: http mode with keep-alive to nginx; tcp
#             mode to iperf3
#   ssh       `ssh -R` through a throwaway sshd on a spare loopback port (own config, host
#             key and user key in the temporary directory; cipher aes128-gcm)
#   proxyd    a proxyd server and agent joined by the TLS 1.3 tunnel (mTLS certificates from
#             proxyctl pki). HTTP (wrk, curl) enters at the server's HTTP edge (`http`
#             section, router "path" with default_agent) and leaves the agent for its
#             service `url = "http://127.0.0.1:NGINX"`; iperf3, not being HTTP, goes through
#             the raw TCP edge (`tcp = ( ... )`). Log level "warn" on both.
#
# Measured per path: wrk -t2 -c50 --latency (req/s, p50, p99, and the proxy processes' CPU
# time per request from /proc/PID/stat), three 10 MiB curl downloads (MB/s), iperf3 single
# stream each way (Gbit/s), and the proxy processes' RSS idle and with wrk -c1000 running
# (per connection = (RSS at c1000 - idle) / 1000). Rounds are interleaved across the paths
# so that drift on a busy machine hits them all alike; each figure is the median of its
# rounds. Prints markdown tables (each figure also as a ratio to direct) and a verdict per
# target of the issue, and writes them to BUILD_DIR/bench-results.md.
#
# Environment (defaults take about 4-5 minutes on 2 cores):
#   BENCH_SECONDS        wrk -c50 run, s (5)          BENCH_ROUNDS        rounds (3)
#   BENCH_IPERF_SECONDS  iperf3 each way, s (3)       BENCH_C1000_SECONDS wrk -c1000 run, s (5)
#   BENCH_PATHS          "direct haproxy ssh proxyd proxyd-quic" (proxyd-quic: the same
#                        proxyd with QUIC between agent and server; left out when
#                        transport-quic is not built)
#   BENCH_MAX_OTHER      a measurement during which processes outside this run used this % of
#                        the machine or more is taken again (10), at most BENCH_RETRIES
#                        attempts in all (2); before each, wait up to BENCH_SETTLE_MAX s (5)
#                        for a quiet second. Waiting and repeating stop once they have cost
#                        BENCH_EXTRA s in all (45), so a busy machine cannot stretch the run.
#   BENCH_PROFILE=1      afterwards, profile proxyd under wrk -c50: `strace -c -f` and
#                        `perf record -g` on the server and on the agent; summaries in
#                        BUILD_DIR/bench-profile/ (adds about 30 s; needs perf, from
#                        Debian's linux-perf, and strace).
# Needs scripts/install-deps.sh --bench, and root for the ssh path (sshd; it logs in as the
# user running the bench; without root that path is left out). Not part of `make check`: on a
# shared machine the numbers move run to run, so compare paths within one run, by ratios.
# Lists of pids are split on purpose; ulimit -n is in every sh this runs on (dash, bash).
# shellcheck disable=SC2086,SC2046,SC3045,SC1091
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
PROXYD=$top_builddir/proxyd
PROXYCTL=$top_builddir/proxyctl
FIXTURE_DIR=$top_builddir/tests/fixtures/.libs
export top_srcdir top_builddir PROXYD PROXYCTL FIXTURE_DIR
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_IPERF_SECONDS=${BENCH_IPERF_SECONDS:-3}
BENCH_C1000_SECONDS=${BENCH_C1000_SECONDS:-5}
PATHS=${BENCH_PATHS:-direct haproxy ssh proxyd proxyd-quic}
BENCH_MAX_OTHER=${BENCH_MAX_OTHER:-10}
BENCH_RETRIES=${BENCH_RETRIES:-2}
BENCH_SETTLE_MAX=${BENCH_SETTLE_MAX:-5}
BENCH_EXTRA=${BENCH_EXTRA:-45}
BENCH_PROFILE=${BENCH_PROFILE:-}
RESULTS=$top_builddir/bench-results.md
PROFILE_DIR=$top_builddir/bench-profile
PATH=$PATH:/usr/sbin:/sbin
export PATH
START_S=$(date +%s)

. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

for c in wrk iperf3 nginx haproxy ssh ssh-keygen curl python3 ps ss; do
	command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (scripts/install-deps.sh --bench)"
done
[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd is not installed (scripts/install-deps.sh --bench)"
[ -x "$PROXYCTL" ] || fail "proxyctl is built" "an executable $PROXYCTL"
for _pl in transport-tcp router-path; do
	[ -e "$top_builddir/plugins/$_pl/.libs/$_pl.so" ] || skip "the $_pl plugin is not built in $top_builddir"
done
PLUGIN_DIRS="--plugin-dir $top_builddir/plugins/transport-tcp/.libs --plugin-dir $top_builddir/plugins/router-path/.libs"
if [ -e "$top_builddir/plugins/transport-quic/.libs/transport-quic.so" ]; then
	PLUGIN_DIRS="$PLUGIN_DIRS --plugin-dir $top_builddir/plugins/transport-quic/.libs"
else
	PATHS=$(echo " $PATHS " | sed 's/ proxyd-quic / /;s/^ *//;s/ *$//')
fi
if [ -n "$BENCH_PROFILE" ]; then
	for c in perf strace; do
		command -v "$c" >/dev/null 2>&1 || fail "BENCH_PROFILE=1 needs $c" "$c on PATH"
	done
fi

# 1000 connections through a proxy are 2000+ descriptors in it and 1000 in wrk and nginx:
# every process started below inherits this.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

# ---- ports: tests/lib.sh's free_port, never the same one twice ----
USED_PORTS=" $SERVER_PORT $ECHO_PORT $BULK_PORT $LOCAL_ECHO_PORT $LOCAL_BULK_PORT "
NGINX_PORT=$LOCAL_ECHO_PORT
IPERF_PORT=$LOCAL_BULK_PORT
PROXYD_TCP_PORT=$BULK_PORT
pick_port() { # VAR: a free port that no other variable here holds
	while :; do
		_np=$(free_port)
		case $USED_PORTS in *" $_np "*) continue ;; esac
		USED_PORTS="$USED_PORTS$_np "
		eval "$1=$_np"
		return
	done
}
pick_port PROXYD_HTTP_PORT
pick_port HAP_HTTP_PORT
pick_port HAP_TCP_PORT
pick_port SSHD_PORT
pick_port SSH_HTTP_PORT
pick_port SSH_TCP_PORT
pick_port QUIC_SERVER_PORT
pick_port QUIC_HTTP_PORT
pick_port QUIC_TCP_PORT

listening() { # PORT: something listens on 127.0.0.1:PORT
	ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

# wait_listening SECONDS PORT WHAT LOG
wait_listening() {
	wait_for "$1" listening "$2" || fail "$3 listens on port $2" "a listener within $1 s" "$(cat "$4" 2>/dev/null)"
}

# run_tracked CMD...: run CMD (redirections apply) as a tracked child and wait for it: if the
# script is stopped meanwhile, the exit trap stops CMD too. Sets RC.
run_tracked() {
	run_bg "$@" &
	_rt=$!
	track_pid $_rt
	wait $_rt
	RC=$?
	forget_pid $_rt
}

# descendants PID: every process below PID, now.
descendants() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p
				for (hops = 0; q != "" && q != 0 && hops < 64; hops++) {
					q = parent[q]
					if (q == root) { print p; break }
				}
			}
		}'
}

# ---- the backends ----
step "backends: nginx on $NGINX_PORT, iperf3 on $IPERF_PORT"
mkdir -p "$TMP/www" "$TMP/nginx"
printf '%099d\n' 0 >"$TMP/www/100b"
head -c 10485760 /dev/urandom >"$TMP/www/10m"
nginx_user=
[ "$(id -u)" -eq 0 ] && nginx_user="user root;"
cat >"$TMP/nginx.conf" <<EOF
daemon off;
$nginx_user
worker_processes auto;
worker_rlimit_nofile 8192;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
  }
}
EOF
start_bg "$TMP/nginx.log" nginx -e "$TMP/nginx-error.log" -p "$TMP/nginx/" -c "$TMP/nginx.conf"
wait_listening 10 "$NGINX_PORT" nginx "$TMP/nginx-error.log"
start_bg "$TMP/iperf-server.log" iperf3 -s -p "$IPERF_PORT"
wait_listening 10 "$IPERF_PORT" "iperf3 -s" "$TMP/iperf-server.log"

# ---- haproxy ----
case " $PATHS " in *" haproxy "*)
	step "haproxy on $HAP_HTTP_PORT (http) and $HAP_TCP_PORT (tcp)"
	cat >"$TMP/haproxy.cfg" <<EOF
global
  maxconn 3000
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend web
  mode http
  option http-keep-alive
  bind 127.0.0.1:$HAP_HTTP_PORT
  default_backend nginx
backend nginx
  mode http
  server nginx 127.0.0.1:$NGINX_PORT
listen iperf
  mode tcp
  bind 127.0.0.1:$HAP_TCP_PORT
  server iperf 127.0.0.1:$IPERF_PORT
EOF
	start_bg "$TMP/haproxy.log" haproxy -db -f "$TMP/haproxy.cfg"
	HAP_PID=$BG_PID
	wait_listening 10 "$HAP_HTTP_PORT" haproxy "$TMP/haproxy.log"
	;;
esac

# ---- sshd and ssh -R ----
if [ "$(id -u)" -ne 0 ]; then
	case " $PATHS " in *" ssh "*)
		echo "note: the ssh path needs root (sshd; /run/sshd): left out"
		PATHS=$(echo " $PATHS " | sed 's/ ssh / /;s/^ *//;s/ *$//')
		;;
	esac
fi
case " $PATHS " in *" ssh "*)
	step "sshd on $SSHD_PORT; ssh -R $SSH_HTTP_PORT and $SSH_TCP_PORT"
	mkdir -p /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/ssh_host_ed25519_key" || fail "ssh-keygen (host key)"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/id_ed25519" || fail "ssh-keygen (user key)"
	cp "$TMP/id_ed25519.pub" "$TMP/authorized_keys"
	cat >"$TMP/sshd_config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $TMP/ssh_host_ed25519_key
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding yes
X11Forwarding no
PrintMotd no
EOF
	start_bg "$TMP/sshd.log" /usr/sbin/sshd -D -e -f "$TMP/sshd_config"
	SSHD_PID=$BG_PID
	wait_listening 10 "$SSHD_PORT" sshd "$TMP/sshd.log"
	start_bg "$TMP/ssh.log" ssh -N -F /dev/null \
		-R "$SSH_HTTP_PORT:127.0.0.1:$NGINX_PORT" -R "$SSH_TCP_PORT:127.0.0.1:$IPERF_PORT" \
		-p "$SSHD_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile="$TMP/known_hosts" \
		-o BatchMode=yes -o ExitOnForwardFailure=yes -c aes128-gcm@openssh.com \
		-i "$TMP/id_ed25519" "$(id -un)@127.0.0.1"
	SSH_PID=$BG_PID
	wait_listening 15 "$SSH_HTTP_PORT" "ssh -R" "$TMP/ssh.log"
	wait_listening 5 "$SSH_TCP_PORT" "ssh -R" "$TMP/ssh.log"
	# sshd's session processes (the privileged monitor and the child that runs the session)
	# exist because of us: stopped on exit too.
	SSHD_SESSION_PIDS=$(descendants "$SSHD_PID" | tr '\n' ' ')
	[ -n "$SSHD_SESSION_PIDS" ] || fail "sshd session processes" "children of sshd $SSHD_PID" "$(ps -ef)"
	for p in $SSHD_SESSION_PIDS; do track_pid "$p"; done
	;;
esac

# ---- proxyd server and agent: one pair per transport (proxyd: TLS over TCP; proxyd-quic) ----
# start_proxyd_pair NAME TRANSPORT SERVER_PORT HTTP_PORT TCP_PORT: sets NAME_SERVER_PID and
# NAME_AGENT_PID (NAME with - as _).
start_proxyd_pair() {
	_pair=$(echo "$1" | tr - _) _t=$2 _sp=$3 _hp=$4 _tp=$5
	step "$1: server on $_sp ($_t), HTTP edge $_hp (nginx), TCP edge $_tp (iperf3)"
	cat >"$TMP/server-$1.conf" <<EOF
log = { level = "warn"; };
drain_timeout = 2;
server = {
  listen = ( { transport = "$_t"; address = "127.0.0.1:$_sp";
               cert = "pki/localhost.crt"; key = "pki/localhost.key"; client_ca = "pki/ca.crt"; } );
};
http = {
  listen = ( { address = "127.0.0.1:$_hp"; } );
  routes = ( { router = "path"; default_agent = "agent-1"; } );
};
tcp = ( { listen = "127.0.0.1:$_tp"; agent = "agent-1"; service = "iperf"; } );
EOF
	cat >"$TMP/agent-$1.conf" <<EOF
log = { level = "warn"; };
drain_timeout = 2;
agent = {
  id = "agent-1";
  servers = ( { transport = "$_t"; address = "127.0.0.1:$_sp"; server_name = "localhost";
                ca = "pki/ca.crt"; cert = "pki/agent-1.crt"; key = "pki/agent-1.key"; } );
  services = ( { name = "web"; url = "http://127.0.0.1:$NGINX_PORT"; default = true; },
               { name = "iperf"; address = "127.0.0.1:$IPERF_PORT"; } );
};
EOF
	for f in server agent; do
		run_proxyd "$TMP/check.out" "$TMP/check.err" -t -c "$TMP/$f-$1.conf" $PLUGIN_DIRS
		assert_exit "proxyd -t accepts the bench's $f-$1.conf" 0 "$RC" "$TMP/$f-$1.conf" "$TMP/check.out" "$TMP/check.err"
	done
	start_proxyd "$TMP/server-$1.log" -f -c "$TMP/server-$1.conf" $PLUGIN_DIRS
	eval "${_pair}_SERVER_PID=$PROXYD_PID"
	wait_listening 10 "$_hp" "proxyd's HTTP edge" "$TMP/server-$1.log"
	start_proxyd "$TMP/agent-$1.log" -f -c "$TMP/agent-$1.conf" $PLUGIN_DIRS
	eval "${_pair}_AGENT_PID=$PROXYD_PID"
	# registered once a request goes all the way through
	wait_for 15 eval "curl -sf --max-time 2 -o /dev/null http://127.0.0.1:$_hp/100b" ||
		fail "a request through $1's HTTP edge" "200 within 15 s" "$(cat "$TMP/server-$1.log" "$TMP/agent-$1.log")"
}
case " $PATHS " in *" proxyd"*) make_pki ;; esac
case " $PATHS " in *" proxyd "*)
	start_proxyd_pair proxyd tcp "$SERVER_PORT" "$PROXYD_HTTP_PORT" "$PROXYD_TCP_PORT"
	SERVER_PID=$proxyd_SERVER_PID AGENT_PID=$proxyd_AGENT_PID
	;;
esac
case " $PATHS " in *" proxyd-quic "*)
	start_proxyd_pair proxyd-quic quic "$QUIC_SERVER_PORT" "$QUIC_HTTP_PORT" "$QUIC_TCP_PORT"
	;;
esac

# ---- what each path is ----
http_port() {
	case $1 in
	direct) echo "$NGINX_PORT" ;;
	haproxy) echo "$HAP_HTTP_PORT" ;;
	ssh) echo "$SSH_HTTP_PORT" ;;
	proxyd) echo "$PROXYD_HTTP_PORT" ;;
	proxyd-quic) echo "$QUIC_HTTP_PORT" ;;
	esac
}
tcp_port() {
	case $1 in
	direct) echo "$IPERF_PORT" ;;
	haproxy) echo "$HAP_TCP_PORT" ;;
	ssh) echo "$SSH_TCP_PORT" ;;
	proxyd) echo "$PROXYD_TCP_PORT" ;;
	proxyd-quic) echo "$QUIC_TCP_PORT" ;;
	esac
}
# proxy_pids PATH: the processes that do the proxying (none for direct).
proxy_pids() {
	case $1 in
	direct) ;;
	haproxy) echo "$HAP_PID" ;;
	ssh) echo "$SSH_PID $SSHD_SESSION_PIDS" ;;
	proxyd) echo "$SERVER_PID $AGENT_PID" ;;
	proxyd-quic) echo "$proxyd_quic_SERVER_PID $proxyd_quic_AGENT_PID" ;;
	esac
}
cpu_ticks() { # PID...: utime+stime summed, in clock ticks
	_t=0
	for _p in "$@"; do
		_t=$((_t + $(sed 's/^.*) //' "/proc/$_p/stat" 2>/dev/null | awk '{print $12 + $13} END {if (!NR) print 0}')))
	done
	echo $_t
}
rss_sum() { # PID...: VmRSS summed, KiB
	_r=0
	for _p in "$@"; do
		_r=$((_r + $(rss_kb "$_p" 2>/dev/null || echo 0)))
	done
	echo $_r
}
# sample PATH METRIC VALUE: one figure of the measurement under way (see guarded).
sample() {
	echo "$1 $2 $3" >>"$TMP/pending"
}
: >"$TMP/samples"
: >"$TMP/pending"

# Other work on the machine skews every figure. A sampler adds up, twice a second, the CPU
# time of every process that is not this script or below it (kernel threads aside):
# utime+stime+cutime+cstime, so a short-lived process still counts once its parent reaps it.
# It also keeps the total per command name, for the report's "what shared the machine".
cat >"$TMP/other_cpu.py" <<'PY'
import os, sys, time
root, out = int(sys.argv[1]), sys.argv[2]
hz = os.sysconf("SC_CLK_TCK")
def snapshot():  # pid -> (ppid, own ticks, reaped children's ticks, comm)
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            s = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        head, _, tail = s.rpartition(")")
        f = tail.split()
        procs[int(d)] = (int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]),
                         head.partition("(")[2])
    return procs
def mine(pid, procs):
    while pid > 2:
        if pid == root:
            return True
        pid = procs.get(pid, (0,))[0]
    return pid == 2  # kernel threads are nobody's work in particular
prev, total, start, by_comm = snapshot(), 0, time.time(), {}
while True:
    time.sleep(0.5)
    now = snapshot()
    # A child reaped since the last look moved its ticks into its parent's cutime: count
    # only what was not already counted while it was visible (its parent may be gone too:
    # the ticks land in the nearest ancestor still here).
    gone = {}
    for pid, (ppid, own, kids, comm) in prev.items():
        if pid not in now:
            while ppid in prev and ppid not in now:
                ppid = prev[ppid][0]
            gone[ppid] = gone.get(ppid, 0) + own + kids
    for pid, (ppid, own, kids, comm) in now.items():
        if mine(pid, now):
            continue
        p = prev.get(pid, (ppid, 0, kids, comm))
        d = max(0, own - p[1]) + max(0, kids - p[2] - gone.get(pid, 0))
        total += d
        if d:
            by_comm[comm] = by_comm.get(comm, 0) + d
    prev = now
    top = sorted(by_comm.items(), key=lambda kv: -kv[1])[:6]
    with open(out + ".tmp", "w") as f:
        f.write("%.1f %.1f %s\n" % (total / hz, time.time() - start,
                ",".join("%s:%.0f" % (c.replace(" ", "_").replace(",", "_"), t / hz) for c, t in top)))
    os.replace(out + ".tmp", out)
PY
start_bg "$TMP/other_cpu.log" python3 "$TMP/other_cpu.py" $$ "$TMP/other_cpu"
OTHER_CPU_PID=$BG_PID

# other_cpu: CPU-seconds used so far by processes that are not this run's.
other_cpu() {
	cut -d' ' -f1 "$TMP/other_cpu" 2>/dev/null || echo 0
}
now_s() {
	date +%s.%N
}
# Seconds spent waiting for quiet and on measurements thrown away, against BENCH_EXTRA.
EXTRA_SPENT=0
over_budget() {
	[ "$EXTRA_SPENT" -ge "$BENCH_EXTRA" ]
}
# other_pct CPU0 T0: percent of the machine others used since (CPU0, T0).
other_pct() {
	awk -v c0="$1" -v c1="$(other_cpu)" -v t0="$2" -v t1="$(now_s)" -v n="$NCPU" \
		'BEGIN { d = t1 - t0; if (d <= 0) d = 1; printf "%.1f", 100 * (c1 - c0) / d / n }'
}
below_max() { # PCT
	awk -v p="$1" -v m="$BENCH_MAX_OTHER" 'BEGIN { exit !(p < m) }'
}
# settle: wait (at most BENCH_SETTLE_MAX s, not at all once over budget) for one second in
# which others used under BENCH_MAX_OTHER % of the machine.
settle() {
	over_budget && return 0
	_s0=$(date +%s)
	_end=$((_s0 + BENCH_SETTLE_MAX))
	while [ "$(date +%s)" -lt $_end ]; do
		_c0=$(other_cpu) _t0=$(now_s)
		sleep 1.1 # the sampler looks twice a second
		if below_max "$(other_pct "$_c0" "$_t0")"; then
			# the first quiet second is part of every measurement's cost, not extra
			EXTRA_SPENT=$((EXTRA_SPENT + $(date +%s) - _s0 - 1))
			return 0
		fi
	done
	EXTRA_SPENT=$((EXTRA_SPENT + $(date +%s) - _s0))
	SETTLE_TIMEOUTS=$((SETTLE_TIMEOUTS + 1))
}
# guarded CMD...: run a measurement that records its figures with sample(); if other
# processes used BENCH_MAX_OTHER % of the machine or more meanwhile, drop them and measure
# again (BENCH_RETRIES attempts at most, none once over budget; the last attempt is kept
# whatever happened, and the report says how loaded the machine was).
REPEATED=0 SETTLE_TIMEOUTS=0
guarded() {
	_try=1
	while :; do
		settle
		: >"$TMP/pending"
		_gc0=$(other_cpu) _gt0=$(now_s) _gs0=$(date +%s)
		"$@"
		check_alive
		sleep 0.6
		_gp=$(other_pct "$_gc0" "$_gt0")
		if below_max "$_gp" || [ $_try -ge "$BENCH_RETRIES" ] || over_budget; then
			cat "$TMP/pending" >>"$TMP/samples"
			echo "all other_pct $_gp" >>"$TMP/samples"
			return
		fi
		echo "  (other processes used ${_gp}% of the machine meanwhile: measuring again)"
		EXTRA_SPENT=$((EXTRA_SPENT + $(date +%s) - _gs0))
		REPEATED=$((REPEATED + 1))
		_try=$((_try + 1))
	done
}

# check_alive: every proxy process is still there (a crash is a result, not a figure).
check_alive() {
	for _ap in $PATHS; do
		for _pid in $(proxy_pids "$_ap"); do
			alive "$_pid" || fail "$_ap: process $_pid died during the bench" "alive" \
				"$(tail -n 20 "$TMP"/*.log 2>/dev/null)"
		done
	done
}

# Every path must serve the same bytes before anything is measured.
for p in $PATHS; do
	got=$(curl -sS --max-time 10 "http://127.0.0.1:$(http_port "$p")/100b" 2>&1)
	[ "$got" = "$(cat "$TMP/www/100b")" ] || fail "$p serves the 100-byte file" "$(cat "$TMP/www/100b")" "$got"
	for pid in $(proxy_pids "$p"); do
		alive "$pid" || fail "$p: process $pid is running" "alive" "gone"
	done
done

# parse_wrk FILE: "req/s p50_ms p99_ms requests errors"
parse_wrk() {
	awk '
	function ms(v) {
		n = v + 0
		if (v ~ /us$/) return n / 1000
		if (v ~ /ms$/) return n
		if (v ~ /m$/) return n * 60000
		if (v ~ /s$/) return n * 1000
		return n
	}
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/ requests in / { req = $1 }
	/^Requests\/sec:/ { rps = $2 }
	/Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
	/Non-2xx or 3xx responses:/ { err += $NF }
	END { printf "%s %s %s %s %d\n", rps + 0, p50 + 0, p99 + 0, req + 0, err }' "$1"
}

# wrk_round PATH: one wrk -c50 run, with the proxy's CPU time.
wrk_round() {
	_pids=$(proxy_pids "$1")
	_c0=$(cpu_ticks $_pids)
	run_tracked wrk -t2 -c50 -d"${BENCH_SECONDS}s" --latency "http://127.0.0.1:$(http_port "$1")/100b" >"$TMP/wrk.out" 2>&1
	_c1=$(cpu_ticks $_pids)
	set -- "$1" $(parse_wrk "$TMP/wrk.out")
	sample "$1" rps "$2"
	sample "$1" p50 "$3"
	sample "$1" p99 "$4"
	sample "$1" errors "$6"
	if [ -n "$_pids" ] && [ "$5" -gt 0 ]; then
		sample "$1" cpu_us "$(awk -v t=$((_c1 - _c0)) -v hz="$HZ" -v n="$5" 'BEGIN { printf "%.2f", t / hz * 1e6 / n }')"
	fi
	printf '  %-8s %10.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %s\n' "$1" "$2" "$3" "$4" "$6"
}

# iperf_round PATH [-R]: "Gbit/s GiB" of what the receiving end got.
iperf_round() {
	run_tracked timeout $((BENCH_IPERF_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$(tcp_port "$1")" \
		-t "$BENCH_IPERF_SECONDS" ${2:-} -J >"$TMP/iperf.json" 2>&1
	IPERF_RESULT=$(python3 - "$TMP/iperf.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))["end"]["sum_received"]
    print("%.3f %.4f" % (r["bits_per_second"] / 1e9, r["bytes"] / 2**30))
except Exception:
    print("0 0")
PY
)
}

# bulk_round PATH: three 10 MiB curl downloads, then iperf3 up (to iperf3 -s) and down (-R),
# with the proxy's CPU seconds per GiB carried.
bulk_round() {
	_bp=$1
	_line=
	for _i in 1 2 3; do
		run_tracked curl -sS --max-time 60 -o /dev/null -w '%{speed_download} %{size_download}\n' \
			"http://127.0.0.1:$(http_port "$_bp")/10m" >"$TMP/curl.out" 2>&1
		set -- $(cat "$TMP/curl.out") 0 0
		if [ "$RC" -eq 0 ] && [ "$2" = 10485760 ]; then
			sample "$_bp" curl_MBps "$(awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }')"
			_line="$_line $(awk -v b="$1" 'BEGIN { printf "%.0f", b / 1e6 }')"
		else
			echo "  $_bp: curl download $_i failed: $(cat "$TMP/curl.out")"
			sample "$_bp" curl_fail 1
		fi
	done
	_line="curl 10 MiB:$_line MB/s; iperf3"
	_pids=$(proxy_pids "$_bp")
	for _dir in up down; do
		_flag=
		[ $_dir = down ] && _flag=-R
		_c0=$(cpu_ticks $_pids)
		iperf_round "$_bp" $_flag
		_c1=$(cpu_ticks $_pids)
		set -- $IPERF_RESULT
		sample "$_bp" iperf_$_dir "$1"
		_line="$_line$(printf ' %s %.2f Gbit/s' $_dir "$1")"
		if [ -n "$_pids" ] && awk -v g="$2" 'BEGIN { exit !(g > 0) }'; then
			_spg=$(awk -v t=$((_c1 - _c0)) -v hz="$HZ" -v g="$2" 'BEGIN { printf "%.2f", t / hz / g }')
			sample "$_bp" cpu_s_gib_$_dir "$_spg"
			_line="$_line (proxy CPU $_spg s/GiB)"
		fi
	done
	printf '  %-8s %s\n' "$_bp" "$_line"
}

# c1000 PATH: wrk -c1000 while sampling the proxy's RSS and the open connections.
c1000() {
	_port=$(http_port "$1")
	_pids=$(proxy_pids "$1")
	run_bg wrk -t2 -c1000 -d"${BENCH_C1000_SECONDS}s" --timeout 10s --latency \
		"http://127.0.0.1:$_port/100b" >"$TMP/wrk1000.out" 2>&1 </dev/null &
	WRK_PID=$!
	track_pid $WRK_PID
	wait_exec $WRK_PID
	_max_rss=0 _max_conns=0
	while alive $WRK_PID; do
		sleep 0.5
		if [ -n "$_pids" ]; then
			_rss=$(rss_sum $_pids)
			[ "$_rss" -gt "$_max_rss" ] && _max_rss=$_rss
		fi
		_conns=$(ss -Htn state established "sport = :$_port" 2>/dev/null | wc -l)
		[ "$_conns" -gt "$_max_conns" ] && _max_conns=$_conns
	done
	wait $WRK_PID
	forget_pid $WRK_PID
	set -- "$1" $(parse_wrk "$TMP/wrk1000.out")
	sample "$1" rps_1000 "$2"
	sample "$1" p99_1000 "$4"
	sample "$1" errors_1000 "$6"
	sample "$1" conns_1000 "$_max_conns"
	[ -n "$_pids" ] && sample "$1" rss_1000 "$_max_rss"
	printf '  %-8s %d connections open at most, peak RSS %s kB, %.0f req/s, p99 %.1f ms, errors %s\n' \
		"$1" "$_max_conns" "$_max_rss" "$2" "$4" "$6"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
step "warm-up: wrk 2 s through each path (load average before: $LOAD_BEFORE)"
for p in $PATHS; do
	run_tracked wrk -t2 -c50 -d2s "http://127.0.0.1:$(http_port "$p")/100b" >/dev/null 2>&1
done

# ---- 1000 concurrent connections ----
# First, after the warm-up only: what bulk transfers leave in the allocators' free lists
# would otherwise hide what connections cost.
step "wrk -t2 -c1000 -d${BENCH_C1000_SECONDS}s: RSS of the proxy processes, idle and at 1000 connections"
for p in $PATHS; do
	# Idle once, before the first attempt: a repeated attempt would find the first one's
	# memory already in the allocator.
	[ -n "$(proxy_pids "$p")" ] && echo "$p rss_idle $(rss_sum $(proxy_pids "$p"))" >>"$TMP/samples"
	guarded c1000 "$p"
done

r=1
while [ $r -le "$BENCH_ROUNDS" ]; do
	step "round $r/$BENCH_ROUNDS: wrk -t2 -c50 -d${BENCH_SECONDS}s --latency ($(($(date +%s) - START_S)) s into the run)"
	for p in $PATHS; do
		guarded wrk_round "$p"
	done
	step "round $r/$BENCH_ROUNDS: curl 10 MiB x3, iperf3 ${BENCH_IPERF_SECONDS}s each way"
	for p in $PATHS; do
		guarded bulk_round "$p"
	done
	r=$((r + 1))
done

# ---- optional: where proxyd's time goes ----
# strace -c and perf record attach to the server and the agent while wrk -c50 runs. strace
# slows everything several times over: its counts divided by the requests wrk completed
# meanwhile are syscalls per request; its rates are not figures.
if [ -n "$BENCH_PROFILE" ] && case " $PATHS " in *" proxyd "*) true ;; *) false ;; esac; then
	step "profile: strace -c -f and perf record -g on the proxyd server and agent (in $PROFILE_DIR)"
	rm -rf "$PROFILE_DIR" && mkdir -p "$PROFILE_DIR"
	_url=http://127.0.0.1:$PROXYD_HTTP_PORT/100b
	for role in server agent; do
		eval "_pid=\$$(echo $role | tr a-z A-Z)_PID"
		start_bg "$PROFILE_DIR/strace-$role.log" timeout -s INT $((BENCH_SECONDS + 3)) \
			strace -c -f -o "$PROFILE_DIR/strace-$role.txt" -p "$_pid"
		eval "STRACE_${role}_PID=\$BG_PID"
	done
	sleep 1
	run_tracked wrk -t2 -c50 -d"${BENCH_SECONDS}s" "$_url" >"$PROFILE_DIR/wrk-strace.txt" 2>&1
	for _sp in $STRACE_server_PID $STRACE_agent_PID; do
		wait $_sp 2>/dev/null
		forget_pid $_sp
	done
	set -- $(parse_wrk "$PROFILE_DIR/wrk-strace.txt")
	STRACE_REQS=$4
	# the same for a bulk download through the TCP edge: syscalls per MiB
	for role in server agent; do
		eval "_pid=\$$(echo $role | tr a-z A-Z)_PID"
		start_bg "$PROFILE_DIR/strace-bulk-$role.log" timeout -s INT $((BENCH_IPERF_SECONDS + 3)) \
			strace -c -f -o "$PROFILE_DIR/strace-bulk-$role.txt" -p "$_pid"
		eval "STRACE_${role}_PID=\$BG_PID"
	done
	sleep 1
	iperf_round proxyd -R
	for _sp in $STRACE_server_PID $STRACE_agent_PID; do
		wait $_sp 2>/dev/null
		forget_pid $_sp
	done
	set -- $IPERF_RESULT
	STRACE_MIB=$(awk -v g="$2" 'BEGIN { printf "%.1f", g * 1024 }')
	for role in server agent; do
		eval "_pid=\$$(echo $role | tr a-z A-Z)_PID"
		start_bg "$PROFILE_DIR/perf-$role.log" perf record -g -F 999 -o "$PROFILE_DIR/perf-$role.data" \
			-p "$_pid" -- sleep $((BENCH_SECONDS + 1))
		eval "PERF_${role}_PID=\$BG_PID"
	done
	sleep 0.5
	run_tracked wrk -t2 -c50 -d"${BENCH_SECONDS}s" "$_url" >"$PROFILE_DIR/wrk-perf.txt" 2>&1
	for _pp in $PERF_server_PID $PERF_agent_PID; do
		wait $_pp 2>/dev/null
		forget_pid $_pp
	done
	{
		echo "# proxyd under wrk -t2 -c50 through the HTTP edge ($(date -u '+%Y-%m-%d %H:%M UTC'))"
		echo
		for role in server agent; do
			echo "## $role: syscalls per request (strace -c -f; $STRACE_REQS requests)"
			echo
			awk -v n="$STRACE_REQS" '
				/^------/ { dash++; next }
				dash == 1 && NF >= 5 {
					name = $NF; calls = ($4 ~ /^[0-9]+$/) ? $4 : 0
					if (calls) printf "%-20s %10d calls  %6.2f per request\n", name, calls, calls / (n ? n : 1)
				}
				dash == 2 && $NF == "total" { printf "%-20s %10d calls  %6.2f per request\n", "TOTAL", $4, $4 / (n ? n : 1) }
			' "$PROFILE_DIR/strace-$role.txt"
			echo
			echo "## $role: syscalls per MiB, iperf3 -R through the TCP edge (strace -c -f; $STRACE_MIB MiB)"
			echo
			awk -v n="$STRACE_MIB" '
				/^------/ { dash++; next }
				dash == 1 && NF >= 5 {
					name = $NF; calls = ($4 ~ /^[0-9]+$/) ? $4 : 0
					if (calls) printf "%-20s %10d calls  %8.1f per MiB\n", name, calls, calls / (n > 0 ? n : 1)
				}
				dash == 2 && $NF == "total" { printf "%-20s %10d calls  %8.1f per MiB\n", "TOTAL", $4, $4 / (n > 0 ? n : 1) }
			' "$PROFILE_DIR/strace-bulk-$role.txt"
			echo
			echo "## $role: top symbols (perf report --no-children, self time)"
			echo
			perf report -i "$PROFILE_DIR/perf-$role.data" --no-children --stdio -g none \
				--percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | head -30
			echo
			echo "## $role: inclusive time (perf report --children; user-space callers of the kernel time)"
			echo
			perf report -i "$PROFILE_DIR/perf-$role.data" --children --stdio -g none \
				--percent-limit 4 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
			echo
		done
	} >"$PROFILE_DIR/summary.txt"
	echo "  summary: $PROFILE_DIR/summary.txt"
fi

# ---- the report ----
set -- $(cat "$TMP/other_cpu" 2>/dev/null || echo "0 1 -")
OTHER_CPU="$1 CPU-seconds over $2 s of run ($(awk -v c="$1" -v t="$2" -v n="$NCPU" 'BEGIN { printf "%.1f", 100 * c / t / n }')% of the machine)"
OTHER_TOP=${3:--}
kill "$OTHER_CPU_PID" 2>/dev/null && wait "$OTHER_CPU_PID" 2>/dev/null
forget_pid "$OTHER_CPU_PID"
{
	echo "other_cpu $OTHER_CPU"
	echo "other_top $OTHER_TOP"
	echo "repeated $REPEATED"
	echo "settle_timeouts $SETTLE_TIMEOUTS"
	echo "extra_spent $EXTRA_SPENT"
	echo "max_other $BENCH_MAX_OTHER"
	echo "haproxy_version $(haproxy -v 2>/dev/null | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')"
	echo "nginx_version $(nginx -v 2>&1 | sed 's/^.*nginx\///')"
	echo "ssh_version $(ssh -V 2>&1 | sed 's/,.*//')"
	echo "iperf3_version $(iperf3 --version 2>/dev/null | sed -n '1s/^iperf \([^ ]*\).*/\1/p')"
	echo "haproxy_threads $(awk '/^Threads:/ {print $2}' /proc/${HAP_PID:-0}/status 2>/dev/null)"
	echo "cpus $NCPU"
	echo "load $LOAD_BEFORE"
	echo "kernel $(uname -r)"
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "elapsed $(($(date +%s) - START_S))"
	echo "git $(git -C "$top_srcdir" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "rounds $BENCH_ROUNDS"
	echo "command BENCH_SECONDS=$BENCH_SECONDS BENCH_ROUNDS=$BENCH_ROUNDS BENCH_IPERF_SECONDS=$BENCH_IPERF_SECONDS BENCH_C1000_SECONDS=$BENCH_C1000_SECONDS sh bench/compare.sh BUILD_DIR"
} >"$TMP/facts"

python3 - "$TMP/samples" "$TMP/facts" "$PATHS" >"$TMP/report.md" <<'PY'
import statistics, sys
samples, facts = {}, {}
for line in open(sys.argv[1]):
    path, metric, value = line.split()
    samples.setdefault((path, metric), []).append(float(value))
for line in open(sys.argv[2]):
    k, _, v = line.rstrip("\n").partition(" ")
    facts[k] = v
paths = sys.argv[3].split()
names = {"direct": "direct to nginx / iperf3",
         "haproxy": "haproxy %s (no tunnel)" % facts["haproxy_version"],
         "ssh": "`ssh -R` (%s, aes128-gcm)" % facts["ssh_version"],
         "proxyd": "proxyd TLS tunnel",
         "proxyd-quic": "proxyd QUIC tunnel"}

def med(p, m):
    v = samples.get((p, m))
    return statistics.median(v) if v else None

def total(p, m):
    v = samples.get((p, m))
    return int(sum(v)) if v else 0

def fmt(v, f):
    return "–" if v is None else f.format(v)

def ratio(p, m):
    a, d = med(p, m), med("direct", m)
    if a is None or not d:
        return "–"
    return "%.2f×" % (a / d)

out = []
out.append("**Requests** (wrk -t2 -c50 --latency, 100-byte file; proxyd through its HTTP edge)")
out.append("")
out.append("| path | req/s | ratio to direct | proxy CPU µs/req | wrk errors |")
out.append("|---|---|---|---|---|")
for p in paths:
    out.append("| %s | %s | %s | %s | %d |" % (names[p], fmt(med(p, "rps"), "{:,.0f}"), ratio(p, "rps"),
               fmt(med(p, "cpu_us"), "{:.1f}"), total(p, "errors")))
out.append("")
out.append("**Latency** (the same wrk runs)")
out.append("")
out.append("| path | p50 ms | ratio to direct | p99 ms | ratio to direct |")
out.append("|---|---|---|---|---|")
for p in paths:
    out.append("| %s | %s | %s | %s | %s |" % (names[p], fmt(med(p, "p50"), "{:.2f}"), ratio(p, "p50"),
               fmt(med(p, "p99"), "{:.2f}"), ratio(p, "p99")))
out.append("")
out.append("**Single-stream transfers** (curl 10 MiB through the HTTP path; iperf3 through "
           "the TCP path: proxyd's raw TCP edge, haproxy tcp mode)")
out.append("")
out.append("| path | curl 10 MiB MB/s | ratio to direct | iperf3 down Gbit/s | ratio to direct | "
           "iperf3 up Gbit/s | ratio to direct | proxy CPU s/GiB down |")
out.append("|---|---|---|---|---|---|---|---|")
for p in paths:
    out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
        names[p], fmt(med(p, "curl_MBps"), "{:.0f}"), ratio(p, "curl_MBps"),
        fmt(med(p, "iperf_down"), "{:.2f}"), ratio(p, "iperf_down"),
        fmt(med(p, "iperf_up"), "{:.2f}"), ratio(p, "iperf_up"),
        fmt(med(p, "cpu_s_gib_down"), "{:.2f}")))
out.append("")
out.append("**Memory at 1000 connections** (wrk -t2 -c1000; RSS of the proxy processes; direct "
           "has none, so its row gives only wrk's figures)")
out.append("")
out.append("| path | RSS idle MB | RSS at c1000 MB | KB per connection | connections seen | "
           "req/s at c1000 | ratio to direct | p99 ms at c1000 | errors at c1000 |")
out.append("|---|---|---|---|---|---|---|---|---|")
def per_conn(p):
    idle, full = med(p, "rss_idle"), med(p, "rss_1000")
    return None if idle is None or full is None else (full - idle) / 1000.0
for p in paths:
    idle, full = med(p, "rss_idle"), med(p, "rss_1000")
    out.append("| %s | %s | %s | %s | %d | %s | %s | %s | %d |" % (
        names[p], fmt(idle and idle / 1024.0, "{:.1f}"), fmt(full and full / 1024.0, "{:.1f}"),
        fmt(per_conn(p), "{:.1f}"), med(p, "conns_1000") or 0,
        fmt(med(p, "rps_1000"), "{:,.0f}"), ratio(p, "rps_1000"),
        fmt(med(p, "p99_1000"), "{:.1f}"), total(p, "errors_1000")))
out.append("")

def verdict(what, ok, got):
    out.append("- %s: %s — %s" % (what, got, "**met**" if ok else "**missed**"))
P = lambda m: med("proxyd", m)
if "proxyd" in paths:
    out.append("Targets:")
    if P("rps") and med("haproxy", "rps"):
        h = med("haproxy", "rps")
        verdict("req/s ≥ haproxy's", P("rps") >= h,
                "proxyd %.0f vs haproxy %.0f req/s (%.2f×)" % (P("rps"), h, P("rps") / h))
    if P("rps") and med("ssh", "rps"):
        s = med("ssh", "rps")
        verdict("req/s ≥ 2.5× `ssh -R`", P("rps") >= 2.5 * s,
                "proxyd %.0f vs ssh %.0f req/s (%.2f×)" % (P("rps"), s, P("rps") / s))
    if P("p99") and med("direct", "p99"):
        d = med("direct", "p99")
        verdict("p99 within 2× direct", P("p99") <= 2 * d,
                "proxyd %.2f ms vs direct %.2f ms (%.2f×)" % (P("p99"), d, P("p99") / d))
    if P("iperf_down") and med("direct", "iperf_down"):
        d = med("direct", "iperf_down")
        verdict("single-stream download ≥ 0.7× direct, iperf3 -R (TCP edge)",
                P("iperf_down") >= 0.7 * d,
                "proxyd %.2f vs direct %.2f Gbit/s (%.2f×)" % (P("iperf_down"), d, P("iperf_down") / d))
    if P("curl_MBps") and med("direct", "curl_MBps"):
        d = med("direct", "curl_MBps")
        verdict("single-stream download ≥ 0.7× direct, curl 10 MiB (HTTP edge)",
                P("curl_MBps") >= 0.7 * d,
                "proxyd %.0f vs direct %.0f MB/s (%.2f×)" % (P("curl_MBps"), d, P("curl_MBps") / d))
    if per_conn("proxyd") is not None:
        others = ", ".join("%s %.1f KB" % (p, per_conn(p)) for p in ("haproxy", "ssh")
                           if p in paths and per_conn(p) is not None)
        seen = med("proxyd", "conns_1000") or 0
        verdict("< 16 KB per proxied connection (server + agent)", per_conn("proxyd") < 16,
                "proxyd %.1f KB%s%s" % (per_conn("proxyd"), " (" + others + ")" if others else "",
                                        "" if seen >= 990 else "; only %d connections were seen open" % seen))
    out.append("")

others = samples.get(("all", "other_pct"), [0])
top = facts.get("other_top", "-")
top = ", ".join("%s %s CPU-s" % tuple(x.rsplit(":", 1)) for x in top.split(",") if ":" in x) or "nothing measurable"
out.append("Measured %s on %s CPUs (Linux %s), source %s, in %s s; %s." % (
    facts["date"], facts["cpus"], facts["kernel"], facts["git"], facts["elapsed"], facts["command"]))
out.append("")
out.append("Notes:")
out.append("- Same load for every path: wrk -t2 -c50 --latency on a 100-byte static file "
           "(nginx %s, worker_processes auto, access_log off); 10 MiB with curl; iperf3 %s single "
           "stream (up: client to iperf3 -s, down: -R). Each figure is the median of %s "
           "interleaved rounds (curl: of 3 downloads a round)."
           % (facts["nginx_version"], facts["iperf3_version"], facts["rounds"]))
out.append("- proxyd: HTTP enters the server's HTTP edge (router \"path\", default_agent), "
           "crosses the TLS 1.3 tunnel as one stream per client connection and leaves the "
           "agent to nginx (the agent's `url` service, kept alive between requests); iperf3 uses the "
           "raw TCP edge. Log level warn. haproxy parses HTTP and keeps its own keep-alive "
           "connections to nginx; ssh forwards bytes.")
out.append("- Load generator, backends and proxies share the same cores: a proxy's CPU is "
           "taken from wrk and nginx, so every ratio includes that contention.")
out.append("- Other work on the machine: processes outside this run used %s (most: %s; load "
           "average before: %s). A measurement during which they used %s%% of the machine or "
           "more was repeated (%s times; %s waits for a quiet second timed out; %s s spent on "
           "both); the kept ones saw %.1f%% at most, %.1f%% median."
           % (facts["other_cpu"], top, facts["load"], facts["max_other"], facts["repeated"],
              facts["settle_timeouts"], facts["extra_spent"], max(others), statistics.median(others)))
out.append("- proxy CPU: utime+stime of the proxy processes (haproxy: one process, %s "
           "threads; ssh: the ssh client plus sshd's session processes; proxyd: server plus "
           "agent) during the wrk run, divided by the requests it completed; s/GiB: during "
           "iperf3 -R, divided by the GiB delivered."
           % (facts["haproxy_threads"] or "its"))
out.append("- Memory: VmRSS of the proxy processes, idle (after a 2 s warm-up, before any "
           "bulk transfer) and the highest of twice-a-second samples while wrk -c1000 runs; per "
           "connection = (at c1000 - idle) / 1000. \"connections seen\": the most established "
           "sockets on the public port at once.")
print("\n".join(out))
PY
[ -s "$TMP/report.md" ] || fail "report" "a markdown report" "$(cat "$TMP/samples")"
echo
cat "$TMP/report.md"
cp "$TMP/report.md" "$RESULTS" && echo && echo "written to $RESULTS"
exit 0
