/* sample-write.c - stream a generated model to its file(s), atomically.
 *
 * protobuf-c's pack_to_buffer hands a bytes field to the buffer's append() as one piece
 * (header, then the data pointer), but packs a nested message into an in-memory buffer first.
 * So the writer walks the message tree itself down to the tensors that hold lazy weights: a
 * message that contains one is written as tag + length (get_packed_size, which never reads the
 * bytes) + its small fields packed by protobuf-c + its large children, recursively; a
 * TensorProto is packed by protobuf-c straight into the file sink, whose append() recognises a
 * lazy raw_data pointer and generates the values in place. Memory stays at one chunk of
 * values, whatever the model size. Field order inside a message may differ from protobuf-c's
 * (a message's small fields come first), which any protobuf reader accepts; repeated fields
 * keep their order.
 *
 * Files are written to a temporary name in the destination folder, fsync'd and renamed; on
 * error (or SIGINT / SIGTERM / SIGHUP) the temporary files are removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sample.h"

#define SINK_BUF (1u << 20)

typedef struct sink {
    ProtobufCBuffer base; /* first: append() gets a pointer to it */
    const sample_model *m;
    int fd;
    uint8_t *buf;
    size_t len;
    uint64_t total;
    int err; /* errno of the first failure, 0 if none */
} sink;

static bool write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool sink_flush(sink *s)
{
    if (s->err)
        return false;
    if (s->len && !write_all(s->fd, s->buf, s->len)) {
        s->err = errno ? errno : EIO;
        return false;
    }
    s->len = 0;
    return true;
}

static bool sink_write(void *ctx, const void *data, size_t len)
{
    sink *s = ctx;
    if (s->err)
        return false;
    s->total += len;
    if (len >= SINK_BUF) {
        if (!sink_flush(s))
            return false;
        if (!write_all(s->fd, data, len)) {
            s->err = errno ? errno : EIO;
            return false;
        }
        return true;
    }
    if (SINK_BUF - s->len < len && !sink_flush(s))
        return false;
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return true;
}

static void sink_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    sink *s = (sink *)b;
    if (s->err)
        return;
    const sample_weight *w = sample_model_lazy_weight(s->m, data, len);
    if (!w) {
        sink_write(s, data, len);
        return;
    }
    if (!sample_weight_emit(w, s->m->seed, sink_write, s) && !s->err)
        s->err = errno ? errno : ENOMEM;
}

static void sink_varint(sink *s, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    sink_write(s, b, n);
}

/* ---- walking the message tree ---- */

static bool is_tensor(const ProtobufCMessage *msg)
{
    return msg->descriptor == &onnx__tensor_proto__descriptor;
}

static bool contains_lazy(const sample_model *m, const ProtobufCMessage *msg)
{
    if (is_tensor(msg)) {
        const Onnx__TensorProto *t = (const Onnx__TensorProto *)msg;
        return t->has_raw_data && sample_model_lazy_weight(m, t->raw_data.data, t->raw_data.len);
    }
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        const char *member = (const char *)msg + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            const ProtobufCMessage *const *arr = *(const ProtobufCMessage *const *const *)member;
            for (size_t k = 0; k < n; k++)
                if (contains_lazy(m, arr[k]))
                    return true;
        } else {
            const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member;
            if (sub && contains_lazy(m, sub))
                return true;
        }
    }
    return false;
}

static void stream_message(sink *s, const ProtobufCMessage *msg);

static void stream_field_element(sink *s, unsigned id, const ProtobufCMessage *sub)
{
    sink_varint(s, ((uint64_t)id << 3) | 2u);
    sink_varint(s, protobuf_c_message_get_packed_size(sub));
    if (contains_lazy(s->m, sub))
        stream_message(s, sub);
    else
        protobuf_c_message_pack_to_buffer(sub, &s->base);
}

