/* --throttle-requests: requests take numbered slots, slot k due at k / rate
 * seconds after the start (a hair later: see throttle.c).  A Gaggle Worker
 * w of W owns the slots w, w+W, w+2W, ... and its threads share them, so
 * the whole Gaggle keeps to the rate and a thread with work takes the
 * slots an idle one leaves (one compare-and-swap per request).  A window
 * of the last sends then makes sure that no second, wherever it starts,
 * holds more than the process's share even when timers fire late. */
#ifndef GOOSE_ENGINE_THROTTLE_H
#define GOOSE_ENGINE_THROTTLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct goose_throttle {
    double rate;           /* slots per second of the whole test; 0: off */
    uint64_t first;        /* this process's first slot */
    uint64_t stride;       /* slots between two of ours */
    atomic_uint_least64_t next; /* our next unclaimed slot (count of ours) */
    pthread_mutex_t lock;  /* the window: */
    uint64_t *sent;        /* the last `cap` sends (µs since the start) */
    size_t cap, head, n;
    uint64_t window_us;    /* at most cap sends in any window this long */
} goose_throttle;

/* -1 when out of memory. */
int goose__throttle_init(goose_throttle *t, double rate, uint64_t first, uint64_t stride);
void goose__throttle_free(goose_throttle *t);
/* Claims the first free slot not before now_us (since the start); returns
 * when it is due. */
uint64_t goose__throttle_claim(goose_throttle *t, uint64_t now_us);
/* At a slot's time: 1 when the request may go now (recorded as sent), 0
 * when the window is full until *until_us. */
int goose__throttle_pace(goose_throttle *t, uint64_t now_us, uint64_t *until_us);

#endif
