/* partwrite.c - the parts of a plan as ONNX models, the manifest, the partition folder.
 *
 * A part is built as a shell around the model's own protobuf tree: a ModelProto and GraphProto
 * whose arrays point at the model's nodes, initializers and declarations (nothing is copied),
 * plus the few ValueInfoProtos the part needs that the model does not declare. The shell is
 * packed (or handed to the ONNX writer through a model whose weight table holds the part's
 * weights) and then taken apart again; the model's tree is never changed for longer than a
 * write, so parts are written one at a time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcz/outfile.h"
#include "onnx/model_impl.h"
#include "partition/partition_impl.h"


typedef struct shell {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__ValueInfoProto *made;          /* declarations made for undeclared values */
    Onnx__TypeProto *made_types;
    Onnx__TypeProto__Tensor *made_tensors;
    size_t nmade;
    Onnx__StringStringEntryProto meta;   /* mcz.part = "i/K" */
    char meta_value[48];
    char *name;
} shell;

static void shell_free(shell *sh)
{
    free(sh->graph.node);
    free(sh->graph.initializer);
    free(sh->graph.sparse_initializer);
    free(sh->graph.input);
    free(sh->graph.output);
    free(sh->graph.value_info);
    free(sh->graph.quantization_annotation);
    free(sh->model.metadata_props);
    free(sh->made);
    free(sh->made_types);
    free(sh->made_tensors);
    free(sh->name);
    memset(sh, 0, sizeof *sh);
}

/* A declaration for value v: the model's, or one made with its element type. */
static Onnx__ValueInfoProto *declare(const mcz_partition *P, shell *sh, size_t v)
{
    if (P->vt[v].decl)
        return (Onnx__ValueInfoProto *)P->vt[v].decl;
    size_t i = sh->nmade++;
    Onnx__ValueInfoProto *vi = &sh->made[i];
    Onnx__TypeProto *tp = &sh->made_types[i];
    Onnx__TypeProto__Tensor *tt = &sh->made_tensors[i];
    onnx__value_info_proto__init(vi);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = P->vt[v].elem;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->name = (char *)mcz_graph_value_at(P->g, v)->name;
    vi->type = tp;
    return vi;
}

