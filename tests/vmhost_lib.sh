# tests/vmhost_lib.sh — VMs simulated as network namespaces on a bridge, for the vmhost_*.sh
# tests (the VM-host proxy). Source after tests/lib.sh, tests/tunnel_lib.sh and
# tests/http_lib.sh.
#
# Everything happens in namespaces of this test's own: a "host" namespace holding the bridge
# (br0 at $VM_NET.1/24), proxyd and the test's clients, and one namespace per VM joined to
# the bridge by a veth pair. Nothing is added to the namespace the test runs in, and names
# carry $$, so tests run in parallel without meeting. Every namespace, with every process in
# it, is removed on every exit (trap); the veths and the bridge go with their namespaces.
#
#   vm_require_netns         SKIP (exit 77) unless namespaces can be made (root, iproute2)
#   vm_setup_host            the host namespace $VM_HOST_NS with br0 and lo up
#   vm_add NAME INDEX        VM NAME at $VM_NET.INDEX (sets VM_ADDR); its lo is up too
#   vm_del NAME              the VM disappears: its processes killed, namespace deleted
#   in_host CMD...           run CMD in the host namespace (curl, python3, proxyctl)
#   in_vm NAME CMD...        run CMD in a VM
#   vm_start_bg LOG NS CMD...  a process in namespace NS, stopped on exit (BG_PID)
#   vm_httpback VM PORT NAME   httpback.py on 0.0.0.0:PORT in VM, answering "hello from NAME"
#   vm_start_proxyd LOG ARGS...  proxyd in the host namespace (PROXYD_PID)
#   vm_curl ARGS...          curl in the host namespace, -sS with a 20 s bound
#   vm_get HOST PATH         GET http://127.0.0.1:$VM_HTTP_PORT/PATH with Host HOST: sets
#                            CODE and $TMP/body

VM_HOST_NS=pxh$$
VM_NS_PREFIX=pxv$$
# 172.30.<random>.0/24: a private range; inside our own namespaces it can collide with nothing,
# and a random third byte keeps two tests' logs apart.
VM_NET=172.30.$(($(od -An -N1 -tu1 /dev/urandom) % 200 + 20))
VM_HTTP_PORT=8080
VM_NAMES=""

vm_require_netns() {
	require_cmd ip
	if [ "$(id -u)" != 0 ]; then
		skip "network namespaces need root (run make check as root to test the VM-host proxy)"
	fi
	if ! ip netns add "${VM_HOST_NS}probe" 2>"$TMP/netns.err"; then
		skip "cannot create network namespaces: $(cat "$TMP/netns.err")"
	fi
	ip netns del "${VM_HOST_NS}probe"
}

# Kill what runs in a namespace (gently, then not), then delete it.
_vm_ns_remove() {
	_ns=$1
	ip netns list 2>/dev/null | grep -q "^$_ns\( \|\$\)" || return 0
	_pids=$(ip netns pids "$_ns" 2>/dev/null)
	if [ -n "$_pids" ]; then
		kill -TERM $_pids 2>/dev/null
		_i=0
		while [ -n "$(ip netns pids "$_ns" 2>/dev/null)" ] && [ $_i -lt 20 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		_pids=$(ip netns pids "$_ns" 2>/dev/null)
		[ -n "$_pids" ] && kill -KILL $_pids 2>/dev/null
		_i=0
		while [ -n "$(ip netns pids "$_ns" 2>/dev/null)" ] && [ $_i -lt 20 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	fi
	ip netns del "$_ns" 2>/dev/null
}

vm_teardown() {
	for _n in $VM_NAMES; do
		_vm_ns_remove "$VM_NS_PREFIX-$_n"
	done
	_vm_ns_remove "$VM_HOST_NS"
	# Anything else of ours a failed step left behind (names are unique to this test).
	for _ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^($VM_HOST_NS|$VM_NS_PREFIX-)"); do
		_vm_ns_remove "$_ns"
	done
}

# Our teardown first, then lib.sh's cleanup with the exit code the test had.
trap '_vm_rc=$?; vm_teardown; (exit $_vm_rc); _cleanup' EXIT

in_host() {
	ip netns exec "$VM_HOST_NS" "$@"
}

in_vm() {
	_vm=$1
	shift
	ip netns exec "$VM_NS_PREFIX-$_vm" "$@"
}

vm_setup_host() {
	ip netns add "$VM_HOST_NS" || fail "ip netns add $VM_HOST_NS" "exit 0"
	ip -n "$VM_HOST_NS" link set lo up
	ip -n "$VM_HOST_NS" link add br0 type bridge || fail "bridge in $VM_HOST_NS" "exit 0"
	ip -n "$VM_HOST_NS" addr add "$VM_NET.1/24" dev br0
	ip -n "$VM_HOST_NS" link set br0 up
}

vm_add() {
	_ns=$VM_NS_PREFIX-$1
	ip netns add "$_ns" || fail "ip netns add $_ns" "exit 0"
	case " $VM_NAMES " in *" $1 "*) ;; *) VM_NAMES="$VM_NAMES $1" ;; esac
	ip -n "$_ns" link set lo up
	# The veth is made in the host namespace with its peer straight in the VM's.
	ip -n "$VM_HOST_NS" link add "v$1" type veth peer name eth0 netns "$_ns" ||
		fail "veth for VM $1" "exit 0"
	ip -n "$VM_HOST_NS" link set "v$1" master br0 up
	ip -n "$_ns" addr add "$VM_NET.$2/24" dev eth0
	ip -n "$_ns" link set eth0 up
	ip -n "$_ns" route add default via "$VM_NET.1"
	VM_ADDR=$VM_NET.$2
}

vm_del() {
	_vm_ns_remove "$VM_NS_PREFIX-$1"
}

vm_start_bg() {
	_log=$1 _ns=$2
	shift 2
	( run_bg ip netns exec "$_ns" "$@" ) >"$_log" 2>&1 </dev/null &
	BG_PID=$!
	track_pid $BG_PID
	wait_exec $BG_PID
}

vm_httpback() {
	vm_start_bg "$TMP/$3.log" "$VM_NS_PREFIX-$1" python3 "$HTTPBACK" "$2" --bind 0.0.0.0 --name "$3"
	wait_for_log 20 "$TMP/$3.log" "ready" "backend $3 ready in VM $1 on port $2"
}

vm_start_proxyd() {
	_log=$1
	shift
	vm_start_bg "$_log" "$VM_HOST_NS" "$PROXYD" "$@"
	PROXYD_PID=$BG_PID
}

vm_curl() {
	in_host curl -sS --max-time 20 "$@"
}

vm_get() {
	CODE=$(in_host curl -s --max-time 20 -o "$TMP/body" -w '%{http_code}' -H "Host: $1" \
		"http://127.0.0.1:$VM_HTTP_PORT$2")
}

# vm_expect HOST PATH STATUS BODY-SUBSTRING WHAT: one request and what a user would see.
vm_expect() {
	vm_get "$1" "$2"
	[ "$CODE" = "$3" ] && grep -qF -- "$4" "$TMP/body" ||
		fail "$5 (Host $1, GET $2)" "$3 with '$4' in the body" "status $CODE: $(cat "$TMP/body")
[proxyd]
$(tail -15 "$TMP/proxyd.log" 2>/dev/null)"
}
