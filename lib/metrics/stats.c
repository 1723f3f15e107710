#include "metrics/stats.h"

#include "metrics/co.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const goose__protocol_names[GOOSE_PROTOCOLS] = {"HTTP/1.0", "HTTP/1.1", "HTTP/2",
                                                             "not HTTP"};

int goose__protocol_slot(const char *name)
{
    for (int i = 0; i < GOOSE_PROTOCOLS; i++)
        if (strcmp(name, goose__protocol_names[i]) == 0)
            return i;
    return -1;
}

int goose__stats_init(goose_stats *s, size_t ntransactions, size_t nscenarios)
{
    memset(s, 0, sizeof *s);
    goose__hist_init(&s->all);
    s->txs = calloc(ntransactions ? ntransactions : 1, sizeof *s->txs);
    size_t n = nscenarios ? nscenarios : 1;
    s->iterations = calloc(3 * n, sizeof *s->iterations); /* one block */
    s->arrivals = s->iterations ? s->iterations + n : NULL;
    s->dropped = s->iterations ? s->iterations + 2 * n : NULL;
    if (!s->txs || !s->iterations) {
        goose__stats_free(s);
        return -1;
    }
    s->ntxs = ntransactions;
    s->nscenarios = nscenarios;
    for (size_t i = 0; i < ntransactions; i++)
        goose__hist_init(&s->txs[i].hist);
    return 0;
}

static void free_request(goose_req_stat *r)
{
    free(r->method);
    free(r->name);
    free(r->statuses);
    goose__hist_free(&r->hist);
    if (r->co)
        goose__hist_free(r->co);
    free(r->co);
    free(r);
}

static void free_requests(goose_stats *s)
{
    for (size_t i = 0; i < s->nreqs; i++)
        free_request(s->reqs[i]);
    free(s->reqs);
    free(s->req_slots);
    s->reqs = NULL;
    s->req_slots = NULL;
    s->nreqs = 0;
    s->req_slot_cap = 0;
}

static void free_errors(goose_stats *s)
{
    for (size_t i = 0; i < s->nerrs; i++) {
        free(s->errs[i].method);
        free(s->errs[i].name);
        free(s->errs[i].error);
    }
    free(s->errs);
    free(s->err_slots);
    s->errs = NULL;
    s->nerrs = 0;
    s->err_slots = NULL;
    s->err_slot_cap = 0;
}

static void free_tx_errors(goose_stats *s)
{
    for (size_t i = 0; i < s->ntxerrs; i++)
        free(s->txerrs[i].error);
    free(s->txerrs);
    free(s->txerr_slots);
    s->txerrs = NULL;
    s->ntxerrs = 0;
    s->txerr_slots = NULL;
    s->txerr_slot_cap = 0;
}

static void free_hists(goose_stats *s)
{
    for (size_t i = 0; s->txs && i < s->ntxs; i++)
        goose__hist_free(&s->txs[i].hist);
    goose__hist_free(&s->all);
}

void goose__stats_free(goose_stats *s)
{
    free_requests(s);
    free_errors(s);
    free_tx_errors(s);
    free_hists(s);
    free(s->txs);
    free(s->iterations);
    memset(s, 0, sizeof *s);
}

void goose__stats_reset(goose_stats *s)
{
    free_requests(s);
    free_errors(s);
    free_tx_errors(s);
    free_hists(s);
    for (size_t i = 0; i < s->ntxs; i++)
        s->txs[i].success = s->txs[i].fail = 0;
    memset(s->iterations, 0, s->nscenarios * sizeof *s->iterations);
    memset(s->arrivals, 0, s->nscenarios * sizeof *s->arrivals);
    memset(s->dropped, 0, s->nscenarios * sizeof *s->dropped);
    s->requests = s->failures = 0;
    s->lost = s->lost_details = 0;
}

