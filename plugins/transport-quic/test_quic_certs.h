/* test_quic_certs.h: a throw-away PKI for the QUIC engine's test, made with OpenSSL's API in
 * a temporary directory (ECDSA P-256, the shape `proxyctl pki` gives). */
#ifndef TEST_QUIC_CERTS_H
#define TEST_QUIC_CERTS_H

struct test_pki {
	char dir[64];
	char ca[128];                           /* the CA both sides trust */
	char server_crt[128], server_key[128];  /* CN/SAN localhost, IP:127.0.0.1 */
	char client_crt[128], client_key[128];  /* CN agent-1 */
	char rogue_crt[128], rogue_key[128];    /* CN agent-1, from another CA */
	char expired_crt[128], expired_key[128]; /* CN agent-old, expired yesterday */
	char other_ca[128];                     /* the other CA alone */
	char agent2_crt[128], agent2_key[128];  /* CN agent-2, like agent-1 (clientAuth only, as
	                                         * `proxyctl pki` issues agents) */
};

/* 0 on success; the files live until test_pki_remove. */
int test_pki_make(struct test_pki *p);
void test_pki_remove(struct test_pki *p);

#endif
