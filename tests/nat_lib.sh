# tests/nat_lib.sh — two hosts behind two NATs and a public server, as network namespaces, for
# tests of NAT traversal (STUN, hole punching, relay fallback). Source after tests/lib.sh.
# The choices below were measured first on Debian 12 (a kernel without netem, iptables on
# nf_tables); the comments say why where it matters.
#
#  a 10.0.1.2 --- lan0 10.0.1.1 [nat1] wan0 198.18.0.11 ---+
#                                                          |  wan: a plain L2 bridge, no IP
#  b 10.0.2.2 --- lan0 10.0.2.1 [nat2] wan0 198.18.0.12 ---+
#                                                          |
#                                  [pub] eth0 198.18.0.1 --+  (server, relay, STUN)
#
# 198.18.0.0/15 (the benchmarking range) plays the internet. Every veth pair is made directly
# between two of the test's namespaces, so nothing is added to the namespace the test runs in
# and no packet can leave the lab; names carry $$, so tests run in parallel without meeting.
# Only a and b have default routes: a router or pub cannot reach a private address.
# Every namespace, with every process in it, is removed on every exit (trap); the links go
# with their namespaces.
#
#   nat_require              SKIP (exit 77) unless root, namespaces and iptables inside one
#                            (MASQUERADE --random-fully, the statistic match) all work
#   nat_setup MODE1 MODE2    build the lab; nat1 is a MODE1 NAT, nat2 a MODE2 NAT:
#                              cone    MASQUERADE: endpoint-independent mapping (the same
#                                      public port towards every destination), filtering by
#                                      address and port (port-restricted cone)
#                              random  MASQUERADE --random-fully: a new public port for each
#                                      destination (endpoint-dependent, "symmetric")
#   nat_mode ROUTER MODE     change a router's mode later (conntrack flushed, see below)
#   nat_loss ROUTER PERCENT  drop PERCENT % of the packets crossing ROUTER's wan0, each way
#                            (so about 1-(1-P)^2 of round trips fail); 0 stops the loss
#   nat_block_udp_between    drop UDP between nat1's and nat2's public addresses (the direct
#                            path between a and b) while the paths to pub stay
#   nat_unblock              undo nat_block_udp_between
#   nat_drops ROUTER         packets dropped so far by ROUTER's loss and block rules
#   nat_flush_conntrack      forget every mapping in both routers (conntrack -F), if the
#                            conntrack tool is installed; entries otherwise live 30-120 s
#                            and carry one check's ports into the next
#   nat_ns NAME              the real name of namespace NAME (for ip -n, ip netns pids)
#   in_ns NAME CMD...        run CMD in namespace NAME (a, nat1, b, nat2, wan, pub)
#   nat_start_bg LOG NAME CMD...  a background process in namespace NAME, output in LOG,
#                            stopped on exit (BG_PID)
#   nat_teardown             what the exit trap runs (idempotent)
#
# Addresses: NAT_PUB=198.18.0.1 NAT1_PUB=198.18.0.11 NAT2_PUB=198.18.0.12 A_ADDR=10.0.1.2
# B_ADDR=10.0.2.2. They are fixed: they exist only inside this test's namespaces.
# STUN_PROBE is tests/tools/stun_probe.py, NAT_PYTHON the python3 to run tools with.

NAT_NS_PREFIX=pxn$$
NAT_NAMES="a nat1 b nat2 wan pub"
NAT_PUB=198.18.0.1
NAT1_PUB=198.18.0.11
NAT2_PUB=198.18.0.12
A_ADDR=10.0.1.2
B_ADDR=10.0.2.2
STUN_PROBE=$top_srcdir/tests/tools/stun_probe.py
# The interpreter itself, not a version manager's shim (pyenv's is a shell script that costs
# half a second a start): NAT tests start python dozens of times.
NAT_PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || NAT_PYTHON=python3
[ -n "$NAT_PYTHON" ] || NAT_PYTHON=python3

# nat_ns NAME: the namespace's real name.
nat_ns() {
	echo "$NAT_NS_PREFIX-$1"
}

