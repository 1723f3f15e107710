/* Load plans: "level,duration;level,duration;..." as Goose writes a test
 * plan ("100,30s;100,5m;0,30s": ramp to 100 users over 30 s, hold them
 * five minutes, ramp down over 30 s), and the same form for an arrival
 * rate.  Each step ramps linearly from the level before it. */
#include "config/attack.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_STEPS_MAX 1000

static const char *skip_space(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* One "level,duration" item of [p, end). */
static int parse_step(const char *flag, const char *p, const char *end, int whole,
                      double max, goose_shape *out, char *err, size_t errlen)
{
    char item[128];
    size_t len = (size_t)(end - p);
    if (len >= sizeof item) {
        snprintf(err, errlen, "%s: step \"%.40s...\" is too long", flag, p);
        return GOOSE_EVALUE;
    }
    memcpy(item, p, len);
    item[len] = '\0';
    char *comma = strchr(item, ',');
    if (!comma) {
        snprintf(err, errlen, "%s: step \"%s\" is not \"%s,duration\"", flag, item,
                 whole ? "users" : "rate");
        return GOOSE_EVALUE;
    }
    *comma = '\0';
    const char *level_s = skip_space(item);
    char *stop;
    double level = strtod(level_s, &stop);
    stop = (char *)skip_space(stop);
    if (!isdigit((unsigned char)*level_s) || *stop || level < 0 || level > max ||
        (whole && level != (double)(long long)level)) {
        snprintf(err, errlen, "%s: \"%s\" in step \"%s,%s\" must be %s from 0 to %.0f", flag,
                 level_s, level_s, comma + 1, whole ? "a whole number of users" : "a rate",
                 max);
        return GOOSE_EVALUE;
    }
    char dur_s[96];
    snprintf(dur_s, sizeof dur_s, "%s", skip_space(comma + 1));
    for (size_t n = strlen(dur_s); n && isspace((unsigned char)dur_s[n - 1]);)
        dur_s[--n] = '\0';
    uint64_t us;
    if (goose__parse_duration_us(dur_s, &us) < 0) {
        snprintf(err, errlen, "%s: \"%s\" in step \"%s\" is not a duration (like 30s, 5m, 1h30m)",
                 flag, dur_s, p);
        err[errlen - 1] = '\0';
        return GOOSE_EVALUE;
    }
    return goose__shape_add(out, level, us) < 0 ? GOOSE_ENOMEM : GOOSE_OK;
}

int goose__shape_parse(const char *flag, const char *spec, int flags, double max,
                          goose_shape *out, char *err, size_t errlen)
{
    int whole = flags & GOOSE_PLAN_USERS;
    goose_shape shape = {0};
    const char *p = spec;
    int rc = GOOSE_OK;
    while (rc == GOOSE_OK && *skip_space(p)) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        if (shape.n == PLAN_STEPS_MAX) {
            snprintf(err, errlen, "%s: more than %d steps", flag, PLAN_STEPS_MAX);
            rc = GOOSE_EVALUE;
            break;
        }
        rc = parse_step(flag, p, end, whole, max, &shape, err, errlen);
        p = *end ? end + 1 : end;
    }
    if (rc == GOOSE_OK && shape.n == 0) {
        snprintf(err, errlen, "%s \"%s\" has no steps: give \"%s,duration;...\"", flag, spec,
                 whole ? "users" : "rate");
        rc = GOOSE_EVALUE;
    }
    if (rc == GOOSE_OK && goose__shape_max(&shape) == 0 && !(flags & GOOSE_PLAN_FROM_NOW)) {
        snprintf(err, errlen, "%s \"%s\" never starts anything: every level is 0", flag,
                 spec);
        rc = GOOSE_EVALUE;
    }
    if (rc == GOOSE_OK && out)
        rc = goose__shape_copy(out, &shape) < 0 ? GOOSE_ENOMEM : GOOSE_OK;
    goose__shape_free(&shape);
    return rc;
}
