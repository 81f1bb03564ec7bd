// SPDX-License-Identifier: MIT
/* placeholder (issue 6): being written */
#include "kselftest_harness.h"
#include "tern_fabric_test.h"

TEST(placeholder)
{
	SKIP(return, "not written yet");
}

TEST_HARNESS_MAIN
