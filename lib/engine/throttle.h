/* --throttle-requests: requests take numbered slots, slot k due at k / rate
 * seconds after the start.  A Gaggle Worker w of W owns the slots w, w+W,
 * w+2W, ... and its threads share them, so no second of the whole Gaggle
 * holds more than rate (+1) slots, and a thread with work takes the slots
 * an idle one leaves.  Lock-free: one compare-and-swap per request. */
#ifndef GOOSE_ENGINE_THROTTLE_H
#define GOOSE_ENGINE_THROTTLE_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct goose_throttle {
    double rate;           /* requests per second of the whole test; 0: off */
    uint64_t first;        /* this process's first slot */
    uint64_t stride;       /* slots between two of ours */
    atomic_uint_least64_t next; /* our next unclaimed slot (count of ours) */
} goose_throttle;

void goose__throttle_init(goose_throttle *t, double rate, uint64_t first, uint64_t stride);
/* Claims the first free slot not before now_us (since the start); returns
 * when it is due. */
uint64_t goose__throttle_claim(goose_throttle *t, uint64_t now_us);

#endif
