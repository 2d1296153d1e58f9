#include "auth/scopes.h"

#include <stdio.h>
#include <string.h>

const char *const RN_SERVER_SCOPES[] = {
    "server:visitor-context:write", "server:agent-token:write", "server:admin-token:write",
    "server:reports:read",          "server:contacts:read",     "server:contacts:write",
    "server:webhooks:read",         "server:webhooks:write",    NULL,
};

bool rn_scope_known(const char *scope)
{
    for (const char *const *s = RN_SERVER_SCOPES; *s; s++)
        if (strcmp(*s, scope) == 0)
            return true;
    return false;
}

int rn_scopes_parse(const char *list, char *out, size_t cap, char *bad, size_t badcap)
{
    bool wanted[16] = {0};
    int count = 0;
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (strcmp(tok, "all") == 0) {
            for (int i = 0; RN_SERVER_SCOPES[i]; i++)
                wanted[i] = true;
            count++;
            continue;
        }
        int i = 0;
        while (RN_SERVER_SCOPES[i] && strcmp(RN_SERVER_SCOPES[i], tok) != 0)
            i++;
        if (!RN_SERVER_SCOPES[i]) {
            if (bad)
                snprintf(bad, badcap, "%s", tok);
            return -1;
        }
        wanted[i] = true;
        count++;
    }
    if (count == 0) {
        if (bad)
            snprintf(bad, badcap, "(empty)");
        return -1;
    }
    out[0] = '\0';
    for (int i = 0; RN_SERVER_SCOPES[i]; i++) {
        if (!wanted[i])
            continue;
        if (out[0])
            strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, RN_SERVER_SCOPES[i], cap - strlen(out) - 1);
    }
    return 0;
}
