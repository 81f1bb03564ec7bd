// SPDX-License-Identifier: MIT
/*
 * transformer: the forward pass of one pre-norm transformer block on a tern
 * core, checked against the CPU.
 *
 *     a   = layernorm(x)                      (gamma g1, beta be1)
 *     qkv = a . Wqkv                          Q, K, V side by side
 *     o_h = softmax(Q_h K_h^T / sqrt(dh), causal) V_h   for each head h
 *     x1  = x + o . Wo
 *     f   = gelu(layernorm(x1) . W1 + c1) . W2 + c2
 *     y   = x1 + f
 *
 * x is SEQ tokens of D_MODEL features; HEADS heads of DH = D_MODEL / HEADS
 * dimensions; the MLP has D_FFN hidden units. The heads need no copies:
 * head h's Q is the column slice h*DH..h*DH+DH-1 of qkv, a tensor with an
 * offset and the row stride of qkv (3 * D_MODEL), and its output goes to
 * the same columns of o. One tern_op_attention() per head.
 *
 * As in mlp.c, the block is written once, as a list of struct tern_op,
 * and used three times (1 and 2 are the scaffolding of example_net.h,
 * shared with mlp.c; 3 is this file's own):
 *   1. on the device: tern_op_emit() adds every op to ONE program, loaded
 *      with tern_kernel_load() and launched once;
 *   2. on the CPU: tern_op_reference() runs the list step by step from the
 *      same inputs; the largest difference from the device's y is the
 *      result, held to a tolerance derived from the steps' own;
 *   3. step by step: each op's reference over the device's own inputs
 *      (every slot read back), held to that op's tolerance, which names a
 *      wrong step where the end-to-end difference would only blur it.
 *
 *   transformer [-d INDEX] [-t fp32|bf16]
 *
 * Exit status: 0 when the device matches the reference within the
 * tolerances, end to end and step by step; 1 when it does not or something
 * failed; 2 for a bad argument.
 */
#define EXAMPLE_NAME	"transformer"
#include "example_net.h"

#define SEQ		128
#define D_MODEL		256
#define HEADS		4
#define DH		(D_MODEL / HEADS)
#define D_FFN		1024
#define LN_EPS		1e-5f

/* Columns first..first+count-1 of a tensor: same rows, same row stride. */
static struct tern_tensor columns(struct tern_tensor t, uint64_t first, uint64_t count)
{
	t.offset += first * (uint64_t)t.col_stride * tern_dtype_size(t.dtype);
	t.cols = count;
	return t;
}

/* ---- the ops of the block beyond example_net.h's matmul() and bias() ---- */

static void add(struct net *n, const struct tern_tensor *out, const struct tern_tensor *a,
		const struct tern_tensor *b)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_BINARY, TERN_ALU_ADD, out, 2);

	op->in[0] = *a;
	op->in[1] = *b;
}

static void layernorm(struct net *n, const struct tern_tensor *out, const struct tern_tensor *x,
		      const struct tern_tensor *gamma, const struct tern_tensor *beta)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_LAYERNORM, 0, out, 3);

	op->eps = LN_EPS;
	op->in[0] = *x;
	op->in[1] = *gamma;
	op->in[2] = *beta;
}

static void attention(struct net *n, const struct tern_tensor *out, const struct tern_tensor *q,
		      const struct tern_tensor *k, const struct tern_tensor *v)
{
	struct tern_op *op = add_op(n, TERN_OPKIND_ATTENTION, TERN_ATTN_CAUSAL, out, 3);

	op->scale = 1 / sqrtf(DH);
	op->in[0] = *q;
	op->in[1] = *k;
	op->in[2] = *v;
}

/*
 * Use 3: every step's reference over the device's own inputs, against
 * the device's output of that step. Prints the steps out of tolerance and
 * returns their number, or -1 on an error; *closest gets the step nearest
 * to its tolerance.
 */
