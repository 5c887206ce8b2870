/* Outputs of `unmask campaign`: edges.csv, accounts.csv, groups.csv (RFC 4180), network.graphml
 * and network.gexf (for Gephi), summary.json (jansson) and the readable summary. Everything is
 * written in the network's deterministic order, so equal networks give equal bytes. The tables
 * and graphs hold the full network with a coordinated flag per edge and account (CooRTweet's
 * shape); groups and the summaries describe the coordinated subgraph. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign/campaign.h"
#include "core/csv.h"
#include "core/strbuf.h"

#define CM_EDGE_OBJECTS_LISTED 20 /* object ids per edge in edges.csv (all are counted) */
#define CM_SUMMARY_GROUPS 10      /* groups in summary.json and the readable summary */
#define CM_SUMMARY_MEMBERS 20     /* accounts listed per group there */

static void iso_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == INT64_MAX || t == INT64_MIN || !gmtime_r(&tt, &tm) ||
        !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, cap, "%s", "");
}


/* XML text with the five special characters escaped; control bytes (invalid in XML 1.0)
 * become '?'. */
static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(c < 0x20 && c != '\t' && c != '\n' ? '?' : c, f);
        }
    }
}

static const char *account_name(const struct cm_dataset *d, uint32_t a)
{
    return cm_intern_str(&d->accounts, a);
}

/* "kind:value" of an object, for tables where kinds mix. */
static void object_label(const struct cm_dataset *d, uint32_t o, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s:%s", cm_kind_name(cm_object_kind(d, o)), cm_object_value(d, o));
}

static void edge_objects(FILE *f, const struct cm_dataset *d, const struct cm_network *net,
                         const struct cm_edge *e)
{
    char label[512];
    uint32_t listed = 0;
    size_t cap = 1; /* the field is built in memory, then quoted as a whole */
    char *field = calloc(1, cap);
    for (size_t p = e->first_pair; p < e->first_pair + e->npairs && field; p++) {
        uint32_t o = net->pairs.v[p].object;
        if (p > e->first_pair && o == net->pairs.v[p - 1].object)
            continue;
        if (listed++ == CM_EDGE_OBJECTS_LISTED)
            break;
        object_label(d, o, label, sizeof label);
        size_t need = strlen(field) + strlen(label) + 2;
        char *grown = need > cap ? realloc(field, need) : field;
        if (!grown)
            break;
        field = grown;
        cap = need > cap ? need : cap;
        if (*field)
            strcat(field, ";");
        strcat(field, label);
    }
    um_csv_field(f, field ? field : "");
    free(field);
}

static void write_edges_csv(FILE *f, const struct cm_dataset *d, const struct cm_network *net)
{
    fputs(net->directed ? "source,target" : "account1,account2", f);
    fputs(",weight,objects,mean_dt,contents1,contents2,symmetry,coordinated,object_ids\n", f);
    for (size_t i = 0; i < net->nedges; i++) {
        const struct cm_edge *e = &net->edges[i];
        um_csv_field(f, account_name(d, e->a));
        fputc(',', f);
        um_csv_field(f, account_name(d, e->b));
        fprintf(f, ",%u,%u,%.3f,%u,%u,%.4f,%d,", e->weight, e->nobjects, e->mean_dt,
                e->ncontent_a, e->ncontent_b, e->symmetry, e->coordinated);
        edge_objects(f, d, net, e);
        fputc('\n', f);
    }
}

static void write_accounts_csv(FILE *f, const struct cm_dataset *d, const struct cm_network *net)
{
    char t0[32], t1[32];
    fputs("account,degree,strength,shares,first,last,component,community,coordinated\n", f);
    for (size_t i = 0; i < net->naccounts; i++) {
        const struct cm_account_stat *a = &net->accounts[i];
        iso_time(a->first, t0, sizeof t0);
        iso_time(a->last, t1, sizeof t1);
        um_csv_field(f, account_name(d, a->account));
        fprintf(f, ",%u,%llu,%llu,%s,%s,%u,%u,%d\n", a->degree,
                (unsigned long long)a->strength, (unsigned long long)a->shares, t0, t1,
                a->component, a->community, a->coordinated);
    }
}

