/* Metrics deltas on the wire.  A delta is bounded by the number of request
 * keys, errors and transactions, never by the number of requests:
 * histograms travel in their sparse binary form. */
#include "gaggle/wire.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 4096

static void pack_hist(msgpack_packer *pk, const goose_hist *h)
{
    unsigned char *buf = malloc(goose__hist_encoded_max());
    size_t n = buf ? goose__hist_encode(h, buf) : 0;
    msgpack_pack_bin(pk, n);
    msgpack_pack_bin_body(pk, buf, n);
    free(buf);
}

/* The protocols a key's requests were answered over, as a map of the
 * protocols seen: {"HTTP/1.1": n, ...}. */
static void pack_protocols(msgpack_packer *pk, const goose_req_stat *r)
{
    size_t n = 0;
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++)
        n += r->protocols[i] > 0;
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++) {
        if (!r->protocols[i])
            continue;
        goose__pack_str(pk, goose__protocol_names[i]);
        msgpack_pack_uint64(pk, r->protocols[i]);
    }
}

static int has_protocols(const goose_req_stat *r)
{
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++)
        if (r->protocols[i])
            return 1;
    return 0;
}

/* A request key is [method, name, success, fail, bytes, statuses, hist],
 * then the histogram of its synthetic samples when coordinated omission
 * mitigation back-filled it (nil when not, before a 9th), then the
 * protocols its requests were answered over when any was. */
static void pack_requests(msgpack_packer *pk, const goose_stats *s)
{
    msgpack_pack_array(pk, s->nreqs);
    for (size_t i = 0; i < s->nreqs; i++) {
        const goose_req_stat *r = s->reqs[i];
        int co = goose__req_synthetic(r) > 0, protocols = has_protocols(r);
        msgpack_pack_array(pk, protocols ? 9 : co ? 8 : 7);
        goose__pack_str(pk, r->method);
        goose__pack_str(pk, r->name);
        msgpack_pack_uint64(pk, r->success);
        msgpack_pack_uint64(pk, r->fail);
        msgpack_pack_uint64(pk, r->bytes);
        msgpack_pack_array(pk, r->nstatuses * 2);
        for (size_t j = 0; j < r->nstatuses; j++) {
            msgpack_pack_uint64(pk, (uint64_t)r->statuses[j].status);
            msgpack_pack_uint64(pk, r->statuses[j].count);
        }
        pack_hist(pk, &r->hist);
        if (co)
            pack_hist(pk, r->co);
        else if (protocols)
            msgpack_pack_nil(pk);
        if (protocols)
            pack_protocols(pk, r);
    }
}

static void pack_errors(msgpack_packer *pk, const goose_stats *s)
{
    msgpack_pack_array(pk, s->nerrs);
    for (size_t i = 0; i < s->nerrs; i++) {
        msgpack_pack_array(pk, 4);
        goose__pack_str(pk, s->errs[i].method);
        goose__pack_str(pk, s->errs[i].name);
        goose__pack_str(pk, s->errs[i].error);
        msgpack_pack_uint64(pk, s->errs[i].count);
    }
}

/* A transaction error is [transaction id, reason, count]. */
static void pack_tx_errors(msgpack_packer *pk, const goose_stats *s)
{
    msgpack_pack_array(pk, s->ntxerrs);
    for (size_t i = 0; i < s->ntxerrs; i++) {
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint64(pk, s->txerrs[i].tx);
        goose__pack_str(pk, s->txerrs[i].error);
        msgpack_pack_uint64(pk, s->txerrs[i].count);
    }
}

static void pack_transactions(msgpack_packer *pk, const goose_stats *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->ntxs; i++)
        n += s->txs[i].success + s->txs[i].fail > 0;
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < s->ntxs; i++) {
        if (s->txs[i].success + s->txs[i].fail == 0)
            continue;
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint64(pk, i);
        msgpack_pack_uint64(pk, s->txs[i].success);
        msgpack_pack_uint64(pk, s->txs[i].fail);
        pack_hist(pk, &s->txs[i].hist);
    }
}

static void pack_counts(msgpack_packer *pk, const char *key, const uint64_t *v, size_t n)
{
    goose__pack_str(pk, key);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        msgpack_pack_uint64(pk, v[i]);
}