int goose__stats_empty(const goose_stats *s)
{
    if (s->nreqs || s->nerrs || s->ntxerrs || s->requests || s->lost || s->lost_details)
        return 0;
    for (size_t i = 0; i < s->ntxs; i++)
        if (s->txs[i].success || s->txs[i].fail)
            return 0;
    for (size_t i = 0; i < s->nscenarios; i++)
        if (s->iterations[i] || s->arrivals[i])
            return 0;
    return 1;
}

static size_t key_hash(const char *method, const char *name)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *p = method; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ ' ') * 1099511628211ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static size_t *find_slot(const goose_stats *s, const char *method,
                         const char *name)
{
    size_t mask = s->req_slot_cap - 1;
    for (size_t i = key_hash(method, name) & mask;; i = (i + 1) & mask) {
        size_t *slot = &s->req_slots[i];
        if (*slot == 0)
            return slot;
        const goose_req_stat *r = s->reqs[*slot - 1];
        if (strcmp(r->name, name) == 0 && strcmp(r->method, method) == 0)
            return slot;
    }
}

static int grow_slots(goose_stats *s)
{
    size_t cap = s->req_slot_cap ? s->req_slot_cap * 2 : 16;
    size_t *slots = calloc(cap, sizeof *slots);
    goose_req_stat **reqs = realloc(s->reqs, cap / 2 * sizeof *reqs);
    if (!slots || !reqs) {
        free(slots);
        if (reqs)
            s->reqs = reqs;
        return -1;
    }
    free(s->req_slots);
    s->reqs = reqs;
    s->req_slots = slots;
    s->req_slot_cap = cap;
    for (size_t i = 0; i < s->nreqs; i++)
        *find_slot(s, s->reqs[i]->method, s->reqs[i]->name) = i + 1;
    return 0;
}

static goose_req_stat *new_request(const char *method, const char *name)
{
    goose_req_stat *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->method = strdup(method);
    r->name = strdup(name);
    if (!r->method || !r->name) {
        free(r->method);
        free(r->name);
        free(r);
        return NULL;
    }
    goose__hist_init(&r->hist);
    return r;
}

const goose_req_stat *goose__stats_find(const goose_stats *s, const char *method,
                                        const char *name)
{
    if (!s->req_slot_cap)
        return NULL;
    size_t *slot = find_slot(s, method, name);
    return *slot ? s->reqs[*slot - 1] : NULL;
}

goose_req_stat *goose__stats_request(goose_stats *s, const char *method,
                                     const char *name)
{
    if (s->req_slot_cap) {
        size_t *slot = find_slot(s, method, name);
        if (*slot)
            return s->reqs[*slot - 1];
    }
    if (s->names && strcmp(name, GOOSE_OTHER_NAME) != 0) {
        int admitted = goose__names_admit(s->names, GOOSE_NAMES_REQUESTS, method, name, NULL);
        if (admitted < 0)
            return NULL;
        if (!admitted)
            return goose__stats_request(s, method, GOOSE_OTHER_NAME);
    }
    /* keep the table at most half full */
    if ((s->nreqs + 1) * 2 > s->req_slot_cap && grow_slots(s) < 0)
        return NULL;
    goose_req_stat *r = new_request(method, name);
    if (!r)
        return NULL;
    s->reqs[s->nreqs++] = r;
    *find_slot(s, method, name) = s->nreqs;
    return r;
}

int goose__status_add(goose_status_count **v, size_t *n, int status, uint64_t count)
{
    size_t i = 0;
    while (i < *n && (*v)[i].status < status)
        i++;
    if (i < *n && (*v)[i].status == status) {
        (*v)[i].count += count;
        return 0;
    }
    goose_status_count *p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    memmove(p + i + 1, p + i, (*n - i) * sizeof *p);
    p[i].status = status;
    p[i].count = count;
    *v = p;
    (*n)++;
    return 0;
}

int goose__stats_add_status(goose_req_stat *r, int status, uint64_t n)
{
    return goose__status_add(&r->statuses, &r->nstatuses, status, n);
}