static void write_groups(FILE *f, const struct cm_dataset *d, const char *type,
                         const struct cm_group *g, size_t n)
{
    char t0[32], t1[32], label[512];
    for (size_t i = 0; i < n; i++) {
        iso_time(g[i].first, t0, sizeof t0);
        iso_time(g[i].last, t1, sizeof t1);
        fprintf(f, "%s,%u,%u,%u,%llu,%s,%s,", type, g[i].id, g[i].size, g[i].nedges,
                (unsigned long long)g[i].weight, t0, t1);
        char top[5 * 540] = "";
        for (uint32_t k = 0; k < g[i].ntop; k++) {
            object_label(d, g[i].top_objects[k], label, sizeof label);
            size_t used = strlen(top);
            snprintf(top + used, sizeof top - used, "%s%s=%u", k ? ";" : "", label,
                     g[i].top_counts[k]);
        }
        um_csv_field(f, top);
        fputc('\n', f);
    }
}

static void write_groups_csv(FILE *f, const struct cm_dataset *d, const struct cm_network *net)
{
    fputs("type,id,size,edges,weight,first,last,top_objects\n", f);
    write_groups(f, d, "component", net->components, net->ncomponents);
    write_groups(f, d, "community", net->communities, net->ncommunities);
}

static void write_graphml(FILE *f, const struct cm_dataset *d, const struct cm_network *net)
{
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
          "  <key id=\"shares\" for=\"node\" attr.name=\"shares\" attr.type=\"long\"/>\n"
          "  <key id=\"degree\" for=\"node\" attr.name=\"degree\" attr.type=\"long\"/>\n"
          "  <key id=\"component\" for=\"node\" attr.name=\"component\" attr.type=\"long\"/>\n"
          "  <key id=\"community\" for=\"node\" attr.name=\"community\" attr.type=\"long\"/>\n"
          "  <key id=\"ncoord\" for=\"node\" attr.name=\"coordinated\" attr.type=\"boolean\"/>\n"
          "  <key id=\"weight\" for=\"edge\" attr.name=\"weight\" attr.type=\"double\"/>\n"
          "  <key id=\"objects\" for=\"edge\" attr.name=\"objects\" attr.type=\"long\"/>\n"
          "  <key id=\"mean_dt\" for=\"edge\" attr.name=\"mean_dt\" attr.type=\"double\"/>\n"
          "  <key id=\"symmetry\" for=\"edge\" attr.name=\"symmetry\" attr.type=\"double\"/>\n"
          "  <key id=\"coordinated\" for=\"edge\" attr.name=\"coordinated\" attr.type=\"boolean\"/>\n",
          f);
    fprintf(f, "  <graph id=\"campaign\" edgedefault=\"%s\">\n",
            net->directed ? "directed" : "undirected");
    for (size_t i = 0; i < net->naccounts; i++) {
        const struct cm_account_stat *a = &net->accounts[i];
        fputs("    <node id=\"", f);
        xml_text(f, account_name(d, a->account));
        fprintf(f, "\"><data key=\"shares\">%llu</data><data key=\"degree\">%u</data>"
                   "<data key=\"component\">%u</data><data key=\"community\">%u</data>"
                   "<data key=\"ncoord\">%s</data></node>\n",
                (unsigned long long)a->shares, a->degree, a->component, a->community,
                a->coordinated ? "true" : "false");
    }
    for (size_t i = 0; i < net->nedges; i++) {
        const struct cm_edge *e = &net->edges[i];
        fputs("    <edge source=\"", f);
        xml_text(f, account_name(d, e->a));
        fputs("\" target=\"", f);
        xml_text(f, account_name(d, e->b));
        fprintf(f, "\"><data key=\"weight\">%u</data><data key=\"objects\">%u</data>"
                   "<data key=\"mean_dt\">%.3f</data><data key=\"symmetry\">%.4f</data>"
                   "<data key=\"coordinated\">%s</data></edge>\n",
                e->weight, e->nobjects, e->mean_dt, e->symmetry,
                e->coordinated ? "true" : "false");
    }
    fputs("  </graph>\n</graphml>\n", f);
}

