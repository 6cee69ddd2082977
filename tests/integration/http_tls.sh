#!/bin/sh
# TLS at the HTTP edge. Termination: one listener with two certificates, a.example.com and
# b.example.com, the one the client names in SNI is served (curl verifies it against the CA,
# openssl s_client shows its subject); the request reaches the agent's service, with
# X-Forwarded-Proto https; keep-alive works over TLS. Passthrough: SNI pt.example.com is not
# terminated: the bytes go to the agent's TLS service, whose own certificate the client sees.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

B1_PORT=$(free_port)
TLSB_PORT=$(free_port)
http_make_pki agent-1
for n in a.example.com b.example.com pt.example.com; do
	"$PROXYCTL" pki issue --dir "$TMP/pki" --server $n >/dev/null || fail "proxyctl pki issue --server $n"
done
write_http_server_conf "" ",
             { address = \"127.0.0.1:$HTTPS_PORT\";
               tls = ( { cert = \"pki/a.example.com.crt\"; key = \"pki/a.example.com.key\"; },
                       { cert = \"pki/b.example.com.crt\"; key = \"pki/b.example.com.key\"; } );
               passthrough = ( { sni = \"pt.example.com\"; agent = \"agent-1\"; service = \"tlsback\"; } ); }"
write_http_agent_conf agent-1 "$(http_service web "$B1_PORT" default),
               { name = \"tlsback\"; address = \"127.0.0.1:$TLSB_PORT\"; }"
start_httpback B1 back-1 "$B1_PORT"
start_httpback TLSB tls-back "$TLSB_PORT" --tls-cert "$TMP/pki/pt.example.com.crt" --tls-key "$TMP/pki/pt.example.com.key"
start_http_server
wait_for 10 port_listening "$HTTPS_PORT" || fail "TLS listener on $HTTPS_PORT" "listening" "$(tail -20 "$TMP/server.log")"
start_agent agent-1
wait_http_route 10 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

CA="--cacert $TMP/pki/ca.crt"
res() { echo "--resolve $1:$HTTPS_PORT:127.0.0.1"; }
subject() { # SNI-NAME: the subject of the certificate the listener presents for it
	openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$1" </dev/null 2>"$TMP/s_client.err" |
		openssl x509 -noout -subject -nameopt RFC2253 2>>"$TMP/s_client.err"
}

step "the tunnel's own TLS service answers directly (the backend is known good)"
out=$(curl -sS --max-time 10 $CA --resolve "pt.example.com:$TLSB_PORT:127.0.0.1" "https://pt.example.com:$TLSB_PORT/hello" 2>&1)
assert_eq "direct TLS backend" "hello from tls-back" "$out"

for n in a.example.com b.example.com; do
	step "termination with SNI $n"
	assert_eq "certificate presented for SNI $n" "subject=CN=$n" "$(subject $n)"
	out=$(curl -sS --max-time 10 $CA $(res $n) "https://$n:$HTTPS_PORT/proxy/agent-1/hello" 2>&1) ||
		fail "curl https://$n (verifying the certificate)" "hello from back-1" "$out"
	assert_eq "https://$n reaches the agent's service" "hello from back-1" "$out"
done

step "X-Forwarded-Proto https behind TLS termination"
curl -sS --max-time 10 $CA $(res a.example.com) -o "$TMP/eh.json" "https://a.example.com:$HTTPS_PORT/proxy/agent-1/echo-headers" ||
	fail "echo-headers over TLS" "exit 0" "$(cat "$TMP/eh.json")"
assert_eq "X-Forwarded-Proto" https "$(json_get "$TMP/eh.json" 'd["headers"].get("x-forwarded-proto")')"
printf '%s\n' "$(json_get "$TMP/eh.json" 'd["headers"].get("forwarded")')" >"$TMP/fwd.txt"
assert_matches "Forwarded proto=https" "$TMP/fwd.txt" "proto=https"

step "keep-alive over TLS"
curl -sS -v --max-time 10 $CA $(res b.example.com) "https://b.example.com:$HTTPS_PORT/proxy/agent-1/hello" \
	"https://b.example.com:$HTTPS_PORT/proxy/agent-1/cookies" >"$TMP/ka.out" 2>"$TMP/ka.err" ||
	fail "two requests over one TLS connection" "exit 0" "$(cat "$TMP/ka.out" "$TMP/ka.err")"
assert_contains "TLS connection reused" "$TMP/ka.err" "Re-using existing connection"
assert_eq "both answers" "hello from back-1
20 cookies" "$(cat "$TMP/ka.out")"

step "passthrough: SNI pt.example.com reaches the agent's TLS service untouched"
assert_eq "the backend's own certificate, not the edge's" "subject=CN=pt.example.com" "$(subject pt.example.com)"
out=$(curl -sS --max-time 10 $CA $(res pt.example.com) "https://pt.example.com:$HTTPS_PORT/hello" 2>&1) ||
	fail "curl https://pt.example.com through the passthrough" "hello from tls-back" "$out"
assert_eq "passthrough answer from the TLS backend" "hello from tls-back" "$out"
curl -sS --max-time 10 $CA $(res pt.example.com) -o "$TMP/pt.json" "https://pt.example.com:$HTTPS_PORT/echo-headers" ||
	fail "echo-headers through the passthrough" "exit 0" "$(cat "$TMP/pt.json")"
assert_eq "passthrough adds no X-Forwarded-For (the edge cannot see inside)" null \
	"$(json_get "$TMP/pt.json" 'd["headers"].get("x-forwarded-for")')"

step "the plain listener still works"
wait_http_route 5 "$HTTP_BASE/proxy/agent-1/hello" "hello from back-1"

step "proxyd -t names a key that does not belong to its certificate"
sed 's#key = "pki/a.example.com.key"#key = "pki/b.example.com.key"#' "$TMP/server.conf" >"$TMP/badkey.conf"
grep -q 'b.example.com.key' "$TMP/badkey.conf" || fail "the test swaps a.example.com's key" "a changed config" "$(cat "$TMP/badkey.conf")"
run_proxyd "$TMP/bk.out" "$TMP/bk.err" -t -c "$TMP/badkey.conf" $PLUGIN_DIRS
assert_exit "proxyd -t with a mismatched key" 1 "$RC" "$TMP/bk.out" "$TMP/bk.err"
assert_contains "the error names both files" "$TMP/bk.err" "b.example.com.key: does not belong to the certificate in"
exit 0
