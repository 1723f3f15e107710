/* The target's TLS files: what --ca-file, --client-cert and --client-key
 * must hold, checked before anything starts so that a wrong file is bad
 * configuration (exit status 2), never a run whose every request fails. */
#include "config/attack.h"

#include "http/tls.h"

#include <stdio.h>

/* The run's TLS context is built from these files the way the run will
 * build it (tls.c reads them, nowhere else), and dropped. */
static int build_and_drop(const goose_tls_setup *s, char *err, size_t errlen)
{
    goose_tls_ctx *ctx = goose__tls_ctx_new(s, err, errlen);
    goose__tls_ctx_free(ctx);
    return ctx ? 0 : -1;
}

int goose__ca_pem_check(const char *pem, size_t len, char *err, size_t errlen)
{
    if (len > GOOSE_CA_FILE_MAX) {
        snprintf(err, errlen, "larger than %d KiB (a CA bundle is far smaller)",
                 GOOSE_CA_FILE_MAX / 1024);
        return -1;
    }
    goose_tls_setup s = {.ca_pem = pem, .ca_pem_len = len};
    return build_and_drop(&s, err, errlen);
}

int goose__client_cert_check(const goose_options *o, char *err, size_t errlen)
{
    goose_tls_setup s = {.client_cert = o->client_cert, .client_key = o->client_key};
    return build_and_drop(&s, err, errlen) < 0 ? GOOSE_ECONFIG : GOOSE_OK;
}

const char *goose__http_version_name(int version)
{
    switch (version) {
    case GOOSE_HTTP_1_1: return "1.1";
    case GOOSE_HTTP_2: return "2";
    default: return "auto";
    }
}
