/*
 * render.c — a contact's API JSON written straight into a text buffer.
 *
 * Reads are the hot path (a list page is 25 contacts), and building jansson
 * objects only to serialise them again spent more time in malloc and the
 * tags parser than the store spent finding the rows. So the API shape is
 * written here once, as text; rn_contact_json (for events) parses that same
 * text, which keeps one definition of the shape.
 *
 * Strings are escaped by rn_text_json_string (core/text.h). tags is stored
 * as the compact JSON array validate.c produced, so it is copied as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts/model.h"
#include "core/util.h"

static void put_member(rn_text *t, const char *name, const char *value)
{
    rn_text_puts(t, name);
    rn_text_json_string(t, value);
}

void rn_contact_render(rn_text *t, const rn_contact *c)
{
    char created[32], updated[32];
    rn_time_format(c->created_at, created, sizeof created);
    rn_time_format(c->updated_at, updated, sizeof updated);
    bool tags_ok = c->tags && c->tags[0] == '[';
    put_member(t, "{\"id\":", c->id);
    put_member(t, ",\"externalId\":", c->external_id);
    put_member(t, ",\"name\":", c->name);
    put_member(t, ",\"phone\":", c->phone);
    put_member(t, ",\"email\":", c->email);
    put_member(t, ",\"company\":", c->company);
    rn_text_puts(t, ",\"tags\":");
    rn_text_puts(t, tags_ok ? c->tags : "[]");
    put_member(t, ",\"notes\":", c->notes);
    put_member(t, ",\"createdAt\":", created);
    put_member(t, ",\"updatedAt\":", updated);
    rn_text_put(t, "}", 1);
}

json_t *rn_contact_json(const rn_contact *c)
{
    rn_text t = {0};
    rn_contact_render(&t, c);
    json_t *v = t.failed ? NULL : json_loadb(t.text, t.len, 0, NULL);
    rn_text_free(&t);
    return v;
}
