# tests/provider_lib.sh — proxyd with only a provider section, the programs it launches, and a
# throwaway sshd on loopback, for the provider tests. Source after tests/lib.sh.
#
#   write_provider_conf KEYS...    $TMP/provider.conf: admin socket in $TMP, one provider
#                                  "web" with local = 127.0.0.1:$LOCAL_PORT, state file
#                                  $TMP/web.url and KEYS (libconfig text) inside its group
#   start_provider_proxyd          start proxyd -f on it (PROXYD_PID), log $TMP/proxyd.log;
#                                  with PATH=$PROVIDER_PATH when that is set
#   start_bg LOG CMD...            a helper process, stopped on exit like proxyd (BG_PID)
#   start_local_service            httpback.py on $LOCAL_PORT (the service to make public)
#   start_sshd                     sshd on 127.0.0.1:$SSH_PORT that accepts $TMP/id_ed25519
#   child_of PID                   the pids whose parent is PID
#   assert_gone PID WHAT           the process no longer runs (within 3 s)

HTTPBACK="$top_srcdir/tests/tools/httpback.py"
PLUGIN_DIRS="--plugin-dir $top_builddir/plugins/provider-exec/.libs"
[ -f "$top_builddir/plugins/provider-exec/.libs/provider-exec.so" ] ||
	skip "provider-exec is not built (configure --enable-provider-exec)"
LOCAL_PORT=$(free_port)

write_provider_conf() {
	cat >"$TMP/provider.conf" <<EOF
log = { level = "debug"; };
admin = { socket = "$TMP/admin.sock"; };
drain_timeout = 10;
provider = ( {
  name = "web";
  local = "127.0.0.1:$LOCAL_PORT";
  state_file = "$TMP/web.url";
  $*
} );
EOF
}

start_provider_proxyd() { # with PROVIDER_PATH set, proxyd runs with that PATH
	if [ -n "${PROVIDER_PATH:-}" ]; then
		run_bg env PATH="$PROVIDER_PATH" "$PROXYD" -f -c "$TMP/provider.conf" $PLUGIN_DIRS \
			>"$TMP/proxyd.log" 2>&1 </dev/null &
		PROXYD_PID=$!
		STARTED_PIDS="$STARTED_PIDS $PROXYD_PID"
	else
		start_proxyd "$TMP/proxyd.log" -f -c "$TMP/provider.conf" $PLUGIN_DIRS
	fi
	wait_for_log 10 "$TMP/proxyd.log" "running (pid" "proxyd started"
}

start_bg() { # LOG CMD...
	_log=$1
	shift
	( run_bg "$@" ) >"$_log" 2>&1 </dev/null &
	BG_PID=$!
	track_pid $BG_PID
	wait_exec $BG_PID
}

start_local_service() {
	start_bg "$TMP/service.log" python3 "$HTTPBACK" "$LOCAL_PORT" --name local
	LOCAL_PID=$BG_PID
	wait_for_log 20 "$TMP/service.log" "ready" "the local service on $LOCAL_PORT"
}

start_sshd() {
	[ "$(id -u)" = 0 ] || skip "starting a throwaway sshd needs root"
	require_cmd ssh ssh-keygen
	[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd is not installed (openssh-server)"
	SSH_PORT=$(free_port)
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/host_key" >/dev/null || fail "ssh-keygen (host key)"
	ssh-keygen -q -t ed25519 -N '' -f "$TMP/id_ed25519" >/dev/null || fail "ssh-keygen (user key)"
	cp "$TMP/id_ed25519.pub" "$TMP/authorized_keys"
	chmod 600 "$TMP/authorized_keys"
	cat >"$TMP/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $TMP/host_key
PidFile $TMP/sshd.pid
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $TMP/authorized_keys
StrictModes no
AllowTcpForwarding yes
GatewayPorts no
UsePAM no
LogLevel VERBOSE
EOF
	# The privilege-separation directory sshd insists on (a package install makes it).
	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
	start_bg "$TMP/sshd.log" /usr/sbin/sshd -D -e -f "$TMP/sshd_config"
	SSHD_PID=$BG_PID
	wait_for 10 eval "ss -Htln 'sport = :$SSH_PORT' | grep -q ." ||
		fail "sshd listens on 127.0.0.1:$SSH_PORT" "a listener within 10 s" "$(cat "$TMP/sshd.log")"
}

child_of() {
	for _s in /proc/[0-9]*/stat; do
		sed -n "s/^\([0-9]*\) (.*) . $1 .*/\1/p" "$_s" 2>/dev/null
	done
}

assert_gone() {
	wait_for 3 eval "! alive $1" || fail "$2" "pid $1 gone" "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)"
}
