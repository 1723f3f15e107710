#include "gaggle/wire.h"

#include <string.h>

void goose__pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void goose__out_begin(gaggle_out *o, const char *type, size_t nfields)
{
    static const char room[4] = {0};
    msgpack_sbuffer_init(&o->sb);
    msgpack_packer_init(&o->pk, &o->sb, msgpack_sbuffer_write);
    msgpack_sbuffer_write(&o->sb, room, sizeof room); /* the length, later */
    msgpack_pack_map(&o->pk, nfields + 1);
    goose__out_str(o, "type", type);
}

void goose__out_key(gaggle_out *o, const char *key)
{
    goose__pack_str(&o->pk, key);
}

void goose__out_str(gaggle_out *o, const char *key, const char *value)
{
    goose__out_key(o, key);
    goose__pack_str(&o->pk, value);
}

void goose__out_u64(gaggle_out *o, const char *key, uint64_t value)
{
    goose__out_key(o, key);
    msgpack_pack_uint64(&o->pk, value);
}

void goose__out_f64(gaggle_out *o, const char *key, double value)
{
    goose__out_key(o, key);
    msgpack_pack_double(&o->pk, value);
}

void goose__out_bool(gaggle_out *o, const char *key, int value)
{
    goose__out_key(o, key);
    if (value)
        msgpack_pack_true(&o->pk);
    else
        msgpack_pack_false(&o->pk);
}

void goose__out_finish(gaggle_out *o)
{
    uint32_t n = (uint32_t)(o->sb.size - 4);
    unsigned char *p = (unsigned char *)o->sb.data;
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
}

void goose__out_free(gaggle_out *o)
{
    msgpack_sbuffer_destroy(&o->sb);
}

/* ---- checking untrusted bytes ---- */

typedef struct scan {
    const unsigned char *p;
    size_t len;
    size_t pos;
} scan;

static int take(scan *s, size_t n, uint64_t *value)
{
    if (s->len - s->pos < n)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | s->p[s->pos + i];
    s->pos += n;
    if (value)
        *value = v;
    return 0;
}

static int skip(scan *s, uint64_t n)
{
    if (s->len - s->pos < n)
        return -1;
    s->pos += (size_t)n;
    return 0;
}

/* Reads one object header; *children is how many objects it contains. */
static int header(scan *s, uint64_t *children, int *is_map)
{
    uint64_t b, n;
    *children = 0;
    *is_map = 0;
    if (take(s, 1, &b) < 0)
        return -1;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if ((b & 0xf0) == 0x80) {
        *is_map = 1;
        *children = (b & 0x0f) * 2;
        return 0;
    }
    if ((b & 0xf0) == 0x90) {
        *children = b & 0x0f;
        return 0;
    }
    if ((b & 0xe0) == 0xa0)
        return skip(s, b & 0x1f);
    switch (b) {
    case 0xcc: case 0xd0: return skip(s, 1);
    case 0xcd: case 0xd1: return skip(s, 2);
    case 0xca: case 0xce: case 0xd2: return skip(s, 4);
    case 0xcb: case 0xcf: case 0xd3: return skip(s, 8);
    case 0xc4: case 0xd9: return take(s, 1, &n) < 0 ? -1 : skip(s, n);
    case 0xc5: case 0xda: return take(s, 2, &n) < 0 ? -1 : skip(s, n);
    case 0xc6: case 0xdb: return take(s, 4, &n) < 0 ? -1 : skip(s, n);
    case 0xdc: return take(s, 2, children);
    case 0xdd: return take(s, 4, children);
    case 0xde: *is_map = 1; if (take(s, 2, &n) < 0) return -1; *children = n * 2; return 0;
    case 0xdf: *is_map = 1; if (take(s, 4, &n) < 0) return -1; *children = n * 2; return 0;
    }
    return -1; /* ext types and the reserved byte are not part of the protocol */
}

int goose__wire_check(const unsigned char *p, size_t len)
{
    scan s = {p, len, 0};
    uint64_t pending[GAGGLE_MAX_DEPTH + 1]; /* objects left per level */
    int depth = 0, is_map;
    uint64_t children;
    if (len == 0 || !((p[0] & 0xf0) == 0x80 || p[0] == 0xde || p[0] == 0xdf))
        return -1; /* a frame is a map */
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (header(&s, &children, &is_map) < 0)
            return -1;
        if (children == 0)
            continue;
        /* every element takes at least one byte */
        if (children > s.len - s.pos || depth == GAGGLE_MAX_DEPTH)
            return -1;
        pending[++depth] = children;
    }
    return s.pos == len ? 0 : -1;
}

/* ---- reading maps ---- */

static int key_is(const msgpack_object *k, const char *key)
{
    size_t n = strlen(key);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, key, n) == 0;
}

const msgpack_object *goose__map_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++)
        if (key_is(&map->via.map.ptr[i].key, key))
            return &map->via.map.ptr[i].val;
    return NULL;
}

/* Strings must hold no NUL byte: they become C strings. */
int goose__obj_str(const msgpack_object *o, char *out, size_t cap)
{
    if (!o || o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap ||
        memchr(o->via.str.ptr, '\0', o->via.str.size))
        return -1;
    memcpy(out, o->via.str.ptr, o->via.str.size);
    out[o->via.str.size] = '\0';
    return 0;
}

int goose__get_str(const msgpack_object *map, const char *key, char *out,
                   size_t cap)
{
    return goose__obj_str(goose__map_get(map, key), out, cap);
}

int goose__get_u64(const msgpack_object *map, const char *key, uint64_t *out)
{
    const msgpack_object *o = goose__map_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *out = o->via.u64;
    return 0;
}

int goose__get_f64(const msgpack_object *map, const char *key, double *out)
{
    const msgpack_object *o = goose__map_get(map, key);
    if (o && o->type == MSGPACK_OBJECT_FLOAT64)
        *out = o->via.f64;
    else if (o && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *out = (double)o->via.u64;
    else
        return -1;
    return 0;
}

int goose__get_bool(const msgpack_object *map, const char *key, int *out)
{
    const msgpack_object *o = goose__map_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
        return -1;
    *out = o->via.boolean;
    return 0;
}

/* ---- frames ---- */

int goose__frame_length(const unsigned char head[4], uint32_t max, uint32_t *n)
{
    *n = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 | (uint32_t)head[2] << 8 | head[3];
    if (head[0] == 0x16 && head[1] == 0x03)
        return -2; /* a TLS handshake record, not a length */
    return *n == 0 || *n > max ? -1 : 0;
}

int goose__frame_decode(const unsigned char *p, size_t n, msgpack_unpacked *u,
                        char *type, size_t type_len)
{
    size_t off = 0;
    if (goose__wire_check(p, n) < 0 ||
        msgpack_unpack_next(u, (const char *)p, n, &off) != MSGPACK_UNPACK_SUCCESS)
        return -1;
    return goose__get_str(&u->data, "type", type, type_len);
}
