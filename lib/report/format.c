/* Numbers as the console and HTML reports print them. */
#include "report/report.h"

#include <stdio.h>
#include <string.h>

#include "report/format.h"

/* Integer ms from 10 ms up; below, two decimals so fast pages show. */
goose_numstr goose__fmt_ms(double us)
{
    goose_numstr n;
    double ms = us / 1000.0;
    snprintf(n.s, sizeof n.s, ms >= 10.0 ? "%.0f" : "%.2f", ms);
    return n;
}

goose_numstr goose__fmt_rate(uint64_t count, double seconds)
{
    goose_numstr n;
    snprintf(n.s, sizeof n.s, "%.2f", seconds > 0 ? (double)count / seconds : 0.0);
    return n;
}

/* "3 (1.2%)"; the share has no decimals when it is a whole number. */
goose_numstr goose__fmt_fails(uint64_t fail, uint64_t count)
{
    goose_numstr n;
    double pct = count ? 100.0 * (double)fail / (double)count : 0.0;
    char p[32];
    snprintf(p, sizeof p, "%.1f", pct);
    size_t len = strlen(p);
    if (len > 2 && strcmp(p + len - 2, ".0") == 0)
        p[len - 2] = '\0';
    snprintf(n.s, sizeof n.s, "%llu (%s%%)", (unsigned long long)fail, p);
    return n;
}

/* ", name N" or, with shares, ", name N (share%)"; no comma first. */
static void add_protocol(char *out, const char *name, uint64_t n, uint64_t count, int shares)
{
    size_t len = strlen(out);
    char num[48];
    if (shares)
        snprintf(num, sizeof num, "%s", goose__fmt_fails(n, count).s);
    else
        snprintf(num, sizeof num, "%llu", (unsigned long long)n);
    snprintf(out + len, GOOSE_FMT_PROTOCOLS - len, "%s%s %s", len ? ", " : "", name, num);
}

void goose__fmt_protocols(const uint64_t *protocols, uint64_t count, char *out)
{
    out[0] = '\0';
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++) {
        if (count && protocols[i] == count) {
            snprintf(out, GOOSE_FMT_PROTOCOLS, "%s", goose__protocol_names[i]);
            return;
        }
        if (protocols[i])
            add_protocol(out, goose__protocol_names[i], protocols[i], count, 0);
    }
    if (!out[0])
        snprintf(out, GOOSE_FMT_PROTOCOLS, "-");
}

void goose__fmt_protocol_shares(const uint64_t *protocols, uint64_t count, char *out)
{
    uint64_t answered = 0;
    out[0] = '\0';
    for (size_t i = 0; i < GOOSE_PROTOCOLS; i++) {
        answered += protocols[i];
        if (protocols[i])
            add_protocol(out, goose__protocol_names[i], protocols[i], count, 1);
    }
    if (count > answered)
        add_protocol(out, "no answer", count - answered, count, 1);
    if (!out[0])
        snprintf(out, GOOSE_FMT_PROTOCOLS, "-");
}

/* Seconds as "12.3s", "4m05s" or "1h02m03s". */
goose_numstr goose__fmt_secs(double s)
{
    goose_numstr n;
    if (!(s > 0))
        s = 0;
    if (s < 60) {
        snprintf(n.s, sizeof n.s, "%.1fs", s);
        return n;
    }
    unsigned long long t = (unsigned long long)(s + 0.5);
    if (t < 3600)
        snprintf(n.s, sizeof n.s, "%llum%02llus", t / 60, t % 60);
    else
        snprintf(n.s, sizeof n.s, "%lluh%02llum%02llus", t / 3600, t / 60 % 60, t % 60);
    return n;
}

