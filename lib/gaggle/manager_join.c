/* The Gaggle Manager's door: it listens, runs the handshake of each
 * connection (version, key proofs both ways, load-test hash), seats a
 * Worker in the test or keeps it as a member (--no-autostart), and frees
 * closed connections. */
#include "gaggle/manager.h"

#include <errno.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX 512      /* connections still in the handshake */
#define MEMBERS_MAX 10000    /* --no-autostart: Workers kept (--expect-workers' most) */

/* retry: a later try may succeed (a serving Worker dials again). */
static void reject(manager *m, gaggle_peer *p, const char *why, int retry)
{
    goose__log(m->a, GOOSE_LOG_WARN, "refused a worker from %s: %s", p->addr, why);
    gaggle_out o;
    goose__out_begin(&o, "reject", 2);
    goose__out_str(&o, "reason", why);
    goose__out_bool(&o, "retry", retry);
    goose__peer_send(p, &o);
    goose__out_free(&o);
    goose__peer_finish(p);
}

static conn *conn_of(manager *m, const gaggle_peer *p)
{
    for (conn *c = m->conns; c; c = c->next)
        if (c->peer == p)
            return c;
    return NULL;
}

/* hello: a version and the Worker's nonce.  Our answer proves the key
 * (when we have one) and says nothing about the test. */
static void on_hello(manager *m, conn *c, const msgpack_object *msg)
{
    uint64_t version = 0;
    char why[128];
    goose__get_u64(msg, "version", &version);
    if (version != GAGGLE_PROTOCOL_VERSION) {
        snprintf(why, sizeof why, "protocol version %llu, the manager speaks %d",
                 (unsigned long long)version, GAGGLE_PROTOCOL_VERSION);
        reject(m, c->peer, why, 1);
        return;
    }
    if (goose__get_nonce(msg, "nonce", c->nonce_w) < 0 || goose__gaggle_nonce(c->nonce_m) < 0) {
        goose__peer_close(c->peer, "hello without a nonce");
        return;
    }
    gaggle_out o;
    goose__out_begin(&o, "challenge", m->key.set ? 3 : 2);
    goose__out_bin(&o, "nonce", c->nonce_m, GAGGLE_NONCE);
    goose__out_bool(&o, "key", m->key.set);
    if (m->key.set) {
        unsigned char proof[GAGGLE_PROOF];
        goose__gaggle_proof(&m->key, "manager", c->nonce_w, c->nonce_m, proof);
        goose__out_bin(&o, "proof", proof, sizeof proof);
    }
    goose__peer_send(c->peer, &o);
    goose__out_free(&o);
    c->challenged = 1;
}

/* Which check of the key failed, for the Manager's log. */
static const char *key_failure(const manager *m, const conn *c, const msgpack_object *msg)
{
    const msgpack_object *proof = goose__map_get(msg, "proof");
    if (!m->key.set)
        return proof ? "the worker has a gaggle key but this manager has none" : NULL;
    if (!proof)
        return "the worker has no gaggle key";
    if (!goose__gaggle_proof_ok(&m->key, "worker", c->nonce_m, c->nonce_w, proof))
        return "the worker's key proof is wrong (another --gaggle-key?)";
    return NULL;
}

/* A Worker that would not take this Manager says why before it leaves. */
static void on_refuse(manager *m, conn *c, const msgpack_object *msg)
{
    char reason[256];
    if (goose__get_str(msg, "reason", reason, sizeof reason) < 0)
        snprintf(reason, sizeof reason, "no reason given");
    goose__log(m->a, GOOSE_LOG_WARN, "worker from %s refused this manager: %s",
               c->peer->addr, reason);
    goose__peer_close(c->peer, "refused by the worker");
}

/* 1 when the Worker runs this load test (or --no-hash-check lets it). */
static int same_test(manager *m, gaggle_peer *p, const char *hash)
{
    char why[256];
    if (strcmp(hash, m->hash) == 0)
        return 1;
    snprintf(why, sizeof why, "load test hash mismatch: manager %s, worker %s", m->hash,
             hash[0] ? hash : "(none)");
    if (!m->a->opt.no_hash_check) {
        reject(m, p, why, 1);
        return 0;
    }
    goose__log(m->a, GOOSE_LOG_WARN, "%s (accepted: --no-hash-check)", why);
    return 1;
}

