/* The one option table: it drives goose_attack_set_option(), the command
 * line and GOOSE_* environment of goose_main(), and --help; each row also
 * says where the option may be set, what it excludes and how the reports
 * show it. */
#include "config/attack.h"

#include "http/http.h"

#include "metrics/co.h"
#include "util/hostport.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*option_parser)(goose_options *o, const char *value, char *err,
                             size_t errlen);

typedef struct option_def {
    goose_option_info info;
    option_parser parse;
} option_def;

#define FAIL(...) (snprintf(err, errlen, __VA_ARGS__), GOOSE_EVALUE)
#define CONFLICT(...) (snprintf(err, errlen, __VA_ARGS__), GOOSE_ECONFIG)
#define HATCH_RATE_MIN 0.0001 /* a user every 2.8 hours */

static int parse_uint(const char *s, unsigned long long min,
                      unsigned long long max, unsigned long long *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_positive_double(const char *s, double *out)
{
    double v;
    const char *end = s ? goose__parse_decimal(s, &v) : NULL;
    if (!end || *end || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int bool_value(const char *v, int *out)
{
    if (!v || !*v || !strcmp(v, "1") || !strcasecmp(v, "true") ||
        !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
        *out = 1;
        return 0;
    }
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off")) {
        *out = 0;
        return 0;
    }
    return -1;
}

static int set_string(char **slot, const char *v)
{
    char *copy = strdup(v);
    if (!copy)
        return GOOSE_ENOMEM;
    free(*slot);
    *slot = copy;
    return GOOSE_OK;
}

static int append_string(char ***list, size_t *n, const char *v)
{
    char **p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p)
        return GOOSE_ENOMEM;
    *list = p;
    if (!(p[*n] = strdup(v)))
        return GOOSE_ENOMEM;
    (*n)++;
    return GOOSE_OK;
}

static int opt_host(goose_options *o, const char *v, char *err, size_t errlen)
{
    if (!goose__valid_url(v))
        return FAIL("--host \"%s\" is not an http:// or https:// URL", v);
    return set_string(&o->host, v);
}

static int opt_users(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, 10000000, &n) < 0)
        return FAIL("--users \"%s\" must be a whole number from 1 to 10000000", v);
    o->users = (size_t)n;
    return GOOSE_OK;
}

static int opt_hatch_rate(goose_options *o, const char *v, char *err, size_t errlen)
{
    double rate;
    if (parse_positive_double(v, &rate) < 0 || rate < HATCH_RATE_MIN || rate > 1e7)
        return FAIL("--hatch-rate \"%s\" must be users per second from 0.0001 to 10000000", v);
    o->hatch_rate = rate;
    return GOOSE_OK;
}

/* *out changes only when the value is taken. */
static int duration(const char *flag, const char *v, uint64_t *out, int zero_ok,
                    char *err, size_t errlen)
{
    uint64_t us;
    if (goose__parse_duration_us(v, &us) < 0)
        return FAIL("%s \"%s\" is not a duration (like 90, 30s, 20m, 1h30m)", flag, v);
    if (!zero_ok && us == 0)
        return FAIL("%s \"%s\" must be above zero", flag, v);
    *out = us;
    return GOOSE_OK;
}

static int opt_startup_time(goose_options *o, const char *v, char *err, size_t errlen)
{
    return duration("--startup-time", v, &o->startup_us, 0, err, errlen);
}

static int opt_run_time(goose_options *o, const char *v, char *err, size_t errlen)
{
    return duration("--run-time", v, &o->run_time_us, 0, err, errlen);
}

static int opt_stop_timeout(goose_options *o, const char *v, char *err, size_t errlen)
{
    return duration("--stop-timeout", v, &o->stop_timeout_us, 1, err, errlen);
}

static int opt_timeout(goose_options *o, const char *v, char *err, size_t errlen)
{
    uint64_t us;
    int rc = duration("--timeout", v, &us, 0, err, errlen);
    if (rc == GOOSE_OK)
        o->timeout_ms = (long)((us + 999) / 1000);
    return rc;
}

static int opt_co_mitigation(goose_options *o, const char *v, char *err, size_t errlen)
{
    int mode = goose__co_mode_parse(v);
    if (mode < 0)
        return FAIL("--co-mitigation \"%s\" must be disabled, average, minimum or maximum", v);
    o->co_mitigation = mode;
    return GOOSE_OK;
}

static int opt_running_metrics(goose_options *o, const char *v, char *err, size_t errlen)
{
    return duration("--running-metrics", v, &o->running_metrics_us, 0, err, errlen);
}

static int opt_test_plan(goose_options *o, const char *v, char *err, size_t errlen)
{
    int rc = goose__shape_parse("--test-plan", v, GOOSE_PLAN_USERS, 10000000, NULL, err,
                                   errlen);
    return rc == GOOSE_OK ? set_string(&o->test_plan, v) : rc;
}

static int opt_arrival_plan(goose_options *o, const char *v, char *err, size_t errlen)
{
    int rc = goose__shape_parse("--arrival-plan", v, 0, 1e7, NULL, err, errlen);
    return rc == GOOSE_OK ? set_string(&o->arrival_plan, v) : rc;
}

static int opt_arrival_rate(goose_options *o, const char *v, char *err, size_t errlen)
{
    double rate;
    if (parse_positive_double(v, &rate) < 0 || rate > 1e7)
        return FAIL("--arrival-rate \"%s\" must be iterations per second above 0", v);
    o->arrival_rate = rate;
    return GOOSE_OK;
}

static int opt_throttle(goose_options *o, const char *v, char *err, size_t errlen)
{
    double rps;
    if (parse_positive_double(v, &rps) < 0 || rps > 1e8)
        return FAIL("--throttle-requests \"%s\" must be requests per second above 0", v);
    o->throttle_rps = rps;
    return GOOSE_OK;
}

static int opt_iterations(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, UINT64_MAX, &n) < 0)
        return FAIL("--iterations \"%s\" must be a whole number above 0", v);
    o->iterations = n;
    return GOOSE_OK;
}

static int opt_scenarios(goose_options *o, const char *v, char *err, size_t errlen)
{
    int rc = goose__scenarios_check(v, err, errlen);
    return rc == GOOSE_OK ? set_string(&o->scenarios, v) : rc;
}

static int opt_scheduler(goose_options *o, const char *v, char *err, size_t errlen)
{
    int scheduler = goose__scheduler_parse(v);
    if (scheduler < 0)
        return FAIL("--scheduler \"%s\" must be serial, round-robin or random", v);
    o->scheduler = scheduler;
    return GOOSE_OK;
}

static int opt_seed(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 0, UINT64_MAX, &n) < 0)
        return FAIL("--seed \"%s\" must be a whole number from 0 to %llu", v,
                    (unsigned long long)UINT64_MAX);
    o->seed = n;
    o->seed_set = 1;
    return GOOSE_OK;
}

