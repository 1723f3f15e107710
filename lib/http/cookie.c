/* A virtual user's cookie jar, RFC 6265 section 5 without the public-suffix
 * list: Set-Cookie values are taken apart in place (nothing is allocated
 * unless the jar changes), the jar stays sorted in Cookie header order, and
 * the header is written straight from it.  No I/O, no locks: a jar belongs
 * to one user.
 *
 * Where the RFCs leave room or disagree, this jar does as browsers do:
 * - a pair without '=' ("abc") is a cookie with an empty name and is sent as
 *   its value alone (RFC 6265bis; RFC 6265 would drop it);
 * - a value holding a control character other than HTAB (NUL, a CR or LF
 *   inside the line) is ignored whole (RFC 6265bis);
 * - an attribute whose value is over 1024 bytes is ignored (RFC 6265bis);
 * - a cookie has expired once now >= its expiry time;
 * - a full jar first drops its expired cookies, then the oldest-created one.
 * Not done: the RFC 6265bis rules on Secure cookies set over http://, cookie
 * name prefixes, SameSite and the 400-day cap on expiry times. */
#include "http/cookie.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATTR_VALUE_MAX 1024
#define SESSION LLONG_MAX /* no Max-Age or Expires: lives as long as the jar */
#define EXPIRED LLONG_MIN /* Max-Age <= 0: the earliest time there is */

struct goose_cookie {
    char *text; /* name, value, domain (lowercase), path, back to back */
    size_t text_cap;
    size_t name_len, value_len, domain_len, path_len;
    long long expires;
    unsigned long long order; /* creation order, kept when replaced */
    unsigned char host_only, secure, http_only;
};

/* A piece of someone else's text. */
typedef struct span {
    const char *p;
    size_t n;
} span;

/* A Set-Cookie value taken apart, still pointing into the caller's strings. */
typedef struct parsed_cookie {
    span name, value, domain, path, default_path;
    long long expires; /* the one that counts, once settled */
    long long expires_attr, max_age_expires;
    int has_expires, has_max_age;
    int host_only, secure, http_only;
} parsed_cookie;

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static span trim(const char *p, size_t n)
{
    while (n && is_wsp(*p))
        p++, n--;
    while (n && is_wsp(p[n - 1]))
        n--;
    return (span){p, n};
}

static int same_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (to_lower(a[i]) != to_lower(b[i]))
            return 0;
    return 1;
}

static int span_eq(span a, span b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static int span_eq_nocase(span a, span b)
{
    return a.n == b.n && same_nocase(a.p, b.p, a.n);
}

static int span_is(span s, const char *word)
{
    return span_eq_nocase(s, (span){word, strlen(word)});
}

/* CTLs but HTAB. */
static int has_control(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 1;
    }
    return 0;
}

/* ---- Dates: the cookie-date algorithm of RFC 6265 section 5.1.1. ---- */

typedef struct cookie_date {
    int hms[3], day, month, year;
    int has_time, has_day, has_month, has_year;
} cookie_date;

static int is_date_delimiter(char ch)
{
    unsigned char c = (unsigned char)ch;
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
           (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* min to max digits, then the token's end or a non-digit: how many digits,
 * or 0 when the token does not start that way. */
static size_t lead_digits(const char *p, size_t n, size_t min, size_t max, int *v)
{
    size_t i = 0;
    *v = 0;
    while (i < n && i < max && is_digit(p[i]))
        *v = *v * 10 + (p[i++] - '0');
    if (i < min || (i < n && is_digit(p[i])))
        return 0;
    return i;
}

static int hms_time(const char *p, size_t n, int hms[3])
{
    size_t at = 0;
    for (int k = 0; k < 3; k++) {
        size_t used = lead_digits(p + at, n - at, 1, 2, &hms[k]);
        if (!used)
            return 0;
        at += used;
        if (k < 2 && (at >= n || p[at++] != ':'))
            return 0;
    }
    return 1;
}

static int month_of(const char *p, size_t n)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    for (int m = 0; n >= 3 && m < 12; m++)
        if (same_nocase(p, names + 3 * m, 3))
            return m;
    return -1;
}

/* Each token fills the first field it fits that is still missing. */
static void date_token(cookie_date *d, const char *p, size_t n)
{
    int v;
    if (!d->has_time && hms_time(p, n, d->hms))
        d->has_time = 1;
    else if (!d->has_day && lead_digits(p, n, 1, 2, &v))
        d->has_day = 1, d->day = v;
    else if (!d->has_month && (v = month_of(p, n)) >= 0)
        d->has_month = 1, d->month = v;
    else if (!d->has_year && lead_digits(p, n, 2, 4, &v))
        d->has_year = 1, d->year = v;
}

static int days_in_month(int year, int month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month] + (month == 1 && leap);
}