static mcz_status shell_build(const mcz_partition *P, size_t k, shell *sh, mcz_error *err)
{
    const part_rec *r = &P->parts[k];
    const Onnx__ModelProto *mp = P->m->proto;
    const Onnx__GraphProto *mg = mp->graph;
    memset(sh, 0, sizeof *sh);
    sh->model = *mp;
    sh->graph = *mg;
    sh->model.graph = &sh->graph;
    /* every array below is the shell's own (shell_free frees them); none is the model's */
    sh->graph.node = NULL;
    sh->graph.initializer = NULL;
    sh->graph.sparse_initializer = NULL;
    sh->graph.input = NULL;
    sh->graph.output = NULL;
    sh->graph.value_info = NULL;
    sh->graph.quantization_annotation = NULL;
    sh->model.metadata_props = NULL;
    sh->model.n_training_info = 0;
    sh->model.training_info = NULL;
    size_t nio = r->pub.n_inputs + r->pub.n_outputs;
    const char *gname = mg->name ? mg->name : "graph";
    size_t namelen = strlen(gname) + 64;
    sh->name = malloc(namelen);
    sh->graph.node = malloc((r->nnodes + 1) * sizeof *sh->graph.node);
    sh->graph.initializer = malloc((r->ninits + 1) * sizeof *sh->graph.initializer);
    sh->graph.sparse_initializer = malloc((r->nsparse + 1) * sizeof *sh->graph.sparse_initializer);
    sh->graph.input = malloc((r->pub.n_inputs + 1) * sizeof *sh->graph.input);
    sh->graph.output = malloc((r->pub.n_outputs + 1) * sizeof *sh->graph.output);
    sh->graph.value_info = malloc((mg->n_value_info + 1) * sizeof *sh->graph.value_info);
    sh->model.metadata_props = malloc((mp->n_metadata_props + 1) * sizeof *sh->model.metadata_props);
    sh->made = malloc((nio + 1) * sizeof *sh->made);
    sh->made_types = malloc((nio + 1) * sizeof *sh->made_types);
    sh->made_tensors = malloc((nio + 1) * sizeof *sh->made_tensors);
    if (!sh->name || !sh->graph.node || !sh->graph.initializer || !sh->graph.sparse_initializer ||
        !sh->graph.input || !sh->graph.output || !sh->graph.value_info ||
        !sh->model.metadata_props || !sh->made || !sh->made_types || !sh->made_tensors) {
        shell_free(sh);
        return NOMEM(err);
    }
    snprintf(sh->name, namelen, "%s (part %zu of %zu)", gname, k + 1, P->K);
    sh->graph.name = sh->name;
    for (size_t i = 0; i < r->nnodes; i++)
        sh->graph.node[i] = mg->node[r->nodes[i]];
    sh->graph.n_node = r->nnodes;
    for (size_t i = 0; i < r->ninits; i++)
        sh->graph.initializer[i] = mg->initializer[r->inits[i]];
    sh->graph.n_initializer = r->ninits;
    for (size_t i = 0; i < r->nsparse; i++)
        sh->graph.sparse_initializer[i] = mg->sparse_initializer[r->sparse[i]];
    sh->graph.n_sparse_initializer = r->nsparse;
    for (size_t i = 0; i < r->pub.n_inputs; i++)
        sh->graph.input[i] = declare(P, sh, r->in_ids[i]);
    sh->graph.n_input = r->pub.n_inputs;
    for (size_t i = 0; i < r->pub.n_outputs; i++)
        sh->graph.output[i] = declare(P, sh, r->out_ids[i]);
    sh->graph.n_output = r->pub.n_outputs;
    /* the model's value_info for values made inside the part (not its outputs), and its
       quantization annotations of the part's tensors */
    enum { OUTSIDE = 0, INSIDE, IO };
    uint8_t *where = calloc(P->nv + 1, 1);
    sh->graph.quantization_annotation =
        malloc((mg->n_quantization_annotation + 1) * sizeof *sh->graph.quantization_annotation);
    if (!where || !sh->graph.quantization_annotation) {
        free(where);
        shell_free(sh);
        return NOMEM(err);
    }
    for (size_t j = 0; j < r->nnodes; j++) {
        const mcz_graph_node *n = mcz_graph_node_at(P->g, r->nodes[j]);
        for (size_t q = 0; q < n->n_outputs; q++)
            where[n->outputs[q]] = INSIDE;
    }
    for (size_t j = 0; j < r->ninits; j++) {
        long v = mcz_graph_find_value(P->g, mg->initializer[r->inits[j]]->name);
        if (v >= 0)
            where[v] = INSIDE;
    }
    for (size_t j = 0; j < r->pub.n_inputs; j++)
        where[r->in_ids[j]] = IO;
    for (size_t j = 0; j < r->pub.n_outputs; j++)
        where[r->out_ids[j]] = IO;
    sh->graph.n_value_info = 0;
    for (size_t i = 0; i < mg->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = mg->value_info[i];
        long v = vi->name ? mcz_graph_find_value(P->g, vi->name) : -1;
        if (v >= 0 && where[v] == INSIDE &&
            mcz_graph_value_at(P->g, (size_t)v)->kind == MCZ_VALUE_ACTIVATION)
            sh->graph.value_info[sh->graph.n_value_info++] = mg->value_info[i];
    }
    sh->graph.n_quantization_annotation = 0;
    for (size_t i = 0; i < mg->n_quantization_annotation; i++) {
        const Onnx__TensorAnnotation *a = mg->quantization_annotation[i];
        long v = a->tensor_name ? mcz_graph_find_value(P->g, a->tensor_name) : -1;
        if (v >= 0 && where[v] != OUTSIDE)
            sh->graph.quantization_annotation[sh->graph.n_quantization_annotation++] =
                mg->quantization_annotation[i];
    }
    free(where);
    /* metadata: the model's, and which part this is */
    for (size_t i = 0; i < mp->n_metadata_props; i++)
        sh->model.metadata_props[i] = mp->metadata_props[i];
    onnx__string_string_entry_proto__init(&sh->meta);
    snprintf(sh->meta_value, sizeof sh->meta_value, "%zu/%zu", k + 1, P->K);
    sh->meta.key = (char *)"mcz.part";
    sh->meta.value = sh->meta_value;
    sh->model.metadata_props[mp->n_metadata_props] = &sh->meta;
    sh->model.n_metadata_props = mp->n_metadata_props + 1;
    return MCZ_OK;
}

