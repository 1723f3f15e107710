/* Reading the numbers people write, and telling a slip of the keyboard
 * from another word. */
#ifndef GOOSE_UTIL_PARSE_H
#define GOOSE_UTIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Digits with at most one '.': returns the end, or NULL. */
const char *goose__parse_decimal(const char *s, double *out);
/* A bare number is bare_us microseconds; goose__parse_duration_us: seconds. */
int goose__parse_duration(const char *s, double bare_us, uint64_t *out);
int goose__parse_duration_us(const char *s, uint64_t *out);
/* Edits between two names (a swap of two letters is one edit); SIZE_MAX
 * past 63 bytes.  A name is a slip of another within goose__slip_limit()
 * edits: one in three letters, two at most. */
size_t goose__edit_distance(const char *a, const char *b);
size_t goose__slip_limit(const char *name);

#endif