static int date_valid(cookie_date *d)
{
    if (!d->has_time || !d->has_day || !d->has_month || !d->has_year)
        return 0;
    if (d->year >= 70 && d->year <= 99)
        d->year += 1900;
    else if (d->year <= 69)
        d->year += 2000;
    return d->year >= 1601 && d->day >= 1 && d->day <= days_in_month(d->year, d->month) &&
           d->hms[0] <= 23 && d->hms[1] <= 59 && d->hms[2] <= 59;
}

/* Unix seconds, or -1 when the text is no cookie-date. */
static int parse_cookie_date(const char *p, size_t n, long long *out)
{
    cookie_date d = {0};
    size_t i = 0;
    while (i < n) {
        while (i < n && is_date_delimiter(p[i]))
            i++;
        size_t start = i;
        while (i < n && !is_date_delimiter(p[i]))
            i++;
        if (i > start)
            date_token(&d, p + start, i - start);
    }
    if (!date_valid(&d))
        return -1;
    struct tm tm = {.tm_year = d.year - 1900, .tm_mon = d.month, .tm_mday = d.day,
                    .tm_hour = d.hms[0], .tm_min = d.hms[1], .tm_sec = d.hms[2]};
    *out = (long long)timegm(&tm);
    return 0;
}

/* ---- Set-Cookie parsing: RFC 6265 sections 5.2 and 5.3. ---- */

/* "-"? DIGIT+, saturating; <= 0 means expire now. */
static int parse_max_age(span v, long long now, long long *out)
{
    int negative = v.n > 0 && v.p[0] == '-';
    long long delta = 0;
    if (v.n == (size_t)negative)
        return -1;
    for (size_t i = (size_t)negative; i < v.n; i++) {
        if (!is_digit(v.p[i]))
            return -1;
        int d = v.p[i] - '0';
        delta = delta > (LLONG_MAX - d) / 10 ? LLONG_MAX : delta * 10 + d;
    }
    if (negative || delta == 0)
        *out = EXPIRED;
    else
        *out = now > LLONG_MAX - delta ? LLONG_MAX : now + delta;
    return 0;
}

/* The request path without query or fragment; "/" when there is none. */
static span path_part(const char *path)
{
    if (!path || path[0] != '/')
        return (span){"/", 1};
    return (span){path, strcspn(path, "?#")};
}

/* Section 5.1.4: up to, not including, the last '/', or "/". */
static span default_path(const char *request_path)
{
    span p = path_part(request_path);
    size_t last = p.n - 1;
    while (last > 0 && p.p[last] != '/')
        last--;
    return last == 0 ? (span){"/", 1} : (span){p.p, last};
}

static int is_ip_address(span host)
{
    int all_digits_and_dots = 1;
    for (size_t i = 0; i < host.n; i++) {
        if (host.p[i] == ':')
            return 1; /* IPv6, given without brackets */
        if (!is_digit(host.p[i]) && host.p[i] != '.')
            all_digits_and_dots = 0;
    }
    return all_digits_and_dots;
}

