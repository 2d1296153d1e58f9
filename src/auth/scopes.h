/*
 * scopes.h — the server-key scope catalogue and parsing of scope lists.
 */
#ifndef RN_AUTH_SCOPES_H
#define RN_AUTH_SCOPES_H

#include <stdbool.h>
#include <stddef.h>

extern const char *const RN_SERVER_SCOPES[]; /* NULL-terminated */

bool rn_scope_known(const char *scope);
/* Parses "a,b,c", "a b c" or "all" into a canonical, deduplicated,
 * space-separated list in catalogue order. Returns 0, or -1 naming the first
 * unknown scope in bad (if given). An empty list is an error. */
int rn_scopes_parse(const char *list, char *out, size_t cap, char *bad, size_t badcap);

#endif
