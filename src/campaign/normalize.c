/* Normalisation of shared objects so that trivially different spellings of one object count as
 * the same (rules listed in README "Coordinated campaigns"). Every function writes no more bytes
 * than it reads, so callers size out as len + 1. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "campaign/campaign.h"

/* Query parameters that track the click, not the content: Google Analytics (utm_*), Facebook
 * (fbclid), Google Ads (gclid, dclid, gbraid, wbraid), Microsoft (msclkid), Mailchimp (mc_cid,
 * mc_eid), Instagram (igshid), Yandex (yclid), Twitter (twclid), HubSpot (_hsenc, _hsmi),
 * Marketo (mkt_tok). */
static const char *const tracking_params[] = {
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid",
    "igshid", "yclid", "twclid", "_hsenc", "_hsmi", "mkt_tok"};

static int is_tracking_param(const char *p, size_t len)
{
    size_t name = 0;
    while (name < len && p[name] != '=')
        name++;
    if (name >= 4 && strncasecmp(p, "utm_", 4) == 0)
        return 1;
    for (size_t i = 0; i < sizeof tracking_params / sizeof tracking_params[0]; i++)
        if (strlen(tracking_params[i]) == name && strncasecmp(p, tracking_params[i], name) == 0)
            return 1;
    return 0;
}

static size_t trim(const char **s, size_t len)
{
    while (len && isspace((unsigned char)**s)) {
        (*s)++;
        len--;
    }
    while (len && isspace((unsigned char)(*s)[len - 1]))
        len--;
    return len;
}

/* Host part: lower-case, default port (:80 for http, :443 for https) dropped. */
static size_t copy_host(const char *in, size_t len, const char *scheme, size_t slen, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        out[n++] = (char)tolower((unsigned char)in[i]);
    if ((slen == 4 && strncasecmp(scheme, "http", 4) == 0 && n >= 3 && memcmp(out + n - 3, ":80", 3) == 0))
        n -= 3;
    else if (slen == 5 && strncasecmp(scheme, "https", 5) == 0 && n >= 4 &&
             memcmp(out + n - 4, ":443", 4) == 0)
        n -= 4;
    return n;
}

/* Query: tracking parameters removed, the others kept in their order; '?' only if any remain. */
static size_t copy_query(const char *q, size_t len, char *out)
{
    size_t n = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && q[j] != '&')
            j++;
        if (j > i && !is_tracking_param(q + i, j - i)) {
            out[n] = n ? '&' : '?';
            n++;
            memcpy(out + n, q + i, j - i);
            n += j - i;
        }
        i = j + 1;
    }
    return n;
}

size_t cm_normalize_url(const char *in, size_t len, char *out)
{
    len = trim(&in, len);
    const char *hash = memchr(in, '#', len); /* the fragment never reaches the server */
    if (hash)
        len = (size_t)(hash - in);
    size_t n = 0, i = 0, slen = 0;
    while (slen < len && (isalnum((unsigned char)in[slen]) || in[slen] == '+' ||
                          in[slen] == '-' || in[slen] == '.'))
        slen++;
    if (slen > 0 && slen + 3 <= len && memcmp(in + slen, "://", 3) == 0) {
        for (; i < slen; i++)
            out[n++] = (char)tolower((unsigned char)in[i]);
        memcpy(out + n, "://", 3);
        n += 3;
        i += 3;
    } else {
        slen = 0; /* no scheme: host and path as they are */
    }
    size_t host_end = i;
    while (host_end < len && in[host_end] != '/' && in[host_end] != '?')
        host_end++;
    n += copy_host(in + i, host_end - i, in, slen, out + n);
    size_t path_end = host_end;
    while (path_end < len && in[path_end] != '?')
        path_end++;
    memcpy(out + n, in + host_end, path_end - host_end);
    n += path_end - host_end;
    while (n > 0 && out[n - 1] == '/' && n > slen + 3 * (slen > 0)) /* trailing slashes */
        n--;
    if (path_end < len)
        n += copy_query(in + path_end + 1, len - path_end - 1, out + n);
    out[n] = '\0';
    return n;
}

/* Lower-case one UTF-8 character at s (of at most len bytes) into out; returns bytes consumed
 * (= bytes written). ASCII, Latin-1 Supplement, Greek and Cyrillic capitals; everything else is
 * copied unchanged. */
static size_t lower_utf8(const unsigned char *s, size_t len, char *out)
{
    if (s[0] < 0x80) {
        out[0] = (char)tolower(s[0]);
        return 1;
    }
    if (len >= 2 && (s[0] & 0xE0) == 0xC0 && (s[1] & 0xC0) == 0x80) {
        unsigned cp = ((unsigned)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
        if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB) ||
            (cp >= 0x410 && cp <= 0x42F))
            cp += 0x20;
        else if (cp >= 0x400 && cp <= 0x40F)
            cp += 0x50;
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)s[0];
    return 1;
}

size_t cm_normalize_hashtag(const char *in, size_t len, char *out)
{
    len = trim(&in, len);
    if (len && in[0] == '#')
        in++, len--;
    for (size_t i = 0; i < len;)
        i += lower_utf8((const unsigned char *)in + i, len - i, out + i);
    out[len] = '\0';
    return len;
}

static int drops_token(const char *t, size_t len)
{
    return t[0] == '@' || (len >= 7 && strncasecmp(t, "http://", 7) == 0) ||
           (len >= 8 && strncasecmp(t, "https://", 8) == 0) ||
           (len >= 4 && strncasecmp(t, "www.", 4) == 0);
}

/* A leading retweet marker "RT @user": the marker is Twitter's, not the author's text. */
static size_t skip_retweet_marker(const char *in, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)in[i]))
        i++;
    if (len - i < 3 || strncasecmp(in + i, "rt", 2) || !isspace((unsigned char)in[i + 2]))
        return 0;
    size_t j = i + 2;
    while (j < len && isspace((unsigned char)in[j]))
        j++;
    return j < len && in[j] == '@' ? j : 0;
}

/* Words separated by single spaces, lower-cased; a leading "RT", URLs and @mentions dropped
 * (retweets and copy-paste campaigns differ mostly in those). */
size_t cm_normalize_text(const char *in, size_t len, char *out)
{
    size_t n = 0, i = skip_retweet_marker(in, len);
    while (i < len) {
        while (i < len && isspace((unsigned char)in[i]))
            i++;
        size_t j = i;
        while (j < len && !isspace((unsigned char)in[j]))
            j++;
        if (j > i && !drops_token(in + i, j - i)) {
            if (n)
                out[n++] = ' ';
            for (size_t k = i; k < j;)
                k += lower_utf8((const unsigned char *)in + k, j - k, out + n + (k - i));
            n += j - i;
        }
        i = j;
    }
    out[n] = '\0';
    return n;
}
