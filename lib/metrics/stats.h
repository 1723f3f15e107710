/* Aggregated metrics of a run, or of one thread's share of it (a shard).
 * Pure data: shards merge by addition, so a total is the sum of its parts. */
#ifndef GOOSE_METRICS_STATS_H
#define GOOSE_METRICS_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/histogram.h"
#include "metrics/names.h"

typedef struct goose_status_count {
    int status;
    uint64_t count;
} goose_status_count;

/* The protocols a request is counted under: slot p - 1 of a
 * goose_req_stat's protocols for goose_http_protocol p (http/http.h, whose
 * GOOSE_PROTO_NONE, no answer, has no slot), then the slot of the requests
 * goose_record counted, which have no HTTP status: "not HTTP". */
#define GOOSE_HTTP_PROTOCOLS 3
#define GOOSE_PROTOCOL_OTHER GOOSE_HTTP_PROTOCOLS
#define GOOSE_PROTOCOLS (GOOSE_HTTP_PROTOCOLS + 1)
extern const char *const goose__protocol_names[GOOSE_PROTOCOLS]; /* "HTTP/1.0", ... */
/* The slot of a protocol's name, or -1 when it names none. */
int goose__protocol_slot(const char *name);

/* One (method, name) request key. */
typedef struct goose_req_stat {
    char *method;
    char *name;
    uint64_t success;
    uint64_t fail;
    uint64_t bytes;               /* of response bodies */
    goose_status_count *statuses; /* sorted by status */
    size_t nstatuses;
    goose_hist hist;
    goose_hist *co;               /* synthetic samples of coordinated omission
                                     mitigation; NULL until the first */
    uint64_t protocols[GOOSE_PROTOCOLS]; /* requests answered over each; a
                                     request no answer came to is in none */
} goose_req_stat;

typedef struct goose_err_stat {
    char *method;
    char *name;
    char *error;
    uint64_t count;
} goose_err_stat;

/* A transaction's failures for one reason: goose_transaction_fail's text,
 * or "returned N" for a non-zero return without one. */
typedef struct goose_txerr_stat {
    size_t tx;      /* the transaction's id (its row in txs) */
    char *error;
    uint64_t count;
} goose_txerr_stat;

typedef struct goose_tx_stat {
    uint64_t success;
    uint64_t fail;
    goose_hist hist;
} goose_tx_stat;

typedef struct goose_stats {
    goose_req_stat **reqs; /* in order of first appearance */
    size_t nreqs;
    size_t *req_slots;      /* open addressing: index+1 into reqs, 0 free */
    size_t req_slot_cap;
    goose_err_stat *errs;
    size_t nerrs;
    size_t *err_slots;      /* open addressing: index+1 into errs, 0 free */
    size_t err_slot_cap;
    goose_txerr_stat *txerrs; /* transaction errors, in order of first appearance */
    size_t ntxerrs;
    size_t *txerr_slots;    /* open addressing: index+1 into txerrs, 0 free */
    size_t txerr_slot_cap;
    goose_tx_stat *txs;     /* indexed by transaction id */
    size_t ntxs;
    uint64_t *iterations;   /* indexed by scenario: loop passes done */
    uint64_t *arrivals;     /* open model: iterations due to start ... */
    uint64_t *dropped;      /* ... of which no user was free to run */
    size_t nscenarios;
    uint64_t requests;      /* totals, for the time series */
    uint64_t failures;
    goose_hist all;         /* every request's response time */
    goose_names *names;     /* not owned: the bound on request keys and
                               error rows this shard shares; NULL: none */
    uint64_t lost;          /* requests missing from reqs (out of memory) */
    uint64_t lost_details;  /* status codes, errors, transactions and
                               synthetic samples missing */
} goose_stats;

/* Returns 0 or -1 when out of memory. */
int goose__stats_init(goose_stats *s, size_t ntransactions, size_t nscenarios);
void goose__stats_free(goose_stats *s);
void goose__stats_reset(goose_stats *s);
int goose__stats_empty(const goose_stats *s);

