/* Building certificates in memory: an ECDSA P-256 key, a v3 certificate with a random
 * serial and its validity, extensions in OpenSSL's config syntax, the SHA-256 signature. */
#include "config.h"
#include "pki.h"
#include "proxyctl.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* A certificate that starts "now" is rejected by a peer whose clock is a little behind. */
#define PKI_BACKDATE_S (5 * 60)

int pki_key_new(EVP_PKEY **out)
{
	*out = EVP_EC_gen("P-256");
	if (!*out) {
		ctl_ossl_fail("cannot generate an ECDSA P-256 key");
		return -EIO;
	}
	return 0;
}

/* 128 random bits: unguessable serials are what keeps chosen-prefix collisions off the
 * signature (CA/B BR 7.1). Stored unsigned, so DER adds a 0 byte when the top bit is set:
 * 17 octets, inside RFC 5280's 20. */
static int set_random_serial(X509 *cert)
{
	unsigned char raw[16];
	BIGNUM *bn = NULL;
	int rc = -EIO;

	do {
		if (RAND_bytes(raw, sizeof raw) != 1)
			goto out;
	} while (raw[0] == 0 && memcmp(raw, raw + 1, sizeof raw - 1) == 0); /* never 0 */
	bn = BN_bin2bn(raw, sizeof raw, NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		rc = 0;
out:
	BN_free(bn);
	if (rc)
		ctl_ossl_fail("cannot set a random serial number");
	return rc;
}

static int set_validity(X509 *cert, int days, int expired)
{
	time_t now = time(NULL);
	ASN1_TIME *ok_nb, *ok_na;

	if (expired) {
		ok_nb = X509_time_adj_ex(X509_getm_notBefore(cert), -2, 0, &now);
		ok_na = X509_time_adj_ex(X509_getm_notAfter(cert), -1, 0, &now);
	} else {
		ok_nb = X509_time_adj_ex(X509_getm_notBefore(cert), 0, -PKI_BACKDATE_S, &now);
		ok_na = X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, &now);
	}
	if (!ok_nb || !ok_na) {
		ctl_ossl_fail("cannot set the validity period");
		return -EIO;
	}
	return 0;
}

int pki_cert_new(X509 **out, EVP_PKEY *key, const char *cn, X509 *issuer, int days,
		 int expired)
{
	X509 *cert = X509_new();
	X509_NAME *subject = cert ? X509_get_subject_name(cert) : NULL;

	*out = NULL;
	if (!cert || !X509_set_version(cert, X509_VERSION_3) ||
	    !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
					-1, -1, 0) ||
	    !X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : subject) ||
	    !X509_set_pubkey(cert, key)) {
		ctl_ossl_fail("cannot build the certificate");
		X509_free(cert);
		return -EIO;
	}
	int rc = set_random_serial(cert);
	if (rc == 0)
		rc = set_validity(cert, days, expired);
	if (rc) {
		X509_free(cert);
		return rc;
	}
	*out = cert;
	return 0;
}

int pki_cert_add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	/* The issuer is where authorityKeyIdentifier finds its key id; self-signed: itself. */
	X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(cert, ext, -1)) {
		char what[400];
		snprintf(what, sizeof what, "cannot add %s = %s", OBJ_nid2ln(nid), value);
		ctl_ossl_fail(what);
		X509_EXTENSION_free(ext);
		return -EINVAL;
	}
	X509_EXTENSION_free(ext);
	return 0;
}

int pki_cert_sign(X509 *cert, EVP_PKEY *issuer_key)
{
	if (X509_sign(cert, issuer_key, EVP_sha256()) <= 0) {
		ctl_ossl_fail("cannot sign the certificate");
		return -EIO;
	}
	return 0;
}

void pki_cert_describe(X509 *cert, char *out, size_t out_len)
{
	char *serial = NULL, until[64] = "?";
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	struct tm tm;

	if (bn)
		serial = BN_bn2hex(bn);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
		strftime(until, sizeof until, "%Y-%m-%d %H:%M:%S UTC", &tm);
	snprintf(out, out_len, "serial %s, valid until %s", serial ? serial : "?", until);
	OPENSSL_free(serial);
	BN_free(bn);
	ERR_clear_error(); /* a description is best effort; leave no stale errors behind */
}