/* --no-autostart: an authenticated Worker is a member for as long as its
 * connection lasts; it waits for a test ("idle") unless one takes it now. */
static void join_member(manager *m, conn *c, const char *name)
{
    c->member = 1;
    snprintf(c->name, sizeof c->name, "%s", name);
    goose__log(m->a, GOOSE_LOG_INFO, "worker %s joined from %s", c->name, c->peer->addr);
    goose__members_take(m);
    if (!c->slot)
        goose__send_type(c->peer, "idle");
}

static void on_auth(manager *m, conn *c, const msgpack_object *msg)
{
    gaggle_peer *p = c->peer;
    char hash[80] = "", name[128] = "", why[256];
    const char *bad_key = key_failure(m, c, msg);
    if (bad_key) {
        goose__log(m->a, GOOSE_LOG_WARN, "worker from %s failed the key check: %s",
                   p->addr, bad_key);
        reject(m, p, "authentication failed: the gaggle keys differ", 0);
        return;
    }
    goose__peer_set_max_frame(p, GAGGLE_FRAME_MAX); /* a proven peer */
    goose__get_str(msg, "hash", hash, sizeof hash);
    if (goose__get_str(msg, "name", name, sizeof name) < 0 || !name[0])
        snprintf(name, sizeof name, "%s", p->addr);
    if (m->stays) {
        if (goose__members_count(m) >= MEMBERS_MAX) {
            snprintf(why, sizeof why, "the gaggle is full (%d workers)", MEMBERS_MAX);
            reject(m, p, why, 1);
        } else if (same_test(m, p, hash)) {
            join_member(m, c, name);
        }
        return;
    }
    if (m->t.started) {
        reject(m, p, "the test has already started: wait for the next one", 1);
        return;
    }
    if (m->t.start_failed) {
        reject(m, p, "test_start failed: the test is over", 1);
        return;
    }
    mworker *w = NULL;
    for (size_t i = 0; i < m->t.expected && !w; i++)
        if (m->t.workers[i].state == W_FREE)
            w = &m->t.workers[i];
    if (!w) {
        snprintf(why, sizeof why, "the gaggle is full (%zu workers expected)", m->t.expected);
        reject(m, p, why, 1);
        return;
    }
    if (!same_test(m, p, hash))
        return;
    goose__slot_seat(m, w, p, name);
    goose__log(m->a, GOOSE_LOG_INFO, "worker %zu joined: %s from %s, %zu users (%zu of %zu)",
               (size_t)(w - m->t.workers) + 1, w->name, p->addr, w->users,
               m->t.expected - goose__slots_in(m, W_FREE), m->t.expected);
}

/* A member with no part in the test under way (or none is), waiting. */
static int waiting_member(const conn *c)
{
    const gaggle_peer *p = c->peer;
    return c->member && !c->slot && !c->fence && !p->closed && !p->flushing && !p->draining;
}

size_t goose__members_waiting(const manager *m)
{
    size_t n = 0;
    for (const conn *c = m->conns; c; c = c->next)
        n += waiting_member(c);
    return n;
}

size_t goose__members_count(const manager *m)
{
    size_t n = 0;
    for (const conn *c = m->conns; c; c = c->next)
        n += c->member && !c->peer->closed;
    return n;
}

/* --no-autostart: once --expect-workers members wait, the test takes every
 * one waiting then (one per user at most; the others wait for the next
 * test); a slot whose Worker left before START goes to the next member. */
