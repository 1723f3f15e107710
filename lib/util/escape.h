/* Text for machines: a JSON string and a CSV field (RFC 4180). */
#ifndef GOOSE_UTIL_ESCAPE_H
#define GOOSE_UTIL_ESCAPE_H

#include "util/buf.h"

/* Appends s as a quoted JSON string (control bytes as \u00XX). */
int goose__buf_json_str(goose_buf *b, const char *s);
/* Appends s as one CSV field, quoted only when it must be. */
int goose__buf_csv_field(goose_buf *b, const char *s);

#endif
