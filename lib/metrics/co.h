/* Coordinated omission mitigation, as Goose defines it (--co-mitigation):
 * each user's cadence (how long one pass of its loop takes, wait time not
 * counted), a baseline by mode over its earlier passes, and the synthetic
 * samples that stand for the requests a stalled pass kept from being sent.
 * Pure arithmetic: the engine calls it, goose(7) explains it. */
#ifndef GOOSE_METRICS_CO_H
#define GOOSE_METRICS_CO_H

#include <stdint.h>

#include "metrics/histogram.h"

typedef enum goose_co_mode {
    GOOSE_CO_DISABLED,
    GOOSE_CO_AVERAGE,
    GOOSE_CO_MINIMUM,
    GOOSE_CO_MAXIMUM
} goose_co_mode;

/* Passes measured before a baseline exists: the first ones open
 * connections and warm caches. */
#define GOOSE_CO_WARMUP 3

/* "disabled", "average", ... ; -1 for any other name. */
int goose__co_mode_parse(const char *name);
const char *goose__co_mode_name(int mode);

/* One user's cadence. */
typedef struct goose_cadence {
    uint64_t passes;      /* full passes measured */
    uint64_t total_us;
    uint64_t min_us;
    uint64_t max_us;
    uint64_t stall_us;    /* the last pass when it stalled, else 0 */
    uint64_t expected_us; /* the baseline that pass was held against */
} goose_cadence;

/* The cadence a pass is expected to take by mode, from the passes measured
 * so far; 0 while warming up (or when disabled). */
uint64_t goose__cadence_baseline(const goose_cadence *c, int mode);
/* A full pass took pass_us: it stalled when longer than twice the
 * baseline, and then the next pass's requests are back-filled.  Returns 1
 * when it stalled. */
int goose__cadence_pass(goose_cadence *c, int mode, uint64_t pass_us);

/* How many synthetic samples a request that took response_us gets after a
 * stall: stall_us, stall_us - cadence_us, ... while above response_us. */
uint64_t goose__co_backfill_count(uint64_t stall_us, uint64_t cadence_us,
                                  uint64_t response_us);
/* Adds them to h; returns how many (0 when out of memory). */
uint64_t goose__co_backfill(goose_hist *h, uint64_t stall_us, uint64_t cadence_us,
                            uint64_t response_us);

#endif
