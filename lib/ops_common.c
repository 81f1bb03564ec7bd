// SPDX-License-Identifier: MIT
/*
 * libtern ops: the tensor checks and the store queue every operation uses
 * (ops.c, ops_nn.c); declared in ops_int.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tern_internal.h"
#include "ops_int.h"

int ops_check_tensor(const char *fn, const char *name, const struct tern_tensor *t)
{
	char msg[320];
	int ret;

	if (!t)
		return tern_fail(-EINVAL, "%s: %s is NULL", fn, name);
	ret = tern_tensor_check(t);
	if (ret) {
		snprintf(msg, sizeof(msg), "%s", tern_last_error());
		return tern_fail(ret, "%s: %s: %s", fn, name, msg);
	}
	return 0;
}

int ops_check_shape(const char *fn, const char *name, const struct tern_tensor *t,
		    uint64_t rows, uint64_t cols)
{
	if (t->rows != rows || t->cols != cols)
		return tern_fail(-EINVAL, "%s: %s is %" PRIu64 "x%" PRIu64 ", must be %" PRIu64
				 "x%" PRIu64, fn, name, t->rows, t->cols, rows, cols);
	return 0;
}

/* Lowest byte any element of a valid tensor reaches. */
static int64_t tensor_lo(const struct tern_tensor *t)
{
	int64_t dr = ((int64_t)t->rows - 1) * t->row_stride;
	int64_t dc = ((int64_t)t->cols - 1) * t->col_stride;

	return (int64_t)t->offset +
	       ((dr < 0 ? dr : 0) + (dc < 0 ? dc : 0)) * (int64_t)tern_dtype_size(t->dtype);
}

bool ops_overlaps(const struct tern_tensor *x, const struct tern_tensor *y)
{
	if (x->slot != y->slot)
		return false;
	return tensor_lo(x) < (int64_t)tern_tensor_span(y) &&
	       tensor_lo(y) < (int64_t)tern_tensor_span(x);
}

bool ops_same_layout(const struct tern_tensor *x, const struct tern_tensor *y)
{
	return x->slot == y->slot && x->dtype == y->dtype && x->offset == y->offset &&
	       x->rows == y->rows && x->cols == y->cols && x->row_stride == y->row_stride &&
	       x->col_stride == y->col_stride;
}

int ops_check_alias(const char *fn, const struct tern_tensor *out, const char *name,
		    const struct tern_tensor *in)
{
	if (ops_overlaps(out, in) && !ops_same_layout(out, in))
		return tern_fail(-EINVAL, "%s: out overlaps %s in slot %" PRIu32
				 " without being the same tensor", fn, name, out->slot);
	return 0;
}

int ops_no_space(const struct opctx *o, const char *what)
{
	return tern_fail(-ENOSPC, "%s: %s does not fit in the %" PRIu32
			 " free SBUF bytes per partition", o->fn, what,
			 op_free(o, TERN_AP_SBUF));
}

int ops_sq_drain(struct opctx *o, struct store_queue *sq, unsigned int keep)
{
	while (sq->n > keep) {
		int ret = op_store(o, &sq->q[0].h, sq->q[0].t, sq->q[0].ap);

		if (ret)
			return ret;
		memmove(&sq->q[0], &sq->q[1], (sq->n - 1) * sizeof(sq->q[0]));
		sq->n--;
	}
	return 0;
}

int ops_sq_push(struct opctx *o, struct store_queue *sq, struct otile *t, struct tern_ap ap,
		const struct tern_hbm_ap *h)
{
	int ret = ops_sq_drain(o, sq, STORE_LAG);

	if (ret)
		return ret;
	sq->q[sq->n++] = (struct pending){ t, ap, *h };
	return 0;
}
