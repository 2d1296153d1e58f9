/*
 * model.h — the contacts module's inside: the contact record, its checks,
 * its store statements, its search text and its list cursors. Only files
 * under src/contacts/ include this; the rest of the server sees contacts.h.
 *
 * Ownership: an rn_contact owns every string it points at (malloc'd);
 * rn_contact_clear frees them. NULL means SQL NULL / JSON null.
 */
#ifndef RN_CONTACTS_MODEL_H
#define RN_CONTACTS_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/text.h"
#include "store/db.h"

/* Limits (SPEC §6 where it sets them; the rest are ours, docs/api-decisions.md). */
#define RN_CONTACT_NAME_MAX 200
#define RN_CONTACT_COMPANY_MAX 200
#define RN_CONTACT_NOTES_MAX 10000
#define RN_CONTACT_EXTERNAL_ID_MAX 255
#define RN_CONTACT_EMAIL_MAX 254
#define RN_CONTACT_PHONE_INPUT_MAX 64
#define RN_CONTACT_TAGS_MAX 50
#define RN_CONTACT_TAG_MAX 64
#define RN_CONTACT_SEARCH_MAX 200

/* Fields a request body carried, as bits. */
enum {
    RN_CF_EXTERNAL_ID = 1 << 0,
    RN_CF_NAME = 1 << 1,
    RN_CF_PHONE = 1 << 2,
    RN_CF_EMAIL = 1 << 3,
    RN_CF_COMPANY = 1 << 4,
    RN_CF_TAGS = 1 << 5,
    RN_CF_NOTES = 1 << 6,
};

typedef struct {
    char id[48];
    char *external_id, *name, *phone, *email, *company, *notes;
    char *tags; /* compact JSON array text; never NULL once loaded or parsed */
    long long created_at, updated_at;
} rn_contact;

void rn_contact_clear(rn_contact *c);
/* A deep copy of src into dst (dst's old contents are not freed). */
void rn_contact_copy(rn_contact *dst, const rn_contact *src);

/* ---- fields.c-based checks (validate.c) --------------------------------- */

/* Checks a request body and normalises what it carries into *out (absent and
 * null fields stay NULL; tags default to "[]"), setting *present to the
 * RN_CF_ bits of the members it had. Appends one {"field","issue"} per bad
 * field to details. country is the tenant's ISO code for local phone numbers
 * ("" or NULL: only +prefixed numbers). Returns 0, or -1 when details grew. */
int rn_contact_parse(json_t *body, const char *country, rn_contact *out, unsigned *present,
                     json_t *details);
/* Moves the present fields of src into dst (src keeps what was not moved). */
void rn_contact_merge(rn_contact *dst, rn_contact *src, unsigned present);
/* True when at least one of name, phone, email, externalId is set. */
bool rn_contact_identified(const rn_contact *c);
/* True when a and b hold the same field values (ids and times ignored). */
bool rn_contact_same(const rn_contact *a, const rn_contact *b);

/* ---- JSON text (render.c) ---------------------------------------------- */

/* Appends the API representation of c as one JSON object. */
void rn_contact_render(rn_text *t, const rn_contact *c);
/* The same representation as jansson (a new reference; NULL without memory). */
json_t *rn_contact_json(const rn_contact *c);

/* ---- search text (search.c) ------------------------------------------- */

/* A case-folded copy of UTF-8 text (malloc'd), or NULL if s is not UTF-8.
 * Folding is the Unicode simple lower-case mapping of every code point. */
char *rn_contact_fold(const char *s);
/* The text the trigram indexes hold: the folded name, email, company,
 * externalId and phone, joined by U+001F (malloc'd; NULL on failure). */
char *rn_contact_search_text(const rn_contact *c);

/* ---- store (store.c) -------------------------------------------------- */

/* 1 found (into *out), 0 not found, -1 store error. lock takes the row lock
 * on PostgreSQL (SQLite writers already hold the database lock). */
int rn_contact_load(rn_db *db, const char *tenant_id, const char *id, bool lock,
                    rn_contact *out);
int rn_contact_load_external(rn_db *db, const char *tenant_id, const char *external_id,
                             bool lock, rn_contact *out);
/* Inserts c. With if_new_external, an externalId the tenant already has
 * inserts nothing. Returns 1 inserted, 0 not inserted, -1 store error
 * (RN_DB_ERR_CONSTRAINT when another contact holds the externalId). */
int rn_contact_insert(rn_db *db, const char *tenant_id, const rn_contact *c,
                      bool if_new_external);
/* Writes every field of c over the row with c->id. 1, 0 (gone) or -1. */
int rn_contact_update(rn_db *db, const char *tenant_id, const rn_contact *c);
/* Deletes the row and returns what it held. 1, 0 (not found) or -1. */
int rn_contact_delete(rn_db *db, const char *tenant_id, const char *id, rn_contact *out);
/* 1 when a contact other than except_id holds external_id, 0 if none, -1. */
int rn_contact_external_taken(rn_db *db, const char *tenant_id, const char *external_id,
                              const char *except_id);

/* One page of the tenant's contacts, newest first, strictly before position
 * `before` (INT64_MAX for the first page). folded is the case-folded search
 * term or NULL. On success the contacts are appended to items as JSON
 * objects separated by commas, and *next is the position to continue from,
 * or -1 when the walk is over. Returns 0 or -1. */
int rn_contact_page(rn_db *db, const char *tenant_id, const char *folded, long long before,
                    int limit, rn_text *items, long long *next);

/* Rows a 1-2 character search examines per page (see rn_contact_page). */
#define RN_CONTACT_SHORT_SCAN 10000

/* ---- cursors (cursor.c) ----------------------------------------------- */

/* Seals a list position into an opaque cursor: base64url of an XChaCha20-
 * Poly1305 box under a key derived from the master key, bound (as associated
 * data) to the list name, the tenant and the list's filter, so that it
 * cannot be read, forged, or replayed on another list, tenant or search.
 * out needs RN_CURSOR_MAX bytes. */
#define RN_CURSOR_MAX 96
int rn_cursor_seal(const unsigned char master_key[32], const char *list, const char *tenant_id,
                   const char *filter, long long position, char *out, size_t cap);
/* Opens a cursor sealed with the same list, tenant and filter. 0 or -1. */
int rn_cursor_open(const unsigned char master_key[32], const char *list, const char *tenant_id,
                   const char *filter, const char *cursor, long long *position);

#endif