/* NAME=PATH: a registered data set read from another file (checked
 * against the registry when the run sets up). */
static int opt_data(goose_options *o, const char *v, char *err, size_t errlen)
{
    const char *eq = strchr(v, '=');
    size_t nlen = eq ? (size_t)(eq - v) : 0;
    if (!eq || !nlen || !eq[1])
        return FAIL("--data \"%s\" must be NAME=PATH", v);
    if (memchr(v, ' ', nlen) || memchr(v, '\t', nlen))
        return FAIL("--data \"%s\": NAME has a space", v);
    for (size_t i = 0; i < o->ndata; i++)
        if (!strncmp(o->data[i], v, nlen + 1)) { /* the same NAME= */
            char *copy = strdup(v);
            if (!copy)
                return GOOSE_ENOMEM;
            free(o->data[i]);
            o->data[i] = copy;
            return GOOSE_OK;
        }
    return append_string(&o->data, &o->ndata, v);
}

static int opt_threads(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, 1024, &n) < 0)
        return FAIL("--threads \"%s\" must be a whole number from 1 to 1024", v);
    o->threads = (size_t)n;
    return GOOSE_OK;
}

static int opt_stack_size(goose_options *o, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    unsigned long long n = isdigit((unsigned char)*v) ? strtoull(v, &end, 10) : 0;
    if (n && (*end == 'k' || *end == 'K'))
        n *= 1024, end++;
    else if (n && (*end == 'm' || *end == 'M'))
        n *= 1024 * 1024, end++;
    if (!n || errno || *end || n < 16 * 1024 || n > 64ull * 1024 * 1024)
        return FAIL("--stack-size \"%s\" must be from 16k to 64m (like 64k)", v);
    o->stack_size = (size_t)n;
    return GOOSE_OK;
}

/* A file the run will write: its folder must be there and writable now
 * (the run tries to create the file itself before any user starts). */
static int writable_place(const char *flag, const char *v, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(v, '/');
    size_t n = slash ? (size_t)(slash - v) : 0;
    if (n >= sizeof dir)
        return FAIL("--%s %s: the name is too long", flag, v);
    if (!slash) {
        strcpy(dir, ".");
    } else if (n == 0) {
        strcpy(dir, "/");
    } else {
        memcpy(dir, v, n);
        dir[n] = '\0';
    }
    if (access(dir, W_OK | X_OK) < 0)
        return FAIL("cannot create --%s %s: %s: %s", flag, v, dir, strerror(errno));
    return GOOSE_OK;
}

/* Past this many, a report of one row per name would be unreadable, and
 * each row costs memory in every shard. */
#define MAX_REQUEST_NAMES_MAX 1000000

static int opt_max_request_names(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, MAX_REQUEST_NAMES_MAX, &n) < 0)
        return FAIL("--max-request-names \"%s\" must be a whole number from 1 to %d", v,
                    MAX_REQUEST_NAMES_MAX);
    o->max_request_names = (size_t)n;
    return GOOSE_OK;
}

static int opt_report_file(goose_options *o, const char *v, char *err, size_t errlen)
{
    const char *dot = strrchr(v, '.');
    if (!*v)
        return FAIL("--report-file needs a file name");
    if (!dot || (strcmp(dot, ".json") && strcmp(dot, ".md") && strcmp(dot, ".csv") &&
                 strcmp(dot, ".html") && strcmp(dot, ".htm")))
        return FAIL("--report-file \"%s\": the extension must be .json, .md, .csv, .html "
                    "or .htm", v);
    int rc = writable_place("report-file", v, err, errlen);
    return rc == GOOSE_OK ? append_string(&o->report_files, &o->nreport_files, v) : rc;
}

static int opt_resolve(goose_options *o, const char *v, char *err, size_t errlen)
{
    /* HOST:PORT:ADDR, as curl's --resolve */
    const char *c1 = strchr(v, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    unsigned long long port;
    char portbuf[8];
    size_t plen = c2 ? (size_t)(c2 - c1 - 1) : 0;
    if (!c1 || !c2 || c1 == v || !c2[1] || plen == 0 || plen >= sizeof portbuf)
        return FAIL("--resolve \"%s\" must be HOST:PORT:ADDRESS", v);
    memcpy(portbuf, c1 + 1, plen);
    portbuf[plen] = '\0';
    if (parse_uint(portbuf, 1, 65535, &port) < 0)
        return FAIL("--resolve \"%s\": bad port", v);
    return append_string(&o->resolve, &o->nresolve, v);
}

static int port_value(const char *flag, const char *v, unsigned *out, char *err,
                      size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, 65535, &n) < 0)
        return FAIL("%s \"%s\" must be a port from 1 to 65535", flag, v);
    *out = (unsigned)n;
    return GOOSE_OK;
}

static int opt_manager_bind_port(goose_options *o, const char *v, char *err, size_t errlen)
{
    return port_value("--manager-bind-port", v, &o->manager_bind_port, err, errlen);
}

static int opt_manager_port(goose_options *o, const char *v, char *err, size_t errlen)
{
    return port_value("--manager-port", v, &o->manager_port, err, errlen);
}

static int host_value(const char *flag, const char *v, char **slot, char *err,
                      size_t errlen)
{
    if (!*v || strlen(v) > 253 || strpbrk(v, " /\t\r\n"))
        return FAIL("%s \"%s\" is not a host name or address", flag, v);
    return set_string(slot, v);
}

static int opt_manager_bind_host(goose_options *o, const char *v, char *err, size_t errlen)
{
    return host_value("--manager-bind-host", v, &o->manager_bind_host, err, errlen);
}

static int opt_manager_host(goose_options *o, const char *v, char *err, size_t errlen)
{
    return host_value("--manager-host", v, &o->manager_host, err, errlen);
}

static int opt_expect_workers(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned long long n;
    if (parse_uint(v, 1, 10000, &n) < 0)
        return FAIL("--expect-workers \"%s\" must be a whole number from 1 to 10000", v);
    o->expect_workers = (size_t)n;
    return GOOSE_OK;
}

static int opt_gaggle_timeout(goose_options *o, const char *v, char *err, size_t errlen)
{
    uint64_t us;
    int rc = duration("--gaggle-timeout", v, &us, 0, err, errlen);
    if (rc == GOOSE_OK && us < 1000000)
        return FAIL("--gaggle-timeout \"%s\" must be at least 1s (heartbeats are every second)", v);
    if (rc == GOOSE_OK)
        o->gaggle_timeout_us = us;
    return rc;
}

static int key_length(const char *what, size_t len, char *err, size_t errlen)
{
    if (len < GOOSE_KEY_MIN)
        return FAIL("%s must be at least %d bytes (try: openssl rand -hex 32 > gaggle.key)",
                    what, GOOSE_KEY_MIN);
    if (len > GOOSE_KEY_MAX)
        return FAIL("%s is longer than %d bytes", what, GOOSE_KEY_MAX);
    return GOOSE_OK;
}

