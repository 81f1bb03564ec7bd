// SPDX-License-Identifier: MIT
/*
 * sample: a program built only from an installed libtern (pkg-config tern):
 * opens device 0, round-trips data through HBM by DMA, runs a matmul with
 * tern_op_run() and checks it on the CPU. With --sizes, prints the sizes of
 * the public structures instead (the Python binding's ctypes layouts are
 * checked against them).
 */
#include <stdio.h>
#include <string.h>

#include <tern.h>
#include <tern_ops.h>

#define M 24
#define K 40
#define N 36

static int fail(const char *what, int ret)
{
	fprintf(stderr, "sample: %s: %s\n", what, ret ? tern_last_error() : "wrong result");
	return 1;
}

int main(int argc, char **argv)
{
	struct tern_buffer *host, *dev_buf, *slots[3] = { NULL };
	struct tern_device_info info;
	struct tern_device *dev;
	float *h, c[M][N];
	struct tern_op op;
	int ret, i, j, k;

	if (argc > 1 && strcmp(argv[1], "--sizes") == 0) {
		printf("tern_device_info %zu\ntern_launch_status %zu\ntern_tensor %zu\n"
		       "tern_op %zu\n", sizeof(struct tern_device_info),
		       sizeof(struct tern_launch_status), sizeof(struct tern_tensor),
		       sizeof(struct tern_op));
		return 0;
	}
	ret = tern_device_open(0, &dev);
	if (ret)
		return fail("tern_device_open", ret);
	ret = tern_device_info(dev, &info);
	if (ret)
		return fail("tern_device_info", ret);
	printf("sample: libtern %d.%d.%d, %s at %s, driver %s, UAPI %u.%u\n",
	       TERN_LIB_VERSION_MAJOR, TERN_LIB_VERSION_MINOR, TERN_LIB_VERSION_PATCH,
	       info.node, info.pci_address, info.driver_version, info.uapi_major,
	       info.uapi_minor);

	/* host -> HBM -> host */
	ret = tern_buffer_alloc(dev, 4 * 4096, TERN_MEM_HOST, &host);
	if (!ret)
		ret = tern_buffer_alloc(dev, 4096, TERN_MEM_DEVICE, &dev_buf);
	if (!ret)
		ret = tern_buffer_map(host, (void **)&h);
	if (ret)
		return fail("allocating buffers", ret);
	for (i = 0; i < 1024; i++)
		h[i] = (float)i * 0.5f;
	ret = tern_copy(dev, dev_buf, 0, host, 0, 4096);
	if (!ret)
		ret = tern_copy(dev, host, 4096, dev_buf, 0, 4096);
	if (ret)
		return fail("tern_copy", ret);
	if (memcmp(h, h + 1024, 4096))
		return fail("DMA round trip", 0);

	/* C = A . B on a core; in the host buffer A at 0, B at 4 KiB, C at 10 KiB */
	for (i = 0; i < 3; i++) {
		ret = tern_buffer_alloc(dev, 8192, TERN_MEM_DEVICE, &slots[i]);
		if (ret)
			return fail("tern_buffer_alloc", ret);
	}
	for (i = 0; i < M * K; i++)
		h[i] = (float)((i * 7) % 11) - 5.0f;
	for (i = 0; i < K * N; i++)
		h[1024 + i] = (float)((i * 5) % 13) - 6.0f;
	ret = tern_copy(dev, slots[0], 0, host, 0, M * K * 4);
	if (!ret)
		ret = tern_copy(dev, slots[1], 0, host, 4096, K * N * 4);
	if (ret)
		return fail("tern_copy", ret);
	memset(&op, 0, sizeof(op));
	op.kind = TERN_OPKIND_MATMUL;
	op.nin = 2;
	op.in[0] = tern_tensor_2d(0, TERN_DT_FP32, M, K);
	op.in[1] = tern_tensor_2d(1, TERN_DT_FP32, K, N);
	op.out = tern_tensor_2d(2, TERN_DT_FP32, M, N);
	ret = tern_op_run(dev, TERN_CORE_ANY, &op, slots, 3, NULL);
	if (ret)
		return fail("tern_op_run", ret);
	ret = tern_copy(dev, host, 10240, slots[2], 0, M * N * 4);
	if (ret)
		return fail("tern_copy", ret);
	for (i = 0; i < M; i++)
		for (j = 0; j < N; j++) {
			c[i][j] = 0;
			for (k = 0; k < K; k++)
				c[i][j] += h[i * K + k] * h[1024 + k * N + j];
		}
	/* small integers: the sums are exact in fp32 */
	if (memcmp(c, h + 2560, sizeof(c)))
		return fail("matmul result", 0);
	printf("sample: DMA round trip and %dx%dx%d matmul ok\n", M, K, N);
	for (i = 0; i < 3; i++)
		tern_buffer_free(slots[i]);
	tern_buffer_free(dev_buf);
	tern_buffer_free(host);
	ret = tern_device_close(dev);
	return ret ? fail("tern_device_close", ret) : 0;
}