void goose__pack_stats(msgpack_packer *pk, const goose_stats *s)
{
    msgpack_pack_map(pk, 11 + (s->ntxerrs > 0));
    goose__pack_str(pk, "requests");
    pack_requests(pk, s);
    goose__pack_str(pk, "errors");
    pack_errors(pk, s);
    goose__pack_str(pk, "transactions");
    pack_transactions(pk, s);
    if (s->ntxerrs) { /* absent: none */
        goose__pack_str(pk, "transaction_errors");
        pack_tx_errors(pk, s);
    }
    pack_counts(pk, "iterations", s->iterations, s->nscenarios);
    pack_counts(pk, "arrivals", s->arrivals, s->nscenarios);
    pack_counts(pk, "dropped", s->dropped, s->nscenarios);
    goose__pack_str(pk, "count");
    msgpack_pack_uint64(pk, s->requests);
    goose__pack_str(pk, "fail");
    msgpack_pack_uint64(pk, s->failures);
    goose__pack_str(pk, "all");
    pack_hist(pk, &s->all);
    goose__pack_str(pk, "lost"); /* out of memory on the Worker */
    msgpack_pack_uint64(pk, s->lost);
    goose__pack_str(pk, "lost_details");
    msgpack_pack_uint64(pk, s->lost_details);
}

/* ---- decoding: everything checked, nothing trusted ---- */

static int get_uint(const msgpack_object *o, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *out = o->via.u64;
    return 0;
}

/* 0, -1 (malformed) or GOOSE_UNPACK_NOMEM. */
static int get_hist(const msgpack_object *o, goose_hist *h)
{
    if (!o || o->type != MSGPACK_OBJECT_BIN)
        return -1;
    int rc = goose__hist_decode(h, (const unsigned char *)o->via.bin.ptr, o->via.bin.size);
    return rc == GOOSE_HIST_NOMEM ? GOOSE_UNPACK_NOMEM : rc;
}

static const msgpack_object *array_of(const msgpack_object *o, uint32_t n)
{
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || (n && o->via.array.size != n))
        return NULL;
    return o->via.array.ptr;
}

/* The synthetic samples of a request key, when it has an 8th element
 * that is not nil. */
static int unpack_synthetic(const msgpack_object *o, goose_req_stat *r, goose_hist *h)
{
    if (o->via.array.size == 7 ||
        (o->via.array.size == 9 && o->via.array.ptr[7].type == MSGPACK_OBJECT_NIL))
        return 0;
    int rc = get_hist(&o->via.array.ptr[7], h);
    if (rc < 0 || h->count == 0)
        return rc < 0 ? rc : -1;
    goose_hist *dst = r->co ? r->co : goose__hists_new(1);
    if (!dst)
        return GOOSE_UNPACK_NOMEM;
    r->co = dst;
    return goose__hist_merge(dst, h) < 0 ? GOOSE_UNPACK_NOMEM : 0;
}

/* A 9th element: {"HTTP/1.1": n, ...}, each protocol known and once, and
 * no more requests answered than the key counts. */
static int get_protocols(const msgpack_object *o, uint64_t count, uint64_t *out)
{
    memset(out, 0, GOOSE_PROTOCOLS * sizeof *out);
    if (o->via.array.size < 9)
        return 0;
    const msgpack_object *m = &o->via.array.ptr[8];
    if (m->type != MSGPACK_OBJECT_MAP || m->via.map.size > GOOSE_PROTOCOLS)
        return -1;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        char name[16];
        uint64_t n;
        int slot = goose__obj_str(&m->via.map.ptr[i].key, name, sizeof name) < 0
                       ? -1 : goose__protocol_slot(name);
        if (slot < 0 || out[slot] || get_uint(&m->via.map.ptr[i].val, &n) < 0 || n == 0 ||
            n > count - sum)
            return -1;
        out[slot] = n;
        sum += n;
    }
    return 0;
}

