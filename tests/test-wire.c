/* The Gaggle wire: the frame checker, the metrics codec and the load-test
 * hash. */
#include "test.h"

#include "gaggle/gaggle.h"

static int noop(goose_user *u)
{
    (void)u;
    return GOOSE_OK;
}

static int frame_ok(const unsigned char *p, size_t n)
{
    return goose__wire_check(p, n) == 0;
}

TEST(check_accepts_real_messages)
{
    gaggle_out o;
    goose__out_begin(&o, "hello", 3);
    goose__out_u64(&o, "version", 1);
    goose__out_str(&o, "hash", "abc");
    goose__out_key(&o, "list");
    msgpack_pack_array(&o.pk, 2);
    msgpack_pack_map(&o.pk, 1);
    goose__pack_str(&o.pk, "k");
    msgpack_pack_double(&o.pk, 1.5);
    msgpack_pack_bin(&o.pk, 3);
    msgpack_pack_bin_body(&o.pk, "xyz", 3);
    goose__out_finish(&o);
    const unsigned char *p = (const unsigned char *)o.sb.data;
    ASSERT_EQ(p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3], (int)o.sb.size - 4);
    ASSERT(frame_ok(p + 4, o.sb.size - 4));
    for (size_t n = 0; n < o.sb.size - 4; n++) /* every truncation is refused */
        ASSERT(!frame_ok(p + 4, n));
    goose__out_free(&o);
}

