/*
 * test_tokens.c — the pure parts of SDK tokens: scope lists, claims, the
 * visitor id, visitor context checks, and widget-domain syntax and matching.
 * The store-backed parts (keys, minting, verification) are in
 * test_tokens_store.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sdk/domains.h"
#include "tokens/tokens.h"

static const char *detail_at(json_t *details, size_t i, const char *member)
{
    return json_string_value(json_object_get(json_array_get(details, i), member));
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);
    assert_non_null(v);
    return v;
}

/* ---- scopes -------------------------------------------------------------- */

static void omitted_scopes_give_the_read_defaults(void **state)
{
    char out[1024];
    json_t *details = json_array();
    assert_int_equal(rn_token_scopes(NULL, RN_AGENT_SCOPES, RN_AGENT_DEFAULT_SCOPES, out,
                                     sizeof out, details), 0);
    assert_string_equal(out, "agent:profile:read agent:presence:read agent:conversations:read"
                             " agent:messages:read agent:calls:read");
    json_t *null = json_null();
    assert_int_equal(rn_token_scopes(null, RN_ADMIN_SCOPES, RN_ADMIN_DEFAULT_SCOPES, out,
                                     sizeof out, details), 0);
    assert_string_equal(out, "admin:tenant:read admin:readiness:read admin:domains:read"
                             " admin:services:read admin:subscription:read"
                             " admin:ai-readiness:read admin:staff-summary:read");
    assert_int_equal(json_array_size(details), 0);
    json_decref(null);
    json_decref(details);
}

static void scopes_are_deduplicated_into_catalogue_order(void **state)
{
    char out[1024];
    json_t *details = json_array();
    json_t *req = parse("[\"agent:calls:write\", \"agent:profile:read\", \"agent:calls:write\"]");
    assert_int_equal(rn_token_scopes(req, RN_AGENT_SCOPES, RN_AGENT_DEFAULT_SCOPES, out,
                                     sizeof out, details), 0);
    assert_string_equal(out, "agent:profile:read agent:calls:write");
    json_decref(req);
    json_decref(details);
}

static void unknown_scopes_are_named_by_index(void **state)
{
    char out[1024];
    json_t *details = json_array();
    /* An admin scope is unknown to the agent catalogue. */
    json_t *req = parse("[\"agent:profile:read\", \"admin:tenant:read\", \"nope\"]");
    assert_int_equal(rn_token_scopes(req, RN_AGENT_SCOPES, RN_AGENT_DEFAULT_SCOPES, out,
                                     sizeof out, details), -2);
    assert_int_equal(json_array_size(details), 2);
    assert_string_equal(detail_at(details, 0, "field"), "scopes[1]");
    assert_string_equal(detail_at(details, 0, "issue"), "unknown_scope");
    assert_string_equal(detail_at(details, 1, "field"), "scopes[2]");
    json_decref(req);
    json_decref(details);
}

static void scopes_must_be_a_non_empty_array_of_strings(void **state)
{
    const char *bad[] = {"\"agent:profile:read\"", "[]", "[\"agent:profile:read\", 1]", "{}"};
    const char *issue[] = {"must_be_array_of_strings", "must_not_be_empty",
                           "must_be_array_of_strings", "must_be_array_of_strings"};
    for (int i = 0; i < 4; i++) {
        char out[1024];
        json_t *details = json_array();
        json_t *req = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        assert_int_equal(rn_token_scopes(req, RN_AGENT_SCOPES, RN_AGENT_DEFAULT_SCOPES, out,
                                         sizeof out, details), -1);
        assert_int_equal(json_array_size(details), 1);
        assert_string_equal(detail_at(details, 0, "field"), "scopes");
        assert_string_equal(detail_at(details, 0, "issue"), issue[i]);
        json_decref(req);
        json_decref(details);
    }
}

static void scope_array_splits_on_spaces(void **state)
{
    json_t *a = rn_token_scope_array("a:b c:d");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_array_get(a, 1)), "c:d");
    json_decref(a);
    a = rn_token_scope_array("");
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
}

