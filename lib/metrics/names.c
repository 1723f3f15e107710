/* Admitted keys are kept whole (a key is method, name and, for errors, the
 * text, joined by NULs) in an open-addressing table; folded keys only as
 * 64-bit hashes, to count them without keeping them. */
#include "metrics/names.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLES 3

typedef struct key_set {
    uint64_t *hashes; /* 0: free (hash values are made odd) */
    char **keys;      /* NULL for a set of hashes only */
    size_t *lens;     /* of the keys, their last NUL not counted */
    size_t n, cap;    /* cap: a power of two, kept at most half full */
} key_set;

typedef struct kind_sets {
    key_set admitted;
    key_set folded;
    uint64_t nfolded; /* distinct; stops at GOOSE_NAMES_TRACK, as folded.n */
} kind_sets;

struct goose_names {
    pthread_mutex_t lock;
    size_t max;
    kind_sets kinds[GOOSE_NAMES_KINDS];
    char *examples[EXAMPLES];
    size_t nexamples;
    int warned;
};

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    return h | 1;
}

/* The slot of hash (and key, when the set keeps keys): its own, or the
 * free one where it would go. */
static size_t slot_of(const key_set *s, uint64_t h, const char *key, size_t len)
{
    size_t mask = s->cap - 1;
    for (size_t i = (size_t)(h >> 1) & mask;; i = (i + 1) & mask) { /* bit 0 is always 1 */
        if (s->hashes[i] == 0)
            return i;
        if (s->hashes[i] == h &&
            (!s->keys || (s->lens[i] == len && memcmp(s->keys[i], key, len) == 0)))
            return i;
    }
}

static int set_grow(key_set *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    key_set g = {calloc(cap, sizeof *g.hashes), NULL, NULL, s->n, cap};
    if (!g.hashes || (s->keys && (!(g.keys = calloc(cap, sizeof *g.keys)) ||
                                  !(g.lens = calloc(cap, sizeof *g.lens))))) {
        free(g.hashes);
        free(g.keys);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->hashes[i])
            continue;
        size_t j = slot_of(&g, s->hashes[i], NULL, 0); /* all distinct: first free */
        g.hashes[j] = s->hashes[i];
        if (g.keys) {
            g.keys[j] = s->keys[i];
            g.lens[j] = s->lens[i];
        }
    }
    free(s->hashes);
    free(s->keys);
    free(s->lens);
    *s = g;
    return 0;
}

static void set_free(key_set *s)
{
    for (size_t i = 0; s->keys && i < s->cap; i++)
        free(s->keys[i]);
    free(s->hashes);
    free(s->keys);
    free(s->lens);
    memset(s, 0, sizeof *s);
}

goose_names *goose__names_new(size_t max)
{
    goose_names *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    pthread_mutex_init(&n->lock, NULL);
    n->max = max ? max : 1;
    for (int k = 0; k < GOOSE_NAMES_KINDS; k++) {
        key_set *a = &n->kinds[k].admitted;
        a->cap = 64;
        a->hashes = calloc(a->cap, sizeof *a->hashes);
        a->keys = calloc(a->cap, sizeof *a->keys);
        a->lens = calloc(a->cap, sizeof *a->lens);
        if (!a->hashes || !a->keys || !a->lens) {
            goose__names_free(n);
            return NULL;
        }
    }
    return n;
}

void goose__names_free(goose_names *n)
{
    if (!n)
        return;
    for (int k = 0; k < GOOSE_NAMES_KINDS; k++) {
        set_free(&n->kinds[k].admitted);
        set_free(&n->kinds[k].folded);
    }
    for (size_t i = 0; i < n->nexamples; i++)
        free(n->examples[i]);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

/* method NUL name [NUL error] NUL, into a stack buffer when it fits. */
static char *join(char *buf, size_t size, const char *method, const char *name,
                  const char *error, size_t *len)
{
    size_t a = strlen(method), b = strlen(name), c = error ? strlen(error) + 1 : 0;
    *len = a + 1 + b + c;
    char *k = *len < size ? buf : malloc(*len + 1);
    if (!k)
        return NULL;
    memcpy(k, method, a + 1);
    memcpy(k + a + 1, name, b + 1);
    if (error)
        memcpy(k + a + 1 + b + 1, error, c);
    return k;
}

static void keep_example(goose_names *n, const char *method, const char *name)
{
    if (n->nexamples == EXAMPLES)
        return;
    size_t len = strlen(method) + 1 + strlen(name) + 1;
    char *e = malloc(len);
    if (!e)
        return;
    snprintf(e, len, "%s %s", method, name);
    n->examples[n->nexamples++] = e;
}

/* A folded key, counted once. */
static int count_fold(goose_names *n, kind_sets *ks, uint64_t h, goose_names_kind kind,
                      const char *method, const char *name)
{
    key_set *f = &ks->folded;
    if (f->n >= GOOSE_NAMES_TRACK) /* no longer told apart: a lower bound */
        return 0;
    if ((f->n + 1) * 2 > f->cap && set_grow(f) < 0)
        return -1;
    size_t i = slot_of(f, h, NULL, 0);
    if (f->hashes[i])
        return 0;
    f->hashes[i] = h;
    f->n++;
    ks->nfolded++;
    if (kind == GOOSE_NAMES_REQUESTS)
        keep_example(n, method, name);
    return 0;
}

static int admit_locked(goose_names *n, goose_names_kind kind, const char *key,
                        size_t len, const char *method, const char *name)
{
    kind_sets *ks = &n->kinds[kind];
    key_set *a = &ks->admitted;
    uint64_t h = hash_key(key, len);
    size_t i = slot_of(a, h, key, len);
    if (a->hashes[i])
        return 1;
    if (a->n >= n->max)
        return count_fold(n, ks, h, kind, method, name) < 0 ? -1 : 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, key, len + 1);
    if ((a->n + 1) * 2 > a->cap) {
        if (set_grow(a) < 0) {
            free(copy);
            return -1;
        }
        i = slot_of(a, h, key, len);
    }
    a->hashes[i] = h;
    a->keys[i] = copy;
    a->lens[i] = len;
    a->n++;
    return 1;
}

int goose__names_admit(goose_names *n, goose_names_kind kind, const char *method,
                       const char *name, const char *error)
{
    char buf[512];
    size_t len;
    char *key = join(buf, sizeof buf, method, name, kind != GOOSE_NAMES_REQUESTS ? error : NULL,
                     &len);
    if (!key)
        return -1;
    pthread_mutex_lock(&n->lock);
    int rc = admit_locked(n, kind, key, len, method, name);
    pthread_mutex_unlock(&n->lock);
    if (key != buf)
        free(key);
    return rc;
}

size_t goose__names_max(const goose_names *n)
{
    return n->max;
}

uint64_t goose__names_folded(goose_names *n, goose_names_kind kind, int *exact)
{
    pthread_mutex_lock(&n->lock);
    uint64_t v = n->kinds[kind].nfolded;
    if (exact && n->kinds[kind].folded.n >= GOOSE_NAMES_TRACK)
        *exact = 0;
    pthread_mutex_unlock(&n->lock);
    return v;
}

int goose__names_warning_due(goose_names *n, char *out, size_t size)
{
    int due = 0;
    pthread_mutex_lock(&n->lock);
    if (!n->warned && n->nexamples) {
        n->warned = due = 1;
        size_t used = 0;
        out[0] = '\0';
        for (size_t i = 0; i < n->nexamples && used < size; i++) {
            int w = snprintf(out + used, size - used, "%s%s", i ? ", " : "", n->examples[i]);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    pthread_mutex_unlock(&n->lock);
    return due;
}
