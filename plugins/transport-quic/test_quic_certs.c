/* test_quic_certs.c: see test_quic_certs.h. */
#include "config.h"
#include "test_quic_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int add_ext(X509 *crt, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, crt, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(crt, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A certificate for key named cn, signed by (issuer, ikey), or self-signed when issuer is
 * NULL. kind: 0 CA, 1 server, 2 client. Validity in days from now. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int kind,
		       long from_days, long to_days)
{
	static long serial = 1;
	X509 *crt = X509_new();
	if (!crt)
		return NULL;
	X509_set_version(crt, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(crt), serial++ + (long)getpid() * 1000);
	X509_gmtime_adj(X509_getm_notBefore(crt), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(crt), to_days * 86400);
	X509_NAME *name = X509_get_subject_name(crt);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(crt, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(crt, key);
	X509 *signer = issuer ? issuer : crt;
	int bad = 0;
	if (kind == 0) {
		bad |= add_ext(crt, signer, NID_basic_constraints, "critical,CA:TRUE");
		bad |= add_ext(crt, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
		bad |= add_ext(crt, signer, NID_subject_key_identifier, "hash");
	} else {
		bad |= add_ext(crt, signer, NID_basic_constraints, "critical,CA:FALSE");
		bad |= add_ext(crt, signer, NID_key_usage, "critical,digitalSignature");
		bad |= add_ext(crt, signer, NID_ext_key_usage, kind == 1 ? "serverAuth" : "clientAuth");
		if (kind == 1)
			bad |= add_ext(crt, signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
		else {
			char san[160];
			snprintf(san, sizeof san, "DNS:%s", cn);
			bad |= add_ext(crt, signer, NID_subject_alt_name, san);
		}
		bad |= add_ext(crt, signer, NID_authority_key_identifier, "keyid");
	}
	if (bad || !X509_sign(crt, issuer ? ikey : key, EVP_sha256())) {
		X509_free(crt);
		return NULL;
	}
	return crt;
}

static int write_pem(const char *path, X509 *crt, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int ok = crt ? PEM_write_X509(f, crt) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

struct leaf {
	const char *cn;
	int kind;
	long from, to;
	char *crt, *key;
	X509 *issuer;
	EVP_PKEY *ikey;
};

int test_pki_make(struct test_pki *p)
{
	memset(p, 0, sizeof *p);
	strcpy(p->dir, "/tmp/quic-test-XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
#define PATH(field, name) snprintf(p->field, sizeof p->field, "%s/%s", p->dir, name)
	PATH(ca, "ca.crt");
	PATH(other_ca, "other-ca.crt");
	PATH(server_crt, "server.crt");
	PATH(server_key, "server.key");
	PATH(client_crt, "agent-1.crt");
	PATH(client_key, "agent-1.key");
	PATH(rogue_crt, "rogue.crt");
	PATH(rogue_key, "rogue.key");
	PATH(expired_crt, "expired.crt");
	PATH(expired_key, "expired.key");
	PATH(agent2_crt, "agent-2.crt");
	PATH(agent2_key, "agent-2.key");
#undef PATH
	int rv = -1;
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *okey = EVP_EC_gen("P-256");
	X509 *ca = cakey ? make_cert(cakey, "proxyd test CA", NULL, NULL, 0, -1, 30) : NULL;
	X509 *oca = okey ? make_cert(okey, "some other CA", NULL, NULL, 0, -1, 30) : NULL;
	if (!ca || !oca || write_pem(p->ca, ca, NULL) || write_pem(p->other_ca, oca, NULL))
		goto out;
	struct leaf leaves[] = {
		{"localhost", 1, -1, 30, p->server_crt, p->server_key, ca, cakey},
		{"agent-1", 2, -1, 30, p->client_crt, p->client_key, ca, cakey},
		{"agent-1", 2, -1, 30, p->rogue_crt, p->rogue_key, oca, okey},
		{"agent-old", 2, -3, -1, p->expired_crt, p->expired_key, ca, cakey},
		{"agent-2", 2, -1, 30, p->agent2_crt, p->agent2_key, ca, cakey},
	};
	for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++) {
		struct leaf *l = &leaves[i];
		EVP_PKEY *k = EVP_EC_gen("P-256");
		X509 *c = k ? make_cert(k, l->cn, l->issuer, l->ikey, l->kind, l->from, l->to) : NULL;
		int bad = !c || write_pem(l->crt, c, NULL) || write_pem(l->key, NULL, k);
		X509_free(c);
		EVP_PKEY_free(k);
		if (bad)
			goto out;
	}
	rv = 0;
out:
	X509_free(ca);
	X509_free(oca);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(okey);
	if (rv < 0)
		test_pki_remove(p);
	return rv;
}

void test_pki_remove(struct test_pki *p)
{
	const char *files[] = {p->ca,         p->other_ca,   p->server_crt, p->server_key,
			       p->client_crt, p->client_key, p->rogue_crt,  p->rogue_key,
			       p->expired_crt, p->expired_key, p->agent2_crt, p->agent2_key};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (files[i][0])
			unlink(files[i]);
	if (p->dir[0])
		rmdir(p->dir);
}