/* ---- claims and visitor ids ---------------------------------------------- */

static void claims_are_exactly_the_contract_set(void **state)
{
    rn_token_spec spec = {.issuer = "https://api.example",
                          .audience = RN_AUD_AGENT,
                          .subject = "stf_1",
                          .tenant_id = "ten_1",
                          .scope = "agent:profile:read",
                          .minted_by = "key_1",
                          .ttl_s = 900,
                          .now_ms = 1796311400999LL};
    json_t *c = rn_token_claims(&spec, "tok_1");
    char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"aud\":\"ringnity:agent\",\"exp\":1796312300,"
                              "\"iat\":1796311400,\"iss\":\"https://api.example\","
                              "\"jti\":\"tok_1\",\"mintedBy\":\"key_1\",\"nbf\":1796311400,"
                              "\"scope\":\"agent:profile:read\",\"sub\":\"stf_1\","
                              "\"tid\":\"ten_1\"}");
    free(text);
    json_decref(c);
    json_t *ctx = parse("{\"visitor\":{},\"metadata\":{\"a\":1}}");
    spec.ctx = ctx;
    c = rn_token_claims(&spec, "tok_1");
    assert_int_equal(json_object_size(c), 11);
    assert_ptr_equal(json_object_get(c, "ctx"), ctx);
    json_decref(c);
    json_decref(ctx);
}

static void visitor_ids_are_stable_per_tenant_and_external_id(void **state)
{
    unsigned char master[32], other[32];
    memset(master, 7, sizeof master);
    memset(other, 8, sizeof other);
    char a[48], b[48], c[48], d[48], e[48], f[48];
    rn_token_visitor_id(master, "ten_a", "crm-1", a);
    rn_token_visitor_id(master, "ten_a", "crm-1", b);
    rn_token_visitor_id(master, "ten_b", "crm-1", c);
    rn_token_visitor_id(other, "ten_a", "crm-1", d);
    rn_token_visitor_id(master, "ten_a", NULL, e);
    rn_token_visitor_id(master, "ten_a", NULL, f);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_string_not_equal(e, f);
    assert_int_equal(strlen(a), 30);
    assert_memory_equal(a, "vis_", 4);
    assert_int_equal(strspn(a + 4, "0123456789abcdefghjkmnpqrstvwxyz"), 26);
    assert_int_equal(strlen(e), 30);
}

/* ---- visitor context ----------------------------------------------------- */

static rn_context_result context_of(const char *body_text, json_t **ctx, json_t **details)
{
    json_t *body = parse(body_text);
    *details = json_array();
    rn_context_result rc = rn_visitor_context(body, ctx, *details);
    json_decref(body);
    return rc;
}

static void context_keeps_trimmed_usable_values(void **state)
{
    json_t *ctx, *details;
    assert_int_equal(context_of("{\"visitor\":{\"externalId\":\" crm-1 \",\"name\":\"\","
                                "\"phone\":\"+62 812-3456\",\"email\":null},"
                                "\"metadata\":{\"plan\":\"gold\",\"n\":2,\"vip\":true,"
                                "\"x\":null,\"r\":1.5}}",
                                &ctx, &details),
                     RN_CONTEXT_OK);
    char *text = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, "{\"metadata\":{\"n\":2,\"plan\":\"gold\",\"r\":1.5,\"vip\":true,"
                              "\"x\":null},\"visitor\":{\"externalId\":\"crm-1\","
                              "\"phone\":\"+62 812-3456\"}}");
    free(text);
    json_decref(ctx);
    json_decref(details);
}

