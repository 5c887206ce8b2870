/* Timestamps of campaign input: UNIX seconds (a fraction is truncated) or ISO 8601, to UTC
 * UNIX seconds (cm_parse_time, campaign.h). */
#include <ctype.h>
#include <stdint.h>

#include "campaign/campaign.h"

#define CM_MAX_ABS_TIME 1000000000000000LL /* seconds: +-31 million years */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible low-level
 * date algorithms", days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !isdigit((unsigned char)s[*i]))
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_iso8601(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int y, mo, d, h, mi, sec = 0, zh = 0, zm = 0;
    if (digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || digits(s, len, &i, 2, &mo) ||
        i >= len || s[i++] != '-' || digits(s, len, &i, 2, &d) || i >= len ||
        (s[i] != 'T' && s[i] != ' ') || (++i, digits(s, len, &i, 2, &h)) || i >= len ||
        s[i++] != ':' || digits(s, len, &i, 2, &mi))
        return -1;
    if (i < len && s[i] == ':' && (++i, digits(s, len, &i, 2, &sec)))
        return -1;
    if (i < len && s[i] == '.') /* fraction: truncated */
        for (i++; i < len && isdigit((unsigned char)s[i]); i++) {
        }
    int sign = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i++] == '-' ? -1 : 1;
        if (digits(s, len, &i, 2, &zh))
            return -1;
        if (i < len && s[i] == ':')
            i++;
        if (i < len && digits(s, len, &i, 2, &zm))
            return -1;
    }
    if (i != len || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        zh > 23 || zm > 59)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           sign * (zh * 3600 + zm * 60);
    return 0;
}

int cm_parse_time(const char *s, size_t len, int64_t *out)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0 || len > 40)
        return -1;
    if (len >= 10 && s[4] == '-')
        return parse_iso8601(s, len, out);
    size_t i = s[0] == '-';
    int64_t v = 0;
    if (i == len)
        return -1;
    for (; i < len && isdigit((unsigned char)s[i]); i++) {
        if (v > CM_MAX_ABS_TIME / 10) /* keeps every difference of two times in range */
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (i < len && s[i] == '.') /* fractional seconds: truncated toward zero */
        for (i++; i < len && isdigit((unsigned char)s[i]); i++) {
        }
    if (i != len || (s[0] == '-' && len == 1))
        return -1;
    *out = s[0] == '-' ? -v : v;
    return 0;
}
