#!/bin/sh
# Install the Debian 12 packages proxyd needs that are not installed yet.
#
#   scripts/install-deps.sh [--build] [--test] [--bench] [--dry-run]
#
#   --build    compilers, autotools and the libraries proxyd builds against (the default)
#   --test     tools the test suite drives: curl, openssl, socat, python3, nginx, ip, ...
#   --bench    load generators and reference proxies for bench/
#   --dry-run  only print what is missing
#
# Idempotent: asks dpkg what is installed, runs `apt-get update` only when something is
# missing, and prints what it installs. Uses sudo when not run as root.

# Package lists are space-separated words: splitting them is the point.
# shellcheck disable=SC2086,SC2116
set -eu

# libjansson-dev: proxyctl status, and router-subdomain's HTTP lookups (the VM-host proxy).
# iproute2 (--test): the VM-host proxy's tests put VMs in network namespaces (as root).
# coturn, conntrack (--test): the NAT tests run coturn's turnserver as an independent STUN
# server inside their namespaces, and flush the simulated routers' mappings between checks.
# (Installing coturn on a systemd host enables its own service on port 3478; the tests do not
# use it.)
BUILD_PKGS="build-essential autoconf automake libtool libltdl-dev pkg-config libevent-dev
  libssl-dev libconfig-dev libjansson-dev libhttp-parser-dev libcmocka-dev libngtcp2-dev
  libngtcp2-crypto-gnutls-dev libgnutls28-dev"
TEST_PKGS="curl openssl socat python3 iproute2 iptables procps psmisc nginx python3-websockets
  coturn conntrack"
BENCH_PKGS="wrk iperf3 nginx haproxy openssh-server openssh-client curl python3 procps bc
  iputils-ping"

usage() {
	sed -n '2,/^$/{/^$/d;s/^# \{0,1\}//;p}' "$0"
}

want=""
dry_run=no
for arg in "$@"; do
	case $arg in
	--build) want="$want $BUILD_PKGS" ;;
	--test) want="$want $TEST_PKGS" ;;
	--bench) want="$want $BENCH_PKGS" ;;
	--dry-run) dry_run=yes ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		echo "install-deps: unknown option '$arg'" >&2
		usage >&2
		exit 2
		;;
	esac
done
[ -n "$want" ] || want=$BUILD_PKGS

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: this script needs Debian (dpkg and apt-get). Install the equivalents of:" >&2
	echo "  $(echo $want)" >&2
	exit 1
fi

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
	case $status in
	ii*) ;;
	*) missing="$missing $p" ;;
	esac
done
missing=$(echo $missing)

if [ -z "$missing" ]; then
	echo "install-deps: all $(echo $want | wc -w) packages are installed"
	exit 0
fi
if [ "$dry_run" = yes ]; then
	echo "install-deps: would install: $missing"
	exit 0
fi
echo "install-deps: installing: $missing"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-deps: not root and no sudo: run as root: apt-get install $missing" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends \
	$missing </dev/null
echo "install-deps: installed: $missing"
