/* A virtual user: a coroutine running its scenario's transactions, on_start
 * first, then iterations of the loop, then on_stop. */
#include "engine/engine.h"

#include <event2/event.h>
#include <stdlib.h>

#include "util/clock.h"
#include "util/rng.h"

static void on_user_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_user *u = arg;
    if (u->waiting == GOOSE_WAIT_SLEEP)
        goose__user_resume(u);
}

goose_user *goose__user_new(goose_thread *t, unsigned index,
                            unsigned scenario_index)
{
    goose_user *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->thread = t;
    u->index = index;
    u->scenario_index = scenario_index;
    u->scenario = &t->engine->cfg.scenarios[scenario_index];
    u->rng = goose__rng_seed(index, t->engine->t0_us);
    goose__buf_init(&u->url);
    goose__buf_init(&u->path);
    return u;
}

static void release_resources(goose_user *u)
{
    goose__responses_close(u);
    goose__responses_free_spares(u);
    if (u->data_free)
        u->data_free(u->data);
    u->data = NULL;
    u->data_free = NULL;
    if (u->easy)
        curl_easy_cleanup(u->easy);
    u->easy = NULL;
    if (u->timer)
        event_free(u->timer);
    u->timer = NULL;
    curl_slist_free_all(u->no_expect);
    u->no_expect = NULL;
    goose__buf_free(&u->url);
    goose__buf_free(&u->path);
}

void goose__user_free(goose_user *u)
{
    if (!u)
        return;
    release_resources(u);
    goose__coro_free(u->coro);
    free(u);
}

static void wait_between(goose_user *u)
{
    const goose_scenario_plan *s = u->scenario;
    if (s->wait_max_ms == 0 || u->thread->stopping)
        return;
    goose_sleep(u, (unsigned)goose__rng_range(&u->rng, s->wait_min_ms,
                                              s->wait_max_ms));
}

static void run_transaction(goose_user *u, const goose_tx_plan *tx)
{
    u->stopping_tx = 0;
    uint64_t start = goose__now_us();
    int rc = tx->fn(u);
    uint64_t elapsed = goose__now_us() - start;
    goose__responses_close(u);
    /* a transaction cut short by the end of the test is not counted */
    if (!u->stopping_tx)
        goose__stats_record_tx(&u->thread->local, tx->id, rc == 0, elapsed);
}

static int run_list(goose_user *u, const goose_tx_plan *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (u->thread->stopping && !u->in_on_stop)
            return -1;
        run_transaction(u, &list[i]);
        if (!u->in_on_stop)
            wait_between(u);
    }
    return u->thread->stopping && !u->in_on_stop ? -1 : 0;
}

static void user_main(void *arg)
{
    goose_user *u = arg;
    const goose_scenario_plan *s = u->scenario;
    uint64_t limit = u->thread->engine->cfg.iterations;
    if (run_list(u, s->on_start, s->non_start) == 0) {
        for (uint64_t i = 0; limit == 0 || i < limit; i++) {
            if (s->nloop == 0 || run_list(u, s->loop, s->nloop) < 0)
                break;
            u->thread->local.iterations[u->scenario_index]++;
        }
    }
    u->in_on_stop = 1;
    run_list(u, s->on_stop, s->non_stop);
    release_resources(u);
}

int goose__user_launch(goose_user *u)
{
    goose_engine *e = u->thread->engine;
    u->easy = goose__http_easy_new(&e->http, u);
    u->timer = evtimer_new(u->thread->base, on_user_timer, u);
    u->no_expect = curl_slist_append(NULL, "Expect:");
    u->coro = goose__coro_new(e->cfg.stack_size, user_main, u);
    if (!u->easy || !u->timer || !u->no_expect || !u->coro) {
        release_resources(u);
        goose__coro_free(u->coro);
        u->coro = NULL;
        return -1;
    }
    goose__user_resume(u);
    return 0;
}

void goose__user_resume(goose_user *u)
{
    u->waiting = GOOSE_WAIT_NONE;
    goose__coro_resume(u->coro);
    if (goose__coro_finished(u->coro)) {
        goose__coro_free(u->coro);
        u->coro = NULL;
        goose__thread_user_done(u->thread);
    }
}

void goose__user_wake(goose_user *u)
{
    event_del(u->timer);
    event_active(u->timer, EV_TIMEOUT, 1);
}

int goose_sleep(goose_user *u, unsigned ms)
{
    if (!u || !u->coro || goose__coro_current() != u->coro)
        return GOOSE_EINVAL;
    if (u->thread->stopping && !u->in_on_stop)
        return GOOSE_ESTATE;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    if (evtimer_add(u->timer, &tv) < 0)
        return GOOSE_ESYS;
    u->waiting = GOOSE_WAIT_SLEEP;
    goose__coro_yield();
    return u->thread->stopping && !u->in_on_stop ? GOOSE_ESTATE : GOOSE_OK;
}

int goose_user_set_data(goose_user *u, void *data, void (*free_fn)(void *))
{
    if (!u)
        return GOOSE_EINVAL;
    if (u->data_free && u->data != data)
        u->data_free(u->data);
    u->data = data;
    u->data_free = free_fn;
    return GOOSE_OK;
}

void *goose_user_data(const goose_user *u)
{
    return u ? u->data : NULL;
}

unsigned goose_user_index(const goose_user *u)
{
    return u ? u->index : 0;
}

goose_attack *goose_user_attack(const goose_user *u)
{
    return u ? u->thread->engine->cfg.attack : NULL;
}
