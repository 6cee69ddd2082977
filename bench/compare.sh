#!/bin/sh
# bench/compare.sh [BUILD_DIR] — proxyd against its peers, in one run, with the same load, on
# loopback. Four paths to the same backends (nginx serving a static 100-byte file and a
# 10 MiB file, access_log off; iperf3 -s):
#
#   direct    the client talks to the backend itself
#   haproxy   haproxy (Debian's 2.6): http mode with keep-alive to nginx; tcp mode to iperf3
#   ssh       `ssh -R` through a throwaway sshd on a spare loopback port (own config, host
#             key and user key in the temporary directory; cipher aes128-gcm)
#   proxyd    a proxyd server and agent joined by the TLS 1.3 tunnel (mTLS certificates from
#             proxyctl pki), with raw TCP edges to nginx and to iperf3
#
# Measured per path: wrk -t2 -c50 --latency (req/s, p50, p99, and the proxy processes' CPU
# time per request from /proc/PID/stat), a 10 MiB curl download (MB/s), iperf3 single stream
# each way (Gbit/s), and the proxy processes' RSS idle and with wrk -c1000 running. Rounds
# are interleaved across the paths so that drift on a busy machine hits them all alike; each
# figure is the median of its rounds. Prints markdown tables and writes them to
# BUILD_DIR/bench-results.md.
#
# Environment: BENCH_SECONDS (wrk run, default 10), BENCH_ROUNDS (default 3),
# BENCH_IPERF_SECONDS (default 5), BENCH_C1000_SECONDS (default 5), BENCH_PATHS (default
# "direct haproxy ssh proxyd"). On a shared machine, each measurement waits for other
# processes to calm down and is repeated when they used BENCH_MAX_OTHER % of the machine
# (default 5) or more meanwhile, BENCH_RETRIES times at most (default 4; settling waits
# BENCH_SETTLE_MAX s at most, default 120); the report says how much they used.
# Needs scripts/install-deps.sh --bench, and root for the sshd path (it logs in as the user
# running the bench). Not part of `make check`: on a shared machine the numbers move run to
# run, so compare paths within one run, by their ratios.
# Lists of pids are split on purpose; ulimit -n is in every sh this runs on (dash, bash).
# shellcheck disable=SC2086,SC2046,SC3045,SC1091
set -u
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(cd "${1:-$top_srcdir/build}" && pwd)
PROXYD=$top_builddir/proxyd
PROXYCTL=$top_builddir/proxyctl
FIXTURE_DIR=$top_builddir/tests/fixtures/.libs
export top_srcdir top_builddir PROXYD PROXYCTL FIXTURE_DIR
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_IPERF_SECONDS=${BENCH_IPERF_SECONDS:-5}
BENCH_C1000_SECONDS=${BENCH_C1000_SECONDS:-5}
PATHS=${BENCH_PATHS:-direct haproxy ssh proxyd}
BENCH_MAX_OTHER=${BENCH_MAX_OTHER:-5}
BENCH_RETRIES=${BENCH_RETRIES:-4}
BENCH_SETTLE_MAX=${BENCH_SETTLE_MAX:-120}
RESULTS=$top_builddir/bench-results.md
PATH=$PATH:/usr/sbin:/sbin
export PATH

. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

for c in wrk iperf3 nginx haproxy ssh ssh-keygen curl python3 ps ss; do
	command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed (scripts/install-deps.sh --bench)"
