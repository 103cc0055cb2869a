/* See tls_files.h. Reads each file once with OpenSSL, the library lws itself loads them with. */
#include "tls_files.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

/* A key protected by a passphrase would make OpenSSL ask for it on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *user)
{
    (void)buf, (void)size, (void)rwflag, (void)user;
    return -1;
}

static FILE *open_readable(const char *what, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) snprintf(err, err_len, "cannot read the TLS %s %s: %s", what, path, strerror(errno));
    return f;
}

bool dc_tls_files_check(const char *cert_path, const char *key_path, char *err, size_t err_len)
{
    FILE *f = open_readable("certificate", cert_path, err, err_len);
    if (!f) return false;
    X509 *cert = PEM_read_X509(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!cert) {
        snprintf(err, err_len, "the TLS certificate %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                 cert_path);
        return false;
    }
    f = open_readable("key", key_path, err, err_len);
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, no_passphrase, NULL) : NULL;
    if (f) fclose(f);
    bool ok = key && X509_check_private_key(cert, key) == 1;
    if (f && !key)
        snprintf(err, err_len,
                 "the TLS key %s holds no PEM private key, or one protected by a passphrase "
                 "(this server cannot ask for it)",
                 key_path);
    else if (key && !ok)
        snprintf(err, err_len, "the TLS key %s does not belong to the certificate %s", key_path, cert_path);
    ERR_clear_error(); /* what OpenSSL queued on the way is said above */
    EVP_PKEY_free(key);
    X509_free(cert);
    return ok;
}
