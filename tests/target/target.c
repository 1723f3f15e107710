/*
 * goose-target: the built-in HTTP target server for the demo and the
 * end-to-end tests.  One thread, one event_base, libevent's evhttp.
 *
 * usage: goose-target [--port N] [--host H] [--port-file PATH]
 *                     [--access-log PATH]
 *
 * It binds to loopback only, prints "port N" once bound, and exits 0 on
 * SIGTERM, SIGINT or GET /shutdown.  /stats counts every answered request
 * except the control endpoints (/stats, /reset, /shutdown).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#define MAX_KEYS 100000           /* distinct /stats paths before "(other)" */
#define OTHER_KEY "(other)"
#define MAX_SLOW_MS 60000
#define MAX_BYTES (64UL << 20)
#define MAX_REDIRECTS 1000000UL
#define CHUNK_SIZE 65536          /* shared 'x' block for /bytes */
#define LISTEN_BACKLOG 4096       /* thousands of clients connect at once */
#define IDLE_TIMEOUT_SEC 120
#define MAX_HEADERS_SIZE (64 << 10)
#define MAX_BODY_SIZE (64L << 20)
#define MAX_LOGIN_NAMES 1000000UL /* distinct /account/login names tracked */

struct opts {
	const char *host;
	unsigned port;
	const char *port_file;
	const char *log_path;
	const char *netns_address;	/* an IPv4 address of a test's netns */
};

struct path_entry {
	char *key;
	size_t len;
	uint32_t hash;
	uint64_t count;
};

/* Open addressing over indices into ent[], so /stats lists paths in the
 * order they were first seen. */
struct path_table {
	struct path_entry *ent;
	size_t n, cap;
	uint32_t *slot;           /* index + 1; 0 is empty */
	size_t nslot;             /* power of two */
	uint64_t total;
};

struct slow;
struct site;

/* test_start/test_stop (tests/test-once.c): the token POST /setup/token
 * handed out last, and what /stats says of it. */
struct setup_counts {
	char token[40];
	uint64_t tokens, valid, invalid;
	uint64_t checks_before_token; /* checks when the last token was made */
	uint64_t teardowns, valid_at_teardown; /* at the last /setup/teardown */
};

static void setup_stats_json(const struct setup_counts *c,
    struct evbuffer *b);

struct app {
	struct event_base *base;
	struct evhttp *http;
	struct event *sig_int;
	struct event *sig_term;
	struct event *flush_timer;
	struct path_table paths;
	struct path_table logins;	/* /account/login's names; total: logins */
	uint64_t logins_overflow;	/* logins of names past MAX_LOGIN_NAMES */
	uint64_t sessions;
	FILE *log;
	struct slow *slow_head;
	struct site *site;
	struct setup_counts *setup;
	char chunk[CHUNK_SIZE];
};

/* A delayed /slow reply.  The connection is watched for EOF meanwhile,
 * since evhttp stops reading while a request awaits its answer. */
struct slow {
	struct app *app;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *timer;
	struct event *watch;
	struct slow *prev, *next;
};

/* ---- small helpers ---- */

/* The routes, as request_cb() dispatches them: a first test is written
 * from this list. */
static void usage(FILE *f)
{
	fputs("usage: goose-target [--port N] [--host 127.0.0.1] "
	    "[--port-file PATH] [--access-log PATH]\n"
	    "       [--test-netns-address IPV4]  (only inside a network "
	    "namespace a test created)\n"
	    "\n"
	    "Routes (GET unless said):\n"
	    "  /                 200 \"Hello, goose!\"\n"
	    "  /node/N           200 an HTML page titled \"node N\" linking "
	    "/node/N+1\n"
	    "  /status/CODE      that status (200-599), body \"status CODE\"; "
	    "a 3xx points at /\n"
	    "  /redirect/N       302 to /redirect/N-1, the last to /\n"
	    "  /redirect-to/PORT[/PATH] any method: 302 to http://127.0.0.1:PORT/PATH\n"
	    "  /slow?ms=N        200 after N ms (at most 60000)\n"
	    "  /barrier/N?ms=M   200 once N requests wait on /barrier/N at "
	    "once, else 504 after M ms (2000)\n"
	    "  /bytes/N          200 with N bytes of 'x' (at most 64 MiB)\n"
	    "  /peer             200 with the client's address\n"
	    "  /cookies/set?K=V  200 setting cookie K=V (one per pair)\n"
	    "  /cookies          200 with the Cookie header received\n"
	    "  /logout           200 \"logged out\"\n"
	    "  /account/login?name=N  GET, or POST with a form name=N: 200 "
	    "\"hello N\";\n"
	    "                    no name 400 (/stats: logins, distinct_logins, "
	    "logins_overflow)\n"
	    "  POST /login       302 to / with a new session cookie\n"
	    "  /echo             any method: the method, URI, headers and body\n"
	    "  /echo/body        any method: the request body alone\n"
	    "  POST /setup/token 200 a new random token (the last one is "
	    "the valid one)\n"
	    "  /setup/check?token=T  200 when T is that token, else 403 "
	    "(counted valid/invalid)\n"
	    "  /setup/teardown   200: notes how many checks were valid by "
	    "then\n"
	    "  /assets/page?other=PORT, /assets/base, /assets/short, "
	    "/assets/many, /assets/text\n"
	    "                    pages with assets, for goose_load_assets "
	    "(other: one on\n"
	    "                    127.0.0.1:PORT too); /assets/text is "
	    "text/plain\n"
	    "  /assets/NAME, /img/NAME  assets (each counted by path), else 404:\n"
	    "    /assets/style.css, /assets/favicon.ico, /assets/cdn.png, "
	    "/assets/sub/b.png\n"
	    "                    max-age=60\n"
	    "    /assets/app.js  no-store\n"
	    "    /assets/nocache.gif  no-cache\n"
	    "    /img/logo.png   Expires 60 s after Date\n"
	    "    /assets/short.png  max-age=1, an ETag: 304 to its "
	    "If-None-Match\n"
	    "  anything else     404\n"
	    "Control (never counted): /stats (JSON counts per path; \"site\": "
	    "tokens accepted\n"
	    "  and rejected, logins, edits, per route; \"setup\": tokens, "
	    "valid,\n"
	    "  invalid, checks_before_token, teardowns, valid_at_teardown), "
	    "/reset (zeroes the "
	    "counts), /shutdown,\n"
	    "  /account/count?name=N (JSON: how many /account/login had that "
	    "name)\n"
	    "The site (Umami-like, the pages a real-site script needs):\n"
	    "  /home             200 HTML \"Goose Umami\": the assets below, "
	    "links to /node/1-10\n"
	    "  /theme/style.css, /theme/site.js, /theme/logo.svg, "
	    "/theme/favicon.ico\n"
	    "                    assets, Cache-Control max-age (cacheable)\n"
	    "  /media/banner.png an asset, Cache-Control no-store\n"
	    "  /user/login       200 HTML login form; hidden form_token: a new "
	    "one-time token\n"
	    "  POST /user/login  form name, password (\"secret\"), form_token: "
	    "303 to /home,\n"
	    "                    cookie SESS; a missing, used or stale token 403 "
	    "(the token's\n"
	    "                    + / = are written &#43; &#x2F; &#61;: decode, "
	    "then percent-encode)\n"
	    "  /user/logout      303 to /home, the session ended\n"
	    "  /node/N/edit      logged in: 200 HTML edit form with its own token, "
	    "else 403\n"
	    "  POST /node/N/edit form title, form_token (of that form): 303 to "
	    "/node/N, else 403\n"
	    "  /api/nodes        200 JSON {\"data\":{\"items\":[{\"id\":1,..},..]}}\n"
	    "  /api/nodes/ID     200 JSON {\"data\":{\"id\":ID,\"title\":..}}, "
	    "else 404 (ids from\n"
	    "                    1000000: the last 1024 made by POST)\n"
	    "  POST /api/nodes   JSON {\"title\":..}: 201 with its id; not JSON "
	    "400\n"
	    "  Tokens (4096) and sessions (4096) are capped: the oldest is "
	    "dropped.\n", f);
}

/* Strict decimal: digits only, no sign, value <= max. */
static int parse_dec(const char *s, size_t len, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (unsigned long)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "UNKNOWN";
}

/* HEAD is answered like GET; evhttp drops the body itself. */
static bool is_get(struct evhttp_request *req)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	return cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
}

static bool is_post(struct evhttp_request *req)
{
	return evhttp_request_get_command(req) == EVHTTP_REQ_POST;
}

/* The path without query or fragment, as sent (not percent-decoded). */
static const char *req_path(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	return path && *path ? path : "/";
}

static const char *req_query(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);

	return uri ? evhttp_uri_get_query(uri) : NULL;
}

/* ---- path counters ---- */