static void write_gexf(FILE *f, const struct cm_dataset *d, const struct cm_network *net)
{
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<gexf xmlns=\"http://gexf.net/1.3\" version=\"1.3\">\n"
               "  <graph defaultedgetype=\"%s\">\n"
               "    <attributes class=\"node\">\n"
               "      <attribute id=\"0\" title=\"shares\" type=\"long\"/>\n"
               "      <attribute id=\"1\" title=\"component\" type=\"long\"/>\n"
               "      <attribute id=\"2\" title=\"community\" type=\"long\"/>\n"
               "      <attribute id=\"3\" title=\"coordinated\" type=\"boolean\"/>\n"
               "    </attributes>\n"
               "    <attributes class=\"edge\">\n"
               "      <attribute id=\"0\" title=\"objects\" type=\"long\"/>\n"
               "      <attribute id=\"1\" title=\"mean_dt\" type=\"double\"/>\n"
               "      <attribute id=\"2\" title=\"symmetry\" type=\"double\"/>\n"
               "      <attribute id=\"3\" title=\"coordinated\" type=\"boolean\"/>\n"
               "    </attributes>\n    <nodes>\n",
            net->directed ? "directed" : "undirected");
    for (size_t i = 0; i < net->naccounts; i++) {
        const struct cm_account_stat *a = &net->accounts[i];
        fputs("      <node id=\"", f);
        xml_text(f, account_name(d, a->account));
        fputs("\" label=\"", f);
        xml_text(f, account_name(d, a->account));
        fprintf(f, "\"><attvalues><attvalue for=\"0\" value=\"%llu\"/><attvalue for=\"1\" "
                   "value=\"%u\"/><attvalue for=\"2\" value=\"%u\"/><attvalue for=\"3\" "
                   "value=\"%s\"/></attvalues></node>\n",
                (unsigned long long)a->shares, a->component, a->community,
                a->coordinated ? "true" : "false");
    }
    fputs("    </nodes>\n    <edges>\n", f);
    for (size_t i = 0; i < net->nedges; i++) {
        const struct cm_edge *e = &net->edges[i];
        fprintf(f, "      <edge id=\"%zu\" source=\"", i);
        xml_text(f, account_name(d, e->a));
        fputs("\" target=\"", f);
        xml_text(f, account_name(d, e->b));
        fprintf(f, "\" weight=\"%u\"><attvalues><attvalue for=\"0\" value=\"%u\"/><attvalue "
                   "for=\"1\" value=\"%.3f\"/><attvalue for=\"2\" value=\"%.4f\"/><attvalue "
                   "for=\"3\" value=\"%s\"/></attvalues></edge>\n",
                e->weight, e->nobjects, e->mean_dt, e->symmetry,
                e->coordinated ? "true" : "false");
    }
    fputs("    </edges>\n  </graph>\n</gexf>\n", f);
}

/* ---- summary.json ---- */
/* A number, or null where it is undefined (modularity of a graph without edges). */
static json_t *json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *group_json(const struct cm_dataset *d, const struct cm_network *net,
                          const struct cm_group *g, int community)
{
    char t0[32], t1[32];
    iso_time(g->first, t0, sizeof t0);
    iso_time(g->last, t1, sizeof t1);
    json_t *members = json_array(), *top = json_array();
    for (size_t i = 0; i < net->naccounts && json_array_size(members) < CM_SUMMARY_MEMBERS; i++) {
        const struct cm_account_stat *a = &net->accounts[i];
        if ((community ? a->community : a->component) == g->id)
            json_array_append_new(members, json_string(account_name(d, a->account)));
    }
    for (uint32_t k = 0; k < g->ntop; k++)
        json_array_append_new(top, json_pack("{s:s, s:s, s:i}", "kind",
                                             cm_kind_name(cm_object_kind(d, g->top_objects[k])),
                                             "id", cm_object_value(d, g->top_objects[k]),
                                             "pairs", (json_int_t)g->top_counts[k]));
    return json_pack("{s:i, s:i, s:i, s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)g->id,
                     "size", (json_int_t)g->size, "edges", (json_int_t)g->nedges, "weight",
                     (json_int_t)g->weight, "first", t0, "last", t1, "top_objects", top,
                     "members", members);
}

