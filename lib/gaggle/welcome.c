/* Reading a Manager's welcome: this Worker's user slots and the run's
 * options.  Every field is checked; a Worker runs nothing it cannot read. */
#include "gaggle/gaggle.h"

#include "metrics/co.h"

#include <stdlib.h>
#include <string.h>

static int read_slots(const msgpack_object *msg, size_t nscenarios, gaggle_welcome *w)
{
    const msgpack_object *slots = goose__map_get(msg, "slots");
    const msgpack_object *scen = goose__map_get(msg, "scenarios");
    if (!slots || !scen || slots->type != MSGPACK_OBJECT_ARRAY ||
        scen->type != MSGPACK_OBJECT_ARRAY || slots->via.array.size != scen->via.array.size ||
        slots->via.array.size == 0)
        return -1;
    w->nslots = slots->via.array.size;
    w->slots = calloc(w->nslots, sizeof *w->slots);
    w->scenarios = calloc(w->nslots, sizeof *w->scenarios);
    if (!w->slots || !w->scenarios)
        return -1;
    for (size_t i = 0; i < w->nslots; i++) {
        const msgpack_object *a = &slots->via.array.ptr[i], *b = &scen->via.array.ptr[i];
        if (a->type != MSGPACK_OBJECT_POSITIVE_INTEGER || a->via.u64 >= w->total ||
            b->type != MSGPACK_OBJECT_POSITIVE_INTEGER || b->via.u64 >= nscenarios)
            return -1;
        w->slots[i] = (unsigned)a->via.u64;
        w->scenarios[i] = (unsigned)b->via.u64;
    }
    return 0;
}

static void clear_resolve(goose_options *o)
{
    for (size_t i = 0; i < o->nresolve; i++)
        free(o->resolve[i]);
    free(o->resolve);
    o->resolve = NULL;
    o->nresolve = 0;
}

/* --scenarios is the Manager's: the Worker plans the same scenarios, so
 * slot scenario indexes and transaction ids mean the same on both sides. */
static int read_select(const msgpack_object *msg, goose_options *o)
{
    char list[GOOSE_SCENARIOS_MAX + 1], err[128];
    if (goose__get_str(msg, "select", list, sizeof list) < 0)
        return -1;
    free(o->scenarios);
    o->scenarios = NULL;
    return list[0] && goose__option_set(o, "scenarios", list, err, sizeof err) != GOOSE_OK
               ? -1 : 0;
}

/* The Manager's trust for the targets: its CA file's contents (a Worker
 * needs no copy, and has none: --ca-file is the Manager's), checked as the
 * Manager's own were, and whether certificates are checked at all. */
static int read_tls(const msgpack_object *msg, goose_options *o)
{
    char version[8], err[200];
    const msgpack_object *ca = goose__map_get(msg, "ca_pem");
    if (goose__get_bool(msg, "accept_invalid_certs", &o->accept_invalid_certs) < 0 ||
        goose__get_str(msg, "http_version", version, sizeof version) < 0 ||
        goose__option_set(o, "http-version", version, err, sizeof err) != GOOSE_OK ||
        !ca || ca->type != MSGPACK_OBJECT_STR || ca->via.str.size > GOOSE_CA_FILE_MAX ||
        (ca->via.str.size &&
         goose__ca_pem_check(ca->via.str.ptr, ca->via.str.size, err, sizeof err) < 0))
        return -1;
    char *pem = ca->via.str.size ? malloc(ca->via.str.size + 1) : NULL;
    if (ca->via.str.size && !pem)
        return -1;
    if (pem) {
        memcpy(pem, ca->via.str.ptr, ca->via.str.size);
        pem[ca->via.str.size] = '\0';
    }
    free(o->ca_pem);
    o->ca_pem = pem;
    o->ca_pem_len = ca->via.str.size;
    return 0;
}

/* The Manager's seed (drawn or given) and scheduler: the Worker's users
 * draw the values and take the scenarios of the same users standalone. */
static int read_users(const msgpack_object *msg, goose_options *o)
{
    char name[16];
    int scheduler;
    if (goose__get_u64(msg, "seed", &o->seed) < 0 ||
        goose__get_str(msg, "scheduler", name, sizeof name) < 0 ||
        (scheduler = goose__scheduler_parse(name)) < 0)
        return -1;
    o->seed_set = 1;
    o->scheduler = scheduler;
    return 0;
}

