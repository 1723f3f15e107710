/* TLS for the Gaggle, through libevent's bufferevent_openssl: the Manager
 * presents --tls-cert/--tls-key (and asks Workers for a certificate when it
 * has --tls-ca: mTLS); a Worker with --tls-ca verifies the Manager's chain
 * and that its certificate names --manager-host. */
#include "gaggle/gaggle.h"

#include <arpa/inet.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static int ssl_fail(goose_attack *a, const char *what, const char *path)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return goose__fail(a, GOOSE_ECONFIG, "%s %s: %s", what, path, e ? buf : "invalid");
}

static int load_identity(goose_attack *a, SSL_CTX *ctx)
{
    const goose_options *o = &a->opt;
    if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1)
        return ssl_fail(a, "cannot use --tls-cert", o->tls_cert);
    if (SSL_CTX_use_PrivateKey_file(ctx, o->tls_key, SSL_FILETYPE_PEM) != 1)
        return ssl_fail(a, "cannot use --tls-key", o->tls_key);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return ssl_fail(a, "--tls-key does not match --tls-cert", o->tls_key);
    return GOOSE_OK;
}

static int load_ca(goose_attack *a, SSL_CTX *ctx, int mode)
{
    if (SSL_CTX_load_verify_locations(ctx, a->opt.tls_ca, NULL) != 1)
        return ssl_fail(a, "cannot use --tls-ca", a->opt.tls_ca);
    SSL_CTX_set_verify(ctx, mode, NULL);
    return GOOSE_OK;
}

/* NULL with *rc == GOOSE_OK: this side runs in plaintext. */
SSL_CTX *goose__tls_context(goose_attack *a, int manager, int *rc)
{
    const goose_options *o = &a->opt;
    *rc = GOOSE_OK;
    if (!!o->tls_cert != !!o->tls_key) {
        *rc = goose__fail(a, GOOSE_ECONFIG, "--tls-cert and --tls-key go together");
        return NULL;
    }
    if (manager ? !o->tls_cert : !o->tls_ca) {
        if (o->tls_cert || o->tls_ca)
            *rc = goose__fail(a, GOOSE_ECONFIG, manager
                                  ? "--tls-ca on a Manager (mTLS) needs --tls-cert and --tls-key"
                                  : "--tls-cert on a Worker (mTLS) needs --tls-ca to verify "
                                    "the Manager");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(manager ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        *rc = goose__fail(a, GOOSE_ENOMEM, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (o->tls_cert)
        *rc = load_identity(a, ctx);
    if (*rc == GOOSE_OK && o->tls_ca)
        *rc = load_ca(a, ctx, manager ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                      : SSL_VERIFY_PEER);
    if (*rc != GOOSE_OK) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The Manager's certificate must name the host the Worker dialed. */
static int expect_host(SSL *ssl, const char *host)
{
    unsigned char ip[16];
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
        return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
    SSL_set_tlsext_host_name(ssl, host);
    return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

struct bufferevent *goose__tls_bufferevent(struct event_base *base, evutil_socket_t fd,
                                           SSL_CTX *ctx, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    if (host && expect_host(ssl, host) < 0) {
        SSL_free(ssl);
        return NULL;
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, fd, ssl, host ? BUFFEREVENT_SSL_CONNECTING : BUFFEREVENT_SSL_ACCEPTING,
        BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        SSL_free(ssl);
    return bev;
}

int goose__tls_verify_failed(struct bufferevent *bev)
{
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    return ssl && SSL_get_verify_result(ssl) != X509_V_OK;
}

/* Why a TLS connection failed, in words a user can act on. */
const char *goose__tls_error(struct bufferevent *bev, int manager, char *buf, size_t len)
{
    unsigned long e = bufferevent_get_openssl_error(bev);
    SSL *ssl = bufferevent_openssl_get_ssl(bev);
    long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (!manager && (verify == X509_V_ERR_HOSTNAME_MISMATCH ||
                     verify == X509_V_ERR_IP_ADDRESS_MISMATCH))
        return "TLS: the manager's certificate does not name --manager-host";
    if (verify != X509_V_OK) {
        snprintf(buf, len, "TLS: the %s's certificate failed verification: %s",
                 manager ? "worker" : "manager", X509_verify_cert_error_string(verify));
        return buf;
    }
    if (!e)
        return manager ? "TLS: the peer closed the handshake (a plaintext worker?)"
                       : "TLS: the manager closed the handshake (does it run with "
                         "--tls-cert, and want a client certificate?)";
    char reason[160];
    ERR_error_string_n(e, reason, sizeof reason);
    if (manager && (strstr(reason, "wrong version number") || strstr(reason, "http request") ||
                    strstr(reason, "packet length too long") || strstr(reason, "record layer")))
        snprintf(buf, len, "TLS: the peer does not speak TLS (a plaintext worker against "
                           "this TLS manager?): %s", reason);
    else if (!manager && strstr(reason, "certificate required"))
        snprintf(buf, len, "TLS: the manager wants a client certificate (mTLS): give "
                           "--tls-cert and --tls-key");
    else if (!manager && strstr(reason, "unexpected eof"))
        snprintf(buf, len, "TLS: the manager closed the handshake (a plaintext manager "
                           "without --tls-cert?)");
    else
        snprintf(buf, len, "TLS: %s", reason);
    return buf;
}