static uint32_t fnv1a(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static size_t table_find_slot(const struct path_table *t, const char *key,
    size_t len, uint32_t hash)
{
	size_t mask = t->nslot - 1, i = hash & mask;

	for (;; i = (i + 1) & mask) {
		const struct path_entry *e;

		if (t->slot[i] == 0)
			return i;
		e = &t->ent[t->slot[i] - 1];
		if (e->hash == hash && e->len == len &&
		    memcmp(e->key, key, len) == 0)
			return i;
	}
}

static int table_rehash(struct path_table *t, size_t nslot)
{
	uint32_t *slot = calloc(nslot, sizeof(*slot));
	size_t i;

	if (slot == NULL)
		return -1;
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	for (i = 0; i < t->n; i++) {
		struct path_entry *e = &t->ent[i];

		t->slot[table_find_slot(t, e->key, e->len, e->hash)] =
		    (uint32_t)(i + 1);
	}
	return 0;
}

/* Room for one more entry: ent[] grows by doubling, load stays <= 1/2. */
static int table_reserve(struct path_table *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct path_entry *ent = realloc(t->ent, cap * sizeof(*ent));

		if (ent == NULL)
			return -1;
		t->ent = ent;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->nslot)
		return table_rehash(t, t->nslot ? t->nslot * 2 : 128);
	return 0;
}

static struct path_entry *table_get(struct path_table *t, const char *key,
    size_t len)
{
	uint32_t hash = fnv1a(key, len);
	struct path_entry *e;
	size_t i;

	if (t->nslot && t->slot[i = table_find_slot(t, key, len, hash)])
		return &t->ent[t->slot[i] - 1];
	if (table_reserve(t) < 0)
		return NULL;
	e = &t->ent[t->n];
	if ((e->key = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->hash = hash;
	e->count = 0;
	t->slot[table_find_slot(t, key, len, hash)] = (uint32_t)++t->n;
	return e;
}

static bool table_has(const struct path_table *t, const char *key, size_t len)
{
	return t->nslot &&
	    t->slot[table_find_slot(t, key, len, fnv1a(key, len))] != 0;
}

static void table_count(struct path_table *t, const char *key)
{
	size_t len = strlen(key);
	struct path_entry *e;

	if (t->n >= MAX_KEYS && !table_has(t, key, len)) {
		key = OTHER_KEY;
		len = strlen(key);
	}
	t->total++;
	if ((e = table_get(t, key, len)) != NULL)
		e->count++;
}

static void table_free(struct path_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->ent[i].key);
	free(t->ent);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---- JSON ---- */

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		lo = c == 0xE0 ? 0xA0 : lo;     /* no overlongs */
		hi = c == 0xED ? 0x9F : hi;     /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		lo = c == 0xF0 ? 0x90 : lo;
		hi = c == 0xF4 ? 0x8F : hi;     /* <= U+10FFFF */
	} else {
		return 0;
	}
	if (n <= need || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return need + 1;
}

/* Valid UTF-8 passes through; other bytes >= 0x80 become \u00XX. */
static void json_quote(struct evbuffer *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	evbuffer_add(b, "\"", 1);
	while (i < n) {
		if (s[i] == '"' || s[i] == '\\') {
			evbuffer_add_printf(b, "\\%c", s[i++]);
		} else if (s[i] < 0x20 || s[i] == 0x7F) {
			evbuffer_add_printf(b, "\\u%04x", s[i++]);
		} else if (s[i] < 0x80) {
			evbuffer_add(b, &s[i++], 1);
		} else if ((k = utf8_len(&s[i], n - i)) != 0) {
			evbuffer_add(b, &s[i], k);
			i += k;
		} else {
			evbuffer_add_printf(b, "\\u%04x", s[i++]);
		}
	}
	evbuffer_add(b, "\"", 1);
}

static void barrier_stats(struct evbuffer *b);

static void stats_json(const struct path_table *t, struct evbuffer *b)
{
	size_t i;

	evbuffer_add_printf(b, "{\"total\": %" PRIu64 ", \"paths\": {",
	    t->total);
	for (i = 0; i < t->n; i++) {
		if (i > 0)
			evbuffer_add(b, ", ", 2);
		json_quote(b, t->ent[i].key, t->ent[i].len);
		evbuffer_add_printf(b, ": %" PRIu64, t->ent[i].count);
	}
	evbuffer_add(b, "}", 1);
	barrier_stats(b);
}

/* ---- replies ---- */

static void send_reply(struct evhttp_request *req, int code)
{
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	char len[32];

	/* evhttp only adds Content-Length for keep-alive; always send it,
	 * except where HTTP forbids a body. */
	if (code != 204 && code != 304) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(body));
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", len);
	}
	evhttp_send_reply(req, code, NULL, NULL);
}

/* Every counted answer goes through here, at the moment it is sent. */
static void respond(struct app *app, struct evhttp_request *req, int code)
{
	table_count(&app->paths, req_path(req));
	if (app->log)
		fprintf(app->log, "%s %s %d\n",
		    method_name(evhttp_request_get_command(req)),
		    evhttp_request_get_uri(req), code);
	send_reply(req, code);
}

static void respond_text(struct app *app, struct evhttp_request *req,
    int code, const char *text)
{
	evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
	respond(app, req, code);
}

static void add_header(struct evhttp_request *req, const char *name,
    const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), name, value);
}

static void not_found(struct app *app, struct evhttp_request *req)
{
	respond_text(app, req, 404, "not found\n");
}

static void bad_request(struct app *app, struct evhttp_request *req)
{
	respond_text(app, req, 400, "bad request\n");
}

/* ---- /slow ---- */

static void slow_free(struct slow *s)
{
	event_free(s->timer);
	event_free(s->watch);
	evhttp_connection_set_closecb(s->evcon, NULL, NULL);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->app->slow_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

static void slow_fire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slow *s = arg;
	struct app *app = s->app;
	struct evhttp_request *req = s->req;

	(void)fd;
	(void)what;
	slow_free(s);
	respond_text(app, req, 200, "slow\n");
}

/* The client went away first: drop the timer and the connection, so the
 * request is freed with it and never counted. */
static void slow_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slow *s = arg;
	struct evhttp_connection *evcon = s->evcon;
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	(void)what;
	if (r > 0)
		return;         /* a pipelined request: stop watching */
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR)) {
		event_add(s->watch, NULL);
		return;
	}
	slow_free(s);
	evhttp_connection_free(evcon);
}

/* evhttp freed the connection itself.  A request it detached from the
 * connection is ours to free; an attached one evhttp frees next. */
static void slow_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct slow *s = arg;
	struct evhttp_request *req = s->req;
	bool detached = evhttp_request_get_connection(req) == NULL;

	(void)evcon;
	slow_free(s);
	if (detached)
		evhttp_request_free(req);
}

static int slow_start(struct app *app, struct evhttp_request *req,
    unsigned long ms)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct timeval tv = { (time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000 };
	struct slow *s = calloc(1, sizeof(*s));
	evutil_socket_t fd;

	if (s == NULL || evcon == NULL)
		goto fail;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	s->timer = evtimer_new(app->base, slow_fire_cb, s);
	s->watch = event_new(app->base, fd, EV_READ, slow_watch_cb, s);
	if (s->timer == NULL || s->watch == NULL ||
	    evtimer_add(s->timer, &tv) < 0 || event_add(s->watch, NULL) < 0)
		goto fail;
	s->app = app;
	s->req = req;
	s->evcon = evcon;
	s->next = app->slow_head;
	if (s->next)
		s->next->prev = s;
	app->slow_head = s;
	evhttp_connection_set_closecb(evcon, slow_close_cb, s);
	return 0;
fail:
	if (s && s->timer)
		event_free(s->timer);
	if (s && s->watch)
		event_free(s->watch);
	free(s);
	return -1;
}

static void handle_slow(struct app *app, struct evhttp_request *req)
{
	struct evkeyvalq q;
	const char *query = req_query(req), *ms_s;
	unsigned long ms = 0;
	int rc = -1;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0 &&
	    (ms_s = evhttp_find_header(&q, "ms")) != NULL)
		rc = parse_dec(ms_s, strlen(ms_s), MAX_SLOW_MS, &ms);
	evhttp_clear_headers(&q);
	if (rc < 0)
		bad_request(app, req);
	else if (slow_start(app, req, ms) < 0)
		respond_text(app, req, 500, "out of memory\n");
}

/* ---- /barrier/N (tests/test-batch.c) ----
 * A request waits until N requests wait on /barrier/N at once, then they
 * are all answered 200; one still waiting after ?ms=M (default 2000, at
 * most 10000) gets 504.  So a batch of N succeeds only when its N
 * requests were under way at once: concurrency shown without timing.
 * /stats gives "barrier_max", the most requests ever waiting on barriers
 * at once (a user's connections at once, over HTTP/1.1). */

#define BARRIER_MAX_N 1000
#define BARRIER_MAX_MS 10000

struct barrier_wait {
	struct app *app;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *timer;
	unsigned long n;
	struct barrier_wait *prev, *next;
};

static struct barrier_wait *barrier_head;
static unsigned long barrier_waiting, barrier_max;

static void barrier_stats(struct evbuffer *b)
{
	evbuffer_add_printf(b, ", \"barrier_max\": %lu", barrier_max);
}

static void barrier_drop(struct barrier_wait *w)
{
	event_free(w->timer);
	evhttp_connection_set_closecb(w->evcon, NULL, NULL);
	if (w->prev)
		w->prev->next = w->next;
	else
		barrier_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	barrier_waiting--;
	free(w);
}

static void barrier_answer(struct barrier_wait *w, int code)
{
	struct app *app = w->app;
	struct evhttp_request *req = w->req;
	char text[48];

	snprintf(text, sizeof(text), "barrier %lu%s\n", w->n,
	    code == 200 ? "" : ": timed out");
	barrier_drop(w);
	respond_text(app, req, code, text);
}

static void barrier_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	barrier_answer(arg, 504);
}

