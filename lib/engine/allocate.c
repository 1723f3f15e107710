/* Users to scenarios by weight, the same way every time (--scheduler, as
 * Goose's GooseScheduler).  The weights are divided by their greatest
 * common divisor; one turn of the allocation has as many user slots as
 * the weights add up to, and the turns repeat:
 *   serial       each scenario takes as many slots in a row as its weight,
 *                in registration order: 3:1 give A A A B (the default, and
 *                the only allocation before 0.2.0);
 *   round-robin  one slot of each scenario in turn, those whose weight is
 *                used up left out: 3:1 give A B A A;
 *   random       the slots of one serial turn shuffled from the run's seed
 *                (the same shuffle every turn): 3:1 give e.g. A A B A.
 * So 8 users at weights 3:1 are 6 and 2 under every scheduler.  A Gaggle
 * does this once on the Manager and hands out slots; a Worker, which
 * continues the allocation when users are added, builds the same one from
 * the Manager's scheduler and seed.  Iterations of the open model
 * (--arrival-rate) take scenarios the same way: arrival k runs the scenario
 * that user k would, and the j-th arrival of a scenario goes to its users
 * in turn. */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#include "util/rng.h"

static const char *const SCHEDULER_NAMES[GOOSE_SCHEDULERS] = {"serial", "round-robin",
                                                               "random"};

const char *goose__scheduler_name(int scheduler)
{
    return scheduler >= 0 && scheduler < GOOSE_SCHEDULERS ? SCHEDULER_NAMES[scheduler] : "?";
}

int goose__scheduler_parse(const char *name)
{
    for (int i = 0; name && i < GOOSE_SCHEDULERS; i++)
        if (strcmp(name, SCHEDULER_NAMES[i]) == 0)
            return i;
    return -1;
}

static unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The greatest common divisor of the weights, 0 when one is 0. */
static unsigned common_divisor(const unsigned *weights, size_t nweights)
{
    unsigned g = 0;
    for (size_t i = 0; i < nweights; i++) {
        if (weights[i] == 0)
            return 0;
        g = gcd(g, weights[i]);
    }
    return g;
}

/* ---- serial: blocks of consecutive slots ---- */

static unsigned serial_at(const goose_alloc *al, uint64_t slot)
{
    size_t s = 0;
    while (slot >= al->w[s])
        slot -= al->w[s++];
    return (unsigned)s;
}

/* ---- round-robin: in round j, every scenario whose weight is above j
 * takes one slot, in registration order ---- */

/* The slots of a turn before round j. */
static uint64_t before_round(const goose_alloc *al, uint64_t j)
{
    uint64_t n = 0;
    for (size_t s = 0; s < al->n; s++)
        n += al->w[s] < j ? al->w[s] : j;
    return n;
}

/* Scenarios before s that have a slot in round j. */
static uint64_t rank_in_round(const goose_alloc *al, unsigned s, uint64_t j)
{
    uint64_t n = 0;
    for (unsigned t = 0; t < s; t++)
        n += al->w[t] > j;
    return n;
}