static size_t error_hash(const char *method, const char *name, const char *error)
{
    size_t h = key_hash(method, name);
    h = (h ^ ' ') * 1099511628211ULL;
    for (const char *p = error; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static size_t *find_error(const goose_stats *s, const char *method, const char *name,
                          const char *error)
{
    size_t mask = s->err_slot_cap - 1;
    for (size_t i = error_hash(method, name, error) & mask;; i = (i + 1) & mask) {
        size_t *slot = &s->err_slots[i];
        if (*slot == 0)
            return slot;
        const goose_err_stat *e = &s->errs[*slot - 1];
        if (strcmp(e->error, error) == 0 && strcmp(e->name, name) == 0 &&
            strcmp(e->method, method) == 0)
            return slot;
    }
}

/* The slots and the rows grow together, the slots kept at most half full. */
static int grow_errors(goose_stats *s)
{
    size_t cap = s->err_slot_cap ? s->err_slot_cap * 2 : 16;
    size_t *slots = calloc(cap, sizeof *slots);
    goose_err_stat *errs = realloc(s->errs, cap / 2 * sizeof *errs);
    if (!slots || !errs) {
        free(slots);
        if (errs)
            s->errs = errs;
        return -1;
    }
    free(s->err_slots);
    s->errs = errs;
    s->err_slots = slots;
    s->err_slot_cap = cap;
    for (size_t i = 0; i < s->nerrs; i++)
        *find_error(s, errs[i].method, errs[i].name, errs[i].error) = i + 1;
    return 0;
}

int goose__stats_add_error(goose_stats *s, const char *method, const char *name,
                     const char *error, uint64_t n)
{
    if (s->err_slot_cap) {
        size_t *slot = find_error(s, method, name, error);
        if (*slot) {
            s->errs[*slot - 1].count += n;
            return 0;
        }
    }
    if (s->names && strcmp(name, GOOSE_OTHER_NAME) != 0 && !goose__stats_find(s, method, name)) {
        /* an error merged in (a Worker's) goes where its request went */
        int admitted = goose__names_admit(s->names, GOOSE_NAMES_REQUESTS, method, name, NULL);
        if (admitted < 0)
            return -1;
        if (!admitted)
            return goose__stats_add_error(s, method, GOOSE_OTHER_NAME, error, n);
    }
    if (s->names && strcmp(error, GOOSE_OTHER_ERRORS) != 0) {
        int admitted = goose__names_admit(s->names, GOOSE_NAMES_ERRORS, method, name, error);
        if (admitted < 0)
            return -1;
        if (!admitted)
            return goose__stats_add_error(s, method, name, GOOSE_OTHER_ERRORS, n);
    }
    if ((s->nerrs + 1) * 2 > s->err_slot_cap && grow_errors(s) < 0)
        return -1;
    goose_err_stat *e = &s->errs[s->nerrs];
    e->method = strdup(method);
    e->name = strdup(name);
    e->error = strdup(error);
    e->count = n;
    if (!e->method || !e->name || !e->error) {
        free(e->method);
        free(e->name);
        free(e->error);
        return -1;
    }
    s->nerrs++;
    *find_error(s, method, name, error) = s->nerrs;
    return 0;
}

/* ---- transaction errors: one row per (transaction, reason) ---- */

static size_t tx_error_hash(size_t tx, const char *error)
{
    size_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < sizeof tx; i++, tx >>= 8)
        h = (h ^ (tx & 0xff)) * 1099511628211ULL;
    for (const char *p = error; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

static size_t *find_tx_error(const goose_stats *s, size_t tx, const char *error)
{
    size_t mask = s->txerr_slot_cap - 1;
    for (size_t i = tx_error_hash(tx, error) & mask;; i = (i + 1) & mask) {
        size_t *slot = &s->txerr_slots[i];
        if (*slot == 0)
            return slot;
        const goose_txerr_stat *e = &s->txerrs[*slot - 1];
        if (e->tx == tx && strcmp(e->error, error) == 0)
            return slot;
    }
}

/* As grow_errors: the slots kept at most half full. */
static int grow_tx_errors(goose_stats *s)
{
    size_t cap = s->txerr_slot_cap ? s->txerr_slot_cap * 2 : 16;
    size_t *slots = calloc(cap, sizeof *slots);
    goose_txerr_stat *errs = realloc(s->txerrs, cap / 2 * sizeof *errs);
    if (!slots || !errs) {
        free(slots);
        if (errs)
            s->txerrs = errs;
        return -1;
    }
    free(s->txerr_slots);
    s->txerrs = errs;
    s->txerr_slots = slots;
    s->txerr_slot_cap = cap;
    for (size_t i = 0; i < s->ntxerrs; i++)
        *find_tx_error(s, errs[i].tx, errs[i].error) = i + 1;
    return 0;
}

int goose__stats_add_tx_error(goose_stats *s, size_t tx, const char *error, uint64_t n)
{
    if (tx >= s->ntxs)
        return 0; /* as goose__stats_record_tx: no such transaction here */
    if (s->txerr_slot_cap) {
        size_t *slot = find_tx_error(s, tx, error);
        if (*slot) {
            s->txerrs[*slot - 1].count += n;
            return 0;
        }
    }
    if (s->names && strcmp(error, GOOSE_OTHER_ERRORS) != 0) {
        char id[24];
        snprintf(id, sizeof id, "%zu", tx);
        int admitted = goose__names_admit(s->names, GOOSE_NAMES_TX_ERRORS, "", id, error);
        if (admitted < 0)
            return -1;
        if (!admitted)
            return goose__stats_add_tx_error(s, tx, GOOSE_OTHER_ERRORS, n);
    }
    if ((s->ntxerrs + 1) * 2 > s->txerr_slot_cap && grow_tx_errors(s) < 0)
        return -1;
    goose_txerr_stat *e = &s->txerrs[s->ntxerrs];
    if (!(e->error = strdup(error)))
        return -1;
    e->tx = tx;
    e->count = n;
    s->ntxerrs++;
    *find_tx_error(s, tx, error) = s->ntxerrs;
    return 0;
}

static void drop_last_tx_error(goose_stats *s)
{
    goose_txerr_stat *e = &s->txerrs[--s->ntxerrs];
    *find_tx_error(s, e->tx, e->error) = 0;
    free(e->error);
}

int goose__stats_record(goose_stats *s, const char *method, const char *name,
                        int status, uint64_t elapsed_us, const char *error)
{
    return goose__stats_record_bytes(s, method, name, status, elapsed_us, error, 0, 0);
}

int goose__stats_record_bytes(goose_stats *s, const char *method, const char *name,
                              int status, uint64_t elapsed_us, const char *error,
                              uint64_t bytes, unsigned protocol)
{
    goose_req_stat *r = goose__stats_request(s, method, name);
    if (!r || goose__hist_ready(&r->hist, elapsed_us) < 0 ||
        goose__hist_ready(&s->all, elapsed_us) < 0) {
        s->lost++; /* out of memory: counted as lost, never dropped quietly */
        return -1;
    }
    goose__hist_add(&r->hist, elapsed_us); /* both ready: neither fails */
    goose__hist_add(&s->all, elapsed_us);
    r->bytes += bytes;
    if (protocol - 1 < GOOSE_PROTOCOLS) /* 0, no answer, wraps past it */
        r->protocols[protocol - 1]++;
    if (error)
        r->fail++;
    else
        r->success++;
    s->requests++;
    if (error)
        s->failures++;
    int rc = 0;
    if (status > 0)
        rc |= goose__stats_add_status(r, status, 1);
    if (error) /* under the request's row: (other) when its name folded */
        rc |= goose__stats_add_error(s, r->method, r->name, error, 1);
    if (rc)
        s->lost_details++;
    return rc;
}

int goose__stats_record_tx(goose_stats *s, size_t tx, int success,
                           uint64_t elapsed_us)
{
    if (tx >= s->ntxs)
        return 0;
    if (goose__hist_add(&s->txs[tx].hist, elapsed_us) < 0) {
        s->lost_details++; /* a transaction missing: counted, never quietly */
        return -1;
    }
    if (success)
        s->txs[tx].success++;
    else
        s->txs[tx].fail++;
    return 0;
}

/* Allocated on first use: a key never back-filled costs nothing. */
static goose_hist *co_hist(goose_req_stat *r)
{
    if (!r->co && (r->co = malloc(sizeof *r->co)))
        goose__hist_init(r->co);
    return r->co;
}

int goose__stats_backfill(goose_req_stat *r, uint64_t stall_us, uint64_t cadence_us,
                          uint64_t response_us)
{
    if (!goose__co_backfill_count(stall_us, cadence_us, response_us))
        return 0;
    goose_hist *h = co_hist(r);
    if (!h)
        return -1;
    uint64_t before = h->count;
    goose__co_backfill(h, stall_us, cadence_us, response_us);
    return h->count == before ? -1 : 0; /* out of memory: nothing added */
}

int goose__req_adjusted(const goose_req_stat *r, goose_hist *out)
{
    if (goose__hist_copy(out, &r->hist) < 0 || (r->co && goose__hist_merge(out, r->co) < 0))
        return -1;
    return 0;
}

static int merge_request(goose_stats *dst, const goose_req_stat *src)
{
    goose_req_stat *r = goose__stats_request(dst, src->method, src->name);
    if (!r)
        return -1;
    /* after a prepare, the chunks are there: neither merge allocates */
    if (goose__hist_merge(&r->hist, &src->hist) < 0)
        return -1;
    r->success += src->success;
    r->fail += src->fail;
    r->bytes += src->bytes;
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++)
        r->protocols[i] += src->protocols[i];
    if (src->co && src->co->count && (!co_hist(r) || goose__hist_merge(r->co, src->co) < 0))
        return -1;
    for (size_t i = 0; i < src->nstatuses; i++)
        if (goose__stats_add_status(r, src->statuses[i].status, src->statuses[i].count) < 0)
            return -1;
    return 0;
}

/* Made before a merge: the key, histogram chunks, synthetic histogram and
 * status rows that merging q needs, zero so far, so that merge_request
 * allocates nothing and cannot fail half-way. */
static int prepare_request(goose_stats *dst, const goose_req_stat *q)
{
    goose_req_stat *r = goose__stats_request(dst, q->method, q->name);
    if (!r || goose__hist_reserve(&r->hist, &q->hist) < 0)
        return -1;
    if (q->co && q->co->count && (!co_hist(r) || goose__hist_reserve(r->co, q->co) < 0))
        return -1;
    for (size_t k = 0; k < q->nstatuses; k++)
        if (goose__stats_add_status(r, q->statuses[k].status, 0) < 0)
            return -1;
    return 0;
}

static int prepare(goose_stats *dst, const goose_stats *src)
{
    if (goose__hist_reserve(&dst->all, &src->all) < 0)
        return -1;
    for (size_t i = 0; i < src->ntxs && i < dst->ntxs; i++)
        if (goose__hist_reserve(&dst->txs[i].hist, &src->txs[i].hist) < 0)
            return -1;
    for (size_t i = 0; i < src->nreqs; i++)
        if (prepare_request(dst, src->reqs[i]) < 0)
            return -1;
    for (size_t i = 0; i < src->nerrs; i++) {
        const goose_err_stat *e = &src->errs[i];
        if (goose__stats_add_error(dst, e->method, e->name, e->error, 0) < 0)
            return -1;
    }
    for (size_t i = 0; i < src->ntxerrs; i++)
        if (goose__stats_add_tx_error(dst, src->txerrs[i].tx, src->txerrs[i].error, 0) < 0)
            return -1;
    return 0;
}

/* Takes the last key out of the table.  Its slot just empties: no key
 * made before it probed past that slot (it was free then, and a grown
 * table is refilled in the same order). */
static void drop_last_request(goose_stats *s)
{
    goose_req_stat *r = s->reqs[--s->nreqs];
    *find_slot(s, r->method, r->name) = 0;
    free_request(r);
}

static void drop_last_error(goose_stats *s)
{
    goose_err_stat *e = &s->errs[--s->nerrs];
    *find_error(s, e->method, e->name, e->error) = 0;
    free(e->method);
    free(e->name);
    free(e->error);
}

/* The status rows a prepare added to r and a merge did not fill. */
static void drop_zero_statuses(goose_req_stat *r)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nstatuses; k++)
        if (r->statuses[k].count)
            r->statuses[n++] = r->statuses[k];
    r->nstatuses = n;
}