/* A model around the shell whose weight table holds the part's weights (copies of the rows:
 * the tensors are the model's). */
static mcz_status part_model(mcz_partition *P, size_t k, shell *sh, mcz_model *pm,
                             const char *path, mcz_error *err)
{
    const part_rec *r = &P->parts[k];
    memset(pm, 0, sizeof *pm);
    pm->path = (char *)path;
    pm->proto = &sh->model;
    pm->w = malloc((r->pub.n_weights + 1) * sizeof *pm->w);
    if (!pm->w)
        return NOMEM(err);
    for (size_t i = 0; i < r->pub.n_weights; i++)
        pm->w[i] = P->m->w[r->pub.weights[i]];
    pm->nw = pm->capw = r->pub.n_weights;
    return MCZ_OK;
}

/* Undo part_model: buffers the write converted into the copies are the copies' own. */
static void part_model_done(mcz_partition *P, size_t k, mcz_model *pm)
{
    const part_rec *r = &P->parts[k];
    for (size_t i = 0; i < pm->nw; i++)
        if (pm->w[i].owned && pm->w[i].owned != P->m->w[r->pub.weights[i]].owned)
            free(pm->w[i].owned);
    free(pm->w);
}

/* Part i as a model of its own, handed to `emit` (save or serialize), then taken apart. */
typedef mcz_status (*part_emit)(mcz_model *pm, void *ctx, mcz_error *err);

static mcz_status with_part_model(mcz_partition *P, size_t i, const char *path, part_emit emit,
                                  void *ctx, mcz_error *err)
{
    if (i >= P->K)
        return mcz_seterr(err, MCZ_ERR_ARG, "no part %zu (%zu parts)", i, P->K);
    shell sh;
    mcz_model pm;
    mcz_status s = shell_build(P, i, &sh, err);
    if (s)
        return s;
    if (!(s = part_model(P, i, &sh, &pm, path, err))) {
        s = emit(&pm, ctx, err);
        part_model_done(P, i, &pm);
    }
    shell_free(&sh);
    return s;
}

typedef struct save_args {
    const char *path;
    const mcz_save_opts *opts;
} save_args;

static mcz_status emit_save(mcz_model *pm, void *ctx, mcz_error *err)
{
    const save_args *a = ctx;
    return mcz_model_save_onnx(pm, a->path, a->opts, err);
}

typedef struct serialize_args {
    uint8_t **out;
    size_t *out_len;
} serialize_args;

static mcz_status emit_serialize(mcz_model *pm, void *ctx, mcz_error *err)
{
    const serialize_args *a = ctx;
    return mcz_model_serialize(pm, a->out, a->out_len, err);
}

mcz_status mcz_partition_save_part(mcz_partition *P, size_t i, const char *path,
                                   const mcz_save_opts *opts, mcz_error *err)
{
    save_args a = {path, opts};
    return with_part_model(P, i, path, emit_save, &a, err);
}

mcz_status mcz_partition_serialize_part(mcz_partition *P, size_t i, uint8_t **out,
                                        size_t *out_len, mcz_error *err)
{
    serialize_args a = {out, out_len};
    return with_part_model(P, i, P->m->path, emit_serialize, &a, err);
}

