#!/bin/sh
# proxyd -V, -h and bad command lines; the plugin search order (--plugin-dir, the config's
# plugin_path, PROXYD_PLUGIN_PATH, the built-in directory).
. "$top_srcdir/tests/lib.sh"

version=$(package_version)
abi="$(abi_major).$(abi_minor)"
[ -n "$version" ] && [ "$abi" != "." ] || fail "reading the build's version and ABI" \
	"PACKAGE_VERSION in $top_builddir/config.h and PROXYD_ABI_* in plugin.h" "'$version' '$abi'"

step "proxyd -V"
run_proxyd "$TMP/out" "$TMP/err" -V
assert_exit "proxyd -V" 0 "$RC" "$TMP/out" "$TMP/err"
assert_eq "first line of proxyd -V" "proxyd $version" "$(sed -n 1p "$TMP/out")"
assert_contains "proxyd -V names the plugin ABI" "$TMP/out" "plugin ABI $abi"
builtin_dir=$(sed -n 's/^plugin directory: //p' "$TMP/out")
case $builtin_dir in
/*) ;;
*) fail "proxyd -V names the built-in plugin directory" "plugin directory: /absolute/path" "$(cat "$TMP/out")" ;;
esac
# It is the directory plugins are installed into: pkglibdir, as the .pc file tells authors.
if command -v pkg-config >/dev/null 2>&1; then
	pc_dir=$(pkg-config --variable=plugindir "$top_builddir/proxyd-plugin.pc")
	assert_eq "built-in plugin directory is proxyd-plugin.pc's plugindir" "$pc_dir" "$builtin_dir"
fi
assert_contains "proxyd -V without --plugin-dir searches only the built-in directory" "$TMP/out" \
	"plugin search path: $builtin_dir"

step "proxyd -V --plugin-dir FIXTURE_DIR lists fixture-good as loaded"
run_proxyd "$TMP/out" "$TMP/err" -V --plugin-dir "$FIXTURE_DIR"
assert_exit "proxyd -V --plugin-dir" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "search path starts with --plugin-dir" "$TMP/out" \
	"plugin search path: $FIXTURE_DIR $builtin_dir"
assert_matches "fixture-good listed as loaded, with version, ABI and path" "$TMP/out" \
	"^  transport-fixture-good +0\.0\.1 +ABI $abi +$FIXTURE_DIR/good\.so\$"
assert_not_contains "good.so is not refused" "$TMP/out" "refused $FIXTURE_DIR/good.so"

step "PROXYD_PLUGIN_PATH works like --plugin-dir, colon-separated"
# (Exported around the call: a prefix assignment to a shell function is not portable.)
export PROXYD_PLUGIN_PATH="$TMP/does-not-exist:$FIXTURE_DIR"
run_proxyd "$TMP/out" "$TMP/err" -V
unset PROXYD_PLUGIN_PATH
assert_exit "PROXYD_PLUGIN_PATH=... proxyd -V" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "search path shows PROXYD_PLUGIN_PATH, then the built-in directory" "$TMP/out" \
	"plugin search path: $TMP/does-not-exist $FIXTURE_DIR $builtin_dir"
assert_matches "fixture-good found through PROXYD_PLUGIN_PATH" "$TMP/out" \
	"^  transport-fixture-good +0\.0\.1 +ABI $abi +$FIXTURE_DIR/good\.so\$"

step "search order: --plugin-dir, then plugin_path, then PROXYD_PLUGIN_PATH"
# The same plugin in three directories: the first in search order loads, the others are
# refused as duplicates of it.
for d in flag conf env; do
	mkdir -p "$TMP/$d"
	cp "$FIXTURE_DIR/good.so" "$TMP/$d/good.so"
done
cat >"$TMP/order.conf" <<EOF
plugin_path = "conf";
EOF
export PROXYD_PLUGIN_PATH="$TMP/env"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/order.conf" --plugin-dir "$TMP/flag"
assert_exit "proxyd -t with the plugin in three directories" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "plugin_path copy refused in favour of --plugin-dir" "$TMP/err" \
	"$TMP/conf/good.so: refused: duplicate name: 'fixture-good' is already loaded from $TMP/flag/good.so"
assert_contains "PROXYD_PLUGIN_PATH copy refused in favour of --plugin-dir" "$TMP/err" \
	"$TMP/env/good.so: refused: duplicate name: 'fixture-good' is already loaded from $TMP/flag/good.so"
run_proxyd "$TMP/out" "$TMP/err" -t -c "$TMP/order.conf"
unset PROXYD_PLUGIN_PATH
assert_exit "proxyd -t with the plugin in two directories" 0 "$RC" "$TMP/out" "$TMP/err"
assert_contains "plugin_path (relative to the config file) comes before PROXYD_PLUGIN_PATH" \
	"$TMP/err" \
	"$TMP/env/good.so: refused: duplicate name: 'fixture-good' is already loaded from $TMP/conf/good.so"

step "proxyd with no arguments"
run_proxyd "$TMP/out" "$TMP/err"
assert_exit "proxyd with no arguments" 2 "$RC" "$TMP/out" "$TMP/err"
assert_contains "proxyd with no arguments says what is missing" "$TMP/err" \
	"no configuration given: use -c FILE"

step "proxyd with a bad option or a stray argument"
run_proxyd "$TMP/out" "$TMP/err" --no-such-option
assert_exit "proxyd --no-such-option" 2 "$RC" "$TMP/out" "$TMP/err"
assert_contains "a bad option prints the usage on stderr" "$TMP/err" "usage: proxyd"
run_proxyd "$TMP/out" "$TMP/err" -c "$TMP/order.conf" stray
assert_exit "proxyd -c FILE stray" 2 "$RC" "$TMP/out" "$TMP/err"
assert_contains "a stray argument is named" "$TMP/err" "unexpected argument 'stray'"

step "proxyd -h"
run_proxyd "$TMP/out" "$TMP/err" -h
assert_exit "proxyd -h" 0 "$RC" "$TMP/out" "$TMP/err"
for opt in "-c, --config FILE" "-t, --test" "-f, --foreground" "-V, --version" \
	"--plugin-dir DIR" "PROXYD_PLUGIN_PATH" "$builtin_dir"; do
	assert_contains "proxyd -h documents $opt" "$TMP/out" "$opt"
done
exit 0
