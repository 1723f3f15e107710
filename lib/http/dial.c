/* A non-blocking TCP connection to one of an origin's addresses, as both
 * own clients (h1.c, h2.c) make them: no Nagle delay, and bound to the
 * user's turn of the --local-address list. */
#include "http/h1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <unistd.h>

static int set_socket_options(const goose_http_setup *setup, unsigned index, int fd,
                              int family)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!setup->nlocal_addrs || family != AF_INET)
        return 0;
    /* the port is chosen at connect(), per destination: more than one
     * ephemeral range per source address */
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    struct sockaddr_in local = {.sin_family = AF_INET};
    const char *addr = setup->local_addrs[index % setup->nlocal_addrs];
    if (inet_pton(AF_INET, addr, &local.sin_addr) != 1)
        return -1;
    return bind(fd, (struct sockaddr *)&local, sizeof local);
}

int goose__dial(const goose_http_setup *setup, unsigned index, const goose_h1_origin *o,
                unsigned at, int *fd)
{
    const struct sockaddr_storage *sa = &o->addrs[at];
    *fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return errno;
    if (set_socket_options(setup, index, *fd, sa->ss_family) < 0)
        goto fail;
    if (connect(*fd, (const struct sockaddr *)sa, o->addr_lens[at]) == 0)
        return 0;
    if (errno == EINPROGRESS)
        return EINPROGRESS;
fail:;
    int err = errno;
    close(*fd);
    *fd = -1;
    return err;
}

int goose__dial_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    return err;
}
