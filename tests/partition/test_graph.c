/* test_graph.c - the main graph as a directed graph: producers and consumers, topological order,
 * cycles, reachability, outer-scope reads of subgraphs, and cuts, on hand-built graphs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "mcz/graph.h"
#include "testmodel.h"

/* ---- building graphs by hand ----------------------------------------------------------- */

/* Split "a,b,c" into names (arena). "" gives none. */
static size_t names(const char *list, const char ***out)
{
    size_t n = 0;
    const char **v = NULL;
    if (list && *list) {
        char *s = tm_str(list);
        for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
            TM_PUSH(v, n, tok);
    }
    *out = v;
    return n;
}

/* Add node `name` (op `op`) reading `ins` and writing `outs` (comma lists). */
static long add(mcz_graph *g, const char *op, const char *name, const char *ins,
                const char *outs)
{
    mcz_error err = {0};
    mcz_graph_node_def d = {.name = name, .op_type = op};
    d.n_inputs = names(ins, (const char ***)&d.inputs);
    d.n_outputs = names(outs, (const char ***)&d.outputs);
    d.copyable = strcmp(op, "Constant") == 0;
    long id = mcz_graph_add_node(g, &d, &err);
    ck_assert_msg(id >= 0, "add %s: %s", name, err.msg);
    return id;
}

static mcz_graph *new_graph(void)
{
    mcz_error err = {0};
    mcz_graph *g = mcz_graph_new(&err);
    ck_assert_ptr_nonnull(g);
    return g;
}

static void input(mcz_graph *g, const char *name)
{
    mcz_error err = {0};
    expect_ok(mcz_graph_add_input(g, name, &err), &err);
}

static void weight(mcz_graph *g, const char *name)
{
    mcz_error err = {0};
    expect_ok(mcz_graph_add_weight(g, name, &err), &err);
}

static void output(mcz_graph *g, const char *name)
{
    mcz_error err = {0};
    expect_ok(mcz_graph_add_output(g, name, &err), &err);
}

static size_t *topo(const mcz_graph *g)
{
    mcz_error err = {0};
    size_t *order = tm_alloc((mcz_graph_node_count(g) + 1) * sizeof *order);
    expect_ok(mcz_graph_toposort(g, order, &err), &err);
    return order;
}

/* The order as node names, space separated. */
static const char *order_str(const mcz_graph *g, const size_t *order)
{
    char *s = tm_alloc(4096);
    for (size_t i = 0; i < mcz_graph_node_count(g); i++) {
        if (i)
            strcat(s, " ");
        strcat(s, mcz_graph_node_at(g, order[i])->name);
    }
    return s;
}

/* A chain x -> a -> t1 -> b -> t2 -> c -> y, weights wa wb wc. */
static mcz_graph *chain(void)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    weight(g, "wa");
    weight(g, "wb");
    weight(g, "wc");
    add(g, "MatMul", "a", "x,wa", "t1");
    add(g, "MatMul", "b", "t1,wb", "t2");
    add(g, "MatMul", "c", "t2,wc", "y");
    output(g, "y");
    return g;
}

static void teardown(void)
{
    tm_reset();
}

/* ---- structure -------------------------------------------------------------------------- */

START_TEST(producers_and_consumers_are_recorded_once_per_node)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Mul", "sq", "x,x", "x2");  /* reads x twice */
    add(g, "Add", "sum", "x2,x", "y");
    output(g, "y");
    const mcz_graph_value *x = mcz_graph_value_at(g, (size_t)mcz_graph_find_value(g, "x"));
    ck_assert_int_eq(x->kind, MCZ_VALUE_INPUT);
    ck_assert_int_eq(x->producer, -1);
    ck_assert_uint_eq(x->n_consumers, 2);
    ck_assert_uint_eq(x->consumers[0], 0);
    ck_assert_uint_eq(x->consumers[1], 1);
    const mcz_graph_value *x2 = mcz_graph_value_at(g, (size_t)mcz_graph_find_value(g, "x2"));
    ck_assert_int_eq(x2->kind, MCZ_VALUE_ACTIVATION);
    ck_assert_int_eq(x2->producer, 0);
    const mcz_graph_value *y = mcz_graph_value_at(g, (size_t)mcz_graph_find_value(g, "y"));
    ck_assert(y->is_output);
    ck_assert_uint_eq(y->n_consumers, 0);
    ck_assert_int_eq(mcz_graph_find_value(g, "nope"), -1);
    mcz_graph_free(g);
}
END_TEST

