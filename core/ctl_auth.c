/* HMAC-SHA256 challenge-response for token authentication (see ctl_auth.h). */
#include "config.h"
#include "ctl_auth.h"
#include "log.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#include <openssl/params.h>
#else
#include <openssl/hmac.h>
#endif

static int ssl_fail(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	else
		strcpy(buf, "no OpenSSL error queued");
	log_err("auth", "%s: %s", what, buf);
	ERR_clear_error();
	return -EIO;
}

int ctl_auth_proof(const uint8_t *token, size_t token_len, const uint8_t server_nonce[32],
		   const uint8_t agent_nonce[32], const char *agent_id, uint8_t out[32])
{
	static const uint8_t empty_key[1];
	const char *id = agent_id ? agent_id : "";
	/* A zero-length key is legal HMAC, but some providers refuse a NULL pointer. */
	const uint8_t *key = token_len ? token : empty_key;
	int ok = 0;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outl = 0;
	ok = ctx && EVP_MAC_init(ctx, key, token_len, params) &&
	     EVP_MAC_update(ctx, (const uint8_t *)CTL_AUTH_LABEL, strlen(CTL_AUTH_LABEL)) &&
	     EVP_MAC_update(ctx, server_nonce, CTL_AUTH_NONCE_LEN) &&
	     EVP_MAC_update(ctx, agent_nonce, CTL_AUTH_NONCE_LEN) &&
	     EVP_MAC_update(ctx, (const uint8_t *)id, strlen(id)) &&
	     EVP_MAC_final(ctx, out, &outl, CTL_AUTH_PROOF_LEN) && outl == CTL_AUTH_PROOF_LEN;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
#else
	HMAC_CTX *ctx = HMAC_CTX_new();
	unsigned int outl = 0;
	ok = ctx && HMAC_Init_ex(ctx, key, (int)token_len, EVP_sha256(), NULL) &&
	     HMAC_Update(ctx, (const uint8_t *)CTL_AUTH_LABEL, strlen(CTL_AUTH_LABEL)) &&
	     HMAC_Update(ctx, server_nonce, CTL_AUTH_NONCE_LEN) &&
	     HMAC_Update(ctx, agent_nonce, CTL_AUTH_NONCE_LEN) &&
	     HMAC_Update(ctx, (const uint8_t *)id, strlen(id)) && HMAC_Final(ctx, out, &outl) &&
	     outl == CTL_AUTH_PROOF_LEN;
	HMAC_CTX_free(ctx);
#endif
	if (!ok) {
		OPENSSL_cleanse(out, CTL_AUTH_PROOF_LEN);
		return ssl_fail("HMAC-SHA256 for the auth proof failed");
	}
	return 0;
}

int ctl_auth_verify(const uint8_t *token, size_t token_len, const uint8_t server_nonce[32],
		    const uint8_t agent_nonce[32], const char *agent_id, const uint8_t proof[32])
{
	uint8_t want[CTL_AUTH_PROOF_LEN];
	int r = ctl_auth_proof(token, token_len, server_nonce, agent_nonce, agent_id, want);
	if (r == 0)
		r = CRYPTO_memcmp(want, proof, sizeof want) == 0 ? 0 : -EACCES;
	OPENSSL_cleanse(want, sizeof want);
	return r;
}

int ctl_auth_nonce(uint8_t out[32])
{
	if (RAND_bytes(out, CTL_AUTH_NONCE_LEN) != 1)
		return ssl_fail("RAND_bytes for a nonce failed");
	return 0;
}
