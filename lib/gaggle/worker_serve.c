/* A Worker's run: one test (it dials for 2 x --gaggle-timeout, runs the
 * test and leaves), or with --worker-reconnect test after test, Manager
 * after Manager: it dials with a backoff (250 ms doubling to 10 s, back to
 * 250 ms once it joined) until a Manager answers, never gives up, and ends
 * only when stopped (GOOSE_OK) or when a Manager fails the key or
 * certificate check or refuses it for good (GOOSE_EFAILED). */
#include "gaggle/worker.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/sigpipe.h"

#define ONE_SHOT_RETRY_US 250000
#define BACKOFF_MIN_US 250000
#define BACKOFF_MAX_US 10000000
#define NAP_SLICE_US 50000

/* Sleeps us in slices of 50 ms: 1 when asked to stop meanwhile. */
static int nap(goose_attack *a, uint64_t us)
{
    uint64_t until = goose__now_us() + us;
    for (;;) {
        if (atomic_load(&a->stop))
            return 1;
        uint64_t now = goose__now_us();
        if (now >= until)
            return 0;
        usleep((useconds_t)(until - now < NAP_SLICE_US ? until - now : NAP_SLICE_US));
    }
}

/* The Manager's connection is gone (and with it the test's every part). */
static void hang_up(worker *w)
{
    goose__peer_free(w->peer);
    w->peer = NULL;
    if (w->base) /* libevent finishes freeing a TLS bufferevent in its loop */
        event_base_loop(w->base, EVLOOP_NONBLOCK);
    int rc = goose__worker_test_free(w);
    if (rc == GOOSE_OK)
        return;
    if (!w->serving && w->rc == GOOSE_OK)
        w->rc = rc; /* a log could not be written */
    else if (w->serving)
        goose__log(w->a, GOOSE_LOG_ERROR, "%s", goose_attack_error(w->a));
}

/* A Manager may start after its Workers: keep dialing for a while. */
static int connect_one_shot(worker *w)
{
    uint64_t give_up = goose__now_us() + 2 * w->a->opt.gaggle_timeout_us;
    char err[256] = "";
    while (goose__worker_connect(w, err, sizeof err) < 0) {
        if (goose__now_us() >= give_up || nap(w->a, ONE_SHOT_RETRY_US))
            return goose__fail(w->a, GOOSE_EFAILED, "%s", err);
    }
    return GOOSE_OK;
}

static int run_one_shot(worker *w)
{
    int rc = connect_one_shot(w);
    if (rc == GOOSE_OK)
        rc = goose__worker_session(w);
    hang_up(w);
    return rc == GOOSE_OK ? w->rc : rc;
}

/* Why a dial found no Manager, in a log line's words. */
static void no_manager(worker *w, const char *err, int e, char *why, size_t len)
{
    const goose_options *o = &w->a->opt;
    if (!e || e == ECANCELED) { /* the name did not resolve, or a stop */
        snprintf(why, len, "%s", err);
        return;
    }
    char reason[128];
    snprintf(reason, sizeof reason, "%s", strerror(e));
    reason[0] = (char)tolower((unsigned char)reason[0]);
    snprintf(why, len, "no manager at %s:%u (%s)",
             o->manager_host ? o->manager_host : "127.0.0.1", o->manager_port, reason);
}

/* The first failure of an outage is said (and a new reason); the next
 * ones only with -v, so a Manager down for hours fills no log. */
static void dial_failed(worker *w, const char *why, uint64_t wait_us, char *said, size_t len)
{
    int again = said[0] && !strcmp(said, why);
    goose__log(w->a, again ? GOOSE_LOG_DEBUG : GOOSE_LOG_INFO, "%s: dialing again in %g s",
               why, (double)wait_us / 1e6);
    snprintf(said, len, "%s", why);
}

/* One connection of a serving Worker, till it ends: 1 when it had joined
 * (the Manager went away after, or between, tests), 0 when it had not
 * (why says why), or -1 when the Worker must end (w->rc says how). */
