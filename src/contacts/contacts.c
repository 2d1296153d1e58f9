/*
 * contacts.c — the five contact endpoints.
 *
 * Writes follow one shape: validate the body before touching the store,
 * then one transaction with the change, its audit entry and its event.
 * POST with an externalId is an upsert that is safe under concurrency on
 * both stores: INSERT ... ON CONFLICT (tenant_id, external_id) DO NOTHING
 * either creates the row or, when the key exists (PostgreSQL waits for a
 * concurrent inserter to commit first), inserts nothing; the existing row is
 * then read under its lock and the body merged into it. Merging happens in C
 * because the stored search text is folded here, not in SQL. A write that
 * changes nothing (a re-sync of the same data) answers 200 and records no
 * audit entry and no event.
 */
#include "contacts/contacts.h"

#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "activity/activity.h"
#include "auth/audit.h"
#include "contacts/fields.h"
#include "contacts/model.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "webhooks/outbox.h"

#define LIST_NAME "contacts"
/* An upsert retries when the row it conflicted with is deleted before it
 * could be read (a concurrent DELETE); twice more is plenty. */
#define UPSERT_ATTEMPTS 3

/* ---- shared helpers ------------------------------------------------------ */

/* Answers a store failure: 503 for what a retry may fix, 500 for the rest. */
static void reply_store_error(rn_req *r, rn_db *db)
{
    rn_db_error e = db ? rn_db_last_error(db) : RN_DB_ERR_UNAVAILABLE;
    bool retry = e == RN_DB_ERR_UNAVAILABLE || e == RN_DB_ERR_BUSY;
    json_t *f = json_pack("{s:s, s:s, s:s}", "module", "contacts", "requestId", r->request_id,
                          "error", db ? rn_db_last_message(db) : "no store connection");
    rn_log(retry ? RN_LOG_WARN : RN_LOG_ERROR, "contact store statement failed", f);
    json_decref(f);
    rn_reply_error(r, retry ? RN_SERVER_UNAVAILABLE : RN_SERVER_INTERNAL_ERROR, NULL, NULL);
}

static void reply_failed_txn(rn_req *r, rn_db *db)
{
    rn_db_rollback(db);
    reply_store_error(r, db);
}

static void reply_not_found(rn_req *r)
{
    rn_reply_error(r, RN_SERVER_CONTACT_NOT_FOUND, NULL, NULL);
}

static void reply_required(rn_req *r)
{
    json_t *details = json_array();
    rn_detail_add(details, "contact", "required");
    rn_reply_error(r, RN_SERVER_CONTACT_VALIDATION_FAILED,
                   "A contact needs at least one of name, phone, email or externalId.", details);
}

/* Parses r->json into *c. Returns 0, or -1 after replying 400. With
 * need_identity, a body naming no identifying field is refused too. */
static int parse_body(rn_req *r, rn_contact *c, unsigned *present, bool need_identity)
{
    json_t *details = json_array();
    if (rn_contact_parse(r->json, r->who.tenant_country, c, present, details) != 0) {
        rn_contact_clear(c);
        rn_reply_invalid(r, RN_SERVER_CONTACT_VALIDATION_FAILED, details);
        return -1;
    }
    json_decref(details);
    if (need_identity && !rn_contact_identified(c)) {
        rn_contact_clear(c);
        reply_required(r);
        return -1;
    }
    return 0;
}

/* The {id} path parameter when it is a well-formed contact id, else NULL
 * (the caller answers 404 exactly as for an unknown id). */
static const char *path_id(rn_req *r)
{
    const char *id = rn_req_param(r, 0);
    return rn_id_valid("ct", id) ? id : NULL;
}

static json_t *field_names(unsigned present)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{RN_CF_EXTERNAL_ID, "externalId"}, {RN_CF_NAME, "name"},
                 {RN_CF_PHONE, "phone"},            {RN_CF_EMAIL, "email"},
                 {RN_CF_COMPANY, "company"},        {RN_CF_TAGS, "tags"},
                 {RN_CF_NOTES, "notes"}};
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (present & names[i].bit)
            json_array_append_new(list, json_string(names[i].name));
    return list;
}

