/* The Gaggle wire format: each frame is a 4-byte big-endian length and one
 * msgpack map of that many bytes, with a "type" key.  See gaggle(7). */
#ifndef GOOSE_GAGGLE_WIRE_H
#define GOOSE_GAGGLE_WIRE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/shape.h"
#include "metrics/stats.h"

#define GAGGLE_PROTOCOL_VERSION 9 /* 5: stop timeout, request-name bound, hatch
                                     in the series, lost metrics; 6: the
                                     protocols of each request key, the
                                     targets' TLS (CA, checks) and HTTP
                                     version in the welcome; 7: the seed
                                     and the scheduler in the welcome; 8:
                                     the data sets in the welcome and
                                     their rows in "rows" frames after
                                     it, "test_data" (test_start's data,
                                     once, before "start"); 9: "idle"
                                     (a Manager that stays up keeps the
                                     Worker for its next test), "retry"
                                     in "reject" */
/* A proven peer's frames: test_start's data (GOOSE_TEST_DATA_MAX, 16 MiB)
 * and the map around it fit. */
#define GAGGLE_FRAME_MAX (16u * 1024 * 1024 + 64u * 1024)
#define GAGGLE_MAX_DEPTH 8

/* A message being written: a map whose size is given up front. */
typedef struct gaggle_out {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} gaggle_out;

void goose__out_begin(gaggle_out *o, const char *type, size_t nfields);
void goose__out_key(gaggle_out *o, const char *key);
void goose__out_str(gaggle_out *o, const char *key, const char *value);
void goose__out_u64(gaggle_out *o, const char *key, uint64_t value);
void goose__out_f64(gaggle_out *o, const char *key, double value);
void goose__out_bool(gaggle_out *o, const char *key, int value);
void goose__pack_str(msgpack_packer *pk, const char *s);
/* Fills in the frame's length; the frame is o->sb.data, o->sb.size. */
void goose__out_finish(gaggle_out *o);
void goose__out_free(gaggle_out *o);

/* 0 when bytes hold exactly one well-formed msgpack map whose containers
 * claim no more elements than bytes remain and nest at most
 * GAGGLE_MAX_DEPTH deep: only then is it handed to msgpack's unpacker,
 * which would otherwise allocate what a hostile length claims. */
int goose__wire_check(const unsigned char *p, size_t len);

/* A frame's length from its first four bytes: 0, -1 when zero or over max,
 * -2 when the bytes are a TLS record (a TLS peer talking to plaintext). */
int goose__frame_length(const unsigned char head[4], uint32_t max, uint32_t *n);
/* Checks and unpacks one frame's map into u (initialised by the caller)
 * and reads its "type"; -1 when malformed. */
int goose__frame_decode(const unsigned char *p, size_t n, msgpack_unpacked *u,
                        char *type, size_t type_len);

const msgpack_object *goose__map_get(const msgpack_object *map, const char *key);
/* Each returns 0, or -1 when the key is missing or of another type. */
int goose__get_str(const msgpack_object *map, const char *key, char *out,
                   size_t cap);
int goose__get_u64(const msgpack_object *map, const char *key, uint64_t *out);
int goose__get_f64(const msgpack_object *map, const char *key, double *out);
int goose__get_bool(const msgpack_object *map, const char *key, int *out);
int goose__obj_str(const msgpack_object *o, char *out, size_t cap);

/* Metrics deltas: a goose_stats as a msgpack map (size does not grow with
 * the number of requests). */
void goose__pack_stats(msgpack_packer *pk, const goose_stats *s);
/* Into s (initialised, empty): 0, -1 when malformed or out of range, or
 * GOOSE_UNPACK_NOMEM when this side ran out of memory taking it in (then
 * its requests are lost, not the peer). */
#define GOOSE_UNPACK_NOMEM (-2)
int goose__unpack_stats(const msgpack_object *o, goose_stats *s);

/* A level over time; unpacking checks every step (at most
 * GAGGLE_STEPS_MAX, levels up to GAGGLE_LEVEL_MAX). */
#define GAGGLE_STEPS_MAX 10000
#define GAGGLE_LEVEL_MAX 1e8
void goose__pack_shape(msgpack_packer *pk, const goose_shape *s);
int goose__unpack_shape(const msgpack_object *o, goose_shape *s);

#endif
