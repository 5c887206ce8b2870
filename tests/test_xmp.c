/* XMP reader: packets written here in both RDF spellings, with prefixes that differ from the
 * usual ones (matching is by namespace URI), history sequences, an extended packet merged into the
 * main one, and hostile XML (entity expansion, deep nesting, damage) that must be refused or
 * survived. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prov/xmp.h"

#define RDF_OPEN                                                                              \
    "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"                      \
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "                                         \
    "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
#define RDF_CLOSE "</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"

/* Namespace URIs by which properties are matched (the prefixes in the packets vary on purpose). */
#define NS_XMP "http://ns.adobe.com/xap/1.0/"
#define NS_XMP_MM "http://ns.adobe.com/xap/1.0/mm/"
#define NS_XMP_NOTE "http://ns.adobe.com/xmp/note/"
#define NS_ST_EVT "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
#define NS_PHOTOSHOP "http://ns.adobe.com/photoshop/1.0/"
#define NS_IPTC_EXT "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
#define NS_DCTERMS "http://purl.org/dc/terms/"
#define XMLNS(prefix, uri) "xmlns:" prefix "=\"" uri "\""

static um_error read_str(um_xmp *x, const char *s) { return um_xmp_read(x, (const uint8_t *)s, strlen(s)); }

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Attribute form, with an arbitrary prefix for the IPTC extension namespace. */
static void test_attribute_form(void)
{
    static const char packet[] = RDF_OPEN
        "<rdf:Description rdf:about=\"\" "
        XMLNS("xmp", NS_XMP) " " XMLNS("xmpMM", NS_XMP_MM) " "
        XMLNS("ai", NS_IPTC_EXT) " "
        XMLNS("dcterms", NS_DCTERMS) " " XMLNS("xmpNote", NS_XMP_NOTE) " "
        "xmp:CreatorTool=\"Adobe Firefly\" xmp:CreateDate=\"2024-01-02T03:04:05Z\" "
        "xmp:ModifyDate=\"2024-01-02T03:04:06Z\" xmp:MetadataDate=\"2024-01-02T03:04:07Z\" "
        "xmpMM:DocumentID=\"xmp.did:1\" xmpMM:OriginalDocumentID=\"xmp.did:0\" "
        "xmpMM:InstanceID=\"xmp.iid:2\" "
        "ai:DigitalSourceType=\"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia\" "
        "dcterms:provenance=\"self#jumbf=/c2pa/urn:uuid:abc/c2pa.claim\" "
        "xmpNote:HasExtendedXMP=\"0123456789ABCDEF0123456789ABCDEF\"/>" RDF_CLOSE;
    um_xmp x = {0};
    CHECK(read_str(&x, packet) == UM_OK);
    CHECK(x.well_formed && !x.refused && x.packets == 1);
    CHECK(strcmp(x.creator_tool, "Adobe Firefly") == 0);
    CHECK(strcmp(x.create_date, "2024-01-02T03:04:05Z") == 0);
    CHECK(strcmp(x.modify_date, "2024-01-02T03:04:06Z") == 0);
    CHECK(strcmp(x.metadata_date, "2024-01-02T03:04:07Z") == 0);
    CHECK(strcmp(x.document_id, "xmp.did:1") == 0 && strcmp(x.original_document_id, "xmp.did:0") == 0);
    CHECK(strcmp(x.instance_id, "xmp.iid:2") == 0);
    CHECK(strcmp(x.digital_source_type,
                 "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia") == 0);
    CHECK(strcmp(um_xmp_source_type_term(x.digital_source_type), "trainedAlgorithmicMedia") == 0);
    CHECK(strcmp(x.provenance, "self#jumbf=/c2pa/urn:uuid:abc/c2pa.claim") == 0);
    CHECK(strcmp(x.has_extended, "0123456789ABCDEF0123456789ABCDEF") == 0);
    CHECK(strcmp(jstr(x.json, "creator_tool"), "Adobe Firefly") == 0);
    CHECK(strcmp(jstr(x.json, "has_extended_xmp"), "0123456789ABCDEF0123456789ABCDEF") == 0);
    CHECK(json_is_true(json_object_get(x.json, "well_formed")));
    um_xmp_clear(&x);
    CHECK(x.json == NULL);
}

