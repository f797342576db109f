/* testfs.h - temporary folders and whole-file I/O for the unit tests.
 *
 * td_new() makes a fresh folder; td_cleanup() removes every folder made so far (call it from each
 * suite's teardown). A test that fails skips its teardown, so main() brackets the run with
 * td_root_make() / td_root_remove(): every folder goes inside one root under $TMPDIR (or /tmp)
 * that is removed at the end whatever happened. Returned strings and buffers are arena memory
 * (testmodel.h), freed by tm_reset(). Failures abort the test with a message.
 */
#ifndef MCZ_TEST_FS_H
#define MCZ_TEST_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void td_root_make(void);
void td_root_remove(void);

char *td_new(void);
void td_cleanup(void);

/* dir + "/" + name */
char *td_path(const char *dir, const char *name);
void td_write(const char *path, const void *data, size_t len);
/* The whole file, or NULL (and *len 0) when it cannot be read. */
uint8_t *td_read(const char *path, size_t *len);
bool td_exists(const char *path);
/* How many entries of `dir` have `substr` in their name. */
int td_count(const char *dir, const char *substr);

#endif