static int serve_connection(worker *w, char *why, size_t len)
{
    int rc = goose__worker_session(w);
    hang_up(w);
    if (rc != GOOSE_OK || w->fatal) {
        if (rc != GOOSE_OK)
            w->rc = rc;
        return -1;
    }
    w->rc = GOOSE_OK; /* a failed test was logged: the next Manager may do better */
    if (atomic_load(&w->a->stop))
        return -1;
    if (w->joined) {
        goose__watch_set(w->watch, GAGGLE_WORKER_DIALING); /* the test is freed */
        goose__log(w->a, GOOSE_LOG_INFO, "the manager went away: dialing again (%s)",
                   w->why[0] ? w->why : "connection closed");
        return 1;
    }
    snprintf(why, len, "%s", w->why[0] ? w->why : "the manager closed the handshake");
    return 0;
}

static int serve(worker *w)
{
    uint64_t backoff = BACKOFF_MIN_US;
    char why[700], said[700] = "", err[256];
    while (!atomic_load(&w->a->stop)) {
        if (goose__worker_connect(w, err, sizeof err) == 0) {
            int joined = serve_connection(w, why, sizeof why);
            if (joined < 0)
                return w->rc;
            if (joined) { /* a new outage, maybe: the shortest wait again (a */
                backoff = BACKOFF_MIN_US; /* one-shot Manager is still closing) */
                said[0] = '\0';
                if (nap(w->a, backoff))
                    break;
                continue;
            }
        } else {
            no_manager(w, err, errno, why, sizeof why);
        }
        if (atomic_load(&w->a->stop))
            break;
        dial_failed(w, why, backoff, said, sizeof said);
        if (nap(w->a, backoff))
            break;
        backoff = backoff * 2 < BACKOFF_MAX_US ? backoff * 2 : BACKOFF_MAX_US;
    }
    return GOOSE_OK;
}

static int prepare(worker *w)
{
    int rc = goose__gaggle_check_options(w->a, 0);
    if (rc != GOOSE_OK)
        return rc;
    if (w->a->config_error)
        return goose__fail(w->a, w->a->config_code, "%s", w->a->config_error);
    if (w->a->nscenarios == 0)
        return goose__fail(w->a, GOOSE_ECONFIG, "no scenarios: register at least one "
                           "with goose_attack_add_scenario()");
    if (goose__test_hash(w->a, w->hash) < 0)
        return goose__fail(w->a, GOOSE_ESYS, "cannot compute the load-test hash");
    rc = goose__gaggle_load_key(w->a, &w->key);
    if (rc != GOOSE_OK)
        return rc;
    w->tls = goose__tls_context(w->a, 0, &rc);
    if (rc != GOOSE_OK)
        return rc;
    if (w->serving)
        goose__warn_unnumbered_paths(w->a);
    w->base = goose__gaggle_base();
    if (!w->base || goose__worker_timer(w) < 0)
        return goose__fail(w->a, GOOSE_ENOMEM, "out of memory");
    return GOOSE_OK;
}

static void worker_free(worker *w)
{
    hang_up(w);
    if (w->timer)
        event_free(w->timer);
    if (w->base)
        event_base_free(w->base);
    OPENSSL_cleanse(&w->key, sizeof w->key);
    SSL_CTX_free(w->tls);
}

int goose__worker_run(goose_attack *a, gaggle_watch *watch)
{
    /* a stop asked before this thread got here still counts */
    int rc = goose__run_begin(a, GOOSE_ROLE_WORKER);
    if (rc != GOOSE_OK)
        return rc;
    worker w = {.a = a, .watch = watch, .rc = GOOSE_OK, .serving = a->opt.worker_reconnect};
    sigset_t mask;
    goose__sigpipe_block(&mask);
    rc = prepare(&w);
    if (rc == GOOSE_OK)
        rc = w.serving ? serve(&w) : run_one_shot(&w);
    worker_free(&w);
    goose__sigpipe_restore(&mask);
    if (rc == GOOSE_OK && !w.serving)
        rc = w.rc;
    if (rc == GOOSE_OK)
        goose__log(a, GOOSE_LOG_INFO, w.serving ? "stopped: this worker is done"
                                                : "test over: this worker is done");
    goose__run_end(a);
    return rc;
}

int gaggle_worker_run(goose_attack *a)
{
    return goose__worker_run(a, NULL);
}
