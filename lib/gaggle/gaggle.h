/* The Gaggle: one Manager and Workers over TCP.  Private to lib/. */
#ifndef GOOSE_GAGGLE_GAGGLE_H
#define GOOSE_GAGGLE_GAGGLE_H

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "attack.h"
#include "gaggle/wire.h"

#define GAGGLE_HEARTBEAT_US 1000000
#define GAGGLE_MAX_THREADS 1024 /* per Worker: shard index = worker * this + thread */

/* One TCP connection carrying frames.  Callbacks never free the peer: they
 * close it, and its owner frees closed peers from its own timer. */
typedef struct gaggle_peer gaggle_peer;
typedef void (*gaggle_msg_fn)(gaggle_peer *p, const char *type,
                              const msgpack_object *msg);
typedef void (*gaggle_close_fn)(gaggle_peer *p, const char *why);

struct gaggle_peer {
    struct bufferevent *bev;
    gaggle_msg_fn on_msg;
    gaggle_close_fn on_close;
    void *owner;
    uint64_t last_rx_us;
    uint64_t opened_us;
    int closed;           /* no more callbacks; free it */
    int flushing;         /* closing once the output is written */
    char addr[64];
};

gaggle_peer *goose__peer_new(struct event_base *base, evutil_socket_t fd,
                             gaggle_msg_fn on_msg, gaggle_close_fn on_close,
                             void *owner);
/* Connects to host:port (a name is resolved first, blocking). */
gaggle_peer *goose__peer_connect(struct event_base *base, const char *host,
                                 unsigned port, gaggle_msg_fn on_msg,
                                 gaggle_close_fn on_close, void *owner,
                                 char *err, size_t errlen);
int goose__peer_send(gaggle_peer *p, gaggle_out *o);
/* Writes what is queued, then closes; on_close is not called. */
void goose__peer_finish(gaggle_peer *p);
/* Closes now and calls on_close(why). */
void goose__peer_close(gaggle_peer *p, const char *why);
void goose__peer_free(gaggle_peer *p);

int goose__gaggle_hash(const goose_attack *a, char out[65]);

/* Options that make sense on one side only. */
int goose__gaggle_check_options(goose_attack *a, int manager);
void goose__gaggle_name(char *out, size_t len);

#endif