/* Section 5.1.3. */
static int domain_match(span host, span domain)
{
    if (span_eq_nocase(host, domain))
        return 1;
    return domain.n > 0 && domain.n < host.n && host.p[host.n - domain.n - 1] == '.' &&
           same_nocase(host.p + host.n - domain.n, domain.p, domain.n) &&
           !is_ip_address(host);
}

/* Section 5.1.4. */
static int path_match(span request, span cookie)
{
    if (cookie.n > request.n || memcmp(request.p, cookie.p, cookie.n) != 0)
        return 0;
    return cookie.n == request.n || cookie.p[cookie.n - 1] == '/' || request.p[cookie.n] == '/';
}

/* Section 5.2.  The last of each attribute wins; unknown ones are skipped. */
static void take_attribute(parsed_cookie *c, span name, span value, long long now)
{
    long long t;
    if (value.n > ATTR_VALUE_MAX)
        return;
    if (span_is(name, "expires")) {
        if (parse_cookie_date(value.p, value.n, &t) == 0)
            c->expires_attr = t, c->has_expires = 1;
    } else if (span_is(name, "max-age")) {
        if (parse_max_age(value, now, &t) == 0)
            c->max_age_expires = t, c->has_max_age = 1;
    } else if (span_is(name, "domain")) {
        if (value.n == 0)
            return;
        if (value.p[0] == '.')
            value.p++, value.n--;
        c->domain = value; /* "." leaves it empty: host-only */
    } else if (span_is(name, "path")) {
        c->path = value.n && value.p[0] == '/' ? value : c->default_path;
    } else if (span_is(name, "secure")) {
        c->secure = 1;
    } else if (span_is(name, "httponly")) {
        c->http_only = 1;
    }
}

/* ";"-separated attributes after the name=value pair; p is at a ';' or end. */
static void take_attributes(parsed_cookie *c, const char *p, const char *end, long long now)
{
    while (p < end) {
        p++; /* the ';' */
        const char *next = memchr(p, ';', (size_t)(end - p));
        size_t n = (size_t)((next ? next : end) - p);
        const char *eq = memchr(p, '=', n);
        span name = trim(p, eq ? (size_t)(eq - p) : n);
        span value = eq ? trim(eq + 1, n - (size_t)(eq - p) - 1) : (span){p, 0};
        take_attribute(c, name, value, now);
        p = next ? next : end;
    }
}

/* name=value; without '=' the name is empty (RFC 6265bis). */
static int take_pair(parsed_cookie *c, const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);
    if (eq) {
        c->name = trim(p, (size_t)(eq - p));
        c->value = trim(eq + 1, n - (size_t)(eq - p) - 1);
    } else {
        c->name = (span){p, 0};
        c->value = trim(p, n);
    }
    if (c->name.n == 0 && c->value.n == 0)
        return -1;
    return c->name.n + c->value.n > GOOSE_COOKIE_PAIR_MAX ? -1 : 0;
}

/* Section 5.3 steps 3 to 6: expiry, then domain or host-only. */
static int settle(parsed_cookie *c, span host)
{
    c->expires = c->has_max_age ? c->max_age_expires : c->has_expires ? c->expires_attr : SESSION;
    if (c->domain.n > 0) {
        if (!domain_match(host, c->domain))
            return -1;
        c->host_only = 0;
    } else {
        c->domain = host;
        c->host_only = 1;
    }
    return 0;
}

/* -1: not a cookie this jar may keep. */
static int parse_set_cookie(parsed_cookie *c, const char *host, const char *request_path,
                            const char *p, size_t n, long long now)
{
    span h = {host, host ? strlen(host) : 0};
    *c = (parsed_cookie){.default_path = default_path(request_path)};
    c->path = c->default_path;
    while (n && is_wsp(*p))
        p++, n--;
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || is_wsp(p[n - 1])))
        n--;
    if (n == 0 || h.n == 0 || has_control(p, n))
        return -1;
    const char *semi = memchr(p, ';', n);
    if (take_pair(c, p, semi ? (size_t)(semi - p) : n) < 0)
        return -1;
    if (semi)
        take_attributes(c, semi, p + n, now);
    return settle(c, h);
}

