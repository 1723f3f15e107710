/* Numbers as the console and HTML reports print them: short strings
 * returned by value. */
#ifndef GOOSE_REPORT_FORMAT_H
#define GOOSE_REPORT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

struct goose_results;

typedef struct goose_numstr {
    char s[48];
} goose_numstr;

/* Integer ms from 10 ms up; below, two decimals so fast pages show. */
goose_numstr goose__fmt_ms(double us);
goose_numstr goose__fmt_rate(uint64_t count, double seconds);
/* "3 (1.2%)"; the share has no decimals when it is a whole number. */
goose_numstr goose__fmt_fails(uint64_t fail, uint64_t count);
/* Seconds as "12.3s", "4m05s" or "1h02m03s". */
goose_numstr goose__fmt_secs(double s);

/* How the load was shaped (test plan, arrivals, throttle), as label and
 * text pairs every report shows; returns how many (at most 4). */
typedef struct goose_fact {
    const char *label;
    char text[200];
} goose_fact;

/* 1 when scenario i's host is set and no earlier scenario has it:
 * scenarios often share a host, which the reports list once. */
int goose__host_first(const struct goose_results *r, size_t i);

size_t goose__load_facts(const struct goose_results *r, goose_fact out[4]);

/* The sentence every report has when request names (or error texts)
 * folded past --max-request-names; 0 and an empty string when none did. */
int goose__fmt_folded(const struct goose_results *r, char *out, size_t size);
/* "metrics incomplete: N samples lost (...)" into out, when the results
 * miss samples (out of memory); 0 and "" when they are complete. */
int goose__lost_text(const struct goose_results *r, char *out, size_t len);
/* The sentence every report has when the run checked no certificate
 * (--accept-invalid-certs); NULL when it checked them. */
const char *goose__certs_text(const struct goose_results *r);

#endif
