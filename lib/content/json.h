/* JSON bodies read by jansson, members found by RFC 6901 pointers.  A
 * document is parsed once and answers every pointer after that. */
#ifndef GOOSE_CONTENT_JSON_H
#define GOOSE_CONTENT_JSON_H

#include <stddef.h>

typedef struct goose_json goose_json;

/* Parses body as JSON text (any value at the top, RFC 8259); NULL when it
 * is not JSON or out of memory. */
goose_json *goose__json_parse(const char *body, size_t len);
void goose__json_free(goose_json *doc);
/* 1 when text[0..len) is JSON text (any value at the top, an integer
 * past 64 bits too, "\u0000" in a string too), else 0. */
int goose__json_valid(const char *text, size_t len);
/* The member at pointer ("" the whole document, "/a/0/b"; ~0 is ~ and
 * ~1 is /): a string as its text, a number, true, false or null as its
 * JSON text, an object or array as compact JSON with its keys in
 * document order.  NULL when nothing is there or the pointer is not
 * RFC 6901 (not starting with /, a ~ not followed by 0 or 1, an index
 * with a leading zero, "-").  Owned by doc. */
const char *goose__json_pointer(goose_json *doc, const char *pointer);

#endif