START_TEST(empty_input_names_are_optional_inputs_left_out)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    mcz_error err = {0};
    const char *ins[] = {"x", "", "x"};
    const char *outs[] = {"y", ""};
    mcz_graph_node_def d = {.name = "clip", .op_type = "Clip", .inputs = ins, .n_inputs = 3,
                            .outputs = outs, .n_outputs = 2};
    ck_assert_int_eq(mcz_graph_add_node(g, &d, &err), 0);
    const mcz_graph_node *n = mcz_graph_node_at(g, 0);
    ck_assert_uint_eq(n->n_inputs, 2);
    ck_assert_uint_eq(n->n_outputs, 1);
    ck_assert_int_eq(mcz_graph_find_value(g, ""), -1);
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_value_made_twice_is_refused_naming_both_nodes)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "first", "x", "t");
    mcz_error err = {0};
    const char *ins[] = {"x"}, *outs[] = {"t"};
    mcz_graph_node_def d = {.name = "second", .op_type = "Relu", .inputs = ins, .n_inputs = 1,
                            .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(mcz_graph_add_node(g, &d, &err), -1);
    expect_status(err.code, MCZ_ERR_FORMAT, &err);
    expect_msg_has(&err, "'t'");
    expect_msg_has(&err, "first");
    expect_msg_has(&err, "second");
    /* the failed node left nothing behind */
    ck_assert_uint_eq(mcz_graph_node_count(g), 1);
    ck_assert_int_eq(mcz_graph_value_at(g, (size_t)mcz_graph_find_value(g, "t"))->producer, 0);
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_graph_input_made_by_a_node_is_refused)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    mcz_error err = {0};
    const char *ins[] = {"x"}, *outs[] = {"x"};
    mcz_graph_node_def d = {.name = "loop", .op_type = "Relu", .inputs = ins, .n_inputs = 1,
                            .outputs = outs, .n_outputs = 1};
    ck_assert_int_eq(mcz_graph_add_node(g, &d, &err), -1);
    expect_msg_has(&err, "graph input");
    mcz_graph_free(g);
}
END_TEST

START_TEST(unnamed_nodes_are_labelled_by_op_and_id)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "", "x", "y");
    char b[64];
    ck_assert_str_eq(mcz_graph_node_label(g, 0, b, sizeof b), "Relu#0");
    mcz_graph_free(g);
}
END_TEST

/* ---- topological order ------------------------------------------------------------------ */

START_TEST(an_ordered_graph_keeps_its_order)
{
    mcz_graph *g = chain();
    ck_assert_str_eq(order_str(g, topo(g)), "a b c");
    mcz_graph_free(g);
}
END_TEST

START_TEST(nodes_given_out_of_order_are_sorted)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "c", "t2", "y");
    add(g, "Relu", "b", "t1", "t2");
    add(g, "Relu", "a", "x", "t1");
    output(g, "y");
    ck_assert_str_eq(order_str(g, topo(g)), "a b c");
    mcz_graph_free(g);
}
END_TEST

START_TEST(ready_nodes_come_in_the_order_added)
{
    /* a diamond: both branches are ready after `fork`; r (added before l) comes first */
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "fork", "x", "f");
    add(g, "Add", "join", "l1,r1", "y");
    add(g, "Relu", "r", "f", "r1");
    add(g, "Relu", "l", "f", "l1");
    ck_assert_str_eq(order_str(g, topo(g)), "fork r l join");
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_cycle_is_refused_naming_a_node_on_it)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "feeder", "x", "p");    /* feeds the cycle, not on it */
    add(g, "Add", "c1", "p,back", "u");
    add(g, "Relu", "c2", "u", "v");
    add(g, "Relu", "c3", "v", "back");
    add(g, "Relu", "tail", "back", "y");   /* after the cycle, not on it */
    size_t order[5];
    mcz_error err = {0};
    expect_status(mcz_graph_toposort(g, order, &err), MCZ_ERR_FORMAT, &err);
    expect_msg_has(&err, "cycle");
    ck_assert_msg(strstr(err.msg, "node c1 ") || strstr(err.msg, "node c2 ") ||
                      strstr(err.msg, "node c3 "),
                  "names no node of the cycle: %s", err.msg);
    ck_assert_ptr_null(strstr(err.msg, "feeder"));
    ck_assert_ptr_null(strstr(err.msg, "tail"));
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_node_reading_its_own_output_is_a_cycle)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Add", "self", "x,s", "s");
    size_t order[1];
    mcz_error err = {0};
    expect_status(mcz_graph_toposort(g, order, &err), MCZ_ERR_FORMAT, &err);
    expect_msg_has(&err, "node self ");
    mcz_graph_free(g);
}
END_TEST

