#include "core/json.h"

#include <stdio.h>
#include <string.h>

int rn_json_depth(const char *buf, size_t len)
{
    int depth = 0, max = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return max;
}

json_t *rn_json_parse_object(const char *buf, size_t len, char *why, size_t whylen)
{
    if (rn_json_depth(buf, len) > RN_JSON_MAX_DEPTH) {
        snprintf(why, whylen, "JSON nesting deeper than %d levels", RN_JSON_MAX_DEPTH);
        return NULL;
    }
    json_error_t error;
    /* jansson validates UTF-8 and refuses \u0000 unless JSON_ALLOW_NUL. */
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &error);
    if (!v) {
        bool dup = strstr(error.text, "duplicate") != NULL;
        bool utf = strstr(error.text, "decode byte") || strstr(error.text, "UTF-8");
        bool nul = strstr(error.text, "\\u0000") != NULL;
        snprintf(why, whylen, "%s", dup   ? "duplicate object key"
                                    : utf ? "invalid UTF-8"
                                    : nul ? "NUL character in a string"
                                          : "malformed JSON");
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(why, whylen, "the body must be a JSON object");
        return NULL;
    }
    return v;
}

void rn_detail_add(json_t *details, const char *field, const char *issue)
{
    json_array_append_new(details, json_pack("{s:s, s:s}", "field", field, "issue", issue));
}

int rn_json_reject_unknown(json_t *obj, const char *const *allowed, const char *prefix,
                           json_t *details)
{
    int found = 0;
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, key) == 0;
        if (ok)
            continue;
        char field[256];
        snprintf(field, sizeof field, "%s%s", prefix ? prefix : "", key);
        rn_detail_add(details, field, "unknown_field");
        found++;
    }
    return found;
}

long rn_utf8_count(const char *s, size_t len)
{
    long count = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2
                  : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || end - p <= extra)
            return -1;
        unsigned cp = extra == 0 ? c : c & (0x3F >> extra);
        for (int i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        static const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        p += extra + 1;
        count++;
    }
    return count;
}

bool rn_has_control(const char *s, bool allow_newline_tab)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7F) {
            if (allow_newline_tab && (*p == '\n' || *p == '\t'))
                continue;
            return true;
        }
        /* C1 controls U+0080..U+009F are encoded as C2 80 .. C2 9F. */
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return true;
    }
    return false;
}

int rn_json_opt_text(json_t *obj, const char *name, long max_chars, bool allow_newline_tab,
                     const char **out, json_t *details)
{
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        rn_detail_add(details, name, "must_be_string");
        return -1;
    }
    const char *s = json_string_value(v);
    if (rn_utf8_count(s, json_string_length(v)) > max_chars) {
        rn_detail_add(details, name, "too_long");
        return -1;
    }
    if (rn_has_control(s, allow_newline_tab)) {
        rn_detail_add(details, name, "control_characters");
        return -1;
    }
    *out = s;
    return 0;
}