void goose__members_take(manager *m)
{
    mtest *t = &m->t;
    if (!m->stays || !t->set || t->started || t->start_failed || goose__test_stopping(m))
        return;
    if (!t->taken) {
        size_t waiting = goose__members_waiting(m);
        if (waiting < t->wanted)
            return;
        size_t n = waiting < t->cfg.users ? waiting : t->cfg.users;
        if (!(t->workers = calloc(n, sizeof *t->workers))) {
            goose__log(m->a, GOOSE_LOG_ERROR, "test %u: out of memory: cancelled", t->number);
            t->cancelled = 1;
            return;
        }
        t->expected = n;
        t->taken = 1;
        goose__log(m->a, GOOSE_LOG_INFO, "test %u takes %zu workers%s", t->number, n,
                   n < waiting ? " (one per user: the others wait for the next test)" : "");
    }
    conn *c = m->conns;
    for (size_t i = 0; i < t->expected; i++) {
        mworker *w = &t->workers[i];
        if (w->state != W_FREE)
            continue;
        while (c && !waiting_member(c))
            c = c->next;
        if (!c)
            return;
        c->slot = i + 1;
        goose__slot_seat(m, w, c->peer, c->name);
        goose__log(m->a, GOOSE_LOG_INFO, "test %u: worker %zu is %s from %s, %zu users",
                   t->number, i + 1, w->name, c->peer->addr, w->users);
    }
}

static void send_pong(gaggle_peer *p, uint64_t t)
{
    gaggle_out o;
    goose__out_begin(&o, "pong", 1);
    goose__out_u64(&o, "t", t);
    goose__peer_send(p, &o);
    goose__out_free(&o);
}

/* Between tests a member and its Manager only trade heartbeats; until
 * the pong of its fence, the "ready" or "refuse" of a test called off
 * before START may still come. */
static void on_member_msg(manager *m, conn *c, const char *type, const msgpack_object *msg)
{
    uint64_t t;
    char reason[256];
    if (!strcmp(type, "ping") && goose__get_u64(msg, "t", &t) == 0) {
        send_pong(c->peer, t);
    } else if (!strcmp(type, "pong")) {
        /* a heartbeat's (the fence's is taken in on_msg) */
    } else if (c->fence && !strcmp(type, "refuse")) {
        if (goose__get_str(msg, "reason", reason, sizeof reason) < 0)
            snprintf(reason, sizeof reason, "no reason given");
        goose__log(m->a, GOOSE_LOG_WARN, "worker %s cannot run the test: %s", c->name, reason);
    } else if (!c->fence || strcmp(type, "ready") != 0) {
        goose__peer_close(c->peer, "unexpected message between tests");
    }
}

static void on_msg(gaggle_peer *p, const char *type, const msgpack_object *msg)
{
    manager *m = p->owner;
    mworker *w = goose__slot_of(m, p);
    conn *c = conn_of(m, p);
    uint64_t t;
    if (c && c->fence && !strcmp(type, "pong") && goose__get_u64(msg, "t", &t) == 0 &&
        t == c->fence)
        c->fence = 0; /* (its slot may still be there: the test ends after) */
    else if (w)
        goose__slot_msg(m, w, type, msg);
    else if (c && c->member)
        on_member_msg(m, c, type, msg);
    else if (c && !c->challenged && !strcmp(type, "hello"))
        on_hello(m, c, msg);
    else if (c && c->challenged && !strcmp(type, "auth"))
        on_auth(m, c, msg);
    else if (c && c->challenged && !strcmp(type, "refuse"))
        on_refuse(m, c, msg);
    else
        goose__peer_close(p, "not the handshake (hello, then auth)");
}

static void on_close(gaggle_peer *p, const char *why)
{
    manager *m = p->owner;
    mworker *w = goose__slot_of(m, p);
    conn *c = w ? NULL : conn_of(m, p);
    if (c && c->member) { /* between tests: simply gone */
        goose__log(m->a, GOOSE_LOG_INFO, "worker %s (from %s) left: %s", c->name, p->addr,
                   why);
        return;
    }
    if (!w) { /* a TLS mix-up deserves a word; the noise of strangers does not */
        int tls = strstr(why, "TLS") != NULL;
        goose__log(m->a, tls ? GOOSE_LOG_WARN : GOOSE_LOG_DEBUG,
                   "connection from %s closed: %s", p->addr, why);
        return;
    }
    size_t index = (size_t)(w - m->t.workers) + 1;
    if (!m->t.started) { /* its place is free for another worker */
        goose__log(m->a, GOOSE_LOG_WARN, "worker %zu (%s) left before the start: %s",
                   index, w->name, why);
        w->state = W_FREE;
        return;
    }
    if (w->state != W_DONE) {
        w->state = W_LOST;
        w->active = 0;
        goose__log(m->a, GOOSE_LOG_ERROR, "worker %zu (%s) lost: %s; the others go on",
                   index, w->name, why);
    }
}

