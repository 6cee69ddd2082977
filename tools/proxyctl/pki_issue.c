/* proxyctl pki issue: a server or agent key and certificate signed by the CA in --dir. */
#include "config.h"
#include "pki.h"
#include "proxyctl.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/objects.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct issue_req {
	enum pki_role role;
	const char *name;
	const char *san; /* the full subjectAltName value */
	int days;
	int expired;
};

static int build_leaf(const struct issue_req *r, X509 *ca, EVP_PKEY *ca_key, EVP_PKEY **key,
		      X509 **cert)
{
	int rc;
	if ((rc = pki_key_new(key)) != 0 ||
	    (rc = pki_cert_new(cert, *key, r->name, ca, r->days, r->expired)) != 0)
		return rc;
	const char *eku = r->role == PKI_SERVER ? "serverAuth" : "clientAuth";
	/* digitalSignature is all an ECDSA key does in TLS (1.2 ECDHE and 1.3 alike). */
	if ((rc = pki_cert_add_ext(*cert, ca, NID_basic_constraints, "CA:FALSE")) != 0 ||
	    (rc = pki_cert_add_ext(*cert, ca, NID_key_usage, "critical,digitalSignature")) != 0 ||
	    (rc = pki_cert_add_ext(*cert, ca, NID_ext_key_usage, eku)) != 0 ||
	    (rc = pki_cert_add_ext(*cert, ca, NID_subject_alt_name, r->san)) != 0 ||
	    (rc = pki_cert_add_ext(*cert, ca, NID_subject_key_identifier, "hash")) != 0 ||
	    (rc = pki_cert_add_ext(*cert, ca, NID_authority_key_identifier, "keyid:always")) != 0)
		return rc;
	return pki_cert_sign(*cert, ca_key);
}

static int check_name(enum pki_role role, const char *name)
{
	if (role == PKI_AGENT && pki_agent_id_check(name) != 0) {
		fprintf(stderr,
			"proxyctl: bad agent id '%s': use 1..%d of A-Z a-z 0-9 . _ -\n", name,
			PKI_AGENT_ID_MAX);
		return -EINVAL;
	}
	if (role == PKI_SERVER && pki_server_name_check(name) != 0) {
		fprintf(stderr, "proxyctl: bad server name '%s': want a host name (at most %d "
			"characters) or an IP address\n", name, PKI_CN_MAX);
		return -EINVAL;
	}
	if (strcmp(name, PKI_CA_NAME) == 0) {
		fprintf(stderr, "proxyctl: '%s' is taken: its files would be the CA's own\n", name);
		return -EINVAL;
	}
	return 0;
}

static int issue(const char *dir, const struct issue_req *r, int force)
{
	char crt_path[4096], key_path[4096];
	if (pki_path(crt_path, sizeof crt_path, dir, r->name, "crt") != 0 ||
	    pki_path(key_path, sizeof key_path, dir, r->name, "key") != 0) {
		fprintf(stderr, "proxyctl: %s/%s: %s\n", dir, r->name, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (!force && (access(crt_path, F_OK) == 0 || access(key_path, F_OK) == 0)) {
		fprintf(stderr, "proxyctl: %s exists; use --force to replace it\n",
			access(crt_path, F_OK) == 0 ? crt_path : key_path);
		return -EEXIST;
	}

	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	int rc;
	if ((rc = pki_ca_load(dir, &ca, &ca_key)) != 0 ||
	    (rc = build_leaf(r, ca, ca_key, &key, &cert)) != 0)
		goto out;
	if (X509_cmp_time(X509_get0_notAfter(ca), NULL) < 0)
		fprintf(stderr, "proxyctl: warning: the CA in %s has expired\n", dir);
	else if (!r->expired && ASN1_TIME_compare(X509_get0_notAfter(cert),
						  X509_get0_notAfter(ca)) > 0)
		fprintf(stderr, "proxyctl: warning: the certificate outlives the CA; it will stop "
				"verifying when the CA expires\n");

	if (force && ((rc = pki_remove(key_path)) != 0 || (rc = pki_remove(crt_path)) != 0)) {
		fprintf(stderr, "proxyctl: cannot replace %s/%s.*: %s\n", dir, r->name, strerror(-rc));
		goto out;
	}
	if ((rc = pki_write_key(key_path, key)) != 0) {
		fprintf(stderr, "proxyctl: cannot write %s: %s\n", key_path, strerror(-rc));
		goto out;
	}
	if ((rc = pki_write_cert(crt_path, cert)) != 0) {
		fprintf(stderr, "proxyctl: cannot write %s: %s\n", crt_path, strerror(-rc));
		unlink(key_path); /* a key without its certificate is only clutter */
		goto out;
	}

	char desc[256];
	pki_cert_describe(cert, desc, sizeof desc);
	printf("wrote %s (ECDSA P-256 private key, PKCS#8, mode 0600)\n", key_path);
	printf("wrote %s (%s \"%s\", %s, %s, SAN %s%s)\n", crt_path,
	       r->role == PKI_SERVER ? "server" : "agent", r->name,
	       r->role == PKI_SERVER ? "serverAuth" : "clientAuth", desc, r->san,
	       r->expired ? ", ALREADY EXPIRED: for tests" : "");
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}

int cmd_pki_issue(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'},	 {"server", required_argument, NULL, 'S'},
		{"agent", required_argument, NULL, 'A'}, {"san", required_argument, NULL, 's'},
		{"days", required_argument, NULL, 'n'},	 {"expired", no_argument, NULL, 'x'},
		{"force", no_argument, NULL, 'f'},	 {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct issue_req r = {.days = PKI_LEAF_DAYS};
	const char *dir = PKI_DEFAULT_DIR, *server = NULL, *agent = NULL, *extra = NULL;
	int force = 0, days_set = 0, opt;

	optind = 0; /* glibc: start over on this argv */
	while ((opt = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'S':
			server = optarg;
			break;
		case 'A':
			agent = optarg;
			break;
		case 's':
			extra = optarg;
			break;
		case 'n':
			if (pki_days_parse(optarg, &r.days) != 0) {
				fprintf(stderr, "proxyctl: --days wants 1..%d, not '%s'\n", PKI_MAX_DAYS,
					optarg);
				return CTL_EXIT_USAGE;
			}
			days_set = 1;
			break;
		case 'x':
			r.expired = 1;
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
		fprintf(stderr, "proxyctl: pki issue: unexpected argument '%s'\n", argv[optind]);
		return CTL_EXIT_USAGE;
	}
	if (!server == !agent) {
		fprintf(stderr, "proxyctl: pki issue: give exactly one of --server NAME, --agent ID\n");
		return CTL_EXIT_USAGE;
	}
	if (r.expired && days_set) {
		fprintf(stderr, "proxyctl: --expired sets the dates itself; drop --days\n");
		return CTL_EXIT_USAGE;
	}
	r.role = server ? PKI_SERVER : PKI_AGENT;
	r.name = server ? server : agent;
	if (check_name(r.role, r.name) != 0)
		return CTL_EXIT_USAGE;

	char san[4096], err[400] = "";
	int rc = pki_san_build(r.role, r.name, extra, san, sizeof san, err, sizeof err);
	if (rc != 0) {
		fprintf(stderr, "proxyctl: %s\n", rc == -EINVAL ? err : "--san: too many names");
		return CTL_EXIT_USAGE;
	}
	r.san = san;
	return issue(dir, &r, force) == 0 ? 0 : CTL_EXIT_FAIL;
}
