/* XMP reader (provenance-markers.md 3 and 5.1; XMP Specification Part 1, 7.x "RDF"): expat in
 * namespace mode, element names arrive as "<namespace URI> <local name>".
 *
 * The RDF is reduced to (top property, leaf, value) triples: the top property is the element
 * (or attribute) directly on a top-level rdf:Description; the leaf is the field inside a
 * structure (stEvt:action inside xmpMM:History, stRef:documentID inside xmpMM:DerivedFrom) or
 * the property itself for simple values. An rdf:li under a top property opens a new item (a
 * history event, a list entry). That is all the properties read here need. */
#include "prov/xmp.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "prov/text.h"

/* Namespace URIs (XMP Part 1/2; IPTC Photo Metadata 2025.1; DCMI terms). */
#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_XMP "http://ns.adobe.com/xap/1.0/"
#define NS_XMPMM "http://ns.adobe.com/xap/1.0/mm/"
#define NS_STEVT "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
#define NS_STREF "http://ns.adobe.com/xap/1.0/sType/ResourceRef#"
#define NS_PHOTOSHOP "http://ns.adobe.com/photoshop/1.0/"
#define NS_IPTCEXT "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
#define NS_DCTERMS "http://purl.org/dc/terms/"
#define NS_XMPNOTE "http://ns.adobe.com/xmp/note/"
#define NS_DC "http://purl.org/dc/elements/1.1/"

enum ns_id { NS_OTHER_ID, RDF, XMP, XMPMM, STEVT, STREF, PHOTOSHOP, IPTCEXT, DCTERMS, XMPNOTE, DC };

static const struct {
    enum ns_id id;
    const char *uri;
} known_ns[] = {
    {RDF, NS_RDF},         {XMP, NS_XMP},         {XMPMM, NS_XMPMM},     {STEVT, NS_STEVT},
    {STREF, NS_STREF},     {PHOTOSHOP, NS_PHOTOSHOP}, {IPTCEXT, NS_IPTCEXT}, {DCTERMS, NS_DCTERMS},
    {XMPNOTE, NS_XMPNOTE}, {DC, NS_DC},
};

/* A qualified name split into namespace and local part. */
struct qname {
    enum ns_id ns;
    char local[64];
};

struct frame {
    struct qname name;
    int has_children;
};

struct parse {
    XML_Parser parser;
    um_xmp *x;
    struct frame stack[UM_XMP_MAX_DEPTH];
    int depth;
    int top_index;            /* stack index of the current top property, -1 when none */
    char *text;               /* character data of the innermost element */
    size_t text_len, text_cap;
    int text_truncated;
    json_t *event;            /* current xmpMM:History event (borrowed from the JSON) */
    int oom;
};

static void split_name(const char *name, struct qname *q)
{
    const char *sp = strrchr(name, ' ');
    q->ns = NS_OTHER_ID;
    const char *local = name;
    if (sp) {
        size_t ulen = (size_t)(sp - name);
        for (size_t i = 0; i < sizeof known_ns / sizeof known_ns[0]; i++)
            if (strlen(known_ns[i].uri) == ulen && memcmp(known_ns[i].uri, name, ulen) == 0)
                q->ns = known_ns[i].id;
        local = sp + 1;
    }
    size_t n = strlen(local);
    if (n >= sizeof q->local)
        n = sizeof q->local - 1;
    memcpy(q->local, local, n);
    q->local[n] = '\0';
}

static int is(const struct qname *q, enum ns_id ns, const char *local)
{
    return q->ns == ns && strcmp(q->local, local) == 0;
}

/* ---------------------------------------------------------------------------------------------
 * Facts and JSON */

static void note(struct parse *p, const char *msg)
{
    json_t *notes = json_object_get(p->x->json, "notes");
    if (!notes) {
        notes = json_array();
        if (json_object_set_new(p->x->json, "notes", notes) != 0) {
            p->oom = 1;
            return;
        }
    }
    if (json_array_size(notes) < 16 && json_array_append_new(notes, json_string(msg)) != 0)
        p->oom = 1;
}

