/* Request slots and the window of --throttle-requests (see throttle.h). */
#include "engine/throttle.h"

#include <math.h>
#include <stdlib.h>

/* Slots and windows are 0.5% longer than the rate says, so that requests
 * whose way to the server differs by up to 5 ms still land at most `rate`
 * in any second of the server's access log. */
#define SLOT_MARGIN 1.005
/* Beyond this many requests a second per process, one more in a second is
 * far below 2% and the window is not kept. */
#define WINDOW_MAX 100000

int goose__throttle_init(goose_throttle *t, double rate, uint64_t first, uint64_t stride)
{
    t->rate = rate / SLOT_MARGIN;
    t->first = first;
    t->stride = stride ? stride : 1;
    atomic_store(&t->next, 0);
    t->sent = NULL;
    t->cap = t->head = t->n = 0;
    pthread_mutex_init(&t->lock, NULL);
    double share = rate / (double)t->stride; /* this process's requests a second */
    if (rate <= 0 || share > WINDOW_MAX)
        return 0;
    t->cap = share >= 1 ? (size_t)share : 1;
    t->window_us = (uint64_t)ceil((double)t->cap / share * 1e6 * SLOT_MARGIN);
    t->sent = calloc(t->cap, sizeof *t->sent);
    return t->sent ? 0 : -1;
}

void goose__throttle_free(goose_throttle *t)
{
    free(t->sent);
    t->sent = NULL;
    pthread_mutex_destroy(&t->lock);
}

static uint64_t slot_time(const goose_throttle *t, uint64_t m)
{
    return (uint64_t)ceil((double)(t->first + t->stride * m) * 1e6 / t->rate);
}

/* Our first slot due at or after now: slots left unused in the past are
 * gone, so an idle spell never turns into a burst. */
static uint64_t first_due(const goose_throttle *t, uint64_t now_us)
{
    double k = (double)now_us * t->rate / 1e6 - (double)t->first;
    if (k <= 0)
        return 0;
    return (uint64_t)ceil(k / (double)t->stride);
}

uint64_t goose__throttle_claim(goose_throttle *t, uint64_t now_us)
{
    uint64_t due = first_due(t, now_us);
    uint64_t cur = atomic_load(&t->next), m;
    do {
        m = cur > due ? cur : due;
    } while (!atomic_compare_exchange_weak(&t->next, &cur, m + 1));
    return slot_time(t, m);
}

int goose__throttle_pace(goose_throttle *t, uint64_t now_us, uint64_t *until_us)
{
    if (!t->sent)
        return 1;
    int ok = 1;
    pthread_mutex_lock(&t->lock);
    if (t->n == t->cap && now_us < t->sent[t->head] + t->window_us) {
        *until_us = t->sent[t->head] + t->window_us;
        ok = 0;
    } else {
        t->sent[t->head] = now_us;
        t->head = (t->head + 1) % t->cap;
        t->n += t->n < t->cap;
    }
    pthread_mutex_unlock(&t->lock);
    return ok;
}