/* evhttp freed the connection (the client went): never answered. */
static void barrier_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct barrier_wait *w = arg;
	struct evhttp_request *req = w->req;
	bool detached = evhttp_request_get_connection(req) == NULL;

	(void)evcon;
	barrier_drop(w);
	if (detached)
		evhttp_request_free(req);
}

static void barrier_release(unsigned long n)
{
	struct barrier_wait *w = barrier_head, *next;

	for (; w != NULL; w = next) {
		next = w->next;
		if (w->n == n)
			barrier_answer(w, 200);
	}
}

static void handle_barrier(struct app *app, struct evhttp_request *req,
    const char *arg)
{
	struct evkeyvalq q;
	const char *query = req_query(req), *ms_s;
	unsigned long n, ms = 2000, same = 0;
	struct timeval tv;
	struct barrier_wait *w;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0 &&
	    (ms_s = evhttp_find_header(&q, "ms")) != NULL &&
	    parse_dec(ms_s, strlen(ms_s), BARRIER_MAX_MS, &ms) < 0)
		ms = ULONG_MAX;
	evhttp_clear_headers(&q);
	if (parse_dec(arg, strlen(arg), BARRIER_MAX_N, &n) < 0 || n == 0 ||
	    ms == ULONG_MAX) {
		bad_request(app, req);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->evcon = evhttp_request_get_connection(req)) == NULL ||
	    (w->timer = evtimer_new(app->base, barrier_timeout_cb, w)) == NULL) {
		free(w);
		respond_text(app, req, 500, "out of memory\n");
		return;
	}
	w->app = app;
	w->req = req;
	w->n = n;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(w->timer, &tv);
	evhttp_connection_set_closecb(w->evcon, barrier_close_cb, w);
	w->next = barrier_head;
	if (barrier_head)
		barrier_head->prev = w;
	barrier_head = w;
	if (++barrier_waiting > barrier_max)
		barrier_max = barrier_waiting;
	for (w = barrier_head; w != NULL; w = w->next)
		same += w->n == n;
	if (same >= n)
		barrier_release(n);
}

static void barrier_free_all(void)
{
	while (barrier_head) {
		struct evhttp_request *req = barrier_head->req;
		bool detached = evhttp_request_get_connection(req) == NULL;

		barrier_drop(barrier_head);
		if (detached)
			evhttp_request_free(req);
	}
}

/* ---- other endpoints ---- */

static void handle_login(struct app *app, struct evhttp_request *req)
{
	char cookie[64];

	snprintf(cookie, sizeof(cookie), "session=goose-%" PRIu64 "; Path=/",
	    ++app->sessions);
	add_header(req, "Location", "/");
	add_header(req, "Set-Cookie", cookie);
	respond_text(app, req, 302, "logged in\n");
}

static void handle_node(struct app *app, struct evhttp_request *req,
    const char *id)
{
	unsigned long n;

	if (parse_dec(id, strlen(id), ULONG_MAX, &n) < 0) {
		not_found(app, req);
		return;
	}
	add_header(req, "Content-Type", "text/html; charset=utf-8");
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	    "<html><head><title>node %lu</title></head>"
	    "<body><h1>node %lu</h1><a href=\"/node/%lu\">next</a>"
	    "</body></html>\n", n, n, n + 1);
	respond(app, req, 200);
}

static void handle_status(struct app *app, struct evhttp_request *req,
    const char *arg)
{
	unsigned long code;

	if (parse_dec(arg, strlen(arg), 599, &code) < 0 || code < 200) {
		bad_request(app, req);
		return;
	}
	if (code >= 300 && code < 400)
		add_header(req, "Location", "/");
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
	    "status %lu\n", code);
	respond(app, req, (int)code);
}

static void handle_redirect(struct app *app, struct evhttp_request *req,
    const char *arg)
{
	unsigned long n;
	char loc[40];

	if (parse_dec(arg, strlen(arg), MAX_REDIRECTS, &n) < 0) {
		not_found(app, req);
		return;
	}
	if (n == 0)
		snprintf(loc, sizeof(loc), "/");
	else
		snprintf(loc, sizeof(loc), "/redirect/%lu", n - 1);
	add_header(req, "Location", loc);
	respond_text(app, req, 302, "redirect\n");
}

/* /redirect-to/PORT[/PATH]: to http://127.0.0.1:PORT/PATH (the front page
 * without a path), another server (only ever loopback). */
static void handle_redirect_to(struct app *app, struct evhttp_request *req,
    const char *arg)
{
	unsigned long port;
	const char *slash = strchr(arg, '/');
	size_t digits = slash ? (size_t)(slash - arg) : strlen(arg);
	char loc[160];

	if (parse_dec(arg, digits, 65535, &port) < 0 || port == 0 ||
	    (slash && strlen(slash) > 100)) {
		not_found(app, req);
		return;
	}
	snprintf(loc, sizeof(loc), "http://127.0.0.1:%lu%s", port,
	    slash ? slash : "/");
	add_header(req, "Location", loc);
	respond_text(app, req, 302, "redirect\n");
}

static void handle_bytes(struct app *app, struct evhttp_request *req,
    const char *arg)
{
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	unsigned long n, k;

	if (parse_dec(arg, strlen(arg), MAX_BYTES, &n) < 0) {
		bad_request(app, req);
		return;
	}
	/* References to one shared block: no copy, however large. */
	for (; n > 0; n -= k) {
		k = n < CHUNK_SIZE ? n : CHUNK_SIZE;
		evbuffer_add_reference(body, app->chunk, k, NULL, NULL);
	}
	add_header(req, "Content-Type", "application/octet-stream");
	respond(app, req, 200);
}

/* RFC 6265 cookie-name is a token; cookie-value is cookie-octets. */
static bool cookie_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7F || strchr("()<>@,;:\\\"/[]?={}", *s))
			return false;
	return true;
}

static bool cookie_value_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7F || strchr("\",;\\", *s))
			return false;
	return true;
}

static void handle_cookies_set(struct app *app, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	struct evkeyvalq q;
	const char *query = req_query(req);
	struct evkeyval *kv;
	char line[512];
	bool ok;

	TAILQ_INIT(&q);
	ok = query && evhttp_parse_query_str(query, &q) == 0 && q.tqh_first;
	for (kv = q.tqh_first; ok && kv; kv = kv->next.tqe_next)
		ok = cookie_name_ok(kv->key) && cookie_value_ok(kv->value) &&
		    strlen(kv->key) + strlen(kv->value) < sizeof(line) - 16;
	for (kv = q.tqh_first; ok && kv; kv = kv->next.tqe_next) {
		snprintf(line, sizeof(line), "%s=%s; Path=/", kv->key,
		    kv->value);
		add_header(req, "Set-Cookie", line);
		evbuffer_add_printf(body, "set %s=%s\n", kv->key, kv->value);
	}
	evhttp_clear_headers(&q);
	if (ok)
		respond(app, req, 200);
	else
		bad_request(app, req);
}

static void handle_cookies(struct app *app, struct evhttp_request *req)
{
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cookie");

	respond_text(app, req, 200, c ? c : "");
}

/* GET /peer: the client's address, to check which source address it used. */
static void handle_peer(struct app *app, struct evhttp_request *req)
{
	char *addr = NULL;
	ev_uint16_t port = 0;
	char body[80];

	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
	snprintf(body, sizeof(body), "%s\n", addr ? addr : "?");
	respond_text(app, req, 200, body);
}

static void handle_echo(struct app *app, struct evhttp_request *req)
{
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;

	evbuffer_add_printf(body, "method %s\nuri %s\n",
	    method_name(evhttp_request_get_command(req)),
	    evhttp_request_get_uri(req));
	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		evbuffer_add_printf(body, "header %s: %s\n", kv->key, kv->value);
	/* A blank line, then the request body as received. */
	if (evbuffer_get_length(in) > 0) {
		evbuffer_add(body, "\n", 1);
		evbuffer_add_buffer(body, in);
	}
	respond(app, req, 200);
}

/* The request body alone: a POSTed JSON or HTML document comes back as
 * a response body the readers take whole. */
static void handle_echo_body(struct app *app, struct evhttp_request *req)
{
	evbuffer_add_buffer(evhttp_request_get_output_buffer(req),
	    evhttp_request_get_input_buffer(req));
	respond(app, req, 200);
}

/* ---- the site: pages a real-site script needs (Umami-like) ----
 *
 * A front page with its assets and links to node pages, a login form and
 * a node edit form, each carrying a one-time token checked here, and a
 * JSON API.  Tokens, sessions and created nodes live in fixed rings: the
 * oldest is dropped, so memory stays bounded whatever the load. */

#define SITE_NODES 10             /* the nodes /home and /api/nodes list */
#define SITE_TOKENS 4096          /* outstanding form tokens */
#define SITE_SESSIONS 4096
#define SITE_CREATED 1024         /* nodes of POST /api/nodes kept */
#define SITE_FIRST_ID 1000000UL   /* the id of the first created node */
#define SITE_BODY_MAX 8192        /* a form or JSON body, at most */
#define SITE_TITLE_MAX 255
#define SITE_NAME_MAX 60
#define SITE_PASSWORD "secret"
#define SITE_COOKIE "SESS"
#define SITE_RAND_BYTES 16
#define SITE_TOKEN_LEN 24         /* base64 of 16 bytes, "==" included */
#define SITE_SID_LEN 22           /* base64url of 16 bytes, unpadded */

