#!/bin/sh
# A third party's plugin: install proxyd into a temporary root (make install DESTDIR=...),
# build tests/integration/oot/hello_plugin.c with only the INSTALLED header and
# `pkg-config proxyd-plugin`, and load it with the INSTALLED proxyd.
. "$top_srcdir/tests/lib.sh"

require_cmd cc pkg-config make
DEST=$TMP/dest

step "make install DESTDIR=$DEST"
# Our own make, not a part of the one running the tests: no inherited jobserver or flags.
(
	unset MAKEFLAGS MFLAGS MAKELEVEL
	exec make -C "$top_builddir" install DESTDIR="$DEST"
) >"$TMP/install.log" 2>&1 </dev/null
assert_exit "make install DESTDIR=..." 0 $? "$TMP/install.log"

# Whatever --prefix and --libdir were: find what was installed.
find_one() { # WHAT FIND-ARGS...
	_what=$1
	shift
	_found=$(find "$DEST" "$@")
	[ -n "$_found" ] && [ "$(echo "$_found" | wc -l)" -eq 1 ] ||
		fail "make install installs $_what" "one file" "$(find "$DEST" | sort)"
	echo "$_found"
}
bin=$(find_one "bin/proxyd" -path '*/bin/proxyd' -type f) || exit 1
pc=$(find_one "proxyd-plugin.pc" -name proxyd-plugin.pc -type f) || exit 1
hdr=$(find_one "include/proxyd/plugin.h" -path '*/include/proxyd/plugin.h' -type f) || exit 1

step "pkg-config proxyd-plugin against the installed .pc file"
# Only the temporary root: a proxyd-plugin.pc installed on this machine must not answer.
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH
PKG_CONFIG_SYSROOT_DIR=$DEST
export PKG_CONFIG_PATH PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags proxyd-plugin) ||
	fail "pkg-config --cflags proxyd-plugin" "success" "$(pkg-config --cflags proxyd-plugin 2>&1)"
# shellcheck disable=SC2086,SC2116 # squeeze pkg-config's trailing space
assert_eq "the installed .pc points at the installed headers" "-I$(dirname "$(dirname "$hdr")")" \
	"$(echo $cflags)"
assert_eq "pkg-config --modversion proxyd-plugin" "$(package_version)" \
	"$(pkg-config --modversion proxyd-plugin)"
plugindir=$(pkg-config --variable=plugindir proxyd-plugin)
# pkgconf prefixes variables with the sysroot, pkg-config 0.29 does not: take it off.
plugindir=${plugindir#"$DEST"}

step "the installed proxyd knows the same plugin directory"
"$bin" -V >"$TMP/v.out" 2>"$TMP/v.err"
assert_exit "installed proxyd -V" 0 $? "$TMP/v.out" "$TMP/v.err"
assert_contains "installed proxyd's built-in directory is pkg-config's plugindir" "$TMP/v.out" \
	"plugin directory: $plugindir"
"$PROXYD" -V >"$TMP/bv.out" 2>&1
assert_contains "and the build tree's proxyd says the same" "$TMP/bv.out" \
	"plugin directory: $plugindir"
# Plugins built with the tree land there, in the temporary root.
# (Convenience libraries, libdir='' in their .la, such as the QUIC engine, are not plugins.)
for la in $(cd "$top_builddir" && find plugins -name '*.la' 2>/dev/null); do
	grep -q "^libdir=''" "$top_builddir/$la" && continue
	so=$(basename "$la" .la).so
	[ -f "$DEST$plugindir/$so" ] ||
		fail "make install puts $so into plugindir" "$DEST$plugindir/$so" "$(find "$DEST" | sort)"
done

step "build the out-of-tree plugin with the installed header only"
mkdir "$TMP/plugins"
# -H lists the headers used; -Wl,--no-undefined proves it needs no symbol from proxyd.
# shellcheck disable=SC2086 # $cflags is a list of flags
cc -shared -fPIC -std=c99 -Wall -Wextra -Werror -Wl,--no-undefined -H $cflags \
	-o "$TMP/plugins/oot-hello.so" "$top_srcdir/tests/integration/oot/hello_plugin.c" \
	>"$TMP/cc.log" 2>&1
assert_exit "cc hello_plugin.c \$(pkg-config --cflags proxyd-plugin)" 0 $? "$TMP/cc.log"
used=$(sed -n 's/^\.* \(.*proxyd\/plugin\.h\)$/\1/p' "$TMP/cc.log")
assert_eq "the compiler used the installed plugin.h" "$hdr" "$used"

step "the installed proxyd loads it"
"$bin" -V --plugin-dir "$TMP/plugins" >"$TMP/v.out" 2>"$TMP/v.err"
assert_exit "installed proxyd -V --plugin-dir" 0 $? "$TMP/v.out" "$TMP/v.err"
assert_matches "proxyd -V lists router-oot-hello as loaded" "$TMP/v.out" \
	"^  router-oot-hello +0\.1 +ABI $(abi_major)\.$(abi_minor) +$TMP/plugins/oot-hello\.so\$"
assert_not_contains "oot-hello is not refused" "$TMP/v.out" "refused"

step "and runs it: init and fini through the host table"
cat >"$TMP/run.conf" <<EOF
log = { level = "info"; };
drain_timeout = 2;
EOF
PROXYD=$bin
start_proxyd "$TMP/run.log" -f -c "$TMP/run.conf" --plugin-dir "$TMP/plugins"
wait_for_log 10 "$TMP/run.log" "running (pid $PROXYD_PID)" "installed proxyd -f starts"
assert_contains "init() logs through the host, tagged with the plugin's name" "$TMP/run.log" \
	"[router-oot-hello]: hello from oot-hello (host ABI $(abi_major).$(abi_minor))"
kill -TERM "$PROXYD_PID"
wait_exit 5 "$PROXYD_PID" || fail "installed proxyd exits on SIGTERM" "exit within 5 s" \
	"$(cat "$TMP/run.log")"
assert_exit "installed proxyd's exit code" 0 "$RC" "$TMP/run.log"
assert_contains "fini() runs at shutdown" "$TMP/run.log" "[router-oot-hello]: goodbye from oot-hello"
exit 0