/* Checked when set, so a Worker never dials its Manager with a key the
 * handshake would refuse. */
static int opt_gaggle_key(goose_options *o, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return FAIL("--gaggle-key is empty");
    int rc = key_length("the gaggle key", strlen(v), err, errlen);
    return rc == GOOSE_OK ? set_string(&o->gaggle_key, v) : rc;
}

int goose__key_file_read(const char *path, unsigned char out[GOOSE_KEY_MAX], size_t *len,
                         char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return FAIL("cannot read --gaggle-key-file %s: %s", path, strerror(errno));
    size_t n = fread(out, 1, GOOSE_KEY_MAX, f);
    int too_long = n == GOOSE_KEY_MAX && fgetc(f) != EOF;
    fclose(f);
    if (too_long)
        return FAIL("--gaggle-key-file %s: longer than %d bytes", path, GOOSE_KEY_MAX);
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--; /* a trailing newline is not part of the key */
    *len = n;
    char what[300];
    snprintf(what, sizeof what, "the gaggle key in %s", path);
    return key_length(what, n, err, errlen);
}

static int opt_gaggle_key_file(goose_options *o, const char *v, char *err, size_t errlen)
{
    unsigned char key[GOOSE_KEY_MAX];
    size_t len = 0;
    if (!*v)
        return FAIL("--gaggle-key-file needs a file name");
    int rc = goose__key_file_read(v, key, &len, err, errlen);
    volatile unsigned char *p = key; /* no copy of the key outlives this */
    for (size_t i = 0; i < sizeof key; i++)
        p[i] = 0;
    return rc == GOOSE_OK ? set_string(&o->gaggle_key_file, v) : rc;
}

/* "127.0.0.1,127.0.0.2" or a range of the last byte, "127.0.0.1-127.0.0.4". */
static int add_local_range(char ***list, size_t *nlist, const char *item, char *err,
                           size_t errlen)
{
    struct in_addr lo, hi;
    char first[64];
    const char *dash = strchr(item, '-');
    size_t n = dash ? (size_t)(dash - item) : strlen(item);
    if (n >= sizeof first)
        return FAIL("--local-address \"%s\" is not an IPv4 address or range", item);
    memcpy(first, item, n);
    first[n] = '\0';
    if (inet_pton(AF_INET, first, &lo) != 1 || (dash && inet_pton(AF_INET, dash + 1, &hi) != 1))
        return FAIL("--local-address \"%s\" is not an IPv4 address or range", item);
    uint32_t a = ntohl(lo.s_addr), b = dash ? ntohl(hi.s_addr) : a;
    if (b < a || b - a > 255)
        return FAIL("--local-address range \"%s\" must go up, by at most 256 addresses", item);
    for (uint32_t x = a; x <= b; x++) {
        struct in_addr ia = {htonl(x)};
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &ia, text, sizeof text);
        if (append_string(list, nlist, text) != GOOSE_OK)
            return GOOSE_ENOMEM;
    }
    return GOOSE_OK;
}

static void free_list(char **list, size_t n);

/* The addresses are added all together, or none of them. */
static int opt_local_address(goose_options *o, const char *v, char *err, size_t errlen)
{
    char copy[1024];
    if (!*v || strlen(v) >= sizeof copy)
        return FAIL("--local-address needs addresses, like 127.0.0.1-127.0.0.4");
    strcpy(copy, v);
    char **list = NULL;
    size_t n = 0;
    int rc = GOOSE_OK;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item && rc == GOOSE_OK;
         item = strtok_r(NULL, ",", &save))
        rc = add_local_range(&list, &n, item, err, errlen);
    for (size_t i = 0; i < n && rc == GOOSE_OK; i++) {
        rc = append_string(&o->local_addrs, &o->nlocal_addrs, list[i]);
        if (rc != GOOSE_OK) /* none of them, as before */
            while (i--)
                free(o->local_addrs[--o->nlocal_addrs]);
    }
    free_list(list, n);
    return rc;
}

static int log_format(const char *flag, const char *v, int *out, char *err, size_t errlen)
{
    static const char *const names[] = {"json", "csv", "raw"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = i;
            return GOOSE_OK;
        }
    }
    return FAIL("%s \"%s\" must be json, csv or raw", flag, v);
}

#define LOG_PARSERS(log, path_fn, format_fn, flag)                              \
    static int path_fn(goose_options *o, const char *v, char *err, size_t errlen) \
    {                                                                          \
        if (!*v)                                                               \
            return FAIL("--%s-log needs a file name", flag);                   \
        int rc = writable_place(flag "-log", v, err, errlen);                  \
        return rc == GOOSE_OK ? set_string(&o->log_paths[log], v) : rc;        \
    }                                                                          \
    static int format_fn(goose_options *o, const char *v, char *err, size_t errlen) \
    {                                                                          \
        return log_format("--" flag "-format", v, &o->log_formats[log], err, errlen); \
    }

LOG_PARSERS(0, opt_request_log, opt_request_format, "request")
LOG_PARSERS(1, opt_transaction_log, opt_transaction_format, "transaction")
LOG_PARSERS(2, opt_error_log, opt_error_format, "error")

/* HOST:PORT or PORT of a port we listen on; checked again when bound. */
static int listen_address(const char *flag, char **slot, const char *v, char *err,
                          size_t errlen)
{
    char host[256];
    unsigned port;
    if (goose__split_hostport(v, host, sizeof host, &port) < 0)
        return FAIL("%s \"%s\" must be HOST:PORT or PORT (1 to 65535)", flag, v);
    return set_string(slot, v);
}

static int opt_metrics_listen(goose_options *o, const char *v, char *err, size_t errlen)
{
    return listen_address("--metrics-listen", &o->metrics_listen, v, err, errlen);
}

static int opt_controller(goose_options *o, const char *v, char *err, size_t errlen)
{
    return listen_address("--controller", &o->controller, v, err, errlen);
}

static int opt_log_format(goose_options *o, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "text") && strcmp(v, "json"))
        return FAIL("--log-format \"%s\" must be text or json", v);
    o->log_json = strcmp(v, "json") == 0;
    return GOOSE_OK;
}

/* A file the run will read: it must be there when it is set (and the run
 * reads it again). */
static int readable_file(const char *flag, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return FAIL("--%s needs a file name", flag);
    struct stat st;
    FILE *f = fopen(v, "r");
    int dir = f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
    int saved = errno;
    if (f)
        fclose(f);
    if (!f || dir)
        return FAIL("cannot read --%s %s: %s", flag, v, dir ? "a directory" : strerror(saved));
    return GOOSE_OK;
}

