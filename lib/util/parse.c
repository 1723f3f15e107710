/* Reading the numbers people write: decimals and Goose's durations; and
 * telling a slip of the keyboard ("run_tme") from another word. */
#include "util/parse.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A plain decimal: digits with at most one '.', no sign or exponent. */
const char *goose__parse_decimal(const char *s, double *out)
{
    const char *p = s;
    int digits = 0, dots = 0;
    for (; isdigit((unsigned char)*p) || *p == '.'; p++) {
        digits += *p != '.';
        dots += *p == '.';
    }
    if (!digits || dots > 1 || p - s > 30)
        return NULL;
    char tmp[32];
    memcpy(tmp, s, (size_t)(p - s));
    tmp[p - s] = '\0';
    *out = strtod(tmp, NULL);
    return p;
}

/* Goose's durations: "90", "30s", "20m", "3h", "1h30m", "1.5s", "250ms".
 * A bare number means bare_us microseconds: seconds for options,
 * milliseconds for the response times of thresholds. */
int goose__parse_duration(const char *s, double bare_us, uint64_t *out)
{
    if (!s || !*s)
        return -1;
    double total = 0;
    int parts = 0;
    while (*s) {
        double v;
        const char *end = goose__parse_decimal(s, &v);
        if (!end)
            return -1;
        double unit;
        if (strncmp(end, "ms", 2) == 0) {
            unit = 1e3;
            end += 2;
        } else if (*end == 'h' || *end == 'm' || *end == 's') {
            unit = *end == 'h' ? 3600e6 : *end == 'm' ? 60e6 : 1e6;
            end++;
        } else if (*end == '\0' && parts == 0) {
            unit = bare_us;
        } else {
            return -1;
        }
        total += v * unit;
        parts++;
        s = end;
    }
    if (total > 1e6 * 86400.0 * 366 * 10)
        return -1;
    *out = (uint64_t)llround(total);
    return 0;
}

int goose__parse_duration_us(const char *s, uint64_t *out)
{
    return goose__parse_duration(s, 1e6, out);
}

size_t goose__edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[64][64];
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

size_t goose__slip_limit(const char *name)
{
    size_t third = strlen(name) / 3;
    return third < 1 ? 1 : third > 2 ? 2 : third;
}
