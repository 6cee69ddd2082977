dnl PROXYD_PLUGIN(name, description, dependency-test, missing-message)
dnl One --enable-<name>/--disable-<name> switch per plugin. Default "auto": build when the
dnl dependency test succeeds. Asked for explicitly but missing: a hard error, so a packager
dnl never ships a silently smaller set than requested. Sets the automake conditional
dnl BUILD_<NAME> and records a line for the summary. The test sets pp_ok=no on failure.
AC_DEFUN([PROXYD_PLUGIN], [
  m4_pushdef([pp_var], m4_translit([$1], [-a-z], [_A-Z]))
  AC_ARG_ENABLE([$1], [AS_HELP_STRING([--enable-$1], [build the $2 plugin (default: auto)])],
    [pp_want=$enableval], [pp_want=auto])
  pp_build=no
  AS_IF([test "x$pp_want" != xno], [
    pp_ok=yes
    $3
    AS_IF([test "x$pp_ok" = xyes], [pp_build=yes],
      [AS_IF([test "x$pp_want" = xyes],
         [AC_MSG_ERROR([--enable-$1 was given but $4])],
         [pp_build="no ($4)"])])
  ], [pp_build="no (disabled)"])
  AM_CONDITIONAL([BUILD_]pp_var, [test "x$pp_build" = xyes])
  PROXYD_PLUGIN_SUMMARY="$PROXYD_PLUGIN_SUMMARY
    $1: $pp_build"
  m4_popdef([pp_var])
])