static int read_options(const msgpack_object *msg, goose_options *o)
{
    char host[2048], co[16];
    uint64_t timeout_ms;
    int reset, co_mode;
    if (goose__get_f64(msg, "hatch_rate", &o->hatch_rate) < 0 || !(o->hatch_rate >= 0) ||
        goose__get_u64(msg, "run_time_us", &o->run_time_us) < 0 ||
        goose__get_u64(msg, "iterations", &o->iterations) < 0 ||
        goose__get_u64(msg, "timeout_ms", &timeout_ms) < 0 || timeout_ms > 86400000 ||
        goose__get_bool(msg, "reset", &reset) < 0 ||
        goose__get_bool(msg, "sticky_follow", &o->sticky_follow) < 0 ||
        goose__get_bool(msg, "assets_cross_origin", &o->assets_cross_origin) < 0 ||
        goose__get_bool(msg, "no_cache", &o->no_cache) < 0 ||
        goose__get_u64(msg, "stop_timeout_us", &o->stop_timeout_us) < 0 ||
        o->stop_timeout_us > 86400000000ull * 366 * 10 ||
        goose__get_str(msg, "co_mitigation", co, sizeof co) < 0 ||
        (co_mode = goose__co_mode_parse(co)) < 0 ||
        goose__get_str(msg, "host", host, sizeof host) < 0 ||
        (host[0] && !goose__valid_url(host)) || read_select(msg, o) < 0 ||
        read_tls(msg, o) < 0 || read_users(msg, o) < 0)
        return -1;
    o->timeout_ms = (long)timeout_ms;
    o->co_mitigation = co_mode;
    uint64_t max_names; /* the Manager's bound, when it says one */
    if (goose__get_u64(msg, "max_request_names", &max_names) == 0 && max_names >= 1 &&
        max_names <= 1000000) /* as --max-request-names takes */
        o->max_request_names = (size_t)max_names;
    o->no_reset_metrics = !reset;
    o->startup_us = 0;
    free(o->host);
    o->host = host[0] ? strdup(host) : NULL;
    clear_resolve(o); /* --resolve is the Manager's option */
    const msgpack_object *resolve = goose__map_get(msg, "resolve");
    if (!resolve || resolve->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    for (uint32_t i = 0; i < resolve->via.array.size; i++) {
        char entry[512], err[128];
        if (goose__obj_str(&resolve->via.array.ptr[i], entry, sizeof entry) < 0 ||
            goose__option_set(o, "resolve", entry, err, sizeof err) != GOOSE_OK)
            return -1;
    }
    return 0;
}

static int read_all(const msgpack_object *msg, size_t nscenarios, gaggle_welcome *w,
                    goose_options *o)
{
    if (goose__get_u64(msg, "worker", &w->index) < 0 ||
        goose__get_u64(msg, "users", &w->total) < 0 || w->total == 0 ||
        goose__get_u64(msg, "workers", &w->workers) < 0 || w->index >= w->workers ||
        goose__get_f64(msg, "throttle", &w->throttle_rps) < 0 || !(w->throttle_rps >= 0) ||
        w->total > UINT32_MAX || read_slots(msg, nscenarios, w) < 0 ||
        read_options(msg, o) < 0 || goose__get_u64(msg, "end_us", &w->end_us) < 0 ||
        goose__get_bool(msg, "controller", &w->controller) < 0 ||
        goose__unpack_shape(goose__map_get(msg, "shape"), &w->shape) < 0 || w->shape.n == 0 ||
        goose__unpack_shape(goose__map_get(msg, "arrivals"), &w->arrivals) < 0)
        return -1;
    return 0;
}

/* nscenarios bounds the slots' scenario indexes; the Worker checks them
 * again against the scenarios its plan selects. */
int goose__welcome_read(const msgpack_object *msg, size_t nscenarios, gaggle_welcome *w,
                        goose_options *o)
{
    uint64_t given[2]; /* what the Manager sends, the Worker was not given */
    memcpy(given, o->set_mask, sizeof given);
    memset(w, 0, sizeof *w);
    int rc = read_all(msg, nscenarios, w, o);
    memcpy(o->set_mask, given, sizeof given);
    if (rc == 0)
        o->users = w->nslots;
    return rc;
}

void goose__welcome_free(gaggle_welcome *w)
{
    free(w->slots);
    free(w->scenarios);
    goose__shape_free(&w->shape);
    goose__shape_free(&w->arrivals);
    memset(w, 0, sizeof *w);
}