static int check_steps(struct net *n, unsigned int *closest, double *err, double *tol)
{
	void *slots[MAX_TENSORS];
	unsigned int i, s;
	double e, t;
	int bad = 0;

	*closest = 0;
	*err = 0;
	*tol = 1;
	for (i = 0; i < n->nops; i++) {
		const struct tern_op *op = &n->ops[i];

		/* the device's slots, but the output goes to a copy */
		s = op->out.slot;
		memcpy(slots, n->back, sizeof(slots));
		slots[s] = malloc(n->size[s]);
		if (!slots[s]) {
			fail("out of memory", -ENOMEM);
			return -1;
		}
		memcpy(slots[s], n->back[s], n->size[s]);
		if (tern_op_reference(op, slots, n->size, n->nslots)) {
			fail("the CPU reference failed", -EINVAL);
			free(slots[s]);
			return -1;
		}
		e = max_abs_error(&op->out, slots, n->back);
		t = step_tolerance(n->back, op);
		free(slots[s]);
		if (!(e <= t)) {
			printf("  step %u (%s): max abs error %.3g, tolerance %.3g: FAIL\n", i + 1,
			       tern_op_name(op->kind), e, t);
			bad++;
		}
		if (e / t > *err / *tol) {
			*closest = i;
			*err = e;
			*tol = t;
		}
	}
	return bad;
}

/* Multiply-adds of the block, times two. */
static double block_flops(void)
{
	double proj = 2.0 * SEQ * D_MODEL * (3 * D_MODEL + D_MODEL);
	double ffn = 2.0 * 2 * SEQ * D_MODEL * D_FFN;
	/* causal: query i sees i + 1 keys; Q K^T and P V */
	double attn = 2.0 * 2 * DH * HEADS * (SEQ * (SEQ + 1) / 2.0);

	return proj + ffn + attn;
}

