/* A peer that has gone raises SIGPIPE on the next write, which would end
 * the host program.  The library installs no handler: it blocks SIGPIPE in
 * the threads that write to sockets (its own, or the caller's for the length
 * of a call) and swallows what arrived meanwhile; the write then fails with
 * EPIPE, as it should. */
#ifndef GOOSE_UTIL_SIGPIPE_H
#define GOOSE_UTIL_SIGPIPE_H

#include <signal.h>

void goose__sigpipe_block(sigset_t *old);
void goose__sigpipe_restore(const sigset_t *old);

#endif