mcz_status mcz_partition_serialize_part_skeleton(mcz_partition *P, size_t i, uint8_t **out,
                                                 size_t *out_len, mcz_error *err)
{
    if (i >= P->K)
        return mcz_seterr(err, MCZ_ERR_ARG, "no part %zu (%zu parts)", i, P->K);
    const part_rec *r = &P->parts[i];
    shell sh;
    mcz_status s = shell_build(P, i, &sh, err);
    if (s)
        return s;
    size_t n = r->pub.n_weights;
    Onnx__TensorProto *saved = malloc((n + 1) * sizeof *saved);
    uint8_t(*markers)[MCZ_MARKER_LEN] = malloc((n + 1) * sizeof *markers);
    if (!saved || !markers) {
        free(saved);
        free(markers);
        shell_free(&sh);
        return NOMEM(err);
    }
    for (size_t j = 0; j < n; j++) {
        size_t w = r->pub.weights[j];
        Onnx__TensorProto *t = P->m->w[w].t;
        saved[j] = *t;
        if (t->data_type == MCZ_DT_STRING)
            continue; /* strings stay in the skeleton */
        mcz_marker_make(w, markers[j]);
        t->n_float_data = t->n_int32_data = t->n_int64_data = t->n_double_data = 0;
        t->n_uint64_data = 0;
        t->has_data_location = 0;
        t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT;
        t->n_external_data = 0;
        t->external_data = NULL;
        t->has_raw_data = 1;
        t->raw_data.data = markers[j];
        t->raw_data.len = MCZ_MARKER_LEN;
    }
    size_t size = onnx__model_proto__get_packed_size(&sh.model);
    if (size >= ((size_t)2 << 30)) {
        s = mcz_seterr(err, MCZ_ERR_LIMIT, "part %zu skeleton is %zu bytes, over 2 GiB", i, size);
    } else if (!(*out = malloc(size ? size : 1))) {
        s = NOMEM(err);
    } else {
        *out_len = onnx__model_proto__pack(&sh.model, *out);
    }
    for (size_t j = n; j-- > 0;)
        *P->m->w[r->pub.weights[j]].t = saved[j];
    free(saved);
    free(markers);
    shell_free(&sh);
    return s;
}

/* ---- the manifest -------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t len)
{
    if (b->oom)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

static void puts_(sbuf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_json_str(sbuf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
}

static void put_names(sbuf *b, const char *const *names, size_t n)
{
    put(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            put(b, ", ", 2);
        put_json_str(b, names[i]);
    }
    put(b, "]", 1);
}

char *mcz_partition_manifest(const mcz_partition *P)
{
    sbuf b = {0};
    char num[128];
    puts_(&b, "{\"format\": \"mcz-partition\", \"version\": 1,\n \"inputs\": ");
    put_names(&b, P->model_inputs, P->n_model_inputs);
    puts_(&b, ", \"outputs\": ");
    put_names(&b, P->model_outputs, P->n_model_outputs);
    puts_(&b, ",\n \"parts\": [");
    for (size_t k = 0; k < P->K; k++) {
        const mcz_part_info *p = &P->parts[k].pub;
        snprintf(num, sizeof num, "%s{\"file\": \"part-%03zu.onnx\", \"inputs\": ",
                 k ? ",\n           " : "", k);
        puts_(&b, num);
        put_names(&b, p->inputs, p->n_inputs);
        puts_(&b, ", \"outputs\": ");
        put_names(&b, p->outputs, p->n_outputs);
        snprintf(num, sizeof num, ",\n            \"weight_bytes\": %llu, \"nodes\": %zu}",
                 (unsigned long long)p->weight_bytes, p->nodes);
        puts_(&b, num);
    }
    puts_(&b, "]}\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- the folder ---------------------------------------------------------------------- */

/* part-NNN.onnx, part-NNN.onnx.data (NNN: 3 or more digits) or manifest.json */
static int partition_file(const char *n)
{
    if (strcmp(n, "manifest.json") == 0)
        return 1;
    if (strncmp(n, "part-", 5) != 0)
        return 0;
    const char *p = n + 5;
    size_t d = 0;
    while (p[d] >= '0' && p[d] <= '9')
        d++;
    return d >= 3 && (strcmp(p + d, ".onnx") == 0 || strcmp(p + d, ".onnx.data") == 0);
}

/* 0 empty, 1 only partition files, -1 something else (its name in `other`); -2 on error. */
static int folder_contents(const char *dir, char *other, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return -2;
    int res = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!partition_file(e->d_name)) {
            snprintf(other, cap, "%s", e->d_name);
            res = -1;
            break;
        }
        res = 1;
    }
    closedir(d);
    return res;
}