static int by_u32_weight(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* {"weight": number of edges} over all edges. */
static json_t *histogram_json(const struct cm_network *net)
{
    json_t *h = json_object();
    uint32_t *w = malloc((net->nedges + 1) * sizeof *w);
    if (!w)
        return h;
    for (size_t i = 0; i < net->nedges; i++)
        w[i] = net->edges[i].weight;
    qsort(w, net->nedges, sizeof *w, by_u32_weight);
    for (size_t i = 0, j; i < net->nedges; i = j) {
        for (j = i + 1; j < net->nedges && w[j] == w[i]; j++) {
        }
        char key[16];
        snprintf(key, sizeof key, "%u", w[i]);
        json_object_set_new(h, key, json_integer((json_int_t)(j - i)));
    }
    free(w);
    return h;
}

/* The full network: every edge and the accounts on them. */
static json_t *edges_json(const struct cm_network *net)
{
    json_t *quantiles = json_pack("{s:o, s:o, s:o, s:o}", "min",
                                  json_number(cm_weight_quantile(net, 0)), "median",
                                  json_number(cm_weight_quantile(net, 0.5)), "p90",
                                  json_number(cm_weight_quantile(net, 0.9)), "max",
                                  json_number(cm_weight_quantile(net, 1)));
    return json_pack("{s:I, s:o, s:o, s:b}", "count", (json_int_t)net->nedges,
                     "weight_histogram", histogram_json(net), "weight", quantiles, "directed",
                     net->directed);
}

/* The coordinated subgraph and its groups. */
static json_t *coordinated_json(const struct cm_dataset *d, const struct cm_network *net)
{
    json_t *groups = json_array(), *communities = json_array();
    for (size_t i = 0; i < net->ncomponents && i < CM_SUMMARY_GROUPS; i++)
        json_array_append_new(groups, group_json(d, net, &net->components[i], 0));
    for (size_t i = 0; i < net->ncommunities && i < CM_SUMMARY_GROUPS; i++)
        json_array_append_new(communities, group_json(d, net, &net->communities[i], 1));
    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "threshold",
                     net->threshold < 0 ? json_null() : json_real(net->threshold), "edges",
                     (json_int_t)net->ncoordinated_edges, "accounts",
                     (json_int_t)net->ncoordinated_accounts, "components",
                     (json_int_t)net->ncomponents, "communities", (json_int_t)net->ncommunities,
                     "modularity", json_number(net->modularity), "largest_components", groups,
                     "largest_communities", communities);
}

static json_t *summary_json(const struct cm_dataset *d, const struct cm_params *p,
                            const struct cm_network *net)
{
    json_t *kinds = json_array(), *pairs = json_object(), *bad = json_array();
    uint64_t total = 0;
    for (int k = 0; k < CM_KIND_COUNT; k++)
        if (p->kinds & (1u << k)) {
            json_array_append_new(kinds, json_string(cm_kind_name(k)));
            json_object_set_new(pairs, cm_kind_name(k), json_integer((json_int_t)net->pair_counts[k]));
            total += net->pair_counts[k];
        }
    for (size_t i = 0; i < d->nbad; i++)
        json_array_append_new(bad, json_pack("{s:I, s:s}", "line", (json_int_t)d->bad[i].line,
                                             "reason", d->bad[i].why));
    json_t *params = json_pack("{s:I, s:I, s:o, s:s, s:b, s:f}", "window",
                               (json_int_t)p->window, "min_participation",
                               (json_int_t)p->min_participation, "kinds", kinds, "weight",
                               p->weight == CM_WEIGHT_QUT ? "qut" : "coortweet", "qut_loops",
                               p->qut_loops, "edge_weight_percentile",
                               p->percentile > 0 ? p->percentile : 0.0);
    json_t *input = json_pack("{s:I, s:I, s:o, s:I, s:I}", "rows", (json_int_t)d->rows,
                              "malformed_rows", (json_int_t)d->bad_rows, "malformed", bad,
                              "accounts", (json_int_t)d->accounts.count, "objects",
                              (json_int_t)d->objects.count);
    return json_pack("{s:s, s:o, s:o, s:{s:I, s:o}, s:o, s:I, s:o}", "tool", "unmask campaign",
                     "input", input, "parameters", params, "pairs", "total", (json_int_t)total,
                     "by_kind", pairs, "edges", edges_json(net), "accounts",
                     (json_int_t)net->naccounts, "coordinated", coordinated_json(d, net));
}

static int write_file(const char *dir, const char *name, char *err, size_t errlen,
                      void (*body)(FILE *, const struct cm_dataset *, const struct cm_network *),
                      const struct cm_dataset *d, const struct cm_network *net)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        snprintf(err, errlen, "output path too long");
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    body(f, d, net);
    int bad = ferror(f);
    if (fclose(f) || bad) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cm_write_outputs(const struct cm_dataset *d, const struct cm_params *p,
                     const struct cm_network *net, const char *dir, char *err, size_t errlen)
{
    if (write_file(dir, "edges.csv", err, errlen, write_edges_csv, d, net) ||
        write_file(dir, "accounts.csv", err, errlen, write_accounts_csv, d, net) ||
        write_file(dir, "groups.csv", err, errlen, write_groups_csv, d, net) ||
        write_file(dir, "network.graphml", err, errlen, write_graphml, d, net) ||
        write_file(dir, "network.gexf", err, errlen, write_gexf, d, net))
        return -1;
    char path[4096];
    json_t *root = summary_json(d, p, net);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (!root || json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS)) {
        json_decref(root);
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    json_decref(root);
    return 0;
}

