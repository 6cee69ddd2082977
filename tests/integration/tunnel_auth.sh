#!/bin/sh
# Refusals, each with a log line that names the reason: wrong CA, expired certificate,
# wrong token, unknown agent. A good token agent is accepted beside them.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"

# The same words over both transports: the QUIC engine explains a refused certificate in
# OpenSSL's terms, as transport-tcp does.
SAYS_UNTRUSTED_SERVER="certificate verify failed"
SAYS_UNKNOWN_ISSUER="unable to get local issuer certificate"
SAYS_EXPIRED="certificate has expired"
make_pki
"$PROXYCTL" pki init --dir "$TMP/other" >/dev/null || fail "second CA"
"$PROXYCTL" pki issue --dir "$TMP/other" --agent agent-1 >/dev/null || fail "agent cert from the other CA"
mkdir -p "$TMP/expired"
cp "$TMP/pki/ca.crt" "$TMP/pki/ca.key" "$TMP/expired/"
"$PROXYCTL" pki issue --dir "$TMP/expired" --agent agent-1 --expired >/dev/null || fail "expired cert"
printf 'agent-2 %s\n' "correct-horse-battery-staple-2" >"$TMP/tokens"

# mTLS listener as usual, plus a TLS listener without client certificates for tokens.
TOKEN_PORT=$(free_port)
write_server_conf "tokens_file = \"tokens\";"
sed -i "s#client_ca = \"pki/ca.crt\"; } );#client_ca = \"pki/ca.crt\"; },\n             { transport = \"$TRANSPORT\"; address = \"127.0.0.1:$TOKEN_PORT\"; cert = \"pki/localhost.crt\"; key = \"pki/localhost.key\"; } );#" "$TMP/server.conf"
start_echo_service
start_server

step "wrong CA: the agent does not trust the server"
write_agent_conf agent-1 'ca = "other/ca.crt"; cert = "other/agent-1.crt"; key = "other/agent-1.key";'
start_agent agent-1 no
wait_for_log 10 "$TMP/agent-agent-1.log" "$SAYS_UNTRUSTED_SERVER" "agent names the failed verification"
kill "$AGENT_PID"

step "client certificate from another CA: the server refuses it"
write_agent_conf agent-1 'ca = "pki/ca.crt"; cert = "other/agent-1.crt"; key = "other/agent-1.key";'
mv "$TMP/agent-agent-1.log" "$TMP/agent-wrongca.log"
start_agent agent-1 no
# (Not "unknown ca": that is the alert the previous agent sent, already in the log.)
wait_for_log 10 "$TMP/server.log" "$SAYS_UNKNOWN_ISSUER" "server names the unknown issuer"
kill "$AGENT_PID"

step "expired client certificate"
write_agent_conf agent-1 'ca = "pki/ca.crt"; cert = "expired/agent-1.crt"; key = "expired/agent-1.key";'
mv "$TMP/agent-agent-1.log" "$TMP/agent-othercert.log"
start_agent agent-1 no
wait_for_log 10 "$TMP/server.log" "$SAYS_EXPIRED" "server names the expired certificate"
kill "$AGENT_PID"

step "wrong token"
AGENT_SERVER_PORT=$TOKEN_PORT
printf 'wrong-token-wrong-token\n' >"$TMP/bad.token"
write_agent_conf agent-2 'ca = "pki/ca.crt";' 'token_file = "bad.token";'
start_agent agent-2 no
wait_for_log 10 "$TMP/server.log" "wrong token for agent 'agent-2'" "server names the wrong token"
assert_not_contains "the token never reaches a log" "$TMP/server.log" "wrong-token-wrong-token"
assert_not_contains "the token never reaches the agent log" "$TMP/agent-agent-2.log" "wrong-token-wrong-token"
kill "$AGENT_PID"

step "unknown agent (no certificate, no token)"
write_agent_conf agent-3 'ca = "pki/ca.crt";'
start_agent agent-3 no
wait_for_log 10 "$TMP/server.log" "unknown agent: no client certificate and no token configured for 'agent-3'" "server names the unknown agent"
kill "$AGENT_PID"

step "the right token is accepted"
printf 'correct-horse-battery-staple-2\n' >"$TMP/good.token"
write_agent_conf agent-2 'ca = "pki/ca.crt";' 'token_file = "good.token";'
mv "$TMP/agent-agent-2.log" "$TMP/agent-badtoken.log"
start_agent agent-2
assert_contains "token agent authenticated" "$TMP/server.log" "agent agent-2 authenticated (token)"
assert_not_contains "the token never reaches a log" "$TMP/server.log" "correct-horse-battery-staple-2"
exit 0
