/*
 * validate.c — a contact request body to a normalised rn_contact.
 *
 * One details entry per bad field, in body order for the unknown ones and
 * in field order for the rest. Issues: must_be_string, must_be_array,
 * control_characters, too_long, too_many, invalid_format, unknown_field,
 * read_only (id, createdAt, updatedAt: sent back from a GET, say why they
 * are refused), and "required" on the pseudo-field "contact" (added by the
 * handlers when no identifying field is left). Text lengths count Unicode
 * code points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts/fields.h"
#include "contacts/model.h"
#include "contacts/phone.h"
#include "core/json.h"

static const char *const WRITABLE[] = {"externalId", "name",  "phone", "email",
                                       "company",    "tags",  "notes", NULL};
static const char *const READ_ONLY[] = {"id", "createdAt", "updatedAt", NULL};

void rn_contact_clear(rn_contact *c)
{
    free(c->external_id);
    free(c->name);
    free(c->phone);
    free(c->email);
    free(c->company);
    free(c->notes);
    free(c->tags);
    memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void rn_contact_copy(rn_contact *dst, const rn_contact *src)
{
    *dst = *src;
    dst->external_id = dup_or_null(src->external_id);
    dst->name = dup_or_null(src->name);
    dst->phone = dup_or_null(src->phone);
    dst->email = dup_or_null(src->email);
    dst->company = dup_or_null(src->company);
    dst->notes = dup_or_null(src->notes);
    dst->tags = dup_or_null(src->tags);
}

static bool listed(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static void reject_unlisted(json_t *body, json_t *details)
{
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value) {
        if (listed(READ_ONLY, key))
            rn_detail_add(details, key, "read_only");
        else if (!listed(WRITABLE, key))
            rn_detail_add(details, key, "unknown_field");
    }
}

/* A JSON string without NUL or control characters (newline and tab allowed
 * when tabs_ok). Returns its text or NULL after adding a detail. */
static const char *plain_text(json_t *v, const char *field, bool tabs_ok, json_t *details)
{
    if (!json_is_string(v)) {
        rn_detail_add(details, field, "must_be_string");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strlen(s) != len || rn_utf8_length(s, len) < 0 || rn_text_has_control(s, tabs_ok)) {
        rn_detail_add(details, field, "control_characters");
        return NULL;
    }
    return s;
}

/* Copy of s without leading and trailing spaces; NULL when nothing is left. */
static char *trimmed_copy(const char *s)
{
    while (*s == ' ')
        s++;
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        len--;
    return len ? strndup(s, len) : NULL;
}

/* name, company, notes: trimmed (not notes), limited, "" stored as null. */
static int text_field(json_t *v, const char *field, long max, bool notes, char **out,
                      json_t *details)
{
    const char *s = plain_text(v, field, notes, details);
    if (!s)
        return -1;
    char *copy = notes ? (*s ? strdup(s) : NULL) : trimmed_copy(s);
    if (copy && rn_utf8_length(copy, strlen(copy)) > max) {
        free(copy);
        rn_detail_add(details, field, "too_long");
        return -1;
    }
    *out = copy;
    return 0;
}

/* externalId is an identifier: kept verbatim, so it may not be empty or
 * start or end with a space (two ids differing only there would look alike). */
static int external_id_field(json_t *v, char **out, json_t *details)
{
    const char *s = plain_text(v, "externalId", false, details);
    if (!s)
        return -1;
    size_t len = strlen(s);
    if (rn_utf8_length(s, len) > RN_CONTACT_EXTERNAL_ID_MAX) {
        rn_detail_add(details, "externalId", "too_long");
        return -1;
    }
    if (len == 0 || s[0] == ' ' || s[len - 1] == ' ') {
        rn_detail_add(details, "externalId", "invalid_format");
        return -1;
    }
    *out = strdup(s);
    return 0;
}

