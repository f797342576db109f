/* test_plan.c - the partitioner on hand-built ONNX models: where it cuts, what each part holds,
 * takes and gives, what it refuses, the manifest and the folder. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "expect.h"
#include "mcz/partition.h"
#include "onnx/model_impl.h"
#include "onnxwire.h"
#include "testfs.h"
#include "testmodel.h"

/* ---- building models ------------------------------------------------------------------- */

static Onnx__GraphProto *G;

static size_t split_names(const char *list, char ***out)
{
    size_t n = 0;
    char **v = NULL;
    if (list && *list) {
        char *s = tm_str(list);
        for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
            TM_PUSH(v, n, tok);
    }
    *out = v;
    return n;
}

/* A float tensor type with dims "2,3" (numbers or symbols); NULL dims: no shape. */
static Onnx__ValueInfoProto *tvi(const char *name, int32_t elem, const char *dims)
{
    Onnx__ValueInfoProto *v = tm_alloc(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = tm_str(name);
    Onnx__TypeProto *t = tm_alloc(sizeof *t);
    onnx__type_proto__init(t);
    Onnx__TypeProto__Tensor *tt = tm_alloc(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (dims) {
        Onnx__TensorShapeProto *sh = tm_alloc(sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        char **d;
        size_t n = split_names(dims, &d);
        for (size_t i = 0; i < n; i++) {
            Onnx__TensorShapeProto__Dimension *dm = tm_alloc(sizeof *dm);
            onnx__tensor_shape_proto__dimension__init(dm);
            if (d[i][0] >= '0' && d[i][0] <= '9') {
                dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dm->dim_value = atoll(d[i]);
            } else {
                dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dm->dim_param = d[i];
            }
            TM_PUSH(sh->dim, sh->n_dim, dm);
        }
        tt->shape = sh;
    }
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

static void begin(void)
{
    G = tm_graph("g");
}

static void in(const char *name, const char *dims)
{
    TM_PUSH(G->input, G->n_input, tvi(name, 1, dims));
}

static void out(const char *name)
{
    TM_PUSH(G->output, G->n_output, tvi(name, 1, NULL));
}

static void declare(const char *name, const char *dims)
{
    TM_PUSH(G->value_info, G->n_value_info, tvi(name, 1, dims));
}

static Onnx__TensorProto *floats(const char *name, size_t n)
{
    return tm_raw(name, 1, 1, TM_DIMS((int64_t)n), tm_ramp(n, 0.5f, 0.25f), n * 4);
}

/* An initializer of n floats in graph g. */
static void weight_in(Onnx__GraphProto *g, const char *name, size_t n)
{
    tm_add_initializer(g, floats(name, n));
}

static void weight(const char *name, size_t n)
{
    weight_in(G, name, n);
}

static Onnx__NodeProto *node_in(Onnx__GraphProto *g, const char *op, const char *name,
                                const char *ins, const char *outs)
{
    Onnx__NodeProto *n = tm_node(g, op, name, NULL);
    char **v;
    size_t k = split_names(ins, &v);
    for (size_t i = 0; i < k; i++)
        TM_PUSH(n->input, n->n_input, v[i]);
    k = split_names(outs, &v);
    for (size_t i = 0; i < k; i++)
        TM_PUSH(n->output, n->n_output, v[i]);
    return n;
}

static Onnx__NodeProto *node(const char *op, const char *name, const char *ins,
                             const char *outs)
{
    return node_in(G, op, name, ins, outs);
}

/* A Constant node `name` making `output`, n floats. */
static void constant(const char *name, const char *output, size_t n)
{
    tm_constant(G, name, output, floats(tm_printf("%s.value", name), n));
}

static mcz_model *load_model(void)
{
    Onnx__ModelProto *mp = tm_model(G);
    Onnx__OperatorSetIdProto *op = tm_alloc(sizeof *op);
    onnx__operator_set_id_proto__init(op);
    op->domain = tm_str("");
    op->has_version = 1;
    op->version = 17;
    TM_PUSH(mp->opset_import, mp->n_opset_import, op);
    size_t len;
    uint8_t *b = tm_pack(mp, &len);
    void *copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx_buffer(copy, len, "test.onnx", &err);
    ck_assert_msg(m != NULL, "load: %s", err.msg);
    return m;
}

static mcz_partition *plan(mcz_model *m, const mcz_partition_params *p)
{
    mcz_error err = {0};
    mcz_partition *pt = mcz_partition_plan(m, p, &err);
    ck_assert_msg(pt != NULL, "plan: %s", err.msg);
    return pt;
}

static mcz_partition *plan_k(mcz_model *m, size_t k)
{
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    p.parts = k;
    return plan(m, &p);
}

static void plan_refused(mcz_model *m, const mcz_partition_params *p, mcz_status want,
                         const char *msg)
{
    mcz_error err = {0};
    mcz_partition *pt = mcz_partition_plan(m, p, &err);
    ck_assert_msg(pt == NULL, "planned, expected \"%s\"", msg);
    expect_status(err.code, want, &err);
    expect_msg_has(&err, msg);
}

/* The names of a list, comma separated (arena). */
static const char *joined(const char *const *v, size_t n)
{
    char *s = tm_alloc(4096);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, v[i]);
    }
    return s;
}

static const char *cut_names(const mcz_partition *pt, size_t j)
{
    const mcz_cut_info *c = mcz_partition_cut(pt, j);
    ck_assert_ptr_nonnull(c);
    const char **v = tm_alloc((c->n_tensors + 1) * sizeof *v);
    for (size_t i = 0; i < c->n_tensors; i++)
        v[i] = c->tensors[i].name;
    return joined(v, c->n_tensors);
}

/* A chain of n MatMul nodes m0..m(n-1), weights w0.. of `floats_each` floats, x -> t0 -> ... */
static void matmul_chain(size_t n, size_t floats_each)
{
    begin();
    in("x", "1,4");
    for (size_t i = 0; i < n; i++) {
        weight(tm_printf("w%zu", i), floats_each);
        node("MatMul", tm_printf("m%zu", i), tm_printf(i ? "t%zu,w%zu" : "x,w%zu", i ? i - 1 : i, i),
             tm_printf(i + 1 == n ? "y" : "t%zu", i));
    }
    out("y");
}

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

/* ---- where it cuts ------------------------------------------------------------------- */

START_TEST(equal_weights_along_a_chain_are_split_evenly)
{
    matmul_chain(8, 1000);
    mcz_model *m = load_model();
    for (size_t k = 1; k <= 4; k *= 2) {
        mcz_partition *pt = plan_k(m, k);
        mcz_partition_summary s;
        mcz_partition_get_summary(pt, &s);
        ck_assert_uint_eq(s.parts, k);
        ck_assert_uint_eq(s.total_weight_bytes, 32000);
        for (size_t i = 0; i < k; i++) {
            ck_assert_uint_eq(mcz_partition_part(pt, i)->weight_bytes, 32000 / k);
            ck_assert_uint_eq(mcz_partition_part(pt, i)->nodes, 8 / k);
        }
        ck_assert(s.bound_met);
        ck_assert_ptr_null(s.why_not_balanced);
        ck_assert(s.balance_ratio == 1.0);
        mcz_partition_free(pt);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(a_cut_where_one_tensor_crosses_is_preferred_to_a_more_even_one)
{
    /* x -> A -> a -> B -> b -> (L -> p, R -> q) -> J(p, q) -> j -> C -> c -> D -> y
       weights (floats): A 100, B 100, L 50, R 50, C 100, D 100. Cutting after L would be the
       most even (250 | 250) but passes two tensors (p and b); after B or after J one tensor
       crosses and the largest part (300) is within 1.25 x 250. */
    begin();
    in("x", "1,4");
    const char *nm[] = {"A", "B", "L", "R", "C", "D"};
    size_t sz[] = {100, 100, 50, 50, 100, 100};
    for (int i = 0; i < 6; i++)
        weight(tm_printf("w%s", nm[i]), sz[i]);
    node("MatMul", "A", "x,wA", "a");
    node("MatMul", "B", "a,wB", "b");
    node("MatMul", "L", "b,wL", "p");
    node("MatMul", "R", "b,wR", "q");
    node("Add", "J", "p,q", "j");
    node("MatMul", "C", "j,wC", "c");
    node("MatMul", "D", "c,wD", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    const char *c = cut_names(pt, 0);
    ck_assert_msg(strcmp(c, "b") == 0 || strcmp(c, "j") == 0, "cut at %s", c);
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert(s.bound_met);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(declared_shapes_make_the_smaller_tensor_the_cut)
{
    /* two single-tensor cut points of equal balance: t1 [1,1000] and t2 [1,10] (declared) */
    begin();
    in("x", "1,4");
    weight("w0", 100);
    weight("w1", 100);
    node("MatMul", "a", "x,w0", "t0");
    node("Relu", "b", "t0", "t1");
    node("Relu", "c", "t1", "t2");
    node("MatMul", "d", "t2,w1", "y");
    declare("t1", "1,1000");
    declare("t2", "1,10");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    ck_assert_str_eq(cut_names(pt, 0), "t2");
    const mcz_cut_info *c = mcz_partition_cut(pt, 0);
    ck_assert(c->tensors[0].bytes_known);
    ck_assert_uint_eq(c->tensors[0].bytes, 40);
    ck_assert_uint_eq(c->known_bytes, 40);
    ck_assert_uint_eq(c->n_unknown, 0);
    ck_assert_int_eq(c->tensors[0].rank, 2);
    ck_assert_int_eq(c->tensors[0].dims[1], 10);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(symbolic_dims_are_reported_but_give_no_bytes)
{
    begin();
    in("x", "N,4");
    weight("w0", 100);
    weight("w1", 100);
    node("MatMul", "a", "x,w0", "t");
    node("MatMul", "b", "t,w1", "y");
    declare("t", "N,64");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    const mcz_cut_info *c = mcz_partition_cut(pt, 0);
    ck_assert_uint_eq(c->n_tensors, 1);
    ck_assert(!c->tensors[0].bytes_known);
    ck_assert_uint_eq(c->n_unknown, 1);
    ck_assert_int_eq(c->tensors[0].dims[0], -1);
    ck_assert_str_eq(c->tensors[0].dim_names[0], "N");
    ck_assert_int_eq(c->tensors[0].dims[1], 64);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_tensor_of_unknown_element_type_never_crosses)
{
    /* b is a custom op: its output u has no known type, so the cut goes after a even though
       after b is more even */
    begin();
    in("x", "1,4");
    weight("w0", 10);
    weight("w1", 100);
    weight("w2", 100);
    node("MatMul", "a", "x,w0", "t");
    Onnx__NodeProto *b = node("Custom", "b", "t,w1", "u");
    b->domain = tm_str("com.example");
    node("MatMul", "c", "u,w2", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    ck_assert_str_eq(cut_names(pt, 0), "t");
    mcz_partition_free(pt);
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    const char *cuts[] = {"u"};
    p.cuts = cuts;
    p.ncuts = 1;
    plan_refused(m, &p, MCZ_ERR_ARG, "cannot pass 'u' between parts: its element type is unknown");
    mcz_model_free(m);
}
END_TEST

START_TEST(balancing_nodes_evens_node_counts_whatever_the_weights)
{
    begin();
    in("x", "1,4");
    weight("big", 10000);
    node("MatMul", "n0", "x,big", "t0");
    for (int i = 1; i < 8; i++)
        node("Relu", tm_printf("n%d", i), tm_printf("t%d", i - 1),
             tm_printf(i == 7 ? "y" : "t%d", i));
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    p.parts = 2;
    p.balance = MCZ_BALANCE_NODES;
    mcz_partition *pt = plan(m, &p);
    ck_assert_uint_eq(mcz_partition_part(pt, 0)->nodes, 4);
    ck_assert_uint_eq(mcz_partition_part(pt, 1)->nodes, 4);
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert(s.bound_met);
    ck_assert(s.node_balance_ratio == 1.0);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(max_bytes_gives_the_fewest_parts_each_under_it)
{
    matmul_chain(6, 250); /* 1000 bytes each */
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    p.parts = 0;
    p.max_bytes = 2500;
    mcz_partition *pt = plan(m, &p);
    ck_assert_uint_eq(mcz_partition_count(pt), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_le(mcz_partition_part(pt, i)->weight_bytes, 2500);
    mcz_partition_free(pt);
    p.max_bytes = 1000;
    pt = plan(m, &p);
    ck_assert_uint_eq(mcz_partition_count(pt), 6);
    mcz_partition_free(pt);
    p.max_bytes = 999;
    plan_refused(m, &p, MCZ_ERR_ARG, "node m0 holds 1000 bytes of weights, more than --max-bytes 999");
    mcz_model_free(m);
}
END_TEST

START_TEST(more_parts_than_nodes_is_refused)
{
    matmul_chain(3, 10);
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    p.parts = 4;
    plan_refused(m, &p, MCZ_ERR_ARG, "cannot make 4 parts: the main graph has 3 nodes to place");
    mcz_model_free(m);
}
END_TEST

START_TEST(a_weight_over_the_bound_is_named_in_the_report)
{
    begin();
    in("x", "1,4");
    weight("huge", 1000);
    weight("w1", 100);
    weight("w2", 100);
    node("MatMul", "a", "x,huge", "t");
    node("MatMul", "b", "t,w1", "u");
    node("MatMul", "c", "u,w2", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert(!s.bound_met);
    ck_assert_ptr_nonnull(s.why_not_balanced);
    ck_assert_msg(strstr(s.why_not_balanced, "weight 'huge' alone is 4000 bytes"), "%s",
                  s.why_not_balanced);
    /* the rest is still as even as it can be: huge alone, the others together */
    ck_assert_uint_eq(mcz_partition_part(pt, 0)->weight_bytes, 4000);
    ck_assert_str_eq(s.largest_weight, "huge");
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(indivisible_weights_explain_a_missed_bound)
{
    /* five equal weights in four parts: some part holds two (2/1.25 > 1.25) */
    matmul_chain(5, 100);
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 4);
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert(!s.bound_met);
    ck_assert_uint_eq(s.largest_part_bytes, 800);
    ck_assert_msg(strstr(s.why_not_balanced, "largest part of 800 bytes"), "%s",
                  s.why_not_balanced);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

/* ---- what parts hold, take and give -------------------------------------------------- */

START_TEST(a_weight_read_on_both_sides_is_held_by_both_parts)
{
    begin();
    in("x", "1,4");
    weight("shared", 100);
    weight("w1", 100);
    weight("w2", 100);
    node("MatMul", "a", "x,shared", "t");
    node("MatMul", "b", "t,w1", "u");
    node("MatMul", "c", "u,w2", "v");
    node("Add", "d", "v,shared", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    long sh = mcz_model_find_weight(m, "shared");
    for (size_t k = 0; k < 2; k++) {
        const mcz_part_info *p = mcz_partition_part(pt, k);
        int has = 0;
        for (size_t i = 0; i < p->n_weights; i++)
            has |= p->weights[i] == (size_t)sh;
        ck_assert_msg(has, "part %zu does not hold the shared weight", k);
    }
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert_uint_eq(s.copied_weight_bytes, 400);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(constant_nodes_are_copied_into_each_part_that_reads_them)
{
    begin();
    in("x", "1,4");
    constant("k", "kv", 50);
    weight("w0", 100);
    weight("w1", 100);
    node("MatMul", "a", "x,w0", "t");
    node("Add", "b", "t,kv", "u");
    node("MatMul", "c", "u,w1", "v");
    node("Mul", "d", "v,kv", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    const char *cuts[] = {"u"};
    p.cuts = cuts;
    p.ncuts = 1;
    mcz_partition *pt = plan(m, &p);
    for (size_t k = 0; k < 2; k++) {
        const mcz_part_info *pi = mcz_partition_part(pt, k);
        ck_assert_uint_eq(pi->nodes, 3);        /* two placed + the Constant */
        ck_assert_uint_eq(pi->placed_nodes, 2);
        ck_assert_uint_eq(pi->weight_bytes, 600); /* its weight + the constant */
        ck_assert_str_eq(joined(pi->inputs, pi->n_inputs), k ? "u" : "x");
    }
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert_uint_eq(s.copied_weight_bytes, 200);
    mcz_partition_free(pt);
    /* left to itself the plan cuts where nothing is copied: both readers of kv together */
    pt = plan_k(m, 2);
    ck_assert_str_eq(cut_names(pt, 0), "t");
    mcz_partition_get_summary(pt, &s);
    ck_assert_uint_eq(s.copied_weight_bytes, 0);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(nodes_computing_from_weights_only_go_with_their_readers)
{
    /* wf = DequantizeLinear(wq, scale) then Cast: read on both sides of the cut, the chain is
       copied into both parts with its weights, and never passed between them */
    begin();
    in("x", "1,4");
    tm_add_initializer(G, tm_raw("wq", 3, 1, TM_DIMS(16), tm_pattern(16, 7), 16));
    weight("scale", 1);
    node("DequantizeLinear", "dq", "wq,scale", "wd");
    node("Cast", "cast", "wd", "wf");
    node("MatMul", "a", "x,wf", "t");
    node("Relu", "b", "t", "u");
    node("MatMul", "c", "u,wf", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    const char *cuts[] = {"t"};
    p.cuts = cuts;
    p.ncuts = 1;
    mcz_partition *pt = plan(m, &p);
    for (size_t k = 0; k < 2; k++) {
        const mcz_part_info *pi = mcz_partition_part(pt, k);
        ck_assert_uint_eq(pi->weight_bytes, 20); /* wq (16 int8) + scale (1 float) */
        ck_assert_uint_eq(pi->n_weights, 2);
        ck_assert_uint_eq(pi->nodes, pi->placed_nodes + 2);
    }
    ck_assert_str_eq(joined(mcz_partition_part(pt, 1)->inputs, mcz_partition_part(pt, 1)->n_inputs), "t");
    mcz_partition_free(pt);
    /* the plan never cuts inside the chain, and a cut there is refused */
    pt = plan_k(m, 2);
    for (size_t k = 0; k < 2; k++)
        ck_assert_uint_ge(mcz_partition_part(pt, k)->placed_nodes, 1);
    ck_assert_ptr_null(strstr(cut_names(pt, 0), "wf"));
    ck_assert_ptr_null(strstr(cut_names(pt, 0), "wd"));
    mcz_partition_free(pt);
    cuts[0] = "wf";
    plan_refused(m, &p, MCZ_ERR_ARG, "'wf' is computed from weights only (node cast)");
    mcz_model_free(m);
}
END_TEST

START_TEST(skip_tensors_are_carried_to_the_part_that_needs_them)
{
    /* s is made in part 0 and read by the last node, in part 2: it crosses both cuts
       (parts [a] [b] [c d], 400 bytes each) */
    begin();
    in("x", "1,4");
    for (int i = 0; i < 3; i++)
        weight(tm_printf("w%d", i), 100);
    node("MatMul", "a", "x,w0", "s");
    node("MatMul", "b", "s,w1", "t");
    node("MatMul", "c", "t,w2", "u");
    node("Add", "d", "u,s", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 3);
    ck_assert_str_eq(cut_names(pt, 0), "s");
    ck_assert_str_eq(cut_names(pt, 1), "s,t");
    const mcz_part_info *p0 = mcz_partition_part(pt, 0), *p2 = mcz_partition_part(pt, 2);
    ck_assert_str_eq(joined(p0->outputs, p0->n_outputs), "s");
    ck_assert_str_eq(joined(p2->inputs, p2->n_inputs), "s,t");
    ck_assert_str_eq(joined(p2->outputs, p2->n_outputs), "y");
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_node_with_subgraphs_stays_whole_with_its_weights_and_outer_reads)
{
    /* h = Relu(MatMul(x, w0)); y = If(cond) { z = Add(h, wo); z2 = Mul(z, wi) } else { h }
       wi is the branch's own weight, wo a main initializer the branch reads */
    begin();
    in("x", "1,4");
    in("cond", NULL);
    G->input[1]->type->tensor_type->elem_type = 9;
    weight("w0", 100);
    weight("wo", 200);
    node("MatMul", "mm", "x,w0", "t");
    node("Relu", "relu", "t", "h");
    Onnx__NodeProto *iff = node("If", "if", "cond", "y");
    Onnx__GraphProto *th = tm_graph("then");
    weight_in(th, "wi", 300);
    node_in(th, "Add", "add", "h,wo", "z");
    node_in(th, "Mul", "mul", "z,wi", "z2");
    TM_PUSH(th->output, th->n_output, tvi("z2", 1, NULL));
    Onnx__GraphProto *el = tm_graph("else");
    TM_PUSH(el->output, el->n_output, tvi("h", 1, NULL));
    tm_attr_graph(iff, "then_branch", th);
    tm_attr_graph(iff, "else_branch", el);
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    const char *cuts[] = {"h"};
    p.cuts = cuts;
    p.ncuts = 1;
    mcz_partition *pt = plan(m, &p);
    const mcz_part_info *p1 = mcz_partition_part(pt, 1);
    ck_assert_uint_eq(p1->placed_nodes, 1);
    ck_assert_str_eq(joined(p1->inputs, p1->n_inputs), "cond,h");
    ck_assert_uint_eq(p1->weight_bytes, 2000); /* wi (subgraph) + wo (outer read) */
    ck_assert_uint_eq(mcz_partition_part(pt, 0)->weight_bytes, 400);
    /* the If's output type comes from its branch */
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(nodes_no_output_needs_are_dropped)
{
    /* dead1 -> dead2 read y's inputs but nothing reads them: no part holds them, so no part
       is left with nothing to give */
    matmul_chain(4, 100);
    node("Relu", "dead1", "t2", "d1");
    node("Neg", "dead2", "d1", "d2");
    mcz_model *m = load_model();
    for (size_t k = 2; k <= 4; k++) {
        mcz_partition *pt = plan_k(m, k);
        size_t placed = 0;
        for (size_t i = 0; i < k; i++) {
            const mcz_part_info *pi = mcz_partition_part(pt, i);
            placed += pi->placed_nodes;
            ck_assert_uint_ge(pi->n_outputs, 1);
        }
        ck_assert_uint_eq(placed, 4);
        mcz_partition_free(pt);
    }
    mcz_model_free(m);
}
END_TEST

START_TEST(a_model_with_a_cycle_is_refused_naming_a_node_on_it)
{
    begin();
    in("x", "1,4");
    node("Add", "p", "x,r", "q");
    node("Relu", "r1", "q", "r");
    node("Relu", "tail", "r", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_partition_plan(m, &p, &err));
    expect_status(err.code, MCZ_ERR_FORMAT, &err);
    ck_assert_msg(strstr(err.msg, "cycle through node p ") || strstr(err.msg, "cycle through node r1 "),
                  "%s", err.msg);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_value_nothing_makes_is_refused)
{
    begin();
    in("x", "1,4");
    node("Add", "a", "x,ghost", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    plan_refused(m, &p, MCZ_ERR_FORMAT, "node a reads 'ghost'");
    mcz_model_free(m);
}
END_TEST

START_TEST(given_cuts_split_there_and_group_with_commas)
{
    begin();
    in("x", "1,4");
    for (int i = 0; i < 3; i++)
        weight(tm_printf("w%d", i), 100);
    node("MatMul", "a", "x,w0", "s");
    node("MatMul", "b", "s,w1", "t");
    node("MatMul", "c", "t,w2", "u");
    node("Add", "d", "u,s", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    const char *one[] = {"t,s"};
    p.cuts = one;
    p.ncuts = 1;
    mcz_partition *pt = plan(m, &p);
    ck_assert_uint_eq(mcz_partition_count(pt), 2);
    ck_assert_str_eq(cut_names(pt, 0), "s,t");
    mcz_partition_summary s;
    mcz_partition_get_summary(pt, &s);
    ck_assert_uint_eq(mcz_partition_part(pt, 0)->placed_nodes, 2);
    mcz_partition_free(pt);
    const char *two[] = {"s", "t"};
    p.cuts = two;
    p.ncuts = 2;
    pt = plan(m, &p);
    ck_assert_uint_eq(mcz_partition_count(pt), 3);
    mcz_partition_free(pt);
    const char *bad[] = {"t"};
    p.cuts = bad;
    p.ncuts = 1;
    plan_refused(m, &p, MCZ_ERR_ARG, "test.onnx: not a cut: node d after it still needs s");
    mcz_model_free(m);
}
END_TEST

/* ---- the manifest, the parts as ONNX, the folder ------------------------------------- */

START_TEST(the_manifest_has_the_design_format)
{
    matmul_chain(2, 10);
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    char *j = mcz_partition_manifest(pt);
    ck_assert_str_eq(j,
                     "{\"format\": \"mcz-partition\", \"version\": 1,\n"
                     " \"inputs\": [\"x\"], \"outputs\": [\"y\"],\n"
                     " \"parts\": [{\"file\": \"part-000.onnx\", \"inputs\": [\"x\"], "
                     "\"outputs\": [\"t0\"],\n"
                     "            \"weight_bytes\": 40, \"nodes\": 1},\n"
                     "           {\"file\": \"part-001.onnx\", \"inputs\": [\"t0\"], "
                     "\"outputs\": [\"y\"],\n"
                     "            \"weight_bytes\": 40, \"nodes\": 1}]}\n");
    free(j);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(names_are_escaped_in_the_manifest)
{
    begin();
    in("x\"q", "1,4");
    weight("w", 10);
    node("MatMul", "a", "x\"q,w", "t\\1");
    node("Relu", "b", "t\\1", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    char *j = mcz_partition_manifest(pt);
    ck_assert_ptr_nonnull(strstr(j, "\"inputs\": [\"x\\\"q\"]"));
    ck_assert_ptr_nonnull(strstr(j, "[\"t\\\\1\"]"));
    free(j);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

static mcz_model *load_file(const char *path)
{
    mcz_error err = {0};
    mcz_model *m = mcz_model_load_onnx(path, &err);
    ck_assert_msg(m != NULL, "%s: %s", path, err.msg);
    return m;
}

static int32_t elem_of(const Onnx__ValueInfoProto *v)
{
    return v->type && v->type->tensor_type ? v->type->tensor_type->elem_type : 0;
}

START_TEST(every_part_is_a_model_with_typed_inputs_and_outputs)
{
    /* t is undeclared: its type is inferred (MatMul of float) */
    begin();
    in("x", "N,4");
    weight("w0", 16);
    constant("k", "kv", 4);
    weight("w1", 16);
    node("MatMul", "a", "x,w0", "t");
    node("Shape", "sh", "t", "s");       /* int64, crosses too */
    node("Add", "b", "t,kv", "u");
    node("Reshape", "c", "u,s", "v");
    node("MatMul", "d", "v,w1", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition_params p;
    mcz_partition_default_params(&p);
    const char *cuts[] = {"t,s"};
    p.cuts = cuts;
    p.ncuts = 1;
    mcz_partition *pt = plan(m, &p);
    char *dir = td_new(), *parts = td_path(dir, "parts");
    mcz_error err = {0};
    expect_ok(mcz_partition_write_folder(pt, parts, 0, &err), &err);
    mcz_model *p0 = load_file(td_path(parts, "part-000.onnx"));
    mcz_model *p1 = load_file(td_path(parts, "part-001.onnx"));
    const Onnx__GraphProto *g0 = p0->proto->graph, *g1 = p1->proto->graph;
    ck_assert_uint_eq(g0->n_input, 1);
    ck_assert_str_eq(g0->input[0]->name, "x");
    ck_assert_ptr_nonnull(g0->input[0]->type->tensor_type->shape); /* the model's declaration */
    ck_assert_uint_eq(g0->n_output, 2);
    ck_assert_str_eq(g0->output[0]->name, "t");
    ck_assert_int_eq(elem_of(g0->output[0]), 1);
    ck_assert_str_eq(g0->output[1]->name, "s");
    ck_assert_int_eq(elem_of(g0->output[1]), 7);
    ck_assert_uint_eq(g1->n_input, 2);
    ck_assert_int_eq(elem_of(g1->input[0]), 1);
    ck_assert_int_eq(elem_of(g1->input[1]), 7);
    ck_assert_uint_eq(g1->n_node, 4); /* the Constant copy, b, c, d */
    ck_assert_str_eq(g1->node[0]->op_type, "Constant");
    ck_assert_uint_eq(g0->n_initializer, 1);
    ck_assert_uint_eq(g1->n_initializer, 1);
    ck_assert_str_eq(g1->initializer[0]->name, "w1");
    /* opsets and IR version copied; which part this is, in the metadata */
    ck_assert_uint_eq(p1->proto->n_opset_import, 1);
    ck_assert_int_eq(p1->proto->opset_import[0]->version, 17);
    ck_assert_int_eq(p1->proto->ir_version, m->proto->ir_version);
    const Onnx__StringStringEntryProto *meta = p1->proto->metadata_props[p1->proto->n_metadata_props - 1];
    ck_assert_str_eq(meta->key, "mcz.part");
    ck_assert_str_eq(meta->value, "2/2");
    /* the weights arrived whole */
    ck_assert_uint_eq(mcz_model_weight_count(p1), 2);
    long w1 = mcz_model_find_weight(p1, "w1");
    ck_assert_int_ge(w1, 0);
    const void *d = mcz_model_weight_data(p1, (size_t)w1, &err);
    ck_assert_mem_eq(d, mcz_model_weight_data(m, (size_t)mcz_model_find_weight(m, "w1"), &err), 64);
    /* the source model is as it was */
    ck_assert_uint_eq(m->proto->graph->n_node, 6);
    ck_assert_uint_eq(m->proto->graph->n_input, 1);
    mcz_model_free(p0);
    mcz_model_free(p1);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

static int entries_with(const char *dir, const char *sub)
{
    return td_count(dir, sub);
}

START_TEST(an_existing_folder_is_refused_unless_empty_or_forced_and_ours)
{
    matmul_chain(4, 10);
    mcz_model *m = load_model();
    mcz_partition *p4 = plan_k(m, 4), *p2 = plan_k(m, 2);
    char *dir = td_new(), *parts = td_path(dir, "parts");
    mcz_error err = {0};
    /* an empty folder is used */
    ck_assert_int_eq(mkdir(parts, 0755), 0);
    expect_ok(mcz_partition_write_folder(p4, parts, 0, &err), &err);
    ck_assert_int_eq(entries_with(parts, "part-"), 4);
    /* a folder with parts in it needs force */
    expect_status(mcz_partition_write_folder(p2, parts, 0, &err), MCZ_ERR_EXISTS, &err);
    expect_msg_has(&err, "use -f");
    ck_assert_int_eq(entries_with(parts, "part-"), 4);
    /* forced: the old parts are all gone, the new ones in place */
    expect_ok(mcz_partition_write_folder(p2, parts, 1, &err), &err);
    ck_assert_int_eq(entries_with(parts, "part-"), 2);
    ck_assert(!td_exists(td_path(parts, "part-002.onnx")));
    size_t len;
    char *man = (char *)td_read(td_path(parts, "manifest.json"), &len);
    ck_assert_ptr_nonnull(strstr(man, "part-001.onnx"));
    ck_assert_ptr_null(strstr(man, "part-002.onnx"));
    /* a folder holding something else is not replaced, even forced */
    td_write(td_path(parts, "notes.txt"), "mine", 4);
    expect_status(mcz_partition_write_folder(p4, parts, 1, &err), MCZ_ERR_EXISTS, &err);
    expect_msg_has(&err, "'notes.txt'");
    ck_assert(td_exists(td_path(parts, "notes.txt")));
    /* a file in the way */
    char *file = td_path(dir, "file");
    td_write(file, "x", 1);
    expect_status(mcz_partition_write_folder(p2, file, 1, &err), MCZ_ERR_EXISTS, &err);
    expect_msg_has(&err, "not a folder");
    /* no temporary folder is left behind by any of this */
    ck_assert_int_eq(entries_with(dir, ".tmp-"), 0);
    mcz_partition_free(p4);
    mcz_partition_free(p2);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_failed_write_leaves_no_folder_and_no_temporary)
{
    matmul_chain(2, 10);
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    char *dir = td_new(), *parts = td_path(dir, "missing/parts");
    mcz_error err = {0};
    ck_assert_int_ne(mcz_partition_write_folder(pt, parts, 0, &err), MCZ_OK);
    ck_assert(!td_exists(parts));
    ck_assert_int_eq(entries_with(dir, ".tmp-"), 0);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(a_trailing_slash_names_the_same_folder)
{
    matmul_chain(2, 10);
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    char *dir = td_new(), *parts = tm_printf("%s/parts//", dir);
    mcz_error err = {0};
    expect_ok(mcz_partition_write_folder(pt, parts, 0, &err), &err);
    ck_assert(td_exists(td_path(dir, "parts/part-001.onnx")));
    ck_assert(td_exists(td_path(dir, "parts/manifest.json")));
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

START_TEST(skeletons_name_weights_by_their_index_in_the_whole_model)
{
    begin();
    in("x", "1,4");
    weight("shared", 100);
    weight("w1", 100);
    weight("w2", 100);
    node("MatMul", "a", "x,shared", "t");
    node("MatMul", "b", "t,w1", "u");
    node("MatMul", "c", "u,w2", "v");
    node("Add", "d", "v,shared", "y");
    out("y");
    mcz_model *m = load_model();
    mcz_partition *pt = plan_k(m, 2);
    mcz_error err = {0};
    for (size_t k = 0; k < 2; k++) {
        uint8_t *buf;
        size_t len;
        expect_ok(mcz_partition_serialize_part_skeleton(pt, k, &buf, &len, &err), &err);
        Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
        ck_assert_ptr_nonnull(mp);
        const Onnx__GraphProto *g = mp->graph;
        ck_assert_uint_eq(g->n_initializer, 2);
        for (size_t i = 0; i < g->n_initializer; i++) {
            const Onnx__TensorProto *t = g->initializer[i];
            uint64_t idx;
            ck_assert(mcz_marker_parse(t->raw_data.data, t->raw_data.len, &idx));
            ck_assert_int_eq((long)idx, mcz_model_find_weight(m, t->name));
        }
        onnx__model_proto__free_unpacked(mp, NULL);
        free(buf);
    }
    /* the model keeps its values */
    const void *raw = mcz_model_weight_data(m, (size_t)mcz_model_find_weight(m, "shared"), &err);
    float v[2];
    memcpy(v, raw, sizeof v); /* the data may be unaligned: it points into the file */
    ck_assert(v[0] == 0.5f && v[1] == 0.75f);
    /* and a full serialization of a part loads with the values */
    uint8_t *buf;
    size_t len;
    expect_ok(mcz_partition_serialize_part(pt, 1, &buf, &len, &err), &err);
    mcz_model *p1 = mcz_model_load_onnx_buffer(buf, len, "part1", &err);
    ck_assert_ptr_nonnull(p1);
    const float *s = mcz_model_weight_data(p1, (size_t)mcz_model_find_weight(p1, "shared"), &err);
    ck_assert(s[0] == 0.5f && s[99] == 0.5f + 99 * 0.25f);
    mcz_model_free(p1);
    mcz_partition_free(pt);
    mcz_model_free(m);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("where");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, equal_weights_along_a_chain_are_split_evenly);
    tcase_add_test(tc, a_cut_where_one_tensor_crosses_is_preferred_to_a_more_even_one);
    tcase_add_test(tc, declared_shapes_make_the_smaller_tensor_the_cut);
    tcase_add_test(tc, symbolic_dims_are_reported_but_give_no_bytes);
    tcase_add_test(tc, a_tensor_of_unknown_element_type_never_crosses);
    tcase_add_test(tc, balancing_nodes_evens_node_counts_whatever_the_weights);
    tcase_add_test(tc, max_bytes_gives_the_fewest_parts_each_under_it);
    tcase_add_test(tc, more_parts_than_nodes_is_refused);
    tcase_add_test(tc, a_weight_over_the_bound_is_named_in_the_report);
    tcase_add_test(tc, indivisible_weights_explain_a_missed_bound);
    suite_add_tcase(s, tc);

    tc = tcase_create("parts");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, a_weight_read_on_both_sides_is_held_by_both_parts);
    tcase_add_test(tc, constant_nodes_are_copied_into_each_part_that_reads_them);
    tcase_add_test(tc, nodes_computing_from_weights_only_go_with_their_readers);
    tcase_add_test(tc, skip_tensors_are_carried_to_the_part_that_needs_them);
    tcase_add_test(tc, a_node_with_subgraphs_stays_whole_with_its_weights_and_outer_reads);
    tcase_add_test(tc, nodes_no_output_needs_are_dropped);
    tcase_add_test(tc, a_model_with_a_cycle_is_refused_naming_a_node_on_it);
    tcase_add_test(tc, a_value_nothing_makes_is_refused);
    tcase_add_test(tc, given_cuts_split_there_and_group_with_commas);
    suite_add_tcase(s, tc);

    tc = tcase_create("output");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, the_manifest_has_the_design_format);
    tcase_add_test(tc, names_are_escaped_in_the_manifest);
    tcase_add_test(tc, every_part_is_a_model_with_typed_inputs_and_outputs);
    tcase_add_test(tc, an_existing_folder_is_refused_unless_empty_or_forced_and_ours);
    tcase_add_test(tc, a_failed_write_leaves_no_folder_and_no_temporary);
    tcase_add_test(tc, a_trailing_slash_names_the_same_folder);
    tcase_add_test(tc, skeletons_name_weights_by_their_index_in_the_whole_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(plan_suite());
    td_root_make();
    srunner_run_all(sr, CK_NORMAL);
    td_root_remove();
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