done
[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd is not installed (scripts/install-deps.sh --bench)"
[ -x "$PROXYCTL" ] || fail "proxyctl is built" "an executable $PROXYCTL"
[ -e "$top_builddir/plugins/transport-tcp/.libs/transport-tcp.so" ] ||
	skip "the tcp transport plugin is not built in $top_builddir"

# 1000 connections through a proxy are 2000+ descriptors in it and 1000 in wrk and nginx:
# every process started below inherits this.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

# ---- ports: tests/lib.sh's free_port, never the same one twice ----
# tests/tunnel_lib.sh has already chosen proxyd's: the server's listener, two public edges
# (ECHO_PORT for HTTP, BULK_PORT for iperf3) and two local services, which here are the
# backends themselves.
NGINX_PORT=$LOCAL_ECHO_PORT
IPERF_PORT=$LOCAL_BULK_PORT
PROXYD_HTTP_PORT=$ECHO_PORT
PROXYD_TCP_PORT=$BULK_PORT
USED_PORTS=" $SERVER_PORT $ECHO_PORT $BULK_PORT $LOCAL_ECHO_PORT $LOCAL_BULK_PORT "
pick_port() { # VAR: a free port that no other variable here holds
	while :; do
		_np=$(free_port)
		case $USED_PORTS in *" $_np "*) continue ;; esac
		USED_PORTS="$USED_PORTS$_np "
		eval "$1=$_np"
		return
	done
}
pick_port HAP_HTTP_PORT
pick_port HAP_TCP_PORT
pick_port SSHD_PORT
pick_port SSH_HTTP_PORT
pick_port SSH_TCP_PORT

listening() { # PORT: something listens on 127.0.0.1:PORT
	ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

# wait_listening SECONDS PORT WHAT LOG
wait_listening() {
	wait_for "$1" listening "$2" || fail "$3 listens on port $2" "a listener within $1 s" "$(cat "$4" 2>/dev/null)"
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

# ---- proxyd server and agent ----
case " $PATHS " in *" proxyd "*)
	step "proxyd: server on $SERVER_PORT, TCP edges $PROXYD_HTTP_PORT (nginx) and $PROXYD_TCP_PORT (iperf3)"
	make_pki
	write_server_conf
	sed -i 's/level = "debug"/level = "info"/' "$TMP/server.conf"
	write_agent_conf agent-1
	sed -i 's/level = "debug"/level = "info"/' "$TMP/agent-agent-1.conf"
	start_server
	start_agent agent-1
	wait_for 15 eval "'$PROXYCTL' status --json -s '$TMP/server.sock' 2>/dev/null | grep -q agent-1" ||
		fail "agent registered" "agent-1 in status" "$(cat "$TMP/server.log" "$TMP/agent-agent-1.log")"
	;;
esac

# ---- what each path is ----
http_port() {
	case $1 in
	direct) echo "$NGINX_PORT" ;;
	haproxy) echo "$HAP_HTTP_PORT" ;;
	ssh) echo "$SSH_HTTP_PORT" ;;
	proxyd) echo "$PROXYD_HTTP_PORT" ;;
	esac
}
tcp_port() {
	case $1 in
	direct) echo "$IPERF_PORT" ;;
	haproxy) echo "$HAP_TCP_PORT" ;;
	ssh) echo "$SSH_TCP_PORT" ;;
	proxyd) echo "$PROXYD_TCP_PORT" ;;
	esac
}
# proxy_pids PATH: the processes that do the proxying (none for direct).
proxy_pids() {
	case $1 in
	direct) ;;
	haproxy) echo "$HAP_PID" ;;
	ssh) echo "$SSH_PID $SSHD_SESSION_PIDS" ;;
	proxyd) echo "$SERVER_PID $AGENT_PID" ;;
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

# Other work on the machine skews every figure. A sampler adds up the CPU time of every
# process that is not this script or below it (kernel threads aside), every second, for the
# report: utime+stime+cutime+cstime, so a short-lived process still counts once its parent
# reaps it.
cat >"$TMP/other_cpu.py" <<'PY'
import os, sys, time
root, out = int(sys.argv[1]), sys.argv[2]
hz = os.sysconf("SC_CLK_TCK")
def snapshot():  # pid -> (ppid, own ticks, reaped children's ticks)
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            f = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        procs[int(d)] = (int(f[1]), int(f[11]) + int(f[12]), int(f[13]) + int(f[14]))
    return procs
def mine(pid, procs):
    while pid > 2:
        if pid == root:
            return True
        pid = procs.get(pid, (0,))[0]
    return pid == 2  # kernel threads are nobody's work in particular
