/* URLs as the transports and the cookie jar need them: split in place
 * (url.h), and turned into the own client's origins (http and https),
 * addresses known without DNS (IP literals, localhost, --resolve entries;
 * h1.h).
 * Whatever needs more goes to libcurl. */
#include "http/h1.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t scheme_len(const char *url, int *secure)
{
    if (strncasecmp(url, "http://", 7) == 0) {
        *secure = 0;
        return 7;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        *secure = 1;
        return 8;
    }
    return 0;
}

int goose__url_is_absolute(const char *url)
{
    int secure;
    return scheme_len(url, &secure) > 0;
}

static int parse_port(const char *s, size_t len, unsigned *port)
{
    unsigned n = 0;
    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        n = n * 10 + (unsigned)(s[i] - '0');
    }
    if (n == 0 || n > 65535)
        return -1;
    *port = n;
    return 0;
}

/* host[:port] or [v6][:port], after any user info. */
static int split_authority(const char *a, size_t len, goose_url_parts *out)
{
    const char *at = memchr(a, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    const char *port = NULL;
    if (len && a[0] == '[') {
        const char *close = memchr(a, ']', len);
        if (!close)
            return -1;
        out->host = a + 1;
        out->host_len = (size_t)(close - a - 1);
        if (close + 1 < a + len) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', len);
        out->host = a;
        out->host_len = colon ? (size_t)(colon - a) : len;
        port = colon ? colon + 1 : NULL;
    }
    out->port = out->secure ? 443 : 80;
    if (port && port < a + len && parse_port(port, (size_t)(a + len - port), &out->port) < 0)
        return -1;
    return out->host_len ? 0 : -1;
}

int goose__url_split(const char *url, goose_url_parts *out)
{
    memset(out, 0, sizeof *out);
    size_t skip = scheme_len(url, &out->secure);
    if (!skip)
        return -1;
    out->authority = url + skip;
    out->authority_len = strcspn(out->authority, "/?#");
    out->path = out->authority + out->authority_len;
    out->path_len = strcspn(out->path, "#");
    return split_authority(out->authority, out->authority_len, out);
}

int goose__url_cookie_scope(const goose_url_parts *p, goose_buf *host, goose_buf *path)
{
    goose__buf_clear(host);
    goose__buf_clear(path);
    for (size_t i = 0; i < p->host_len; i++) {
        char ch = (char)tolower((unsigned char)p->host[i]);
        if (goose__buf_add(host, &ch, 1) < 0)
            return -1;
    }
    size_t plen = strcspn(p->path, "?#");
    if (plen > p->path_len)
        plen = p->path_len;
    return plen ? goose__buf_add(path, p->path, plen) : goose__buf_adds(path, "/");
}

/* Anything else goes to libcurl, which encodes and normalizes it. */
int goose__url_plain_path(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return 0;
        if (ch == '/' && i + 1 < len && s[i + 1] == '.')
            return 0;
    }
    return 1;
}

static int add_address(goose_h1_origin *o, const char *text, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 2];
    if (len && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len >= sizeof buf || o->naddrs == 2)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    struct sockaddr_storage *ss = &o->addrs[o->naddrs];
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)o->port);
        o->addr_lens[o->naddrs++] = sizeof *v4;
    } else if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)o->port);
        o->addr_lens[o->naddrs++] = sizeof *v6;
    } else {
        return -1;
    }
    return 0;
}

/* Whether a --resolve entry "[+|-]HOST:PORT[:ADDR[,ADDR...]]" (HOST may
 * be "*") names this host and port. */
static int entry_matches(const char *e, const goose_url_parts *p, const char **addrs)
{
    if (*e == '+' || *e == '-')
        e++;
    const char *c1 = strchr(e, ':');
    if (!c1)
        return 0;
    size_t plen = strcspn(c1 + 1, ":");
    unsigned port;
    int any_host = c1 == e + 1 && *e == '*'; /* curl's wildcard entry */
    if ((!any_host && ((size_t)(c1 - e) != p->host_len ||
                       strncasecmp(e, p->host, p->host_len) != 0)) ||
        parse_port(c1 + 1, plen, &port) < 0 || port != p->port)
        return 0;
    *addrs = c1[1 + plen] == ':' ? c1 + 2 + plen : "";
    return 1;
}

/* The addresses of an entry, in its order (at most two are kept). */
static int take_addresses(goose_h1_origin *o, const char *addrs)
{
    o->naddrs = 0;
    while (*addrs && o->naddrs < 2) {
        size_t len = strcspn(addrs, ",");
        if (add_address(o, addrs, len) < 0)
            return 0;
        addrs += len + (addrs[len] == ',');
    }
    return o->naddrs > 0;
}

/* The last word of the list on this host and port, among the entries
 * that name the host or (wildcard) the "*" ones: an entry gives its
 * addresses, a "-" entry takes them back, as curl reads the list. */
static int last_word(const goose_lines *l, const goose_url_parts *p, int wildcard,
                     goose_h1_origin *o)
{
    int found = 0;
    const char *addrs, *e = NULL;
    while (l && (e = goose__lines_next(l, e))) {
        const char *host = e + (e[0] == '+' || e[0] == '-');
        int any = host[0] == '*' && host[1] == ':';
        if (any == wildcard && entry_matches(e, p, &addrs))
            found = e[0] != '-' && take_addresses(o, addrs);
    }
    return found;
}

/* curl uses a "*" entry only for a host no entry names. */
static int from_list(const goose_lines *l, const goose_url_parts *p, goose_h1_origin *o)
{
    return last_word(l, p, 0, o) || last_word(l, p, 1, o);
}