static int unpack_request(const msgpack_object *o, goose_stats *s, goose_hist *h)
{
    const msgpack_object *f = o && o->type == MSGPACK_OBJECT_ARRAY &&
                                      o->via.array.size >= 7 && o->via.array.size <= 9
                                  ? o->via.array.ptr : NULL;
    char method[64], name[NAME_MAX_BYTES];
    uint64_t success, fail, bytes;
    if (!f || goose__obj_str(&f[0], method, sizeof method) < 0 ||
        goose__obj_str(&f[1], name, sizeof name) < 0 || get_uint(&f[2], &success) < 0 ||
        get_uint(&f[3], &fail) < 0 || get_uint(&f[4], &bytes) < 0)
        return -1;
    int rc = get_hist(&f[6], h);
    if (rc < 0)
        return rc;
    if (success > UINT64_MAX - fail || h->count != success + fail)
        return -1; /* (a sum that wraps would pass the count check) */
    const msgpack_object *codes = array_of(&f[5], 0);
    uint64_t protocols[GOOSE_PROTOCOLS];
    if (!codes || f[5].via.array.size % 2 || get_protocols(o, success + fail, protocols) < 0)
        return -1;
    goose_req_stat *r = goose__stats_request(s, method, name);
    if (!r || goose__hist_merge(&r->hist, h) < 0)
        return GOOSE_UNPACK_NOMEM;
    r->success += success;
    r->fail += fail;
    r->bytes += bytes;
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++)
        r->protocols[i] += protocols[i];
    for (uint32_t i = 0; i < f[5].via.array.size; i += 2) {
        uint64_t status, count;
        if (get_uint(&codes[i], &status) < 0 || get_uint(&codes[i + 1], &count) < 0 ||
            status < 100 || status > 999)
            return -1;
        if (goose__stats_add_status(r, (int)status, count) < 0)
            return GOOSE_UNPACK_NOMEM;
    }
    return unpack_synthetic(o, r, h);
}

static int unpack_error(const msgpack_object *o, goose_stats *s)
{
    const msgpack_object *f = array_of(o, 4);
    char method[64], name[NAME_MAX_BYTES], error[NAME_MAX_BYTES];
    uint64_t count;
    if (!f || goose__obj_str(&f[0], method, sizeof method) < 0 ||
        goose__obj_str(&f[1], name, sizeof name) < 0 ||
        goose__obj_str(&f[2], error, sizeof error) < 0 || get_uint(&f[3], &count) < 0)
        return -1;
    return goose__stats_add_error(s, method, name, error, count) < 0 ? GOOSE_UNPACK_NOMEM : 0;
}

static int unpack_transaction(const msgpack_object *o, goose_stats *s, goose_hist *h)
{
    const msgpack_object *f = array_of(o, 4);
    uint64_t id, success, fail;
    if (!f || get_uint(&f[0], &id) < 0 || id >= s->ntxs || get_uint(&f[1], &success) < 0 ||
        get_uint(&f[2], &fail) < 0)
        return -1;
    int rc = get_hist(&f[3], h);
    if (rc < 0 || h->count != success + fail)
        return rc < 0 ? rc : -1;
    if (goose__hist_merge(&s->txs[id].hist, h) < 0)
        return GOOSE_UNPACK_NOMEM;
    s->txs[id].success += success;
    s->txs[id].fail += fail;
    return 0;
}

/* A transaction that this test has, a reason (not empty) and a count. */
static int unpack_tx_error(const msgpack_object *o, goose_stats *s)
{
    const msgpack_object *f = array_of(o, 3);
    char error[NAME_MAX_BYTES];
    uint64_t id, count;
    if (!f || get_uint(&f[0], &id) < 0 || id >= s->ntxs ||
        goose__obj_str(&f[1], error, sizeof error) < 0 || !error[0] ||
        get_uint(&f[2], &count) < 0)
        return -1;
    return goose__stats_add_tx_error(s, id, error, count) < 0 ? GOOSE_UNPACK_NOMEM : 0;
}