/* Undoes a prepare of src's keys (or of only its key q) that failed: the
 * keys and error rows it added (the last ones) and the statuses still at
 * zero; the cost is src's, not dst's. */
static void unprepare(goose_stats *dst, const goose_stats *src, const goose_req_stat *q,
                      size_t nreqs, size_t nerrs, size_t ntxerrs)
{
    while (dst->nreqs > nreqs)
        drop_last_request(dst);
    for (size_t i = 0; q ? i < 1 : i < src->nreqs; i++) {
        const goose_req_stat *k = q ? q : src->reqs[i];
        size_t *slot = dst->req_slot_cap ? find_slot(dst, k->method, k->name) : NULL;
        if (slot && *slot)
            drop_zero_statuses(dst->reqs[*slot - 1]);
    }
    while (dst->nerrs > nerrs) /* last first, as the keys */
        drop_last_error(dst);
    while (dst->ntxerrs > ntxerrs)
        drop_last_tx_error(dst);
}

/* What a merge adds without allocating (after a prepare): transactions,
 * scenarios, the counts of what was lost, every response time. */
static void merge_counts(goose_stats *dst, const goose_stats *src)
{
    for (size_t i = 0; i < src->ntxs && i < dst->ntxs; i++) {
        dst->txs[i].success += src->txs[i].success;
        dst->txs[i].fail += src->txs[i].fail;
        if (goose__hist_merge(&dst->txs[i].hist, &src->txs[i].hist) < 0)
            dst->lost_details += src->txs[i].hist.count; /* only when lossy */
    }
    for (size_t i = 0; i < src->nscenarios && i < dst->nscenarios; i++) {
        dst->iterations[i] += src->iterations[i];
        dst->arrivals[i] += src->arrivals[i];
        dst->dropped[i] += src->dropped[i];
    }
    dst->lost += src->lost;
    dst->lost_details += src->lost_details;
    if (goose__hist_merge(&dst->all, &src->all) < 0)
        dst->lost_details += src->all.count;
}

