#!/bin/sh
# The VM-host proxy with a command resolver, resolve_cmd = [ ".../shed", "ip", "{name}" ]:
# a real program looks each VM's address up (here a shell script over a table the test
# edits). What a user sees: each VM by name and <name>-<port> (the ports the command prints
# are open on that VM); 404 for a name the command does not know, 502 with the reason when it
# fails or hangs (and a hung one is killed); 403 for a port on no list. Behind that: one run
# per name while the answer is cached, one run for many requests that arrive together. A VM
# that disappears gives 502; when it comes back, at a new address even, it is reached again
# (the failed connection made the cache look again) although cache_ttl is long.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
. "$top_srcdir/tests/vmhost_lib.sh"
http_require_edge
vm_require_netns

vm_setup_host
vm_add web1 2
vm_add web2 3
vm_httpback web1 8080 web1
vm_httpback web1 3000 web1-3000
vm_httpback web2 8080 web2

# The resolver: `shed ip NAME` prints "ADDRESS [PORT ...]" from $TMP/vms, nothing for a name
# it does not know; every run is logged in $TMP/calls.
mkdir "$TMP/bin"
cat >"$TMP/bin/shed" <<SH
#!/bin/sh
[ "\$1" = ip ] || { echo "usage: shed ip NAME" >&2; exit 64; }
echo "\$2" >>"$TMP/calls"
[ -e "$TMP/slow-\$2" ] && sleep 1
case \$2 in
broken) echo "the VM database is down" >&2; exit 1 ;;
hung) exec sleep 300 ;;
retired) exit 2 ;;
esac
sed -n "s/^\$2 //p" "$TMP/vms"
SH
chmod +x "$TMP/bin/shed"
printf 'web1 %s 3000\nweb2 %s\n' "$VM_NET.2" "$VM_NET.3" >"$TMP/vms"
: >"$TMP/calls"
calls() { grep -cx "$1" "$TMP/calls"; }

cat >"$TMP/vmhost.conf" <<CONF
log = { level = "debug"; };
admin = { socket = "$TMP/admin.sock"; };
drain_timeout = 3;
http = {
  listen = ( { address = "127.0.0.1:$VM_HTTP_PORT"; } );
  routes = ( { router = "subdomain"; base_domain = "vm.test";
               resolve_cmd = [ "$TMP/bin/shed", "ip", "{name}" ];
               resolve_timeout = 2;
               resolve_not_found_status = 2;
               cache_ttl = 300; cache_miss_ttl = 1; cache_error_ttl = 1;
               networks = [ "$VM_NET.0/24" ]; } );
  response_timeout = 15;
};
CONF
run_proxyd "$TMP/t.out" "$TMP/t.err" -t -c "$TMP/vmhost.conf" $PLUGIN_DIRS
assert_exit "proxyd -t vmhost.conf" 0 "$RC" "$TMP/t.out" "$TMP/t.err"
vm_start_proxyd "$TMP/proxyd.log" -f -c "$TMP/vmhost.conf" $PLUGIN_DIRS
wait_for 10 in_host sh -c "ss -Htln 'sport = :$VM_HTTP_PORT' | grep -q ." ||
	fail "proxyd listens in the host namespace" "a listener on :$VM_HTTP_PORT" "$(cat "$TMP/proxyd.log")"

step "by name and by <name>-<port> (a port the command printed)"
vm_expect web1.vm.test /hello 200 "hello from web1" "VM web1, looked up by the command"
vm_expect web1-3000.vm.test /hello 200 "hello from web1-3000" "web1's port 3000"
vm_expect web2.vm.test /hello 200 "hello from web2" "VM web2"
vm_expect web1.vm.test /hello 200 "hello from web1" "web1 again"
assert_eq "one run of the command per name while cached (web1)" 1 "$(calls web1)"
assert_eq "one run of the command per name while cached (web2)" 1 "$(calls web2)"

