#include <goose.h>

#include <stdlib.h>

const char *goose_strerror(int code)
{
    switch (code) {
    case GOOSE_OK: return "success";
    case GOOSE_EINVAL: return "invalid argument";
    case GOOSE_ENOMEM: return "out of memory";
    case GOOSE_EOPTION: return "unknown option";
    case GOOSE_EVALUE: return "bad option value";
    case GOOSE_EUNSUPPORTED: return "not supported yet";
    case GOOSE_ECONFIG: return "bad configuration";
    case GOOSE_ESTATE: return "not allowed in the current state";
    case GOOSE_EIO: return "input/output error";
    case GOOSE_ESYS: return "system resource error";
    case GOOSE_EEXIST: return "name already taken";
    case GOOSE_EFAILED: return "failed: a check did not hold, or the run did not complete as configured";
    case GOOSE_ETHRESHOLD: return "a threshold failed";
    case GOOSE_ESTOPPING: return "the test is stopping";
    }
    return "unknown error";
}

const char *goose_version(void)
{
    return GOOSE_VERSION_STRING;
}

unsigned goose_version_num(void)
{
    return GOOSE_VERSION_NUM;
}

void goose_free(void *ptr)
{
    free(ptr);
}
