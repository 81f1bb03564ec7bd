/* SPDX-License-Identifier: MIT */
/* placeholder: helpers of the fabric kselftests (issue 6), being written */
#ifndef TERN_FABRIC_TEST_H
#define TERN_FABRIC_TEST_H
#endif
