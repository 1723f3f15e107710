#include "util/sigpipe.h"

#include <pthread.h>
#include <time.h>

void goose__sigpipe_block(sigset_t *old)
{
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, old);
}

void goose__sigpipe_restore(const sigset_t *old)
{
    if (sigismember(old, SIGPIPE))
        return; /* it was blocked before: nothing to undo */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    struct timespec now = {0, 0};
    while (sigtimedwait(&pipe, NULL, &now) == SIGPIPE)
        ; /* ours, raised while blocked: not the host's to see */
    pthread_sigmask(SIG_SETMASK, old, NULL);
}