enum site_route {
	SITE_HOME, SITE_LOGIN_FORM, SITE_LOGIN, SITE_LOGOUT, SITE_EDIT_FORM,
	SITE_EDIT, SITE_API_LIST, SITE_API_NODE, SITE_API_CREATE, SITE_ROUTES
};

/* The keys of /stats "site" "routes": one per method and route, so a
 * report's "POST /user/login" holds against one number. */
static const char *const site_route_names[SITE_ROUTES] = {
	"GET /home", "GET /user/login", "POST /user/login",
	"GET /user/logout", "GET /node/N/edit", "POST /node/N/edit",
	"GET /api/nodes", "GET /api/nodes/ID", "POST /api/nodes",
};

struct site_token {
	char text[SITE_TOKEN_LEN + 1];  /* "" when free or used */
	char sid[SITE_SID_LEN + 1];     /* an edit token's session */
	unsigned long node;             /* an edit token's node; 0: login */
};

struct site_session {
	char sid[SITE_SID_LEN + 1];     /* "" when free */
	char name[SITE_NAME_MAX + 1];
};

struct site_node {
	unsigned long id;
	char title[SITE_TITLE_MAX + 1];
};

/* What /stats reports and /reset clears. */
struct site_counts {
	uint64_t routes[SITE_ROUTES];
	uint64_t tokens_issued, tokens_accepted, tokens_rejected;
	uint64_t tokens_dropped, logins, login_failures, logouts;
	uint64_t sessions_dropped, edits, nodes_created;
};

struct site {
	struct site_token tokens[SITE_TOKENS];
	size_t next_token;
	struct site_session sessions[SITE_SESSIONS];
	size_t next_session;
	struct site_node created[SITE_CREATED];
	unsigned long n_created;
	struct site_counts n;
};

static const unsigned char site_png[] = {   /* 1x1, transparent */
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
	0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x70, 0xc0, 0xe0,
	0x3f, 0x00, 0x07, 0x64, 0x02, 0xe0, 0x3d, 0xc4, 0x5e, 0xe8, 0x00, 0x00,
	0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* An icon directory of one 1x1 32-bit image: the PNG above. */
static const unsigned char site_ico[] = {
	0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
	0x20, 0x00, 0x46, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x89, 0x50,
	0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
	0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
	0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
	0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0x70, 0xc0, 0xe0, 0x3f, 0x00,
	0x07, 0x64, 0x02, 0xe0, 0x3d, 0xc4, 0x5e, 0xe8, 0x00, 0x00, 0x00, 0x00,
	0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

static const char site_css[] =
    "body { font-family: sans-serif; margin: 0 auto; max-width: 40em; }\n"
    "header { display: flex; justify-content: space-between; }\n";
static const char site_js[] =
    "document.documentElement.className = 'js';\n";
static const char site_svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"16\" height=\"16\">"
    "<circle cx=\"8\" cy=\"8\" r=\"7\" fill=\"#888\"/></svg>\n";

/* The assets the site's pages reference: the theme is cacheable, the
 * banner (a rotating one, on a real site) is not. */
static const struct site_asset {
	const char *path, *type, *cache;
	const void *data;
	size_t len;
} site_assets[] = {
	{ "/theme/style.css", "text/css; charset=utf-8",
	    "public, max-age=3600", site_css, sizeof(site_css) - 1 },
	{ "/theme/site.js", "text/javascript; charset=utf-8",
	    "public, max-age=3600", site_js, sizeof(site_js) - 1 },
	{ "/theme/logo.svg", "image/svg+xml",
	    "public, max-age=3600", site_svg, sizeof(site_svg) - 1 },
	{ "/theme/favicon.ico", "image/x-icon",
	    "public, max-age=86400", site_ico, sizeof(site_ico) },
	{ "/media/banner.png", "image/png",
	    "no-store", site_png, sizeof(site_png) },
};

static struct site *site_new(void)
{
	return calloc(1, sizeof(struct site));
}

static void site_reset(struct site *s)
{
	memset(&s->n, 0, sizeof(s->n));
}

static void base64(const unsigned char *in, size_t n, char *out,
    const char *alphabet, bool pad)
{
	size_t i, o = 0;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;

		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		if (k > 1)
			out[o++] = alphabet[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (k > 2)
			out[o++] = alphabet[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

/* A random token: standard base64 ('+', '/' and "==" that a form post
 * must percent-encode, as Rails' authenticity tokens), or base64url for
 * a cookie. */
static int site_random(char *out, bool url)
{
	unsigned char raw[SITE_RAND_BYTES];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	base64(raw, sizeof(raw), out, url ?
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" :
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	    !url);
	return 0;
}

/* A new token for a login (sid NULL) or for editing node of session sid;
 * the oldest outstanding one makes room. */
static const char *site_token_issue(struct site *s, const char *sid,
    unsigned long node)
{
	struct site_token *t = &s->tokens[s->next_token];

	if (t->text[0])
		s->n.tokens_dropped++;
	if (site_random(t->text, false) < 0) {
		t->text[0] = '\0';
		return NULL;
	}
	snprintf(t->sid, sizeof(t->sid), "%s", sid ? sid : "");
	t->node = node;
	s->next_token = (s->next_token + 1) % SITE_TOKENS;
	s->n.tokens_issued++;
	return t->text;
}

/* Takes a token once: it must have been issued for this session and node
 * and not used since.  Counts it accepted or rejected. */
static bool site_token_take(struct site *s, const char *text,
    const char *sid, unsigned long node)
{
	size_t i;

	if (text && strlen(text) == SITE_TOKEN_LEN) {
		for (i = 0; i < SITE_TOKENS; i++) {
			struct site_token *t = &s->tokens[i];

			if (strcmp(t->text, text) != 0)
				continue;
			if (t->node != node ||
			    strcmp(t->sid, sid ? sid : "") != 0)
				break;
			t->text[0] = '\0';
			s->n.tokens_accepted++;
			return true;
		}
	}
	s->n.tokens_rejected++;
	return false;
}

/* The value of cookie name in a Cookie header, copied to out, or false. */
static bool cookie_get(const char *header, const char *name, char *out,
    size_t size)
{
	size_t n = strlen(name), len;
	const char *p = header;

	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		len = strcspn(p, ";");
		if (len > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			len -= n + 1;
			while (len > 0 && p[n + 1 + len - 1] == ' ')
				len--;
			if (len >= size)
				return false;
			memcpy(out, p + n + 1, len);
			out[len] = '\0';
			return true;
		}
		p += len;
	}
	return false;
}

/* The live session of the request's cookie, or NULL. */
static struct site_session *site_session_of(struct site *s,
    struct evhttp_request *req)
{
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Cookie");
	char sid[SITE_SID_LEN + 1];
	size_t i;

	if (c == NULL || !cookie_get(c, SITE_COOKIE, sid, sizeof(sid)) ||
	    strlen(sid) != SITE_SID_LEN)
		return NULL;
	for (i = 0; i < SITE_SESSIONS; i++)
		if (strcmp(s->sessions[i].sid, sid) == 0)
			return &s->sessions[i];
	return NULL;
}

static struct site_session *site_session_new(struct site *s,
    const char *name)
{
	struct site_session *ss = &s->sessions[s->next_session];

	if (ss->sid[0])
		s->n.sessions_dropped++;
	if (site_random(ss->sid, true) < 0) {
		ss->sid[0] = '\0';
		return NULL;
	}
	snprintf(ss->name, sizeof(ss->name), "%s", name);
	s->next_session = (s->next_session + 1) % SITE_SESSIONS;
	return ss;
}

static size_t site_live_sessions(const struct site *s)
{
	size_t i, n = 0;

	for (i = 0; i < SITE_SESSIONS; i++)
		n += s->sessions[i].sid[0] != '\0';
	return n;
}

/* Text for an HTML text node or a quoted attribute. */
static void html_text(struct evbuffer *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&#39;", 5); break;
		default: evbuffer_add(b, s, 1); break;
		}
	}
}

/* A token in a value attribute, its punctuation as character references
 * (OWASP's attribute encoding): a script must decode them, as a browser
 * does, to post the token back. */
static void html_token(struct evbuffer *b, const char *token)
{
	for (; *token; token++) {
		if (*token == '/')
			evbuffer_add(b, "&#x2F;", 6);
		else if (*token == '+')
			evbuffer_add(b, "&#43;", 5);
		else if (*token == '=')
			evbuffer_add(b, "&#61;", 5);
		else
			evbuffer_add(b, token, 1);
	}
}

static void site_head(struct evbuffer *b, const char *title)
{
	evbuffer_add_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>");
	html_text(b, title);
	evbuffer_add_printf(b, "</title>\n"
	    "<link rel=\"stylesheet\" href=\"/theme/style.css\">\n"
	    "<link rel=\"icon\" href=\"/theme/favicon.ico\">\n"
	    "<script src=\"/theme/site.js\"></script>\n</head>\n<body>\n");
}

static void site_html(struct app *app, struct evhttp_request *req, int code)
{
	evbuffer_add(evhttp_request_get_output_buffer(req),
	    "</body></html>\n", 15);
	add_header(req, "Content-Type", "text/html; charset=utf-8");
	respond(app, req, code);
}

/* A short HTML page for a refusal, so a check on its title can tell. */
static void site_refuse(struct app *app, struct evhttp_request *req,
    int code, const char *title, const char *why)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	site_head(b, title);
	evbuffer_add(b, "<p>", 3);
	html_text(b, why);
	evbuffer_add(b, "</p>\n", 5);
	site_html(app, req, code);
}

static void site_home(struct app *app, struct evhttp_request *req)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	struct site_session *ss = site_session_of(app->site, req);
	unsigned i;

	site_head(b, "Goose Umami");
	evbuffer_add_printf(b, "<header><img src=\"/theme/logo.svg\" "
	    "alt=\"Goose Umami\">");
	if (ss) {
		evbuffer_add_printf(b, "<p>Logged in as ");
		html_text(b, ss->name);
		evbuffer_add_printf(b, " <a href=\"/user/logout\">Log out"
		    "</a></p>");
	} else {
		evbuffer_add_printf(b, "<a href=\"/user/login\">Log in</a>");
	}
	evbuffer_add_printf(b, "</header>\n<img src=\"/media/banner.png\" "
	    "alt=\"\">\n<h1>Goose Umami</h1>\n<ul>\n");
	for (i = 1; i <= SITE_NODES; i++)
		evbuffer_add_printf(b, "<li><a href=\"/node/%u\">node %u</a>"
		    "</li>\n", i, i);
	evbuffer_add_printf(b, "</ul>\n");
	site_html(app, req, 200);
}

