/* The bound on request keys and error texts (--max-request-names): one
 * registry per process side (an engine's threads, or a collector's shards)
 * admits the first max distinct keys of each kind; a later one folds into
 * the (other) row of its method, or the (other errors) row of its request
 * (or transaction).
 * Shared by threads: a mutex serializes it, and it is only asked when a
 * shard meets a key it does not hold yet. */
#ifndef GOOSE_METRICS_NAMES_H
#define GOOSE_METRICS_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define GOOSE_OTHER_NAME "(other)"
#define GOOSE_OTHER_ERRORS "(other errors)"
#define GOOSE_MAX_REQUEST_NAMES 2000 /* the default */
/* Distinct folded keys counted exactly up to this many; a lower bound past it. */
#define GOOSE_NAMES_TRACK (1u << 20)

/* GOOSE_NAMES_TX_ERRORS: the reasons of a transaction's failures (its id
 * as the name, "" as the method), bounded like a request's error texts. */
typedef enum { GOOSE_NAMES_REQUESTS, GOOSE_NAMES_ERRORS, GOOSE_NAMES_TX_ERRORS } goose_names_kind;
#define GOOSE_NAMES_KINDS 3

typedef struct goose_names goose_names;

/* NULL when out of memory; max >= 1. */
goose_names *goose__names_new(size_t max);
void goose__names_free(goose_names *n);
/* 1 when the key keeps its own row (admitted now or before), 0 when it
 * folds, -1 when out of memory.  error is NULL for a request key. */
int goose__names_admit(goose_names *n, goose_names_kind kind, const char *method,
                       const char *name, const char *error);
size_t goose__names_max(const goose_names *n);
/* Distinct keys of a kind folded so far; *exact (when not NULL) is set to
 * 0 once more than GOOSE_NAMES_TRACK folded: the count is a lower bound. */
uint64_t goose__names_folded(goose_names *n, goose_names_kind kind, int *exact);
/* Once: 1 and up to 3 of the first folded request keys ("GET /a/1",
 * "GET /a/2", ...) joined by ", " into out, when keys have folded and this
 * was not asked before; 0 otherwise. */
int goose__names_warning_due(goose_names *n, char *out, size_t size);

#endif