/* The audit entry and the outbox event of one write, inside its transaction.
 * The audit entry names the fields sent, never their values. */
static int record(rn_req *r, rn_db *db, const char *action, const rn_contact *c,
                  unsigned present)
{
    json_t *details = present ? json_pack("{s:o}", "fields", field_names(present)) : NULL;
    json_t *data = rn_contact_json(c);
    int rc = rn_audit_request(r, action, c->id, details);
    if (rc == 0)
        rc = rn_event_emit(db, r->who.tenant_id, action, data, NULL, 0);
    /* Reports count new contacts per local day (contactsCreated). */
    if (rc == 0 && strcmp(action, "contact.created") == 0)
        rc = rn_activity_count_contact(db, r->who.tenant_id, r->who.tenant_timezone,
                                       c->created_at);
    json_decref(details);
    json_decref(data);
    return rc;
}

/* Answers status with the contact. */
static void reply_contact(rn_req *r, int status, const rn_contact *c)
{
    rn_text t = {0};
    rn_contact_render(&t, c);
    if (t.failed)
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
    else
        rn_reply_text(r, status, "application/json", t.text, t.len);
    rn_text_free(&t);
}

/* Commits, then answers status with the contact. */
static void commit_and_reply(rn_req *r, rn_db *db, int status, const rn_contact *c)
{
    if (rn_db_commit(db) != 0) {
        reply_store_error(r, db);
        return;
    }
    reply_contact(r, status, c);
}

/* ---- reads ------------------------------------------------------------- */

/* ?search= as a folded term (*out NULL for none). -1 after replying 400.
 * The server decodes query arguments except "%00", which it leaves as those
 * three characters so that a NUL cannot cut a value short (http/server.c):
 * "%00" in a search is therefore a NUL the client sent, and refused as a
 * control character like any other (the literal text "%00" cannot be
 * searched for). */
static int search_term(rn_req *r, char **out)
{
    const char *raw = NULL;
    size_t len = 0;
    *out = NULL;
    if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, "search", 6, &raw,
                                      &len) != MHD_YES ||
        !raw || len == 0)
        return 0;
    const char *issue = NULL;
    long chars = rn_utf8_length(raw, len);
    if (chars < 0)
        issue = "invalid_format";
    else if (strlen(raw) != len || strstr(raw, "%00") || rn_text_has_control(raw, 0))
        issue = "control_characters";
    else if (chars > RN_CONTACT_SEARCH_MAX)
        issue = "too_long";
    else if (!(*out = rn_contact_fold(raw)))
        issue = "invalid_format";
    if (!issue)
        return 0;
    json_t *details = json_array();
    rn_detail_add(details, "search", issue);
    rn_reply_invalid(r, RN_SERVER_REQUEST_VALIDATION_FAILED, details);
    return -1;
}

void rn_api_contacts_list(rn_req *r)
{
    int limit;
    char *term = NULL;
    if (rn_req_limit(r, &limit) != 0 || search_term(r, &term) != 0)
        return;
    long long before = INT64_MAX, next = -1;
    const char *cursor = rn_req_query(r, "cursor");
    if (cursor && *cursor &&
        rn_cursor_open(r->app->master_key, LIST_NAME, r->who.tenant_id, term ? term : "", cursor,
                       &before) != 0) {
        free(term);
        rn_reply_error(r, RN_SERVER_CURSOR_INVALID, NULL, NULL);
        return;
    }
    rn_db *db = rn_req_db(r);
    rn_text page = {0};
    rn_text_puts(&page, "{\"data\":[");
    if (!db || rn_contact_page(db, r->who.tenant_id, term, before, limit, &page, &next) != 0) {
        free(term);
        rn_text_free(&page);
        reply_store_error(r, db);
        return;
    }
    /* The cursor alphabet (base64url) needs no JSON escaping. */
    char sealed[RN_CURSOR_MAX];
    bool more = next >= 0 && rn_cursor_seal(r->app->master_key, LIST_NAME, r->who.tenant_id,
                                            term ? term : "", next, sealed, sizeof sealed) == 0;
    rn_text_puts(&page, "],\"nextCursor\":");
    rn_text_puts(&page, more ? "\"" : "null");
    if (more) {
        rn_text_puts(&page, sealed);
        rn_text_puts(&page, "\"");
    }
    rn_text_puts(&page, "}");
    free(term);
    if (page.failed)
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
    else
        rn_reply_text(r, 200, "application/json", page.text, page.len);
    rn_text_free(&page);
}

