/* Listening addresses given as HOST:PORT or PORT. */
#include "util/hostport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "PORT" alone means 127.0.0.1:PORT: never beyond loopback unless told. */
int goose__split_hostport(const char *hostport, char *host, size_t len, unsigned *port)
{
    const char *colon = strrchr(hostport, ':');
    const char *p = colon ? colon + 1 : hostport;
    char *end;
    unsigned long n = strtoul(p, &end, 10);
    if (!*p || *end || n == 0 || n > 65535)
        return -1;
    *port = (unsigned)n;
    if (!colon) {
        snprintf(host, len, "127.0.0.1");
        return 0;
    }
    size_t hl = (size_t)(colon - hostport);
    if (hl && hostport[0] == '[' && hostport[hl - 1] == ']') /* [::1]:9000 */
        hostport++, hl -= 2;
    if (hl == 0 || hl >= len)
        return -1;
    memcpy(host, hostport, hl);
    host[hl] = '\0';
    return 0;
}
