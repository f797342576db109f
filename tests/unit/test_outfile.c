/* test_outfile.c - atomic output files: a regular destination appears complete or not at all;
 * pipes and devices are written in place; write errors surface. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expect.h"
#include "mcz/outfile.h"
#include "testfs.h"
#include "testmodel.h"

static void teardown(void)
{
    td_cleanup();
    tm_reset();
}

static mcz_outfile *open_ok(const char *path, int force)
{
    mcz_error err = {0};
    mcz_outfile *o = mcz_outfile_open(path, force, &err);
    ck_assert_msg(o != NULL, "open %s: %s", path, err.msg);
    return o;
}

static void write_ok(mcz_outfile *o, const void *p, size_t n)
{
    mcz_error err = {0};
    expect_ok(mcz_outfile_write(o, p, n, &err), &err);
}

static void commit_ok(mcz_outfile *o)
{
    mcz_error err = {0};
    expect_ok(mcz_outfile_commit(o, &err), &err);
}

static void assert_file_is(const char *path, const void *p, size_t n)
{
    size_t len;
    uint8_t *b = td_read(path, &len);
    ck_assert_msg(b != NULL, "%s missing", path);
    ck_assert_uint_eq(len, n);
    ck_assert_msg(memcmp(b, p, n) == 0, "%s has other bytes", path);
}

START_TEST(commit_renames_the_temporary_into_place_and_leaves_none_behind)
{
    char *dir = td_new(), *out = td_path(dir, "out.bin");
    mcz_outfile *o = open_ok(out, 0);
    write_ok(o, "hello ", 6);
    write_ok(o, "world", 5);
    ck_assert(!td_exists(out));
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 1);
    commit_ok(o);
    assert_file_is(out, "hello world", 11);
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
}
END_TEST

START_TEST(abort_leaves_a_new_destination_absent_and_no_temporary)
{
    char *dir = td_new(), *out = td_path(dir, "out.bin");
    mcz_outfile *o = open_ok(out, 0);
    write_ok(o, "partial", 7);
    mcz_outfile_abort(o);
    ck_assert(!td_exists(out));
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
    mcz_outfile_abort(NULL);
}
END_TEST

START_TEST(abort_leaves_an_existing_destination_untouched)
{
    char *dir = td_new(), *out = td_path(dir, "out.bin");
    td_write(out, "original", 8);
    mcz_outfile *o = open_ok(out, 1);
    write_ok(o, tm_pattern(3 << 20, 9), 3 << 20);
    mcz_outfile_abort(o);
    assert_file_is(out, "original", 8);
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
}
END_TEST

START_TEST(existing_file_is_refused_without_force)
{
    char *dir = td_new(), *out = td_path(dir, "out.bin");
    td_write(out, "original", 8);
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_outfile_open(out, 0, &err));
    expect_status(err.code, MCZ_ERR_EXISTS, &err);
    expect_msg_has(&err, out);
    assert_file_is(out, "original", 8);
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
}
END_TEST

START_TEST(force_replaces_an_existing_file)
{
    char *dir = td_new(), *out = td_path(dir, "out.bin");
    td_write(out, "original contents", 17);
    mcz_outfile *o = open_ok(out, 1);
    write_ok(o, "new", 3);
    assert_file_is(out, "original contents", 17); /* untouched until commit */
    commit_ok(o);
    assert_file_is(out, "new", 3);
}
END_TEST

START_TEST(missing_folder_is_an_io_error_naming_the_path)
{
    char *out = td_path(td_new(), "no/such/folder/out.bin");
    mcz_error err = {0};
    ck_assert_ptr_null(mcz_outfile_open(out, 0, &err));
    expect_status(err.code, MCZ_ERR_IO, &err);
    expect_msg_has(&err, out);
}
END_TEST

START_TEST(new_file_permissions_follow_the_umask)
{
    char *dir = td_new();
    const mode_t masks[] = {022, 077, 027};
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        char *out = td_path(dir, tm_printf("out%zu.bin", i));
        mode_t old = umask(masks[i]);
        mcz_outfile *o = open_ok(out, 0);
        write_ok(o, "x", 1);
        commit_ok(o);
        umask(old);
        struct stat st;
        ck_assert_int_eq(stat(out, &st), 0);
        ck_assert_msg((st.st_mode & 0777) == (0666 & ~masks[i]),
                      "umask %03o: file mode %03o, expected %03o", (unsigned)masks[i],
                      (unsigned)(st.st_mode & 0777), (unsigned)(0666 & ~masks[i]));
    }
}
END_TEST

START_TEST(tell_counts_bytes_and_pad_writes_zeros_to_the_alignment)
{
    char *out = td_path(td_new(), "out.bin");
    mcz_outfile *o = open_ok(out, 0);
    mcz_error err = {0};
    ck_assert_uint_eq(mcz_outfile_tell(o), 0);
    expect_ok(mcz_outfile_pad(o, 64, &err), &err);
    ck_assert_uint_eq(mcz_outfile_tell(o), 0);
    write_ok(o, "abcde", 5);
    ck_assert_uint_eq(mcz_outfile_tell(o), 5);
    expect_ok(mcz_outfile_pad(o, 64, &err), &err);
    ck_assert_uint_eq(mcz_outfile_tell(o), 64);
    expect_ok(mcz_outfile_pad(o, 64, &err), &err);
    ck_assert_uint_eq(mcz_outfile_tell(o), 64);
    write_ok(o, "f", 1);
    expect_ok(mcz_outfile_pad(o, 1024, &err), &err);
    ck_assert_uint_eq(mcz_outfile_tell(o), 1024);
    ck_assert_str_eq(mcz_outfile_path(o), out);
    commit_ok(o);
    uint8_t want[1024] = {'a', 'b', 'c', 'd', 'e'};
    want[64] = 'f';
    assert_file_is(out, want, sizeof want);
}
END_TEST