/* The round of slot p (< cycle): the last round that starts at or before it. */
static uint64_t round_of(const goose_alloc *al, uint64_t p)
{
    uint64_t lo = 0, hi = al->top - 1; /* before_round(0) = 0 <= p */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        if (before_round(al, mid) <= p)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Slot p's scenario, and which of that scenario's slots of the turn it is. */
static unsigned robin_at(const goose_alloc *al, uint64_t p, uint64_t *ordinal)
{
    uint64_t j = round_of(al, p), k = p - before_round(al, j);
    unsigned s = 0;
    for (;; s++)
        if (al->w[s] > j && k-- == 0)
            break;
    *ordinal = j;
    return s;
}

/* ---- random: a table of one shuffled turn ---- */

/* Fisher-Yates over the serial turn, from the seed's own stream. */
static int random_tables(goose_alloc *al, uint64_t seed)
{
    size_t c = (size_t)al->cycle;
    al->order = malloc(c * sizeof *al->order);
    al->rank = malloc(c * sizeof *al->rank);
    al->pos = malloc(c * sizeof *al->pos);
    uint32_t *seen = calloc(al->n, sizeof *seen);
    if (!al->order || !al->rank || !al->pos || !seen) {
        free(seen);
        return -1;
    }
    for (size_t p = 0; p < c; p++)
        al->order[p] = serial_at(al, p);
    goose_xoshiro x;
    goose__xoshiro_seed(&x, seed, GOOSE_STREAM_SCHEDULER, 0);
    for (size_t i = c - 1; i > 0; i--) {
        size_t j = (size_t)(goose__xoshiro_next(&x) % (i + 1));
        unsigned t = al->order[i];
        al->order[i] = al->order[j];
        al->order[j] = t;
    }
    for (size_t p = 0; p < c; p++) {
        unsigned s = al->order[p];
        al->rank[p] = seen[s];
        al->pos[al->first[s] + seen[s]++] = (uint32_t)p;
    }
    free(seen);
    return 0;
}

int goose__alloc_init(goose_alloc *al, const unsigned *weights, size_t nweights,
                      int scheduler, uint64_t seed)
{
    memset(al, 0, sizeof *al);
    unsigned g = common_divisor(weights, nweights);
    if (g == 0 || scheduler < 0 || scheduler >= GOOSE_SCHEDULERS)
        return GOOSE_EINVAL;
    al->w = malloc(nweights * sizeof *al->w);
    al->first = malloc(nweights * sizeof *al->first);
    if (!al->w || !al->first)
        goto nomem;
    al->n = nweights;
    al->scheduler = scheduler;
    for (size_t s = 0; s < nweights; s++) {
        al->w[s] = weights[s] / g;
        al->first[s] = al->cycle;
        al->cycle += al->w[s];
        if (al->w[s] > al->top)
            al->top = al->w[s];
    }
    if (scheduler != GOOSE_SCHEDULER_RANDOM)
        return GOOSE_OK;
    if (al->cycle > GOOSE_RANDOM_CYCLE_MAX) {
        goose__alloc_free(al);
        return GOOSE_ECONFIG;
    }
    if (random_tables(al, seed) == 0)
        return GOOSE_OK;
nomem:
    goose__alloc_free(al);
    return GOOSE_ENOMEM;
}

void goose__alloc_free(goose_alloc *al)
{
    free(al->w);
    free(al->first);
    free(al->order);
    free(al->rank);
    free(al->pos);
    memset(al, 0, sizeof *al);
}

int goose__allocate_users(const goose_alloc *al, size_t users, unsigned *out)
{
    if (!al->cycle)
        return -1;
    for (size_t u = 0; u < users; u++)
        out[u] = goose__scenario_at(al, u);
    return 0;
}

unsigned goose__scenario_at(const goose_alloc *al, uint64_t index)
{
    unsigned s;
    goose__scenario_ordinal(al, index, &s);
    return s;
}

uint64_t goose__scenario_ordinal(const goose_alloc *al, uint64_t index, unsigned *scenario)
{
    *scenario = 0;
    if (!al->cycle)
        return 0;
    uint64_t turn = index / al->cycle, p = index % al->cycle, k = 0;
    switch (al->scheduler) {
    case GOOSE_SCHEDULER_ROUND_ROBIN:
        *scenario = robin_at(al, p, &k);
        break;
    case GOOSE_SCHEDULER_RANDOM:
        *scenario = al->order[p];
        k = al->rank[p];
        break;
    default:
        *scenario = serial_at(al, p);
        k = p - al->first[*scenario];
    }
    return turn * al->w[*scenario] + k;
}

uint64_t goose__scenario_user(const goose_alloc *al, unsigned s, uint64_t m)
{
    if (s >= al->n)
        return 0;
    uint64_t turn = m / al->w[s], k = m % al->w[s], p;
    switch (al->scheduler) {
    case GOOSE_SCHEDULER_ROUND_ROBIN:
        p = before_round(al, k) + rank_in_round(al, s, k);
        break;
    case GOOSE_SCHEDULER_RANDOM:
        p = al->pos[al->first[s] + k];
        break;
    default:
        p = al->first[s] + k;
    }
    return turn * al->cycle + p;
}

/* Of scenario s's slots of a turn, those before slot p. */
static uint64_t slots_before(const goose_alloc *al, unsigned s, uint64_t p)
{
    if (p == 0)
        return 0;
    switch (al->scheduler) {
    case GOOSE_SCHEDULER_ROUND_ROBIN: {
        uint64_t j = round_of(al, p), k = p - before_round(al, j);
        uint64_t n = al->w[s] < j ? al->w[s] : j;
        return n + (al->w[s] > j && rank_in_round(al, s, j) < k);
    }
    case GOOSE_SCHEDULER_RANDOM: {
        const uint32_t *v = al->pos + al->first[s];
        uint64_t lo = 0, hi = al->w[s]; /* the first of them at or after p */
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (v[mid] < p)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }
    default:
        return p <= al->first[s] ? 0 : p - al->first[s] < al->w[s] ? p - al->first[s] : al->w[s];
    }
}

uint64_t goose__scenario_users(const goose_alloc *al, unsigned s, uint64_t users)
{
    if (s >= al->n || !al->cycle)
        return 0;
    return users / al->cycle * al->w[s] + slots_before(al, s, users % al->cycle);
}
