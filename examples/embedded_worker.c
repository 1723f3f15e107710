/*
 * embedded_worker.c - a small C service that also makes load: it answers
 * its own HTTP health checks on a libevent loop while a serving Gaggle
 * Worker runs beside it (gaggle_worker_start with worker-reconnect): the
 * Worker dials its Manager (again after each test, or waits on the same
 * connection when the Manager stays up with --no-autostart) and serves
 * test after test until the service is told to stop (SIGTERM or SIGINT).
 * The service learns each change of the Worker's state from the fd of
 * gaggle_worker_fd() in its own loop: no polling.
 *
 *   cc embedded_worker.c $(pkg-config --cflags --libs libgoose) -levent -o svc
 *   ./svc --manager --expect-workers 1 --host http://127.0.0.1:8080 -u 10 -t 30s
 *   GOOSE_MANAGER_HOST=127.0.0.1 ./svc serve 9000     # health on :9000
 *   ./svc serve 9000 --manager-port 6000               # Worker options after the port
 *
 * The Worker reads its options as goose_main() would, from GOOSE_*
 * variables and the arguments after the port (goose_attack_parse_args),
 * so GOOSE_MANAGER_PORT reaches it.  It prints one line per state change
 * ("worker: dialing", "worker: joined", "worker: running", "worker:
 * stopped: success").  A Manager that fails the key or certificate check
 * stops it too, and the service exits 1.
 * The same binary is the Manager (through goose_main) and the service that
 * hosts a Worker: both register the same load test, so their hashes agree.
 */
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <goose.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int browse(goose_user *u)
{
    goose_response_free(goose_get(u, "/"));
    return GOOSE_OK;
}

static goose_attack *load_test(void)
{
    goose_attack *attack = goose_attack_new();
    goose_scenario *s = goose_scenario_new("Browser");
    goose_scenario_set_wait_time(s, 10, 50);
    goose_scenario_add_transaction(s, "browse", browse);
    goose_attack_add_scenario(attack, s);
    return attack;
}

struct service {
    struct event_base *base;
    gaggle_worker *worker;
    struct event *changes; /* on the Worker's fd */
    int status;
};

static void on_health(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *body = evbuffer_new();
    evbuffer_add_printf(body, "ok\n");
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}

static const char *state_name(int state)
{
    switch (state) {
    case GAGGLE_WORKER_DIALING:
        return "dialing";
    case GAGGLE_WORKER_JOINED:
        return "joined";
    case GAGGLE_WORKER_RUNNING:
        return "running";
    default:
        return "stopped";
    }
}

/* The Worker's fd is readable: its state changed.  Once it has stopped
 * (asked to, or a Manager it must not trust), join it and leave. */
static void on_worker(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct service *svc = arg;
    int state = gaggle_worker_state(svc->worker);
    if (state != GAGGLE_WORKER_STOPPED) {
        printf("worker: %s\n", state_name(state));
        fflush(stdout);
        return;
    }
    event_del(svc->changes); /* the join closes its fd */
    int rc = gaggle_worker_join(svc->worker);
    svc->worker = NULL;
    svc->status = rc == GOOSE_OK ? 0 : 1;
    printf("worker: stopped: %s\n", goose_strerror(rc));
    event_base_loopbreak(svc->base);
}

/* The service's own signal handling: the Worker finishes a test under way
 * (its users stop, the Manager gets their last metrics), then stops. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    struct service *svc = arg;
    gaggle_worker_stop(svc->worker);
}

static int serve(goose_attack *attack, unsigned short port, int argc, char **argv)
{
    struct service svc = {event_base_new(), NULL, NULL, 1};
    struct evhttp *http = evhttp_new(svc.base);
    if (!http || evhttp_bind_socket(http, "127.0.0.1", port) != 0) {
        fprintf(stderr, "error: cannot serve on 127.0.0.1:%u\n", port);
        return 1;
    }
    evhttp_set_cb(http, "/health", on_health, NULL);
    goose_attack_set_option(attack, "worker", NULL);
    goose_attack_set_option(attack, "worker-reconnect", NULL); /* test after test */
    int rc = goose_attack_parse_args(attack, argc, argv);
    if (rc != GOOSE_OK) { /* a bad option, or --help */
        if (rc < 0)
            fprintf(stderr, "error: %s\n", goose_attack_error(attack));
        else
            printf("usage: svc serve PORT [Worker options of gaggle(7)]\n");
        return rc < 0 ? 2 : 0;
    }
    svc.worker = gaggle_worker_start(attack);
    if (!svc.worker) {
        fprintf(stderr, "error: cannot start the worker\n");
        return 1;
    }
    struct event *changes = svc.changes = event_new(svc.base, gaggle_worker_fd(svc.worker),
                                                    EV_READ | EV_PERSIST, on_worker, &svc);
    struct event *term = evsignal_new(svc.base, SIGTERM, on_signal, &svc);
    struct event *intr = evsignal_new(svc.base, SIGINT, on_signal, &svc);
    if (changes && term && intr && !event_add(changes, NULL) && !event_add(term, NULL) &&
        !event_add(intr, NULL)) {
        printf("serving health checks on 127.0.0.1:%u while the worker serves tests\n", port);
        fflush(stdout);
        event_base_dispatch(svc.base);
    } else {
        fprintf(stderr, "error: cannot watch the worker\n");
    }
    if (svc.worker) { /* the loop ended first: stop the worker, then wait */
        if (changes)
            event_del(changes);
        gaggle_worker_stop(svc.worker);
        gaggle_worker_join(svc.worker);
    }
    if (changes)
        event_free(changes);
    if (term)
        event_free(term);
    if (intr)
        event_free(intr);
    evhttp_free(http);
    event_base_free(svc.base);
    return svc.status;
}

int main(int argc, char **argv)
{
    goose_attack *attack = load_test();
    int status;
    if (argc >= 3 && strcmp(argv[1], "serve") == 0) /* argv[2] stands as the name */
        status = serve(attack, (unsigned short)atoi(argv[2]), argc - 2, argv + 2);
    else
        status = goose_main(attack, argc, argv);
    goose_attack_free(attack);
    return status;
}
