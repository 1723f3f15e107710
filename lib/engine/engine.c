/* Starting, stopping and collecting from the engine threads. */
#include "engine/engine.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ENGINE_THREAD_STACK ((size_t)8 << 20)

#include "http/tls.h"
#include "util/clock.h"

/* User i goes to thread i % nthreads, so every thread hatches at the same
 * pace and holds the same number of users (give or take one). */
static int assign_users(goose_engine *e)
{
    for (size_t i = 0; i < e->cfg.users; i++) {
        goose_thread *t = &e->threads[i % e->nthreads];
        unsigned index = e->cfg.user_index ? e->cfg.user_index[i] : (unsigned)i;
        goose_user *u = goose__user_new(t, index, e->cfg.user_scenario[i]);
        if (!u)
            return -1;
        t->users[t->nusers++] = u;
    }
    return 0;
}

static int allocate_threads(goose_engine *e)
{
    e->threads = calloc(e->nthreads, sizeof *e->threads);
    if (!e->threads)
        return -1;
    for (size_t i = 0; i < e->nthreads; i++) {
        size_t share = e->cfg.users / e->nthreads + 1;
        e->threads[i].users = calloc(share, sizeof(goose_user *));
        e->threads[i].users_cap = share;
        e->threads[i].wake_fd = -1;
        e->threads[i].runq_fd = -1;
        e->threads[i].engine = e;
        if (!e->threads[i].users)
            return -1;
    }
    return assign_users(e);
}

/* 1 when a scenario's host is https:// (its users will need the CAs). */
static int any_https_host(const goose_run_config *cfg)
{
    for (size_t i = 0; i < cfg->nscenarios; i++) {
        const char *host = cfg->scenarios[i].host;
        if (host && strncasecmp(host, "https:", 6) == 0)
            return 1;
    }
    return 0;
}

goose_engine *goose__engine_start(const goose_run_config *cfg, char *err,
                                  size_t errlen)
{
    goose_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    if (!e->cfg.total_users)
        e->cfg.total_users = cfg->users;
    e->nthreads = cfg->threads ? cfg->threads : 1; /* setup caps it at the users */
    e->http.timeout_ms = cfg->timeout_ms;
    e->http.resolve = &e->cfg.resolve;
    e->http.no_env_proxy = goose__http_no_env_proxy();
    e->http.local_addrs = cfg->local_addrs;
    e->http.nlocal_addrs = cfg->nlocal_addrs;
    e->http.version = cfg->http_version;
    e->http.tls = cfg->tls;
    e->t0_us = goose__now_us();
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->done_cond, NULL);
    e->cfg.shape = (goose_shape){0};
    if (goose__shape_copy(&e->shape, &cfg->shape) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    atomic_store(&e->shape_version, 1);
    if (goose__throttle_init(&e->throttle, cfg->throttle_rps, cfg->process_index,
                             cfg->processes) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* the CA store and client identity every row uses, built once */
    if (!(e->http.tls_ctx = goose__tls_ctx_new(&e->http.tls, err, errlen)))
        goto fail;
    if (any_https_host(cfg))
        goose__tls_ctx_warm(e->http.tls_ctx);
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        if (goose__transports[i]->run_new(&e->transport[i], &e->http, err, errlen) < 0)
            goto fail;
    if (cfg->max_request_names && !(e->names = goose__names_new(cfg->max_request_names))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (goose__data_start(e) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (allocate_threads(e) < 0) {
        snprintf(err, errlen, "out of memory allocating %zu users", cfg->users);
        goto fail;
    }
    for (size_t i = 0; i < e->nthreads; i++) {
        if (goose__thread_init(&e->threads[i], e, i) < 0) {
            snprintf(err, errlen, "cannot set up engine thread %zu: %s", i,
                     strerror(errno));
            goto fail;
        }
    }
    e->t0_us = goose__now_us();
    /* The users' stack-hungry library calls (jansson: about 300 bytes a
     * level, 2048 levels; pcre2_compile: 22 KiB) run on these threads'
     * own stacks (goose__coro_call): 8 MiB, whatever RLIMIT_STACK the
     * embedding program has. */
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) {
        snprintf(err, errlen, "cannot set up engine threads: out of memory");
        goto fail;
    }
    (void)pthread_attr_setstacksize(&attr, ENGINE_THREAD_STACK);
    for (size_t i = 0; i < e->nthreads; i++) {
        int rc = pthread_create(&e->threads[i].tid, &attr, goose__thread_main,
                                &e->threads[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start engine thread %zu: %s", i,
                     strerror(rc));
            pthread_attr_destroy(&attr);
            goto fail;
        }
        e->threads[i].started = 1;
    }
    pthread_attr_destroy(&attr);
    return e;
fail:
    goose__engine_free(e);
    return NULL;
}

void goose__engine_stop(goose_engine *e)
{
    for (size_t i = 0; e->threads && i < e->nthreads; i++) {
        goose_thread *t = &e->threads[i];
        if (t->started && !atomic_exchange(&t->stop_requested, 1))
            goose__thread_wake(t);
    }
}

void goose__engine_abandon(goose_engine *e)
{
    for (size_t i = 0; e->threads && i < e->nthreads; i++) {
        goose_thread *t = &e->threads[i];
        if (t->started && !atomic_exchange(&t->abandon_requested, 1))
            goose__thread_wake(t);
    }
}

/* A counter each thread publishes, added up over the threads. */
static size_t sum_published(goose_engine *e, size_t field)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nthreads; i++)
        n += atomic_load((atomic_size_t *)((char *)&e->threads[i] + field));
    return n;
}

