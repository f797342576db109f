/* expect.h - assertions on mcz_status results and their messages, for the unit tests. */
#ifndef MCZ_TEST_EXPECT_H
#define MCZ_TEST_EXPECT_H

#include <check.h>
#include <string.h>

#include "mcz/load.h"

/* A call returned `want`; on mismatch the failure shows both codes and the message. */
#define expect_status(got, want, err)                                                          \
    ck_assert_msg((got) == (want), "status %d (%s), expected %d (%s); message: %s", (int)(got), \
                  mcz_strerror(got), (int)(want), mcz_strerror(want), (err)->msg)

/* A call succeeded. */
#define expect_ok(got, err) expect_status((got), MCZ_OK, (err))

/* The error message contains `sub`. */
#define expect_msg_has(err, sub)                                                                \
    ck_assert_msg(strstr((err)->msg, (sub)) != NULL, "message \"%s\" does not mention \"%s\"", \
                  (err)->msg, (sub))

#endif