/* ---- reachability ------------------------------------------------------------------------ */

START_TEST(ancestors_and_descendants_follow_the_edges)
{
    /* x -> a -> t -> b -> u ; x -> c -> v ; (t, v) -> d -> y */
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "a", "x", "t");
    add(g, "Relu", "b", "t", "u");
    add(g, "Relu", "c", "x", "v");
    add(g, "Add", "d", "t,v", "y");
    mcz_error err = {0};
    uint8_t mark[4] = {0};
    size_t y = (size_t)mcz_graph_find_value(g, "y");
    expect_ok(mcz_graph_ancestors(g, &y, 1, mark, &err), &err);
    ck_assert(mark[0] && !mark[1] && mark[2] && mark[3]);
    memset(mark, 0, sizeof mark);
    size_t t = (size_t)mcz_graph_find_value(g, "t");
    expect_ok(mcz_graph_descendants(g, &t, 1, mark, &err), &err);
    ck_assert(!mark[0] && mark[1] && !mark[2] && mark[3]);
    ck_assert(mcz_graph_reaches(g, 0, 3));
    ck_assert(mcz_graph_reaches(g, 0, 1));
    ck_assert(!mcz_graph_reaches(g, 1, 3));
    ck_assert(!mcz_graph_reaches(g, 3, 0));
    ck_assert(!mcz_graph_reaches(g, 0, 0));
    mcz_graph_free(g);
}
END_TEST

/* ---- from an ONNX model: subgraphs ------------------------------------------------------- */