/* ---- the readable summary ---- */
static void say_group(struct um_strbuf *t, const struct cm_dataset *d, const struct cm_network *net,
                      const struct cm_group *g)
{
    char t0[32], t1[32];
    iso_time(g->first, t0, sizeof t0);
    iso_time(g->last, t1, sizeof t1);
    um_strbuf_printf(
        t, "\nGroup %u: %u accounts, %u edges between them (weight %llu), active %s to %s.\n",
        g->id, g->size, g->nedges, (unsigned long long)g->weight, t0, t1);
    um_strbuf_printf(t, "  Members:");
    uint32_t shown = 0;
    for (size_t i = 0; i < net->naccounts && shown < 8; i++)
        if (net->accounts[i].community == g->id)
            um_strbuf_printf(t, "%s %s", shown++ ? "," : "",
                             account_name(d, net->accounts[i].account));
    um_strbuf_printf(t, "%s\n", g->size > shown ? ", ..." : "");
    for (uint32_t k = 0; k < g->ntop; k++) {
        const char *v = cm_object_value(d, g->top_objects[k]);
        um_strbuf_printf(t, "  Pushed %s %.80s%s together: %u pair%s\n",
                         cm_kind_name(cm_object_kind(d, g->top_objects[k])), v,
                         strlen(v) > 80 ? "..." : "", g->top_counts[k],
                         g->top_counts[k] == 1 ? "" : "s");
    }
}

char *cm_summary_text(const struct cm_dataset *d, const struct cm_params *p,
                      const struct cm_network *net)
{
    struct um_strbuf t = {0};
    uint64_t total = 0;
    for (int k = 0; k < CM_KIND_COUNT; k++)
        total += net->pair_counts[k];
    um_strbuf_printf(&t, "Read %llu rows from %u accounts", (unsigned long long)d->rows,
                     d->accounts.count);
    if (d->bad_rows)
        um_strbuf_printf(&t, " (%llu malformed rows skipped, first on line %llu: %s)",
                         (unsigned long long)d->bad_rows, (unsigned long long)d->bad[0].line,
                         d->bad[0].why);
    um_strbuf_printf(
        &t,
        ".\nFound %llu pair%s of posts of the same object by different accounts within %lld "
        "seconds, linking %zu accounts by %zu edge%s",
        (unsigned long long)total, total == 1 ? "" : "s", (long long)p->window, net->naccounts,
        net->nedges, net->nedges == 1 ? "" : "s");
    um_strbuf_printf(&t, ".\n");
    if (net->threshold >= 0)
        um_strbuf_printf(
            &t,
            "%zu edge%s on %zu accounts weigh%s more than %.2f (the %g quantile of the "
            "weights) and form the coordinated network.\n",
            net->ncoordinated_edges, net->ncoordinated_edges == 1 ? "" : "s",
            net->ncoordinated_accounts, net->ncoordinated_edges == 1 ? "s" : "", net->threshold,
            p->percentile);
    else if (net->nedges)
        um_strbuf_printf(&t, "Every edge counts as coordinated (edge-weight percentile 0).\n");
    if (net->ncoordinated_edges == 0) {
        um_strbuf_printf(&t, "No coordinated group found with these settings.\n");
        return um_strbuf_finish(&t);
    }
    um_strbuf_printf(&t, "The coordinated accounts form %zu connected groups and %zu communities",
                     net->ncomponents, net->ncommunities);
    if (isfinite(net->modularity))
        um_strbuf_printf(&t, " (modularity %.2f).\n", net->modularity);
    else
        um_strbuf_printf(&t, ".\n");
    um_strbuf_printf(
        &t, "Largest communities (a link means two accounts repeatedly posted the same thing "
            "within the window; it is a lead to check, not proof of coordination):\n");
    for (size_t i = 0; i < net->ncommunities && i < 5; i++)
        say_group(&t, d, net, &net->communities[i]);
    return um_strbuf_finish(&t);
}