/* Element form: history as a sequence of structures (both structure spellings), DerivedFrom,
 * Photoshop fields, Dublin Core lists, IPTC 2025.1 AI fields, rdf:resource. */
static const char element_packet[] = RDF_OPEN
    "<rdf:Description rdf:about=\"\" " XMLNS("a", NS_XMP) " "
    XMLNS("mm", NS_XMP_MM) " "
    XMLNS("evt", NS_ST_EVT) " "
    "xmlns:ref=\"http://ns.adobe.com/xap/1.0/sType/ResourceRef#\" "
    XMLNS("ps", NS_PHOTOSHOP) " "
    XMLNS("Iptc4xmpExt", NS_IPTC_EXT) " "
    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" " XMLNS("dct", NS_DCTERMS) ">"
    "<a:CreatorTool>Adobe Photoshop CS Windows</a:CreatorTool>"
    "<mm:History><rdf:Seq>"
    "<rdf:li rdf:parseType=\"Resource\"><evt:action>created</evt:action>"
    "<evt:softwareAgent>Adobe Photoshop CS Windows</evt:softwareAgent></rdf:li>"
    "<rdf:li evt:action=\"saved\" evt:when=\"2020-03-26T10:30:06-04:00\" "
    "evt:softwareAgent=\"Adobe Photoshop 21.1 (Macintosh)\" evt:changed=\"/\"/>"
    "<rdf:li><rdf:Description evt:action=\"converted\" "
    "evt:parameters=\"from image/png to image/jpeg\"/></rdf:li>"
    "<rdf:li rdf:parseType=\"Resource\"><evt:action>saved</evt:action>"
    "<evt:softwareAgent>Adobe Photoshop 21.1 (Macintosh)</evt:softwareAgent></rdf:li>"
    "</rdf:Seq></mm:History>"
    "<mm:DerivedFrom ref:documentID=\"doc-0\" ref:instanceID=\"inst-0\"/>"
    "<ps:DocumentAncestors><rdf:Bag><rdf:li>adobe:docid:1</rdf:li><rdf:li>adobe:docid:2</rdf:li>"
    "<rdf:li>xmp.did:3</rdf:li></rdf:Bag></ps:DocumentAncestors>"
    "<ps:History>Opened, Pasted, Saved</ps:History><ps:ColorMode>3</ps:ColorMode>"
    "<dc:creator><rdf:Seq><rdf:li>Ann</rdf:li><rdf:li>Bob</rdf:li></rdf:Seq></dc:creator>"
    "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">Rally</rdf:li>"
    "<rdf:li xml:lang=\"de\">Kundgebung</rdf:li></rdf:Alt></dc:title>"
    "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">A crowd</rdf:li></rdf:Alt>"
    "</dc:description>"
    "<Iptc4xmpExt:DigitalSourceType>"
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
    "</Iptc4xmpExt:DigitalSourceType>"
    "<Iptc4xmpExt:AISystemUsed>Firefly</Iptc4xmpExt:AISystemUsed>"
    "<Iptc4xmpExt:AISystemVersionUsed>3</Iptc4xmpExt:AISystemVersionUsed>"
    "<Iptc4xmpExt:AIPromptInformation>a crowd at a rally</Iptc4xmpExt:AIPromptInformation>"
    "<Iptc4xmpExt:AIPromptWriterName>Ann</Iptc4xmpExt:AIPromptWriterName>"
    "<dct:provenance rdf:resource=\"https://cai-manifests.example/m/1\"/>"
    "</rdf:Description>" RDF_CLOSE;

