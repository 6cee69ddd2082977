/* Reporting OpenSSL failures where they happen, with the library's own reasons. */
#include "config.h"
#include "proxyctl.h"

#include <openssl/err.h>
#include <stdio.h>

void ctl_ossl_fail(const char *what)
{
	fprintf(stderr, "proxyctl: %s\n", what);
	const char *data = NULL;
	int flags = 0;
	unsigned long e;
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		char buf[256];
		ERR_error_string_n(e, buf, sizeof buf);
		int extra = (flags & ERR_TXT_STRING) && data && *data;
		fprintf(stderr, "  openssl: %s%s%s\n", buf, extra ? ": " : "", extra ? data : "");
	}
}