static Onnx__ValueInfoProto *vi(const char *name)
{
    Onnx__ValueInfoProto *v = tm_alloc(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = tm_str(name);
    return v;
}

static Onnx__NodeProto *onode(Onnx__GraphProto *g, const char *op, const char *name,
                              const char *ins, const char *outs)
{
    Onnx__NodeProto *n = tm_node(g, op, name, NULL);
    const char **v;
    size_t k = names(ins, &v);
    for (size_t i = 0; i < k; i++)
        TM_PUSH(n->input, n->n_input, (char *)v[i]);
    k = names(outs, &v);
    for (size_t i = 0; i < k; i++)
        TM_PUSH(n->output, n->n_output, (char *)v[i]);
    return n;
}

static mcz_model *load(Onnx__ModelProto *mp)
{
    size_t len;
    uint8_t *b = tm_pack(mp, &len);
    void *copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(copy, len, "test.onnx", &err);
    ck_assert_msg(m != NULL, "load: %s", err.msg);
    return m;
}

START_TEST(values_subgraphs_read_from_outer_scopes_are_inputs_of_their_node)
{
    /* main: x, w (initializer); cond = Constant; h = Relu(x);
       y = If(cond) then { z = Add(h, w); k = Loop body { q = Mul(z, h); r = Neg(inner) } }
       else { e = Identity(x) }: the If reads h, w (then) and x (else); z and inner are the
       subgraphs' own and do not count. */
    Onnx__GraphProto *g = tm_graph("main");
    TM_PUSH(g->input, g->n_input, vi("x"));
    TM_PUSH(g->output, g->n_output, vi("y"));
    float one = 1;
    tm_add_initializer(g, tm_raw("w", 1, 0, NULL, &one, 4));
    tm_constant(g, "c", "cond", tm_raw("cv", 9, 0, NULL, "\1", 1));
    onode(g, "Relu", "relu", "x", "h");
    Onnx__NodeProto *iff = onode(g, "If", "if", "cond", "y");
    Onnx__GraphProto *th = tm_graph("then");
    onode(th, "Add", "add", "h,w", "z");
    Onnx__NodeProto *loop = onode(th, "Loop", "loop", "", "k");
    Onnx__GraphProto *body = tm_graph("body");
    TM_PUSH(body->input, body->n_input, vi("inner"));
    onode(body, "Mul", "mul", "z,h", "q");
    onode(body, "Neg", "neg", "inner", "r");
    tm_attr_graph(loop, "body", body);
    TM_PUSH(th->output, th->n_output, vi("k"));
    Onnx__GraphProto *el = tm_graph("else");
    onode(el, "Identity", "id", "x", "e");
    TM_PUSH(el->output, el->n_output, vi("e"));
    tm_attr_graph(iff, "then_branch", th);
    tm_attr_graph(iff, "else_branch", el);
    mcz_model *m = load(tm_model(g));
    mcz_error err = {0};
    mcz_graph *gr = mcz_graph_from_model(m, &err);
    ck_assert_msg(gr != NULL, "%s", err.msg);
    ck_assert_uint_eq(mcz_graph_node_count(gr), 3);
    const mcz_graph_node *n = mcz_graph_node_at(gr, 2);
    ck_assert_str_eq(n->op_type, "If");
    ck_assert(n->has_subgraphs);
    ck_assert(!n->copyable);
    ck_assert(mcz_graph_node_at(gr, 0)->copyable);
    ck_assert_uint_eq(n->n_own_inputs, 1);
    ck_assert_uint_eq(n->n_inputs, 4);
    const char *want[] = {"cond", "h", "w", "x"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(mcz_graph_value_at(gr, n->inputs[i])->name, want[i]);
    ck_assert_int_eq(mcz_graph_value_at(gr, (size_t)mcz_graph_find_value(gr, "w"))->kind,
                     MCZ_VALUE_WEIGHT);
    /* the If depends on relu through the read of h */
    size_t order[3];
    expect_ok(mcz_graph_toposort(gr, order, &err), &err);
    ck_assert(mcz_graph_reaches(gr, 1, 2));
    mcz_graph_free(gr);
    mcz_model_free(m);
}
END_TEST

START_TEST(an_initializer_listed_as_an_input_stays_a_weight)
{
    Onnx__GraphProto *g = tm_graph("main");
    TM_PUSH(g->input, g->n_input, vi("x"));
    TM_PUSH(g->input, g->n_input, vi("w"));
    float one = 1;
    tm_add_initializer(g, tm_raw("w", 1, 0, NULL, &one, 4));
    onode(g, "Mul", "mul", "x,w", "y");
    TM_PUSH(g->output, g->n_output, vi("y"));
    mcz_model *m = load(tm_model(g));
    mcz_error err = {0};
    mcz_graph *gr = mcz_graph_from_model(m, &err);
    ck_assert_ptr_nonnull(gr);
    ck_assert_int_eq(mcz_graph_value_at(gr, (size_t)mcz_graph_find_value(gr, "w"))->kind,
                     MCZ_VALUE_WEIGHT);
    ck_assert_int_eq(mcz_graph_value_at(gr, (size_t)mcz_graph_find_value(gr, "x"))->kind,
                     MCZ_VALUE_INPUT);
    mcz_graph_free(gr);
    mcz_model_free(m);
}
END_TEST

/* ---- cuts -------------------------------------------------------------------------------- */

/* Cut `g` at the comma-separated groups given (each argument one group), expecting success;
 * returns each node's part as a string "0 0 1 ...", copyable nodes as "c". */
static const char *cut_ok(mcz_graph *g, size_t ngroups, const char *const *groups)
{
    const char **cn = NULL;
    size_t *gr = NULL, n = 0, ng = 0;
    for (size_t i = 0; i < ngroups; i++) {
        const char **v;
        size_t k = names(groups[i], &v);
        for (size_t j = 0; j < k; j++) {
            TM_PUSH(cn, n, v[j]);
            size_t gi = i;
            TM_PUSH(gr, ng, gi);
        }
    }
    size_t nn = mcz_graph_node_count(g), np = 0;
    size_t *part = tm_alloc((nn + 1) * sizeof *part);
    mcz_error err = {0};
    expect_ok(mcz_graph_cut_parts(g, cn, gr, n, part, &np, &err), &err);
    char *s = tm_alloc(4096);
    for (size_t i = 0; i < nn; i++) {
        char b[32];
        if (part[i] == MCZ_GRAPH_COPIED)
            snprintf(b, sizeof b, "%sc", i ? " " : "");
        else
            snprintf(b, sizeof b, "%s%zu", i ? " " : "", part[i]);
        strcat(s, b);
    }
    return s;
}

/* The same, expecting a refusal whose message contains `msg`. */
static void cut_refused(mcz_graph *g, size_t ngroups, const char *const *groups, const char *msg)
{
    const char **cn = NULL;
    size_t *gr = NULL, n = 0, ng = 0;
    for (size_t i = 0; i < ngroups; i++) {
        const char **v;
        size_t k = names(groups[i], &v);
        for (size_t j = 0; j < k; j++) {
            TM_PUSH(cn, n, v[j]);
            size_t gi = i;
            TM_PUSH(gr, ng, gi);
        }
    }
    size_t nn = mcz_graph_node_count(g), np = 0;
    size_t *part = tm_alloc((nn + 1) * sizeof *part);
    mcz_error err = {0};
    mcz_status s = mcz_graph_cut_parts(g, cn, gr, n, part, &np, &err);
    ck_assert_msg(s == MCZ_ERR_ARG, "status %d (%s), expected a refusal", (int)s, err.msg);
    expect_msg_has(&err, msg);
}

#define CUTS(...) (sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)), \
                  ((const char *const[]){__VA_ARGS__})

START_TEST(one_cut_on_a_chain_gives_two_parts)
{
    mcz_graph *g = chain();
    ck_assert_str_eq(cut_ok(g, CUTS("t1")), "0 1 1");
    ck_assert_str_eq(cut_ok(g, CUTS("t2")), "0 0 1");
    mcz_graph_free(g);
}
END_TEST

START_TEST(two_cuts_on_a_chain_give_three_parts_in_either_order)
{
    mcz_graph *g = chain();
    ck_assert_str_eq(cut_ok(g, CUTS("t1", "t2")), "0 1 2");
    ck_assert_str_eq(cut_ok(g, CUTS("t2", "t1")), "0 1 2");
    mcz_graph_free(g);
}
END_TEST

/* x -> a -> s -> b -> t -> c(t, s) -> y : s skips over b */
static mcz_graph *skip(void)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "a", "x", "s");
    add(g, "Relu", "b", "s", "t");
    add(g, "Add", "c", "t,s", "y");
    output(g, "y");
    return g;
}

