/* The PKI behind proxyd's mTLS: one CA in a directory, server and agent certificates it
 * signs. Names (pki_names.c) are pure checks; certificates are built in memory (pki_cert.c)
 * and only then written (pki_files.c). */
#ifndef PROXYCTL_PKI_H
#define PROXYCTL_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "proxyctl needs OpenSSL 3.0 or newer"
#endif

#define PKI_DEFAULT_DIR "./pki"
#define PKI_CA_DAYS 3650
#define PKI_LEAF_DAYS 825
#define PKI_MAX_DAYS 36500
#define PKI_AGENT_ID_MAX 64
#define PKI_CN_MAX 64 /* RFC 5280 ub-common-name */
/* Certificate file names are NAME.crt and NAME.key, so "ca" would be the CA itself. */
#define PKI_CA_NAME "ca"

enum pki_role { PKI_SERVER, PKI_AGENT };

/* ---- pki_names.c: pure, no I/O ---- */
/* [A-Za-z0-9._-], 1..64 characters: what the daemon accepts as an agent id. */
int pki_agent_id_check(const char *id);
/* A host name of at most PKI_CN_MAX characters, or an IPv4/IPv6 literal. */
int pki_server_name_check(const char *name);
int pki_is_ip(const char *s);
/* The subjectAltName value in OpenSSL's config syntax ("DNS:a,IP:1.2.3.4") for NAME in
 * ROLE plus EXTRA (a comma-separated list of DNS:x / IP:y, may be NULL). -EINVAL with the
 * reason in ERR when an EXTRA entry is malformed; -ENOSPC when OUT is too small. */
int pki_san_build(enum pki_role role, const char *name, const char *extra, char *out,
		  size_t out_len, char *err, size_t err_len);
/* A whole decimal number of days, 1..PKI_MAX_DAYS. */
int pki_days_parse(const char *s, int *days);

/* ---- pki_cert.c: certificates in memory; failures are reported before returning ---- */
int pki_key_new(EVP_PKEY **out);
/* A v3 certificate for KEY with CN=CN, a random 128-bit serial, issued by ISSUER (NULL:
 * self-signed). Valid for DAYS from now, or, when EXPIRED, from 2 days ago to 1 day ago. */
int pki_cert_new(X509 **out, EVP_PKEY *key, const char *cn, X509 *issuer, int days,
		 int expired);
/* One extension in OpenSSL's config syntax, e.g. (NID_key_usage, "critical,keyCertSign"). */
int pki_cert_add_ext(X509 *cert, X509 *issuer, int nid, const char *value);
int pki_cert_sign(X509 *cert, EVP_PKEY *issuer_key);
/* "serial 0123..., valid until 2035-11-20 10:00:00 UTC" for the messages printed. */
void pki_cert_describe(X509 *cert, char *out, size_t out_len);

/* ---- pki_files.c: the directory on disk ---- */
/* DIR/NAME.EXT; -ENAMETOOLONG if it does not fit. */
int pki_path(char *out, size_t out_len, const char *dir, const char *name, const char *ext);
/* Created with O_EXCL: an existing file is never replaced (-EEXIST) and a key is 0600 from
 * its first byte. On failure nothing is left behind. */
int pki_write_key(const char *path, EVP_PKEY *key);
int pki_write_cert(const char *path, X509 *cert);
/* unlink() that counts a missing file as success. */
int pki_remove(const char *path);
/* DIR/ca.crt and DIR/ca.key, checked to belong together. Reports its own failures. */
int pki_ca_load(const char *dir, X509 **cert, EVP_PKEY **key);

#endif