prev, total, start = snapshot(), 0, time.time()
while True:
    time.sleep(1)
    now = snapshot()
    # A child reaped since the last look moved its ticks into its parent's cutime: count
    # only what was not already counted while it was visible.
    # (Its parent may be gone too, e.g. a $(...) subshell: the ticks land in the nearest
    # ancestor still here.)
    gone = {}
    for pid, (ppid, own, kids) in prev.items():
        if pid not in now:
            while ppid in prev and ppid not in now:
                ppid = prev[ppid][0]
            gone[ppid] = gone.get(ppid, 0) + own + kids
    for pid, (ppid, own, kids) in now.items():
        if mine(pid, now):
            continue
        p = prev.get(pid, (ppid, 0, kids))
        total += max(0, own - p[1]) + max(0, kids - p[2] - gone.get(pid, 0))
    prev = now
    with open(out + ".tmp", "w") as f:
        f.write("%.1f %.1f\n" % (total / hz, time.time() - start))
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
# other_pct CPU0 T0: percent of the machine others used since (CPU0, T0).
other_pct() {
	awk -v c0="$1" -v c1="$(other_cpu)" -v t0="$2" -v t1="$(now_s)" -v n="$NCPU" \
		'BEGIN { d = t1 - t0; if (d <= 0) d = 1; printf "%.1f", 100 * (c1 - c0) / d / n }'
}
# settle: wait (at most BENCH_SETTLE_MAX s) for 3 s in which others used under
# BENCH_MAX_OTHER % of the machine.
settle() {
	_end=$(($(date +%s) + BENCH_SETTLE_MAX))
	while [ "$(date +%s)" -lt $_end ]; do
		_c0=$(other_cpu) _t0=$(now_s)
		sleep 3
		awk -v p="$(other_pct "$_c0" "$_t0")" -v m="$BENCH_MAX_OTHER" 'BEGIN { exit !(p < m) }' && return 0
	done
	echo "  (the machine did not settle within ${BENCH_SETTLE_MAX} s; measuring anyway)"
}
# guarded CMD...: run a measurement that records its figures with sample(); if other
# processes used more than BENCH_MAX_OTHER % of the machine meanwhile, drop them and measure
# again (BENCH_RETRIES times at most; the last attempt is kept whatever happened, and the
# report says how loaded the machine was).
REPEATED=0
guarded() {
	_try=1
	while :; do
		settle
		: >"$TMP/pending"
		_gc0=$(other_cpu) _gt0=$(now_s)
		"$@"
		check_alive
		sleep 1.2 # the sampler looks once a second
		_gp=$(other_pct "$_gc0" "$_gt0")
		if awk -v p="$_gp" -v m="$BENCH_MAX_OTHER" 'BEGIN { exit !(p < m) }' ||
			[ $_try -ge "$BENCH_RETRIES" ]; then
			cat "$TMP/pending" >>"$TMP/samples"
			echo "all other_pct $_gp" >>"$TMP/samples"
			return
		fi
		echo "  (other processes used ${_gp}% of the machine meanwhile: measuring again)"
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
	wrk -t2 -c50 -d"${BENCH_SECONDS}s" --latency "http://127.0.0.1:$(http_port "$1")/100b" >"$TMP/wrk.out" 2>&1
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
	timeout $((BENCH_IPERF_SECONDS + 30)) iperf3 -c 127.0.0.1 -p "$(tcp_port "$1")" \
		-t "$BENCH_IPERF_SECONDS" ${2:-} -J >"$TMP/iperf.json" 2>&1
	python3 - "$TMP/iperf.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))["end"]["sum_received"]
    print("%.3f %.4f" % (r["bits_per_second"] / 1e9, r["bytes"] / 2**30))
except Exception:
    print("0 0")
PY
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
step "warm-up: wrk 2 s through each path (load average before: $LOAD_BEFORE)"
for p in $PATHS; do
	wrk -t2 -c50 -d2s "http://127.0.0.1:$(http_port "$p")/100b" >/dev/null 2>&1
done

# curl_round PATH: three 10 MiB downloads.
curl_round() {
	_cp=$1
	for _i in 1 2 3; do
		set -- $(curl -sS --max-time 60 -o /dev/null -w '%{speed_download} %{size_download}' \
			"http://127.0.0.1:$(http_port "$_cp")/10m" 2>/dev/null || echo "0 0")
		if [ "${2:-0}" = 10485760 ]; then
			sample "$_cp" curl_MBps "$(awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }')"
		else
			echo "  $_cp: curl download $_i incomplete (${2:-0} bytes)"
			sample "$_cp" curl_fail 1
		fi
	done
	printf '  %-8s curl 10 MiB: %s MB/s\n' "$_cp" "$(awk -v p="$_cp" '$1 == p && $2 == "curl_MBps" { printf "%s ", $3 }' "$TMP/pending")"
}

# iperf_pair PATH: iperf3 up (to iperf3 -s) and down (-R), with the proxy's CPU seconds per
# GiB carried.
iperf_pair() {
	for _dir in up down; do
		_flag=
		[ $_dir = down ] && _flag=-R
		_pids=$(proxy_pids "$1")
		_c0=$(cpu_ticks $_pids)
		set -- "$1" $(iperf_round "$1" $_flag)
		_c1=$(cpu_ticks $_pids)
		sample "$1" iperf_$_dir "$2"
		_line="$_line$(printf ' %s %6.2f Gbit/s' $_dir "$2")"
		if [ -n "$_pids" ] && awk -v g="$3" 'BEGIN { exit !(g > 0) }'; then
			_spg=$(awk -v t=$((_c1 - _c0)) -v hz="$HZ" -v g="$3" 'BEGIN { printf "%.2f", t / hz / g }')
			sample "$1" cpu_s_gib_$_dir "$_spg"
			_line="$_line (proxy CPU $_spg s/GiB)"
		fi
		[ $_dir = up ] && sleep 1
	done
	printf '  %-8s iperf3%s\n' "$1" "$_line"
	_line=
}
_line=

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

# ---- 1000 concurrent connections ----
# First, after the warm-up only: what bulk transfers leave in the allocators' free lists
# would otherwise hide what connections cost.
step "wrk -t2 -c1000 -d${BENCH_C1000_SECONDS}s: peak RSS of the proxy processes"
for p in $PATHS; do
	# Idle once, before the first attempt: a repeated attempt would find the first one's
	# memory already in the allocator.
	[ -n "$(proxy_pids "$p")" ] && echo "$p rss_idle $(rss_sum $(proxy_pids "$p"))" >>"$TMP/samples"
	guarded c1000 "$p"
done

r=1
while [ $r -le "$BENCH_ROUNDS" ]; do
	step "round $r/$BENCH_ROUNDS: wrk -t2 -c50 -d${BENCH_SECONDS}s --latency"
	for p in $PATHS; do
		guarded wrk_round "$p"
	done
	step "round $r/$BENCH_ROUNDS: curl 10 MiB x3, iperf3 ${BENCH_IPERF_SECONDS}s each way"
	for p in $PATHS; do
		guarded curl_round "$p"
		guarded iperf_pair "$p"
	done
	r=$((r + 1))
done

# ---- the report ----
set -- $(cat "$TMP/other_cpu" 2>/dev/null || echo "0 1")
OTHER_CPU="$1 CPU-seconds over $2 s of run ($(awk -v c="$1" -v t="$2" -v n="$(nproc)" 'BEGIN { printf "%.1f", 100 * c / t / n }')% of the machine)"
kill "$OTHER_CPU_PID" 2>/dev/null && wait "$OTHER_CPU_PID" 2>/dev/null
forget_pid "$OTHER_CPU_PID"
{
	echo "other_cpu $OTHER_CPU"
	echo "repeated $REPEATED"
	echo "max_other $BENCH_MAX_OTHER"
	echo "haproxy_version $(haproxy -v 2>/dev/null | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')"
	echo "nginx_version $(nginx -v 2>&1 | sed 's/^.*nginx\///')"
	echo "ssh_version $(ssh -V 2>&1 | sed 's/,.*//')"
	echo "wrk_version $(wrk -v 2>&1 | sed -n '1s/^wrk \([^ ]*\).*/\1/p')"
	echo "iperf3_version $(iperf3 --version 2>/dev/null | sed -n '1s/^iperf \([^ ]*\).*/\1/p')"
	echo "proxyd_version $("$PROXYD" -V 2>/dev/null | head -1)"
	echo "haproxy_threads $(awk '/^Threads:/ {print $2}' /proc/${HAP_PID:-0}/status 2>/dev/null)"
	echo "cpus $(nproc)"
	echo "load $LOAD_BEFORE"
	echo "kernel $(uname -r)"
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
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
         "haproxy": "haproxy %s (http mode; tcp for iperf3)" % facts["haproxy_version"],
         "ssh": "`ssh -R` via sshd (%s, aes128-gcm)" % facts["ssh_version"],
         "proxyd": "proxyd TLS tunnel (raw TCP edge)"}

def med(p, m):
    v = samples.get((p, m))
    return statistics.median(v) if v else None

def total(p, m):
    v = samples.get((p, m))
    return int(sum(v)) if v else 0

def ratio(p, m):
    a, d = med(p, m), med("direct", m)
    if a is None or not d or "direct" not in paths:
        return ""
    return " (%.2f×)" % (a / d)

def cell(p, m, fmt, with_ratio=True):
    v = med(p, m)
    if v is None:
        return "–"
    return fmt.format(v) + (ratio(p, m) if with_ratio and p != "direct" else "")

out = []
out.append("| path | req/s | p50 ms | p99 ms | proxy CPU µs/req | 10 MiB curl MB/s | "
           "iperf3 up Gbit/s | iperf3 down Gbit/s | proxy CPU s/GiB (down) | wrk errors |")
out.append("|---|---|---|---|---|---|---|---|---|---|")
for p in paths:
    out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
        names[p], cell(p, "rps", "{:,.0f}"), cell(p, "p50", "{:.2f}"), cell(p, "p99", "{:.2f}"),
        cell(p, "cpu_us", "{:.1f}", False), cell(p, "curl_MBps", "{:.0f}"),
        cell(p, "iperf_up", "{:.2f}"), cell(p, "iperf_down", "{:.2f}"),
        cell(p, "cpu_s_gib_down", "{:.2f}", False), total(p, "errors")))
