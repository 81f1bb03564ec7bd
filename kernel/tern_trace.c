// SPDX-License-Identifier: GPL-2.0
/*
 * tern tracepoints: the one file that instantiates the events of
 * tern_trace.h. Their fields are in Documentation/uapi.rst, "Tracepoints".
 */

#define CREATE_TRACE_POINTS
#include "tern_trace.h"
