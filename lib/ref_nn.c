// SPDX-License-Identifier: MIT
/*
 * libtern CPU references of layer norm, RMS norm, transpose and attention
 * (tern_op_reference(), ref_int.h): inputs read exactly, arithmetic in
 * double, every result rounded once to the output's dtype. They follow the
 * definitions of tern_ops.h, not the device's order of operations. Every
 * input is read before the output is written, so an output that overlaps
 * an input cannot change what is read.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "ref_int.h"

/* Rows x cols of t as doubles, row-major; NULL when out of memory. */
static double *ref_matrix(void *const *slots, const struct tern_tensor *t)
{
	double *m = malloc(t->rows * t->cols * sizeof(*m));

	for (uint64_t r = 0; m && r < t->rows; r++)
		for (uint64_t c = 0; c < t->cols; c++)
			m[r * t->cols + c] = ref_get(slots, t, r, c);
	return m;
}

/* Layer norm (layer) or RMS norm of every row. */
static int ref_norm(const struct tern_op *op, void *const *slots, bool layer)
{
	const struct tern_tensor *out = &op->out;
	uint64_t cols = out->cols;
	double *x = ref_matrix(slots, &op->in[0]);
	double *g = op->nin > 1 ? ref_matrix(slots, &op->in[1]) : NULL;
	double *b = layer && op->nin > 2 ? ref_matrix(slots, &op->in[2]) : NULL;
	int ret = !x || (op->nin > 1 && !g) || (layer && op->nin > 2 && !b) ? -ENOMEM : 0;

	for (uint64_t r = 0; !ret && r < out->rows; r++) {
		const double *row = x + r * cols;
		double mean = 0, ss = 0, rstd;

		for (uint64_t c = 0; layer && c < cols; c++)
			mean += row[c];
		mean /= (double)cols;
		for (uint64_t c = 0; c < cols; c++)
			ss += (row[c] - mean) * (row[c] - mean);
		rstd = 1 / sqrt(ss / (double)cols + op->eps);
		for (uint64_t c = 0; c < cols; c++)
			ref_set(slots, out, r, c,
				(row[c] - mean) * rstd * (g ? g[c] : 1) + (b ? b[c] : 0));
	}
	free(x);
	free(g);
	free(b);
	return ret;
}

int ref_layernorm(const struct tern_op *op, void *const *slots)
{
	return ref_norm(op, slots, true);
}

int ref_rmsnorm(const struct tern_op *op, void *const *slots)
{
	return ref_norm(op, slots, false);
}

int ref_transpose(const struct tern_op *op, void *const *slots)
{
	const struct tern_tensor *x = &op->in[0];
	double *m = ref_matrix(slots, x);

	if (!m)
		return -ENOMEM;
	for (uint64_t r = 0; r < x->rows; r++)
		for (uint64_t c = 0; c < x->cols; c++)
			ref_set(slots, &op->out, c, r, m[r * x->cols + c]);
	free(m);
	return 0;
}

/*
 * out[i] = sum over visible j of exp(s_ij - m_i) v[j] / sum over visible j
 * of exp(s_ij - m_i), s_ij = scale q[i] . k[j], m_i the largest s_ij;
 * causal: key j is visible to query i when j <= i + Sk - Sq.
 */
int ref_attention(const struct tern_op *op, void *const *slots)
{
	const struct tern_tensor *out = &op->out;
	uint64_t sq = op->in[0].rows, sk = op->in[1].rows, d = op->in[0].cols, dv = out->cols;
	bool causal = op->func & TERN_ATTN_CAUSAL;
	double *qm = ref_matrix(slots, &op->in[0]), *km = ref_matrix(slots, &op->in[1]);
	double *vm = ref_matrix(slots, &op->in[2]), *p = malloc(sk * sizeof(*p));
	double *o = malloc(sq * dv * sizeof(*o));
	int ret = qm && km && vm && p && o ? 0 : -ENOMEM;

	for (uint64_t i = 0; !ret && i < sq; i++) {
		uint64_t nvis = causal ? i + sk - sq + 1 : sk;
		double mx = -INFINITY, sum = 0, *oi = o + i * dv;

		for (uint64_t j = 0; j < nvis; j++) {
			double s = 0;

			for (uint64_t c = 0; c < d; c++)
				s += qm[i * d + c] * km[j * d + c];
			p[j] = s * op->scale;
			mx = fmax(mx, p[j]);
		}
		for (uint64_t c = 0; c < dv; c++)
			oi[c] = 0;
		for (uint64_t j = 0; j < nvis; j++) {
			p[j] = exp(p[j] - mx);
			sum += p[j];
			for (uint64_t c = 0; c < dv; c++)
				oi[c] += p[j] * vm[j * dv + c];
		}
		for (uint64_t c = 0; c < dv; c++)
			oi[c] /= sum;
	}
	for (uint64_t i = 0; !ret && i < sq; i++)
		for (uint64_t c = 0; c < dv; c++)
			ref_set(slots, out, i, c, o[i * dv + c]);
	free(qm);
	free(km);
	free(vm);
	free(p);
	free(o);
	return ret;
}