START_TEST(a_skip_tensor_left_out_of_the_cut_is_refused_naming_node_and_tensor)
{
    mcz_graph *g = skip();
    cut_refused(g, CUTS("t"), "not a cut: node c after it still needs s");
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_skip_tensor_in_the_same_cut_passes_with_it)
{
    mcz_graph *g = skip();
    ck_assert_str_eq(cut_ok(g, CUTS("t,s")), "0 0 1");
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_skip_tensor_cut_on_its_own_is_carried_through_the_later_cut)
{
    mcz_graph *g = skip();
    ck_assert_str_eq(cut_ok(g, CUTS("s", "t")), "0 1 2");
    mcz_graph_free(g);
}
END_TEST

START_TEST(both_branches_of_a_fork_make_one_boundary)
{
    /* x -> f -> (l -> p, r -> q) -> join */
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "f", "x", "fo");
    add(g, "Relu", "l", "fo", "p");
    add(g, "Relu", "r", "fo", "q");
    add(g, "Add", "join", "p,q", "y");
    ck_assert_str_eq(cut_ok(g, CUTS("p", "q")), "0 0 0 1");
    cut_refused(g, CUTS("p"), "not a cut: node r after it still needs fo");
    mcz_graph_free(g);
}
END_TEST

START_TEST(cuts_at_inputs_weights_constants_or_unknown_names_are_refused)
{
    mcz_graph *g = chain();
    cut_refused(g, CUTS("x"), "'x' is a graph input, not an activation");
    cut_refused(g, CUTS("wa"), "'wa' is a weight, not an activation");
    cut_refused(g, CUTS("nope"), "no tensor 'nope'");
    add(g, "Constant", "k", "", "kv");
    add(g, "Add", "d", "y,kv", "z");
    cut_refused(g, CUTS("kv"), "'kv' is computed from weights only (node k)");
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_cut_at_the_last_tensor_leaves_nothing_after_it)
{
    mcz_graph *g = chain();
    cut_refused(g, CUTS("y"), "nothing is left after the cuts");
    mcz_graph_free(g);
}
END_TEST

