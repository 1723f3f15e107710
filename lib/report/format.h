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
/* A request row's protocols (GOOSE_PROTOCOLS counts) for a table cell:
 * the name alone when every request of the row was answered over it, else
 * each protocol seen with its requests ("HTTP/1.1 10, HTTP/2 990"); "-"
 * when none was answered.  out takes GOOSE_FMT_PROTOCOLS bytes. */
#define GOOSE_FMT_PROTOCOLS 192
void goose__fmt_protocols(const uint64_t *protocols, uint64_t count, char *out);
/* The same for the overview: each with its share of every request, and
 * the requests no answer came to ("HTTP/1.1 990 (99%), no answer 10
 * (1%)"); "-" when there were no requests. */
void goose__fmt_protocol_shares(const uint64_t *protocols, uint64_t count, char *out);

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
/* The run's seed and how to repeat it ("42 (drawn; --seed 42 repeats
 * this run)"), for every report; 0 and "" for results of no run. */
int goose__seed_text(const struct goose_results *r, char *out, size_t len);

#endif
