/*
 * router.h — matching a method and path against the one route table
 * (src/api/routes.c). Patterns are literal segments and {name} parameters.
 */
#ifndef RN_HTTP_ROUTER_H
#define RN_HTTP_ROUTER_H

#include <stddef.h>

#include "http/http.h"

extern const rn_route RN_ROUTES[];
extern const int RN_ROUTE_COUNT;

/* Finds the route for method + path. On a match returns its index and fills
 * params (malloc'd copies, caller frees). Without one returns -1; then, if
 * the path exists under other methods, allow gets "GET, POST" (else ""). */
int rn_router_match(const char *method, const char *path, char *params[RN_MAX_PATH_PARAMS],
                    char *allow, size_t allowlen);

/* Matches path against one pattern; params filled as above. 1 on match. */
int rn_route_path_matches(const char *pattern, const char *path,
                          char *params[RN_MAX_PATH_PARAMS]);

#endif