static int phone_field(json_t *v, const char *country, char **out, json_t *details)
{
    if (!json_is_string(v)) {
        rn_detail_add(details, "phone", "must_be_string");
        return -1;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (rn_utf8_length(s, len) > RN_CONTACT_PHONE_INPUT_MAX) {
        rn_detail_add(details, "phone", "too_long");
        return -1;
    }
    const char *region = country && rn_phone_region_known(country) ? country : NULL;
    char e164[32];
    if (strlen(s) != len || rn_phone_normalize(s, region, e164, sizeof e164) != 0) {
        rn_detail_add(details, "phone", "invalid_format");
        return -1;
    }
    *out = strdup(e164);
    return 0;
}

static int email_field(json_t *v, char **out, json_t *details)
{
    if (!json_is_string(v)) {
        rn_detail_add(details, "email", "must_be_string");
        return -1;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (rn_utf8_length(s, len) > RN_CONTACT_EMAIL_MAX) {
        rn_detail_add(details, "email", "too_long");
        return -1;
    }
    char normal[1024];
    if (strlen(s) != len || rn_email_normalize(s, normal, sizeof normal) != 0) {
        rn_detail_add(details, "email", "invalid_format");
        return -1;
    }
    *out = strdup(normal);
    return 0;
}

/* True when the folded tag is already among the kept ones (folded too). */
static bool tag_seen(json_t *kept_folded, const char *folded)
{
    size_t i;
    json_t *k;
    json_array_foreach(kept_folded, i, k) {
        if (strcmp(json_string_value(k), folded) == 0)
            return true;
    }
    return false;
}

/* One tag: trimmed, non-empty, at most 64 characters. NULL after a detail. */
static char *tag_value(json_t *v, size_t index, json_t *details)
{
    char field[32];
    snprintf(field, sizeof field, "tags[%zu]", index);
    const char *s = plain_text(v, field, false, details);
    if (!s)
        return NULL;
    char *tag = trimmed_copy(s);
    if (!tag) {
        rn_detail_add(details, field, "invalid_format");
        return NULL;
    }
    if (rn_utf8_length(tag, strlen(tag)) > RN_CONTACT_TAG_MAX) {
        rn_detail_add(details, field, "too_long");
        free(tag);
        return NULL;
    }
    return tag;
}

/* Tags: trimmed, deduplicated case-insensitively (the first spelling stays),
 * at most 50 once deduplicated. Checking stops at the 51st distinct tag, so a
 * hostile array costs at most (array length x 50) comparisons. */
static int tags_field(json_t *v, char **out, json_t *details)
{
    if (!json_is_array(v)) {
        rn_detail_add(details, "tags", "must_be_array");
        return -1;
    }
    json_t *kept = json_array(), *folded_kept = json_array();
    size_t before = json_array_size(details), i;
    json_t *item;
    json_array_foreach(v, i, item) {
        char *tag = tag_value(item, i, details);
        char *folded = tag ? rn_contact_fold(tag) : NULL;
        if (folded && !tag_seen(folded_kept, folded)) {
            json_array_append_new(kept, json_string(tag));
            json_array_append_new(folded_kept, json_string(folded));
        }
        free(tag);
        free(folded);
        if (json_array_size(kept) > RN_CONTACT_TAGS_MAX) {
            rn_detail_add(details, "tags", "too_many");
            break;
        }
    }
    int rc = json_array_size(details) == before ? 0 : -1;
    if (rc == 0)
        *out = json_dumps(kept, JSON_COMPACT);
    json_decref(kept);
    json_decref(folded_kept);
    return rc;
}

static int parse_member(json_t *body, const char *name, unsigned bit, unsigned *present,
                        json_t **value)
{
    *value = json_object_get(body, name);
    if (!*value)
        return 0;
    *present |= bit;
    return json_is_null(*value) ? 0 : 1;
}

int rn_contact_parse(json_t *body, const char *country, rn_contact *out, unsigned *present,
                     json_t *details)
{
    size_t before = json_array_size(details);
    json_t *v;
    memset(out, 0, sizeof *out);
    *present = 0;
    reject_unlisted(body, details);
    if (parse_member(body, "externalId", RN_CF_EXTERNAL_ID, present, &v))
        external_id_field(v, &out->external_id, details);
    if (parse_member(body, "name", RN_CF_NAME, present, &v))
        text_field(v, "name", RN_CONTACT_NAME_MAX, false, &out->name, details);
    if (parse_member(body, "phone", RN_CF_PHONE, present, &v))
        phone_field(v, country, &out->phone, details);
    if (parse_member(body, "email", RN_CF_EMAIL, present, &v))
        email_field(v, &out->email, details);
    if (parse_member(body, "company", RN_CF_COMPANY, present, &v))
        text_field(v, "company", RN_CONTACT_COMPANY_MAX, false, &out->company, details);
    if (parse_member(body, "tags", RN_CF_TAGS, present, &v))
        tags_field(v, &out->tags, details);
    if (parse_member(body, "notes", RN_CF_NOTES, present, &v))
        text_field(v, "notes", RN_CONTACT_NOTES_MAX, true, &out->notes, details);
    if (!out->tags)
        out->tags = strdup("[]");
    return json_array_size(details) == before ? 0 : -1;
}

static void move_field(char **dst, char **src)
{
    free(*dst);
    *dst = *src;
    *src = NULL;
}

void rn_contact_merge(rn_contact *dst, rn_contact *src, unsigned present)
{
    if (present & RN_CF_EXTERNAL_ID)
        move_field(&dst->external_id, &src->external_id);
    if (present & RN_CF_NAME)
        move_field(&dst->name, &src->name);
    if (present & RN_CF_PHONE)
        move_field(&dst->phone, &src->phone);
    if (present & RN_CF_EMAIL)
        move_field(&dst->email, &src->email);
    if (present & RN_CF_COMPANY)
        move_field(&dst->company, &src->company);
    if (present & RN_CF_TAGS)
        move_field(&dst->tags, &src->tags);
    if (present & RN_CF_NOTES)
        move_field(&dst->notes, &src->notes);
}

bool rn_contact_identified(const rn_contact *c)
{
    return c->name || c->phone || c->email || c->external_id;
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool rn_contact_same(const rn_contact *a, const rn_contact *b)
{
    return same_text(a->external_id, b->external_id) && same_text(a->name, b->name) &&
           same_text(a->phone, b->phone) && same_text(a->email, b->email) &&
           same_text(a->company, b->company) && same_text(a->tags, b->tags) &&
           same_text(a->notes, b->notes);
}