/* ---- The jar. ---- */

static span name_of(const goose_cookie *c)
{
    return (span){c->text, c->name_len};
}

static span value_of(const goose_cookie *c)
{
    return (span){c->text + c->name_len, c->value_len};
}

static span domain_of(const goose_cookie *c)
{
    return (span){c->text + c->name_len + c->value_len, c->domain_len};
}

static span path_of(const goose_cookie *c)
{
    return (span){c->text + c->name_len + c->value_len + c->domain_len, c->path_len};
}

static size_t text_size(const parsed_cookie *pc)
{
    return pc->name.n + pc->value.n + pc->domain.n + pc->path.n;
}

/* Everything but text, text_cap and order. */
static void fill(goose_cookie *c, const parsed_cookie *pc)
{
    char *t = c->text;
    memcpy(t, pc->name.p, pc->name.n);
    t += pc->name.n;
    memcpy(t, pc->value.p, pc->value.n);
    t += pc->value.n;
    for (size_t i = 0; i < pc->domain.n; i++)
        *t++ = (char)to_lower(pc->domain.p[i]);
    memcpy(t, pc->path.p, pc->path.n);
    c->name_len = pc->name.n;
    c->value_len = pc->value.n;
    c->domain_len = pc->domain.n;
    c->path_len = pc->path.n;
    c->expires = pc->expires;
    c->host_only = (unsigned char)pc->host_only;
    c->secure = (unsigned char)pc->secure;
    c->http_only = (unsigned char)pc->http_only;
}

/* The index of the cookie with the same name, domain and path, or j->n. */
static size_t find_same(const goose_cookie_jar *j, const parsed_cookie *pc)
{
    size_t i;
    for (i = 0; i < j->n; i++) {
        const goose_cookie *c = &j->cookies[i];
        if (span_eq(name_of(c), pc->name) && span_eq(path_of(c), pc->path) &&
            span_eq_nocase(domain_of(c), pc->domain))
            break;
    }
    return i;
}

static void remove_at(goose_cookie_jar *j, size_t i)
{
    free(j->cookies[i].text);
    memmove(&j->cookies[i], &j->cookies[i + 1], (j->n - i - 1) * sizeof *j->cookies);
    j->n--;
}

static void drop_expired(goose_cookie_jar *j, long long now)
{
    size_t kept = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (j->cookies[i].expires <= now)
            free(j->cookies[i].text);
        else
            j->cookies[kept++] = j->cookies[i];
    }
    j->n = kept;
}

static void make_room(goose_cookie_jar *j, long long now)
{
    drop_expired(j, now);
    if (j->n < GOOSE_COOKIES_MAX)
        return;
    size_t oldest = 0;
    for (size_t i = 1; i < j->n; i++)
        if (j->cookies[i].order < j->cookies[oldest].order)
            oldest = i;
    remove_at(j, oldest);
}

static int grow(goose_cookie_jar *j)
{
    size_t cap = j->cap ? j->cap * 2 : 8;
    if (cap > GOOSE_COOKIES_MAX)
        cap = GOOSE_COOKIES_MAX;
    goose_cookie *c = realloc(j->cookies, cap * sizeof *c);
    if (!c)
        return -1;
    j->cookies = c;
    j->cap = cap;
    return 0;
}

/* After every cookie with a path as long or longer: the newest of those. */
static size_t sorted_position(const goose_cookie_jar *j, size_t path_len)
{
    size_t i = 0;
    while (i < j->n && j->cookies[i].path_len >= path_len)
        i++;
    return i;
}

static int insert(goose_cookie_jar *j, const parsed_cookie *pc, long long now)
{
    size_t size = text_size(pc);
    char *text = malloc(size);
    if (!text)
        return -1;
    if (j->n == GOOSE_COOKIES_MAX)
        make_room(j, now);
    else if (j->n == j->cap && grow(j) < 0)
        goto fail;
    size_t at = sorted_position(j, pc->path.n);
    memmove(&j->cookies[at + 1], &j->cookies[at], (j->n - at) * sizeof *j->cookies);
    goose_cookie *c = &j->cookies[at];
    *c = (goose_cookie){.text = text, .text_cap = size, .order = j->next_order++};
    fill(c, pc);
    j->n++;
    return 0;
fail:
    free(text);
    return -1;
}