static void stream_message(sink *s, const ProtobufCMessage *msg)
{
    if (is_tensor(msg)) {
        protobuf_c_message_pack_to_buffer(msg, &s->base);
        return;
    }
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    /* A shallow copy without the fields that hold lazy weights, packed normally. */
    char *copy = malloc(d->sizeof_message);
    unsigned char *held = calloc(d->n_fields ? d->n_fields : 1, 1);
    if (!copy || !held) {
        free(copy);
        free(held);
        if (!s->err)
            s->err = ENOMEM;
        return;
    }
    memcpy(copy, msg, d->sizeof_message);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        const char *member = (const char *)msg + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            const ProtobufCMessage *const *arr = *(const ProtobufCMessage *const *const *)member;
            for (size_t k = 0; k < n && !held[i]; k++)
                held[i] = contains_lazy(s->m, arr[k]);
            if (held[i])
                *(size_t *)(copy + f->quantifier_offset) = 0;
        } else {
            const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member;
            held[i] = sub && contains_lazy(s->m, sub);
            if (held[i])
                *(void **)(copy + f->offset) = NULL;
        }
    }
    protobuf_c_message_pack_to_buffer((const ProtobufCMessage *)copy, &s->base);
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (!held[i])
            continue;
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *member = (const char *)msg + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            const ProtobufCMessage *const *arr = *(const ProtobufCMessage *const *const *)member;
            for (size_t k = 0; k < n; k++)
                stream_field_element(s, f->id, arr[k]);
        } else {
            stream_field_element(s, f->id, *(const ProtobufCMessage *const *)member);
        }
    }
    free(copy);
    free(held);
}

uint64_t sample_packed_size(const sample_model *m)
{
    return protobuf_c_message_get_packed_size(&m->model->base);
}

/* ---- files ---- */

/* Temporary files to remove if a signal ends the program mid-write. */
static char *volatile tmp_paths[2];

static void on_signal(int sig)
{
    for (int i = 0; i < 2; i++)
        if (tmp_paths[i])
            unlink(tmp_paths[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(bool on)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], on ? on_signal : SIG_DFL);
}

static int fail(const char *path, const char *what)
{
    fprintf(stderr, "mcz-sample: %s: %s\n", path, what);
    return 1;
}

static int write_model(sample_model *m, int fd, const char *path)
{
    sink s = {.base = {.append = sink_append}, .m = m, .fd = fd};
    s.buf = malloc(SINK_BUF);
    if (!s.buf)
        return fail(path, strerror(ENOMEM));
    stream_message(&s, &m->model->base);
    sink_flush(&s);
    free(s.buf);
    if (s.err)
        return fail(path, strerror(s.err));
    if (s.total != sample_packed_size(m))
        return fail(path, "internal error: streamed size differs from the packed size");
    return 0;
}

static int write_data(sample_model *m, int fd, const char *path)
{
    sink s = {.m = m, .fd = fd};
    s.buf = malloc(SINK_BUF);
    if (!s.buf)
        return fail(path, strerror(ENOMEM));
    static const uint8_t zeros[4096];
    for (size_t i = 0; i < m->nw && !s.err; i++) {
        const sample_weight *w = &m->w[i];
        sink_write(&s, zeros, (size_t)(w->offset - s.total)); /* alignment padding */
        if (!sample_weight_emit(w, m->seed, sink_write, &s) && !s.err)
            s.err = errno ? errno : ENOMEM;
    }
    sink_flush(&s);
    free(s.buf);
    if (s.err)
        return fail(path, strerror(s.err));
    return 0;
}

static bool sync_fd(int fd)
{
    if (fsync(fd) == 0)
        return true;
    /* pipes, terminals and some devices cannot be synced */
    return errno == EINVAL || errno == ENOTSUP || errno == EROFS;
}

/* Split `path` into a malloc'd folder ("." when none) and a pointer to its last component. */
static char *split_path(const char *path, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        *base = path;
        return strdup(".");
    }
    *base = slash + 1;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

static int make_temp(const char *dir, const char *base, char **tmp)
{
    size_t n = strlen(dir) + strlen(base) + 16;
    *tmp = malloc(n);
    if (!*tmp) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(*tmp, n, "%s/.%s.XXXXXX", dir, base);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        free(*tmp);
        *tmp = NULL;
        return -1;
    }
    mode_t um = umask(0);
    umask(um);
    fchmod(fd, 0666 & ~um);
    return fd;
}

/* Rename `from` to `to`; without `force`, never replace an existing `to`. */
static int publish(const char *from, const char *to, bool force)
{
    if (force)
        return rename(from, to);
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    if (link(from, to) != 0) /* a filesystem without RENAME_NOREPLACE */
        return -1;
    unlink(from);
    return 0;
}

/* What is at `path`: 0 nothing, 1 a regular file, 2 something to write in place (a device,
 * a pipe, a symbolic link), -1 a folder or an error (printed). */
static int probe(const char *path, bool force)
{
    struct stat st, lst;
    if (lstat(path, &lst) != 0) {
        if (errno == ENOENT)
            return 0;
        fail(path, strerror(errno));
        return -1;
    }
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && S_ISLNK(lst.st_mode))
            return 0; /* a dangling symbolic link: replaced like a missing file */
        fail(path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        fail(path, "is a folder");
        return -1;
    }
    if (S_ISREG(st.st_mode) && !force) {
        fail(path, "exists (use -f to overwrite)");
        return -1;
    }
    return S_ISREG(lst.st_mode) ? 1 : 2;
}

