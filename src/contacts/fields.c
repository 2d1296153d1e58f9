/*
 * fields.c — UTF-8, control-character and email checks for contact fields.
 *
 * Everything works on bytes the caller owns; nothing allocates. The UTF-8
 * decoder is table-driven so that the rules for each lead byte (how many
 * continuation bytes, smallest legal value) sit in one place.
 */
#include "contacts/fields.h"

#include "core/json.h"

#include <stdbool.h>
#include <string.h>

#define RN_EMAIL_MAX_BYTES 254
#define RN_EMAIL_LOCAL_MAX_BYTES 64
#define RN_EMAIL_LABEL_MAX_BYTES 63

/* Multi-byte lead bytes. C0, C1 and F5-FF never start a sequence: the first two
 * can only encode overlongs, the rest would exceed U+10FFFF. */
typedef struct {
    unsigned char lead_first;
    unsigned char lead_last;
    size_t length;
    unsigned char payload_mask;
    uint32_t smallest;
} utf8_lead;

static const utf8_lead utf8_leads[] = {
    {0xC2, 0xDF, 2, 0x1F, 0x80},
    {0xE0, 0xEF, 3, 0x0F, 0x800},
    {0xF0, 0xF4, 4, 0x07, 0x10000},
};

static const utf8_lead *utf8_lead_find(unsigned char byte)
{
    for (size_t i = 0; i < sizeof utf8_leads / sizeof utf8_leads[0]; i++) {
        if (byte >= utf8_leads[i].lead_first && byte <= utf8_leads[i].lead_last)
            return &utf8_leads[i];
    }
    return NULL;
}

size_t rn_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
    if (s == NULL || len == 0)
        return 0;

    const unsigned char *p = (const unsigned char *)s;
    if (p[0] < 0x80) {
        if (cp != NULL)
            *cp = p[0];
        return 1;
    }

    const utf8_lead *lead = utf8_lead_find(p[0]);
    if (lead == NULL || len < lead->length)
        return 0;

    uint32_t value = p[0] & lead->payload_mask;
    for (size_t i = 1; i < lead->length; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (p[i] & 0x3F);
    }

    /* Overlongs, UTF-16 surrogates and values past Unicode are not scalar values. */
    if (value < lead->smallest || value > 0x10FFFF)
        return 0;
    if (value >= 0xD800 && value <= 0xDFFF)
        return 0;

    if (cp != NULL)
        *cp = value;
    return lead->length;
}

/* One UTF-8 counter and one control-character rule serve the whole server:
 * these keep the contacts module's names over core/json.c's. */
long rn_utf8_length(const char *s, size_t len)
{
    if (s == NULL)
        return len == 0 ? 0 : -1;
    return rn_utf8_count(s, len);
}

int rn_text_has_control(const char *s, int allow_newline_tab)
{
    return s != NULL && rn_has_control(s, allow_newline_tab != 0);
}

/* ---- email ---------------------------------------------------------------- */

static bool email_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool ascii_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool email_is_atext(char c)
{
    return ascii_is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool email_local_valid(const char *s, size_t len)
{
    if (len == 0 || len > RN_EMAIL_LOCAL_MAX_BYTES)
        return false;
    if (s[0] == '.' || s[len - 1] == '.')
        return false;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
            return false;
        if (s[i] != '.' && !email_is_atext(s[i]))
            return false;
    }
    return true;
}

/* Code points refused inside internationalised labels: controls and NBSP,
 * invisible formatting and bidi controls, spaces, and the dots IDNA maps to
 * U+002E (they would silently split a label in two once converted). */
typedef struct {
    uint32_t first;
    uint32_t last;
} code_range;

static const code_range email_label_refused[] = {
    {0x0080, 0x00A0}, {0x00AD, 0x00AD}, {0x1680, 0x1680}, {0x2000, 0x200F},
    {0x2028, 0x202F}, {0x205F, 0x206F}, {0x3000, 0x3002}, {0xFEFF, 0xFEFF},
    {0xFF0E, 0xFF0E}, {0xFF61, 0xFF61}, {0xFFF0, 0xFFFF},
};

static bool email_label_code_point_ok(uint32_t cp)
{
    size_t count = sizeof email_label_refused / sizeof email_label_refused[0];
    for (size_t i = 0; i < count; i++) {
        if (cp >= email_label_refused[i].first && cp <= email_label_refused[i].last)
            return false;
    }
    return true;
}

static bool email_label_valid(const char *s, size_t len)
{
    if (len == 0 || len > RN_EMAIL_LABEL_MAX_BYTES)
        return false;
    if (s[0] == '-' || s[len - 1] == '-')
        return false;

    size_t pos = 0;
    while (pos < len) {
        if ((unsigned char)s[pos] < 0x80) {
            if (!ascii_is_alnum(s[pos]) && s[pos] != '-')
                return false;
            pos++;
            continue;
        }
        uint32_t cp = 0;
        size_t step = rn_utf8_decode(s + pos, len - pos, &cp);
        if (step == 0 || !email_label_code_point_ok(cp))
            return false;
        pos += step;
    }
    return true;
}

static bool email_label_all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static bool email_domain_valid(const char *s, size_t len)
{
    size_t labels = 0;
    size_t start = 0;

    for (;;) {
        const char *dot = memchr(s + start, '.', len - start);
        size_t end = dot != NULL ? (size_t)(dot - s) : len;
        if (!email_label_valid(s + start, end - start))
            return false;
        labels++;
        if (dot == NULL)
            return labels >= 2 && !email_label_all_digits(s + start, end - start);
        start = end + 1;
    }
}

int rn_email_normalize(const char *input, char *out, size_t outcap)
{
    if (input == NULL)
        return -1;

    const char *start = input;
    while (email_is_space(*start))
        start++;
    size_t len = strlen(start);
    while (len > 0 && email_is_space(start[len - 1]))
        len--;
    if (len == 0 || len > RN_EMAIL_MAX_BYTES)
        return -1;

    const char *at = memchr(start, '@', len);
    if (at == NULL)
        return -1;
    size_t local_len = (size_t)(at - start);
    size_t domain_len = len - local_len - 1;
    if (memchr(at + 1, '@', domain_len) != NULL)
        return -1;
    if (!email_local_valid(start, local_len) || !email_domain_valid(at + 1, domain_len))
        return -1;

    if (out == NULL || outcap < len + 1)
        return -2;
    memcpy(out, start, len);
    out[len] = '\0';
    for (size_t i = local_len + 1; i < len; i++) {
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    }
    return 0;
}