static bool site_asset(struct app *app, struct evhttp_request *req,
    const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(site_assets) / sizeof(site_assets[0]); i++) {
		const struct site_asset *a = &site_assets[i];

		if (strcmp(path, a->path) != 0)
			continue;
		evbuffer_add_reference(evhttp_request_get_output_buffer(req),
		    a->data, a->len, NULL, NULL);
		add_header(req, "Content-Type", a->type);
		add_header(req, "Cache-Control", a->cache);
		respond(app, req, 200);
		return true;
	}
	return false;
}

/* The body of a POST as a string, NULL (answered) when it is too large,
 * holds a NUL or its Content-Type is not want's. */
static char *site_body(struct app *app, struct evhttp_request *req,
    const char *want)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *type = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Content-Type");
	size_t len = evbuffer_get_length(in), n = strlen(want);
	char *text;

	if (type == NULL || strncasecmp(type, want, n) != 0 ||
	    (type[n] != '\0' && type[n] != ';' && type[n] != ' ')) {
		respond_text(app, req, 415, "unsupported content type\n");
		return NULL;
	}
	if (len > SITE_BODY_MAX) {
		respond_text(app, req, 413, "body too large\n");
		return NULL;
	}
	if ((text = malloc(len + 1)) == NULL) {
		respond_text(app, req, 500, "out of memory\n");
		return NULL;
	}
	evbuffer_copyout(in, text, len);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		bad_request(app, req);
		return NULL;
	}
	return text;
}

/* A form body's fields (percent- and '+'-decoded) into q; false when
 * answered. */
static bool site_form(struct app *app, struct evhttp_request *req,
    struct evkeyvalq *q)
{
	char *text = site_body(app, req, "application/x-www-form-urlencoded");
	int rc;

	TAILQ_INIT(q);
	if (text == NULL)
		return false;
	rc = evhttp_parse_query_str(text, q);
	free(text);
	if (rc < 0) {
		evhttp_clear_headers(q);
		bad_request(app, req);
		return false;
	}
	return true;
}

static void site_login_form(struct app *app, struct evhttp_request *req)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	const char *token = site_token_issue(app->site, NULL, 0);

	if (token == NULL) {
		respond_text(app, req, 500, "no random bytes\n");
		return;
	}
	site_head(b, "Log in");
	evbuffer_add_printf(b, "<h1>Log in</h1>\n"
	    "<form method=\"post\" action=\"/user/login\">\n"
	    "<input type=\"text\" name=\"name\" value=\"\">\n"
	    "<input type=\"password\" name=\"password\">\n"
	    "<input type=\"hidden\" name=\"form_token\" value=\"");
	html_token(b, token);
	evbuffer_add_printf(b, "\">\n<input type=\"hidden\" name=\"form_id\" "
	    "value=\"user_login_form\">\n"
	    "<input type=\"submit\" value=\"Log in\">\n</form>\n");
	site_html(app, req, 200);
}

static void site_login(struct app *app, struct evhttp_request *req)
{
	struct site *s = app->site;
	struct evkeyvalq q;
	const char *name, *password;
	struct site_session *ss;
	char cookie[64];

	if (!site_form(app, req, &q))
		return;
	name = evhttp_find_header(&q, "name");
	password = evhttp_find_header(&q, "password");
	if (!site_token_take(s, evhttp_find_header(&q, "form_token"), NULL, 0)) {
		site_refuse(app, req, 403, "Access denied",
		    "The form token is missing, used or stale.");
	} else if (name == NULL || *name == '\0' ||
	    strlen(name) > SITE_NAME_MAX || password == NULL ||
	    strcmp(password, SITE_PASSWORD) != 0) {
		s->n.login_failures++;
		site_refuse(app, req, 403, "Log in",
		    "Unrecognized username or password.");
	} else if ((ss = site_session_new(s, name)) == NULL) {
		respond_text(app, req, 500, "no random bytes\n");
	} else {
		s->n.logins++;
		snprintf(cookie, sizeof(cookie), SITE_COOKIE "=%s; Path=/; "
		    "HttpOnly", ss->sid);
		add_header(req, "Set-Cookie", cookie);
		add_header(req, "Location", "/home");
		respond_text(app, req, 303, "logged in\n");
	}
	evhttp_clear_headers(&q);
}

static void site_logout(struct app *app, struct evhttp_request *req)
{
	struct site_session *ss = site_session_of(app->site, req);

	if (ss) {
		ss->sid[0] = '\0';
		app->site->n.logouts++;
	}
	add_header(req, "Set-Cookie", SITE_COOKIE "=; Path=/; Max-Age=0");
	add_header(req, "Location", "/home");
	respond_text(app, req, 303, "logged out\n");
}

static void site_edit_form(struct app *app, struct evhttp_request *req,
    unsigned long node)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	struct site_session *ss = site_session_of(app->site, req);
	const char *token;
	char title[32];

	if (ss == NULL) {
		site_refuse(app, req, 403, "Access denied", "Log in first.");
		return;
	}
	if ((token = site_token_issue(app->site, ss->sid, node)) == NULL) {
		respond_text(app, req, 500, "no random bytes\n");
		return;
	}
	snprintf(title, sizeof(title), "Edit node %lu", node);
	site_head(b, title);
	evbuffer_add_printf(b, "<h1>Edit node %lu</h1>\n"
	    "<form method=\"post\" action=\"/node/%lu/edit\">\n"
	    "<input type=\"text\" name=\"title\" value=\"node %lu\">\n"
	    "<textarea name=\"body\">The body of node %lu &amp; more."
	    "</textarea>\n<select name=\"status\">"
	    "<option value=\"0\">Draft</option>"
	    "<option value=\"1\" selected>Published</option></select>\n"
	    "<input type=\"hidden\" name=\"form_token\" value=\"",
	    node, node, node, node);
	html_token(b, token);
	evbuffer_add_printf(b, "\">\n<input type=\"submit\" value=\"Save\">\n"
	    "</form>\n");
	site_html(app, req, 200);
}

static void site_edit(struct app *app, struct evhttp_request *req,
    unsigned long node)
{
	struct site *s = app->site;
	struct site_session *ss = site_session_of(s, req);
	struct evkeyvalq q;
	const char *title;
	char loc[40];

	if (ss == NULL) {
		site_refuse(app, req, 403, "Access denied", "Log in first.");
		return;
	}
	if (!site_form(app, req, &q))
		return;
	title = evhttp_find_header(&q, "title");
	if (!site_token_take(s, evhttp_find_header(&q, "form_token"), ss->sid,
	    node)) {
		site_refuse(app, req, 403, "Access denied",
		    "The form token is missing, used or stale.");
	} else if (title == NULL || *title == '\0' ||
	    strlen(title) > SITE_TITLE_MAX) {
		site_refuse(app, req, 400, "Edit node",
		    "A title of 1 to 255 bytes is required.");
	} else {
		s->n.edits++;
		snprintf(loc, sizeof(loc), "/node/%lu", node);
		add_header(req, "Location", loc);
		respond_text(app, req, 303, "saved\n");
	}
	evhttp_clear_headers(&q);
}

static void site_json(struct app *app, struct evhttp_request *req, int code)
{
	add_header(req, "Content-Type", "application/json");
	respond(app, req, code);
}

static void site_json_error(struct app *app, struct evhttp_request *req,
    int code, const char *detail)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	evbuffer_add_printf(b, "{\"errors\": [{\"status\": \"%d\", "
	    "\"detail\": ", code);
	json_quote(b, detail, strlen(detail));
	evbuffer_add(b, "}]}\n", 4);
	site_json(app, req, code);
}

static void site_api_item(struct evbuffer *b, unsigned long id,
    const char *title)
{
	evbuffer_add_printf(b, "{\"id\": %lu, \"type\": \"node\", "
	    "\"title\": ", id);
	json_quote(b, title, strlen(title));
	evbuffer_add(b, "}", 1);
}