int goose__stats_merge(goose_stats *dst, const goose_stats *src)
{
    size_t nreqs = dst->nreqs, nerrs = dst->nerrs, ntxerrs = dst->ntxerrs;
    if (prepare(dst, src) < 0) {
        unprepare(dst, src, NULL, nreqs, nerrs, ntxerrs);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < src->nreqs; i++)
        rc |= merge_request(dst, src->reqs[i]);
    for (size_t i = 0; i < src->nerrs; i++) {
        const goose_err_stat *e = &src->errs[i];
        rc |= goose__stats_add_error(dst, e->method, e->name, e->error, e->count);
    }
    for (size_t i = 0; i < src->ntxerrs; i++) {
        const goose_txerr_stat *e = &src->txerrs[i];
        rc |= goose__stats_add_tx_error(dst, e->tx, e->error, e->count);
    }
    merge_counts(dst, src);
    dst->requests += src->requests;
    dst->failures += src->failures;
    return rc ? -1 : 0;
}

int goose__stats_merge_lossy(goose_stats *dst, const goose_stats *src)
{
    if (goose__stats_merge(dst, src) == 0)
        return 0;
    uint64_t lost = dst->lost + src->lost, lost_details = dst->lost_details + src->lost_details;
    for (size_t i = 0; i < src->nreqs; i++) {
        const goose_req_stat *q = src->reqs[i];
        size_t nreqs = dst->nreqs, nerrs = dst->nerrs;
        if (prepare_request(dst, q) < 0) {
            unprepare(dst, src, q, nreqs, nerrs, dst->ntxerrs);
            dst->lost += goose__req_count(q);
            continue;
        }
        merge_request(dst, q);
        dst->requests += goose__req_count(q);
        dst->failures += q->fail;
    }
    for (size_t i = 0; i < src->nerrs; i++) {
        const goose_err_stat *e = &src->errs[i];
        if (goose__stats_add_error(dst, e->method, e->name, e->error, e->count) < 0)
            dst->lost_details += e->count;
    }
    for (size_t i = 0; i < src->ntxerrs; i++) {
        const goose_txerr_stat *e = &src->txerrs[i];
        if (goose__stats_add_tx_error(dst, e->tx, e->error, e->count) < 0)
            dst->lost_details += e->count;
    }
    merge_counts(dst, src);
    return dst->lost == lost && dst->lost_details == lost_details ? 0 : -1;
}

