/* Request, transaction and error logs.  An engine thread formats its lines
 * into a buffer of its own (no lock per line) and hands the buffer to the
 * log's writer thread when it is full, once a second, and at the end: no
 * user waits on the disk and no line is dropped.  A request line is written
 * exactly where the request's metric becomes final, so the request log has
 * one line per counted request. */
#include "engine/engine.h"

#include <string.h>

#include "util/clock.h"
#include "util/escape.h"

#define HANDOVER_BYTES (256 * 1024)

static const char *const HEADERS[GOOSE_LOGFILES][GOOSE_FORMATS] = {
    [GOOSE_LOGFILE_REQUESTS] = {NULL, "elapsed_ms,user,scenario,transaction,method,name,url,"
                                  "status,response_time_us,success,error\n", NULL},
    [GOOSE_LOGFILE_TRANSACTIONS] = {NULL, "elapsed_ms,user,scenario,transaction,success,"
                                      "response_time_us\n", NULL},
    [GOOSE_LOGFILE_ERRORS] = {NULL, "elapsed_ms,user,scenario,transaction,method,name,url,"
                                "status,error\n", NULL},
};

const char *goose__log_header(int log, int format)
{
    return HEADERS[log][format];
}

typedef struct field {
    const char *key;
    const char *text;  /* a string field, or NULL for a number */
    long long number;
    int kind;          /* FIELD_*: 0 a value as the key says */
} field;

/* A boolean; no value at all (JSON null, an empty CSV or raw field). */
enum { FIELD_BOOL = 1, FIELD_NULL = 2 };

typedef int (*text_fn)(goose_buf *b, const char *s);

/* One value: a boolean, a number, or text as the format writes it. */
static void put_value(goose_buf *b, const field *f, text_fn text)
{
    if (f->kind == FIELD_NULL)
        goose__buf_adds(b, text == goose__buf_json_str ? "null" : "");
    else if (f->kind == FIELD_BOOL)
        goose__buf_adds(b, f->number ? "true" : "false");
    else if (f->text)
        text(b, f->text);
    else
        goose__buf_printf(b, "%lld", f->number);
}

static void put_json(goose_buf *b, const field *f, size_t n)
{
    goose__buf_add(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        goose__buf_printf(b, "%s\"%s\":", i ? "," : "", f[i].key);
        put_value(b, &f[i], goose__buf_json_str);
    }
    goose__buf_add(b, "}\n", 2);
}

static void put_csv(goose_buf *b, const field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            goose__buf_add(b, ",", 1);
        put_value(b, &f[i], goose__buf_csv_field);
    }
    goose__buf_add(b, "\n", 1);
}

/* raw text is quoted only when it would not read as one value */
static int raw_text(goose_buf *b, const char *s)
{
    return strpbrk(s, " \t\r\n\"\\=") ? goose__buf_json_str(b, s) : goose__buf_adds(b, s);
}

/* raw: key=value pairs on one line, for people and grep */
static void put_raw(goose_buf *b, const field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        goose__buf_printf(b, "%s%s=", i ? " " : "", f[i].key);
        put_value(b, &f[i], raw_text);
    }
    goose__buf_add(b, "\n", 1);
}

static void put_line(goose_thread *t, int log, const field *f, size_t n)
{
    goose_buf *b = &t->logs[log];
    switch (t->engine->cfg.log_formats[log]) {
    case GOOSE_FORMAT_CSV:
        put_csv(b, f, n);
        break;
    case GOOSE_FORMAT_RAW:
        put_raw(b, f, n);
        break;
    default:
        put_json(b, f, n);
    }
    if (b->len >= HANDOVER_BYTES)
        goose__sink_submit(t->engine->cfg.log_sinks[log], b);
}

/* Milliseconds from the start of the run to `at` (a request's sending,
 * a transaction's end). */
static long long elapsed_ms(const goose_user *u, uint64_t at)
{
    uint64_t t0 = u->thread->engine->t0_us; /* a goose_record may begin before */
    return at > t0 ? (long long)((at - t0) / 1000) : 0;
}

static const char *transaction_of(const goose_user *u)
{
    return u->tx ? u->tx->name : "";
}

void goose__log_request(goose_user *u, const goose_reply *r, const char *error)
{
    const goose_run_config *cfg = &u->thread->engine->cfg;
    field f[] = {
        {"elapsed_ms", NULL, elapsed_ms(u, r->sent_us), 0}, {"user", NULL, goose_user_index(u), 0},
        {"scenario", u->scenario->name, 0, 0}, {"transaction", transaction_of(u), 0, 0},
        {"method", r->method.data, 0, 0}, {"name", r->name.data, 0, 0},
        {"url", r->url.data ? r->url.data : "", 0, 0},
        {"status", NULL, r->status, r->any_protocol ? FIELD_NULL : 0}, /* a record has none */
        {"response_time_us", NULL, (long long)r->elapsed_us, 0},
        {"success", NULL, error == NULL, 1}, {"error", error ? error : "", 0, 0}};
    if (cfg->log_sinks[GOOSE_LOGFILE_REQUESTS])
        put_line(u->thread, GOOSE_LOGFILE_REQUESTS, f, sizeof f / sizeof f[0]);
    if (error && cfg->log_sinks[GOOSE_LOGFILE_ERRORS]) {
        field e[] = {f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[10]};
        put_line(u->thread, GOOSE_LOGFILE_ERRORS, e, sizeof e / sizeof e[0]);
    }
}

void goose__log_transaction(goose_user *u, int success, uint64_t elapsed_us)
{
    if (!u->thread->engine->cfg.log_sinks[GOOSE_LOGFILE_TRANSACTIONS])
        return;
    field f[] = {{"elapsed_ms", NULL, elapsed_ms(u, goose__now_us()), 0},
                 {"user", NULL, goose_user_index(u), 0},
                 {"scenario", u->scenario->name, 0, 0},
                 {"transaction", transaction_of(u), 0, 0}, {"success", NULL, success, 1},
                 {"response_time_us", NULL, (long long)elapsed_us, 0}};
    put_line(u->thread, GOOSE_LOGFILE_TRANSACTIONS, f, sizeof f / sizeof f[0]);
}

void goose__logs_handover(goose_thread *t)
{
    for (int i = 0; i < GOOSE_LOGFILES; i++)
        if (t->engine->cfg.log_sinks[i])
            goose__sink_submit(t->engine->cfg.log_sinks[i], &t->logs[i]);
}