static void site_api_list(struct app *app, struct evhttp_request *req)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	char title[32];
	unsigned i;

	evbuffer_add_printf(b, "{\"data\": {\"items\": [");
	for (i = 1; i <= SITE_NODES; i++) {
		snprintf(title, sizeof(title), "node %u", i);
		if (i > 1)
			evbuffer_add(b, ", ", 2);
		site_api_item(b, i, title);
	}
	evbuffer_add_printf(b, "], \"count\": %u}}\n", SITE_NODES);
	site_json(app, req, 200);
}

/* Nodes below SITE_FIRST_ID are the generated /node/N pages; above, the
 * last SITE_CREATED made by POST. */
static void site_api_node(struct app *app, struct evhttp_request *req,
    const char *arg)
{
	struct site *s = app->site;
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	unsigned long id, k;
	char title[32];
	const char *t = NULL;

	if (parse_dec(arg, strlen(arg), ULONG_MAX, &id) < 0 || id == 0) {
		site_json_error(app, req, 404, "no such node");
		return;
	}
	if (id < SITE_FIRST_ID) {
		snprintf(title, sizeof(title), "node %lu", id);
		t = title;
	} else if ((k = id - SITE_FIRST_ID) < s->n_created &&
	    s->n_created - k <= SITE_CREATED) {
		t = s->created[k % SITE_CREATED].title;
	}
	if (t == NULL) {
		site_json_error(app, req, 404, "no such node");
		return;
	}
	evbuffer_add(b, "{\"data\": ", 9);
	site_api_item(b, id, t);
	evbuffer_add(b, "}\n", 2);
	site_json(app, req, 200);
}

static void site_api_create(struct app *app, struct evhttp_request *req)
{
	struct site *s = app->site;
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	char *text = site_body(app, req, "application/json"), loc[48];
	json_error_t err;
	json_t *doc, *title;
	struct site_node *n;

	if (text == NULL)
		return;
	doc = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	free(text);
	title = json_object_get(doc, "title");
	if (doc == NULL) {
		site_json_error(app, req, 400, err.text);
	} else if (!json_is_string(title) || json_string_length(title) == 0 ||
	    json_string_length(title) > SITE_TITLE_MAX ||
	    strlen(json_string_value(title)) != json_string_length(title)) {
		site_json_error(app, req, 422,
		    "an object with a \"title\" of 1 to 255 bytes is required");
	} else {
		n = &s->created[s->n_created % SITE_CREATED];
		n->id = SITE_FIRST_ID + s->n_created++;
		snprintf(n->title, sizeof(n->title), "%s",
		    json_string_value(title));
		s->n.nodes_created++;
		snprintf(loc, sizeof(loc), "/api/nodes/%lu", n->id);
		add_header(req, "Location", loc);
		evbuffer_add(b, "{\"data\": ", 9);
		site_api_item(b, n->id, n->title);
		evbuffer_add(b, "}\n", 2);
		site_json(app, req, 201);
	}
	json_decref(doc);
}

/* "/node/N/edit": N, or 0 when path is not that. */
static unsigned long site_edit_node(const char *path)
{
	const char *id, *end;
	unsigned long n;

	if (!has_prefix(path, "/node/"))
		return 0;
	id = path + 6;
	end = strchr(id, '/');
	if (end == NULL ||
	    strcmp(end, "/edit") != 0 ||
	    parse_dec(id, (size_t)(end - id), ULONG_MAX, &n) < 0)
		return 0;
	return n;
}

static enum site_route site_route_of(struct evhttp_request *req,
    const char *path, unsigned long *node)
{
	bool get = is_get(req), post = is_post(req);

	if (get && strcmp(path, "/home") == 0)
		return SITE_HOME;
	if (strcmp(path, "/user/login") == 0)
		return get ? SITE_LOGIN_FORM : post ? SITE_LOGIN : SITE_ROUTES;
	if (get && strcmp(path, "/user/logout") == 0)
		return SITE_LOGOUT;
	if ((*node = site_edit_node(path)) != 0)
		return get ? SITE_EDIT_FORM : post ? SITE_EDIT : SITE_ROUTES;
	if (strcmp(path, "/api/nodes") == 0)
		return get ? SITE_API_LIST : post ? SITE_API_CREATE : SITE_ROUTES;
	if (get && has_prefix(path, "/api/nodes/"))
		return SITE_API_NODE;
	return SITE_ROUTES;
}

/* Returns true when path was one of the site's and has been answered. */
static bool site_route(struct app *app, struct evhttp_request *req,
    const char *path)
{
	unsigned long node = 0;
	enum site_route r = site_route_of(req, path, &node);

	if (r == SITE_ROUTES)
		return is_get(req) && site_asset(app, req, path);
	app->site->n.routes[r]++;
	switch (r) {
	case SITE_HOME: site_home(app, req); break;
	case SITE_LOGIN_FORM: site_login_form(app, req); break;
	case SITE_LOGIN: site_login(app, req); break;
	case SITE_LOGOUT: site_logout(app, req); break;
	case SITE_EDIT_FORM: site_edit_form(app, req, node); break;
	case SITE_EDIT: site_edit(app, req, node); break;
	case SITE_API_LIST: site_api_list(app, req); break;
	case SITE_API_NODE: site_api_node(app, req, path + 11); break;
	case SITE_API_CREATE: site_api_create(app, req); break;
	case SITE_ROUTES: break;
	}
	return true;
}

/* ", \"site\": {...}" for /stats. */
static void site_stats_json(const struct site *s, struct evbuffer *b)
{
	const struct site_counts *n = &s->n;
	size_t i;

	evbuffer_add_printf(b, ", \"site\": {\"tokens_issued\": %" PRIu64
	    ", \"tokens_accepted\": %" PRIu64 ", \"tokens_rejected\": %" PRIu64
	    ", \"tokens_dropped\": %" PRIu64 ", \"logins\": %" PRIu64
	    ", \"login_failures\": %" PRIu64 ", \"logouts\": %" PRIu64
	    ", \"sessions\": %zu, \"sessions_dropped\": %" PRIu64
	    ", \"edits\": %" PRIu64 ", \"nodes_created\": %" PRIu64
	    ", \"routes\": {", n->tokens_issued, n->tokens_accepted,
	    n->tokens_rejected, n->tokens_dropped, n->logins,
	    n->login_failures, n->logouts, site_live_sessions(s),
	    n->sessions_dropped, n->edits, n->nodes_created);
	for (i = 0; i < SITE_ROUTES; i++)
		evbuffer_add_printf(b, "%s\"%s\": %" PRIu64, i ? ", " : "",
		    site_route_names[i], n->routes[i]);
	evbuffer_add(b, "}}", 2);
}

/* ---- test data accounts (tests/test-data.c) ----
 * /account/login counts each name it is given: "distinct_logins" is how
 * many different users logged in, so a test sees that every user had its
 * own row.  The names are bounded: past MAX_LOGIN_NAMES a new name is only
 * counted in "logins_overflow". */

static void handle_account_login(struct app *app, struct evhttp_request *req)
{
	struct evkeyvalq q;
	const char *query = req_query(req), *name;
	struct path_entry *e;

	TAILQ_INIT(&q);
	if (is_post(req)) {
		if (!site_form(app, req, &q))
			return;
	} else if (query && evhttp_parse_query_str(query, &q) < 0) {
		bad_request(app, req);
		return;
	}
	if ((name = evhttp_find_header(&q, "name")) == NULL || *name == '\0') {
		evhttp_clear_headers(&q);
		respond_text(app, req, 400, "no name\n");
		return;
	}
	app->logins.total++;
	if (app->logins.n >= MAX_LOGIN_NAMES &&
	    !table_has(&app->logins, name, strlen(name)))
		app->logins_overflow++;
	else if ((e = table_get(&app->logins, name, strlen(name))) != NULL)
		e->count++;
	evbuffer_add_printf(evhttp_request_get_output_buffer(req), "hello ");
	evbuffer_add(evhttp_request_get_output_buffer(req), name, strlen(name));
	evbuffer_add(evhttp_request_get_output_buffer(req), "\n", 1);
	evhttp_clear_headers(&q);
	respond(app, req, 200);
}

/* ", \"logins\": ..." for /stats. */
static void account_stats_json(const struct app *app, struct evbuffer *b)
{
	evbuffer_add_printf(b, ", \"logins\": %" PRIu64 ", \"distinct_logins\": "
	    "%zu, \"logins_overflow\": %" PRIu64, app->logins.total,
	    app->logins.n, app->logins_overflow);
}

/* A control endpoint: {"name": N, "count": how many logins had it}. */
static void handle_account_count(struct app *app, struct evhttp_request *req)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	struct evkeyvalq q;
	const char *query = req_query(req), *name = NULL;
	uint64_t count = 0;
	size_t i;

	TAILQ_INIT(&q);
	if (query == NULL || evhttp_parse_query_str(query, &q) < 0 ||
	    (name = evhttp_find_header(&q, "name")) == NULL) {
		evhttp_clear_headers(&q);
		evbuffer_add_printf(b, "no name\n");
		send_reply(req, 400);
		return;
	}
	if (app->logins.nslot &&
	    (i = app->logins.slot[table_find_slot(&app->logins, name,
	    strlen(name), fnv1a(name, strlen(name)))]) != 0)
		count = app->logins.ent[i - 1].count;
	add_header(req, "Content-Type", "application/json");
	evbuffer_add(b, "{\"name\": ", 9);
	json_quote(b, name, strlen(name));
	evbuffer_add_printf(b, ", \"count\": %" PRIu64 "}\n", count);
	evhttp_clear_headers(&q);
	send_reply(req, 200);
}