#define FILE_PARSER(fn, flag, field)                                            \
    static int fn(goose_options *o, const char *v, char *err, size_t errlen)   \
    {                                                                          \
        int rc = readable_file(flag, v, err, errlen);                          \
        return rc == GOOSE_OK ? set_string(&o->field, v) : rc;                 \
    }

FILE_PARSER(opt_baseline_file, "baseline-file", baseline_file)
FILE_PARSER(opt_tls_cert, "tls-cert", tls_cert)
FILE_PARSER(opt_tls_key, "tls-key", tls_key)
FILE_PARSER(opt_tls_ca, "tls-ca", tls_ca)

FILE_PARSER(opt_client_cert, "client-cert", client_cert)
FILE_PARSER(opt_client_key, "client-key", client_key)

/* The whole file, once: its contents are what the run trusts and what a
 * Manager ships to its Workers.  o changes only when it is taken. */
static int opt_ca_file(goose_options *o, const char *v, char *err, size_t errlen)
{
    int rc = readable_file("ca-file", v, err, errlen);
    if (rc != GOOSE_OK)
        return rc;
    FILE *f = fopen(v, "r");
    char *pem = malloc(GOOSE_CA_FILE_MAX + 1);
    size_t n = f && pem ? fread(pem, 1, GOOSE_CA_FILE_MAX + 1, f) : 0;
    int failed = !f || ferror(f), saved = errno;
    if (f)
        fclose(f);
    char why[160] = "";
    if (failed)
        rc = FAIL("cannot read --ca-file %s: %s", v, strerror(saved));
    else if (!pem)
        rc = GOOSE_ENOMEM;
    else if (goose__ca_pem_check(pem, n, why, sizeof why) < 0)
        rc = FAIL("--ca-file %s: %s", v, why);
    char *copy = rc == GOOSE_OK ? strdup(v) : NULL;
    if (rc == GOOSE_OK && !copy)
        rc = GOOSE_ENOMEM;
    if (rc != GOOSE_OK) {
        free(pem);
        return rc;
    }
    char *fit = realloc(pem, n + 1); /* what the file holds, not the bound */
    pem = fit ? fit : pem;
    pem[n] = '\0';
    free(o->ca_file);
    free(o->ca_pem);
    o->ca_file = copy;
    o->ca_pem = pem;
    o->ca_pem_len = n;
    return GOOSE_OK;
}

static int opt_http_version(goose_options *o, const char *v, char *err, size_t errlen)
{
    static const int versions[] = {GOOSE_HTTP_AUTO, GOOSE_HTTP_1_1, GOOSE_HTTP_2};
    for (size_t i = 0; i < sizeof versions / sizeof *versions; i++) {
        if (strcmp(v, goose__http_version_name(versions[i])) == 0) {
            o->http_version = versions[i];
            return GOOSE_OK;
        }
    }
    return FAIL("--http-version \"%s\" must be auto, 1.1 or 2", v);
}

#define FLAG_PARSER(fn, field)                                                 \
    static int fn(goose_options *o, const char *v, char *err, size_t errlen)   \
    {                                                                          \
        if (bool_value(v, &o->field) < 0)                                      \
            return FAIL("a flag takes no value, or true/false (not \"%s\")", v); \
        return GOOSE_OK;                                                       \
    }

FLAG_PARSER(opt_no_reset_metrics, no_reset_metrics)
FLAG_PARSER(opt_no_print_metrics, no_print_metrics)
FLAG_PARSER(opt_status_codes, status_codes)
FLAG_PARSER(opt_quiet, quiet)
FLAG_PARSER(opt_help, help)
FLAG_PARSER(opt_version, version)
FLAG_PARSER(opt_manager, manager)
FLAG_PARSER(opt_worker, worker)
FLAG_PARSER(opt_no_hash_check, no_hash_check)
FLAG_PARSER(opt_no_autostart, no_autostart)
FLAG_PARSER(opt_worker_reconnect, worker_reconnect)
FLAG_PARSER(opt_sticky_follow, sticky_follow)
FLAG_PARSER(opt_scenarios_list, scenarios_list)
FLAG_PARSER(opt_threshold_abort, threshold_abort)
FLAG_PARSER(opt_accept_invalid_certs, accept_invalid_certs)
FLAG_PARSER(opt_assets_cross_origin, assets_cross_origin)
FLAG_PARSER(opt_no_cache, no_cache)

/* Parsed now, so a bad expression is refused before any user starts. */
static int opt_threshold(goose_options *o, const char *v, char *err, size_t errlen)
{
    goose_threshold t;
    int rc = goose__threshold_parse(v, &t, err, errlen);
    if (rc != GOOSE_OK)
        return rc;
    goose_threshold *p = realloc(o->thresholds, (o->nthresholds + 1) * sizeof *p);
    if (!p) {
        goose__threshold_free(&t);
        return GOOSE_ENOMEM;
    }
    o->thresholds = p;
    p[o->nthresholds++] = t;
    return GOOSE_OK;
}

static int opt_verbose(goose_options *o, const char *v, char *err, size_t errlen)
{
    int on;
    if (bool_value(v, &on) < 0)
        return FAIL("--verbose takes no value (not \"%s\")", v);
    o->verbose = on ? o->verbose + 1 : 0;
    return GOOSE_OK;
}

/* The sides of a Gaggle an option makes sense on: the test is the
 * Manager's, how its users run each Worker's (gaggle/options.c). */
#define SIDES_ANY GOOSE_SIDES_ALL
#define NOT_WORKER (GOOSE_SIDE_STANDALONE | GOOSE_SIDE_MANAGER)
#define NOT_MANAGER (GOOSE_SIDE_STANDALONE | GOOSE_SIDE_WORKER)
#define GAGGLE_ONLY (GOOSE_SIDE_MANAGER | GOOSE_SIDE_WORKER)
#define MANAGER_ONLY GOOSE_SIDE_MANAGER
#define WORKER_ONLY GOOSE_SIDE_WORKER
#define SHOW(kind, f) GOOSE_SHOW_##kind, offsetof(goose_options, f), 0
#define LIST(kind, f, n) GOOSE_SHOW_##kind, offsetof(goose_options, f), offsetof(goose_options, n)
#define EXCLUDES(...) ((const goose_option_excl[]){__VA_ARGS__, {0, NULL}})