static int find_addresses(const goose_url_parts *p, const goose_http_setup *setup,
                          goose_h1_origin *o)
{
    if (from_list(setup->resolve, p, o))
        return 1;
    o->naddrs = 0;
    if (p->host_len == 9 && strncasecmp(p->host, "localhost", 9) == 0)
        return add_address(o, "127.0.0.1", 9) == 0 && add_address(o, "::1", 3) == 0;
    /* [v6] only: curl refuses a bracketed IPv4 address; no zone ids */
    int bracketed = p->host > p->authority && p->host[-1] == '[';
    if (memchr(p->host, '%', p->host_len) || (bracketed && !memchr(p->host, ':', p->host_len)))
        return 0;
    return add_address(o, p->host, p->host_len) == 0;
}

/* curl's Host header: the host as written (an IPv6 address as curl
 * writes it), the port unless it is the scheme's (80, 443). */
static int host_header(const goose_url_parts *p, goose_h1_origin *o)
{
    char host[INET6_ADDRSTRLEN + 2], port[8] = "";
    int bracketed = p->host > p->authority && p->host[-1] == '[';
    struct in6_addr a6;
    if (bracketed) {
        char text[INET6_ADDRSTRLEN];
        if (p->host_len >= sizeof text)
            return 0;
        memcpy(text, p->host, p->host_len);
        text[p->host_len] = '\0';
        if (inet_pton(AF_INET6, text, &a6) != 1 || !inet_ntop(AF_INET6, &a6, text, sizeof text))
            return 0;
        snprintf(host, sizeof host, "[%s]", text);
    }
    if (p->port != (p->secure ? 443u : 80u))
        snprintf(port, sizeof port, ":%u", p->port);
    int n = snprintf(o->host_header, sizeof o->host_header, "Host: %.*s%s\r\n",
                     bracketed ? (int)strlen(host) : (int)p->host_len,
                     bracketed ? host : p->host, port);
    o->host_header_len = (size_t)n;
    return n > 0 && (size_t)n < sizeof o->host_header;
}

/* The name TLS sends (SNI) and checks: the host as written, an IPv6
 * address without its brackets. */
static int tls_host(const goose_url_parts *p, goose_h1_origin *o)
{
    if (p->host_len >= sizeof o->tls_host)
        return 0;
    memcpy(o->tls_host, p->host, p->host_len);
    o->tls_host[p->host_len] = '\0';
    return 1;
}

/* https wants the run's TLS context */
int goose__h1_origin(const goose_url_parts *p, const goose_http_setup *setup,
                     goose_h1_origin *o)
{
    if ((p->secure && !setup->tls_ctx) ||
        !setup->no_env_proxy || memchr(p->authority, '@', p->authority_len) ||
        p->authority_len >= sizeof o->authority || !goose__url_plain_path(p->path, p->path_len))
        return 0;
    o->naddrs = 0;
    o->port = p->port;
    o->secure = p->secure;
    o->tls_host[0] = '\0';
    if (!find_addresses(p, setup, o) || !host_header(p, o) || (p->secure && !tls_host(p, o)))
        return 0;
    memcpy(o->authority, p->authority, p->authority_len);
    o->authority[p->authority_len] = '\0';
    return 1;
}

/* An IPv4 address in one of the forms curl rewrites ("127.1",
 * "0x7f000001"): its last label is a number. */
static int ipv4_number_form(const goose_url_parts *p)
{
    const char *h = p->host, *end = p->host + p->host_len;
    if (end > h && end[-1] == '.')
        end--;
    const char *label = end;
    while (label > h && label[-1] != '.')
        label--;
    int hex = end - label > 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X');
    if (hex)
        label += 2;
    if (label == end)
        return 0;
    for (; label < end; label++)
        if (hex ? !isxdigit((unsigned char)*label) : !isdigit((unsigned char)*label))
            return 0;
    return 1;
}

static int is_literal_or_known(const goose_url_parts *p, const goose_lines *resolve)
{
    goose_http_setup setup = {.resolve = resolve};
    goose_h1_origin o = {.port = p->port};
    return find_addresses(p, &setup, &o);
}

/* "HOST:PORT:ADDR[,ADDR]" from the first two addresses DNS gives. */
static int pin_entry(const goose_url_parts *p, goose_buf *entry)
{
    char host[256], port[8];
    if (p->host_len >= sizeof host)
        return -1;
    memcpy(host, p->host, p->host_len);
    host[p->host_len] = '\0';
    snprintf(port, sizeof port, "%u", p->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int n = 0;
    goose__buf_printf(entry, "%s:%u:", host, p->port);
    for (struct addrinfo *ai = res; ai && n < 2; ai = ai->ai_next) {
        char text[INET6_ADDRSTRLEN];
        const void *a = ai->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                            : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            inet_ntop(ai->ai_family, a, text, sizeof text))
            goose__buf_printf(entry, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                              n++ ? "," : "", text);
    }
    freeaddrinfo(res);
    return n ? 0 : -1;
}

int goose__http_pin(goose_lines *resolve, const char *url)
{
    goose_url_parts p;
    if (!url || goose__url_split(url, &p) < 0 || ipv4_number_form(&p) ||
        is_literal_or_known(&p, resolve))
        return 0; /* a number form goes to curl, which rewrites it */
    goose_buf entry;
    goose__buf_init(&entry);
    int rc = 0;
    if (pin_entry(&p, &entry) == 0 && entry.data)
        rc = goose__lines_add(resolve, entry.data);
    goose__buf_free(&entry);
    return rc;
}

int goose__url_same_origin(const goose_url_parts *a, const goose_url_parts *b)
{
    return a->secure == b->secure && a->port == b->port && a->host_len == b->host_len &&
           strncasecmp(a->host, b->host, a->host_len) == 0;
}
