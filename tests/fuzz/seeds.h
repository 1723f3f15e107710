/* Valid frames of every message, as seeds for the fuzzer. */
#ifndef GOOSE_FUZZ_SEEDS_H
#define GOOSE_FUZZ_SEEDS_H

#include <stdlib.h>
#include <string.h>

#include "gaggle/gaggle.h"

#define FUZZ_SEEDS 10

static inline void seed_stats(msgpack_packer *pk)
{
    goose_stats s;
    goose__stats_init(&s, 4, 3);
    for (int i = 0; i < 50; i++) { /* every protocol and none: 9-element entries */
        goose__stats_record_bytes(&s, i % 2 ? "GET" : "POST", i % 3 ? "/" : "/node/[id]",
                                  i % 7 ? 200 : 404, (uint64_t)(100 + i * 37),
                                  i % 7 ? NULL : "404 Not Found", 0, (unsigned)(i % 4));
        goose__stats_record_tx(&s, (size_t)(i % 4), i % 5 != 0, 250);
    }
    s.iterations[1] = 5;
    /* a key with synthetic samples (--co-mitigation): an 8-element entry */
    goose__stats_backfill(goose__stats_request(&s, "GET", "/"), 20000, 1500, 137);
    goose__pack_stats(pk, &s);
    goose__stats_free(&s);
}

/* The columns and rows of the seeds' data set "accounts" (UNIQUE). */
static const char SEED_COLUMNS[] = "name\0password";
static const char SEED_CELLS[] = "alice\0a1\0carol\0c3";

/* A welcome for worker 0 of 2 (slots 0 and 2, of scenarios 0 and 1), with
 * a data set whose two rows follow in a "rows" frame. */
static inline void seed_welcome(gaggle_out *o, const char *select)
{
    goose_shape users = {0}, none = {0};
    goose__shape_add(&users, 4, 500000); /* 4 users over 0.5 s */
    goose__out_begin(o, "welcome", 29);
    goose__out_u64(o, "worker", 0);
    goose__out_u64(o, "workers", 2);
    goose__out_u64(o, "users", 4);
    goose__out_f64(o, "hatch_rate", 2.5);
    goose__out_u64(o, "run_time_us", 1000000);
    goose__out_u64(o, "iterations", 0);
    goose__out_u64(o, "timeout_ms", 5000);
    goose__out_bool(o, "reset", 1);
    goose__out_bool(o, "sticky_follow", 0);
    goose__out_bool(o, "assets_cross_origin", 0);
    goose__out_bool(o, "no_cache", 0);
    goose__out_u64(o, "stop_timeout_us", 30000000);
    goose__out_str(o, "co_mitigation", "average");
    goose__out_str(o, "host", "http://127.0.0.1:8080");
    goose__out_u64(o, "end_us", 0);
    goose__out_bool(o, "controller", 0);
    goose__out_f64(o, "throttle", 0);
    goose__out_bool(o, "accept_invalid_certs", 0);
    goose__out_str(o, "http_version", "auto");
    goose__out_str(o, "ca_pem", "");
    goose__out_key(o, "shape");
    goose__pack_shape(&o->pk, &users);
    goose__out_key(o, "arrivals");
    goose__pack_shape(&o->pk, &none);
    goose__out_str(o, "select", select);
    goose__out_u64(o, "seed", 18446744073709551557ull); /* above 2^63: all 64 bits */
    goose__out_str(o, "scheduler", "round-robin");
    goose__out_key(o, "resolve");
    msgpack_pack_array(&o->pk, 1);
    goose__pack_str(&o->pk, "example.test:80:127.0.0.1");
    goose__out_key(o, "slots");
    msgpack_pack_array(&o->pk, 2);
    msgpack_pack_uint64(&o->pk, 0);
    msgpack_pack_uint64(&o->pk, 2);
    goose__out_key(o, "scenarios");
    msgpack_pack_array(&o->pk, 2);
    msgpack_pack_uint64(&o->pk, 0);
    msgpack_pack_uint64(&o->pk, 1);
    goose__out_key(o, "data");
    msgpack_pack_array(&o->pk, 1);
    msgpack_pack_map(&o->pk, 5);
    goose__pack_str(&o->pk, "name");
    goose__pack_str(&o->pk, "accounts");
    goose__pack_str(&o->pk, "mode");
    goose__pack_str(&o->pk, "unique");
    goose__pack_str(&o->pk, "ncols");
    msgpack_pack_uint64(&o->pk, 2);
    goose__pack_str(&o->pk, "columns");
    msgpack_pack_bin(&o->pk, sizeof SEED_COLUMNS);
    msgpack_pack_bin_body(&o->pk, SEED_COLUMNS, sizeof SEED_COLUMNS);
    goose__pack_str(&o->pk, "rows");
    msgpack_pack_uint64(&o->pk, 2);
    goose__shape_free(&users);
}

/* Seed i as a malloc'd frame; its length in *len. */
static inline unsigned char *fuzz_seed(int i, size_t *len)
{
    static const unsigned char nonce[GAGGLE_NONCE] = {1, 2, 3};
    gaggle_out o;
    switch (i) {
    case 0:
        goose__out_begin(&o, "hello", 2);
        goose__out_u64(&o, "version", GAGGLE_PROTOCOL_VERSION);
        goose__out_bin(&o, "nonce", nonce, sizeof nonce);
        break;
    case 1:
        goose__out_begin(&o, "challenge", 3);
        goose__out_bin(&o, "nonce", nonce, sizeof nonce);
        goose__out_bool(&o, "key", 1);
        goose__out_bin(&o, "proof", nonce, sizeof nonce);
        break;
    case 2:
        goose__out_begin(&o, "auth", 3);
        goose__out_str(&o, "hash", "0123abcd");
        goose__out_str(&o, "name", "host:42");
        goose__out_bin(&o, "proof", nonce, sizeof nonce);
        break;
    case 3:
        seed_welcome(&o, "reader,admin*");
        break;
    case 4:
    case 5:
        goose__out_begin(&o, i == 4 ? "metrics" : "done", 2);
        goose__out_u64(&o, "active", 2);
        goose__out_key(&o, "shards");
        msgpack_pack_array(&o.pk, 1);
        msgpack_pack_map(&o.pk, 3);
        goose__pack_str(&o.pk, "thread");
        msgpack_pack_uint64(&o.pk, 0);
        goose__pack_str(&o.pk, "reset");
        msgpack_pack_false(&o.pk);
        goose__pack_str(&o.pk, "stats");
        seed_stats(&o.pk);
        break;
    case 6:
        goose__out_begin(&o, "start", 1);
        goose__out_u64(&o, "in_us", 100000);
        break;
    case 7:
        goose__out_begin(&o, "ping", 1);
        goose__out_u64(&o, "t", 123456789);
        break;
    case 8:
        goose__out_begin(&o, "rows", 3);
        goose__out_u64(&o, "set", 0);
        goose__out_u64(&o, "rows", 2);
        goose__out_bin(&o, "cells", SEED_CELLS, sizeof SEED_CELLS);
        break;
    default:
        goose__out_begin(&o, "reject", 1);
        goose__out_str(&o, "reason", "the gaggle is full (2 workers expected)");
        break;
    }
    goose__out_finish(&o);
    unsigned char *p = malloc(o.sb.size);
    if (p)
        memcpy(p, o.sb.data, o.sb.size);
    *len = o.sb.size;
    goose__out_free(&o);
    return p;
}

#endif