size_t goose__load_facts(const goose_results *r, goose_fact out[4])
{
    const goose_load_info *l = &r->load;
    size_t n = 0;
    if (l->test_plan) {
        out[n].label = "Test plan";
        snprintf(out[n++].text, sizeof out->text, "%.180s", l->test_plan);
    }
    if (l->open_model) {
        uint64_t due, dropped;
        goose__stats_arrivals(&r->totals, &due, &dropped);
        out[n].label = l->arrival_plan ? "Arrival plan" : "Arrival rate";
        if (l->arrival_plan)
            snprintf(out[n++].text, sizeof out->text, "%.180s", l->arrival_plan);
        else
            snprintf(out[n++].text, sizeof out->text, "%g/s", l->arrival_rate);
        out[n].label = "Arrivals";
        snprintf(out[n++].text, sizeof out->text,
                 "%llu due, %llu started (%s/s), %llu dropped (no free user in the pool)",
                 (unsigned long long)due, (unsigned long long)(due - dropped),
                 goose__fmt_rate(due - dropped, r->duration_s).s, (unsigned long long)dropped);
    }
    if (l->throttle_rps > 0) {
        out[n].label = "Throttle";
        snprintf(out[n++].text, sizeof out->text, "%g requests/s", l->throttle_rps);
    }
    return n;
}

int goose__host_first(const goose_results *r, size_t i)
{
    const char *h = r->hosts[i];
    if (!h || !*h)
        return 0;
    for (size_t j = 0; j < i; j++)
        if (r->hosts[j] && strcmp(r->hosts[j], h) == 0)
            return 0;
    return 1;
}

int goose__fmt_folded(const goose_results *r, char *out, size_t size)
{
    out[0] = '\0';
    if (!r->names_folded && !r->errors_folded) {
        if (!r->tx_errors_folded)
            return 0;
        snprintf(out, size, "%s%llu transaction error texts past --max-request-names %zu are "
                 "counted under \"" GOOSE_OTHER_ERRORS "\"",
                 r->folded_exact || r->manager ? "" : "at least ",
                 (unsigned long long)r->tx_errors_folded, r->max_request_names);
        return 1;
    }
    /* not exact: past what a process tells apart (a lower bound), or a
       Gaggle's sum over its Workers (a name two folded counts twice) */
    int gaggle = !r->folded_exact && r->manager;
    int n = snprintf(out, size,
                     "%s%llu request names%s past --max-request-names %zu are counted under "
                     "\"" GOOSE_OTHER_NAME "\" (name dynamic paths with goose_request_set_name)",
                     r->folded_exact || gaggle ? "" : "at least ",
                     (unsigned long long)r->names_folded,
                     gaggle ? " (added up over the Workers)" : "", r->max_request_names);
    if (r->errors_folded && n > 0 && (size_t)n < size) {
        int m = snprintf(out + n, size - (size_t)n, "; %llu error texts past it under \""
                         GOOSE_OTHER_ERRORS "\"", (unsigned long long)r->errors_folded);
        n = m > 0 ? n + m : n;
    }
    if (r->tx_errors_folded && n > 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, "; %llu transaction error texts past it under \""
                 GOOSE_OTHER_ERRORS "\"", (unsigned long long)r->tx_errors_folded);
    return 1;
}

int goose__lost_text(const goose_results *r, char *out, size_t len)
{
    uint64_t n = goose__results_lost(r);
    if (len)
        out[0] = '\0';
    if (!n)
        return 0;
    snprintf(out, len,
             "metrics incomplete: %llu samples lost (out of memory): %llu requests missing "
             "from the totals, %llu status codes, errors or phases, %llu requests from the "
             "time series",
             (unsigned long long)n, (unsigned long long)r->totals.lost,
             (unsigned long long)r->totals.lost_details, (unsigned long long)r->series_lost);
    return 1;
}

const char *goose__certs_text(const goose_results *r)
{
    return r->accept_invalid_certs ? "Certificates NOT checked: the certificates and host "
                                     "names of https:// targets were accepted unchecked "
                                     "(--accept-invalid-certs)."
                                   : NULL;
}

int goose__seed_text(const goose_results *r, char *out, size_t len)
{
    out[0] = '\0';
    if (!r->has_seed)
        return 0;
    unsigned long long seed = (unsigned long long)r->seed;
    if (r->seed_drawn)
        snprintf(out, len, "%llu (drawn; --seed %llu repeats this run)", seed, seed);
    else
        snprintf(out, len, "%llu (--seed)", seed);
    return 1;
}
