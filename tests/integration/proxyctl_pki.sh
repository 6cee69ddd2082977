#!/bin/sh
# proxyctl pki: the CA and the certificates it issues are what openssl itself accepts
# (verify, a real mTLS handshake), keys are 0600 PKCS#8 whatever the umask, and the
# refusals (existing CA, bad names, bad SAN entries) happen.
. "$top_srcdir/tests/lib.sh"

require_cmd openssl
[ -x "${PROXYCTL:-}" ] || { echo "ERROR: PROXYCTL=${PROXYCTL:-} is not an executable" >&2; exit 99; }

PKI=$TMP/pki
ctl() { # OUT ERR ARGS...: sets RC
	_o=$1 _e=$2
	shift 2
	"$PROXYCTL" "$@" >"$_o" 2>"$_e" </dev/null
	RC=$?
}
x509_text() { openssl x509 -noout -text -in "$1"; }

step "pki init makes a P-256 CA in a 0700 directory"
ctl "$TMP/out" "$TMP/err" pki init --dir "$PKI" --name "test CA"
assert_exit "pki init" 0 $RC "$TMP/out" "$TMP/err"
assert_contains "init says what it wrote" "$TMP/out" "wrote $PKI/ca.key"
assert_contains "init says what it wrote" "$TMP/out" "wrote $PKI/ca.crt"
assert_eq "pki dir mode" 700 "$(stat -c %a "$PKI")"
assert_eq "ca.key mode" 600 "$(stat -c %a "$PKI/ca.key")"
assert_eq "ca.key is PKCS#8" "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$PKI/ca.key")"
x509_text "$PKI/ca.crt" >"$TMP/ca.txt" || fail "openssl cannot read ca.crt"
assert_contains "CA key is P-256" "$TMP/ca.txt" "NIST CURVE: P-256"
assert_contains "CA basicConstraints critical" "$TMP/ca.txt" "X509v3 Basic Constraints: critical"
assert_contains "CA:TRUE" "$TMP/ca.txt" "CA:TRUE"
assert_contains "CA keyUsage critical" "$TMP/ca.txt" "X509v3 Key Usage: critical"
assert_contains "CA keyUsage" "$TMP/ca.txt" "Certificate Sign, CRL Sign"
assert_contains "CA subjectKeyIdentifier" "$TMP/ca.txt" "X509v3 Subject Key Identifier"
assert_contains "CA signed with SHA-256" "$TMP/ca.txt" "ecdsa-with-SHA256"
assert_eq "CA subject" "subject=CN=test CA" \
	"$(openssl x509 -noout -subject -nameopt RFC2253 -in "$PKI/ca.crt")"
# 10 years by default: notAfter is in 2035+ for a test run in 2025+, so compare with
# openssl's own arithmetic instead: valid in 9 years, not in 11.
openssl x509 -noout -checkend $((9 * 366 * 86400)) -in "$PKI/ca.crt" >/dev/null ||
	fail "CA valid for about 10 years" "still valid in 9 years" "$(openssl x509 -noout -enddate -in "$PKI/ca.crt")"
if openssl x509 -noout -checkend $((11 * 366 * 86400)) -in "$PKI/ca.crt" >/dev/null; then
	fail "CA valid for about 10 years" "expired in 11 years" "$(openssl x509 -noout -enddate -in "$PKI/ca.crt")"
fi

step "pki init refuses to replace a CA without --force"
fp_before=$(openssl x509 -noout -fingerprint -sha256 -in "$PKI/ca.crt")
ctl "$TMP/out" "$TMP/err" pki init --dir "$PKI"
assert_exit "second pki init" 1 $RC "$TMP/out" "$TMP/err"
assert_contains "refusal explained" "$TMP/err" "use --force"
assert_eq "CA unchanged" "$fp_before" "$(openssl x509 -noout -fingerprint -sha256 -in "$PKI/ca.crt")"

step "pki issue --server localhost --san IP:127.0.0.1, with umask 000"
(umask 000 && "$PROXYCTL" pki issue --dir "$PKI" --server localhost --san IP:127.0.0.1 \
	>"$TMP/out" 2>"$TMP/err" </dev/null)