/* Remove the files of a folder we made (or whose files we checked) and the folder. */
static void remove_folder(const char *dir, int only_ours)
{
    DIR *d = opendir(dir);
    if (d) {
        int fd = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            if (!only_ours || partition_file(e->d_name))
                unlinkat(fd, e->d_name, 0);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

mcz_status mcz_partition_write_folder(mcz_partition *P, const char *dir_in, int force,
                                      mcz_error *err)
{
    /* the folder's path without trailing slashes, its parent and its name */
    size_t len = strlen(dir_in);
    while (len > 1 && dir_in[len - 1] == '/')
        len--;
    char *dir = malloc(len + 1), *tmp = malloc(len + 32), *file = malloc(len + 64);
    char *parent = malloc(len + 2);
    mcz_status s = MCZ_OK;
    if (!dir || !tmp || !file || !parent) {
        s = NOMEM(err);
        goto out;
    }
    memcpy(dir, dir_in, len);
    dir[len] = 0;
    if (len == 0 || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0 || strcmp(dir, "..") == 0) {
        s = mcz_seterr(err, MCZ_ERR_ARG, "%s: give a folder by name to write the parts into",
                       dir_in);
        goto out;
    }
    const char *slash = strrchr(dir, '/');
    const char *name = slash ? slash + 1 : dir;
    if (slash == dir)
        snprintf(parent, len + 2, "/");
    else if (slash)
        snprintf(parent, len + 2, "%.*s", (int)(slash - dir), dir);
    else
        snprintf(parent, len + 2, ".");
    struct stat st;
    int exists = 0;
    char other[256] = "";
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            s = mcz_seterr(err, MCZ_ERR_EXISTS, "%s: exists and is not a folder", dir);
            goto out;
        }
        int c = folder_contents(dir, other, sizeof other);
        if (c == -2) {
            s = mcz_seterr(err, MCZ_ERR_IO, "%s: cannot read: %s", dir, strerror(errno));
            goto out;
        }
        if (c != 0 && !force) {
            s = mcz_seterr(err, MCZ_ERR_EXISTS, "%s: exists and is not empty (use -f to "
                           "overwrite)", dir);
            goto out;
        }
        if (c == -1) {
            s = mcz_seterr(err, MCZ_ERR_EXISTS, "%s: holds '%s', which is not a partition file; "
                           "not replacing the folder", dir, other);
            goto out;
        }
        exists = c == 0 ? 1 : 2;
    } else if (errno != ENOENT) {
        s = mcz_seterr(err, MCZ_ERR_IO, "%s: %s", dir, strerror(errno));
        goto out;
    }
    snprintf(tmp, len + 32, "%s/.%s.tmp-XXXXXX", parent, name);
    if (!mkdtemp(tmp)) {
        s = mcz_seterr(err, MCZ_ERR_IO, "%s: cannot make a temporary folder: %s", parent,
                       strerror(errno));
        goto out;
    }
    /* mkdtemp makes the folder private; the parts' folder gets the usual permissions */
    mode_t um = umask(0);
    umask(um);
    chmod(tmp, 0777 & ~um);
    mcz_save_opts o = {0};
    for (size_t k = 0; k < P->K && !s; k++) {
        snprintf(file, len + 64, "%s/part-%03zu.onnx", tmp, k);
        s = mcz_partition_save_part(P, k, file, &o, err);
    }
    if (!s) {
        char *json = mcz_partition_manifest(P);
        snprintf(file, len + 64, "%s/manifest.json", tmp);
        mcz_outfile *f = json ? mcz_outfile_open(file, 0, err) : NULL;
        if (!json)
            s = NOMEM(err);
        else if (!f)
            s = err ? err->code : MCZ_ERR_IO;
        else if (!(s = mcz_outfile_write(f, json, strlen(json), err)))
            s = mcz_outfile_commit(f, err);
        else
            mcz_outfile_abort(f);
        free(json);
    }
    if (!s) {
        sync_dir(tmp);
        int rc;
        if (exists == 2)
            rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE);
        else if (exists == 1)
            rc = rename(tmp, dir); /* replaces an empty folder */
        else
            rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE);
        if (rc != 0)
            s = mcz_seterr(err, errno == EEXIST || errno == ENOTEMPTY ? MCZ_ERR_EXISTS : MCZ_ERR_IO,
                           "%s: cannot move the parts into place: %s", dir, strerror(errno));
        else
            sync_dir(parent);
    }
    if (!s && exists == 2)
        remove_folder(tmp, 1); /* the old parts, now at the temporary name */
    else if (s)
        remove_folder(tmp, 0);
out:
    free(dir);
    free(tmp);
    free(file);
    free(parent);
    return s;
}