int main(int argc, char **argv)
{
	struct tern_tensor x, g1, be1, wqkv, wo, g2, be2, w1, c1, w2, c2, y;
	struct tern_tensor a, qkv, o, p, x1, a2, h0, h1, f0, f;
	struct tern_launch_status st;
	struct net n = { .rng = 7 };
	uint32_t dt = TERN_DT_BF16;
	unsigned int index = 0, h, insns, closest;
	double t_build, t_ref, err, tol, step_err, step_tol;
	const float ws = 1 / sqrtf(D_MODEL), w2s = 1 / sqrtf(D_FFN);
	int rc = 1, ret, bad;
	bool pass;

	ret = parse_args(argc, argv,
			 "One pre-norm transformer block (causal self-attention, gelu\n"
			 "MLP) on tern device INDEX (0), in bf16 (or fp32), checked\n"
			 "against the CPU reference.\n", &index, &dt);
	if (ret)
		return ret;
	ret = tern_device_open(index, &n.dev);
	if (ret)
		return fail("cannot open the device", ret);

	/* Inputs and weights: random; weights scaled by 1/sqrt(fan_in). */
	if (tensor(&n, dt, SEQ, D_MODEL, -1, 1, &x) ||
	    tensor(&n, dt, 1, D_MODEL, 0.5f, 1.0f, &g1) ||
	    tensor(&n, dt, 1, D_MODEL, -0.5f, 0.5f, &be1) ||
	    tensor(&n, dt, D_MODEL, 3 * D_MODEL, -ws, ws, &wqkv) ||
	    tensor(&n, dt, D_MODEL, D_MODEL, -ws, ws, &wo) ||
	    tensor(&n, dt, 1, D_MODEL, 0.5f, 1.0f, &g2) ||
	    tensor(&n, dt, 1, D_MODEL, -0.5f, 0.5f, &be2) ||
	    tensor(&n, dt, D_MODEL, D_FFN, -ws, ws, &w1) ||
	    tensor(&n, dt, 1, D_FFN, -0.5f, 0.5f, &c1) ||
	    tensor(&n, dt, D_FFN, D_MODEL, -w2s, w2s, &w2) ||
	    tensor(&n, dt, 1, D_MODEL, -0.5f, 0.5f, &c2) ||
	    /* the result and the intermediates, each in a slot of its own */
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &y) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &a) ||
	    tensor(&n, dt, SEQ, 3 * D_MODEL, 0, 0, &qkv) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &o) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &p) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &x1) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &a2) ||
	    tensor(&n, dt, SEQ, D_FFN, 0, 0, &h0) ||
	    tensor(&n, dt, SEQ, D_FFN, 0, 0, &h1) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &f0) ||
	    tensor(&n, dt, SEQ, D_MODEL, 0, 0, &f))
		goto out;

	/* The block, as data. Attention: */
	layernorm(&n, &a, &x, &g1, &be1);		/* a = layernorm(x) */
	matmul(&n, &qkv, &a, &wqkv);			/* [Q K V] = a . Wqkv */
	for (h = 0; h < HEADS; h++) {
		struct tern_tensor oh = columns(o, h * DH, DH);
		struct tern_tensor qh = columns(qkv, h * DH, DH);
		struct tern_tensor kh = columns(qkv, D_MODEL + h * DH, DH);
		struct tern_tensor vh = columns(qkv, 2 * D_MODEL + h * DH, DH);

		attention(&n, &oh, &qh, &kh, &vh);	/* o_h = attention(Q_h, K_h, V_h) */
	}
	matmul(&n, &p, &o, &wo);			/* p = o . Wo */
	add(&n, &x1, &x, &p);				/* x1 = x + p */
	/* MLP: */
	layernorm(&n, &a2, &x1, &g2, &be2);		/* a2 = layernorm(x1) */
	matmul(&n, &h0, &a2, &w1);			/* h0 = a2 . W1 */
	bias(&n, TERN_ACT_GELU, &h1, &h0, &c1);		/* h1 = gelu(h0 + c1) */
	matmul(&n, &f0, &h1, &w2);			/* f0 = h1 . W2 */
	bias(&n, TERN_ACT_IDENTITY, &f, &f0, &c2);	/* f = f0 + c2 */
	add(&n, &y, &x1, &f);				/* y = x1 + f */

	/* Use 1: one program on the device, every slot read back into n.back. */
	if (device_run(&n, &st, &insns, &t_build))
		goto out;
	/* Use 2: the same list on the CPU, and the tolerance of y. */
	if (check_end_to_end(&n, &y, &err, &tol, &t_ref))
		goto out;

	printf("transformer block: seq %d, d_model %d, %d heads, ffn %d, causal, %s: %u ops in one "
	       "program of %u instructions, built and loaded in %.1f ms\n", SEQ, D_MODEL, HEADS,
	       D_FFN, dt == TERN_DT_BF16 ? "bf16" : "fp32", n.nops, insns, t_build * 1e3);
	printf("  device:    tern%u core %u, modeled %.1f us (%.0f GFLOP/s), device %.1f ms, "
	       "wall %.1f ms\n", index, st.core, st.modeled_ns / 1e3,
	       block_flops() / (double)st.modeled_ns, st.device_ns / 1e6, st.wall_ns / 1e6);
	printf("  reference: %.2f s on the CPU\n", t_ref);

	/* Use 3: step by step. */
	bad = check_steps(&n, &closest, &step_err, &step_tol);
	if (bad < 0)
		goto out;
	if (bad)
		printf("  steps:     %d of %u beyond their tolerances\n", bad, n.nops);
	else
		printf("  steps:     all %u within their tolerances (closest: step %u, %s, error "
		       "%.3g of %.3g)\n", n.nops, closest + 1, tern_op_name(n.ops[closest].kind),
		       step_err, step_tol);
	pass = err <= tol && !bad;
	printf("transformer block: max abs error %.3g (tolerance %.3g), modeled %.1f us, "
	       "wall %.1f ms: %s\n", err, tol, st.modeled_ns / 1e3, st.wall_ns / 1e6,
	       pass ? "PASS" : "FAIL");
	rc = pass ? 0 : 1;

out:
	net_close(&n);
	return rc;
}