TEST(check_refuses_hostile_shapes)
{
    const unsigned char array_top[] = {0x91, 0x01};
    const unsigned char big_claim[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    const unsigned char array_claim[] = {0x81, 0xa1, 'k', 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x01};
    const unsigned char str_claim[] = {0x81, 0xa1, 'k', 0xdb, 0xff, 0xff, 0xff, 0xff};
    const unsigned char ext[] = {0x81, 0xa1, 'k', 0xd4, 0x01, 0x02};
    const unsigned char reserved[] = {0x81, 0xa1, 'k', 0xc1};
    const unsigned char trailing[] = {0x80, 0x00};
    ASSERT(!frame_ok(array_top, sizeof array_top));
    ASSERT(!frame_ok(big_claim, sizeof big_claim));
    ASSERT(!frame_ok(array_claim, sizeof array_claim));
    ASSERT(!frame_ok(str_claim, sizeof str_claim));
    ASSERT(!frame_ok(ext, sizeof ext));
    ASSERT(!frame_ok(reserved, sizeof reserved));
    ASSERT(!frame_ok(trailing, sizeof trailing));
    ASSERT(frame_ok(trailing, 1)); /* an empty map is well-formed */
    unsigned char deep[64];
    size_t n = 0;
    deep[n++] = 0x81;
    deep[n++] = 0xa1;
    deep[n++] = 'k';
    for (int i = 0; i < 20; i++)
        deep[n++] = 0x91; /* arrays nested 20 deep */
    deep[n++] = 0x01;
    ASSERT(!frame_ok(deep, n));
    ASSERT(!frame_ok(deep, 0));
}

/* Each round's bytes in a block of exactly n bytes, so that a read past
 * the end is one ASan (and valgrind) sees. */
TEST(check_survives_random_bytes)
{
    unsigned s = 12345;
    for (int round = 0; round < 200000; round++) {
        size_t n = 1 + (size_t)(round % 255);
        unsigned char *buf = malloc(n);
        ASSERT_NOT_NULL(buf);
        for (size_t i = 0; i < n; i++) {
            s = s * 1103515245u + 12345u;
            buf[i] = (unsigned char)(s >> 16);
        }
        buf[0] = (unsigned char)(0x80 | (buf[0] & 0x0f));
        goose__wire_check(buf, n); /* must not crash or read past n */
        free(buf);
    }
}

static void fill(goose_stats *s, int requests)
{
    for (int i = 0; i < requests; i++) {
        const char *name = i % 3 == 0 ? "/" : i % 3 == 1 ? "/node/[id]" : "login";
        int status = i % 50 == 0 ? 404 : 200;
        goose__stats_record_bytes(s, i % 3 == 2 ? "POST" : "GET", name, status,
                                  100 + (uint64_t)(i * 7919) % 200000,
                                  status == 404 ? "404 Not Found" : NULL, (uint64_t)i % 700,
                                  (unsigned)(i % 4)); /* every protocol, and none */
        goose__stats_record_tx(s, (size_t)(i % 2), status != 404, 500);
    }
    s->iterations[1] += (uint64_t)requests / 10;
}

static size_t packed_size(const goose_stats *s, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    goose__pack_stats(&pk, s);
    return sb->size;
}

TEST(stats_round_trip)
{
    goose_stats a, b;
    ASSERT_EQ(goose__stats_init(&a, 2, 2), 0);
    ASSERT_EQ(goose__stats_init(&b, 2, 2), 0);
    fill(&a, 3000);
    msgpack_sbuffer sb;
    packed_size(&a, &sb);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    ASSERT_EQ(goose__unpack_stats(&u.data, &b), 0);
    ASSERT_EQ(b.requests, a.requests);
    ASSERT_EQ(b.failures, a.failures);
    ASSERT_EQ(b.nreqs, a.nreqs);
    ASSERT_EQ(b.nerrs, a.nerrs);
    for (size_t i = 0; i < a.nreqs; i++) {
        goose_req_stat *x = a.reqs[i], *y = goose__stats_request(&b, x->method, x->name);
        ASSERT_EQ(y->success, x->success);
        ASSERT_EQ(y->fail, x->fail);
        ASSERT_EQ(y->bytes, x->bytes);
        ASSERT_EQ(y->nstatuses, x->nstatuses);
        ASSERT(goose__hist_equal(&y->hist, &x->hist));
        for (size_t p = 0; p < GOOSE_PROTOCOLS; p++)
            ASSERT_EQ(y->protocols[p], x->protocols[p]);
        ASSERT(x->protocols[0] && x->protocols[2]); /* each packed */
    }
    ASSERT(goose__hist_equal(&b.all, &a.all));
    ASSERT_EQ(b.txs[1].fail, a.txs[1].fail);
    ASSERT_EQ(b.iterations[1], a.iterations[1]);
    /* a shard that disagrees about transactions or scenarios is refused */
    goose_stats c;
    ASSERT_EQ(goose__stats_init(&c, 1, 2), 0);
    ASSERT_EQ(goose__unpack_stats(&u.data, &c), -1);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    goose__stats_free(&a);
    goose__stats_free(&b);
    goose__stats_free(&c);
}

/* A stats map with one request key, GET / with 2 successes and 1 failure,
 * whose array has n elements: the 8th nil (or a histogram of synthetic
 * samples when co), the 9th the protocols map as pack() writes it. */
static int unpack_key(uint32_t n, int co, void (*pack)(msgpack_packer *, int), int arg,
                      goose_stats *out)
{
    goose_hist *h = goose__hists_new(1);
    unsigned char *bin = malloc(goose__hist_encoded_max());
    ASSERT(h && bin);
    for (int i = 0; i < 3; i++)
        goose__hist_add(h, 1000);
    size_t len = goose__hist_encode(h, bin);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 9);
    goose__pack_str(&pk, "requests");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, n);
    goose__pack_str(&pk, "GET");
    goose__pack_str(&pk, "/");
    msgpack_pack_uint64(&pk, 2);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_uint64(&pk, 0);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_bin(&pk, len);
    msgpack_pack_bin_body(&pk, bin, len);
    if (n > 7 && co) {
        msgpack_pack_bin(&pk, len);
        msgpack_pack_bin_body(&pk, bin, len);
    } else if (n > 7) {
        msgpack_pack_nil(&pk);
    }
    if (n > 8)
        pack(&pk, arg);
    for (uint32_t i = 9; i < n; i++)
        msgpack_pack_nil(&pk);
    const char *lists[] = {"errors", "transactions", "iterations", "arrivals", "dropped"};
    for (size_t i = 0; i < 5; i++) {
        goose__pack_str(&pk, lists[i]);
        msgpack_pack_array(&pk, i < 2 ? 0 : 1);
        if (i >= 2)
            msgpack_pack_uint64(&pk, 0);
    }
    goose__pack_str(&pk, "count");
    msgpack_pack_uint64(&pk, 3);
    goose__pack_str(&pk, "fail");
    msgpack_pack_uint64(&pk, 1);
    goose__pack_str(&pk, "all");
    msgpack_pack_bin(&pk, len);
    msgpack_pack_bin_body(&pk, bin, len);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    ASSERT_EQ(goose__stats_init(out, 0, 1), 0);
    int rc = goose__unpack_stats(&u.data, out);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    goose__hists_delete(h, 1);
    free(bin);
    return rc;
}