int goose__stats_move(goose_stats *dst, goose_stats *src)
{
    if (goose__stats_empty(dst) && dst->ntxs == src->ntxs &&
        dst->nscenarios == src->nscenarios) {
        goose_names *dst_names = dst->names, *src_names = src->names;
        goose_stats t = *dst;
        *dst = *src;
        *src = t;
        dst->names = dst_names; /* each keeps the bound it shares */
        src->names = src_names;
        goose__stats_reset(src);
        return 0;
    }
    if (goose__stats_merge(dst, src) < 0)
        return -1;
    goose__stats_reset(src);
    return 0;
}

void goose__stats_protocols(const goose_stats *s, uint64_t *out)
{
    memset(out, 0, GOOSE_PROTOCOLS * sizeof *out);
    for (size_t i = 0; i < s->nreqs; i++)
        for (size_t p = 0; p < GOOSE_PROTOCOLS; p++)
            out[p] += s->reqs[i]->protocols[p];
}

void goose__stats_arrivals(const goose_stats *s, uint64_t *due, uint64_t *dropped)
{
    *due = *dropped = 0;
    for (size_t i = 0; i < s->nscenarios; i++) {
        *due += s->arrivals[i];
        *dropped += s->dropped[i];
    }
}

static int by_count(const void *x, const void *y)
{
    const goose_err_stat *a = *(const goose_err_stat *const *)x;
    const goose_err_stat *b = *(const goose_err_stat *const *)y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return a < b ? -1 : a > b;
}

const goose_err_stat **goose__stats_errors_by_count(const goose_stats *s)
{
    const goose_err_stat **v = s->nerrs ? malloc(s->nerrs * sizeof *v) : NULL;
    if (!v)
        return NULL;
    for (size_t i = 0; i < s->nerrs; i++)
        v[i] = &s->errs[i];
    qsort(v, s->nerrs, sizeof *v, by_count);
    return v;
}

static int tx_by_count(const void *x, const void *y)
{
    const goose_txerr_stat *a = *(const goose_txerr_stat *const *)x;
    const goose_txerr_stat *b = *(const goose_txerr_stat *const *)y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return a < b ? -1 : a > b;
}

const goose_txerr_stat **goose__stats_tx_errors_by_count(const goose_stats *s)
{
    const goose_txerr_stat **v = s->ntxerrs ? malloc(s->ntxerrs * sizeof *v) : NULL;
    if (!v)
        return NULL;
    for (size_t i = 0; i < s->ntxerrs; i++)
        v[i] = &s->txerrs[i];
    qsort(v, s->ntxerrs, sizeof *v, tx_by_count);
    return v;
}
