/* "HOST:PORT", "[::1]:PORT" or "PORT" (127.0.0.1: never beyond loopback
 * unless told), for the ports libgoose listens on. */
#ifndef GOOSE_UTIL_HOSTPORT_H
#define GOOSE_UTIL_HOSTPORT_H

#include <stddef.h>

int goose__split_hostport(const char *hostport, char *host, size_t len, unsigned *port);

#endif
