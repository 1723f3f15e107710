/* The rows of the transport table, in the order the engine asks them:
 * the cheapest client that takes a request carries it, libcurl last as
 * it takes everything. */
#include "http/transport.h"

const goose_transport *const goose__transports[GOOSE_TRANSPORTS] = {
    &goose__transport_h1,
    &goose__transport_curl,
};

/* The words a request's result gets when its transport left none: those
 * libcurl would give, so a report reads the same whichever row made it. */
const char *goose__terr_text(goose_terr e)
{
    switch (e) {
    case GOOSE_TE_OK: return "No error";
    case GOOSE_TE_AGAIN: return "Request under way";
    case GOOSE_TE_NOT_SENT: return "Request not sent";
    case GOOSE_TE_RESOLVE: return "Couldn't resolve host name";
    case GOOSE_TE_CONNECT: return "Couldn't connect to server";
    case GOOSE_TE_TLS: return "SSL connect error";
    case GOOSE_TE_TIMEOUT: return "Timeout was reached";
    case GOOSE_TE_SEND: return "Failed sending data to the peer";
    case GOOSE_TE_RECV: return "Failure when receiving data from the peer";
    case GOOSE_TE_PROTOCOL: return "Weird server reply";
    case GOOSE_TE_VERSION: return "Unsupported protocol";
    case GOOSE_TE_EMPTY: return "Server returned nothing (no headers, no data)";
    case GOOSE_TE_PARTIAL: return "Transferred a partial file";
    case GOOSE_TE_NOMEM: return "Out of memory";
    case GOOSE_TE_ABORTED: return "Operation was aborted by an application callback";
    case GOOSE_TE_BUSY: return "No free connection";
    case GOOSE_TE_OTHER: break;
    }
    return "Transfer failed";
}
