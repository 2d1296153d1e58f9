/*
 * openapi.c — api/openapi.yaml is compiled into the binary (see
 * cmake/embed.cmake) and converted to JSON once, on first request, with
 * libyaml. Plain scalars follow the YAML 1.2 core schema (null, booleans,
 * integers, floats); quoted scalars are always strings.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "api/system.h"

extern const unsigned char rn_openapi_yaml[];
extern const size_t rn_openapi_yaml_len;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *json_text;
static size_t json_len;

static json_t *plain_scalar(const char *s)
{
    if (!*s || strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || strcmp(s, "Null") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)
        return json_false();
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0 && strspn(s, "-+0123456789") == strlen(s))
        return json_integer(i);
    double d = strtod(s, &end);
    if (*end == '\0' && strspn(s, "-+0123456789.eE") == strlen(s))
        return json_real(d);
    return json_string(s);
}

static json_t *convert(yaml_document_t *doc, yaml_node_t *node, int depth)
{
    if (!node || depth > 64)
        return NULL;
    if (node->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)node->data.scalar.value;
        return node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? plain_scalar(s)
                                                                   : json_string(s);
    }
    if (node->type == YAML_SEQUENCE_NODE) {
        json_t *arr = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++)
            json_array_append_new(arr, convert(doc, yaml_document_get_node(doc, *it), depth + 1));
        return arr;
    }
    json_t *obj = json_object();
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            continue;
        json_t *v = convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
        json_object_set_new(obj, (const char *)k->data.scalar.value, v ? v : json_null());
    }
    return obj;
}

static void build(void)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return;
    yaml_parser_set_input_string(&parser, rn_openapi_yaml, rn_openapi_yaml_len);
    if (yaml_parser_load(&parser, &doc)) {
        json_t *root = convert(&doc, yaml_document_get_root_node(&doc), 0);
        if (root) {
            json_text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_len = json_text ? strlen(json_text) : 0;
            json_decref(root);
        }
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
}

const char *rn_openapi_json(size_t *len)
{
    pthread_once(&once, build);
    *len = json_len;
    return json_text;
}
