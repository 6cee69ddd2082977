#!/bin/sh
# etc/vmhost.conf works as it is: proxyd -t accepts it, and run unchanged (only its admin
# socket moved into the test's directory) it serves the VMs it names, web1 at 172.30.0.2 and
# dev at 172.30.0.3, each a network namespace on a bridge with real web servers.
# Unlike the other vmhost tests, the addresses are the example's own, not random: they live
# only inside this test's namespaces, where nothing else can meet them.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
. "$top_srcdir/tests/vmhost_lib.sh"
http_require_edge

step "etc/vmhost.conf passes proxyd -t"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$top_srcdir/etc/vmhost.conf" $PLUGIN_DIRS
assert_exit "proxyd -t etc/vmhost.conf" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "it says so" "$TMP/out" "configuration OK"

vm_require_netns
VM_NET=172.30.0
vm_setup_host
vm_add web1 2
vm_add dev 3
vm_httpback web1 8080 web1
vm_httpback dev 8080 dev
vm_httpback dev 3000 dev-3000
sed "s|/tmp/proxyd-vmhost.sock|$TMP/admin.sock|" "$top_srcdir/etc/vmhost.conf" >"$TMP/vmhost.conf"
assert_eq "only the admin socket differs" 1 "$(diff "$top_srcdir/etc/vmhost.conf" "$TMP/vmhost.conf" | grep -c '^>')"
vm_start_proxyd "$TMP/proxyd.log" -f -c "$TMP/vmhost.conf" $PLUGIN_DIRS
wait_for 10 in_host sh -c "ss -Htln 'sport = :8080' | grep -q ." ||
	fail "proxyd listens" "a listener on 127.0.0.1:8080" "$(cat "$TMP/proxyd.log")"

step "the example's VMs, by subdomain"
vm_expect web1.host1.example.io /hello 200 "hello from web1" "web1 on port 8080"
vm_expect dev.host1.example.io /hello 200 "hello from dev" "dev on port 8080"
vm_expect dev-3000.host1.example.io /hello 200 "hello from dev-3000" "dev's own port 3000"
vm_expect web1-3000.host1.example.io /hello 403 "port 3000 is not open on web1" "web1 has no port 3000"
vm_expect other.host1.example.io /hello 404 "no VM named other" "a name the table does not have"
exit 0