step "requests that arrive together wait for one run"
printf 'web3 %s\n' "$VM_NET.2" >>"$TMP/vms"
: >"$TMP/slow-web3"
curls=""
for i in 1 2 3 4 5 6; do
	in_host curl -s --max-time 20 -o "$TMP/par$i.body" -w '%{http_code}' -H "Host: web3.vm.test" \
		"http://127.0.0.1:$VM_HTTP_PORT/hello" >"$TMP/par$i.code" &
	curls="$curls $!"
done
for p in $curls; do
	wait "$p"
done
for i in 1 2 3 4 5 6; do
	assert_eq "concurrent request $i" "200 hello from web1" "$(cat "$TMP/par$i.code") $(cat "$TMP/par$i.body")"
done
assert_eq "six requests for a new name, one run" 1 "$(calls web3)"
assert_contains "they waited for the router" "$TMP/proxyd.log" "waiting for router 'subdomain'"

step "refusals: a port on no list, names the command does not know"
vm_expect web2-3000.vm.test /hello 403 "port 3000 is not open on web2" "port 3000 is web1's only"
vm_expect nosuch.vm.test /hello 404 "no VM named nosuch" "the command printed nothing"
vm_expect retired.vm.test /hello 404 "no VM named retired" "the command exited with resolve_not_found_status"

step "a resolver that fails or hangs: 502 with the reason"
vm_expect broken.vm.test /hello 502 "cannot look up broken: the command exited with status 1" "a failing command"
assert_contains "what the command said is in the log, not in the page" "$TMP/proxyd.log" "it said: the VM database is down"
assert_not_contains "the page does not show the command's stderr" "$TMP/body" "database"
vm_expect broken.vm.test /hello 502 "status 1" "the failure is cached briefly"
assert_eq "runs for 'broken' within cache_error_ttl" 1 "$(calls broken)"
sleep 1.2
vm_expect broken.vm.test /hello 502 "status 1" "and looked up again afterwards"
assert_eq "runs for 'broken' after cache_error_ttl" 2 "$(calls broken)"
vm_expect hung.vm.test /hello 502 "cannot look up hung: the command took longer than 2 s (killed)" "a command that hangs"
wait_for 5 sh -c "! ip netns pids $VM_HOST_NS | xargs -r -I{} cat /proc/{}/comm 2>/dev/null | grep -qx sleep" ||
	fail "the hung command is killed" "no 'sleep' left in the host namespace" "$(ps -ef | grep 'sleep 300' | grep -v grep)"

step "a VM that disappears: 502"
vm_del web1
# A real host forgets a vanished VM's link-layer address; without this the test would wait
# for the kernel's neighbour entry to go stale (~30 s) before the connect can fail.
ip -n "$VM_HOST_NS" neigh flush to "$VM_NET.2"
vm_expect web1.vm.test /hello 502 "$VM_NET.2:8080" "VM web1 is gone"
assert_matches "the reason" "$TMP/body" "cannot connect|[Nn]o route to host"

step "it comes back at another address: reached again, although cache_ttl is 300 s"
vm_add web1 12
vm_httpback web1 8080 web1-again
sed -i "s/^web1 .*/web1 $VM_NET.12 3000/" "$TMP/vms"
sleep 1.2
vm_expect web1.vm.test /hello 200 "hello from web1-again" "web1 at its new address"
assert_eq "the failed connection made the cache look web1 up again" 2 "$(calls web1)"

step "a VM that disappears and comes back at the same address"
vm_del web2
ip -n "$VM_HOST_NS" neigh flush to "$VM_NET.3"
vm_expect web2.vm.test /hello 502 "$VM_NET.3:8080" "VM web2 is gone"
vm_add web2 3
vm_httpback web2 8080 web2-again
sleep 1.2
vm_expect web2.vm.test /hello 200 "hello from web2-again" "web2 back"
exit 0
