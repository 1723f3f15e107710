/* Bytes of one Worker metrics delta (one engine thread's shard) after 1k and
 * 100k requests over three request keys: bounded by histogram buckets, not
 * by requests.  Built against build/libgoose.a (internal symbols). */
#include <stdio.h>

#include "gaggle/wire.h"

static void fill(goose_stats *s, int requests)
{
    for (int i = 0; i < requests; i++) {
        const char *name = i % 3 == 0 ? "/" : i % 3 == 1 ? "/node/[id]" : "login";
        int status = i % 50 == 0 ? 404 : 200;
        goose__stats_record(s, i % 3 == 2 ? "POST" : "GET", name, status,
                            100 + (uint64_t)(i * 7919) % 200000,
                            status == 404 ? "404 Not Found" : NULL);
        goose__stats_record_tx(s, (size_t)(i % 2), status != 404, 500);
    }
}

static size_t bytes_after(int requests)
{
    goose_stats s;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    goose__stats_init(&s, 2, 2);
    fill(&s, requests);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    goose__pack_stats(&pk, &s);
    size_t n = sb.size + 4 + 40; /* frame length and the message's other keys */
    msgpack_sbuffer_destroy(&sb);
    goose__stats_free(&s);
    return n;
}

int main(void)
{
    printf("%zu %zu\n", bytes_after(1000), bytes_after(100000));
    return 0;
}
