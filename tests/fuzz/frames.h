/* The Gaggle's readers driven by arbitrary bytes, as a peer's stream
 * would arrive: frame lengths, the frame checker, msgpack, and every
 * message decoder whatever the frame's type says.  Used by the libFuzzer
 * harness (make fuzz) and by tests/test-fuzz.c (make check). */
#ifndef GOOSE_FUZZ_FRAMES_H
#define GOOSE_FUZZ_FRAMES_H

#include <stdint.h>
#include <string.h>

#include "gaggle/gaggle.h"

static void fuzz_stats(const msgpack_object *o)
{
    goose_stats s;
    if (goose__stats_init(&s, 4, 3) < 0)
        return;
    goose__unpack_stats(o, &s);
    goose__stats_free(&s);
}

/* A Worker that registered "accounts" (UNIQUE) and runs 2 users: the
 * message as a welcome's announcement, and as a "rows" frame of that set
 * (announced with 2 rows of 2 columns). */
static void fuzz_data(const msgpack_object *msg)
{
    goose_table t;
    goose_dataset set = {"accounts", GOOSE_DATA_UNIQUE, &t};
    gaggle_data data;
    char err[256];
    goose__table_init(&t);
    goose__rows_announced(&data, msg, &set, &t, 1, 2, err, sizeof err);
    goose__rows_free(&data);
    goose__table_free(&t);
    size_t of = 0;
    uint64_t due = 2;
    if (goose__table_set_columns(&t, "name\0password", 14, 2, err, sizeof err) == 0) {
        gaggle_data d = {&set, &t, 1, &of, &due};
        goose__rows_take(&d, msg, err, sizeof err);
        goose__rows_complete(&d);
    }
    goose__table_free(&t);
}

static void fuzz_message(const msgpack_object *msg)
{
    fuzz_stats(msg);
    fuzz_stats(goose__map_get(msg, "stats"));
    const msgpack_object *shards = goose__map_get(msg, "shards");
    for (uint32_t i = 0; shards && shards->type == MSGPACK_OBJECT_ARRAY &&
                         i < shards->via.array.size; i++)
        fuzz_stats(goose__map_get(&shards->via.array.ptr[i], "stats"));
    goose_options o;
    gaggle_welcome w;
    goose__options_init(&o);
    goose__welcome_read(msg, 3, &w, &o);
    goose__welcome_free(&w);
    goose__options_free(&o);
    fuzz_data(msg);
    unsigned char nonce[GAGGLE_NONCE];
    gaggle_key key = {1, 16, "0123456789abcdef"};
    if (goose__get_nonce(msg, "nonce", nonce) == 0)
        goose__gaggle_proof_ok(&key, "worker", nonce, nonce, goose__map_get(msg, "proof"));
    uint64_t u;
    int b;
    char str[256];
    double d;
    goose__get_u64(msg, "t", &u);
    goose__get_u64(msg, "in_us", &u);
    goose__get_u64(msg, "active", &u);
    goose__get_bool(msg, "key", &b);
    goose__get_str(msg, "reason", str, sizeof str);
    goose__get_str(msg, "hash", str, sizeof str);
    goose__get_f64(msg, "hatch_rate", &d);
}

/* Every frame of the stream through every reader; 1 when the stream is
 * whole frames that each decode to a typed message, 0 when something in
 * it was refused (a length, a cut frame, a frame that does not decode). */
static int goose_fuzz_frames_ok(const uint8_t *data, size_t size)
{
    size_t off = 0;
    int ok = size > 0;
    while (size - off >= 4) {
        uint32_t n;
        if (goose__frame_length(data + off, GAGGLE_FRAME_MAX, &n) < 0 || size - off - 4 < n)
            return 0;
        msgpack_unpacked u;
        char type[32];
        msgpack_unpacked_init(&u);
        if (goose__frame_decode(data + off + 4, n, &u, type, sizeof type) == 0)
            fuzz_message(&u.data);
        else
            ok = 0; /* the next frame is still read */
        msgpack_unpacked_destroy(&u);
        off += 4 + (size_t)n;
    }
    return ok && off == size;
}

static int goose_fuzz_frames(const uint8_t *data, size_t size)
{
    goose_fuzz_frames_ok(data, size);
    return 0;
}

#endif
