/* A background event loop (see loop.h). */
#include "util/loop.h"

#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/sigpipe.h"

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopbreak(arg);
}

int goose__loop_init(goose_loop *l)
{
    l->base = NULL;
    l->quit = NULL;
    l->started = 0;
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wake_fd < 0 || !(l->base = event_base_new()) ||
        !(l->quit = event_new(l->base, l->wake_fd, EV_READ, on_quit, l->base)) ||
        event_add(l->quit, NULL) < 0)
        return -1;
    return 0;
}

static void *serve(void *arg)
{
    goose_loop *l = arg;
    sigset_t mask;
    goose__sigpipe_block(&mask); /* a peer that leaves early */
    event_base_dispatch(l->base);
    return NULL;
}

int goose__loop_start(goose_loop *l)
{
    if (pthread_create(&l->thread, NULL, serve, l) != 0)
        return -1;
    l->started = 1;
    return 0;
}

void goose__loop_stop(goose_loop *l)
{
    if (!l->started)
        return;
    uint64_t one = 1;
    ssize_t n = write(l->wake_fd, &one, sizeof one);
    (void)n;
    pthread_join(l->thread, NULL);
    l->started = 0;
}

void goose__loop_free(goose_loop *l)
{
    if (l->quit)
        event_free(l->quit);
    if (l->base)
        event_base_free(l->base);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    l->quit = NULL;
    l->base = NULL;
    l->wake_fd = -1;
}