in_ns() {
	_ns=$NAT_NS_PREFIX-$1
	shift
	ip netns exec "$_ns" "$@"
}

nat_require() {
	require_cmd ip iptables
	if [ "$(id -u)" != 0 ]; then
		skip "network namespaces need root (run make check as root to test NAT traversal)"
	fi
	_probe=${NAT_NS_PREFIX}probe
	if ! ip netns add "$_probe" 2>"$TMP/netns.err"; then
		skip "cannot create network namespaces: $(cat "$TMP/netns.err")"
	fi
	# Everything the lab needs of netfilter, tried where it will be used: a kernel without
	# NAT or the statistic match, or an iptables that cannot talk to it, is a SKIP, not a
	# failure of the test.
	if ! { ip netns exec "$_probe" iptables -t nat -A POSTROUTING -o lo -j MASQUERADE --random-fully &&
		ip netns exec "$_probe" iptables -t mangle -A PREROUTING -m statistic --mode random \
			--probability 0.5 -j DROP &&
		ip netns exec "$_probe" iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED \
			-j ACCEPT; } >"$TMP/netns.err" 2>&1; then
		ip netns del "$_probe"
		skip "iptables does not work in a namespace: $(cat "$TMP/netns.err")"
	fi
	ip netns del "$_probe"
}

# Kill what runs in the namespaces (gently, then not), then delete them. All at once: the
# namespaces' processes get one grace period together, not one each.
_nat_ns_pids() {
	for _ns in "$@"; do
		ip netns pids "$_ns" 2>/dev/null
	done
}
_nat_ns_remove() {
	_pids=$(_nat_ns_pids "$@")
	if [ -n "$_pids" ]; then
		kill -TERM $_pids 2>/dev/null
		_i=0
		while [ -n "$(_nat_ns_pids "$@")" ] && [ $_i -lt 20 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		_pids=$(_nat_ns_pids "$@")
		[ -n "$_pids" ] && kill -KILL $_pids 2>/dev/null
		_i=0
		while [ -n "$(_nat_ns_pids "$@")" ] && [ $_i -lt 20 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	fi
	for _ns in "$@"; do
		ip netns del "$_ns" 2>/dev/null
	done
	return 0
}

nat_teardown() {
	# Every namespace of ours, whatever step made it: also the probe and any a failed
	# nat_setup left half made (names are unique to this test).
	_mine=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$NAT_NS_PREFIX(-|probe\$)")
	[ -z "$_mine" ] || _nat_ns_remove $_mine
}

# Our teardown first, then lib.sh's cleanup with the exit code the test had. A test that also
# sources vmhost_lib.sh gets that library's teardown as well (one EXIT trap per shell).
trap '_nat_rc=$?; nat_teardown; command -v vm_teardown >/dev/null 2>&1 && vm_teardown; (exit $_nat_rc); _cleanup' EXIT

_nat_ns_add() {
	ip netns add "$NAT_NS_PREFIX-$1" || fail "ip netns add $NAT_NS_PREFIX-$1" "exit 0"
	ip -n "$NAT_NS_PREFIX-$1" link set lo up
}

# _nat_router NAME LAN-PREFIX PUBLIC-ADDR: forwarding and firewall; nat_mode adds the NAT.
_nat_router() {
	_r=$1 _lan=$2 _pubaddr=$3
	_rns=$NAT_NS_PREFIX-$_r
	# Forwarding is off in every new namespace. rp_filter is copied from the host, which can
	# be strict (1); loose (2) is what a home router does and what the notes measured.
	ip netns exec "$_rns" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=2 \
		net.ipv4.conf.default.rp_filter=2 net.ipv4.conf.lan0.rp_filter=2 \
		net.ipv4.conf.wan0.rp_filter=2 >/dev/null || fail "sysctls in $_r" "exit 0"
	ip -n "$_rns" addr add "$_lan.1/24" dev lan0
	ip -n "$_rns" addr add "$_pubaddr/15" dev wan0
	ip -n "$_rns" link set lan0 up
	ip -n "$_rns" link set wan0 up
	(
		# Forward out freely, back in only what answers something that went out.
		_nat_ipt "$_r" -P FORWARD DROP &&
			_nat_ipt "$_r" -A FORWARD -i lan0 -o wan0 -j ACCEPT &&
			_nat_ipt "$_r" -A FORWARD -i wan0 -o lan0 -m conntrack --ctstate ESTABLISHED,RELATED \
				-j ACCEPT &&
			# The router itself takes nothing unsolicited from the internet. This matters
			# beyond realism: a router that accepts an early punch keeps a local conntrack
			# entry for that port, the peer's later SNAT is remapped to another port, and
			# punching fails where a real NAT would let it through.
			_nat_ipt "$_r" -P INPUT DROP &&
			_nat_ipt "$_r" -A INPUT -i lo -j ACCEPT &&
			_nat_ipt "$_r" -A INPUT -i lan0 -j ACCEPT &&
			_nat_ipt "$_r" -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
			# The impairments have chains of their own, flushed without touching the rest.
			# In mangle, before nat: a first packet dropped there never gets a mapping.
			for _c in natlab_loss natlab_block; do
				_nat_ipt "$_r" -t mangle -N $_c &&
					_nat_ipt "$_r" -t mangle -A PREROUTING -i wan0 -j $_c &&
					_nat_ipt "$_r" -t mangle -A POSTROUTING -o wan0 -j $_c || exit 1
			done
	) >"$TMP/iptables-$_r.err" 2>&1 ||
		fail "firewall of $_r" "iptables rules accepted" "$(cat "$TMP/iptables-$_r.err")"
}

# _nat_ipt ROUTER IPTABLES-ARGS...
_nat_ipt() {
	_ir=$1
	shift
	ip netns exec "$NAT_NS_PREFIX-$_ir" iptables "$@"
}

# nat_mode ROUTER MODE: the router's one SNAT rule, replaced.
nat_mode() {
	case $1 in
	nat1) _lan=10.0.1.0/24 ;;
	nat2) _lan=10.0.2.0/24 ;;
	*) fail "nat_mode: no router named '$1'" "nat1 or nat2" ;;
	esac
	case $2 in
	cone) _opt= ;;
	random) _opt=--random-fully ;;
	*) fail "nat_mode: no NAT mode '$2'" "cone or random" ;;
	esac
	in_ns "$1" iptables -t nat -F POSTROUTING &&
		in_ns "$1" iptables -t nat -A POSTROUTING -s "$_lan" -o wan0 -j MASQUERADE $_opt ||
		fail "nat_mode $1 $2" "the MASQUERADE rule accepted"
	# Mappings made under the old mode would otherwise go on being used.
	nat_flush_conntrack
}

