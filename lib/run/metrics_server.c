/* --metrics-listen: a thread of its own serves the page the run renders
 * once a second (report/prometheus.c), so a scrape never touches the
 * engine. */
#include "run/run.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/hostport.h"
#include "util/loop.h"

struct goose_metrics_server {
    goose_loop loop;
    struct evhttp *http;
    pthread_mutex_t lock;
    char *page;              /* the latest rendering */
};

static void on_request(struct evhttp_request *req, void *arg)
{
    goose_metrics_server *m = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (!path || strcmp(path, "/metrics") != 0) {
        evhttp_send_error(req, 404, "only /metrics is here");
        return;
    }
    struct evbuffer *body = evbuffer_new();
    pthread_mutex_lock(&m->lock);
    evbuffer_add(body, m->page ? m->page : "", m->page ? strlen(m->page) : 0);
    pthread_mutex_unlock(&m->lock);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

goose_metrics_server *goose__metrics_start(goose_attack *a, const char *hostport)
{
    char host[256];
    unsigned port;
    if (goose__split_hostport(hostport, host, sizeof host, &port) < 0) {
        goose__fail(a, GOOSE_ECONFIG, "--metrics-listen \"%s\" must be HOST:PORT or PORT",
                    hostport);
        return NULL;
    }
    goose_metrics_server *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    if (goose__loop_init(&m->loop) < 0 || !(m->http = evhttp_new(m->loop.base)) ||
        evhttp_bind_socket(m->http, host, (ev_uint16_t)port) != 0) {
        goose__fail(a, GOOSE_ECONFIG, "--metrics-listen: cannot listen on %s:%u", host, port);
        goose__metrics_stop(m);
        return NULL;
    }
    evhttp_set_gencb(m->http, on_request, m);
    if (goose__loop_start(&m->loop) < 0) {
        goose__fail(a, GOOSE_ESYS, "--metrics-listen: cannot start its thread");
        goose__metrics_stop(m);
        return NULL;
    }
    return m;
}

void goose__metrics_update(goose_metrics_server *m, char *page)
{
    if (!m || !page) {
        free(page);
        return;
    }
    pthread_mutex_lock(&m->lock);
    free(m->page);
    m->page = page;
    pthread_mutex_unlock(&m->lock);
}

void goose__metrics_stop(goose_metrics_server *m)
{
    if (!m)
        return;
    goose__loop_stop(&m->loop); /* the loop is the server thread's */
    if (m->http)
        evhttp_free(m->http);
    goose__loop_free(&m->loop);
    pthread_mutex_destroy(&m->lock);
    free(m->page);
    free(m);
}