START_TEST(a_cut_that_crosses_nothing_is_refused)
{
    /* t1 and t2 given as one boundary: t1 is only read before t2 */
    mcz_graph *g = chain();
    cut_refused(g, CUTS("t1,t2"), "'t1' crosses no cut");
    mcz_graph_free(g);
}
END_TEST

START_TEST(groups_that_lead_to_each_other_are_refused)
{
    /* x -> a -> t1 -> b -> t2 -> c -> t3 : groups {t1, t3} and {t2} */
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Relu", "a", "x", "t1");
    add(g, "Relu", "b", "t1", "t2");
    add(g, "Relu", "c", "t2", "t3");
    add(g, "Add", "d", "t3,t1", "y");
    cut_refused(g, CUTS("t1,t3", "t2"), "cannot be put in order");
    mcz_graph_free(g);
}
END_TEST

START_TEST(constants_read_on_both_sides_are_copied_not_cut)
{
    mcz_graph *g = new_graph();
    input(g, "x");
    add(g, "Constant", "k", "", "kv");
    add(g, "Add", "a", "x,kv", "t");
    add(g, "Mul", "b", "t,kv", "y");
    ck_assert_str_eq(cut_ok(g, CUTS("t")), "c 0 1");
    mcz_graph_free(g);
}
END_TEST

static Suite *graph_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("structure");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, producers_and_consumers_are_recorded_once_per_node);
    tcase_add_test(tc, empty_input_names_are_optional_inputs_left_out);
    tcase_add_test(tc, a_value_made_twice_is_refused_naming_both_nodes);
    tcase_add_test(tc, a_graph_input_made_by_a_node_is_refused);
    tcase_add_test(tc, unnamed_nodes_are_labelled_by_op_and_id);
    tcase_add_test(tc, values_subgraphs_read_from_outer_scopes_are_inputs_of_their_node);
    tcase_add_test(tc, an_initializer_listed_as_an_input_stays_a_weight);
    suite_add_tcase(s, tc);

    tc = tcase_create("order");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, an_ordered_graph_keeps_its_order);
    tcase_add_test(tc, nodes_given_out_of_order_are_sorted);
    tcase_add_test(tc, ready_nodes_come_in_the_order_added);
    tcase_add_test(tc, a_cycle_is_refused_naming_a_node_on_it);
    tcase_add_test(tc, a_node_reading_its_own_output_is_a_cycle);
    tcase_add_test(tc, ancestors_and_descendants_follow_the_edges);
    suite_add_tcase(s, tc);

    tc = tcase_create("cuts");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, one_cut_on_a_chain_gives_two_parts);
    tcase_add_test(tc, two_cuts_on_a_chain_give_three_parts_in_either_order);
    tcase_add_test(tc, a_skip_tensor_left_out_of_the_cut_is_refused_naming_node_and_tensor);
    tcase_add_test(tc, a_skip_tensor_in_the_same_cut_passes_with_it);
    tcase_add_test(tc, a_skip_tensor_cut_on_its_own_is_carried_through_the_later_cut);
    tcase_add_test(tc, both_branches_of_a_fork_make_one_boundary);
    tcase_add_test(tc, cuts_at_inputs_weights_constants_or_unknown_names_are_refused);
    tcase_add_test(tc, a_cut_at_the_last_tensor_leaves_nothing_after_it);
    tcase_add_test(tc, a_cut_that_crosses_nothing_is_refused);
    tcase_add_test(tc, groups_that_lead_to_each_other_are_refused);
    tcase_add_test(tc, constants_read_on_both_sides_are_copied_not_cut);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(graph_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
