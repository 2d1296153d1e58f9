/*
 * phone.cc — the C shim over libphonenumber declared in phone.h.
 *
 * Screening happens before libphonenumber sees the text: its parser is built
 * to be forgiving (it translates letters, strips trailing junk and reads "#12"
 * as an extension), while a contact store wants to refuse anything it would
 * have to guess about. Every entry point catches all exceptions, since an
 * exception unwinding through a C caller is undefined behaviour.
 */
#include "contacts/phone.h"

#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "contacts/fields.h"

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

/* libphonenumber refuses longer input itself; checking first keeps the
 * screening loop bounded. */
const size_t kMaxInputBytes = 250;

/* "ZZ" is libphonenumber's unknown region: only +prefixed numbers parse. */
const char kUnknownRegion[] = "ZZ";

struct CodeRange {
    uint32_t first;
    uint32_t last;
};

/* Non-ASCII characters accepted in typed numbers. All are ones libphonenumber
 * normalises to the ASCII digits and separators allowed below. */
const CodeRange kAllowedNonAscii[] = {
    {0x00A0, 0x00A0}, /* no-break space */
    {0x0660, 0x0669}, /* Arabic-Indic digits */
    {0x06F0, 0x06F9}, /* extended Arabic-Indic (Persian, Urdu) digits */
    {0x2010, 0x2015}, /* hyphens and dashes */
    {0x2212, 0x2212}, /* minus sign */
    {0x3000, 0x3000}, /* ideographic space */
    {0xFF08, 0xFF09}, /* full-width parentheses */
    {0xFF0B, 0xFF0B}, /* full-width plus */
    {0xFF0D, 0xFF0F}, /* full-width hyphen-minus, full stop, solidus */
    {0xFF10, 0xFF19}, /* full-width digits */
};

bool code_point_allowed(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp != 0 && std::strchr(" +-()./", (int)cp));
    for (const CodeRange &range : kAllowedNonAscii) {
        if (cp >= range.first && cp <= range.last)
            return true;
    }
    return false;
}

bool text_allowed(const char *input)
{
    size_t len = std::strlen(input);
    if (len == 0 || len > kMaxInputBytes)
        return false;

    size_t pos = 0;
    while (pos < len) {
        uint32_t cp = 0;
        size_t step = rn_utf8_decode(input + pos, len - pos, &cp);
        if (step == 0 || !code_point_allowed(cp))
            return false;
        pos += step;
    }
    return true;
}

/* GetInstance builds the metadata on first use behind pthread_once, which is
 * enough for correctness. The mutex is here for the thread checkers: DRD and
 * Helgrind do not see pthread_once's fast path as synchronisation and report
 * every read of the metadata by a thread that did not build it. An uncontended
 * lock per call costs nothing next to the regular expressions that follow. */
std::mutex util_mutex;

const PhoneNumberUtil &phone_util()
{
    std::lock_guard<std::mutex> hold(util_mutex);
    return *PhoneNumberUtil::GetInstance();
}

bool parse_checked(const char *input, const char *region, std::string *e164)
{
    const PhoneNumberUtil &util = phone_util();
    PhoneNumber number;

    if (util.Parse(input, region, &number) != PhoneNumberUtil::NO_PARSING_ERROR)
        return false;
    /* The character screen already refuses every extension marker; this keeps
     * an extension from being dropped silently if the screen is ever widened. */
    if (number.has_extension())
        return false;
    /* The length check is cheap and turns most typos away before the range
     * patterns run; IsValidNumber is what makes the final call (see phone.h). */
    if (util.IsPossibleNumberWithReason(number) != PhoneNumberUtil::IS_POSSIBLE)
        return false;
    if (!util.IsValidNumber(number))
        return false;

    util.Format(number, PhoneNumberUtil::E164, e164);
    return true;
}

int normalize(const char *input, const char *region, char *out, size_t outcap)
{
    if (input == nullptr || !text_allowed(input))
        return -1;
    if (region == nullptr)
        region = kUnknownRegion;

    std::string e164;
    if (!parse_checked(input, region, &e164))
        return -1;
    if (out == nullptr || outcap < e164.size() + 1)
        return -2;
    std::memcpy(out, e164.c_str(), e164.size() + 1);
    return 0;
}

} // namespace

extern "C" int rn_phone_normalize(const char *input, const char *default_region, char *out,
                                  size_t outcap)
{
    try {
        return normalize(input, default_region, out, outcap);
    } catch (...) {
        return -1;
    }
}

extern "C" int rn_phone_region_known(const char *region)
{
    if (region == nullptr)
        return 0;
    try {
        /* 0 is the answer for every code without geographic metadata. */
        return phone_util().GetCountryCodeForRegion(region) != 0 ? 1 : 0;
    } catch (...) {
        return 0;
    }
}