static const option_def options[] = {
    [GOOSE_OPT_HOST] = {{"host", 0, 1, 0, "URL", "base URL of the target, e.g. http://127.0.0.1:8080",
        NOT_WORKER, SHOW(TEXT, host),
        NULL}, opt_host},
    [GOOSE_OPT_USERS] = {{"users", 'u', 1, 0, "N", "number of users (default: online CPUs)",
        NOT_WORKER, SHOW(SIZE, users),
        NULL}, opt_users},
    [GOOSE_OPT_HATCH_RATE] = {{"hatch-rate", 'r', 1, 0, "RATE", "users started per second, may be fractional (default 1)",
        NOT_WORKER, SHOW(RATE, hatch_rate),
        EXCLUDES({GOOSE_OPT_STARTUP_TIME, "give --hatch-rate or --startup-time, not both"})}, opt_hatch_rate},
    [GOOSE_OPT_STARTUP_TIME] = {{"startup-time", 0, 1, 0, "TIME", "start all users over this time instead of a hatch rate",
        NOT_WORKER, SHOW(DURATION, startup_us),
        NULL}, opt_startup_time},
    [GOOSE_OPT_RUN_TIME] = {{"run-time", 't', 1, 0, "TIME", "stop after this long once all users are started (30s, 20m, 1h30m)",
        NOT_WORKER, SHOW(DURATION, run_time_us),
        NULL}, opt_run_time},
    [GOOSE_OPT_ITERATIONS] = {{"iterations", 0, 1, 0, "N", "each user runs its scenario N times, then stops",
        NOT_WORKER, SHOW(COUNT, iterations),
        NULL}, opt_iterations},
    [GOOSE_OPT_STOP_TIMEOUT] = {{"stop-timeout", 0, 1, 0, "TIME", "when the test ends, users may finish this long, then are abandoned (default 30s)",
        NOT_WORKER, SHOW(GIVEN, stop_timeout_us),
        NULL}, opt_stop_timeout},
    [GOOSE_OPT_SCENARIOS] = {{"scenarios", 0, 1, 0, "LIST", "run only these scenarios: names or globs, like \"reader,admin*\"",
        NOT_WORKER, SHOW(TEXT, scenarios),
        NULL}, opt_scenarios},
    [GOOSE_OPT_SCENARIOS_LIST] = {{"scenarios-list", 0, 0, 0, NULL, "list the scenarios (those of --scenarios) and exit",
        SIDES_ANY, SHOW(GIVEN, scenarios_list),
        NULL}, opt_scenarios_list},
    [GOOSE_OPT_SCHEDULER] = {{"scheduler", 0, 1, 0, "NAME", "how users are given to scenarios by weight: serial (default), round-robin or random",
        NOT_WORKER, SHOW(SCHEDULER, scheduler),
        NULL}, opt_scheduler},
    [GOOSE_OPT_SEED] = {{"seed", 0, 1, 0, "N", "seed of every user's goose_user_random, wait times and --scheduler random (default: drawn, and printed in the reports)",
        NOT_WORKER, SHOW(COUNT, seed),
        NULL}, opt_seed},
    [GOOSE_OPT_DATA] = {{"data", 0, 1, 1, "NAME=PATH", "read the test data registered as NAME from the CSV file PATH; repeatable",
        NOT_WORKER, LIST(LIST, data, ndata),
        NULL}, opt_data},
    [GOOSE_OPT_TEST_PLAN] = {{"test-plan", 0, 1, 0, "PLAN", "users over time: \"users,time;users,time;...\"",
        NOT_WORKER, SHOW(GIVEN, test_plan),
        EXCLUDES({GOOSE_OPT_USERS, "--test-plan sets the users over time: drop --users"},
                 {GOOSE_OPT_HATCH_RATE, "--test-plan sets the users over time: drop --hatch-rate"},
                 {GOOSE_OPT_STARTUP_TIME, "--test-plan sets the users over time: drop --startup-time"},
                 {GOOSE_OPT_RUN_TIME, "--test-plan sets the users over time: drop --run-time"},
                 {GOOSE_OPT_ITERATIONS, "--test-plan sets the users over time: drop --iterations"})}, opt_test_plan},
    [GOOSE_OPT_THROTTLE_REQUESTS] = {{"throttle-requests", 0, 1, 0, "N", "at most N requests per second overall",
        NOT_WORKER, SHOW(GIVEN, throttle_rps),
        NULL}, opt_throttle},
    [GOOSE_OPT_ARRIVAL_RATE] = {{"arrival-rate", 0, 1, 0, "N", "start N iterations per second (open model; --users is the pool)",
        NOT_WORKER, SHOW(GIVEN, arrival_rate),
        EXCLUDES({GOOSE_OPT_ARRIVAL_PLAN, "give --arrival-rate or --arrival-plan, not both"},
                 {GOOSE_OPT_TEST_PLAN, "--arrival-rate starts iterations at a rate: drop --test-plan"},
                 {GOOSE_OPT_HATCH_RATE, "--arrival-rate starts iterations at a rate: drop --hatch-rate"},
                 {GOOSE_OPT_STARTUP_TIME, "--arrival-rate starts iterations at a rate: drop --startup-time"},
                 {GOOSE_OPT_ITERATIONS, "--arrival-rate starts iterations at a rate: drop --iterations"})}, opt_arrival_rate},
    [GOOSE_OPT_ARRIVAL_PLAN] = {{"arrival-plan", 0, 1, 0, "PLAN", "arrival rate over time: \"rate,time;...\"",
        NOT_WORKER, SHOW(GIVEN, arrival_plan),
        EXCLUDES({GOOSE_OPT_TEST_PLAN, "--arrival-plan starts iterations at a rate: drop --test-plan"},
                 {GOOSE_OPT_HATCH_RATE, "--arrival-plan starts iterations at a rate: drop --hatch-rate"},
                 {GOOSE_OPT_STARTUP_TIME, "--arrival-plan starts iterations at a rate: drop --startup-time"},
                 {GOOSE_OPT_ITERATIONS, "--arrival-plan starts iterations at a rate: drop --iterations"},
                 {GOOSE_OPT_RUN_TIME, "--arrival-plan ends the run: drop --run-time"})}, opt_arrival_plan},
    [GOOSE_OPT_TIMEOUT] = {{"timeout", 0, 1, 0, "TIME", "per-request timeout (default 60s)",
        NOT_WORKER, SHOW(DURATION_MS, timeout_ms),
        NULL}, opt_timeout},
    [GOOSE_OPT_CO_MITIGATION] = {{"co-mitigation", 0, 1, 0, "MODE", "coordinated omission mitigation: disabled (default), average, minimum, maximum",
        NOT_WORKER, SHOW(CO_MODE, co_mitigation),
        NULL}, opt_co_mitigation},
    [GOOSE_OPT_NO_RESET_METRICS] = {{"no-reset-metrics", 0, 0, 0, NULL, "keep the metrics of the hatch phase",
        NOT_WORKER, SHOW(FLAG, no_reset_metrics),
        NULL}, opt_no_reset_metrics},
    [GOOSE_OPT_RUNNING_METRICS] = {{"running-metrics", 0, 1, 0, "TIME", "print the request table every TIME while running",
        NOT_WORKER, SHOW(DURATION, running_metrics_us),
        NULL}, opt_running_metrics},
    [GOOSE_OPT_NO_PRINT_METRICS] = {{"no-print-metrics", 0, 0, 0, NULL, "do not print the report at the end",
        NOT_WORKER, SHOW(FLAG, no_print_metrics),
        NULL}, opt_no_print_metrics},
    [GOOSE_OPT_STATUS_CODES] = {{"status-codes", 0, 0, 0, NULL, "include status codes in the report (always on)",
        SIDES_ANY, SHOW(FLAG, status_codes),
        NULL}, opt_status_codes},
    [GOOSE_OPT_STICKY_FOLLOW] = {{"sticky-follow", 0, 0, 0, NULL, "a redirect of a base-URL path moves the user's later paths to its host",
        NOT_WORKER, SHOW(GIVEN, sticky_follow),
        NULL}, opt_sticky_follow},
    [GOOSE_OPT_REPORT_FILE] = {{"report-file", 0, 1, 1, "FILE", "write the report to FILE (.json, .md, .csv or .html); repeatable",
        NOT_WORKER, LIST(LIST, report_files, nreport_files),
        NULL}, opt_report_file},
    [GOOSE_OPT_BASELINE_FILE] = {{"baseline-file", 0, 1, 0, "FILE", "set this run against an earlier JSON report, in every report",
        SIDES_ANY, SHOW(GIVEN, baseline_file),
        NULL}, opt_baseline_file},
    [GOOSE_OPT_REQUEST_LOG] = {{"request-log", 0, 1, 0, "FILE", "log every counted request to FILE, one line each",
        NOT_MANAGER, SHOW(TEXT, log_paths[0]),
        NULL}, opt_request_log},
    [GOOSE_OPT_REQUEST_FORMAT] = {{"request-format", 0, 1, 0, "FORMAT", "request log format: json (default), csv or raw",
        NOT_MANAGER, SHOW(LOG_FORMAT, log_formats[0]),
        NULL}, opt_request_format},
    [GOOSE_OPT_TRANSACTION_LOG] = {{"transaction-log", 0, 1, 0, "FILE", "log every counted transaction to FILE",
        NOT_MANAGER, SHOW(TEXT, log_paths[1]),
        NULL}, opt_transaction_log},
    [GOOSE_OPT_TRANSACTION_FORMAT] = {{"transaction-format", 0, 1, 0, "FORMAT", "transaction log format: json, csv or raw",
        NOT_MANAGER, SHOW(LOG_FORMAT, log_formats[1]),
        NULL}, opt_transaction_format},
    [GOOSE_OPT_ERROR_LOG] = {{"error-log", 0, 1, 0, "FILE", "log every failed request to FILE",
        NOT_MANAGER, SHOW(TEXT, log_paths[2]),
        NULL}, opt_error_log},
    [GOOSE_OPT_ERROR_FORMAT] = {{"error-format", 0, 1, 0, "FORMAT", "error log format: json, csv or raw",
        NOT_MANAGER, SHOW(LOG_FORMAT, log_formats[2]),
        NULL}, opt_error_format},
    [GOOSE_OPT_LOG_FORMAT] = {{"log-format", 0, 1, 0, "FORMAT", "log lines as text (default) or json, one object per line",
        SIDES_ANY, SHOW(TEXT_OR_JSON, log_json),
        NULL}, opt_log_format},
    [GOOSE_OPT_METRICS_LISTEN] = {{"metrics-listen", 0, 1, 0, "HOST:PORT", "serve Prometheus metrics at /metrics (PORT alone: 127.0.0.1)",
        NOT_WORKER, SHOW(TEXT, metrics_listen),
        NULL}, opt_metrics_listen},
    [GOOSE_OPT_CONTROLLER] = {{"controller", 0, 1, 0, "HOST:PORT", "live control (telnet or HTTP JSON) on this port; PORT alone: 127.0.0.1",
        NOT_WORKER, SHOW(GIVEN, controller),
        NULL}, opt_controller},
    [GOOSE_OPT_THRESHOLD] = {{"threshold", 0, 1, 1, "EXPR", "exit 1 unless EXPR holds, like p95<200ms or \"GET /:fail_rate<1%\"; repeatable",
        NOT_WORKER, LIST(THRESHOLDS, thresholds, nthresholds),
        NULL}, opt_threshold},
    [GOOSE_OPT_THRESHOLD_ABORT] = {{"threshold-abort", 0, 0, 0, NULL, "stop the test as soon as a threshold fails",
        NOT_WORKER, SHOW(FLAG, threshold_abort),
        NULL}, opt_threshold_abort},
    [GOOSE_OPT_VERBOSE] = {{"verbose", 'v', 0, 0, NULL, "more log output (repeat for more)",
        SIDES_ANY, SHOW(INT, verbose),
        NULL}, opt_verbose},
    [GOOSE_OPT_QUIET] = {{"quiet", 'q', 0, 0, NULL, "only warnings and errors",
        SIDES_ANY, SHOW(FLAG, quiet),
        NULL}, opt_quiet},
    [GOOSE_OPT_THREADS] = {{"threads", 0, 1, 0, "N", "engine threads (default: online CPUs)",
        NOT_MANAGER, SHOW(SIZE, threads),
        NULL}, opt_threads},
    [GOOSE_OPT_MAX_REQUEST_NAMES] = {{"max-request-names", 0, 1, 0, "N", "request names (method and name) reported one by one (default 2000); later ones fold into (other)",
        SIDES_ANY, SHOW(GIVEN, max_request_names),
        NULL}, opt_max_request_names},
    [GOOSE_OPT_STACK_SIZE] = {{"stack-size", 0, 1, 0, "SIZE", "stack of each user's coroutine (default 256k; only touched pages use memory)",
        NOT_MANAGER, SHOW(KIB, stack_size),
        NULL}, opt_stack_size},
    [GOOSE_OPT_LOCAL_ADDRESS] = {{"local-address", 0, 1, 1, "ADDRS", "source addresses users take in turn, like 127.0.0.1-127.0.0.4 (more than one port range of connections)",
        NOT_MANAGER, LIST(ADDRESSES, local_addrs, nlocal_addrs),
        NULL}, opt_local_address},
    [GOOSE_OPT_RESOLVE] = {{"resolve", 0, 1, 1, "HOST:PORT:ADDR", "pin HOST:PORT to ADDR, as curl's --resolve; repeatable",
        NOT_WORKER, LIST(LIST, resolve, nresolve),
        NULL}, opt_resolve},
    [GOOSE_OPT_MANAGER] = {{"manager", 0, 0, 0, NULL, "run as a Gaggle Manager",
        SIDES_ANY, SHOW(FLAG, manager),
        EXCLUDES({GOOSE_OPT_WORKER, "--manager and --worker exclude each other"})}, opt_manager},
    [GOOSE_OPT_WORKER] = {{"worker", 0, 0, 0, NULL, "run as a Gaggle Worker",
        SIDES_ANY, SHOW(FLAG, worker),
        NULL}, opt_worker},
    [GOOSE_OPT_EXPECT_WORKERS] = {{"expect-workers", 0, 1, 0, "N", "Workers the Manager waits for before it starts",
        MANAGER_ONLY, SHOW(SIZE, expect_workers),
        NULL}, opt_expect_workers},
    [GOOSE_OPT_NO_HASH_CHECK] = {{"no-hash-check", 0, 0, 0, NULL, "let Workers with another load test join (a warning)",
        MANAGER_ONLY, SHOW(FLAG, no_hash_check),
        NULL}, opt_no_hash_check},
    [GOOSE_OPT_NO_AUTOSTART] = {{"no-autostart", 0, 0, 0, NULL, "Manager: stay up, run a test at each controller start (needs --controller)",
        MANAGER_ONLY, SHOW(FLAG, no_autostart),
        NULL}, opt_no_autostart},
    [GOOSE_OPT_MANAGER_BIND_HOST] = {{"manager-bind-host", 0, 1, 0, "HOST", "address the Manager listens on (default 0.0.0.0)",
        MANAGER_ONLY, SHOW(TEXT, manager_bind_host),
        NULL}, opt_manager_bind_host},
    [GOOSE_OPT_MANAGER_BIND_PORT] = {{"manager-bind-port", 0, 1, 0, "PORT", "port the Manager listens on (default 5115)",
        MANAGER_ONLY, SHOW(PORT, manager_bind_port),
        NULL}, opt_manager_bind_port},
    [GOOSE_OPT_MANAGER_HOST] = {{"manager-host", 0, 1, 0, "HOST", "Manager a Worker connects to (default 127.0.0.1)",
        WORKER_ONLY, SHOW(TEXT, manager_host),
        NULL}, opt_manager_host},
    [GOOSE_OPT_MANAGER_PORT] = {{"manager-port", 0, 1, 0, "PORT", "port of the Manager (default 5115)",
        WORKER_ONLY, SHOW(PORT, manager_port),
        NULL}, opt_manager_port},
    [GOOSE_OPT_WORKER_RECONNECT] = {{"worker-reconnect", 0, 0, 0, NULL, "Worker: serve test after test, dialing again (backoff to 10s) until stopped",
        WORKER_ONLY, SHOW(FLAG, worker_reconnect),
        NULL}, opt_worker_reconnect},
    [GOOSE_OPT_GAGGLE_TIMEOUT] = {{"gaggle-timeout", 0, 1, 0, "TIME", "a Gaggle peer silent this long is lost (default 5s)",
        GAGGLE_ONLY, SHOW(DURATION, gaggle_timeout_us),
        NULL}, opt_gaggle_timeout},
    [GOOSE_OPT_GAGGLE_KEY] = {{"gaggle-key", 0, 1, 0, "KEY", "pre-shared Gaggle key: GOOSE_GAGGLE_KEY only, never a flag (ps shows flags)",
        GAGGLE_ONLY, SHOW(SECRET, gaggle_key),
        EXCLUDES({GOOSE_OPT_GAGGLE_KEY_FILE, "give --gaggle-key-file or GOOSE_GAGGLE_KEY, not both"})}, opt_gaggle_key},
    [GOOSE_OPT_GAGGLE_KEY_FILE] = {{"gaggle-key-file", 0, 1, 0, "FILE", "file holding the pre-shared Gaggle key (at least 16 bytes)",
        GAGGLE_ONLY, SHOW(TEXT, gaggle_key_file),
        NULL}, opt_gaggle_key_file},
    [GOOSE_OPT_TLS_CERT] = {{"tls-cert", 0, 1, 0, "FILE", "TLS certificate (chain) of the Manager, or of a Worker for mTLS",
        GAGGLE_ONLY, SHOW(TEXT, tls_cert),
        NULL}, opt_tls_cert},
    [GOOSE_OPT_TLS_KEY] = {{"tls-key", 0, 1, 0, "FILE", "private key of --tls-cert",
        GAGGLE_ONLY, SHOW(TEXT, tls_key),
        NULL}, opt_tls_key},
    [GOOSE_OPT_TLS_CA] = {{"tls-ca", 0, 1, 0, "FILE", "CA a Worker verifies the Manager with (and a Manager its Workers: mTLS)",
        GAGGLE_ONLY, SHOW(TEXT, tls_ca),
        NULL}, opt_tls_ca},
    [GOOSE_OPT_ACCEPT_INVALID_CERTS] = {{"accept-invalid-certs", 0, 0, 0, NULL, "check no certificate or host name of https:// targets (a warning, and a line in every report)",
        NOT_WORKER, SHOW(FLAG, accept_invalid_certs),
        NULL}, opt_accept_invalid_certs},
    [GOOSE_OPT_CA_FILE] = {{"ca-file", 0, 1, 0, "FILE", "trust the CAs of this PEM file for https:// targets instead of the system's",
        NOT_WORKER, SHOW(TEXT, ca_file),
        NULL}, opt_ca_file},
    [GOOSE_OPT_CLIENT_CERT] = {{"client-cert", 0, 1, 0, "FILE", "client certificate (PEM) for https:// targets that ask for one",
        NOT_MANAGER, SHOW(TEXT, client_cert),
        NULL}, opt_client_cert},
    [GOOSE_OPT_CLIENT_KEY] = {{"client-key", 0, 1, 0, "FILE", "private key of --client-cert (default: in the --client-cert file)",
        NOT_MANAGER, SHOW(TEXT, client_key),
        NULL}, opt_client_key},
    [GOOSE_OPT_HTTP_VERSION] = {{"http-version", 0, 1, 0, "VERSION", "auto (default: HTTP/2 when TLS offers it), 1.1 or 2 (HTTP/2 only)",
        NOT_WORKER, SHOW(HTTP_VERSION, http_version),
        NULL}, opt_http_version},
    [GOOSE_OPT_ASSETS_CROSS_ORIGIN] = {{"assets-cross-origin", 0, 0, 0, NULL, "goose_load_assets also fetches assets of other origins (default: the page's own)",
        NOT_WORKER, SHOW(FLAG, assets_cross_origin),
        NULL}, opt_assets_cross_origin},
    [GOOSE_OPT_NO_CACHE] = {{"no-cache", 0, 0, 0, NULL, "goose_load_assets keeps no per-user cache: every asset is fetched each time",
        NOT_WORKER, SHOW(FLAG, no_cache),
        NULL}, opt_no_cache},
    [GOOSE_OPT_HELP] = {{"help", 'h', 0, 0, NULL, "print this help",
        SIDES_ANY, SHOW(GIVEN, help),
        NULL}, opt_help},
    [GOOSE_OPT_VERSION] = {{"version", 'V', 0, 0, NULL, "print the version",
        SIDES_ANY, SHOW(GIVEN, version),
        NULL}, opt_version},
};

