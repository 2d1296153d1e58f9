/*
 * demo_replay.c — `ringnity demo replay --tenant T --file F`: applies a
 * scripted history to a tenant through the activity API, in one unit of
 * work (all or nothing), with each operation at its own instant. Tests and
 * demos use it to build exact scenarios (a conversation across a DST change,
 * a call that starts before midnight) that live SDK calls, which always
 * happen "now", cannot.
 *
 * F is a JSON array of operations; "at" is RFC 3339 with an offset or Z;
 * agents are usernames; "ref" names what an operation creates so later
 * operations can use it:
 *
 *   {"op": "visitor_message", "visitor": "v1", "name": "Ann", "text": "hi", "at": ...,
 *    "ref": "c1"}
 *   {"op": "agent_message", "conversation": "c1", "agent": "ana", "text": "hello", "at": ...}
 *   {"op": "assign" | "close", "conversation": "c1", "agent": "ana", "at": ...}
 *   {"op": "call_start", "agent": "ana", "conversation": "c1"?, "direction": "inbound",
 *    "at": ..., "ref": "k1"}
 *   {"op": "call_end", "call": "k1", "answered": true, "talkSeconds": 30?, "at": ...}
 *   {"op": "ticket_open", "agent": "ana", "subject": "...", "priority": "high"?, "at": ...,
 *    "ref": "t1"}
 *   {"op": "ticket_update", "ticket": "t1", "status": "resolved"?, "priority": ...?, "at": ...}
 *   {"op": "presence", "agent": "ana", "status": "online", "at": ...}
 *   {"op": "contact_created", "at": ...}
 *
 * Webhook events are written as for live activity. --json prints the refs
 * and the ids they got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activity/activity.h"
#include "app.h"
#include "cli/cli.h"
#include "core/tz.h"
#include "tenants/tenants.h"

typedef struct {
    rn_db *db;
    rn_act *unit;
    const char *tenant_id;
    json_t *refs;   /* ref -> id */
    json_t *agents; /* username -> staff id */
} replay;

/* "YYYY-MM-DDTHH:MM:SS[.mmm](Z|+HH:MM|-HH:MM)" -> ms; -1 when malformed. */
static long long parse_instant(const char *s)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return -1;
    const char *p = s + n;
    long long ms = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        while (digits++ < 3)
            ms *= 10;
    }
    long long offset = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6)
            return -1;
        offset = (*p == '-' ? -1 : 1) * (oh * 3600LL + om * 60LL);
    } else if (strcmp(p, "Z") != 0) {
        return -1;
    }
    char date[11];
    snprintf(date, sizeof date, "%04d-%02d-%02d", y, mo, d);
    long long day;
    if (rn_day_parse(date, &day) != 0 || h > 23 || mi > 59 || sec > 59)
        return -1;
    return (day * 86400 + h * 3600LL + mi * 60LL + sec - offset) * 1000 + ms;
}

static const char *str(json_t *op, const char *key)
{
    return json_string_value(json_object_get(op, key));
}

/* The id a ref (or a literal id) stands for. */
static const char *resolve(replay *r, json_t *op, const char *key)
{
    const char *v = str(op, key);
    const char *id = v ? json_string_value(json_object_get(r->refs, v)) : NULL;
    return id ? id : v;
}

static const char *agent_id(replay *r, json_t *op)
{
    const char *username = str(op, "agent");
    return username ? json_string_value(json_object_get(r->agents, username)) : NULL;
}

static int load_agents(replay *r)
{
    rn_rows *rows = rn_db_query(r->db, "SELECT username, id FROM staff WHERE tenant_id = $1",
                                RN_PARAMS(RN_T(r->tenant_id)));
    if (!rows)
        return -1;
    for (int i = 0; i < rn_rows_count(rows); i++)
        json_object_set_new(r->agents, rn_rows_get(rows, i, 0),
                            json_string(rn_rows_get(rows, i, 1)));
    rn_rows_free(rows);
    return 0;
}

static void remember(replay *r, json_t *op, const char *id)
{
    const char *ref = str(op, "ref");
    if (ref && id && *id)
        json_object_set_new(r->refs, ref, json_string(id));
}

static int apply_conversation_op(replay *r, const char *kind, json_t *op, long long at)
{
    char id[48] = "";
    if (strcmp(kind, "visitor_message") == 0) {
        int rc = rn_act_visitor_message(r->unit, str(op, "visitor"), str(op, "name"), NULL,
                                        str(op, "text"), at, id, NULL);
        remember(r, op, id);
        return rc;
    }
    const char *cnv = resolve(r, op, "conversation");
    if (strcmp(kind, "agent_message") == 0)
        return rn_act_agent_message(r->unit, cnv, agent_id(r, op), str(op, "text"), at, NULL);
    if (strcmp(kind, "assign") == 0)
        return rn_act_assign(r->unit, cnv, agent_id(r, op), at, NULL);
    return rn_act_close(r->unit, cnv, agent_id(r, op), at, NULL);
}

