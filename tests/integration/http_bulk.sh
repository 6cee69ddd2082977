#!/bin/sh
# 1 GiB through the HTTP edge each way, streamed: downloads with Content-Length and chunked,
# uploads chunked (curl -T -) and with Content-Length after Expect: 100-continue, each with
# its SHA-256 checked; the server's RSS, sampled every second, stays under 64 MB and grows
# by less than 32 MB: bounded by what one stream may hold (its flow-control window, at most
# 16 MiB, plus the TLS link's ciphertext buffers and the heap malloc keeps for reuse), never
# by the 1 GiB that goes through (the edge must not buffer bodies).
# PROXYD_BULK_BYTES=N changes the size; PROXYD_HTTP_RSS_MAX_KB / _GROWTH_KB the limits.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tunnel_lib.sh"
. "$top_srcdir/tests/http_lib.sh"
http_require_edge

SIZE=${PROXYD_BULK_BYTES:-1073741824}
RSS_MAX=${PROXYD_HTTP_RSS_MAX_KB:-65536}
RSS_GROWTH=${PROXYD_HTTP_RSS_GROWTH_KB:-32768}
if grep -q -- '-fsanitize' "$top_builddir/Makefile" 2>/dev/null && [ -z "${PROXYD_HTTP_RSS_MAX_KB:-}" ]; then
	RSS_MAX=1048576 # AddressSanitizer's shadow memory and quarantine: only the growth is meaningful
fi

B1_PORT=$(free_port)
http_make_pki agent-1
write_http_server_conf
write_http_agent_conf agent-1 "$(http_service web "$B1_PORT" default)"
start_httpback B1 back-1 "$B1_PORT"
start_http_server
start_agent agent-1
URL=$HTTP_BASE/proxy/agent-1
wait_http_route 10 "$URL/hello" "hello from back-1"

sample_rss "$SERVER_PID" "$TMP/rss.txt"
sleep 1.5
base=$(head -n 1 "$TMP/rss.txt")
[ -n "$base" ] || fail "RSS sampling" "a number" "$(cat "$TMP/rss.txt")"
echo "server RSS before: $base kB"

# The upload stream: SIZE bytes of AES-CTR keystream, the same every time it is made.
upstream() {
	head -c "$SIZE" /dev/zero | openssl enc -aes-128-ctr -nosalt \
		-K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 2>/dev/null
}

for q in "n=$SIZE" "n=$SIZE&chunked=1"; do
	step "download $SIZE bytes (bytes?$q)"
	t0=$(date +%s)
	sum=$(curl -sS --max-time 900 -D "$TMP/dl.h" "$URL/bytes?$q" 2>"$TMP/dl.err" | sha256sum | cut -d' ' -f1)
	want=$(tr -d '\r' <"$TMP/dl.h" | sed -n 's/^[Xx]-[Ss]ha256: //p')
	[ -n "$want" ] || fail "download bytes?$q: a response with X-Sha256" "200 and X-Sha256" "$(cat "$TMP/dl.h" "$TMP/dl.err")"
	assert_eq "downloaded $SIZE bytes (bytes?$q) intact" "$want" "$sum"
	echo "download bytes?$q: $(($(date +%s) - t0)) s"
done

step "upload $SIZE bytes chunked (curl -T -)"
want=$(upstream | sha256sum | cut -d' ' -f1)
t0=$(date +%s)
upstream | curl -sS --max-time 900 -T - "$URL/upload" >"$TMP/up.json" 2>&1 ||
	fail "chunked upload" "exit 0" "$(cat "$TMP/up.json")"
assert_eq "the backend got $SIZE bytes" "$SIZE" "$(json_get "$TMP/up.json" 'd["length"]')"
assert_eq "the backend got the same bytes" "$want" "$(json_get "$TMP/up.json" 'd["sha256"]')"
echo "chunked upload: $(($(date +%s) - t0)) s"

step "upload $SIZE bytes with Content-Length after Expect: 100-continue"
python3 "$HTTPCLIENT" --timeout 120 expect100 "$URL/upload" "$SIZE" >"$TMP/up2.out" 2>&1 ||
	fail "upload with Expect: 100-continue" "a 100 Continue, then 200" "$(cat "$TMP/up2.out")"
sent=$(sed -n 's/^sent sha256 //p' "$TMP/up2.out")
assert_contains "100 Continue came through the edge" "$TMP/up2.out" "100 after"
assert_contains "the backend got the same bytes" "$TMP/up2.out" "\"length\": $SIZE, \"sha256\": \"$sent\""

sleep 1.5
kill "$RSS_SAMPLER_PID" 2>/dev/null
max=$(sort -n "$TMP/rss.txt" | tail -n 1)
echo "server RSS: before $base kB, peak $max kB over $(wc -l <"$TMP/rss.txt") samples; agent now $(rss_kb "$AGENT_PID") kB"
[ "$max" -lt "$RSS_MAX" ] ||
	fail "server RSS stays bounded during 4 x $SIZE bytes" "peak under $RSS_MAX kB" "$max kB (samples: $(tr '\n' ' ' <"$TMP/rss.txt"))"
[ $((max - base)) -lt "$RSS_GROWTH" ] ||
	fail "server RSS growth during the transfers" "less than $RSS_GROWTH kB" "$((max - base)) kB (from $base to $max)"
exit 0
