/* A Worker on its own thread, for embedding (gaggle_worker_start): the
 * host program stops it, joins it, and follows its state through an
 * eventfd its own event loop watches (gaggle_worker_fd). */
#include "gaggle/worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct gaggle_worker {
    goose_attack *attack;
    pthread_t thread;
    int rc;
    atomic_int done;
    gaggle_watch watch;
};

void goose__watch_set(gaggle_watch *w, int state)
{
    if (!w || atomic_exchange(&w->state, state) == state)
        return;
    uint64_t one = 1;
    /* EAGAIN: the counter is full, and so readable already */
    ssize_t n = w->fd >= 0 ? write(w->fd, &one, sizeof one) : 0;
    (void)n;
}

static void *worker_thread(void *arg)
{
    gaggle_worker *gw = arg;
    gw->rc = goose__worker_run(gw->attack, &gw->watch);
    atomic_store(&gw->done, 1);
    goose__watch_set(&gw->watch, GAGGLE_WORKER_STOPPED); /* last: rc is set */
    return NULL;
}

/* 1 once the run has ended: gaggle_worker_join() will not wait. */
int gaggle_worker_done(const gaggle_worker *gw)
{
    return gw ? atomic_load(&((gaggle_worker *)gw)->done) : 1;
}

gaggle_worker *gaggle_worker_start(goose_attack *a)
{
    if (!a)
        return NULL;
    gaggle_worker *gw = calloc(1, sizeof *gw);
    if (!gw)
        return NULL;
    gw->attack = a;
    atomic_store(&gw->watch.state, GAGGLE_WORKER_DIALING);
    /* readable at once: the host's loop learns the first state too */
    gw->watch.fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
    if (gw->watch.fd < 0) {
        free(gw);
        return NULL;
    }
    atomic_store(&a->stop, 0);
    if (pthread_create(&gw->thread, NULL, worker_thread, gw) != 0) {
        close(gw->watch.fd);
        free(gw);
        return NULL;
    }
    return gw;
}

int gaggle_worker_stop(gaggle_worker *gw)
{
    if (!gw)
        return GOOSE_EINVAL;
    return goose_attack_stop(gw->attack);
}

int gaggle_worker_fd(gaggle_worker *gw)
{
    return gw ? gw->watch.fd : GOOSE_EINVAL;
}

/* Drained first: a change after the read makes the fd readable again. */
int gaggle_worker_state(gaggle_worker *gw)
{
    if (!gw)
        return GOOSE_EINVAL;
    uint64_t n;
    while (read(gw->watch.fd, &n, sizeof n) == (ssize_t)sizeof n)
        ;
    return atomic_load(&gw->watch.state);
}

int gaggle_worker_join(gaggle_worker *gw)
{
    if (!gw)
        return GOOSE_EINVAL;
    pthread_join(gw->thread, NULL);
    int rc = gw->rc;
    close(gw->watch.fd);
    free(gw);
    return rc;
}
