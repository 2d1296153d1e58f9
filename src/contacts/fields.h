/*
 * fields.h — checks and normalisation for contact text fields (SPEC §6).
 *
 * Plain C, no allocation: every function reads caller-owned input and writes,
 * if at all, into a caller-owned buffer. All functions are pure and safe to
 * call from any thread.
 *
 * Text is UTF-8. Lengths the product limits ("name <= 200 characters") are in
 * Unicode code points, which is what rn_utf8_length counts.
 */
#ifndef RN_CONTACTS_FIELDS_H
#define RN_CONTACTS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes the code point at the start of s (len bytes available) into *cp
 * (cp may be NULL) and returns the number of bytes it takes, 1 to 4. Returns
 * 0 when len is 0 or the bytes are not well-formed UTF-8: truncated sequences,
 * stray continuation bytes, overlong forms, surrogates (U+D800-U+DFFF) and
 * anything above U+10FFFF. A NUL byte decodes as U+0000 (length 1). */
size_t rn_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Number of Unicode code points in the len bytes at s; -1 if they are not
 * well-formed UTF-8 (same rules as rn_utf8_decode). Embedded NUL bytes count
 * as one code point each: this function checks encoding only, so callers that
 * hold a length-delimited string (e.g. from JSON) and then use it as a C
 * string must also reject strlen(s) != len. s may be NULL when len is 0. */
long rn_utf8_length(const char *s, size_t len);

/* 1 if the NUL-terminated s contains a control character: C0 (U+0001-U+001F),
 * DEL (U+007F) or C1 (U+0080-U+009F, in UTF-8 the pairs C2 80 - C2 9F); else 0.
 * With allow_newline_tab non-zero, '\n' and '\t' are permitted; '\r' never is
 * (SPEC §6 allows newline and tab only). Validate UTF-8 first: a lone C1 byte
 * in malformed input is not recognised here. NULL s gives 0. */
int rn_text_has_control(const char *s, int allow_newline_tab);

/* Pragmatic email syntax check and normalisation.
 *
 * ASCII whitespace (space, \t, \n, \v, \f, \r) around the address is trimmed
 * first. The rest must be: local "@" domain, with exactly one '@';
 *  - local part: 1-64 bytes of RFC 5322 atext (ASCII letters, digits and
 *    !#$%&'*+-/=?^_`{|}~) and dots, no dot first, last or doubled; quoted
 *    local parts and non-ASCII local parts are refused;
 *  - domain: at least two dot-separated labels, each 1-63 bytes of ASCII
 *    letters, digits and '-' (not first or last) or non-ASCII UTF-8 for
 *    internationalised names; the last label is not all digits; no trailing
 *    dot, no IP literals. In non-ASCII labels, invisible and space-like code
 *    points and the ideographic/full-width dots that IDNA maps to '.' are
 *    refused, so one address cannot pose as another.
 *  - the whole trimmed address is at most 254 bytes.
 * Labels and the total are measured in UTF-8 bytes, not in their punycode
 * (A-label) form.
 *
 * On success writes the trimmed address, NUL-terminated, into out with the
 * ASCII letters of the domain lower-cased (local part and non-ASCII bytes kept
 * as given) and returns 0. Returns -1 when input is NULL or invalid, -2 when it
 * is valid but outcap is below its length + 1 (out is then left untouched). */
int rn_email_normalize(const char *input, char *out, size_t outcap);

#ifdef __cplusplus
}
#endif

#endif