void rn_api_contacts_get(rn_req *r)
{
    const char *id = path_id(r);
    if (!id) {
        reply_not_found(r);
        return;
    }
    rn_db *db = rn_req_db(r);
    rn_contact c;
    int found = db ? rn_contact_load(db, r->who.tenant_id, id, false, &c) : -1;
    if (found < 0) {
        reply_store_error(r, db);
        return;
    }
    if (!found) {
        reply_not_found(r);
        return;
    }
    reply_contact(r, 200, &c);
    rn_contact_clear(&c);
}

/* ---- writes ------------------------------------------------------------ */

static void stamp_new(rn_contact *c)
{
    rn_id_new("ct", c->id, sizeof c->id);
    c->created_at = c->updated_at = rn_now_ms();
}

/* POST without externalId: always a new contact. */
static void create_plain(rn_req *r, rn_db *db, rn_contact *c, unsigned present)
{
    stamp_new(c);
    if (rn_db_begin(db) != 0) {
        reply_store_error(r, db);
        return;
    }
    if (rn_contact_insert(db, r->who.tenant_id, c, false) != 1 ||
        record(r, db, "contact.created", c, present) != 0) {
        reply_failed_txn(r, db);
        return;
    }
    commit_and_reply(r, db, 201, c);
}

/* The locked row cur with the body's present fields moved over it. */
static void merge_into_copy(const rn_contact *cur, rn_contact *body, unsigned present,
                            rn_contact *out)
{
    rn_contact_copy(out, cur);
    rn_contact_merge(out, body, present);
}

/* Writes merged over cur if anything changed, with its audit entry and
 * event. Leaves the transaction open; answers nothing. Returns 1 written,
 * 0 unchanged, -1 store error. */
static int write_merged(rn_req *r, rn_db *db, const rn_contact *cur, rn_contact *merged,
                        unsigned present)
{
    if (rn_contact_same(cur, merged))
        return 0;
    merged->updated_at = rn_now_ms();
    if (rn_contact_update(db, r->who.tenant_id, merged) != 1)
        return -1;
    return record(r, db, "contact.updated", merged, present) == 0 ? 1 : -1;
}

/* One upsert attempt. Returns 0 when it answered, 1 to try again (the row
 * that blocked the insert was deleted before it could be read). */
static int upsert_once(rn_req *r, rn_db *db, rn_contact *body, unsigned present)
{
    stamp_new(body);
    if (rn_db_begin(db) != 0) {
        reply_store_error(r, db);
        return 0;
    }
    int inserted = rn_contact_insert(db, r->who.tenant_id, body, true);
    if (inserted == 1 && record(r, db, "contact.created", body, present) == 0) {
        commit_and_reply(r, db, 201, body);
        return 0;
    }
    rn_contact cur, merged;
    int found = inserted == 0
                    ? rn_contact_load_external(db, r->who.tenant_id, body->external_id, true, &cur)
                    : -1;
    if (found <= 0) {
        if (found == 0) {
            rn_db_rollback(db);
            return 1;
        }
        reply_failed_txn(r, db);
        return 0;
    }
    merge_into_copy(&cur, body, present, &merged);
    if (write_merged(r, db, &cur, &merged, present) < 0)
        reply_failed_txn(r, db);
    else
        commit_and_reply(r, db, 200, &merged);
    rn_contact_clear(&cur);
    rn_contact_clear(&merged);
    return 0;
}

/* A validated POST body, waiting for its write. */
typedef struct {
    rn_contact body;
    unsigned present;
} create_job;

static void create_job_free(void *arg)
{
    create_job *job = arg;
    rn_contact_clear(&job->body);
    free(job);
}