out.append("")
out.append("| path | RSS idle MB | peak RSS at wrk -c1000 MB | KB per connection | "
           "connections seen | req/s at c1000 | p99 ms at c1000 | errors at c1000 |")
out.append("|---|---|---|---|---|---|---|---|")
for p in paths:
    idle, full = med(p, "rss_idle"), med(p, "rss_1000")
    per = "–" if idle is None or full is None else "%.1f" % ((full - idle) / 1000.0)
    out.append("| %s | %s | %s | %s | %d | %s | %s | %d |" % (
        names[p], "–" if idle is None else "%.1f" % (idle / 1024.0),
        "–" if full is None else "%.1f" % (full / 1024.0), per, med(p, "conns_1000") or 0,
        cell(p, "rps_1000", "{:,.0f}", False), cell(p, "p99_1000", "{:.1f}", False),
        total(p, "errors_1000")))
out.append("")

# issue 4's targets, where the paths they compare were measured
def t(what, ok, got):
    if ok is not None:
        out.append("- %s: %s — %s" % (what, got, "met" if ok else "**missed**"))
if "proxyd" in paths:
    out.append("Targets (issue 4):")
    P = lambda m: med("proxyd", m)
    if "haproxy" in paths and P("rps") and med("haproxy", "rps"):
        t("req/s ≥ haproxy's", P("rps") >= med("haproxy", "rps"),
          "%.2f× haproxy" % (P("rps") / med("haproxy", "rps")))
    if "ssh" in paths and P("rps") and med("ssh", "rps"):
        t("req/s ≥ 2.5× `ssh -R`", P("rps") >= 2.5 * med("ssh", "rps"),
          "%.2f× ssh" % (P("rps") / med("ssh", "rps")))
    if "direct" in paths and P("p99") and med("direct", "p99"):
        t("p99 ≤ 2× direct", P("p99") <= 2 * med("direct", "p99"),
          "%.2f× direct" % (P("p99") / med("direct", "p99")))
    if "direct" in paths and P("iperf_down") and med("direct", "iperf_down"):
        t("single-stream download ≥ 0.7× direct (iperf3 -R)",
          P("iperf_down") >= 0.7 * med("direct", "iperf_down"),
          "%.2f× direct" % (P("iperf_down") / med("direct", "iperf_down")))
    if "direct" in paths and P("curl_MBps") and med("direct", "curl_MBps"):
        t("10 MiB download ≥ 0.7× direct (curl)",
          P("curl_MBps") >= 0.7 * med("direct", "curl_MBps"),
          "%.2f× direct" % (P("curl_MBps") / med("direct", "curl_MBps")))
    if P("rss_idle") is not None and P("rss_1000") is not None:
        per = (P("rss_1000") - P("rss_idle")) / 1000.0
        t("< 16 KB per proxied connection (server + agent)", per < 16, "%.1f KB" % per)
    out.append("")

