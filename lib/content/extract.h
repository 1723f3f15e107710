/* Patterns (PCRE2, 8-bit) matched against bodies, compiled once per
 * engine thread and kept in a small per-thread cache. */
#ifndef GOOSE_CONTENT_EXTRACT_H
#define GOOSE_CONTENT_EXTRACT_H

#include <stddef.h>

/* Patterns a thread keeps compiled; the least recently used one goes
 * when another comes. */
#define GOOSE_EXTRACT_CACHED 32

/* The first match of pattern in body[0..len): capture group 1 when the
 * pattern has one, else the whole match, malloc'd in *out (NUL-terminated
 * after the matched bytes).  1: found; 0: no match, or group 1 did not
 * take part in the match (*out NULL); -1: the pattern does not compile
 * or the match failed (a limit), err says why; -2: out of memory. */
int goose__extract(const char *body, size_t len, const char *pattern, char **out, char *err,
                   size_t errlen);
/* Frees this thread's cache (the engine's threads free theirs when they
 * end; any thread may call it). */
void goose__extract_forget(void);

#endif