assert_exit "issue --server" 0 $? "$TMP/out" "$TMP/err"
assert_contains "issue says what it wrote" "$TMP/out" "wrote $PKI/localhost.key"
assert_contains "issue says what it wrote" "$TMP/out" "wrote $PKI/localhost.crt"
assert_eq "server key mode despite umask 000" 600 "$(stat -c %a "$PKI/localhost.key")"
assert_eq "server key is PKCS#8" "-----BEGIN PRIVATE KEY-----" "$(head -n 1 "$PKI/localhost.key")"
x509_text "$PKI/localhost.crt" >"$TMP/srv.txt" || fail "openssl cannot read localhost.crt"
assert_contains "server key is P-256" "$TMP/srv.txt" "NIST CURVE: P-256"
assert_contains "server EKU" "$TMP/srv.txt" "TLS Web Server Authentication"
assert_not_contains "server EKU only" "$TMP/srv.txt" "TLS Web Client Authentication"
assert_contains "server SAN" "$TMP/srv.txt" "DNS:localhost, IP Address:127.0.0.1"
assert_contains "keyUsage critical" "$TMP/srv.txt" "X509v3 Key Usage: critical"
assert_contains "keyUsage" "$TMP/srv.txt" "Digital Signature"
assert_contains "authorityKeyIdentifier" "$TMP/srv.txt" "X509v3 Authority Key Identifier"
assert_contains "not a CA" "$TMP/srv.txt" "CA:FALSE"
assert_eq "server CN" "subject=CN=localhost" \
	"$(openssl x509 -noout -subject -nameopt RFC2253 -in "$PKI/localhost.crt")"
assert_eq "issuer is the CA" "issuer=CN=test CA" \
	"$(openssl x509 -noout -issuer -nameopt RFC2253 -in "$PKI/localhost.crt")"
