#include "http/router.h"

#include <stdlib.h>
#include <string.h>

/* Compares one segment; a {param} pattern segment takes any non-empty one. */
int rn_route_path_matches(const char *pattern, const char *path,
                          char *params[RN_MAX_PATH_PARAMS])
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '{') {
            if (*p != *s)
                goto fail;
            p++, s++;
            continue;
        }
        const char *pend = strchr(p, '}');
        const char *send = strchr(s, '/');
        size_t len = send ? (size_t)(send - s) : strlen(s);
        if (!pend || len == 0 || n >= RN_MAX_PATH_PARAMS)
            goto fail;
        if (params)
            params[n] = strndup(s, len);
        n++;
        p = pend + 1;
        s += len;
    }
    if (*p == '\0' && *s == '\0')
        return 1;
fail:
    for (int i = 0; params && i < n; i++) {
        free(params[i]);
        params[i] = NULL;
    }
    return 0;
}

static int param_count(const char *pattern)
{
    int n = 0;
    for (const char *p = pattern; *p; p++)
        n += *p == '{';
    return n;
}

/* A literal segment beats a parameter: "/webhooks/deliveries" is not the
 * webhook "{id}" named "deliveries". So the most specific pattern wins, and
 * Allow lists only the methods of the most specific patterns. */
int rn_router_match(const char *method, const char *path, char *params[RN_MAX_PATH_PARAMS],
                    char *allow, size_t allowlen)
{
    allow[0] = '\0';
    int best = 99;
    for (int i = 0; i < RN_ROUTE_COUNT; i++)
        if (rn_route_path_matches(RN_ROUTES[i].pattern, path, NULL) &&
            param_count(RN_ROUTES[i].pattern) < best)
            best = param_count(RN_ROUTES[i].pattern);
    if (best == 99)
        return -1;
    for (int i = 0; i < RN_ROUTE_COUNT; i++) {
        const rn_route *rt = &RN_ROUTES[i];
        if (param_count(rt->pattern) != best || !rn_route_path_matches(rt->pattern, path, NULL))
            continue;
        if (strcmp(rt->method, method) == 0) {
            rn_route_path_matches(rt->pattern, path, params);
            return i;
        }
        if (strstr(allow, rt->method))
            continue;
        if (allow[0])
            strncat(allow, ", ", allowlen - strlen(allow) - 1);
        strncat(allow, rt->method, allowlen - strlen(allow) - 1);
    }
    return -1;
}
