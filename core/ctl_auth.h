/* Token authentication of an agent (doc/PROTOCOL.md, "Authentication"): the agent proves it
 * knows the token without sending it. Both HELLOs carry a fresh 32-byte nonce; the agent's
 * AUTH carries
 *     proof = HMAC-SHA256(key = token,
 *                         "proxyd-auth-v1" || server_nonce || agent_nonce || agent_id)
 * The nonces make every proof single-use; agent_id binds the proof to the claimed identity. */
#ifndef PROXYD_CORE_CTL_AUTH_H
#define PROXYD_CORE_CTL_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define CTL_AUTH_LABEL "proxyd-auth-v1"
#define CTL_AUTH_NONCE_LEN 32
#define CTL_AUTH_PROOF_LEN 32

/* Compute the proof into out. Returns 0, or -EIO when OpenSSL fails (logged; out is then
 * zeroed and must not be sent). agent_id may be NULL for "". */
int ctl_auth_proof(const uint8_t *token, size_t token_len, const uint8_t server_nonce[32],
		   const uint8_t agent_nonce[32], const char *agent_id, uint8_t out[32]);

/* Check a received proof in constant time. Returns 0 when it is valid, -EACCES when it is
 * not, -EIO when OpenSSL fails (never "valid"). NOTE: 0 means valid. */
int ctl_auth_verify(const uint8_t *token, size_t token_len, const uint8_t server_nonce[32],
		    const uint8_t agent_nonce[32], const char *agent_id, const uint8_t proof[32])
	__attribute__((warn_unused_result));

/* A fresh nonce from the OpenSSL CSPRNG: 0, or -EIO (logged). */
int ctl_auth_nonce(uint8_t out[32]) __attribute__((warn_unused_result));

#endif