/* The protocols maps of the test below, by number. */
static void pack_protocols(msgpack_packer *pk, int which)
{
    static const struct { const char *k[3]; uint64_t v[3]; uint32_t n; } maps[] = {
        {{"HTTP/1.1", "HTTP/2"}, {1, 2}, 2},            /* 0: good, all 3 */
        {{"HTTP/1.0"}, {2}, 1},                         /* 1: good, 2 of 3 */
        {{0}, {0}, 0},                                  /* 2: good, empty */
        {{"HTTP/3"}, {1}, 1},                           /* 3: unknown protocol */
        {{"HTTP/1.1", "HTTP/1.1"}, {1, 1}, 2},          /* 4: twice */
        {{"HTTP/1.1", "HTTP/2"}, {2, 2}, 2},            /* 5: more than counted */
        {{"HTTP/1.1"}, {UINT64_MAX}, 1},                /* 6: far more */
        {{"HTTP/1.1", "HTTP/2"}, {2, UINT64_MAX}, 2},   /* 7: a sum that wraps */
        {{"HTTP/1.1"}, {0}, 1},                         /* 8: a zero */
        {{"HTTP/1.0", "HTTP/1.1", "HTTP/2"}, {1, 1, 1}, 4}, /* 9: too many */
    };
    if (which == 10) {
        msgpack_pack_array(pk, 0); /* not a map */
        return;
    }
    if (which == 11) {
        msgpack_pack_map(pk, 1);
        msgpack_pack_uint64(pk, 1); /* a key that is not a string */
        msgpack_pack_uint64(pk, 1);
        return;
    }
    msgpack_pack_map(pk, maps[which].n);
    for (uint32_t i = 0; i < maps[which].n; i++) {
        goose__pack_str(pk, maps[which].k[i % 3] ? maps[which].k[i % 3] : "HTTP/1.0");
        msgpack_pack_uint64(pk, maps[which].v[i % 3]);
    }
}

TEST(protocols_on_the_wire_are_checked)
{
    goose_stats s;
    const goose_req_stat *r;
    ASSERT_EQ(unpack_key(9, 0, pack_protocols, 0, &s), 0);
    ASSERT_NOT_NULL(r = goose__stats_find(&s, "GET", "/"));
    ASSERT_EQ(r->protocols[0], 0);
    ASSERT_EQ(r->protocols[1], 1);
    ASSERT_EQ(r->protocols[2], 2);
    ASSERT_EQ(goose__req_synthetic(r), 0);
    goose__stats_free(&s);
    ASSERT_EQ(unpack_key(9, 1, pack_protocols, 1, &s), 0); /* beside synthetic samples */
    ASSERT_NOT_NULL(r = goose__stats_find(&s, "GET", "/"));
    ASSERT_EQ(r->protocols[0], 2);
    ASSERT_EQ(goose__req_synthetic(r), 3);
    goose__stats_free(&s);
    ASSERT_EQ(unpack_key(9, 0, pack_protocols, 2, &s), 0);
    goose__stats_free(&s);
    for (uint32_t n = 7; n <= 8; n++) { /* a key without protocols, as version 5 sent */
        ASSERT_EQ(unpack_key(n, 1, pack_protocols, 0, &s), 0);
        ASSERT_NOT_NULL(r = goose__stats_find(&s, "GET", "/"));
        ASSERT_EQ(r->protocols[0] + r->protocols[1] + r->protocols[2], 0);
        ASSERT_EQ(goose__req_count(r), 3);
        goose__stats_free(&s);
    }
    for (int bad = 3; bad <= 11; bad++) {
        ASSERT_EQ(unpack_key(9, 0, pack_protocols, bad, &s), -1);
        goose__stats_free(&s);
    }
    ASSERT_EQ(unpack_key(8, 0, pack_protocols, 0, &s), -1); /* nil only before a 9th */
    goose__stats_free(&s);
    ASSERT_EQ(unpack_key(10, 0, pack_protocols, 0, &s), -1);
    goose__stats_free(&s);
}

/* Shards merge protocols by addition, whichever merge; their names are
 * the transports' names. */
