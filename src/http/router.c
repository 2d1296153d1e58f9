#include "http/router.h"

#include <pthread.h>
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

/* Per route: how many {params} its pattern has, and the length of its
 * literal prefix (up to the first '{'), computed once. The prefix lets the
 * scan reject almost every route with one vectorised compare. */
#define MAX_ROUTES 128 /* src/api/routes.c asserts the table fits */
#define MAX_CANDIDATES 16 /* patterns that can match one path: its methods */

static int route_params[MAX_ROUTES];
static size_t route_prefix[MAX_ROUTES];
static pthread_once_t shape_once = PTHREAD_ONCE_INIT;

static void compute_shapes(void)
{
    for (int i = 0; i < RN_ROUTE_COUNT && i < MAX_ROUTES; i++) {
        const char *pattern = RN_ROUTES[i].pattern;
        route_prefix[i] = strcspn(pattern, "{");
        for (const char *p = pattern; *p; p++)
            route_params[i] += *p == '{';
    }
}

/* A literal segment beats a parameter: "/webhooks/deliveries" is not the
 * webhook "{id}" named "deliveries". So the most specific pattern wins, and
 * Allow lists only the methods of the most specific patterns. */
int rn_router_match(const char *method, const char *path, char *params[RN_MAX_PATH_PARAMS],
                    char *allow, size_t allowlen)
{
    allow[0] = '\0';
    pthread_once(&shape_once, compute_shapes);
    int candidates[MAX_CANDIDATES], ncand = 0, best = 99;
    for (int i = 0; i < RN_ROUTE_COUNT && i < MAX_ROUTES && ncand < MAX_CANDIDATES; i++) {
        if (strncmp(RN_ROUTES[i].pattern, path, route_prefix[i]) != 0 ||
            !rn_route_path_matches(RN_ROUTES[i].pattern, path, NULL))
            continue;
        int n = route_params[i];
        if (n > best)
            continue;
        if (n < best)
            ncand = 0;
        best = n;
        candidates[ncand++] = i;
    }
    for (int c = 0; c < ncand; c++) {
        const rn_route *rt = &RN_ROUTES[candidates[c]];
        if (strcmp(rt->method, method) == 0) {
            rn_route_path_matches(rt->pattern, path, params);
            return candidates[c];
        }
        if (strstr(allow, rt->method))
            continue;
        if (allow[0])
            strncat(allow, ", ", allowlen - strlen(allow) - 1);
        strncat(allow, rt->method, allowlen - strlen(allow) - 1);
    }
    return -1;
}
