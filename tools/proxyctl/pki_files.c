/* The PKI directory on disk. Files are created with O_EXCL so nothing is replaced by
 * accident, and keys get mode 0600 at open(): a chmod afterwards would leave a window in
 * which the key is readable by others. */
#include "config.h"
#include "pki.h"
#include "proxyctl.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pki_path(char *out, size_t out_len, const char *dir, const char *name, const char *ext)
{
	int n = snprintf(out, out_len, "%s/%s.%s", dir, name, ext);
	return n < 0 || (size_t)n >= out_len ? -ENAMETOOLONG : 0;
}

int pki_remove(const char *path)
{
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

static int write_file(const char *path, mode_t mode, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	int rc = 0;
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	/* A key that is lost in a crash after we said "wrote" is worse than a slow command. */
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc)
		unlink(path);
	return rc;
}

/* PEM into memory first, so a write error is a plain errno from write_file. The memory
 * BIO is cleared when freed (BUF_MEM_free uses OPENSSL_clear_free). */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL;
	int rc;

	if (!mem || !(key ? PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL)
			  : PEM_write_bio_X509(mem, cert))) {
		char what[300];
		snprintf(what, sizeof what, "cannot encode %s", path);
		ctl_ossl_fail(what);
		BIO_free(mem);
		return -EIO;
	}
	long len = BIO_get_mem_data(mem, &data);
	rc = write_file(path, mode, data, (size_t)len);
	BIO_free(mem);
	return rc;
}

int pki_write_key(const char *path, EVP_PKEY *key)
{
	/* PEM_write_bio_PrivateKey writes PKCS#8 ("BEGIN PRIVATE KEY"); no cipher: the daemon
	 * loads it unattended, and the 0600 mode is what protects it. */
	return write_pem(path, 0600, key, NULL);
}

int pki_write_cert(const char *path, X509 *cert)
{
	return write_pem(path, 0644, NULL, cert);
}

static int load_one(const char *path, X509 **cert, EVP_PKEY **key)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int rc = -errno;
		fprintf(stderr, "proxyctl: cannot open %s: %s%s\n", path, strerror(-rc),
			rc == -ENOENT ? " (create the CA with: proxyctl pki init)" : "");
		return rc;
	}
	if (cert)
		*cert = PEM_read_X509(f, NULL, NULL, NULL);
	else
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (cert ? !*cert : !*key) {
		char what[300];
		snprintf(what, sizeof what, "cannot read %s", path);
		ctl_ossl_fail(what);
		return -EINVAL;
	}
	return 0;
}

int pki_ca_load(const char *dir, X509 **cert, EVP_PKEY **key)
{
	char crt_path[4096], key_path[4096];
	int rc;

	*cert = NULL;
	*key = NULL;
	if ((rc = pki_path(crt_path, sizeof crt_path, dir, PKI_CA_NAME, "crt")) != 0 ||
	    (rc = pki_path(key_path, sizeof key_path, dir, PKI_CA_NAME, "key")) != 0) {
		fprintf(stderr, "proxyctl: %s: %s\n", dir, strerror(-rc));
		return rc;
	}
	if ((rc = load_one(crt_path, cert, NULL)) != 0 || (rc = load_one(key_path, NULL, key)) != 0)
		goto fail;
	if (X509_check_private_key(*cert, *key) != 1) {
		char what[300];
		snprintf(what, sizeof what, "the CA key in %s does not belong to its ca.crt", dir);
		ctl_ossl_fail(what);
		rc = -EINVAL;
		goto fail;
	}
	if (X509_check_ca(*cert) == 0) {
		fprintf(stderr, "proxyctl: %s is not a CA certificate\n", crt_path);
		rc = -EINVAL;
		goto fail;
	}
	return 0;
fail:
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return rc;
}