/* The entry for (method, name), or NULL when there is none. */
const goose_req_stat *goose__stats_find(const goose_stats *s, const char *method,
                                        const char *name);
/* The entry for (method, name), created on first use; NULL if out of memory.
 * Past the bound of s->names, a new key gets its method's (other) entry. */
goose_req_stat *goose__stats_request(goose_stats *s, const char *method,
                                     const char *name);
/* Records one request: status 0 means a transport error; error is the
 * failure's text (NULL on success). */
int goose__stats_record(goose_stats *s, const char *method, const char *name,
                        int status, uint64_t elapsed_us, const char *error);
/* The same, with the size of the response body and the protocol the
 * answer came in (a goose_http_protocol: 0 when none came). */
int goose__stats_record_bytes(goose_stats *s, const char *method, const char *name,
                              int status, uint64_t elapsed_us, const char *error,
                              uint64_t bytes, unsigned protocol);
int goose__stats_record_tx(goose_stats *s, size_t tx, int success,
                           uint64_t elapsed_us);

/* n failures of transaction tx for this reason.  Past the bound of
 * s->names, a new reason is counted under its transaction's (other errors)
 * row.  0, or -1 when out of memory. */
int goose__stats_add_tx_error(goose_stats *s, size_t tx, const char *error, uint64_t n);
/* The transaction errors, most frequent first (ties in the order first
 * seen): an array the caller frees, NULL when none or out of memory. */
const goose_txerr_stat **goose__stats_tx_errors_by_count(const goose_stats *s);

/* Adds count to status in v, kept sorted by status (n entries). */
int goose__status_add(goose_status_count **v, size_t *n, int status, uint64_t count);
int goose__stats_add_status(goose_req_stat *r, int status, uint64_t n);
int goose__stats_add_error(goose_stats *s, const char *method, const char *name,
                           const char *error, uint64_t n);

/* Coordinated omission mitigation: synthetic samples for the request of
 * r that took response_us, after a stall of stall_us where cadence_us was
 * expected (metrics/co.h).  Counts are untouched.  0, or -1 when out of
 * memory. */
int goose__stats_backfill(goose_req_stat *r, uint64_t stall_us, uint64_t cadence_us,
                          uint64_t response_us);
static inline uint64_t goose__req_synthetic(const goose_req_stat *r)
{
    return r->co ? r->co->count : 0;
}
/* The response times adjusted for coordinated omission: the measured ones
 * and the synthetic ones, into out (an initialized histogram, replaced);
 * -1 when out of memory. */
int goose__req_adjusted(const goose_req_stat *r, goose_hist *out);

/* The errors, most frequent first (ties in the order first seen): an
 * array the caller frees, NULL when there are none or out of memory. */
const goose_err_stat **goose__stats_errors_by_count(const goose_stats *s);

/* Arrivals due and dropped over every scenario (the open model). */
void goose__stats_arrivals(const goose_stats *s, uint64_t *due, uint64_t *dropped);

/* dst += src (dst must have at least src's transactions and scenarios).
 * All or nothing: -1 (out of memory) leaves dst's counts as they were, so
 * the merge can be tried again. */
int goose__stats_merge(goose_stats *dst, const goose_stats *src);
/* The same, key by key when dst cannot take src at once: what it cannot
 * merge is counted in dst->lost (requests) and dst->lost_details (error
 * rows); -1 when it lost any.  For a merge that cannot be tried again. */
int goose__stats_merge_lossy(goose_stats *dst, const goose_stats *src);
/* src into dst (then src is reset): a swap when dst is empty, else a
 * merge; -1 leaves both as they were. */
int goose__stats_move(goose_stats *dst, goose_stats *src);

static inline uint64_t goose__req_count(const goose_req_stat *r)
{
    return r->success + r->fail;
}

/* The requests of every key answered over each protocol (the aggregated
 * row), into out[GOOSE_PROTOCOLS]. */
void goose__stats_protocols(const goose_stats *s, uint64_t *out);

/* A transaction's names: the stats' transaction rows in this order. */
typedef struct goose_tx_info {
    const char *scenario;
    const char *name;
} goose_tx_info;

#endif