/* Too many connections still in the handshake: the oldest goes, so a flood
 * cannot keep a real Worker out (it finishes its handshake in one round
 * trip). */
static void limit_pending(manager *m)
{
    size_t pending = 0;
    conn *oldest = NULL;
    for (conn *c = m->conns; c; c = c->next) {
        if (c->peer->closed || c->member || goose__slot_of(m, c->peer))
            continue;
        pending++;
        oldest = c; /* the list is newest first */
    }
    if (pending >= PENDING_MAX && oldest)
        goose__peer_close(oldest->peer, "too many connections in the handshake");
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int len, void *arg)
{
    (void)l, (void)sa, (void)len;
    manager *m = arg;
    limit_pending(m);
    conn *c = calloc(1, sizeof *c);
    gaggle_peer *p = c ? goose__peer_new(m->base, fd, m->tls, on_msg, on_close, m) : NULL;
    if (!p) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    goose__peer_watch(p, &m->lag);
    c->peer = p;
    c->next = m->conns;
    m->conns = c;
}

/* Closed connections are freed here, outside their own callbacks. */
void goose__conns_sweep(manager *m, uint64_t now)
{
    uint64_t timeout = m->a->opt.gaggle_timeout_us;
    for (conn **cp = &m->conns; *cp;) {
        conn *c = *cp;
        mworker *w = goose__slot_of(m, c->peer);
        if (!c->peer->closed && goose__peer_silence_us(c->peer, now) > timeout)
            goose__peer_close(c->peer, w ? "no heartbeat within --gaggle-timeout"
                                         : "said nothing within --gaggle-timeout");
        if (!c->peer->closed) {
            cp = &c->next;
            continue;
        }
        for (size_t i = 0; i < m->t.expected; i++)
            if (m->t.workers[i].peer == c->peer)
                m->t.workers[i].peer = NULL;
        *cp = c->next;
        goose__peer_free(c->peer);
        free(c);
    }
}

static int is_loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "::1") || !strcmp(host, "localhost") ||
           !strncmp(host, "127.", 4);
}

int goose__manager_listen(manager *m)
{
    const goose_options *o = &m->a->opt;
    const char *host = o->manager_bind_host ? o->manager_bind_host : "0.0.0.0";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", o->manager_bind_port);
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return goose__fail(m->a, GOOSE_ECONFIG, "--manager-bind-host %s: %s", host,
                           gai_strerror(rc));
    m->listener = evconnlistener_new_bind(m->base, on_accept, m,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          128, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (!m->listener)
        return goose__fail(m->a, GOOSE_ESYS, "cannot listen on %s:%u: %s", host,
                           o->manager_bind_port, strerror(errno));
    goose__log(m->a, GOOSE_LOG_INFO, "manager listening on %s:%u for %zu workers (hash %.12s)",
               host, o->manager_bind_port, o->expect_workers, m->hash);
    if (m->tls)
        goose__log(m->a, GOOSE_LOG_INFO, "TLS on: Workers must verify this Manager%s",
                   m->a->opt.tls_ca ? " and present certificates of --tls-ca (mTLS)" : "");
    if (!m->key.set && !is_loopback(host))
        goose__log(m->a, GOOSE_LOG_WARN,
                   "WARNING: this Manager listens on %s without a gaggle key: anyone who "
                   "reaches port %u can join the test and read its configuration. Give "
                   "every side --gaggle-key-file (and --tls-cert/--tls-key), or bind "
                   "127.0.0.1", host, o->manager_bind_port);
    return GOOSE_OK;
}
