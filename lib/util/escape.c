#include "util/escape.h"

#include <stdio.h>
#include <string.h>

int goose__buf_json_str(goose_buf *b, const char *s)
{
    int rc = goose__buf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc |= goose__buf_add(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            rc |= goose__buf_printf(b, "\\u%04x", c);
        } else {
            rc |= goose__buf_add(b, s, 1);
        }
    }
    return rc | goose__buf_add(b, "\"", 1);
}

int goose__buf_csv_field(goose_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return goose__buf_adds(b, s);
    int rc = goose__buf_add(b, "\"", 1);
    for (; *s; s++)
        rc |= *s == '"' ? goose__buf_add(b, "\"\"", 2) : goose__buf_add(b, s, 1);
    return rc | goose__buf_add(b, "\"", 1);
}