size_t goose__engine_abandoned(goose_engine *e)
{
    return sum_published(e, offsetof(goose_thread, pub_abandoned));
}

size_t goose__engine_iterations_done(goose_engine *e)
{
    return sum_published(e, offsetof(goose_thread, pub_iterations_done));
}

static size_t started_threads(const goose_engine *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->nthreads; i++)
        n += e->threads[i].started;
    return n;
}

int goose__engine_wait(goose_engine *e, unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    size_t want = started_threads(e);
    pthread_mutex_lock(&e->lock);
    while (e->nfinished < want &&
           pthread_cond_timedwait(&e->done_cond, &e->lock, &until) != ETIMEDOUT)
        ;
    int done = e->nfinished >= want;
    pthread_mutex_unlock(&e->lock);
    return done;
}

size_t goose__engine_threads(const goose_engine *e)
{
    return e->nthreads;
}

int goose__engine_collect_each(goose_engine *e, goose_shard_fn fn, void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < e->nthreads; i++) {
        goose_thread *t = &e->threads[i];
        pthread_mutex_lock(&t->outbox_lock);
        int reset = t->resets != t->resets_seen;
        if (fn(arg, i, reset, &t->before, &t->outbox) < 0) {
            rc = -1; /* kept: tried again at the next call */
        } else {
            t->resets_seen = t->resets;
            goose__stats_reset(&t->before);
            goose__stats_reset(&t->outbox);
        }
        pthread_mutex_unlock(&t->outbox_lock);
    }
    return rc ? -1 : 0;
}

uint64_t goose__engine_start_offset(const goose_run_config *cfg, size_t index)
{
    return goose__shape_when_above(&cfg->shape, 0, (double)index);
}

int goose__engine_reshape(goose_engine *e, const goose_shape *shape)
{
    pthread_mutex_lock(&e->lock);
    int rc = goose__shape_copy(&e->shape, shape);
    if (rc == 0)
        atomic_fetch_add(&e->shape_version, 1);
    pthread_mutex_unlock(&e->lock);
    for (size_t i = 0; rc == 0 && i < e->nthreads; i++)
        if (e->threads[i].started)
            goose__thread_wake(&e->threads[i]);
    return rc;
}

goose_names *goose__engine_names(goose_engine *e)
{
    return e->names;
}

size_t goose__engine_launched(goose_engine *e)
{
    return sum_published(e, offsetof(goose_thread, pub_launched));
}

size_t goose__engine_active(goose_engine *e)
{
    return sum_published(e, offsetof(goose_thread, pub_active));
}

void goose__engine_free(goose_engine *e)
{
    if (!e)
        return;
    goose__engine_stop(e);
    for (size_t i = 0; e->threads && i < e->nthreads; i++)
        if (e->threads[i].started)
            pthread_join(e->threads[i].tid, NULL);
    for (size_t i = 0; e->threads && i < e->nthreads; i++)
        goose__thread_cleanup(&e->threads[i]);
    free(e->threads);
    for (size_t i = 0; i < GOOSE_TRANSPORTS; i++)
        if (e->transport[i])
            goose__transports[i]->run_free(e->transport[i]);
    goose__tls_ctx_free(e->http.tls_ctx);
    goose__shape_free(&e->shape);
    goose__throttle_free(&e->throttle);
    goose__names_free(e->names);
    goose__data_stop(e);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->done_cond);
    free(e);
}
