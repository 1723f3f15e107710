/* The registry of test data: a name, a CSV file and a mode per data set.
 * Nothing is read here: a Gaggle Worker registers the same sets without
 * the files, and the run reads them when it sets up (run/setup.c). */
#include "config/attack.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const char *goose__data_mode_name(int mode)
{
    switch (mode) {
    case GOOSE_DATA_UNIQUE: return "unique";
    case GOOSE_DATA_CIRCULAR: return "circular";
    case GOOSE_DATA_RANDOM: return "random";
    }
    return NULL;
}

/* A name --data NAME=PATH can give: not empty, no '=', no space. */
/* The Gaggle carries a name in GAGGLE_DATA_NAME_MAX (256) bytes. */
#define DATA_NAME_MAX 255

static int bad_name(const char *name)
{
    if (!*name || strlen(name) > DATA_NAME_MAX)
        return 1;
    for (const char *p = name; *p; p++)
        if (*p == '=' || isspace((unsigned char)*p))
            return 1;
    return 0;
}

static int refuse(goose_attack *a, int code, const char *fmt, const char *name)
{
    goose__fail(a, code, fmt, name ? name : "(null)");
    goose__remember_mistake(a, code);
    return code;
}

int goose_attack_add_data(goose_attack *a, const char *name, const char *path, int mode)
{
    if (!a)
        return GOOSE_EINVAL;
    if (atomic_load(&a->running)) /* a matter of timing, not a mistake */
        return goose__fail(a, GOOSE_ESTATE, "goose_attack_add_data: the attack is running");
    if (!name || bad_name(name))
        return refuse(a, GOOSE_EINVAL, "goose_attack_add_data: the name \"%s\" must be "
                      "1 to 255 bytes, without '=' or spaces", name);
    if (!path || !*path)
        return refuse(a, GOOSE_EINVAL, "goose_attack_add_data: data \"%s\" has no file", name);
    if (!goose__data_mode_name(mode))
        return refuse(a, GOOSE_EINVAL, "goose_attack_add_data: data \"%s\": the mode must be "
                      "GOOSE_DATA_UNIQUE, GOOSE_DATA_CIRCULAR or GOOSE_DATA_RANDOM", name);
    for (size_t i = 0; i < a->ndatasets; i++)
        if (!strcmp(a->datasets[i].name, name))
            return refuse(a, GOOSE_EEXIST, "goose_attack_add_data: data \"%s\" is already "
                          "registered", name);
    goose_data_reg *list = realloc(a->datasets, (a->ndatasets + 1) * sizeof *list);
    if (list)
        a->datasets = list;
    char *n = strdup(name), *p = strdup(path);
    if (!list || !n || !p) {
        free(n);
        free(p);
        return refuse(a, GOOSE_ENOMEM, "goose_attack_add_data: out of memory for data \"%s\"",
                      name);
    }
    a->datasets[a->ndatasets++] = (goose_data_reg){n, p, mode};
    return GOOSE_OK;
}

void goose__data_free(goose_attack *a)
{
    for (size_t i = 0; i < a->ndatasets; i++) {
        free(a->datasets[i].name);
        free(a->datasets[i].path);
    }
    free(a->datasets);
    a->datasets = NULL;
    a->ndatasets = 0;
}

/* The --data of a name ("NAME=PATH"), or NULL. */
static const char *override(const goose_options *o, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < o->ndata; i++)
        if (!strncmp(o->data[i], name, len) && o->data[i][len] == '=')
            return o->data[i] + len + 1;
    return NULL;
}

const char *goose__data_path(const goose_attack *a, const goose_data_reg *d)
{
    const char *path = override(&a->opt, d->name);
    return path ? path : d->path;
}

int goose__data_check(goose_attack *a)
{
    for (size_t i = 0; i < a->opt.ndata; i++) {
        const char *v = a->opt.data[i];
        size_t len = strcspn(v, "=");
        size_t j = 0;
        while (j < a->ndatasets &&
               (strlen(a->datasets[j].name) != len || strncmp(a->datasets[j].name, v, len)))
            j++;
        if (j == a->ndatasets)
            return goose__fail(a, GOOSE_ECONFIG, "--data %.*s: no data is registered under "
                               "that name (goose_attack_add_data)", (int)len, v);
    }
    return GOOSE_OK;
}