static void test_element_form_and_history(void)
{
    um_xmp x = {0};
    CHECK(read_str(&x, element_packet) == UM_OK);
    CHECK(x.well_formed);
    CHECK(strcmp(x.creator_tool, "Adobe Photoshop CS Windows") == 0);
    CHECK(x.history_events == 4);
    json_t *h = json_object_get(x.json, "history");
    CHECK(json_array_size(h) == 4);
    CHECK(strcmp(jstr(json_array_get(h, 0), "action"), "created") == 0);
    CHECK(strcmp(jstr(json_array_get(h, 1), "when"), "2020-03-26T10:30:06-04:00") == 0);
    CHECK(strcmp(jstr(json_array_get(h, 1), "changed"), "/") == 0);
    CHECK(strcmp(jstr(json_array_get(h, 2), "action"), "converted") == 0);
    CHECK(strcmp(jstr(json_array_get(h, 2), "parameters"), "from image/png to image/jpeg") == 0);
    CHECK(strcmp(jstr(json_array_get(h, 3), "softwareAgent"), "Adobe Photoshop 21.1 (Macintosh)") == 0);
    CHECK(x.nagents == 2);
    CHECK(strcmp(x.agents[0], "Adobe Photoshop CS Windows") == 0);
    CHECK(strcmp(x.agents[1], "Adobe Photoshop 21.1 (Macintosh)") == 0);
    json_t *d = json_object_get(x.json, "derived_from");
    CHECK(strcmp(jstr(d, "documentID"), "doc-0") == 0 && strcmp(jstr(d, "instanceID"), "inst-0") == 0);
    CHECK(x.document_ancestors == 3);
    json_t *ps = json_object_get(x.json, "photoshop");
    CHECK(json_integer_value(json_object_get(ps, "DocumentAncestors")) == 3);
    CHECK(strcmp(jstr(ps, "History"), "Opened, Pasted, Saved") == 0);
    CHECK(strcmp(jstr(ps, "ColorMode"), "3") == 0);
    json_t *creators = json_object_get(x.json, "creator");
    CHECK(json_array_size(creators) == 2 &&
          strcmp(json_string_value(json_array_get(creators, 1)), "Bob") == 0);
    CHECK(strcmp(jstr(x.json, "title"), "Rally") == 0);
    CHECK(strcmp(jstr(x.json, "description"), "A crowd") == 0);
    CHECK(strcmp(um_xmp_source_type_term(x.digital_source_type),
                 "compositeWithTrainedAlgorithmicMedia") == 0);
    CHECK(strcmp(x.ai_system_used, "Firefly") == 0);
    CHECK(strcmp(jstr(x.json, "ai_system_version_used"), "3") == 0);
    CHECK(strcmp(jstr(x.json, "ai_prompt_information"), "a crowd at a rally") == 0);
    CHECK(strcmp(jstr(x.json, "ai_prompt_writer_name"), "Ann") == 0);
    CHECK(strcmp(x.provenance, "https://cai-manifests.example/m/1") == 0);
    um_xmp_clear(&x);
}

/* The usual prefix bound to another namespace is not the property; the deprecated
 * DigitalSourcefileType stands in when the current property is absent. */
static void test_namespace_not_prefix(void)
{
    static const char packet[] = RDF_OPEN
        "<rdf:Description xmlns:xmp=\"http://example.com/not-xmp/\" "
        XMLNS("Iptc4xmpExt", NS_IPTC_EXT) " "
        "xmp:CreatorTool=\"Fake\">"
        "<Iptc4xmpExt:DigitalSourcefileType>"
        "http://cv.iptc.org/newscodes/digitalsourcetype/softwareImage"
        "</Iptc4xmpExt:DigitalSourcefileType></rdf:Description>" RDF_CLOSE;
    um_xmp x = {0};
    CHECK(read_str(&x, packet) == UM_OK);
    CHECK(x.creator_tool[0] == '\0');
    CHECK(strcmp(um_xmp_source_type_term(x.digital_source_type), "softwareImage") == 0);
    CHECK(json_object_get(x.json, "digital_source_type") == NULL);
    CHECK(json_object_get(x.json, "digital_sourcefile_type") != NULL);
    um_xmp_clear(&x);
}