serial=$(openssl x509 -noout -serial -in "$PKI/localhost.crt" | sed 's/^serial=//')
[ ${#serial} -ge 24 ] || fail "128-bit random serial" "about 32 hex digits" "$serial"
openssl x509 -noout -checkend $((824 * 86400)) -in "$PKI/localhost.crt" >/dev/null ||
	fail "825 days by default" "valid in 824 days" "$(openssl x509 -noout -enddate -in "$PKI/localhost.crt")"
if openssl x509 -noout -checkend $((826 * 86400)) -in "$PKI/localhost.crt" >/dev/null; then
	fail "825 days by default" "expired in 826 days" "$(openssl x509 -noout -enddate -in "$PKI/localhost.crt")"
fi

step "pki issue --agent agent-1"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent agent-1
assert_exit "issue --agent" 0 $RC "$TMP/out" "$TMP/err"
assert_eq "agent key mode" 600 "$(stat -c %a "$PKI/agent-1.key")"
x509_text "$PKI/agent-1.crt" >"$TMP/agt.txt" || fail "openssl cannot read agent-1.crt"
assert_contains "agent key is P-256" "$TMP/agt.txt" "NIST CURVE: P-256"
assert_contains "agent EKU" "$TMP/agt.txt" "TLS Web Client Authentication"
assert_not_contains "agent EKU only" "$TMP/agt.txt" "TLS Web Server Authentication"
assert_contains "agent SAN" "$TMP/agt.txt" "DNS:agent-1"
assert_eq "agent CN" "subject=CN=agent-1" \
	"$(openssl x509 -noout -subject -nameopt RFC2253 -in "$PKI/agent-1.crt")"
serial2=$(openssl x509 -noout -serial -in "$PKI/agent-1.crt" | sed 's/^serial=//')
[ "$serial" != "$serial2" ] || fail "serials differ" "two serials" "$serial twice"

step "openssl verify accepts both, with the right purpose"
openssl verify -CAfile "$PKI/ca.crt" -purpose sslserver "$PKI/localhost.crt" >"$TMP/v" 2>&1 ||
	fail "verify server cert" "OK" "$(cat "$TMP/v")"
openssl verify -CAfile "$PKI/ca.crt" -purpose sslclient "$PKI/agent-1.crt" >"$TMP/v" 2>&1 ||
	fail "verify agent cert" "OK" "$(cat "$TMP/v")"
if openssl verify -CAfile "$PKI/ca.crt" -purpose sslserver "$PKI/agent-1.crt" >"$TMP/v" 2>&1; then
	fail "an agent certificate must not pass as a server's" "verify error" "$(cat "$TMP/v")"
fi

step "an --expired certificate fails verification"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent agent-old --expired
assert_exit "issue --expired" 0 $RC "$TMP/out" "$TMP/err"
if openssl verify -CAfile "$PKI/ca.crt" "$PKI/agent-old.crt" >"$TMP/v" 2>&1; then
	fail "expired cert verifies" "certificate has expired" "$(cat "$TMP/v")"
fi
assert_contains "expired cert" "$TMP/v" "certificate has expired"

step "mTLS handshake: openssl s_server with the server cert, s_client with the agent cert"
port=$(free_port)
# -www: s_server answers HTTP instead of relaying its stdin, which would end it at once.
# -naccept 1: it exits after this one connection and prints its counters.
openssl s_server -accept "127.0.0.1:$port" -naccept 1 -www -cert "$PKI/localhost.crt" \
	-key "$PKI/localhost.key" -CAfile "$PKI/ca.crt" -Verify 1 -verify_return_error \
	>"$TMP/s_server.log" 2>&1 </dev/null &
server_pid=$!
track_pid $server_pid
wait_for_log 10 "$TMP/s_server.log" "ACCEPT" "s_server listening"
timeout 20 openssl s_client -connect "127.0.0.1:$port" -servername localhost \
	-verify_hostname localhost -CAfile "$PKI/ca.crt" -cert "$PKI/agent-1.crt" \
	-key "$PKI/agent-1.key" -verify_return_error </dev/null >"$TMP/s_client.log" 2>&1
assert_exit "s_client handshake" 0 $? "$TMP/s_client.log" "$TMP/s_server.log"
assert_contains "server cert verified by the client" "$TMP/s_client.log" "Verify return code: 0 (ok)"
# The server checks the client's certificate after the client's Finished (TLS 1.3), so
# look at what the server says once it is done with its one connection.
wait_exit 10 $server_pid || fail "s_server still running after its one connection" "exit" "$(cat "$TMP/s_server.log")"
assert_contains "server verified the agent certificate" "$TMP/s_server.log" "depth=0 CN = agent-1"
assert_not_contains "client cert accepted" "$TMP/s_server.log" "verify error"
assert_contains "server finished the handshake" "$TMP/s_server.log" "1 server accepts that finished"

step "pki issue refuses to overwrite, --force replaces"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent agent-1
assert_exit "issue existing agent" 1 $RC "$TMP/out" "$TMP/err"
assert_contains "refusal explained" "$TMP/err" "use --force"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent agent-1 --force
assert_exit "issue --force" 0 $RC "$TMP/out" "$TMP/err"
assert_eq "replaced key mode" 600 "$(stat -c %a "$PKI/agent-1.key")"
[ "$serial2" != "$(openssl x509 -noout -serial -in "$PKI/agent-1.crt" | sed 's/^serial=//')" ] ||
	fail "--force issued a new certificate"

step "bad names and SAN entries are refused, nothing written"
long=$(printf 'a%.0s' $(seq 1 65))
for bad in "bad/id" "has space" "" "$long" "agent:1" "ca"; do
	ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent "$bad"
	assert_exit "agent id '$bad'" 2 $RC "$TMP/out" "$TMP/err"
done
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent "bad/id"
assert_contains "bad id explained" "$TMP/err" "bad agent id"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --agent "$(printf 'a%.0s' $(seq 1 64))"
assert_exit "64-character agent id" 0 $RC "$TMP/out" "$TMP/err"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server ../evil
assert_exit "server name ../evil" 2 $RC "$TMP/out" "$TMP/err"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server srv --san FOO:bar
assert_exit "--san FOO:bar" 2 $RC "$TMP/out" "$TMP/err"
assert_contains "bad SAN explained" "$TMP/err" "bad --san entry 'FOO:bar'"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server srv --san IP:300.1.1.1
assert_exit "--san IP:300.1.1.1" 2 $RC "$TMP/out" "$TMP/err"
[ ! -e "$PKI/srv.key" ] && [ ! -e "$PKI/srv.crt" ] || fail "a refused issue left files behind"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server srv --agent a
assert_exit "--server and --agent together" 2 $RC "$TMP/out" "$TMP/err"

step "an IP address as server name gets an IP SAN"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server 10.1.2.3 --san DNS:proxy.example,IP:::1
assert_exit "issue --server 10.1.2.3" 0 $RC "$TMP/out" "$TMP/err"
x509_text "$PKI/10.1.2.3.crt" >"$TMP/ip.txt"
assert_contains "IP SAN" "$TMP/ip.txt" "DNS:10.1.2.3, IP Address:10.1.2.3, DNS:proxy.example, IP Address:0:0:0:0:0:0:0:1"

step "a wildcard SAN: issued, verified for one label under it and no other"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server wild.example.com --san 'DNS:*.wild.example.com'
assert_exit "issue --san DNS:*.wild.example.com" 0 $RC "$TMP/out" "$TMP/err"
x509_text "$PKI/wild.example.com.crt" >"$TMP/wild.txt"
assert_contains "wildcard SAN" "$TMP/wild.txt" "DNS:wild.example.com, DNS:*.wild.example.com"
for host in a.wild.example.com wild.example.com; do
	openssl verify -CAfile "$PKI/ca.crt" -purpose sslserver -verify_hostname "$host" \
		"$PKI/wild.example.com.crt" >"$TMP/v" 2>&1 ||
		fail "wildcard certificate for $host" "OK" "$(cat "$TMP/v")"
done
for host in a.b.wild.example.com other.example.com; do
	if openssl verify -CAfile "$PKI/ca.crt" -purpose sslserver -verify_hostname "$host" \
		"$PKI/wild.example.com.crt" >"$TMP/v" 2>&1; then
		fail "wildcard certificate must not verify for $host" "hostname mismatch" "$(cat "$TMP/v")"
	fi
done
for bad in 'DNS:*.com' 'DNS:*' 'DNS:*.' 'DNS:a.*.example.com' 'DNS:*a.example.com' \
	'DNS:**.example.com' 'DNS:*.*.example.com' 'DNS:example.com.'; do
	ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server bad-wild --san "$bad"
	assert_exit "--san $bad" 2 $RC "$TMP/out" "$TMP/err"
done
assert_contains "bad wildcard explained" "$TMP/err" "bad --san entry 'DNS:example.com.'"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server bad-wild --san 'DNS:a.*.example.com'
assert_contains "bad wildcard explained" "$TMP/err" "a wildcard must be the whole first label"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$PKI" --server '*.example.com'
assert_exit "a wildcard as the server name (a file name)" 2 $RC "$TMP/out" "$TMP/err"
[ ! -e "$PKI/bad-wild.crt" ] || fail "a refused wildcard left files behind"

step "no CA: a clear error"
ctl "$TMP/out" "$TMP/err" pki issue --dir "$TMP/none" --agent a
assert_exit "issue without a CA" 1 $RC "$TMP/out" "$TMP/err"
assert_contains "no CA explained" "$TMP/err" "proxyctl pki init"

step "pki init --force replaces the CA"
ctl "$TMP/out" "$TMP/err" pki init --dir "$PKI" --force --days 30
assert_exit "pki init --force" 0 $RC "$TMP/out" "$TMP/err"
[ "$fp_before" != "$(openssl x509 -noout -fingerprint -sha256 -in "$PKI/ca.crt")" ] ||
	fail "--force made a new CA"
if openssl verify -CAfile "$PKI/ca.crt" "$PKI/localhost.crt" >/dev/null 2>&1; then
	fail "old certificates stop verifying under a new CA"
fi
exit 0
