#!/bin/sh
# The ABI load checks against real shared objects: every defective fixture is refused with its
# own reason (expected versus got), none of their code runs, and the good plugins beside them
# (including one built against a shorter ops table) load and are usable by a configuration.
. "$top_srcdir/tests/lib.sh"

major=$(abi_major)
minor=$(abi_minor)
F=$FIXTURE_DIR

step "proxyd -V --plugin-dir FIXTURE_DIR"
run_proxyd "$TMP/out" "$TMP/err" -V --plugin-dir "$F"
assert_exit "proxyd -V --plugin-dir $F" 0 "$RC" "$TMP/out" "$TMP/err"
V=$TMP/out

# refused FIXTURE REASON: the listing has "refused DIR/FIXTURE.so: REASON..."
refused() {
	assert_contains "$1 is refused with its reason" "$V" "  refused $F/$1.so: $2"
}
refused bad-magic "bad magic: expected 0x50525859, got 0xdeadbeef"
refused other-major "ABI major version mismatch: expected $major, got $((major + 1))"
refused newer-minor "built for a newer ABI: expected minor <= $minor, got $((minor + 1))"
refused larger-struct "descriptor larger than this host knows: expected <= "
refused no-symbol "entry symbol missing: expected 'proxyd_plugin_descriptor'"
refused missing-callback "required callback missing: expected dial() in the transport ops, got NULL"
refused zz-duplicate "duplicate name: 'fixture-good' is already loaded from $F/good.so"

# The larger descriptor's numbers: it claims 16 bytes more than the host's struct.
host_size=$(sed -n "s|.*larger-struct.so: .*expected <= \([0-9]*\) bytes, got \([0-9]*\)\$|\1|p" "$V")
got_size=$(sed -n "s|.*larger-struct.so: .*expected <= \([0-9]*\) bytes, got \([0-9]*\)\$|\2|p" "$V")
[ -n "$host_size" ] && [ -n "$got_size" ] ||
	fail "larger-struct's reason gives both sizes" "expected <= N bytes, got M" "$(cat "$V")"
assert_eq "larger-struct's reported size is the host's plus the fixture's 16 extra bytes" \
	"$((host_size + 16))" "$got_size"

assert_matches "fixture-good loads beside the refused ones" "$V" \
	"^  transport-fixture-good +0\.0\.1 +ABI $major\.$minor +$F/good\.so\$"
assert_matches "older-ops (a shorter ops table) loads" "$V" \
	"^  transport-fixture-older-ops +0\.0\.1 +ABI $major\.$minor +$F/older-ops\.so\$"

# Every fixture file is accounted for exactly once: a new fixture needs an expectation here.
for so in "$F"/*.so; do
	# A loaded line ends with the path; a refused line starts with it.
	n=$(awk -v p="$so" '(index($0, "  refused ") != 1 && substr($0, length($0) - length(p)) == " " p) ||
		index($0, "  refused " p ": ") == 1' "$V" | wc -l)
	assert_eq "$(basename "$so") appears exactly once in proxyd -V" 1 "$n"
	case ${so##*/} in
	good.so | older-ops.so) ;;
	*) assert_contains "${so##*/} is refused" "$V" "refused $so: " ;;
	esac
done
assert_eq "refused lines for the fixture directory" 7 "$(grep -c "^  refused $F/" "$V")"

# ran FILE: the fixtures whose init() ran, one per line, sorted.
ran() {
	sed -n 's/^FIXTURE-RAN //p' "$1" | sort | tr '\n' ' '
}
assert_eq "no fixture code runs for proxyd -V" "" "$(ran "$TMP/err")"

step "proxyd -t with a listener on transport fixture-good"
cat >"$TMP/good.conf" <<EOF
server = {
  listen = ( { transport = "fixture-good"; } );
};
EOF
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/good.conf" --plugin-dir "$F"
assert_exit "proxyd -t -c good.conf" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "proxyd -t says the configuration is OK" "$TMP/out" "$TMP/good.conf: configuration OK"
# init() ran for the two plugins that passed the checks, once each, and for nothing else.
assert_eq "init() ran exactly for the accepted fixtures" "good older-ops " "$(ran "$TMP/err")"
# The refusals are in the log too, so an operator sees them without -V.
for fx in bad-magic other-major newer-minor larger-struct no-symbol missing-callback zz-duplicate; do
	assert_contains "refusal of $fx is logged" "$TMP/err" "$F/$fx.so: refused: "
done

step "proxyd -t with a listener on transport fixture-older-ops (zero-filled ops table)"
cat >"$TMP/older.conf" <<EOF
server = {
  listen = ( { transport = "fixture-older-ops"; } );
};
EOF
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/older.conf" --plugin-dir "$F"
assert_exit "proxyd -t -c older.conf" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "proxyd -t says the configuration is OK" "$TMP/out" "$TMP/older.conf: configuration OK"

step "proxyd -t with a transport no plugin provides"
cat >"$TMP/nope.conf" <<EOF
# a transport no plugin provides
server = {
  listen = ( { transport = "nope"; } );
};
EOF
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/nope.conf" --plugin-dir "$F"
assert_exit "proxyd -t -c nope.conf" 1 "$RC" "$TMP/out" "$TMP/err"
assert_contains "the missing plugin is named at the line that asks for it" "$TMP/err" \
	"$TMP/nope.conf:3: server.listen[0]: transport 'nope' is not available: no plugin transport-nope loaded from $F:"
builtin_dir=$(sed -n 's/^plugin directory: //p' "$V")
assert_contains "the message gives the whole search path" "$TMP/err" "loaded from $F:$builtin_dir"
assert_contains "proxyd -t counts the errors" "$TMP/err" "$TMP/nope.conf: 1 error(s)"
assert_not_contains "a failing check is not OK" "$TMP/out" "configuration OK"

step "a transport that exists only in a refused fixture stays unavailable"
# missing-callback's name would be fixture-good; give it a directory of its own so nothing
# else provides that name.
mkdir "$TMP/only-bad"
cp "$F/missing-callback.so" "$F/bad-magic.so" "$TMP/only-bad/"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/good.conf" --plugin-dir "$TMP/only-bad"
assert_exit "proxyd -t with only refused fixtures" 1 "$RC" "$TMP/out" "$TMP/err"
assert_contains "a refused plugin provides nothing" "$TMP/err" \
	"transport 'fixture-good' is not available"
assert_eq "no refused fixture's init() ran" "" "$(ran "$TMP/err")"
exit 0
