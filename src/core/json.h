/*
 * json.h — strict request-body parsing and field checks shared by handlers.
 *
 * The contract refuses hostile JSON with a clear 4xx: invalid UTF-8, NUL
 * characters, duplicate keys, nesting deeper than 32 levels, non-objects.
 * Handlers then check fields with the helpers below, which append
 * {"field","issue"} entries to a details array they own.
 */
#ifndef RN_CORE_JSON_H
#define RN_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define RN_JSON_MAX_DEPTH 32

/* Parses a request body that must be one JSON object. Returns a new reference
 * or NULL; on NULL, why (if given) gets a short reason safe for clients. */
json_t *rn_json_parse_object(const char *buf, size_t len, char *why, size_t whylen);
/* Nesting depth of JSON text (brackets outside strings); used before parsing. */
int rn_json_depth(const char *buf, size_t len);

/* Appends {"field": field, "issue": issue} to details. */
void rn_detail_add(json_t *details, const char *field, const char *issue);
/* Appends an "unknown_field" detail for every member of obj not in allowed
 * (a NULL-terminated list); returns how many it found. prefix, if not NULL,
 * is put before field names ("visitor." …). */
int rn_json_reject_unknown(json_t *obj, const char *const *allowed, const char *prefix,
                           json_t *details);

/* Reads an optional string member. Returns 0 and sets *out (borrowed, may be
 * NULL when absent or null) or -1 after adding a detail ("must_be_string",
 * "too_long" over max_chars code points, "control_characters"). */
int rn_json_opt_text(json_t *obj, const char *name, long max_chars, bool allow_newline_tab,
                     const char **out, json_t *details);

/* UTF-8 code points in s, or -1 if not valid UTF-8. */
long rn_utf8_count(const char *s, size_t len);
/* True if s has a C0/C1 control character or DEL (newline and tab allowed on request). */
bool rn_has_control(const char *s, bool allow_newline_tab);

#endif