/* ---- control endpoints (never counted) ---- */

static void shutdown_done_cb(struct evhttp_request *req, void *arg)
{
	struct app *app = arg;

	(void)req;
	event_base_loopexit(app->base, NULL);
}

static void handle_shutdown(struct app *app, struct evhttp_request *req)
{
	struct timeval grace = { 1, 0 };

	/* Stop once the answer is written; the timeout covers a client that
	 * hangs up before that. */
	evhttp_request_set_on_complete_cb(req, shutdown_done_cb, app);
	event_base_loopexit(app->base, &grace);
	evbuffer_add(evhttp_request_get_output_buffer(req), "bye\n", 4);
	send_reply(req, 200);
}

static void handle_stats(struct app *app, struct evhttp_request *req)
{
	add_header(req, "Content-Type", "application/json");
	stats_json(&app->paths, evhttp_request_get_output_buffer(req));
	site_stats_json(app->site, evhttp_request_get_output_buffer(req));
	account_stats_json(app, evhttp_request_get_output_buffer(req));
	setup_stats_json(app->setup, evhttp_request_get_output_buffer(req));
	evbuffer_add(evhttp_request_get_output_buffer(req), "}\n", 2);
	send_reply(req, 200);
}

static void handle_reset(struct app *app, struct evhttp_request *req)
{
	table_free(&app->paths);
	table_free(&app->logins);
	app->logins_overflow = 0;
	site_reset(app->site);
	memset(app->setup, 0, sizeof(*app->setup));
	evbuffer_add(evhttp_request_get_output_buffer(req), "reset\n", 6);
	send_reply(req, 200);
}

/* ---- goose_load_assets' pages (tests/test-assets.c) ----
 * /assets/page references what a browser loads (some cacheable, some
 * not), what it never fetches, duplicates, a relative ../ path and, with
 * ?other=PORT, an asset of another origin (127.0.0.1:PORT); /assets/base
 * has a <base>; /assets/short a max-age=1 asset with an ETag (a matching
 * If-None-Match gets a 304); /assets/many 1100 images (404s) and
 * /assets/text is no HTML.  Every asset is its
 * own path in /stats. */

static const char assets_page[] =
	"<!DOCTYPE html><html><head><title>assets</title>\n"
	"<link rel=\"stylesheet\" href=\"/assets/style.css\">\n"
	"<link rel=\"icon\" href=\"favicon.ico\">\n"
	"<link rel=\"alternate\" href=\"/assets/feed.xml\">\n"
	"<script src=\"/assets/app.js?v=1\"></script>\n"
	"<script src=\"app.js?v=2#main\"></script>\n"
	"</head><body>\n"
	"<img src=\"../img/logo.png\">\n"
	"<img src=\" /assets/style.css#top \">\n"
	"<img src=\"/assets/nocache.gif\">\n"
	"<img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">\n"
	"<img src=\"javascript:void(0)\"><img src=\"about:blank\">\n"
	"<img src=\"blob:http://127.0.0.1/x\"><img src=\"\"><img src=\"#top\">\n"
	"<a href=\"/assets/link.html\">a link is no asset</a>\n";

/* An asset: its caching headers by name. */
static void handle_asset(struct app *app, struct evhttp_request *req,
    const char *path)
{
	const char *inm = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "If-None-Match");
	char date[64], expires[64];
	time_t now = time(NULL), later = now + 60;

	if (strcmp(path, "/assets/style.css") == 0 ||
	    strcmp(path, "/assets/favicon.ico") == 0 ||
	    strcmp(path, "/assets/cdn.png") == 0 ||
	    strcmp(path, "/assets/sub/b.png") == 0)
		add_header(req, "Cache-Control", "public, max-age=60");
	else if (strcmp(path, "/assets/app.js") == 0)
		add_header(req, "Cache-Control", "no-store");
	else if (strcmp(path, "/assets/nocache.gif") == 0)
		add_header(req, "Cache-Control", "no-cache, max-age=60");
	else if (strcmp(path, "/img/logo.png") == 0) {
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime(&now));
		strftime(expires, sizeof(expires), "%a, %d %b %Y %H:%M:%S GMT",
		    gmtime(&later));
		add_header(req, "Date", date);
		add_header(req, "Expires", expires);
	} else if (strcmp(path, "/assets/short.png") == 0) {
		add_header(req, "Cache-Control", "max-age=1");
		add_header(req, "ETag", "\"short-1\"");
		if (inm && strcmp(inm, "\"short-1\"") == 0) {
			respond(app, req, 304);
			return;
		}
	} else {
		not_found(app, req);
		return;
	}
	respond_text(app, req, 200, "asset\n");
}

static void handle_assets_page(struct app *app, struct evhttp_request *req,
    const char *path)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);
	struct evkeyvalq q;
	const char *query = req_query(req), *other;
	unsigned long port;
	unsigned i;

	if (strcmp(path, "/assets/page") == 0 ||
	    strcmp(path, "/assets/base") == 0 ||
	    strcmp(path, "/assets/many") == 0 ||
	    strcmp(path, "/assets/short") == 0)
		add_header(req, "Content-Type", "text/html; charset=utf-8");
	if (strcmp(path, "/assets/page") == 0) {
		evbuffer_add(b, assets_page, sizeof(assets_page) - 1);
		TAILQ_INIT(&q);
		if (query && evhttp_parse_query_str(query, &q) == 0 &&
		    (other = evhttp_find_header(&q, "other")) != NULL &&
		    parse_dec(other, strlen(other), 65535, &port) == 0)
			evbuffer_add_printf(b, "<img src=\"http://127.0.0.1:"
			    "%lu/assets/cdn.png\">\n", port);
		evhttp_clear_headers(&q);
		evbuffer_add_printf(b, "</body></html>\n");
	} else if (strcmp(path, "/assets/base") == 0) {
		evbuffer_add_printf(b, "<html><head><base href=\"/assets/sub/\">"
		    "<link rel=\"stylesheet\" href=\"../style.css\"></head>"
		    "<body><img src=\"b.png\"></body></html>\n");
	} else if (strcmp(path, "/assets/short") == 0) {
		evbuffer_add_printf(b, "<html><body><img src=\"short.png\">"
		    "</body></html>\n");
	} else if (strcmp(path, "/assets/many") == 0) {
		for (i = 0; i < 1100; i++) /* past the bound of 1000 */
			evbuffer_add_printf(b, "<img src=\"m/%u.png\">\n", i);
	} else if (strcmp(path, "/assets/text") == 0) {
		add_header(req, "Content-Type", "text/plain");
		evbuffer_add_printf(b, "<img src=\"/assets/style.css\">\n");
	} else {
		handle_asset(app, req, path);
		return;
	}
	respond(app, req, 200);
}

/* ---- test_start/test_stop's target (tests/test-once.c) ---- */

static void setup_token(struct app *app, struct evhttp_request *req)
{
	struct setup_counts *c = app->setup;
	unsigned char raw[12];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		respond_text(app, req, 500, "no random bytes\n");
		return;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(c->token + 2 * i, 3, "%02x", raw[i]);
	c->tokens++;
	c->checks_before_token = c->valid + c->invalid;
	respond_text(app, req, 200, c->token);
}

static void setup_check(struct app *app, struct evhttp_request *req)
{
	struct setup_counts *c = app->setup;
	const char *query = req_query(req), *token;
	struct evkeyvalq q;
	bool ok = false;

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) == 0 &&
	    (token = evhttp_find_header(&q, "token")) != NULL)
		ok = c->token[0] && strcmp(token, c->token) == 0;
	evhttp_clear_headers(&q);
	if (ok)
		c->valid++;
	else
		c->invalid++;
	respond_text(app, req, ok ? 200 : 403, ok ? "valid\n" : "invalid\n");
}

static void setup_teardown(struct app *app, struct evhttp_request *req)
{
	app->setup->teardowns++;
	app->setup->valid_at_teardown = app->setup->valid;
	respond_text(app, req, 200, "torn down\n");
}

/* ", \"setup\": {...}" for /stats. */
static void setup_stats_json(const struct setup_counts *c, struct evbuffer *b)
{
	evbuffer_add_printf(b, ", \"setup\": {\"tokens\": %" PRIu64
	    ", \"valid\": %" PRIu64 ", \"invalid\": %" PRIu64
	    ", \"checks_before_token\": %" PRIu64 ", \"teardowns\": %" PRIu64
	    ", \"valid_at_teardown\": %" PRIu64 "}", c->tokens, c->valid,
	    c->invalid, c->checks_before_token, c->teardowns,
	    c->valid_at_teardown);
}

/* Returns true when path was a control endpoint and has been answered. */
static bool handle_control(struct app *app, struct evhttp_request *req,
    const char *path)
{
	if (strcmp(path, "/stats") == 0)
		handle_stats(app, req);
	else if (strcmp(path, "/reset") == 0)
		handle_reset(app, req);
	else if (strcmp(path, "/shutdown") == 0)
		handle_shutdown(app, req);
	else if (strcmp(path, "/account/count") == 0)
		handle_account_count(app, req);
	else
		return false;
	return true;
}