static int write_stdout(sample_model *m)
{
    if (m->external)
        return fail("-", "external data cannot go to standard output (name an output file)");
    if (isatty(STDOUT_FILENO))
        return fail("-", "refusing to write a model to a terminal");
    int rc = write_model(m, STDOUT_FILENO, "-");
    if (rc == 0 && !sync_fd(STDOUT_FILENO))
        return fail("-", strerror(errno));
    return rc;
}

static int write_in_place(sample_model *m, const char *path)
{
    if (m->external)
        return fail(path, "external data needs a regular output file");
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return fail(path, strerror(errno));
    int rc = write_model(m, fd, path);
    if (rc == 0 && !sync_fd(fd))
        rc = fail(path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = fail(path, strerror(errno));
    return rc;
}

int sample_write(sample_model *m, const sample_output *out)
{
    if (strcmp(out->path, "-") == 0) {
        sample_model_make_lazy(m);
        return write_stdout(m);
    }
    int kind = probe(out->path, out->force);
    if (kind < 0)
        return 1;
    if (kind == 2) {
        sample_model_make_lazy(m);
        return write_in_place(m, out->path);
    }

    const char *base;
    char *dir = split_path(out->path, &base);
    char *data_name = NULL, *data_path = NULL, *tmp_model = NULL, *tmp_data = NULL;
    int fd_model = -1, fd_data = -1, rc = 1;
    if (!dir || !*base) {
        fail(out->path, dir ? "not a file name" : strerror(ENOMEM));
        goto done;
    }
    if (m->external) {
        size_t n = strlen(base) + 6;
        data_name = malloc(n);
        if (!data_name) {
            fail(out->path, strerror(ENOMEM));
            goto done;
        }
        snprintf(data_name, n, "%s.data", base);
        n = strlen(out->path) + 6;
        data_path = malloc(n);
        if (data_path)
            snprintf(data_path, n, "%s.data", out->path);
        if (!data_path) {
            fail(out->path, strerror(ENOMEM));
            goto done;
        }
        int dk = probe(data_path, out->force);
        if (dk < 0)
            goto done;
        if (dk == 2) {
            fail(data_path, "is not a regular file");
            goto done;
        }
        sample_model_make_external(m, data_name);
    } else {
        sample_model_make_lazy(m);
    }

    catch_signals(true);
    if (m->external) {
        fd_data = make_temp(dir, data_name, &tmp_data);
        if (fd_data < 0) {
            fail(data_path, strerror(errno));
            goto done;
        }
        tmp_paths[1] = tmp_data;
        if (write_data(m, fd_data, data_path))
            goto done;
        if (!sync_fd(fd_data) || close(fd_data) != 0) {
            fd_data = -1;
            fail(data_path, strerror(errno));
            goto done;
        }
        fd_data = -1;
    }
    fd_model = make_temp(dir, base, &tmp_model);
    if (fd_model < 0) {
        fail(out->path, strerror(errno));
        goto done;
    }
    tmp_paths[0] = tmp_model;
    if (write_model(m, fd_model, out->path))
        goto done;
    if (!sync_fd(fd_model) || close(fd_model) != 0) {
        fd_model = -1;
        fail(out->path, strerror(errno));
        goto done;
    }
    fd_model = -1;
    if (tmp_data) {
        if (publish(tmp_data, data_path, out->force) != 0) {
            fail(data_path, strerror(errno));
            goto done;
        }
        tmp_paths[1] = NULL;
        free(tmp_data);
        tmp_data = NULL;
    }
    if (publish(tmp_model, out->path, out->force) != 0) {
        fail(out->path, strerror(errno));
        if (data_path)
            unlink(data_path); /* the data file just published belongs to this model */
        goto done;
    }
    tmp_paths[0] = NULL;
    free(tmp_model);
    tmp_model = NULL;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
done:
    if (fd_model >= 0)
        close(fd_model);
    if (fd_data >= 0)
        close(fd_data);
    if (tmp_model)
        unlink(tmp_model);
    if (tmp_data)
        unlink(tmp_data);
    tmp_paths[0] = tmp_paths[1] = NULL;
    catch_signals(false);
    free(tmp_model);
    free(tmp_data);
    free(data_name);
    free(data_path);
    free(dir);
    return rc;
}
