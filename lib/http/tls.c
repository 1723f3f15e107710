/* TLS for the own clients on OpenSSL 3, and the run's trust for every
 * transport (tls.h).
 *
 * One SSL_CTX per run holds what is costly to build: the CA store (parsed
 * once, from --ca-file's contents or the system's paths), the client
 * certificate and key (read once), the verification mode.  A connection
 * is one SSL on its owner's non-blocking socket.  Sessions are kept by
 * their users, not in OpenSSL's cache: the new-session callback puts each
 * one into the slot of the connection it came on (under TLS 1.3 the
 * tickets come after the handshake, on a later read), so a user resumes
 * only its own. */
#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct goose_tls_ctx {
    SSL_CTX *ssl;
    X509_STORE *store;          /* ssl's, lent to other transports */
    int verify;                 /* check the peer's certificate and name */
    X509 *cert;                 /* the client certificate, or NULL */
    STACK_OF(X509) *chain;      /*   the certificates after it in its file */
    EVP_PKEY *key;
    BIO_METHOD *sock;           /* the socket under every connection */
    atomic_int cas_ready;       /* the store holds its CAs (need_system_cas) */
    pthread_mutex_t lock;
};

struct goose_tls {
    SSL *ssl;
    goose_tls_ctx *ctx;
    goose_tls_session **slot;   /* where the server's sessions go */
    char host[256];             /* as the certificate must name it */
    int fd;
    int drained;                /* the last recv got less than it asked for */
};

/* ---- words ---- */

/* OpenSSL's error in libcurl's words: "OpenSSL/3.0.19: error:0A000410:SSL
 * routines::sslv3 alert handshake failure" for a handshake (what: NULL),
 * "OpenSSL SSL_read: error:..., errno 0" for a read or a write. */
static void put_openssl_error(goose_http_capture *c, const char *what)
{
    char buf[160];
    int err = errno;
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s", strerror(err ? err : EIO));
    if (what)
        snprintf(c->errbuf, sizeof c->errbuf, "OpenSSL %s: %s, errno %d", what, buf, err);
    else
        snprintf(c->errbuf, sizeof c->errbuf, "OpenSSL/%u.%u.%u: %s", OPENSSL_version_major(),
                 OPENSSL_version_minor(), OPENSSL_version_patch(), buf);
}

/* The reason text OpenSSL gives the alert of a TLS 1.3 server that wanted
 * a client certificate (alert 116): how libcurl passes it on. */
static const char *cert_required_reason(void)
{
    const char *s = ERR_reason_error_string(
        ERR_PACK(ERR_LIB_SSL, 0, SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED));
    return s ? s : "tlsv13 alert certificate required";
}

void goose__tls_verify_error(goose_http_capture *c, long verify_result, const char *host)
{
    if (verify_result == GOOSE_TLS_NEED_CLIENT_CERT ||
        (verify_result == X509_V_OK && strstr(c->errbuf, cert_required_reason())))
        snprintf(c->errbuf, sizeof c->errbuf,
                 "SSL: the server requires a client certificate (TLS alert: certificate "
                 "required)");
    else if (verify_result == X509_V_ERR_HOSTNAME_MISMATCH ||
             verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH)
        snprintf(c->errbuf, sizeof c->errbuf,
                 "SSL: no alternative certificate subject name matches target host name '%s'",
                 host);
    else if (verify_result != X509_V_OK)
        snprintf(c->errbuf, sizeof c->errbuf, "SSL certificate problem: %s",
                 X509_verify_cert_error_string(verify_result));
}

/* ---- the socket under TLS ----
 * OpenSSL's socket BIO writes with write(): a peer that has gone would
 * raise SIGPIPE in the host program.  This one sends with MSG_NOSIGNAL, as
 * the plain client does, and says EAGAIN and EOF as OpenSSL expects. */

static int sock_fd(BIO *b)
{
    return ((goose_tls *)BIO_get_data(b))->fd;
}

