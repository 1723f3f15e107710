/* Request slots for --throttle-requests (see throttle.h). */
#include "engine/throttle.h"

#include <math.h>

void goose__throttle_init(goose_throttle *t, double rate, uint64_t first, uint64_t stride)
{
    t->rate = rate;
    t->first = first;
    t->stride = stride ? stride : 1;
    atomic_store(&t->next, 0);
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