static void route_get(struct app *app, struct evhttp_request *req,
    const char *path)
{
	if (strcmp(path, "/") == 0)
		respond_text(app, req, 200, "Hello, goose!\n");
	else if (strcmp(path, "/logout") == 0)
		respond_text(app, req, 200, "logged out\n");
	else if (has_prefix(path, "/node/"))
		handle_node(app, req, path + 6);
	else if (has_prefix(path, "/status/"))
		handle_status(app, req, path + 8);
	else if (has_prefix(path, "/redirect/"))
		handle_redirect(app, req, path + 10);
	else if (strcmp(path, "/slow") == 0)
		handle_slow(app, req);
	else if (has_prefix(path, "/barrier/"))
		handle_barrier(app, req, path + 9);
	else if (has_prefix(path, "/bytes/"))
		handle_bytes(app, req, path + 7);
	else if (strcmp(path, "/peer") == 0)
		handle_peer(app, req);
	else if (strcmp(path, "/cookies/set") == 0)
		handle_cookies_set(app, req);
	else if (strcmp(path, "/cookies") == 0)
		handle_cookies(app, req);
	else if (has_prefix(path, "/assets/") || has_prefix(path, "/img/"))
		handle_assets_page(app, req, path);
	else
		not_found(app, req);
}

static void request_cb(struct evhttp_request *req, void *arg)
{
	struct app *app = arg;
	const char *path = req_path(req);

	if (handle_control(app, req, path))
		return;
	if (site_route(app, req, path))
		return;
	if (strcmp(path, "/echo") == 0)
		handle_echo(app, req);
	else if (strcmp(path, "/echo/body") == 0)
		handle_echo_body(app, req);
	else if (has_prefix(path, "/redirect-to/")) /* any method, as /echo */
		handle_redirect_to(app, req, path + 13);
	else if (is_post(req) && strcmp(path, "/login") == 0)
		handle_login(app, req);
	else if ((is_get(req) || is_post(req)) &&
	    strcmp(path, "/account/login") == 0)
		handle_account_login(app, req);
	else if (is_post(req) && strcmp(path, "/setup/token") == 0)
		setup_token(app, req);
	else if (is_get(req) && strcmp(path, "/setup/check") == 0)
		setup_check(app, req);
	else if (is_get(req) && strcmp(path, "/setup/teardown") == 0)
		setup_teardown(app, req);
	else if (is_get(req))
		route_get(app, req, path);
	else
		not_found(app, req);
}

/* ---- setup and teardown ---- */

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;

	(void)sig;
	(void)what;
	event_base_loopexit(app->base, NULL);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *app = arg;

	(void)fd;
	(void)what;
	fflush(app->log);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);  /* best effort */
	}
}

static int resolve_host(const char *host, unsigned port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*sin);
		return 0;
	}
	if (strcmp(host, "::1") == 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* A test that made its own network namespace may bind an address there. */
static int resolve_netns(const char *addr, unsigned port,
    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
		return -1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	*len = sizeof(*sin);
	return 0;
}

static unsigned bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int app_listen(struct app *app, const struct opts *o, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct evconnlistener *lev;

	if ((o->netns_address ? resolve_netns(o->netns_address, o->port, &ss, &len)
	    : resolve_host(o->host, o->port, &ss, &len)) < 0)
		return -1;
	lev = evconnlistener_new_bind(app->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
	if (lev == NULL)
		return -1;
	if (evhttp_bind_listener(app->http, lev) == NULL) {
		evconnlistener_free(lev);
		return -1;
	}
	/* Accepted sockets inherit it: no Nagle delay between the headers
	 * and a body written separately. */
	int one = 1;
	setsockopt(evconnlistener_get_fd(lev), IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	*port = bound_port(evconnlistener_get_fd(lev));
	return *port ? 0 : -1;
}

static void configure_http(struct app *app)
{
	struct evhttp *http = app->http;

	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(http, MAX_HEADERS_SIZE);
	evhttp_set_max_body_size(http, MAX_BODY_SIZE);
	evhttp_set_timeout(http, IDLE_TIMEOUT_SEC);
	evhttp_set_default_content_type(http, "text/plain; charset=utf-8");
	evhttp_set_gencb(http, request_cb, app);
}

static int app_events(struct app *app)
{
	struct timeval sec = { 1, 0 };

	app->sig_int = evsignal_new(app->base, SIGINT, stop_cb, app);
	app->sig_term = evsignal_new(app->base, SIGTERM, stop_cb, app);
	if (!app->sig_int || !app->sig_term ||
	    evsignal_add(app->sig_int, NULL) < 0 ||
	    evsignal_add(app->sig_term, NULL) < 0)
		return -1;
	if (app->log == NULL)
		return 0;
	app->flush_timer = event_new(app->base, -1, EV_PERSIST, flush_cb, app);
	if (!app->flush_timer || event_add(app->flush_timer, &sec) < 0)
		return -1;
	return 0;
}

static void app_free(struct app *app)
{
	if (app == NULL)
		return;
	while (app->slow_head)
		slow_free(app->slow_head);
	barrier_free_all();
	if (app->http)
		evhttp_free(app->http);
	if (app->sig_int)
		event_free(app->sig_int);
	if (app->sig_term)
		event_free(app->sig_term);
	if (app->flush_timer)
		event_free(app->flush_timer);
	if (app->base)
		event_base_free(app->base);
	if (app->log)
		fclose(app->log);
	table_free(&app->paths);
	table_free(&app->logins);
	free(app->site);
	free(app->setup);
	free(app);
}

static struct app *app_new(const struct opts *o)
{
	struct app *app = calloc(1, sizeof(*app));

	if (app == NULL)
		return NULL;
	memset(app->chunk, 'x', sizeof(app->chunk));
	if (o->log_path && (app->log = fopen(o->log_path, "a")) == NULL) {
		fprintf(stderr, "goose-target: %s: %s\n", o->log_path,
		    strerror(errno));
		goto fail;
	}
	if ((app->site = site_new()) == NULL ||
	    (app->setup = calloc(1, sizeof(*app->setup))) == NULL) {
		fprintf(stderr, "goose-target: out of memory\n");
		goto fail;
	}
	if ((app->base = event_base_new()) == NULL ||
	    (app->http = evhttp_new(app->base)) == NULL ||
	    app_events(app) < 0) {
		fprintf(stderr, "goose-target: libevent setup failed\n");
		goto fail;
	}
	configure_http(app);
	return app;
fail:
	app_free(app);
	return NULL;
}

/* Temp file then rename: a reader sees no file or the whole number. */
static int write_port_file(const char *path, unsigned port)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	FILE *f = NULL;
	int rc = -1;

	if (tmp == NULL)
		goto out;
	snprintf(tmp, n, "%s.%ld.tmp", path, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL)
		goto out;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "goose-target: %s: %s\n", path, strerror(errno));
	free(tmp);
	return rc;
}

static int announce(const struct opts *o, unsigned port)
{
	if (o->port_file && write_port_file(o->port_file, port) < 0)
		return -1;
	printf("port %u\n", port);
	fflush(stdout);
	return 0;
}

/* ---- command line ---- */

/* "--name value" or "--name=value"; returns the value or NULL. */
static const char *flag_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "goose-target: %s needs a value\n", name);
		exit(2);
	}
	return argv[++*i];
}

static int parse_opt(int argc, char **argv, int *i, struct opts *o)
{
	const char *v;
	unsigned long port;

	if ((v = flag_value(argc, argv, i, "--port")) != NULL) {
		if (parse_dec(v, strlen(v), 65535, &port) < 0) {
			fprintf(stderr, "goose-target: bad --port '%s'\n", v);
			return -1;
		}
		o->port = (unsigned)port;
	} else if ((v = flag_value(argc, argv, i, "--host")) != NULL) {
		o->host = v;
	} else if ((v = flag_value(argc, argv, i, "--port-file")) != NULL) {
		o->port_file = v;
	} else if ((v = flag_value(argc, argv, i, "--access-log")) != NULL) {
		o->log_path = v;
	} else if ((v = flag_value(argc, argv, i, "--test-netns-address")) != NULL) {
		o->netns_address = v;
	} else {
		fprintf(stderr, "goose-target: unknown argument '%s'\n",
		    argv[*i]);
		return -1;
	}
	if (*v == '\0') {
		fprintf(stderr, "goose-target: empty value for '%s'\n", argv[*i]);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int i;

	o->host = "127.0.0.1";
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (parse_opt(argc, argv, &i, o) < 0)
			return -1;
	}
	if (o->netns_address && resolve_netns(o->netns_address, 0, &ss, &len) < 0) {
		fprintf(stderr, "goose-target: bad --test-netns-address '%s'\n",
		    o->netns_address);
		return -1;
	}
	if (!o->netns_address && resolve_host(o->host, 0, &ss, &len) < 0) {
		fprintf(stderr, "goose-target: refusing to bind '%s': only "
		    "127.0.0.1, ::1 or localhost\n", o->host);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { NULL, 0, NULL, NULL, NULL };
	struct app *app;
	unsigned port = 0;
	int rc = 1;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);       /* a vanished client is not fatal */
	raise_nofile();
	if ((app = app_new(&o)) == NULL)
		goto out;
	if (app_listen(app, &o, &port) < 0) {
		fprintf(stderr, "goose-target: cannot listen on %s:%u: %s\n",
		    o.host, o.port, strerror(errno));
		goto out;
	}
	if (announce(&o, port) < 0)
		goto out;
	if (event_base_dispatch(app->base) == 0)
		rc = 0;
out:
	app_free(app);
	libevent_global_shutdown();
	return rc;
}