/* Value as a JSON string of at most UM_XMP_MAX_TEXT bytes (expat hands over UTF-8). */
static json_t *text_json(const char *value)
{
    return um_json_text(value, strlen(value), UM_XMP_MAX_TEXT);
}

static void set_json(struct parse *p, json_t *obj, const char *key, const char *value)
{
    if (json_object_set_new(obj, key, text_json(value)) != 0)
        p->oom = 1;
}

static json_t *child_object(struct parse *p, const char *key)
{
    json_t *o = json_object_get(p->x->json, key);
    if (!o) {
        o = json_object();
        if (json_object_set_new(p->x->json, key, o) != 0) {
            p->oom = 1;
            return NULL;
        }
    }
    return o;
}

static json_t *child_array(struct parse *p, const char *key)
{
    json_t *a = json_object_get(p->x->json, key);
    if (!a) {
        a = json_array();
        if (json_object_set_new(p->x->json, key, a) != 0) {
            p->oom = 1;
            return NULL;
        }
    }
    return a;
}

/* A fact kept both in the struct and in the JSON under key. */
static void set_fact(struct parse *p, char *field, size_t cap, const char *key, const char *value)
{
    if (field)
        um_text_copy(field, cap, value);
    set_json(p, p->x->json, key, value);
}

static void add_agent(um_xmp *x, const char *agent)
{
    for (int i = 0; i < x->nagents; i++)
        if (strncmp(x->agents[i], agent, sizeof x->agents[i] - 1) == 0)
            return;
    if (x->nagents < UM_XMP_MAX_AGENTS)
        um_text_copy(x->agents[x->nagents++], sizeof x->agents[0], agent);
}

/* An rdf:li opened under top property top: a new history event or list entry. */
static void on_item(struct parse *p, const struct qname *top)
{
    if (is(top, XMPMM, "History")) {
        p->x->history_events++;
        p->event = NULL;
        json_t *history = child_array(p, "history");
        if (!history || json_array_size(history) >= UM_XMP_MAX_HISTORY)
            return;
        json_t *ev = json_object();
        if (json_array_append_new(history, ev) != 0) {
            p->oom = 1;
            return;
        }
        p->event = ev;
    } else if (is(top, XMPMM, "Ingredients")) {
        json_t *o = json_object_get(p->x->json, "ingredients");
        json_int_t n = o ? json_integer_value(o) : 0;
        if (json_object_set_new(p->x->json, "ingredients", json_integer(n + 1)) != 0)
            p->oom = 1;
    } else if (is(top, PHOTOSHOP, "DocumentAncestors")) {
        p->x->document_ancestors++;
        json_t *ps = child_object(p, "photoshop");
        if (ps && json_object_set_new(ps, "DocumentAncestors",
                                      json_integer(p->x->document_ancestors)) != 0)
            p->oom = 1;
    }
}

static void on_history_field(struct parse *p, const struct qname *leaf, const char *value)
{
    if (leaf->ns != STEVT)
        return;
    if (strcmp(leaf->local, "softwareAgent") == 0)
        add_agent(p->x, value);
    if (!p->event) /* a single event written without rdf:li (not standard, seen in the wild) */
        on_item(p, &(struct qname){XMPMM, "History"});
    if (p->event)
        set_json(p, p->event, leaf->local, value);
}

static void on_list_item(struct parse *p, const char *key, const char *value)
{
    json_t *a = child_array(p, key);
    if (a && json_array_size(a) < UM_XMP_MAX_LIST && json_array_append_new(a, text_json(value)))
        p->oom = 1;
}

static void on_xmpmm(struct parse *p, const struct qname *top, const struct qname *leaf,
                     const char *value)
{
    um_xmp *x = p->x;
    int simple = top == leaf;
    if (simple && is(top, XMPMM, "DocumentID"))
        set_fact(p, x->document_id, sizeof x->document_id, "document_id", value);
    else if (simple && is(top, XMPMM, "OriginalDocumentID"))
        set_fact(p, x->original_document_id, sizeof x->original_document_id,
                 "original_document_id", value);
    else if (simple && is(top, XMPMM, "InstanceID"))
        set_fact(p, x->instance_id, sizeof x->instance_id, "instance_id", value);
    else if (is(top, XMPMM, "DerivedFrom") && leaf->ns == STREF) {
        json_t *d = child_object(p, "derived_from");
        if (d)
            set_json(p, d, leaf->local, value);
    } else if (is(top, XMPMM, "History"))
        on_history_field(p, leaf, value);
}