static void context_without_usable_values_is_empty(void **state)
{
    const char *bodies[] = {"{}", "{\"visitor\":{},\"metadata\":{}}",
                            "{\"visitor\":{\"name\":\"  \",\"email\":null}}",
                            "{\"visitor\":null,\"metadata\":{\"a\":null}}"};
    for (int i = 0; i < 4; i++) {
        json_t *ctx, *details;
        assert_int_equal(context_of(bodies[i], &ctx, &details), RN_CONTEXT_EMPTY);
        assert_null(ctx);
        assert_int_equal(json_array_size(details), 0);
        json_decref(details);
    }
}

static void context_shape_errors_name_the_field(void **state)
{
    static const struct {
        const char *body, *field, *issue;
    } cases[] = {
        {"{\"visitor\":[]}", "visitor", "must_be_object"},
        {"{\"metadata\":\"x\"}", "metadata", "must_be_object"},
        {"{\"visitor\":{\"nick\":\"x\"}}", "visitor.nick", "unknown_field"},
        {"{\"visitor\":{\"name\":5}}", "visitor.name", "must_be_string"},
        {"{\"visitor\":{\"email\":\"no-at-sign\"}}", "visitor.email", "invalid_format"},
        {"{\"visitor\":{\"email\":\"a@b@c.d\"}}", "visitor.email", "invalid_format"},
        {"{\"visitor\":{\"email\":\"a@nodot\"}}", "visitor.email", "invalid_format"},
        {"{\"visitor\":{\"phone\":\"call me\"}}", "visitor.phone", "invalid_format"},
        {"{\"visitor\":{\"phone\":\"1+2\"}}", "visitor.phone", "invalid_format"},
        {"{\"visitor\":{\"name\":\"a\\u0007b\"}}", "visitor.name", "control_characters"},
        {"{\"metadata\":{\"a\":{\"b\":1}}}", "metadata.a", "must_be_scalar"},
        {"{\"metadata\":{\"a\":[1]}}", "metadata.a", "must_be_scalar"},
        {"{\"metadata\":{\"a\":\"x\\u0001\"}}", "metadata.a", "control_characters"},
        {"{\"metadata\":{\"\":1}}", "metadata", "invalid_key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *ctx, *details;
        assert_int_equal(context_of(cases[i].body, &ctx, &details), RN_CONTEXT_INVALID);
        assert_null(ctx);
        assert_int_equal(json_array_size(details), 1);
        assert_string_equal(detail_at(details, 0, "field"), cases[i].field);
        assert_string_equal(detail_at(details, 0, "issue"), cases[i].issue);
        json_decref(details);
    }
}

static void context_text_limits_count_characters(void **state)
{
    /* 128 three-byte characters are a valid externalId; 129 are not. */
    char body[1024] = "{\"visitor\":{\"externalId\":\"";
    for (int i = 0; i < 128; i++)
        strcat(body, "\xe2\x82\xac");
    strcat(body, "\"}}");
    json_t *ctx, *details;
    assert_int_equal(context_of(body, &ctx, &details), RN_CONTEXT_OK);
    json_decref(ctx);
    json_decref(details);
    body[strlen(body) - 3] = '\0';
    strcat(body, "\xe2\x82\xac\"}}");
    assert_int_equal(context_of(body, &ctx, &details), RN_CONTEXT_INVALID);
    assert_string_equal(detail_at(details, 0, "issue"), "too_long");
    json_decref(details);
}

/* A context whose compact JSON is exactly `size` bytes:
 * {"metadata":{"k":"xxx..."},"visitor":{}} is 34 bytes plus the x's. */
static json_t *context_body_of_size(size_t size)
{
    size_t fill = size - 34;
    char *x = malloc(fill + 1);
    memset(x, 'x', fill);
    x[fill] = '\0';
    json_t *body = json_pack("{s:{s:s}}", "metadata", "k", x);
    free(x);
    return body;
}

static void context_limit_is_4096_serialized_bytes(void **state)
{
    json_t *ctx = NULL, *details = json_array();
    json_t *body = context_body_of_size(4096);
    assert_int_equal(rn_visitor_context(body, &ctx, details), RN_CONTEXT_OK);
    char *text = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
    assert_int_equal(strlen(text), 4096);
    free(text);
    json_decref(ctx);
    json_decref(body);
    body = context_body_of_size(4097);
    assert_int_equal(rn_visitor_context(body, &ctx, details), RN_CONTEXT_TOO_LARGE);
    assert_null(ctx);
    json_decref(body);
    json_decref(details);
}

/* ---- widget domains ------------------------------------------------------ */

static void domains_are_normalised_or_refused(void **state)
{
    char out[RN_DOMAIN_MAX], why[160];
    static const struct {
        const char *in, *out;
    } good[] = {{"Shop.Example.COM", "shop.example.com"}, {"localhost", "localhost"},
                {"127.0.0.1", "127.0.0.1"},               {"*.example.com", "*.example.com"},
                {"xn--bcher-kva.example", "xn--bcher-kva.example"}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        assert_int_equal(rn_domain_normalize(good[i].in, out, sizeof out, why, sizeof why), 0);
        assert_string_equal(out, good[i].out);
    }
    const char *bad[] = {"",         "https://shop.example.com", "shop.example.com:443",
                         "shop.example.com/x", "-a.example.com",  "a..b",
                         "*.com",    "*.127.0.0.1",              "256.1.1.1",
                         "1.2.3",    "a_b.example.com",          "example.com.",
                         "*",        "shop .example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(rn_domain_normalize(bad[i], out, sizeof out, why, sizeof why), -1);
}

static void origin_hosts_are_parsed_strictly(void **state)
{
    char host[RN_DOMAIN_MAX];
    assert_int_equal(rn_origin_host("https://Shop.Example.com", host, sizeof host), 0);
    assert_string_equal(host, "shop.example.com");
    assert_int_equal(rn_origin_host("http://localhost:3000", host, sizeof host), 0);
    assert_string_equal(host, "localhost");
    const char *bad[] = {NULL,           "null",          "file://x",         "https://",
                         "https://a.b/", "https://a.b:x", "https://a.b:123456", "ftp://a.b",
                         "https://[::1]:3000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(rn_origin_host(bad[i], host, sizeof host), -1);
}

static void wildcards_match_subdomains_only(void **state)
{
    assert_true(rn_domain_matches("shop.example.com", "shop.example.com"));
    assert_false(rn_domain_matches("shop.example.com", "a.shop.example.com"));
    assert_false(rn_domain_matches("example.com", "badexample.com"));
    assert_true(rn_domain_matches("*.example.com", "a.example.com"));
    assert_true(rn_domain_matches("*.example.com", "a.b.example.com"));
    assert_false(rn_domain_matches("*.example.com", "example.com"));
    assert_false(rn_domain_matches("*.example.com", "badexample.com"));
    assert_false(rn_domain_matches("*.example.com", "example.com.evil.test"));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(omitted_scopes_give_the_read_defaults),
        cmocka_unit_test(scopes_are_deduplicated_into_catalogue_order),
        cmocka_unit_test(unknown_scopes_are_named_by_index),
        cmocka_unit_test(scopes_must_be_a_non_empty_array_of_strings),
        cmocka_unit_test(scope_array_splits_on_spaces),
        cmocka_unit_test(claims_are_exactly_the_contract_set),
        cmocka_unit_test(visitor_ids_are_stable_per_tenant_and_external_id),
        cmocka_unit_test(context_keeps_trimmed_usable_values),
        cmocka_unit_test(context_without_usable_values_is_empty),
        cmocka_unit_test(context_shape_errors_name_the_field),
        cmocka_unit_test(context_text_limits_count_characters),
        cmocka_unit_test(context_limit_is_4096_serialized_bytes),
        cmocka_unit_test(domains_are_normalised_or_refused),
        cmocka_unit_test(origin_hosts_are_parsed_strictly),
        cmocka_unit_test(wildcards_match_subdomains_only),
    };
    return cmocka_run_group_tests_name("tokens", tests, NULL, NULL);
}
