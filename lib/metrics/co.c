/* Coordinated omission mitigation: the cadence of a user and the
 * back-fill of a stall (see co.h and goose(7)). */
#include "metrics/co.h"

#include <string.h>

static const char *const NAMES[] = {"disabled", "average", "minimum", "maximum"};
#define NMODES (sizeof NAMES / sizeof NAMES[0])

int goose__co_mode_parse(const char *name)
{
    for (size_t i = 0; name && i < NMODES; i++)
        if (strcmp(name, NAMES[i]) == 0)
            return (int)i;
    return -1;
}

const char *goose__co_mode_name(int mode)
{
    return mode >= 0 && (size_t)mode < NMODES ? NAMES[mode] : "?";
}

uint64_t goose__cadence_baseline(const goose_cadence *c, int mode)
{
    if (c->passes < GOOSE_CO_WARMUP)
        return 0;
    switch (mode) {
    case GOOSE_CO_AVERAGE:
        return c->total_us / c->passes;
    case GOOSE_CO_MINIMUM:
        return c->min_us;
    case GOOSE_CO_MAXIMUM:
        return c->max_us;
    default:
        return 0;
    }
}

/* The pass is held against the earlier passes only, then joins them (a
 * stall too, as in Goose: under maximum it raises the bar for later). */
int goose__cadence_pass(goose_cadence *c, int mode, uint64_t pass_us)
{
    uint64_t expected = goose__cadence_baseline(c, mode);
    /* longer than twice the baseline, without overflowing 2 * expected */
    int stalled = expected > 0 && pass_us > expected && pass_us - expected > expected;
    c->stall_us = stalled ? pass_us : 0;
    c->expected_us = stalled ? expected : 0;
    c->min_us = c->passes == 0 || pass_us < c->min_us ? pass_us : c->min_us;
    c->max_us = pass_us > c->max_us ? pass_us : c->max_us;
    c->total_us += pass_us;
    c->passes++;
    return stalled;
}

uint64_t goose__co_backfill_count(uint64_t stall_us, uint64_t cadence_us,
                                  uint64_t response_us)
{
    if (cadence_us == 0 || stall_us <= response_us)
        return 0;
    uint64_t span = stall_us - response_us;
    return span / cadence_us + (span % cadence_us != 0);
}

uint64_t goose__co_backfill(goose_hist *h, uint64_t stall_us, uint64_t cadence_us,
                            uint64_t response_us)
{
    uint64_t n = goose__co_backfill_count(stall_us, cadence_us, response_us);
    return goose__hist_add_series(h, stall_us, cadence_us, n) < 0 ? 0 : n;
}
