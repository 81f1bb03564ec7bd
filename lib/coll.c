// SPDX-License-Identifier: MIT
/* placeholder: being written (issue 6) */
#include "tern_internal.h"