/* A JPEG extended-XMP packet merged into the facts of the main one. */
static void test_extended_merge(void)
{
    static const char main_packet[] = RDF_OPEN
        "<rdf:Description " XMLNS("xmpNote", NS_XMP_NOTE) " "
        XMLNS("xmp", NS_XMP) " "
        "xmpNote:HasExtendedXMP=\"AABBCCDDEEFF00112233445566778899\" "
        "xmp:CreatorTool=\"Tool A\"/>" RDF_CLOSE "\0\0\0\n  ";
    static const char ext_packet[] = RDF_OPEN
        "<rdf:Description " XMLNS("xmpMM", NS_XMP_MM) " "
        XMLNS("stEvt", NS_ST_EVT) " "
        XMLNS("photoshop", NS_PHOTOSHOP) ">"
        "<xmpMM:History><rdf:Seq><rdf:li stEvt:action=\"saved\" "
        "stEvt:softwareAgent=\"GIMP 2.10\"/></rdf:Seq></xmpMM:History>"
        "<photoshop:DocumentAncestors><rdf:Bag><rdf:li>x</rdf:li></rdf:Bag>"
        "</photoshop:DocumentAncestors></rdf:Description>" RDF_CLOSE;
    um_xmp x = {0};
    CHECK(um_xmp_read(&x, (const uint8_t *)main_packet, sizeof main_packet - 1) == UM_OK);
    CHECK(x.well_formed); /* trailing NULs and blanks tolerated */
    CHECK(read_str(&x, ext_packet) == UM_OK);
    CHECK(x.packets == 2 && x.well_formed);
    CHECK(strcmp(x.creator_tool, "Tool A") == 0);
    CHECK(strcmp(x.has_extended, "AABBCCDDEEFF00112233445566778899") == 0);
    CHECK(x.history_events == 1 && x.nagents == 1 && strcmp(x.agents[0], "GIMP 2.10") == 0);
    CHECK(x.document_ancestors == 1);
    CHECK(json_integer_value(json_object_get(x.json, "packets")) == 2);
    um_xmp_clear(&x);
}

/* "Billion laughs": refused at the DOCTYPE, before any entity is expanded. */
static void test_billion_laughs_refused(void)
{
    static const char bomb[] =
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
        "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
        "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
        "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
        "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
        "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
        "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
        "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
        "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF "
        "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description "
        XMLNS("xmp", NS_XMP) " xmp:CreatorTool=\"&lol9;\"/>"
        "</rdf:RDF></x:xmpmeta>";
    um_xmp x = {0};
    CHECK(read_str(&x, bomb) == UM_OK);
    CHECK(x.refused && !x.well_formed && x.creator_tool[0] == '\0');
    CHECK(json_is_true(json_object_get(x.json, "refused")));
    CHECK(json_array_size(json_object_get(x.json, "notes")) == 1);
    um_xmp_clear(&x);
    static const char external[] =
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>";
    CHECK(read_str(&x, external) == UM_OK && x.refused);
    um_xmp_clear(&x);
}

/* Damage: what was read before it is kept; deep nesting is cut; garbage is a note. */
static void test_damaged_and_deep(void)
{
    um_xmp x = {0};
    size_t half = strlen(element_packet) / 2;
    CHECK(um_xmp_read(&x, (const uint8_t *)element_packet, half) == UM_OK);
    CHECK(!x.well_formed && strcmp(x.creator_tool, "Adobe Photoshop CS Windows") == 0);
    CHECK(json_array_size(json_object_get(x.json, "notes")) >= 1);
    um_xmp_clear(&x);
    size_t n = 300 * 7 + 300 * 8 + 16;
    char *deep = malloc(n);
    size_t o = 0;
    for (int i = 0; i < 300; i++)
        o += (size_t)sprintf(deep + o, "<a>");
    for (int i = 0; i < 300; i++)
        o += (size_t)sprintf(deep + o, "</a>");
    CHECK(um_xmp_read(&x, (const uint8_t *)deep, o) == UM_OK);
    CHECK(!x.well_formed);
    um_xmp_clear(&x);
    free(deep);
    CHECK(um_xmp_read(&x, (const uint8_t *)"\0\0\0", 3) == UM_OK && !x.well_formed);
    um_xmp_clear(&x);
    CHECK(um_xmp_read(&x, NULL, 0) == UM_OK && !x.well_formed);
    um_xmp_clear(&x);
    CHECK(strcmp(um_xmp_source_type_term("digitalCapture"), "") == 0);
    CHECK(strcmp(um_xmp_source_type_term(NULL), "") == 0);
}

static const struct um_test_case cases[] = {
    {"attribute_form", test_attribute_form},
    {"element_form_and_history", test_element_form_and_history},
    {"namespace_not_prefix", test_namespace_not_prefix},
    {"extended_merge", test_extended_merge},
    {"billion_laughs_refused", test_billion_laughs_refused},
    {"damaged_and_deep", test_damaged_and_deep},
};
UM_TEST_MAIN(cases)