#define NOPTIONS (sizeof options / sizeof options[0])
_Static_assert(NOPTIONS == GOOSE_NOPTIONS, "a row for each goose_option_id");
_Static_assert(NOPTIONS <= 128, "set_mask has 128 bits");

static const option_def *find_def(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].info.name, name) == 0)
            return &options[i];
    return NULL;
}

const goose_option_info *goose__option_find(const char *name)
{
    const option_def *d = name ? find_def(name) : NULL;
    return d ? &d->info : NULL;
}

const goose_option_info *goose__option_find_short(char c)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].info.short_name == c)
            return &options[i].info;
    return NULL;
}

const goose_option_info *goose__option_list(size_t *n)
{
    static goose_option_info infos[NOPTIONS];
    for (size_t i = 0; i < NOPTIONS; i++)
        infos[i] = options[i].info;
    *n = NOPTIONS;
    return infos;
}

/* The option meant by a misspelt name ("run_tme", "RUNTIME"): the closest
 * long name, compared in lower case with '_' as '-', when it is close
 * enough to be a slip. */
const char *goose__option_suggest(const char *name)
{
    char norm[64];
    size_t len = name ? strlen(name) : 0;
    if (!len || len >= sizeof norm)
        return NULL;
    for (size_t i = 0; i <= len; i++)
        norm[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
    size_t limit = goose__slip_limit(norm);
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < NOPTIONS; i++) {
        size_t d = goose__edit_distance(norm, options[i].info.name);
        if (d < best_d)
            best = options[i].info.name, best_d = d;
    }
    return best;
}