START_TEST(writes_of_every_size_arrive_in_order)
{
    char *out = td_path(td_new(), "out.bin");
    const size_t sizes[] = {1, 1000, (1 << 20) - 1001, 2, (1 << 20) + 5, 7, 3 << 20, 0, 4096};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += sizes[i];
    uint8_t *all = tm_alloc(total);
    for (size_t i = 0; i < total; i++)
        all[i] = (uint8_t)(i * 131 + (i >> 12));
    mcz_outfile *o = open_ok(out, 0);
    size_t at = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        write_ok(o, all + at, sizes[i]);
        at += sizes[i];
        ck_assert_uint_eq(mcz_outfile_tell(o), at);
    }
    commit_ok(o);
    assert_file_is(out, all, total);
}
END_TEST

/* Reads the FIFO to its end into a buffer allocated beforehand (the arena is not thread-safe). */
typedef struct fifo_reader {
    const char *path;
    uint8_t *got;
    size_t len, cap;
} fifo_reader;

static void *read_fifo(void *arg)
{
    fifo_reader *r = arg;
    int fd = open(r->path, O_RDONLY);
    if (fd < 0)
        return NULL;
    uint8_t buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        size_t room = r->cap - r->len, k = (size_t)n < room ? (size_t)n : room;
        memcpy(r->got + r->len, buf, k);
        r->len += (size_t)n; /* counts what did not fit too */
    }
    close(fd);
    return NULL;
}

START_TEST(fifo_is_written_in_place_and_not_replaced)
{
    char *dir = td_new(), *fifo = td_path(dir, "pipe");
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    size_t n = (2 << 20) + 333;
    uint8_t *data = tm_pattern(n, 0x3d);
    fifo_reader r = {.path = fifo, .got = tm_alloc(n + 1), .cap = n + 1};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, read_fifo, &r), 0);
    mcz_outfile *o = open_ok(fifo, 0);
    write_ok(o, data, 100);
    write_ok(o, data + 100, n - 100);
    commit_ok(o);
    pthread_join(th, NULL);
    ck_assert_uint_eq(r.len, n);
    ck_assert_mem_eq(r.got, data, n);
    struct stat st;
    ck_assert_int_eq(lstat(fifo, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(td_count(dir, ".mcz-tmp"), 0);
}
END_TEST

START_TEST(full_device_fails_at_commit_for_small_writes)
{
    if (access("/dev/full", W_OK) != 0)
        return; /* no /dev/full here */
    mcz_outfile *o = open_ok("/dev/full", 0);
    write_ok(o, "abc", 3);
    mcz_error err = {0};
    expect_status(mcz_outfile_commit(o, &err), MCZ_ERR_IO, &err);
    expect_msg_has(&err, "/dev/full");
}
END_TEST

START_TEST(full_device_fails_at_write_for_large_writes)
{
    if (access("/dev/full", W_OK) != 0)
        return;
    mcz_outfile *o = open_ok("/dev/full", 0);
    mcz_error err = {0};
    size_t n = 2 << 20;
    expect_status(mcz_outfile_write(o, tm_alloc(n), n, &err), MCZ_ERR_IO, &err);
    expect_msg_has(&err, "/dev/full");
    mcz_outfile_abort(o);
}
END_TEST

START_TEST(dash_writes_to_standard_output)
{
    char *captured = td_path(td_new(), "stdout.bin");
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(captured, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    mcz_error err = {0};
    mcz_outfile *o = mcz_outfile_open("-", 0, &err);
    mcz_status s1 = o ? mcz_outfile_write(o, "to stdout", 9, &err) : err.code;
    const char *name = o ? mcz_outfile_path(o) : "";
    int dash = strcmp(name, "-") == 0;
    mcz_status s2 = o ? mcz_outfile_commit(o, &err) : err.code;
    int still_open = fcntl(STDOUT_FILENO, F_GETFD) != -1;
    dup2(saved, STDOUT_FILENO);
    close(saved);
    expect_ok(s1, &err);
    expect_ok(s2, &err);
    ck_assert(dash);
    ck_assert_msg(still_open, "commit closed standard output");
    assert_file_is(captured, "to stdout", 9);
}
END_TEST

static Suite *outfile_suite(void)
{
    Suite *s = suite_create("outfile");
    TCase *tc = tcase_create("regular");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, commit_renames_the_temporary_into_place_and_leaves_none_behind);
    tcase_add_test(tc, abort_leaves_a_new_destination_absent_and_no_temporary);
    tcase_add_test(tc, abort_leaves_an_existing_destination_untouched);
    tcase_add_test(tc, existing_file_is_refused_without_force);
    tcase_add_test(tc, force_replaces_an_existing_file);
    tcase_add_test(tc, missing_folder_is_an_io_error_naming_the_path);
    tcase_add_test(tc, new_file_permissions_follow_the_umask);
    tcase_add_test(tc, tell_counts_bytes_and_pad_writes_zeros_to_the_alignment);
    tcase_add_test(tc, writes_of_every_size_arrive_in_order);
    suite_add_tcase(s, tc);

    tc = tcase_create("in_place");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, fifo_is_written_in_place_and_not_replaced);
    tcase_add_test(tc, full_device_fails_at_commit_for_small_writes);
    tcase_add_test(tc, full_device_fails_at_write_for_large_writes);
    tcase_add_test(tc, dash_writes_to_standard_output);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(outfile_suite());
    td_root_make();
    srunner_run_all(sr, CK_NORMAL);
    td_root_remove();
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