static int unpack_list(const msgpack_object *map, const char *key, goose_stats *s,
                       goose_hist *h, int kind)
{
    const msgpack_object *list = goose__map_get(map, key);
    if (!array_of(list, 0))
        return list && list->type == MSGPACK_OBJECT_ARRAY ? 0 : -1;
    for (uint32_t i = 0; i < list->via.array.size; i++) {
        const msgpack_object *o = &list->via.array.ptr[i];
        int rc = kind == 0 ? unpack_request(o, s, h)
               : kind == 1 ? unpack_error(o, s)
               : kind == 2 ? unpack_transaction(o, s, h)
                           : unpack_tx_error(o, s);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Per-scenario counts, added to v. */
static int unpack_counts(const msgpack_object *map, const char *key, uint64_t *v, size_t n)
{
    const msgpack_object *list = goose__map_get(map, key);
    if (!list || list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size != n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t c;
        if (get_uint(&list->via.array.ptr[i], &c) < 0)
            return -1;
        v[i] += c;
    }
    return 0;
}

int goose__unpack_stats(const msgpack_object *o, goose_stats *s)
{
    goose_hist *h = goose__hists_new(1);
    uint64_t count, fail, lost = 0, lost_details = 0;
    int rc = h ? -1 : GOOSE_UNPACK_NOMEM;
    if (!h || !o || o->type != MSGPACK_OBJECT_MAP)
        goto out;
    if ((rc = unpack_list(o, "requests", s, h, 0)) < 0 ||
        (rc = unpack_list(o, "errors", s, h, 1)) < 0 ||
        (rc = unpack_list(o, "transactions", s, h, 2)) < 0 ||
        (goose__map_get(o, "transaction_errors") && /* optional: absent when none */
         (rc = unpack_list(o, "transaction_errors", s, h, 3)) < 0))
        goto out;
    rc = -1;
    if (unpack_counts(o, "iterations", s->iterations, s->nscenarios) < 0 ||
        unpack_counts(o, "arrivals", s->arrivals, s->nscenarios) < 0 ||
        unpack_counts(o, "dropped", s->dropped, s->nscenarios) < 0 ||
        goose__get_u64(o, "count", &count) < 0 || goose__get_u64(o, "fail", &fail) < 0)
        goto out;
    if ((rc = get_hist(goose__map_get(o, "all"), h)) < 0)
        goto out;
    rc = -1;
    if (h->count != count || fail > count ||
        (goose__map_get(o, "lost") && goose__get_u64(o, "lost", &lost) < 0) ||
        (goose__map_get(o, "lost_details") &&
         goose__get_u64(o, "lost_details", &lost_details) < 0))
        goto out;
    rc = GOOSE_UNPACK_NOMEM;
    if (goose__hist_merge(&s->all, h) < 0)
        goto out;
    s->requests += count;
    s->failures += fail;
    s->lost += lost;
    s->lost_details += lost_details;
    rc = 0;
out:
    goose__hists_delete(h, 1);
    return rc;
}

/* A users (or rate) level over time: [[start_us, end_us, from, to], ...]. */
void goose__pack_shape(msgpack_packer *pk, const goose_shape *s)
{
    msgpack_pack_array(pk, s->n);
    for (size_t i = 0; i < s->n; i++) {
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint64(pk, s->steps[i].start_us);
        msgpack_pack_uint64(pk, s->steps[i].end_us);
        msgpack_pack_double(pk, s->steps[i].from);
        msgpack_pack_double(pk, s->steps[i].to);
    }
}

static int number(const msgpack_object *o, double *out)
{
    if (o->type == MSGPACK_OBJECT_FLOAT64)
        *out = o->via.f64;
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)o->via.u64;
    else
        return -1;
    return *out >= 0 && *out <= GAGGLE_LEVEL_MAX ? 0 : -1; /* NaN fails too */
}

/* Steps must follow each other from time 0, each from where the last got. */
static int unpack_step(const msgpack_object *o, const goose_shape *s, goose_step *st)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4)
        return -1;
    const msgpack_object *f = o->via.array.ptr;
    if (f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
        f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || number(&f[2], &st->from) < 0 ||
        number(&f[3], &st->to) < 0)
        return -1;
    st->start_us = f[0].via.u64;
    st->end_us = f[1].via.u64;
    return st->end_us >= st->start_us && st->start_us == goose__shape_end(s) ? 0 : -1;
}

int goose__unpack_shape(const msgpack_object *o, goose_shape *s)
{
    goose__shape_free(s);
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > GAGGLE_STEPS_MAX)
        return -1;
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        goose_step st;
        if (unpack_step(&o->via.array.ptr[i], s, &st) < 0 ||
            goose__shape_add(s, st.to, st.end_us - st.start_us) < 0) {
            goose__shape_free(s);
            return -1;
        }
    }
    return 0;
}