/* "unknown option: --run-tme (did you mean --run-time?)" */
static int unknown_option(const char *name, char *err, size_t errlen)
{
    const goose_option_info *meant = NULL;
    if (name[0] == '-') { /* "--users", "-u": a flag, not a name */
        const char *bare = name + strspn(name, "-");
        meant = bare[0] && !bare[1] && name[1] != '-' ? goose__option_find_short(bare[0])
                                                      : goose__option_find(bare);
        if (meant) {
            snprintf(err, errlen, "unknown option name \"%s\": names have no leading "
                     "dashes (use \"%s\")", name, meant->name);
            return GOOSE_EOPTION;
        }
    }
    const char *close = goose__option_suggest(name);
    if (close)
        snprintf(err, errlen, "unknown option: --%s (did you mean --%s?)", name, close);
    else
        snprintf(err, errlen, "unknown option: --%s", name);
    return GOOSE_EOPTION;
}

/* A flag given as off is not in effect. */
static int in_effect(const goose_options *o, goose_option_id id)
{
    const goose_option_info *info = &options[id].info;
    return goose__option_given(o, id) &&
           (info->takes_value || *(const int *)((const char *)o + info->field));
}

/* Options that exclude each other: the second one set is refused, as the
 * run would refuse the two (setup.c says so again for the Gaggle's own
 * settings).  Each pair is in the row of one of the two; a flag turned off
 * excludes nothing. */
