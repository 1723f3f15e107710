/* Several requests of one user at once (k6's http.batch): each request of
 * a batch runs the ordinary send path (send.c: throttle, redirects,
 * cookies, counting) on a lane of its own (engine.h), on a coroutine
 * borrowed from the thread, while the user's coroutine waits in
 * goose_batch_send until every one has ended.  The transports carry them
 * at once: HTTP/1.1 on up to 6 connections per origin, HTTP/2 as streams
 * of one connection, libcurl on up to 6 easy handles; a request that finds
 * them all busy waits (exchange.c) until one of the user's requests ends. */
#include "engine/engine.h"

#include <event2/event.h>
#include <stdlib.h>

#include "coro/coro.h"

/* Requests of a batch started at once, as k6's default: each holds a
 * coroutine's stack while it runs; the next starts as one ends. */
#define AT_ONCE 20

typedef struct batch_item {
    goose_lane lane;           /* first: done() finds the item by its lane */
    goose_batch *batch;
    goose_request *req;
    goose_reply *reply;        /* what the request got (its last hop), or NULL */
    goose_response *handle;    /* the user's view of reply, once sent */
} batch_item;

struct goose_batch {
    goose_user *user;
    goose_batch *next;         /* the user's batches of this transaction */
    batch_item *items;
    size_t n, cap;
    size_t started;            /* items started, in order */
    size_t running;            /* lanes started that have not finished */
    int sent;
};

/* Only the transaction of the batch's user may touch it. */
static int is_own(const goose_batch *b)
{
    return b->user->coro && goose__coro_current() == b->user->coro;
}

goose_batch *goose_batch_new(goose_user *u)
{
    if (!u || !u->coro || goose__coro_current() != u->coro)
        return NULL;
    goose_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->user = u;
    b->next = u->batches;
    u->batches = b;
    return b;
}

int goose_batch_add(goose_batch *b, goose_request *req)
{
    int rc = GOOSE_OK;
    if (!b || !req || req->user != b->user || !is_own(b))
        rc = GOOSE_EINVAL;
    else if (b->sent)
        rc = GOOSE_ESTATE;
    else if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        batch_item *items = realloc(b->items, cap * sizeof *items);
        if (!items)
            rc = GOOSE_ENOMEM;
        else
            b->items = items, b->cap = cap;
    }
    if (rc != GOOSE_OK) {
        goose_request_free(req); /* taken, as documented */
        return rc;
    }
    batch_item *it = &b->items[b->n++];
    goose__lane_init(&it->lane, b->user); /* its pointers are set when sent */
    it->batch = b;
    it->req = req;
    it->reply = NULL;
    it->handle = NULL;
    return GOOSE_OK;
}

/* When the lane's coroutine finished, its stack goes back to the thread. */
static void reap(batch_item *it)
{
    goose_lane *l = &it->lane;
    if (!goose__coro_finished(l->coro))
        return;
    goose__thread_return_coro(l->user->thread, l->coro);
    l->coro = NULL;
    it->batch->running--;
}

static void start_item(batch_item *it);

/* Starts items while fewer than AT_ONCE run; once all have ended, the
 * user waiting for the batch goes on (the last thing: it may free b). */
static void pump(goose_batch *b)
{
    while (b->running < AT_ONCE && b->started < b->n)
        start_item(&b->items[b->started++]);
    goose_user *u = b->user;
    if (!b->running && b->started == b->n && u->waiting == GOOSE_WAIT_BATCH)
        goose__user_resume(u);
}

void goose__batch_resume(goose_lane *l)
{
    if (l->user->abandoned || !l->coro)
        return;
    batch_item *it = (batch_item *)l;
    *l->waiting = GOOSE_WAIT_NONE;
    goose__coro_resume(l->coro);
    reap(it);
    pump(it->batch);
}

/* A lane's timer: its throttle slot came, or the test stops. */
static void on_lane_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    goose_lane *l = arg;
    if (*l->waiting == GOOSE_WAIT_THROTTLE)
        goose__batch_resume(l);
}