static int apply_other_op(replay *r, const char *kind, json_t *op, long long at)
{
    char id[48] = "";
    int rc = RN_ACT_INVALID;
    if (strcmp(kind, "call_start") == 0) {
        rc = rn_act_call_start(r->unit, agent_id(r, op), resolve(r, op, "conversation"),
                               str(op, "direction"), at, id, NULL);
    } else if (strcmp(kind, "call_end") == 0) {
        json_t *talk = json_object_get(op, "talkSeconds");
        rc = rn_act_call_end(r->unit, resolve(r, op, "call"),
                             json_is_true(json_object_get(op, "answered")),
                             talk ? json_integer_value(talk) : -1, at, NULL);
    } else if (strcmp(kind, "ticket_open") == 0 || strcmp(kind, "ticket_update") == 0) {
        rn_ticket_fields f = {.subject = str(op, "subject"),
                              .description = str(op, "description"),
                              .priority = str(op, "priority"),
                              .status = str(op, "status"),
                              .conversation_id = resolve(r, op, "conversation")};
        rc = strcmp(kind, "ticket_open") == 0
                 ? rn_act_ticket_open(r->unit, agent_id(r, op), &f, at, id, NULL)
                            : rn_act_ticket_update(r->unit, resolve(r, op, "ticket"), &f, at,
                                                   NULL);
    } else if (strcmp(kind, "presence") == 0) {
        rc = rn_act_presence_set(r->unit, agent_id(r, op), str(op, "status"), at, NULL);
    } else if (strcmp(kind, "contact_created") == 0) {
        rc = rn_act_contact_created(r->unit, at);
    }
    remember(r, op, id);
    return rc;
}

static int apply(replay *r, size_t index, json_t *op)
{
    const char *kind = str(op, "op");
    long long at = parse_instant(str(op, "at"));
    if (!kind || at < 0) {
        fprintf(stderr, "ringnity: operation %zu needs \"op\" and an RFC 3339 \"at\"\n", index);
        return 1;
    }
    bool conversation_op = strcmp(kind, "visitor_message") == 0 ||
                           strcmp(kind, "agent_message") == 0 || strcmp(kind, "assign") == 0 ||
                           strcmp(kind, "close") == 0;
    int rc = conversation_op ? apply_conversation_op(r, kind, op, at)
                             : apply_other_op(r, kind, op, at);
    if (rc == RN_ACT_OK)
        return 0;
    static const char *const why[] = {"", "not found", "not allowed in this state",
                                      "invalid"};
    fprintf(stderr, "ringnity: operation %zu (%s) failed: %s\n", index, kind,
            rc > 0 && rc <= 3 ? why[rc] : "store failure");
    return rc > 0 ? 1 : 3;
}

static int run(replay *r, json_t *ops, const char *timezone)
{
    r->unit = rn_act_begin(r->db, r->tenant_id, timezone);
    if (!r->unit || load_agents(r) != 0) {
        fprintf(stderr, "ringnity: the store failed\n");
        if (r->unit)
            rn_act_rollback(r->unit);
        return 3;
    }
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        int code = apply(r, i, op);
        if (code != 0) {
            rn_act_rollback(r->unit);
            return code;
        }
    }
    if (rn_act_commit(r->unit) != 0) {
        fprintf(stderr, "ringnity: the store failed while committing\n");
        return 3;
    }
    return 0;
}

int rn_cli_demo_replay(int argc, char **argv)
{
    static const rn_cli_option opts[] = {{"tenant", false, true, "tenant slug or id"},
                                         {"file", false, true, "JSON array of operations"},
                                         {0}};
    rn_cli_args a;
    int p = rn_cli_parse(argc, argv, "demo replay", opts, &a);
    if (p != 0)
        return p > 0 ? 0 : 1;
    json_error_t jerr;
    json_t *ops = json_load_file(rn_cli_get(&a, opts, "file"), JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_array(ops)) {
        fprintf(stderr, "ringnity: --file must hold a JSON array (%s)\n", jerr.text);
        json_decref(ops);
        return 1;
    }
    rn_app app;
    char err[512];
    if (rn_app_open(&app, 1, err, sizeof err) != 0) {
        fprintf(stderr, "ringnity: %s\n", err);
        json_decref(ops);
        return 3;
    }
    replay r = {.db = rn_pool_acquire(app.pool), .refs = json_object(), .agents = json_object()};
    json_t *t = NULL;
    int code = 2;
    if (rn_tenant_get(r.db, rn_cli_get(&a, opts, "tenant"), &t) != 0) {
        fprintf(stderr, "ringnity: cannot find the tenant: no such tenant\n");
    } else {
        r.tenant_id = json_string_value(json_object_get(t, "id"));
        code = run(&r, ops, json_string_value(json_object_get(t, "timezone")));
    }
    if (code == 0 && a.json) {
        json_t *out = json_pack("{s:I, s:O}", "operations", (json_int_t)json_array_size(ops),
                                "refs", r.refs);
        char *s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
        puts(s);
        free(s);
        json_decref(out);
    } else if (code == 0) {
        printf("replayed %zu operations\n", json_array_size(ops));
    }
    json_decref(t);
    json_decref(r.refs);
    json_decref(r.agents);
    json_decref(ops);
    rn_pool_release(app.pool, r.db);
    rn_app_close(&app);
    return code;
}
