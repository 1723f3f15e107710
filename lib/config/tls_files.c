/* The target's TLS files: what --ca-file, --client-cert and --client-key
 * must hold, checked before anything starts so that a wrong file is bad
 * configuration (exit status 2), never a run whose every request fails. */
#include "config/attack.h"

#include "http/http.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* 1 when OpenSSL's last error is the clean end of a PEM stream. */
static int pem_ended(void)
{
    unsigned long e = ERR_peek_last_error();
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Every certificate of the bundle is read, as the run will read them: a
 * broken one later in the file is found now, not at the first request. */
int goose__ca_pem_check(const char *pem, size_t len, char *err, size_t errlen)
{
    if (len > GOOSE_CA_FILE_MAX)
        return FAIL("larger than %d KiB (a CA bundle is far smaller)", GOOSE_CA_FILE_MAX / 1024);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return FAIL("out of memory");
    size_t n = 0;
    X509 *x;
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        X509_free(x);
        n++;
    }
    int clean = pem_ended();
    ERR_clear_error();
    BIO_free(bio);
    if (n == 0 && clean)
        return FAIL("holds no PEM certificate");
    if (!clean)
        return FAIL("certificate %zu is not a valid PEM certificate", n + 1);
    return 0;
}

/* No passphrase is asked for: OpenSSL's default would read the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *arg)
{
    (void)buf, (void)size, (void)rwflag, (void)arg;
    return -1;
}

static BIO *open_file(const char *flag, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read --%s %s: %s", flag, path, strerror(errno));
        return NULL;
    }
    BIO *bio = BIO_new_fp(f, BIO_CLOSE);
    if (!bio) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
    }
    return bio;
}

static int check_pair(const goose_options *o, X509 **cert, EVP_PKEY **key, char *err,
                      size_t errlen)
{
    BIO *bio = open_file("client-cert", o->client_cert, err, errlen);
    if (!bio)
        return -1;
    *cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    /* curl reads the key from the certificate's file, before it or after */
    if (*cert && !o->client_key && BIO_reset(bio) == 0)
        *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!*cert)
        return FAIL("--client-cert %s holds no PEM certificate", o->client_cert);
    if (!o->client_key && !*key)
        return FAIL("--client-cert %s holds no private key: give --client-key", o->client_cert);
    if (o->client_key) {
        if (!(bio = open_file("client-key", o->client_key, err, errlen)))
            return -1;
        *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
        BIO_free(bio);
        if (!*key)
            return FAIL("--client-key %s holds no PEM private key (or an encrypted one, "
                        "which is not supported)", o->client_key);
    }
    if (X509_check_private_key(*cert, *key) != 1)
        return FAIL("--client-key %s is not the key of --client-cert %s",
                    o->client_key ? o->client_key : o->client_cert, o->client_cert);
    return 0;
}

int goose__client_cert_check(const goose_options *o, char *err, size_t errlen)
{
    if (o->client_key && !o->client_cert)
        return snprintf(err, errlen, "--client-key needs --client-cert (the certificate "
                        "the key belongs to)"), GOOSE_ECONFIG;
    if (!o->client_cert)
        return GOOSE_OK;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    int rc = check_pair(o, &cert, &key, err, errlen);
    X509_free(cert);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return rc < 0 ? GOOSE_ECONFIG : GOOSE_OK;
}

const char *goose__http_version_name(int version)
{
    switch (version) {
    case GOOSE_HTTP_1_1: return "1.1";
    case GOOSE_HTTP_2: return "2";
    default: return "auto";
    }
}
