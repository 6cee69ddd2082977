#!/bin/sh
# proxyd -t with the agent-to-agent keys: etc/agent-consumer.conf and etc/agent-provider.conf
# pass; each file in tests/configs/bad-peer/ starts with "# expect: LINE: MESSAGE" comments,
# and proxyd -t must exit 1 and report exactly those, each at its line (no knock-on errors).
. "$top_srcdir/tests/lib.sh"

TCP_DIR="$top_builddir/plugins/transport-tcp/.libs"
PUNCH_DIR="$top_builddir/plugins/transport-udp-punch/.libs"
ls "$TCP_DIR"/transport-tcp.so "$PUNCH_DIR"/transport-udp-punch.so >/dev/null 2>&1 ||
	skip "the transport-tcp and transport-udp-punch plugins are not both built"
[ -x "${PROXYCTL:-}" ] || fail "PROXYCTL is set to the built proxyctl" "an executable" "${PROXYCTL:-unset}"

"$PROXYCTL" pki init --dir "$TMP/pki" >/dev/null || fail "proxyctl pki init"
"$PROXYCTL" pki issue --dir "$TMP/pki" --server localhost --san IP:127.0.0.1 >/dev/null ||
	fail "proxyctl pki issue --server"
for a in agent-1 agent-2; do
	"$PROXYCTL" pki issue --dir "$TMP/pki" --agent $a >/dev/null || fail "proxyctl pki issue --agent $a"
done

for ex in agent-consumer agent-provider; do
	step "etc/$ex.conf passes proxyd -t"
	cp "$top_srcdir/etc/$ex.conf" "$TMP/"
	run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/$ex.conf" --plugin-dir "$TCP_DIR" --plugin-dir "$PUNCH_DIR"
	assert_exit "proxyd -t $ex.conf" 0 "$RC" "$TMP/out" "$TMP/err"
done

n_files=0
for src in "$top_srcdir"/tests/configs/bad-peer/*.conf; do
	check_bad_config "$src" --plugin-dir "$TCP_DIR" --plugin-dir "$PUNCH_DIR"
	n_files=$((n_files + 1))
done
[ $n_files -ge 5 ] || fail "bad agent-to-agent configurations found" "at least 5" "$n_files"
exit 0