static void on_iptc_ext(struct parse *p, const struct qname *top, const char *value)
{
    um_xmp *x = p->x;
    if (is(top, IPTCEXT, "DigitalSourceType")) {
        set_fact(p, x->digital_source_type, sizeof x->digital_source_type,
                 "digital_source_type", value);
    } else if (is(top, IPTCEXT, "DigitalSourcefileType")) {
        /* deprecated predecessor: used only when the current property is absent */
        set_fact(p, NULL, 0, "digital_sourcefile_type", value);
        if (!x->digital_source_type[0])
            um_text_copy(x->digital_source_type, sizeof x->digital_source_type, value);
    } else if (is(top, IPTCEXT, "AISystemUsed")) {
        set_fact(p, x->ai_system_used, sizeof x->ai_system_used, "ai_system_used", value);
    } else if (is(top, IPTCEXT, "AISystemVersionUsed")) {
        set_fact(p, NULL, 0, "ai_system_version_used", value);
    } else if (is(top, IPTCEXT, "AIPromptInformation")) {
        set_fact(p, NULL, 0, "ai_prompt_information", value);
    } else if (is(top, IPTCEXT, "AIPromptWriterName")) {
        set_fact(p, NULL, 0, "ai_prompt_writer_name", value);
    }
}

/* One value: leaf == top for a simple property; in_li when it is the text of an rdf:li. */
static void on_value(struct parse *p, const struct qname *top, const struct qname *leaf,
                     const char *value, int in_li)
{
    um_xmp *x = p->x;
    int simple = top == leaf;
    switch (top->ns) {
    case XMP:
        if (!simple)
            break;
        if (is(top, XMP, "CreatorTool"))
            set_fact(p, x->creator_tool, sizeof x->creator_tool, "creator_tool", value);
        else if (is(top, XMP, "CreateDate"))
            set_fact(p, x->create_date, sizeof x->create_date, "create_date", value);
        else if (is(top, XMP, "ModifyDate"))
            set_fact(p, x->modify_date, sizeof x->modify_date, "modify_date", value);
        else if (is(top, XMP, "MetadataDate"))
            set_fact(p, x->metadata_date, sizeof x->metadata_date, "metadata_date", value);
        break;
    case XMPMM:
        on_xmpmm(p, top, leaf, value);
        break;
    case PHOTOSHOP:
        if (simple && !in_li && !is(top, PHOTOSHOP, "DocumentAncestors")) {
            json_t *ps = child_object(p, "photoshop");
            if (ps)
                set_json(p, ps, top->local, value);
        }
        break;
    case IPTCEXT:
        if (simple || in_li)
            on_iptc_ext(p, top, value);
        break;
    case DCTERMS:
        if ((simple || in_li) && is(top, DCTERMS, "provenance"))
            set_fact(p, x->provenance, sizeof x->provenance, "provenance", value);
        break;
    case XMPNOTE:
        if (simple && is(top, XMPNOTE, "HasExtendedXMP"))
            set_fact(p, x->has_extended, sizeof x->has_extended, "has_extended_xmp", value);
        break;
    case DC:
        if (!(simple || in_li))
            break;
        if (is(top, DC, "creator"))
            on_list_item(p, "creator", value);
        else if ((is(top, DC, "title") || is(top, DC, "description")) &&
                 !json_object_get(x->json, top->local))
            set_json(p, x->json, top->local, value); /* the first (x-default) alternative */
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------------------------------------
 * expat callbacks */

static const struct qname *top_property(const struct parse *p)
{
    return p->top_index >= 0 && p->top_index < p->depth ? &p->stack[p->top_index].name : NULL;
}

static int inside_description(const struct parse *p)
{
    for (int i = 0; i < p->depth; i++)
        if (is(&p->stack[i].name, RDF, "Description"))
            return 1;
    return 0;
}

/* Attributes of an element: properties or structure fields; rdf:resource is a value. */
static void on_attributes(struct parse *p, const struct qname *self, const XML_Char **attrs,
                          int is_top_description)
{
    const struct qname *top = top_property(p);
    for (int i = 0; attrs[i] && attrs[i + 1]; i += 2) {
        struct qname a;
        split_name(attrs[i], &a);
        if (a.ns == RDF) {
            if (strcmp(a.local, "resource") == 0 && top && self && self->ns != RDF)
                on_value(p, top, self == top ? top : self, attrs[i + 1], 0);
            continue;
        }
        if (a.ns == NS_OTHER_ID && strchr(attrs[i], ' ') == NULL)
            continue; /* unqualified attributes are not RDF properties */
        if (is_top_description)
            on_value(p, &a, &a, attrs[i + 1], 0);
        else if (top)
            on_value(p, top, &a, attrs[i + 1], 0);
    }
}

static void XMLCALL on_start(void *user, const XML_Char *name, const XML_Char **attrs)
{
    struct parse *p = user;
    if (p->depth >= UM_XMP_MAX_DEPTH) {
        note(p, "XMP nested deeper than the limit; parsing stopped");
        XML_StopParser(p->parser, XML_FALSE);
        return;
    }
    if (p->depth > 0)
        p->stack[p->depth - 1].has_children = 1;
    struct frame *f = &p->stack[p->depth];
    memset(f, 0, sizeof *f);
    split_name(name, &f->name);
    int in_desc = inside_description(p);
    int is_desc = is(&f->name, RDF, "Description");
    p->depth++;
    p->text_len = 0;
    p->text_truncated = 0;
    if (in_desc && p->top_index < 0 && f->name.ns != RDF)
        p->top_index = p->depth - 1; /* a property element directly on rdf:Description */
    const struct qname *top = top_property(p);
    if (is(&f->name, RDF, "li") && top)
        on_item(p, top);
    on_attributes(p, f->name.ns == RDF ? NULL : &f->name, attrs, is_desc && !in_desc);
}

static void trim(char *s, size_t *len)
{
    size_t a = 0, n = *len;
    while (a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
        a++;
    while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    memmove(s, s + a, n - a);
    *len = n - a;
    s[*len] = '\0';
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    struct parse *p = user;
    (void)name;
    if (p->depth == 0)
        return;
    struct frame *f = &p->stack[p->depth - 1];
    const struct qname *top = top_property(p);
    if (!f->has_children && p->text && top) {
        trim(p->text, &p->text_len);
        if (p->text_len > 0) {
            if (is(&f->name, RDF, "li"))
                on_value(p, top, top, p->text, 1);
            else if (f->name.ns != RDF)
                on_value(p, top, p->top_index == p->depth - 1 ? top : &f->name, p->text, 0);
        }
    }
    if (p->top_index == p->depth - 1) {
        p->top_index = -1;
        p->event = NULL;
    }
    p->depth--;
    p->text_len = 0;
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    struct parse *p = user;
    if (len <= 0 || p->text_truncated)
        return;
    size_t n = (size_t)len;
    if (p->text_len + n > UM_XMP_MAX_TEXT) {
        n = UM_XMP_MAX_TEXT - p->text_len;
        p->text_truncated = 1;
    }
    if (p->text_len + n + 1 > p->text_cap) {
        size_t cap = p->text_cap ? p->text_cap : 256;
        while (cap < p->text_len + n + 1)
            cap *= 2;
        char *t = realloc(p->text, cap);
        if (!t) {
            p->oom = 1;
            XML_StopParser(p->parser, XML_FALSE);
            return;
        }
        p->text = t;
        p->text_cap = cap;
    }
    memcpy(p->text + p->text_len, s, n);
    p->text_len += n;
    p->text[p->text_len] = '\0';
}

/* A DOCTYPE is the only place entities can be declared: no XMP writer emits one, and refusing
 * it removes entity-expansion attacks ("billion laughs") and external entities at once. */
static void XMLCALL on_doctype(void *user, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    struct parse *p = user;
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    p->x->refused = 1;
    XML_StopParser(p->parser, XML_FALSE);
}

static void XMLCALL on_entity_decl(void *user, const XML_Char *entity_name,
                                   int is_parameter_entity, const XML_Char *value,
                                   int value_length, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation_name)
{
    struct parse *p = user;
    (void)entity_name, (void)is_parameter_entity, (void)value, (void)value_length, (void)base;
    (void)system_id, (void)public_id, (void)notation_name;
    p->x->refused = 1;
    XML_StopParser(p->parser, XML_FALSE);
}

/* ---------------------------------------------------------------------------------------------
 * Entry points */

/* Trailing NULs and blanks (JPEG segments are often padded) are not XML. */
static size_t trimmed_size(const uint8_t *d, size_t n)
{
    while (n > 0 && (d[n - 1] == 0 || d[n - 1] == ' ' || d[n - 1] == '\n' || d[n - 1] == '\r' ||
                     d[n - 1] == '\t'))
        n--;
    return n;
}

static void run_parser(struct parse *p, const uint8_t *packet, size_t size)
{
    XML_Parser parser = XML_ParserCreateNS(NULL, ' ');
    if (!parser) {
        p->oom = 1;
        return;
    }
    p->parser = parser;
    XML_SetUserData(parser, p);
    XML_SetElementHandler(parser, on_start, on_end);
    XML_SetCharacterDataHandler(parser, on_text);
    XML_SetStartDoctypeDeclHandler(parser, on_doctype);
    XML_SetEntityDeclHandler(parser, on_entity_decl);
    XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_Parse(parser, (const char *)packet, (int)size, XML_TRUE);
    if (st == XML_STATUS_OK) {
        p->x->well_formed = p->x->packets == 1 ? 1 : p->x->well_formed;
    } else {
        p->x->well_formed = 0;
        char msg[160];
        if (p->x->refused)
            snprintf(msg, sizeof msg,
                     "XMP declares a DOCTYPE or entities (not allowed in XMP); parsing refused");
        else
            snprintf(msg, sizeof msg, "XMP is not well-formed at line %lu: %s",
                     (unsigned long)XML_GetCurrentLineNumber(parser),
                     XML_ErrorString(XML_GetErrorCode(parser)));
        if (!p->oom)
            note(p, msg);
    }
    XML_ParserFree(parser);
}

um_error um_xmp_read(um_xmp *x, const uint8_t *packet, size_t size)
{
    if (!x->json) {
        x->json = json_object();
        if (!x->json)
            return UM_ERR_NOMEM;
    }
    x->packets++;
    struct parse p;
    memset(&p, 0, sizeof p);
    p.x = x;
    p.top_index = -1;
    size = packet ? trimmed_size(packet, size) : 0;
    if (size == 0) {
        note(&p, "empty XMP packet");
        x->well_formed = 0;
    } else if (size > UM_XMP_MAX_BYTES || size > (size_t)INT32_MAX) {
        note(&p, "XMP packet larger than the limit; not parsed");
        x->well_formed = 0;
    } else {
        run_parser(&p, packet, size);
    }
    free(p.text);
    int r = p.oom;
    r |= json_object_set_new(x->json, "packets", json_integer(x->packets));
    r |= json_object_set_new(x->json, "well_formed", json_boolean(x->well_formed));
    if (x->refused)
        r |= json_object_set_new(x->json, "refused", json_true());
    if (x->history_events > UM_XMP_MAX_HISTORY)
        r |= json_object_set_new(x->json, "history_events", json_integer(x->history_events));
    return r ? UM_ERR_NOMEM : UM_OK;
}

void um_xmp_clear(um_xmp *x)
{
    if (!x)
        return;
    json_decref(x->json);
    memset(x, 0, sizeof *x);
}

const char *um_xmp_source_type_term(const char *uri)
{
    if (!uri)
        return "";
    const char *slash = strrchr(uri, '/');
    return slash ? slash + 1 : "";
}