nat_setup() {
	[ $# -eq 2 ] || fail "nat_setup MODE1 MODE2" "two modes (cone or random)" "$*"
	for _n in $NAT_NAMES; do
		_nat_ns_add "$_n"
	done
	_w=$NAT_NS_PREFIX-wan
	ip -n "$_w" link add br0 type bridge || fail "bridge in $_w" "exit 0"
	ip -n "$_w" link set br0 up
	# The internet side: one port of the bridge per router and one for pub.
	for _pair in w1:nat1:wan0 w2:nat2:wan0 wp:pub:eth0; do
		_port=${_pair%%:*} _rest=${_pair#*:}
		_peer=${_rest%%:*} _ifname=${_rest#*:}
		ip -n "$_w" link add "$_port" type veth peer name "$_ifname" netns "$NAT_NS_PREFIX-$_peer" ||
			fail "veth $_port in wan to $_peer" "exit 0"
		ip -n "$_w" link set "$_port" master br0 up
	done
	ip -n "$NAT_NS_PREFIX-pub" addr add "$NAT_PUB/15" dev eth0
	ip -n "$NAT_NS_PREFIX-pub" link set eth0 up
	# The private sides: a behind nat1, b behind nat2.
	for _pair in a:nat1:10.0.1 b:nat2:10.0.2; do
		_h=${_pair%%:*} _rest=${_pair#*:}
		_r=${_rest%%:*} _lan=${_rest#*:}
		ip -n "$NAT_NS_PREFIX-$_r" link add lan0 type veth peer name eth0 netns "$NAT_NS_PREFIX-$_h" ||
			fail "veth from $_r to $_h" "exit 0"
		ip -n "$NAT_NS_PREFIX-$_h" addr add "$_lan.2/24" dev eth0
		ip -n "$NAT_NS_PREFIX-$_h" link set eth0 up
		ip -n "$NAT_NS_PREFIX-$_h" route add default via "$_lan.1"
	done
	_nat_router nat1 10.0.1 "$NAT1_PUB"
	_nat_router nat2 10.0.2 "$NAT2_PUB"
	nat_mode nat1 "$1"
	nat_mode nat2 "$2"
}

# nat_loss ROUTER PERCENT: random loss on ROUTER's uplink, in both directions (the kernel here
# has no netem; the statistic match is built in). Replaces any loss set before.
nat_loss() {
	case $2 in
	'' | *[!0-9]*) fail "nat_loss $1 $2" "a whole PERCENT from 0 to 100" ;;
	esac
	[ "$2" -le 100 ] || fail "nat_loss $1 $2" "a whole PERCENT from 0 to 100"
	_nat_ipt "$1" -t mangle -F natlab_loss || fail "nat_loss: flush the loss of $1" "exit 0"
	[ "$2" -eq 0 ] && return 0
	_p=$(awk "BEGIN { printf \"%.2f\", $2 / 100 }")
	_nat_ipt "$1" -t mangle -A natlab_loss -m statistic --mode random --probability "$_p" -j DROP ||
		fail "nat_loss $1 $2" "the statistic rule accepted"
}

# nat_block_udp_between: the direct path between a and b breaks, as when a mobile peer's
# mapping dies mid-transfer; UDP to and from pub (the server, the relay) still flows. Both
# routers drop, so neither side's packets reach the other, and mappings stay as they were.
nat_block_udp_between() {
	for _pair in nat1:$NAT2_PUB nat2:$NAT1_PUB; do
		_r=${_pair%%:*} _other=${_pair#*:}
		_nat_ipt "$_r" -t mangle -F natlab_block &&
			_nat_ipt "$_r" -t mangle -A natlab_block -p udp -d "$_other" -j DROP &&
			_nat_ipt "$_r" -t mangle -A natlab_block -p udp -s "$_other" -j DROP ||
			fail "nat_block_udp_between: rules in $_r" "exit 0"
	done
}

nat_unblock() {
	for _r in nat1 nat2; do
		_nat_ipt "$_r" -t mangle -F natlab_block || fail "nat_unblock: flush in $_r" "exit 0"
	done
}

# nat_drops ROUTER: how many packets the impairments dropped in ROUTER so far (loss and
# block), to show a test's impairment really acted.
nat_drops() {
	_nat_ipt "$1" -t mangle -L -v -n -x 2>/dev/null |
		awk '/^Chain natlab_/ { in_c = 1; next } /^Chain / { in_c = 0 } in_c && $3 == "DROP" { n += $1 } END { print n + 0 }'
}

# Old mappings live 30-120 s in conntrack and would carry one check's ports into the next.
# Without the conntrack tool this does nothing: tests must not depend on it for correctness.
nat_flush_conntrack() {
	command -v conntrack >/dev/null 2>&1 || return 0
	for _r in nat1 nat2; do
		in_ns "$_r" conntrack -F >/dev/null 2>&1
	done
	return 0
}

# nat_start_bg LOG NAME CMD...: as start_proxyd, in namespace NAME. Stopped on exit by lib.sh
# (by pid) and again by the teardown (everything in the namespace).
nat_start_bg() {
	_log=$1 _ns=$NAT_NS_PREFIX-$2
	shift 2
	( run_bg ip netns exec "$_ns" "$@" ) >"$_log" 2>&1 </dev/null &
	BG_PID=$!
	track_pid $BG_PID
	wait_exec $BG_PID
}