TEST(protocols_merge_and_are_named_alike)
{
    for (int p = GOOSE_PROTO_NONE + 1; p < GOOSE_PROTO_COUNT; p++) {
        ASSERT_STR_EQ(goose__protocol_names[p - 1], goose__http_protocol_name(p));
        ASSERT_EQ(goose__protocol_slot(goose__http_protocol_name(p)), p - 1);
    }
    ASSERT_NULL(goose__http_protocol_name(GOOSE_PROTO_NONE));
    ASSERT_EQ(goose__protocol_slot("HTTP/3"), -1);
    goose_stats a, m, l;
    ASSERT_EQ(goose__stats_init(&a, 2, 2), 0);
    ASSERT_EQ(goose__stats_init(&m, 2, 2), 0);
    ASSERT_EQ(goose__stats_init(&l, 2, 2), 0);
    fill(&a, 400);
    ASSERT_EQ(goose__stats_merge(&m, &a), 0);
    ASSERT_EQ(goose__stats_merge(&m, &a), 0);
    ASSERT_EQ(goose__stats_merge_lossy(&l, &a), 0);
    uint64_t total[GOOSE_PROTOCOLS], answered = 0;
    goose__stats_protocols(&a, total);
    for (size_t i = 0; i < a.nreqs; i++) {
        const goose_req_stat *x = a.reqs[i];
        const goose_req_stat *y = goose__stats_find(&m, x->method, x->name);
        const goose_req_stat *z = goose__stats_find(&l, x->method, x->name);
        for (size_t p = 0; p < GOOSE_PROTOCOLS; p++) {
            ASSERT_EQ(y->protocols[p], 2 * x->protocols[p]);
            ASSERT_EQ(z->protocols[p], x->protocols[p]);
        }
    }
    for (size_t p = 0; p < GOOSE_PROTOCOLS; p++)
        answered += total[p];
    ASSERT_EQ(answered, 300); /* every fourth request had no answer */
    ASSERT_EQ(total[0], 100);
    goose__stats_free(&a);
    goose__stats_free(&m);
    goose__stats_free(&l);
}

TEST(message_size_does_not_grow_with_requests)
{
    goose_stats a, b;
    ASSERT_EQ(goose__stats_init(&a, 2, 2), 0);
    ASSERT_EQ(goose__stats_init(&b, 2, 2), 0);
    fill(&a, 1000);
    fill(&b, 100000);
    msgpack_sbuffer sa, sbb;
    size_t small = packed_size(&a, &sa), large = packed_size(&b, &sbb);
    printf("metrics delta: %zu bytes at 1k requests, %zu at 100k\n", small, large);
    /* bounded by the histograms' buckets, not by the requests */
    ASSERT_LT(large, 8 * goose__hist_encoded_max());
    ASSERT_LT(large, small * 20);
    msgpack_sbuffer_destroy(&sa);
    msgpack_sbuffer_destroy(&sbb);
    goose__stats_free(&a);
    goose__stats_free(&b);
}

static goose_attack *build(unsigned weight, const char *host)
{
    goose_attack *a = goose_attack_new();
    goose_taskset *ts = goose_taskset_new("browse");
    goose_taskset_add_transaction(ts, "read", noop);
    goose_scenario *s = goose_scenario_new("S");
    goose_scenario_set_weight(s, 2);
    goose_scenario_set_wait_time(s, 1, 5);
    if (host)
        goose_scenario_set_host(s, host);
    goose_transaction_set_weight(goose_scenario_add_transaction(s, "t", noop), weight);
    goose_scenario_add_taskset(s, ts);
    goose_attack_add_scenario(a, s);
    return a;
}

TEST(hash_is_stable_and_sensitive)
{
    char h1[65], h2[65], h3[65], h4[65];
    goose_attack *a = build(3, NULL), *b = build(3, NULL), *c = build(4, NULL),
                 *d = build(3, "http://127.0.0.1:1");
    ASSERT_EQ(goose__test_hash(a, h1), 0);
    ASSERT_EQ(goose__test_hash(b, h2), 0);
    ASSERT_EQ(goose__test_hash(c, h3), 0);
    ASSERT_EQ(goose__test_hash(d, h4), 0);
    ASSERT_EQ(strlen(h1), 64);
    ASSERT_STR_EQ(h1, h2);
    ASSERT(strcmp(h1, h3) != 0);
    ASSERT(strcmp(h1, h4) != 0);
    goose_attack_free(a);
    goose_attack_free(b);
    goose_attack_free(c);
    goose_attack_free(d);
}

TEST_MAIN(TEST_ENTRY(check_accepts_real_messages), TEST_ENTRY(check_refuses_hostile_shapes),
          TEST_ENTRY(protocols_on_the_wire_are_checked),
          TEST_ENTRY(protocols_merge_and_are_named_alike),
          TEST_ENTRY(check_survives_random_bytes), TEST_ENTRY(stats_round_trip),
          TEST_ENTRY(message_size_does_not_grow_with_requests),
          TEST_ENTRY(hash_is_stable_and_sensitive))
