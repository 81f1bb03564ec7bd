// SPDX-License-Identifier: MIT
/* tern_security: placeholder until its helper lands it (issue 5). */
#include "kselftest_harness.h"
#include "tern_test.h"

TEST(placeholder)
{
	SKIP(return, "not written yet");
}

TEST_HARNESS_MAIN
