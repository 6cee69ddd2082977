#!/bin/sh
# proxyd -t on bad configurations: each file in tests/configs/bad/ (and, when the router
# plugins are built, tests/configs/bad-http/ and bad-vmhost/) starts with one or more
#   # expect: LINE: MESSAGE
# comments; proxyd -t must exit 1 and print "FILE:LINE: ...MESSAGE..." for each of them and
# no other error. tests/configs/good.conf, which uses every key the core knows, must pass.
. "$top_srcdir/tests/lib.sh"

# Only the two good fixtures: the refusal warnings of the bad ones would be noise here.
mkdir "$TMP/plugins"
cp "$FIXTURE_DIR/good.so" "$FIXTURE_DIR/older-ops.so" "$TMP/plugins/"
BAD="$top_srcdir/tests/configs/bad/*.conf"
if [ -e "$top_builddir/plugins/router-path/.libs/router-path.so" ]; then
	cp "$top_builddir/plugins/router-path/.libs/router-path.so" "$TMP/plugins/"
	BAD="$BAD $top_srcdir/tests/configs/bad-http/*.conf"
else
	echo "router-path is not built: tests/configs/bad-http/ is left out"
fi
# The VM-host proxy's keys are router-subdomain's (direct mode).
if [ -e "$top_builddir/plugins/router-subdomain/.libs/router-subdomain.so" ]; then
	cp "$top_builddir/plugins/router-subdomain/.libs/router-subdomain.so" "$TMP/plugins/"
	BAD="$BAD $top_srcdir/tests/configs/bad-vmhost/*.conf"
else
	echo "router-subdomain is not built: tests/configs/bad-vmhost/ is left out"
fi

n_files=0
for src in $BAD; do
	check_bad_config "$src" --plugin-dir "$TMP/plugins"
	n_files=$((n_files + 1))
done
[ $n_files -ge 10 ] || fail "bad configurations found" "at least 10" "$n_files"

step "a file that does not exist"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/no-such.conf"
assert_exit "proxyd -t -c no-such.conf" 1 "$RC" "$TMP/out" "$TMP/err"
assert_contains "a missing file is named with the reason" "$TMP/err" \
	"$TMP/no-such.conf: cannot read: No such file or directory"

step "good.conf (plugin_path relative to the file, no --plugin-dir)"
cp "$top_srcdir/tests/configs/good.conf" "$TMP/good.conf"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/good.conf"
assert_exit "proxyd -t -c good.conf" 0 "$RC" "$TMP/out" "$TMP/err"
assert_eq "proxyd -t prints one OK line" "$TMP/good.conf: configuration OK" "$(cat "$TMP/out")"
assert_not_contains "no error is reported for good.conf" "$TMP/err" "$TMP/good.conf:"

step "good.conf from another working directory, by a relative path"
mkdir "$TMP/elsewhere"
(cd "$TMP/elsewhere" && exec timeout 30 "$PROXYD" -t -c ../good.conf) >"$TMP/out" 2>"$TMP/err"
assert_exit "proxyd -t -c ../good.conf" 0 $? "$TMP/out" "$TMP/err"
assert_contains "the relative path is resolved" "$TMP/out" "configuration OK"
exit 0