static void create_write(rn_req *r, void *arg)
{
    create_job *job = arg;
    rn_db *db = rn_req_db(r);
    if (!db)
        reply_store_error(r, db);
    else if (!job->body.external_id)
        create_plain(r, db, &job->body, job->present);
    else {
        int again = 1;
        for (int i = 0; i < UPSERT_ATTEMPTS && again; i++)
            again = upsert_once(r, db, &job->body, job->present);
        if (again)
            rn_reply_error(r, RN_SERVER_UNAVAILABLE, NULL, NULL);
    }
}

/* Validation runs here, on the request's thread; the write is grouped
 * with other requests' on SQLite (rn_req_write). */
void rn_api_contacts_create(rn_req *r)
{
    create_job *job = calloc(1, sizeof *job);
    if (!job) {
        rn_reply_error(r, RN_SERVER_INTERNAL_ERROR, NULL, NULL);
        return;
    }
    if (parse_body(r, &job->body, &job->present, true) != 0) {
        free(job);
        return;
    }
    rn_req_write(r, create_write, job, create_job_free);
}

/* The PATCH steps after the row is locked; answers; leaves no transaction. */
static void update_locked(rn_req *r, rn_db *db, const rn_contact *cur, rn_contact *body,
                          unsigned present)
{
    rn_contact merged;
    merge_into_copy(cur, body, present, &merged);
    bool identified = rn_contact_identified(&merged);
    bool new_external = merged.external_id && (!cur->external_id ||
                                                strcmp(merged.external_id, cur->external_id) != 0);
    int taken = identified && new_external
                    ? rn_contact_external_taken(db, r->who.tenant_id, merged.external_id, cur->id)
                    : 0;
    int wrote = !identified || taken != 0 ? -1 : write_merged(r, db, cur, &merged, present);
    if (wrote >= 0) {
        commit_and_reply(r, db, 200, &merged);
    } else if (!identified || taken > 0 || rn_db_last_error(db) == RN_DB_ERR_CONSTRAINT) {
        /* A constraint failure here is a concurrent write that took the
         * externalId after our check. */
        rn_db_rollback(db);
        if (identified)
            rn_reply_error(r, RN_SERVER_CONTACT_CONFLICT, NULL, NULL);
        else
            reply_required(r);
    } else {
        reply_failed_txn(r, db);
    }
    rn_contact_clear(&merged);
}

void rn_api_contacts_update(rn_req *r)
{
    const char *id = path_id(r);
    rn_contact body, cur;
    unsigned present;
    if (parse_body(r, &body, &present, false) != 0)
        return;
    rn_db *db = id ? rn_req_db(r) : NULL;
    if (!id) {
        reply_not_found(r);
        goto done;
    }
    if (!db || rn_db_begin(db) != 0) {
        reply_store_error(r, db);
        goto done;
    }
    int found = rn_contact_load(db, r->who.tenant_id, id, true, &cur);
    if (found < 0) {
        reply_failed_txn(r, db);
    } else if (found == 0) {
        rn_db_rollback(db);
        reply_not_found(r);
    } else {
        update_locked(r, db, &cur, &body, present);
        rn_contact_clear(&cur);
    }
done:
    rn_contact_clear(&body);
}

void rn_api_contacts_delete(rn_req *r)
{
    const char *id = path_id(r);
    if (!id) {
        reply_not_found(r);
        return;
    }
    rn_db *db = rn_req_db(r);
    if (!db || rn_db_begin(db) != 0) {
        reply_store_error(r, db);
        return;
    }
    rn_contact gone;
    int found = rn_contact_delete(db, r->who.tenant_id, id, &gone);
    if (found == 0) {
        rn_db_rollback(db);
        reply_not_found(r);
        return;
    }
    if (found < 0 || record(r, db, "contact.deleted", &gone, 0) != 0) {
        if (found > 0)
            rn_contact_clear(&gone);
        reply_failed_txn(r, db);
        return;
    }
    rn_contact_clear(&gone);
    if (rn_db_commit(db) != 0) {
        reply_store_error(r, db);
        return;
    }
    rn_reply_empty(r, 204);
}
