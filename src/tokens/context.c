/*
 * context.c — the visitor context a tenant's backend vouches for, checked
 * and shaped into a token's `ctx` claim (see rn_visitor_context in tokens.h).
 *
 * The values are the tenant's own assertions about its visitor, so they are
 * checked for shape and sanity, not normalised: a phone number stays as the
 * backend wrote it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tokens/tokens.h"

#define METADATA_KEY_MAX 64

typedef struct {
    const char *name;
    long max_chars;
    bool (*format_ok)(const char *s, size_t len);
} visitor_field;

static bool phone_ok(const char *s, size_t len)
{
    int digits = 0;
    for (size_t i = 0; i < len; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (!strchr(" ()-.", s[i]) && !(s[i] == '+' && i == 0))
            return false;
    }
    return digits >= 3;
}

static bool email_ok(const char *s, size_t len)
{
    const char *at = memchr(s, '@', len);
    if (!at || at == s || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
        return false;
    const char *domain = at + 1;
    size_t dlen = len - (size_t)(domain - s);
    const char *dot = memchr(domain, '.', dlen);
    if (!dot || domain[0] == '.' || domain[dlen - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (isspace((unsigned char)s[i]))
            return false;
    return true;
}

static const visitor_field VISITOR_FIELDS[] = {
    {"externalId", 128, NULL},
    {"name", 200, NULL},
    {"phone", 32, phone_ok},
    {"email", 254, email_ok},
};
#define NFIELDS (sizeof VISITOR_FIELDS / sizeof *VISITOR_FIELDS)

static void detail(json_t *details, const char *prefix, const char *name, const char *issue)
{
    char field[128];
    snprintf(field, sizeof field, "%s.%s", prefix, name);
    rn_detail_add(details, field, issue);
}

/* Trimmed view of a JSON string. */
static const char *trimmed(json_t *v, size_t *len)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* Checks one visitor field and copies it, trimmed, into out when usable. */
static int visitor_member(json_t *visitor, const visitor_field *f, json_t *out, json_t *details)
{
    json_t *v = json_object_get(visitor, f->name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        detail(details, "visitor", f->name, "must_be_string");
        return -1;
    }
    size_t len;
    const char *s = trimmed(v, &len);
    if (len == 0)
        return 0;
    json_t *copy = json_stringn(s, len);
    const char *issue = NULL;
    if (rn_utf8_count(s, len) > f->max_chars)
        issue = "too_long";
    else if (rn_has_control(json_string_value(copy), false))
        issue = "control_characters";
    else if (f->format_ok && !f->format_ok(s, len))
        issue = "invalid_format";
    if (issue) {
        detail(details, "visitor", f->name, issue);
        json_decref(copy);
        return -1;
    }
    json_object_set_new(out, f->name, copy);
    return 0;
}

static json_t *visitor_part(json_t *body, json_t *details)
{
    json_t *visitor = json_object_get(body, "visitor");
    json_t *out = json_object();
    if (!visitor || json_is_null(visitor))
        return out;
    if (!json_is_object(visitor)) {
        rn_detail_add(details, "visitor", "must_be_object");
        return out;
    }
    static const char *const allowed[] = {"externalId", "name", "phone", "email", NULL};
    rn_json_reject_unknown(visitor, allowed, "visitor.", details);
    for (size_t i = 0; i < NFIELDS; i++)
        visitor_member(visitor, &VISITOR_FIELDS[i], out, details);
    return out;
}

static bool metadata_key_ok(const char *key)
{
    long n = rn_utf8_count(key, strlen(key));
    return n >= 1 && n <= METADATA_KEY_MAX && !rn_has_control(key, false);
}

/* Adds the metadata object's entries to out; returns how many are usable. */
static int metadata_part(json_t *body, json_t *out, json_t *details)
{
    json_t *metadata = json_object_get(body, "metadata");
    if (!metadata || json_is_null(metadata))
        return 0;
    if (!json_is_object(metadata)) {
        rn_detail_add(details, "metadata", "must_be_object");
        return 0;
    }
    int usable = 0;
    const char *key;
    json_t *v;
    json_object_foreach(metadata, key, v) {
        if (!metadata_key_ok(key)) {
            rn_detail_add(details, "metadata", "invalid_key");
            continue;
        }
        if (json_is_object(v) || json_is_array(v)) {
            detail(details, "metadata", key, "must_be_scalar");
            continue;
        }
        if (json_is_string(v) && rn_has_control(json_string_value(v), true)) {
            detail(details, "metadata", key, "control_characters");
            continue;
        }
        usable += !json_is_null(v);
        json_object_set(out, key, v);
    }
    return usable;
}

rn_context_result rn_visitor_context(json_t *body, json_t **ctx, json_t *details)
{
    *ctx = NULL;
    size_t before = json_array_size(details);
    json_t *visitor = visitor_part(body, details);
    json_t *metadata = json_object();
    int usable = metadata_part(body, metadata, details) + (int)json_object_size(visitor);
    json_t *c = json_pack("{s:o, s:o}", "visitor", visitor, "metadata", metadata);
    if (json_array_size(details) > before) {
        json_decref(c);
        return RN_CONTEXT_INVALID;
    }
    if (usable == 0) {
        json_decref(c);
        return RN_CONTEXT_EMPTY;
    }
    /* Measured exactly as the claim is serialised inside the token. */
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    size_t size = text ? strlen(text) : (size_t)-1;
    free(text);
    if (size > RN_VISITOR_CONTEXT_MAX) {
        json_decref(c);
        return RN_CONTEXT_TOO_LARGE;
    }
    *ctx = c;
    return RN_CONTEXT_OK;
}