/* Same name, domain and path: the path and so the place stay the same. */
static int replace(goose_cookie *c, const parsed_cookie *pc)
{
    size_t size = text_size(pc);
    if (size > c->text_cap) {
        char *text = malloc(size);
        if (!text)
            return -1;
        free(c->text);
        c->text = text;
        c->text_cap = size;
    }
    fill(c, pc);
    return 0;
}

void goose__cookies_init(goose_cookie_jar *j)
{
    j->cookies = NULL;
    j->n = 0;
    j->cap = 0;
    j->next_order = 0;
}

void goose__cookies_free(goose_cookie_jar *j)
{
    for (size_t i = 0; i < j->n; i++)
        free(j->cookies[i].text);
    free(j->cookies);
    goose__cookies_init(j);
}

int goose__cookies_store(goose_cookie_jar *j, const char *host, const char *request_path,
                         int secure, const char *value, size_t len, long long now)
{
    parsed_cookie pc;
    (void)secure; /* RFC 6265 lets http:// set a Secure cookie; it is only not sent back */
    if (parse_set_cookie(&pc, host, request_path, value, len, now) < 0)
        return 0;
    size_t i = find_same(j, &pc);
    if (pc.expires <= now) {
        if (i < j->n)
            remove_at(j, i);
        return 0;
    }
    if (i < j->n)
        return replace(&j->cookies[i], &pc);
    return insert(j, &pc, now);
}

static const char set_cookie[] = "set-cookie:";
#define SET_COOKIE_LEN (sizeof set_cookie - 1)

int goose__cookies_store_headers(goose_cookie_jar *j, const char *host, const char *request_path,
                                 int secure, const char *headers, size_t len, long long now)
{
    if (len == 0)
        return 0;
    const char *p = headers, *end = headers + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        if (n >= SET_COOKIE_LEN && same_nocase(p, set_cookie, SET_COOKIE_LEN) &&
            goose__cookies_store(j, host, request_path, secure, p + SET_COOKIE_LEN,
                                 n - SET_COOKIE_LEN, now) < 0)
            return -1;
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* Section 5.4 step 1. */
static int to_be_sent(const goose_cookie *c, span host, span path, int secure)
{
    if (c->secure && !secure)
        return 0;
    if (c->host_only ? !span_eq_nocase(host, domain_of(c)) : !domain_match(host, domain_of(c)))
        return 0;
    return path_match(path, path_of(c));
}

/* "; " when not first, then name=value, or the value alone for an empty name. */
static int append_pair(goose_buf *out, const goose_cookie *c, int first)
{
    if (goose__buf_reserve(out, 2 + c->name_len + 1 + c->value_len) < 0)
        return -1;
    if (!first)
        goose__buf_add(out, "; ", 2);
    if (c->name_len) {
        goose__buf_add(out, name_of(c).p, c->name_len);
        goose__buf_add(out, "=", 1);
    }
    goose__buf_add(out, value_of(c).p, c->value_len);
    return 0;
}

int goose__cookies_header(goose_cookie_jar *j, const char *host, const char *path,
                          int secure, long long now, goose_buf *out)
{
    if (j->n == 0)
        return 0;
    span h = {host, host ? strlen(host) : 0}, p = path_part(path);
    size_t start = out->len;
    int count = 0;
    drop_expired(j, now);
    for (size_t i = 0; i < j->n; i++) {
        if (!to_be_sent(&j->cookies[i], h, p, secure))
            continue;
        if (append_pair(out, &j->cookies[i], count == 0) < 0)
            goto fail;
        count++;
    }
    return count;
fail:
    out->len = start;
    if (out->data)
        out->data[start] = '\0';
    return -1;
}
