/*
 * embedded_worker.c - a small C service that also makes load: it answers
 * its own HTTP health checks on a libevent loop while a Gaggle Worker runs
 * beside it (gaggle_worker_start), and leaves when the test is over.
 *
 *   cc embedded_worker.c $(pkg-config --cflags --libs libgoose) -levent -o svc
 *   ./svc --manager --expect-workers 1 --host http://127.0.0.1:8080 -u 10 -t 30s
 *   GOOSE_MANAGER_HOST=127.0.0.1 ./svc serve 9000     # health on :9000
 *   ./svc serve 9000 --manager-port 6000               # Worker options after the port
 *
 * The Worker reads its options as goose_main() would, from GOOSE_*
 * variables and the arguments after the port (goose_attack_parse_args),
 * so GOOSE_MANAGER_PORT reaches it.
 * The same binary is the Manager (through goose_main) and the service that
 * hosts a Worker: both register the same load test, so their hashes agree.
 */
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <goose.h>
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

/* The service's own loop notices when the Worker's test is over. */
static void on_check(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    struct service *svc = arg;
    if (!gaggle_worker_done(svc->worker))
        return;
    int rc = gaggle_worker_join(svc->worker);
    svc->worker = NULL;
    svc->status = rc == GOOSE_OK ? 0 : 1;
    printf("worker finished: %s\n", goose_strerror(rc));
    event_base_loopbreak(svc->base);
}

static int serve(goose_attack *attack, unsigned short port, int argc, char **argv)
{
    struct service svc = {event_base_new(), NULL, 1};
    struct evhttp *http = evhttp_new(svc.base);
    struct event *check = event_new(svc.base, -1, EV_PERSIST, on_check, &svc);
    struct timeval every = {0, 100000};
    if (!http || !check || evhttp_bind_socket(http, "127.0.0.1", port) != 0) {
        fprintf(stderr, "error: cannot serve on 127.0.0.1:%u\n", port);
        return 1;
    }
    evhttp_set_cb(http, "/health", on_health, NULL);
    goose_attack_set_option(attack, "worker", NULL);
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
    printf("serving health checks on 127.0.0.1:%u while the worker runs\n", port);
    fflush(stdout);
    event_add(check, &every);
    event_base_dispatch(svc.base);
    if (svc.worker) { /* the loop ended first: stop the worker, then wait */
        gaggle_worker_stop(svc.worker);
        gaggle_worker_join(svc.worker);
    }
    event_free(check);
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
