#!/bin/sh
# proxyd -t with transport "quic" endpoints: etc/server-quic.conf and etc/agent-quic.conf
# pass; each file in tests/configs/bad-quic/ starts with "# expect: LINE: MESSAGE" comments,
# and proxyd -t must exit 1 and report exactly those, each at its line (as
# config_errors.sh does for the core's keys). The files name certificates under pki/, which
# this test makes next to them, so the plugin's loading of them is checked too.
. "$top_srcdir/tests/lib.sh"

QUIC_DIR="$top_builddir/plugins/transport-quic/.libs"
ls "$QUIC_DIR"/transport-quic.so >/dev/null 2>&1 || skip "the transport-quic plugin is not built"
[ -x "${PROXYCTL:-}" ] || fail "PROXYCTL is set to the built proxyctl" "an executable" "${PROXYCTL:-unset}"

"$PROXYCTL" pki init --dir "$TMP/pki" >/dev/null || fail "proxyctl pki init"
"$PROXYCTL" pki issue --dir "$TMP/pki" --server localhost --san IP:127.0.0.1 >/dev/null ||
	fail "proxyctl pki issue --server"
"$PROXYCTL" pki issue --dir "$TMP/pki" --agent agent-1 >/dev/null || fail "proxyctl pki issue --agent"

step "etc/agent-quic.conf passes proxyd -t"
cp "$top_srcdir/etc/agent-quic.conf" "$TMP/"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/agent-quic.conf" --plugin-dir "$QUIC_DIR"
assert_exit "proxyd -t agent-quic.conf" 0 "$RC" "$TMP/out" "$TMP/err"
assert_eq "one OK line" "$TMP/agent-quic.conf: configuration OK" "$(cat "$TMP/out")"

# The server example routes HTTP by the router plugins: only with them.
if [ -e "$top_builddir/plugins/router-path/.libs/router-path.so" ] &&
	[ -e "$top_builddir/plugins/router-subdomain/.libs/router-subdomain.so" ]; then
	step "etc/server-quic.conf passes proxyd -t"
	cp "$top_srcdir/etc/server-quic.conf" "$TMP/"
	run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/server-quic.conf" --plugin-dir "$QUIC_DIR" \
		--plugin-dir "$top_builddir/plugins/router-path/.libs" \
		--plugin-dir "$top_builddir/plugins/router-subdomain/.libs"
	assert_exit "proxyd -t server-quic.conf" 0 "$RC" "$TMP/out" "$TMP/err"
else
	echo "the router plugins are not built: etc/server-quic.conf is left out"
fi

step "a token listener: no client_ca is a valid server entry"
cat >"$TMP/token.conf" <<EOF
server = {
  listen = ( { transport = "quic"; address = "127.0.0.1:4433";
               cert = "pki/localhost.crt"; key = "pki/localhost.key";
               congestion = "bbr"; keepalive = 5; idle_timeout = 30; } );
};
EOF
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/token.conf" --plugin-dir "$QUIC_DIR"
assert_exit "proxyd -t token.conf" 0 "$RC" "$TMP/out" "$TMP/err"

n_files=0
for src in "$top_srcdir"/tests/configs/bad-quic/*.conf; do
	check_bad_config "$src" --plugin-dir "$QUIC_DIR"
	n_files=$((n_files + 1))
done
[ $n_files -ge 6 ] || fail "bad quic configurations found" "at least 6" "$n_files"
exit 0
