/* proxyctl pki init: the directory and its self-signed CA (ca.crt, ca.key). */
#include "config.h"
#include "pki.h"
#include "proxyctl.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DEFAULT_CN "proxyd CA"

/* 0700: the directory holds the CA key. An existing directory is used as it is: the
 * operator may have set it up on purpose (a mount, an ACL). */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0700) == 0) {
		printf("created %s/ (mode 0700)\n", dir);
		return 0;
	}
	int rc = -errno;
	struct stat st;
	if (rc == -EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	fprintf(stderr, "proxyctl: cannot create %s: %s\n", dir,
		rc == -EEXIST ? "exists and is not a directory" : strerror(-rc));
	return rc;
}

static int build_ca(const char *cn, int days, EVP_PKEY **key, X509 **cert)
{
	int rc;
	if ((rc = pki_key_new(key)) != 0 ||
	    (rc = pki_cert_new(cert, *key, cn, NULL, days, 0)) != 0)
		return rc;
	/* pathlen is left open: a deployment may want an intermediate per site later. */
	if ((rc = pki_cert_add_ext(*cert, NULL, NID_basic_constraints, "critical,CA:TRUE")) != 0 ||
	    (rc = pki_cert_add_ext(*cert, NULL, NID_key_usage, "critical,keyCertSign,cRLSign")) != 0 ||
	    (rc = pki_cert_add_ext(*cert, NULL, NID_subject_key_identifier, "hash")) != 0)
		return rc;
	return pki_cert_sign(*cert, *key);
}

int cmd_pki_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'}, {"days", required_argument, NULL, 'n'},
		{"name", required_argument, NULL, 'N'}, {"force", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
	};
	const char *dir = PKI_DEFAULT_DIR, *cn = CA_DEFAULT_CN;
	int days = PKI_CA_DAYS, force = 0, opt;

	optind = 0; /* glibc: start over on this argv */
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			if (pki_days_parse(optarg, &days) != 0) {
				fprintf(stderr, "proxyctl: --days wants 1..%d, not '%s'\n", PKI_MAX_DAYS,
					optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'N':
			cn = optarg;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "proxyctl: pki init: unexpected argument '%s'\n", argv[optind]);
		return CTL_EXIT_USAGE;
	}
	if (*cn == '\0' || strlen(cn) > PKI_CN_MAX) {
		fprintf(stderr, "proxyctl: --name must be 1..%d characters\n", PKI_CN_MAX);
		return CTL_EXIT_USAGE;
	}

	char crt_path[4096], key_path[4096];
	if (pki_path(crt_path, sizeof crt_path, dir, PKI_CA_NAME, "crt") != 0 ||
	    pki_path(key_path, sizeof key_path, dir, PKI_CA_NAME, "key") != 0) {
		fprintf(stderr, "proxyctl: %s: %s\n", dir, strerror(ENAMETOOLONG));
		return CTL_EXIT_FAIL;
	}
	if (!force && (access(crt_path, F_OK) == 0 || access(key_path, F_OK) == 0)) {
		/* Replacing the CA silently would make every certificate it issued stop
		 * verifying, on every agent, at the next handshake. */
		fprintf(stderr,
			"proxyctl: %s already holds a CA (%s); refusing to replace it: every "
			"certificate it issued would stop verifying; use --force to replace it\n",
			dir, access(crt_path, F_OK) == 0 ? crt_path : key_path);
		return CTL_EXIT_FAIL;
	}
	if (make_dir(dir) != 0)
		return CTL_EXIT_FAIL;

	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int code = CTL_EXIT_FAIL, rc;
	if (build_ca(cn, days, &key, &cert) != 0)
		goto out;
	if (force && ((rc = pki_remove(key_path)) != 0 || (rc = pki_remove(crt_path)) != 0)) {
		fprintf(stderr, "proxyctl: cannot replace the old CA in %s: %s\n", dir, strerror(-rc));
		goto out;
	}
	if ((rc = pki_write_key(key_path, key)) != 0) {
		fprintf(stderr, "proxyctl: cannot write %s: %s\n", key_path, strerror(-rc));
		goto out;
	}
	if ((rc = pki_write_cert(crt_path, cert)) != 0) {
		fprintf(stderr, "proxyctl: cannot write %s: %s\n", crt_path, strerror(-rc));
		unlink(key_path); /* a key without its certificate would block the next init */
		goto out;
	}

	char desc[256];
	pki_cert_describe(cert, desc, sizeof desc);
	printf("wrote %s (ECDSA P-256 private key, PKCS#8, mode 0600)\n", key_path);
	printf("wrote %s (CA \"%s\", %s)\n", crt_path, cn, desc);
	code = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return code;
}