out.append("Measured %s on %s CPUs (Linux %s), source %s; %s." % (
    facts["date"], facts["cpus"], facts["kernel"], facts["git"], facts["command"]))
out.append("")
out.append("Notes:")
out.append("- Same load for every path: wrk -t2 -c50 --latency on a 100-byte static file "
           "(nginx %s, worker_processes auto, access_log off); a 10 MiB file with curl; iperf3 %s single "
           "stream (up: client to iperf3 -s, down: -R). Each figure is the median of %s "
           "interleaved rounds (curl: of 3 downloads a round); (N×) is the ratio to direct."
           % (facts["nginx_version"], facts["iperf3_version"], facts["rounds"]))
others = samples.get(("all", "other_pct"), [0])
out.append("- Load generator, backends and proxies share the same cores: a proxy's CPU is "
           "taken from wrk and nginx, so every ratio includes that contention.")
out.append("- Other work on the machine: processes outside this run used %s in all (load "
           "average before: %s). A measurement during which they used %s%% of the machine or "
           "more was repeated (%s times); the kept ones saw %.1f%% at most, %.1f%% median."
           % (facts["other_cpu"], facts["load"], facts["max_other"], facts["repeated"],
              max(others), statistics.median(others)))
out.append("- proxy CPU: utime+stime of the proxy processes (haproxy: one process, %s "
           "threads; ssh: the ssh client plus sshd's session processes; proxyd: server plus "
           "agent) during the wrk run, divided by the requests it completed."
           % (facts["haproxy_threads"] or "its"))
out.append("- proxyd has no HTTP edge yet: wrk's HTTP goes through its raw TCP tunnel (TCP "
           "edge, one multiplexed stream per client connection over one TLS 1.3 session, "
           "agent dials nginx), as it does through `ssh -R`; haproxy parses HTTP and keeps "
           "its own keep-alive connections to nginx.")
out.append("- Memory: VmRSS of the proxy processes, idle (after the warm-up, before any "
           "bulk transfer) and the peak while wrk -c1000 runs; per connection = (peak - idle) "
           "/ 1000. \"connections seen\" is the most established sockets on the public port "
           "at once. proxy CPU s/GiB: the proxy processes' CPU time during iperf3 -R divided "
           "by the GiB delivered.")
print("\n".join(out))
PY
[ -s "$TMP/report.md" ] || fail "report" "a markdown report" "$(cat "$TMP/samples")"
echo
cat "$TMP/report.md"
cp "$TMP/report.md" "$RESULTS" && echo && echo "written to $RESULTS"
exit 0