static int excluded(const goose_options *o, goose_option_id id, const char *v, char *err,
                    size_t errlen)
{
    int on = 1;
    if (!options[id].info.takes_value && (bool_value(v, &on) < 0 || !on))
        return GOOSE_OK; /* a bad value is the parser's to refuse */
    for (size_t i = 0; i < NOPTIONS; i++) {
        const goose_option_excl *x = options[i].info.excludes;
        for (; x && x->why; x++) {
            goose_option_id other = i == (size_t)id ? x->other
                                  : x->other == id  ? (goose_option_id)i
                                                    : GOOSE_NOPTIONS;
            if (other != GOOSE_NOPTIONS && in_effect(o, other))
                return CONFLICT("%s", x->why);
        }
    }
    return GOOSE_OK;
}

int goose__option_excluded(const goose_options *o, goose_option_id id, char *err,
                           size_t errlen)
{
    const goose_option_info *info = goose__option_row(id);
    for (const goose_option_excl *x = info ? info->excludes : NULL; x && x->why; x++)
        if (in_effect(o, x->other))
            return CONFLICT("%s", x->why);
    return GOOSE_OK;
}

int goose__option_set(goose_options *o, const char *name, const char *value,
                      char *err, size_t errlen)
{
    const option_def *d = name ? find_def(name) : NULL;
    if (!d)
        return name ? unknown_option(name, err, errlen)
                    : (snprintf(err, errlen, "option name is NULL"), GOOSE_EINVAL);
    if (d->info.takes_value && !value) {
        snprintf(err, errlen, "--%s needs a value (%s)", name, d->info.value_hint);
        return GOOSE_EVALUE;
    }
    int rc = excluded(o, (goose_option_id)(d - options), value, err, errlen);
    if (rc == GOOSE_OK)
        rc = d->parse(o, value, err, errlen);
    if (rc == GOOSE_OK)
        o->set_mask[(d - options) / 64] |= 1ull << (d - options) % 64;
    return rc;
}

int goose__option_given(const goose_options *o, goose_option_id id)
{
    if ((unsigned)id >= NOPTIONS)
        return GOOSE_EOPTION;
    return (int)(o->set_mask[id / 64] >> id % 64 & 1);
}

const goose_option_info *goose__option_row(goose_option_id id)
{
    return (unsigned)id < NOPTIONS ? &options[id].info : NULL;
}

int goose__option_id(const char *name)
{
    const option_def *d = name ? find_def(name) : NULL;
    return d ? (int)(d - options) : GOOSE_EOPTION;
}

void goose__options_init(goose_options *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = 60000;
    o->stack_size = 256 * 1024;
    o->max_request_names = GOOSE_MAX_REQUEST_NAMES;
    o->manager_bind_port = 5115;
    o->manager_port = 5115;
    o->gaggle_timeout_us = 5000000;
    o->stop_timeout_us = 30000000;
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* A key is wiped before its memory goes back to the allocator. */
static void wipe_string(char *s)
{
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
}

void goose__options_free(goose_options *o)
{
    free(o->host);
    free(o->test_plan);
    free(o->arrival_plan);
    free(o->scenarios);
    free(o->metrics_listen);
    free(o->controller);
    free(o->baseline_file);
    free(o->manager_bind_host);
    free(o->manager_host);
    if (o->gaggle_key)
        wipe_string(o->gaggle_key);
    free(o->gaggle_key);
    free(o->gaggle_key_file);
    free(o->tls_cert);
    free(o->tls_key);
    free(o->tls_ca);
    free(o->ca_file);
    free(o->ca_pem);
    free(o->client_cert);
    free(o->client_key);
    free_list(o->report_files, o->nreport_files);
    free_list(o->resolve, o->nresolve);
    free_list(o->data, o->ndata);
    free_list(o->local_addrs, o->nlocal_addrs);
    for (int i = 0; i < 3; i++)
        free(o->log_paths[i]);
    for (size_t i = 0; i < o->nthresholds; i++)
        goose__threshold_free(&o->thresholds[i]);
    free(o->thresholds);
    memset(o, 0, sizeof *o);
}