static void lane_main(void *arg)
{
    batch_item *it = arg;
    it->reply = goose__send_on(&it->lane, it->req);
}

/* Starts the item's lane; it runs until it waits (or ends at once). */
static void start_item(batch_item *it)
{
    goose_lane *l = &it->lane;
    goose_thread *t = l->user->thread;
    l->waiting = &l->own_wait; /* the items do not move any more */
    l->timer = evtimer_new(t->base, on_lane_timer, l);
    l->coro = l->timer ? goose__thread_borrow_coro(t, lane_main, it) : NULL;
    if (!l->coro)
        return; /* out of memory: the item has no response */
    it->batch->running++;
    goose__coro_resume(l->coro);
    reap(it);
}

int goose_batch_send(goose_batch *b)
{
    if (!b || !is_own(b))
        return GOOSE_EINVAL;
    if (b->sent)
        return GOOSE_ESTATE;
    b->sent = 1;
    goose_user *u = b->user;
    pump(b);
    if (b->running || b->started < b->n) {
        u->waiting = GOOSE_WAIT_BATCH;
        goose__coro_yield();
    } else if (b->n && !goose__user_stopping(u)) {
        /* all ended at once: the thread's other users get a turn */
        goose__user_pass_turn(u);
    }
    int failed = 0;
    for (size_t i = 0; i < b->n; i++) {
        batch_item *it = &b->items[i];
        it->handle = goose__response_hand_out(it->reply);
        it->reply = NULL; /* the handle's now */
        if (goose_response_error(it->handle))
            failed++;
    }
    return failed;
}

goose_response *goose_batch_response(goose_batch *b, size_t i)
{
    return b && b->sent && i < b->n ? b->items[i].handle : NULL;
}

/* Everything the batch holds.  A lane that has not finished belongs to
 * an abandoned user: its coroutine is never resumed, so its stack is
 * freed, not handed back to the thread; its reply is the user's (counted
 * when the user's replies are closed). */
static void destroy(goose_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        batch_item *it = &b->items[i];
        if (it->lane.coro)
            goose__coro_free(it->lane.coro);
        if (it->lane.timer)
            event_free(it->lane.timer);
        goose__lane_free(&it->lane);
        goose_request_free(it->req);
        if (it->handle && it->handle->reply) /* not freed by the transaction */
            goose__response_recycle(it->handle->reply);
    }
    free(b->items);
    free(b);
}

static void unlink_batch(goose_batch *b)
{
    for (goose_batch **p = &b->user->batches; *p; p = &(*p)->next) {
        if (*p == b) {
            *p = b->next;
            return;
        }
    }
}

void goose_batch_free(goose_batch *b)
{
    if (!b)
        return;
    if (!is_own(b)) {
        goose__response_misuse(b->user, "goose_batch_free: the batch belongs to another "
                               "user or transaction");
        return;
    }
    unlink_batch(b);
    destroy(b);
}

void goose__batches_close(goose_user *u)
{
    while (u->batches) {
        goose_batch *b = u->batches;
        u->batches = b->next;
        destroy(b);
    }
}

void goose__lanes_retry(goose_user *u)
{
    goose_lane *l = u->waiters;
    u->waiters = u->waiters_last = NULL;
    while (l) {
        goose_lane *next = l->next_waiter;
        if (!l->coro)
            goose__user_resume(u);
        else
            goose__batch_resume(l);
        l = next;
    }
}

void goose__batches_wake(goose_user *u)
{
    for (goose_batch *b = u->batches; b; b = b->next) {
        for (size_t i = 0; i < b->n; i++) {
            goose_lane *l = &b->items[i].lane;
            if (l->coro && *l->waiting == GOOSE_WAIT_THROTTLE) {
                event_del(l->timer);
                event_active(l->timer, EV_TIMEOUT, 1);
            }
        }
    }
}

void goose__batches_abandon(goose_user *u)
{
    u->waiters = u->waiters_last = NULL;
    for (goose_batch *b = u->batches; b; b = b->next)
        for (size_t i = 0; i < b->n; i++)
            if (b->items[i].lane.coro)
                goose__lane_abandon(&b->items[i].lane);
}
