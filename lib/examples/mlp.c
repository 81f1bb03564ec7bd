// SPDX-License-Identifier: MIT
/*
 * mlp: the forward pass of a two-layer perceptron on a tern core, checked
 * against the CPU.
 *
 *     y = gelu(x . W1 + b1) . W2 + b2
 *
 * x is a batch of BATCH rows of D_IN features; the hidden layer has D_HID
 * units. The pass is written once, as a list of struct tern_op, and run
 * twice:
 *   1. on the device: tern_op_emit() adds each op to ONE program, which is
 *      loaded with tern_kernel_load() and launched once with tern_launch();
 *   2. on the CPU: tern_op_reference() runs the same list step by step over
 *      host copies of the same inputs.
 * It prints the largest difference between the two, the tolerance derived
 * from the steps' own, the chip's modeled time and the wall time. The
 * slots, the op list and both runs are the scaffolding of example_net.h,
 * shared with transformer.c; this file is the network and its output.
 *
 *   mlp [-d INDEX] [-t fp32|bf16]
 *
 * Exit status: 0 when the device matches the reference within the
 * tolerance, 1 when it does not or something failed, 2 for a bad argument.
 */
#define EXAMPLE_NAME	"mlp"
#include "example_net.h"

#define BATCH		128
#define D_IN		256
#define D_HID		1024
#define D_OUT		256

int main(int argc, char **argv)
{
	struct tern_tensor x, w1, b1, w2, b2, h0, h1, y0, y;
	struct tern_launch_status st;
	struct net n = { .rng = 42 };
	uint32_t dtype = TERN_DT_BF16;
	unsigned int index = 0, insns;
	double t_build, t_ref, err, tol;
	const float w1s = 1 / sqrtf(D_IN), w2s = 1 / sqrtf(D_HID);
	int rc = 1, ret;

	ret = parse_args(argc, argv,
			 "y = gelu(x . W1 + b1) . W2 + b2 on tern device INDEX (0), in bf16\n"
			 "(or fp32), checked against the CPU reference.\n", &index, &dtype);
	if (ret)
		return ret;
	ret = tern_device_open(index, &n.dev);
	if (ret)
		return fail("cannot open the device", ret);

	/* The tensors: inputs and weights random, weights scaled by 1/sqrt(fan_in). */
	if (tensor(&n, dtype, BATCH, D_IN, -1, 1, &x) ||
	    tensor(&n, dtype, D_IN, D_HID, -w1s, w1s, &w1) ||
	    tensor(&n, dtype, 1, D_HID, -0.5f, 0.5f, &b1) ||
	    tensor(&n, dtype, D_HID, D_OUT, -w2s, w2s, &w2) ||
	    tensor(&n, dtype, 1, D_OUT, -0.5f, 0.5f, &b2) ||
	    /* results, in slots of their own */
	    tensor(&n, dtype, BATCH, D_HID, 0, 0, &h0) ||
	    tensor(&n, dtype, BATCH, D_HID, 0, 0, &h1) ||
	    tensor(&n, dtype, BATCH, D_OUT, 0, 0, &y0) ||
	    tensor(&n, dtype, BATCH, D_OUT, 0, 0, &y))
		goto out;

	/* The pass, as data. */
	matmul(&n, &h0, &x, &w1);			/* h0 = x . W1 */
	bias(&n, TERN_ACT_GELU, &h1, &h0, &b1);		/* h1 = gelu(h0 + b1) */
	matmul(&n, &y0, &h1, &w2);			/* y0 = h1 . W2 */
	bias(&n, TERN_ACT_IDENTITY, &y, &y0, &b2);	/* y = y0 + b2 */

	/* Execution 1: one program on the device. */
	if (device_run(&n, &st, &insns, &t_build))
		goto out;
	/* Execution 2: the same list on the CPU, and the tolerance of y. */
	if (check_end_to_end(&n, &y, &err, &tol, &t_ref))
		goto out;

	printf("mlp: batch %d, %d -> %d (gelu) -> %d, %s: %u ops in one program of %u "
	       "instructions, built and loaded in %.1f ms\n", BATCH, D_IN, D_HID, D_OUT,
	       dtype == TERN_DT_BF16 ? "bf16" : "fp32", n.nops, insns, t_build * 1e3);
	printf("  device:    tern%u core %u, modeled %.1f us (%.0f GFLOP/s), device %.1f ms, "
	       "wall %.1f ms\n", index, st.core, st.modeled_ns / 1e3,
	       2.0 * BATCH * D_HID * (D_IN + D_OUT) / (double)st.modeled_ns,
	       st.device_ns / 1e6, st.wall_ns / 1e6);
	printf("  reference: %.2f s on the CPU\n", t_ref);
	printf("mlp: max abs error %.3g (tolerance %.3g), modeled %.1f us, wall %.1f ms: %s\n",
	       err, tol, st.modeled_ns / 1e3, st.wall_ns / 1e6, err <= tol ? "PASS" : "FAIL");
	rc = err <= tol ? 0 : 1;

out:
	net_close(&n);
	return rc;
}