static int sock_write(BIO *b, const char *data, size_t len, size_t *done)
{
    ssize_t n;
    BIO_clear_retry_flags(b);
    do
        n = send(sock_fd(b), data, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        return 0;
    }
    *done = (size_t)n;
    return 1;
}

static int sock_read(BIO *b, char *data, size_t len, size_t *done)
{
    ssize_t n;
    BIO_clear_retry_flags(b);
    do
        n = recv(sock_fd(b), data, len, 0);
    while (n < 0 && errno == EINTR);
    ((goose_tls *)BIO_get_data(b))->drained = n < (ssize_t)len;
    if (n <= 0) {
        if (n == 0)
            BIO_set_flags(b, BIO_FLAGS_IN_EOF);
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        return 0;
    }
    *done = (size_t)n;
    return 1;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) != 0;
    case BIO_C_GET_FD:
        if (ptr)
            *(int *)ptr = sock_fd(b);
        return sock_fd(b);
    default:
        return 0;
    }
}

static BIO_METHOD *sock_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
                                     BIO_TYPE_DESCRIPTOR, "goose socket");
    if (m && (BIO_meth_set_write_ex(m, sock_write) != 1 ||
              BIO_meth_set_read_ex(m, sock_read) != 1 || BIO_meth_set_ctrl(m, sock_ctrl) != 1)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* ---- per run ---- */

static int ctx_fail(char *err, size_t errlen, const char *what, const char *path)
{
    char buf[160] = "not PEM, or unreadable";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    else if (errno)
        snprintf(buf, sizeof buf, "%s", strerror(errno));
    ERR_clear_error();
    snprintf(err, errlen, "%s%s%s: %s", what, path ? " " : "", path ? path : "", buf);
    return -1;
}

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* 1 when OpenSSL's last error is the clean end of a PEM stream. */
static int pem_ended(void)
{
    unsigned long e = ERR_peek_last_error();
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Every certificate of the PEM bytes goes into the store: a broken one
 * anywhere in the bundle is an error, found when the option is given. */
static int load_ca_pem(X509_STORE *store, const char *pem, size_t len, char *err,
                       size_t errlen)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return FAIL("out of memory");
    size_t n = 0;
    X509 *x;
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        X509_STORE_add_cert(store, x); /* a certificate given twice is no error */
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

/* No pass phrase is asked for: an encrypted key is an error, never a prompt. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static BIO *open_file(const char *flag, const char *path, char *err, size_t errlen)
{
    errno = 0;
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) {
        snprintf(err, errlen, "cannot read --%s %s: %s", flag, path,
                 strerror(errno ? errno : EIO));
        ERR_clear_error();
    }
    return bio;
}

/* The certificate and the chain after it in its file. */
static int load_cert(goose_tls_ctx *t, const char *path, char *err, size_t errlen)
{
    BIO *bio = open_file("client-cert", path, err, errlen);
    if (!bio)
        return -1;
    t->cert = PEM_read_bio_X509_AUX(bio, NULL, no_password, NULL);
    X509 *x;
    t->chain = sk_X509_new_null();
    while (t->cert && t->chain && (x = PEM_read_bio_X509(bio, NULL, no_password, NULL)))
        if (!sk_X509_push(t->chain, x))
            X509_free(x);
    BIO_free(bio);
    ERR_clear_error(); /* the end of the file */
    return t->cert ? 0 : FAIL("--client-cert %s holds no PEM certificate", path);
}

/* The key from its own file, else from the certificate's, as libcurl reads it. */
static int load_key(goose_tls_ctx *t, const goose_tls_setup *s, char *err, size_t errlen)
{
    const char *path = s->client_key ? s->client_key : s->client_cert;
    BIO *bio = open_file(s->client_key ? "client-key" : "client-cert", path, err, errlen);
    if (!bio)
        return -1;
    ERR_clear_error();
    t->key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    unsigned long e = ERR_peek_last_error(); /* no_password's refusal: an encrypted key */
    int encrypted = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_BAD_PASSWORD_READ;
    BIO_free(bio);
    ERR_clear_error();
    if (t->key)
        return 0;
    if (encrypted)
        return FAIL("--%s %s holds an encrypted private key, which is not supported",
                    s->client_key ? "client-key" : "client-cert", path);
    if (!s->client_key)
        return FAIL("--client-cert %s holds no private key: give --client-key", path);
    return FAIL("--client-key %s holds no PEM private key", path);
}

/* The client's identity, read once: libcurl's contexts get it without
 * reading the files again. */
static int load_identity(goose_tls_ctx *t, const goose_tls_setup *s, char *err, size_t errlen)
{
    if (s->client_key && !s->client_cert)
        return FAIL("--client-key needs --client-cert (the certificate the key belongs to)");
    if (!s->client_cert)
        return 0;
    if (load_cert(t, s->client_cert, err, errlen) < 0 || load_key(t, s, err, errlen) < 0)
        return -1;
    if (X509_check_private_key(t->cert, t->key) != 1) {
        ERR_clear_error();
        return FAIL("--client-key %s is not the key of --client-cert %s",
                    s->client_key ? s->client_key : s->client_cert, s->client_cert);
    }
    if (SSL_CTX_use_certificate(t->ssl, t->cert) != 1 ||
        SSL_CTX_set1_chain(t->ssl, t->chain) != 1 || SSL_CTX_use_PrivateKey(t->ssl, t->key) != 1)
        return ctx_fail(err, errlen, "cannot use --client-cert", s->client_cert);
    return 0;
}

static int new_session(SSL *ssl, SSL_SESSION *sess)
{
    goose_tls *t = SSL_get_app_data(ssl);
    if (!t || !t->slot || !SSL_SESSION_is_resumable(sess))
        return 0;
    SSL_SESSION_free((SSL_SESSION *)*t->slot);
    *t->slot = (goose_tls_session *)sess;
    return 1; /* the slot owns it now */
}

/* The system's CAs (OpenSSL's default paths) are read when the first
 * https connection needs them, once, by whichever thread comes first: the
 * bundle takes some 250 million instructions to parse, which a run that
 * makes no https request need not pay. */
static void need_system_cas(goose_tls_ctx *t)
{
    if (atomic_load_explicit(&t->cas_ready, memory_order_acquire))
        return;
    pthread_mutex_lock(&t->lock);
    if (!atomic_load_explicit(&t->cas_ready, memory_order_relaxed)) {
        if (X509_STORE_set_default_paths(t->store) != 1)
            ERR_clear_error(); /* no CA then: every check says so */
        atomic_store_explicit(&t->cas_ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&t->lock);
}

void goose__tls_ctx_warm(goose_tls_ctx *ctx)
{
    need_system_cas(ctx);
}

static int build_ctx(goose_tls_ctx *t, const goose_tls_setup *s, char *err, size_t errlen)
{
    if (!(t->ssl = SSL_CTX_new(TLS_client_method())) || !(t->sock = sock_method()))
        return ctx_fail(err, errlen, "cannot make a TLS context", NULL);
    SSL_CTX_set_min_proto_version(t->ssl, TLS1_2_VERSION);
    SSL_CTX_set_mode(t->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_AUTO_RETRY);
    t->store = SSL_CTX_get_cert_store(t->ssl);
    /* as libcurl does: a trusted intermediate is an anchor */
    X509_STORE_set_flags(t->store, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_TRUSTED_FIRST);
    if (s->ca_pem && load_ca_pem(t->store, s->ca_pem, s->ca_pem_len, err, errlen) < 0)
        return -1;
    atomic_init(&t->cas_ready, s->ca_pem != NULL);
    t->verify = !s->accept_invalid_certs;
    SSL_CTX_set_verify(t->ssl, t->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(t->ssl,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(t->ssl, new_session);
    return load_identity(t, s, err, errlen);
}

goose_tls_ctx *goose__tls_ctx_new(const goose_tls_setup *setup, char *err, size_t errlen)
{
    goose_tls_ctx *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    if (build_ctx(t, setup, err, errlen) < 0) {
        goose__tls_ctx_free(t);
        return NULL;
    }
    return t;
}

void goose__tls_ctx_free(goose_tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ssl);
    BIO_meth_free(t->sock);
    X509_free(t->cert);
    sk_X509_pop_free(t->chain, X509_free);
    EVP_PKEY_free(t->key);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int goose__tls_ctx_apply(goose_tls_ctx *t, void *ssl_ctx)
{
    SSL_CTX *c = ssl_ctx;
    if (!t || !c)
        return -1;
    need_system_cas(t);
    if (X509_STORE_up_ref(t->store) != 1)
        return -1;
    SSL_CTX_set_cert_store(c, t->store);
    if (t->cert && (SSL_CTX_use_certificate(c, t->cert) != 1 ||
                    SSL_CTX_set1_chain(c, t->chain) != 1 ||
                    SSL_CTX_use_PrivateKey(c, t->key) != 1)) {
        ERR_clear_error();
        return -1;
    }
    if (!t->verify)
        SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
    return 0;
}

/* ---- per connection ---- */

static int is_ip_literal(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static int set_alpn(SSL *ssl, goose_http_version v)
{
    static const unsigned char both[] = "\x02h2\x08http/1.1", h1[] = "\x08http/1.1";
    const unsigned char *p = v == GOOSE_HTTP_AUTO ? both : v == GOOSE_HTTP_2 ? both : h1;
    unsigned len = v == GOOSE_HTTP_AUTO ? sizeof both - 1 : v == GOOSE_HTTP_2 ? 3 : sizeof h1 - 1;
    return SSL_set_alpn_protos(ssl, p, len) == 0 ? 0 : -1; /* 0 is success here */
}

/* The name the certificate must hold: the host, or the address. */
static int set_peer_name(goose_tls *t)
{
    if (is_ip_literal(t->host))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->host) == 1 ? 0 : -1;
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (SSL_set_tlsext_host_name(t->ssl, t->host) != 1)
        return -1;
    return SSL_set1_host(t->ssl, t->host) == 1 ? 0 : -1;
}

goose_tls *goose__tls_new(goose_tls_ctx *ctx, int fd, const char *host,
                          goose_http_version alpn, goose_tls_session **session)
{
    need_system_cas(ctx);
    goose_tls *t = calloc(1, sizeof *t);
    if (!t || strlen(host) >= sizeof t->host || !(t->ssl = SSL_new(ctx->ssl)))
        goto fail;
    t->ctx = ctx;
    t->slot = session;
    strcpy(t->host, host);
    SSL_set_app_data(t->ssl, t);
    BIO *sock = BIO_new(ctx->sock);
    if (!sock)
        goto fail;
    t->fd = fd;
    BIO_set_data(sock, t);
    BIO_set_init(sock, 1);
    SSL_set_bio(t->ssl, sock, sock);
    if (set_alpn(t->ssl, alpn) < 0 || set_peer_name(t) < 0)
        goto fail;
    if (session && *session && SSL_set_session(t->ssl, (SSL_SESSION *)*session) != 1)
        goto fail;
    SSL_set_connect_state(t->ssl);
    return t;
fail:
    ERR_clear_error();
    goose__tls_free(t);
    return NULL;
}

/* No close_notify (a plain close, as the plain client's): the session is
 * kept resumable, which OpenSSL would otherwise forget on a close it was
 * not told of. */
void goose__tls_free(goose_tls *t)
{
    if (!t)
        return;
    if (t->ssl && SSL_is_init_finished(t->ssl))
        SSL_set_shutdown(t->ssl, SSL_get_shutdown(t->ssl) | SSL_SENT_SHUTDOWN);
    SSL_free(t->ssl);
    free(t);
}

void goose__tls_session_free(goose_tls_session *s)
{
    SSL_SESSION_free((SSL_SESSION *)s);
}

/* What an SSL call that returned r <= 0 means.  errno is ECONNRESET after
 * a reset, 0 after a close_notify or a plain EOF (h1's retry rules ask).
 * A socket that would block is told first, from the socket's own retry
 * flags, as SSL_get_error would: without its look into OpenSSL's error
 * queue, and so without clearing the queue before every read and write
 * (ERR_clear_error costs some 840 instructions, a twelfth of a keep-alive
 * request).  Every path here that leaves errors in the queue clears it. */
static goose_tls_io io_result(goose_tls *t, int r, goose_http_capture *c, const char *what)
{
    BIO *sock = SSL_get_rbio(t->ssl);
    if (BIO_should_retry(sock)) {
        if (SSL_want_read(t->ssl) && BIO_should_read(sock))
            return GOOSE_TLS_WANT_READ;
        if (SSL_want_write(t->ssl) && BIO_should_write(sock))
            return GOOSE_TLS_WANT_WRITE;
    }
    int saved = errno;
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return GOOSE_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return GOOSE_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        errno = 0;
        return GOOSE_TLS_CLOSED;
    case SSL_ERROR_SYSCALL: /* the socket's error, or an EOF */
        if (ERR_peek_error() == 0 && (saved == ECONNRESET || saved == EPIPE || saved == 0)) {
            errno = saved ? ECONNRESET : 0;
            return GOOSE_TLS_CLOSED;
        }
        errno = saved;
        break;
    default:
        errno = 0; /* a TLS error: no socket's error to name */
        break;
    }
    unsigned long e = ERR_peek_last_error();
    int reason = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;
    if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) { /* no close_notify */
        ERR_clear_error();
        errno = 0;
        return GOOSE_TLS_CLOSED;
    }
    if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED)
        goose__tls_verify_error(c, GOOSE_TLS_NEED_CLIENT_CERT, t->host);
    else
        put_openssl_error(c, what);
    ERR_clear_error();
    return GOOSE_TLS_FAILED;
}

goose_tls_io goose__tls_handshake(goose_tls *t, goose_http_capture *c, goose_terr *code)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return GOOSE_TLS_OK;
    long verify = SSL_get_verify_result(t->ssl);
    goose_tls_io io = io_result(t, r, c, NULL);
    if (io == GOOSE_TLS_CLOSED) {
        snprintf(c->errbuf, sizeof c->errbuf,
                 "SSL connect error: the server closed the connection in the handshake");
        *code = GOOSE_TE_CONNECT;
        return GOOSE_TLS_FAILED;
    }
    if (io == GOOSE_TLS_FAILED) {
        if (t->ctx->verify && verify != X509_V_OK)
            goose__tls_verify_error(c, verify, t->host);
        *code = GOOSE_TE_TLS;
    }
    return io;
}

int goose__tls_is_h2(const goose_tls *t)
{
    const unsigned char *p;
    unsigned len;
    SSL_get0_alpn_selected(t->ssl, &p, &len);
    return len == 2 && memcmp(p, "h2", 2) == 0;
}

goose_tls_io goose__tls_read(goose_tls *t, void *buf, size_t len, size_t *n,
                             goose_http_capture *c)
{
    if (SSL_read_ex(t->ssl, buf, len, n) == 1)
        return GOOSE_TLS_OK;
    return io_result(t, 0, c, "SSL_read");
}

goose_tls_io goose__tls_write(goose_tls *t, const void *buf, size_t len, size_t *n,
                              goose_http_capture *c)
{
    if (SSL_write_ex(t->ssl, buf, len, n) == 1)
        return GOOSE_TLS_OK;
    return io_result(t, 0, c, "SSL_write");
}

void goose__tls_read_ahead(goose_tls *t)
{
    SSL_set_read_ahead(t->ssl, 1);
}

int goose__tls_drained(const goose_tls *t)
{
    return t->drained && !goose__tls_pending(t);
}

size_t goose__tls_pending(const goose_tls *t)
{
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : (size_t)SSL_has_pending(t->ssl);
}
